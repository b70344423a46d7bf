//! The reports in samples/, each beside the summary a person checked once.

use serde_json::Value;

use crate::{files_below, repo, summarize};

#[test]
fn every_sample_gives_its_reviewed_summary() {
    let dir = repo().join("samples");
    let mut compared = 0;
    let mut problems = Vec::new();
    for expected_path in files_below(&dir) {
        let name = expected_path.to_string_lossy().to_string();
        let Some(report) = name.strip_suffix(".expected.json") else {
            continue;
        };
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(&expected_path).unwrap()).unwrap();
        let summary = match summarize(report.as_ref()) {
            Ok(s) => s,
            Err(e) => {
                problems.push(format!("{report}: {e}"));
                continue;
            }
        };
        let got = serde_json::json!({
            "format": summary.format,
            "tests": summary.tests,
            "coverage": summary.coverage,
            "issues": summary.issues,
        });
        if expected["format"] != got["format"] {
            problems.push(format!(
                "{report}: format {} != {}",
                got["format"], expected["format"]
            ));
        }
        for section in ["tests", "coverage", "issues"] {
            let Some(want) = expected.get(section).and_then(Value::as_object) else {
                continue;
            };
            for (key, value) in want {
                compared += 1;
                if got[section][key] != *value && got[section][key].as_f64() != value.as_f64() {
                    problems.push(format!(
                        "{report}: {section}.{key} = {}, reviewed {}",
                        got[section][key], value
                    ));
                }
            }
        }
    }
    assert!(compared > 100, "only {compared} values compared");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn trx_tests_take_their_class_from_the_definitions_before_or_after_the_results() {
    // dotnet test writes <Results> before <TestDefinitions>; mstest.exe after.
    for (file, class, name) in [
        (
            "fixtures/trx/dotnet-trx.trx",
            "DotnetTests.XUnitTests.CalculatorTests",
            "Should be even number(i: 3)",
        ),
        (
            "fixtures/trx/mstest-datadriven.trx",
            "MsTestSample.DataDriven",
            "Two_pass_one_fails (1)",
        ),
    ] {
        let path = repo().join("samples").join(file);
        let report = cimetrics_ingest::parse(std::fs::File::open(&path).expect(file)).unwrap();
        let cimetrics_ingest::Content::Tests(tests) = &report.content else {
            panic!("{file}: not tests")
        };
        let test = tests
            .tests
            .iter()
            .find(|t| t.id.name == name)
            .unwrap_or_else(|| panic!("{file}: no {name}"));
        assert_eq!(test.id.classname.as_deref(), Some(class), "{file}");
        assert!(
            tests.tests.iter().all(|t| t.id.classname.is_some()),
            "{file}: a test without its class"
        );
    }
}
