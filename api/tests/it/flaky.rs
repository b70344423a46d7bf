//! Flakiness never mixes branches: the flip rate looks at each branch's runs on its own.
//!
//! Six builds, alternating `main` (m1, m3, m5) and `feature` (f2, f4, f6), each its own
//! commit. Test `x` passes on main and is broken on feature: in time order P F P F P F, but
//! per branch P P P and F F F, so not flaky. Test `y` passes on main and goes F P F on
//! feature: 2 flips of 2 there (rate 1.0), flaky, with feature's evidence.

use serde_json::json;

use crate::support::*;

fn report(x_fails: bool, y_fails: bool) -> Vec<u8> {
    let case = |name: &str, fails: bool| {
        if fails {
            format!("<testcase classname=\"C\" name=\"{name}\"><failure/></testcase>")
        } else {
            format!("<testcase classname=\"C\" name=\"{name}\"/>")
        }
    };
    format!(
        "<testsuite name=\"s\">{}{}</testsuite>",
        case("x", x_fails),
        case("y", y_fails)
    )
    .into_bytes()
}

#[test]
fn a_test_broken_on_a_feature_branch_is_not_flaky_and_a_flip_names_its_branch() {
    for (backend, svc) in services(|_| {}) {
        let token = project(&svc, "shop");
        for (i, (id, branch, x_fails, y_fails)) in [
            ("m1", "main", false, false),
            ("f2", "feature", true, true),
            ("m3", "main", false, false),
            ("f4", "feature", true, false),
            ("m5", "main", false, false),
            ("f6", "feature", true, true),
        ]
        .into_iter()
        .enumerate()
        {
            let a = post(
                &svc,
                &format!(
                    "/api/v1/projects/shop/builds/{id}/reports?branch={branch}&commit=c{id}&finished_at=2026-11-0{}T10:00:00Z",
                    i + 1
                ),
                Some(&token),
                &[],
                &report(x_fails, y_fails),
            );
            assert_eq!(a.status, 201, "{backend}: {}", a.text());
        }
        let all = get(&svc, "/api/v1/projects/shop/tests/flaky").json();
        let names: Vec<&str> = all["tests"]
            .as_array()
            .expect("tests")
            .iter()
            .filter_map(|t| t["test"]["name"].as_str())
            .collect();
        assert_eq!(
            names,
            ["y"],
            "{backend}: x is broken on feature, not flaky: {all}"
        );
        assert_eq!(
            all["tests"][0]["flip_rate"],
            json!({"flaky": true, "branch": "feature", "runs": ["f2", "f4", "f6"],
                "sequence": "FPF", "flips": 2, "rate": 1.0}),
            "{backend}"
        );
        let main = get(&svc, "/api/v1/projects/shop/tests/flaky?branch=main").json();
        assert_eq!(main["tests"], json!([]), "{backend}: main only ever passed");
        let feature = get(&svc, "/api/v1/projects/shop/tests/flaky?branch=feature").json();
        assert_eq!(
            feature["tests"].as_array().map(Vec::len),
            Some(1),
            "{backend}: {feature}"
        );
        assert_eq!(feature["tests"][0]["flip_rate"]["branch"], "feature");
        svc.stop();
    }
}
