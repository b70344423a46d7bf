use super::*;

fn totals(build_id: i64, lines: (u64, u64), branches: (u64, u64)) -> CoverageRow {
    CoverageRow {
        build_id,
        path: None,
        lines_valid: lines.0,
        lines_covered: lines.1,
        branches_valid: branches.0,
        branches_covered: branches.1,
    }
}

fn file(build_id: i64, path: &str, lines: (u64, u64)) -> CoverageRow {
    CoverageRow {
        path: Some(path.into()),
        ..totals(build_id, lines, (0, 0))
    }
}

fn builds() -> Vec<BuildRow> {
    vec![
        build(1, "main", "a", "passed", MON + HOUR),
        build(2, "feature", "b", "passed", MON + 2 * HOUR),
        build(3, "main", "c", "passed", MON + 3 * HOUR),
        build(4, "feature", "d", "passed", MON + 4 * HOUR),
    ]
}

#[test]
fn coverage_per_build_gives_deltas_on_the_branch_and_against_the_base() {
    let coverage = lazy_coverage(
        &[
            totals(4, (100, 85), (0, 0)),
            totals(1, (100, 80), (10, 5)),
            totals(3, (200, 150), (10, 6)),
            totals(2, (100, 82), (10, 7)),
        ],
        false,
    );
    let c = coverage_per_build(coverage, lazy_builds(&builds()), Some("main")).unwrap();
    assert_eq!(ints(&c, "build_id"), [Some(1), Some(2), Some(3), Some(4)]);
    assert_close!(
        floats(&c, "line_rate"),
        vec![Some(0.80), Some(0.82), Some(0.75), Some(0.85)]
    );
    // No branches measured in build 4: null, not NaN.
    assert_close!(
        floats(&c, "branch_rate"),
        vec![Some(0.5), Some(0.7), Some(0.6), None]
    );
    // Same branch: build 3 vs 1 = -5 pp; build 4 vs 2 = +3 pp.
    assert_close!(
        floats(&c, "line_delta_pp"),
        vec![None, None, Some(-5.0), Some(3.0)]
    );
    // Against main's latest at the time: build 2 vs build 1 (+2), build 4 vs build 3 (+10).
    assert_close!(
        floats(&c, "line_delta_base_pp"),
        vec![None, Some(2.0), None, Some(10.0)]
    );
}

#[test]
fn coverage_per_window_takes_the_last_build_of_the_window() {
    let coverage = lazy_coverage(
        &[totals(1, (100, 80), (0, 0)), totals(3, (200, 150), (0, 0))],
        false,
    );
    let mut history = builds();
    history.push(build(5, "main", "e", "passed", MON + 2 * DAY));
    let c = coverage_per_window(
        coverage,
        lazy_builds(&history),
        &WindowSpec::new(Window::Day),
        false,
    )
    .unwrap();
    // Only day 1 has coverage: one window, value of build 3.
    assert_eq!(ints(&c, "build_id"), [Some(3)]);
    assert_close!(floats(&c, "line_rate"), vec![Some(0.75)]);

    let d = |day| chrono::NaiveDate::from_ymd_opt(2026, 3, day).unwrap();
    let spec = WindowSpec::new(Window::Day).between(Some(d(2)), Some(d(3)));
    let coverage = lazy_coverage(&[totals(1, (100, 80), (0, 0))], false);
    let c = coverage_per_window(coverage, lazy_builds(&history), &spec, false).unwrap();
    assert_close!(floats(&c, "line_rate"), vec![Some(0.8), None]);
    assert_eq!(ints(&c, "builds"), [Some(1), Some(0)]);
}

#[test]
fn coverage_per_file_and_package_with_deltas() {
    let files = lazy_coverage(
        &[
            file(1, "src/a/x.rs", (10, 5)),
            file(1, "src/a/y.rs", (10, 10)),
            file(3, "src/a/x.rs", (10, 8)),
            file(3, "src/a/y.rs", (10, 10)),
            file(3, "src/b/z.rs", (20, 0)),
            file(3, "top.rs", (0, 0)),
        ],
        true,
    );
    let f = coverage_per_file(files.clone(), 3, Some(1)).unwrap();
    assert_eq!(
        strings(&f, "path"),
        ["src/a/x.rs", "src/a/y.rs", "src/b/z.rs", "top.rs"]
    );
    assert_eq!(strings(&f, "package"), ["src/a", "src/a", "src/b", ""]);
    assert_close!(
        floats(&f, "line_delta_pp"),
        vec![Some(30.0), Some(0.0), None, None]
    );
    assert_close!(
        floats(&f, "line_rate"),
        vec![Some(0.8), Some(1.0), Some(0.0), None]
    );

    let p = coverage_per_package(files, 3).unwrap();
    assert_eq!(strings(&p, "package"), ["", "src/a", "src/b"]);
    assert_eq!(ints(&p, "files"), [Some(1), Some(2), Some(1)]);
    assert_close!(floats(&p, "line_rate"), vec![None, Some(0.9), Some(0.0)]);
}

#[test]
fn score_inputs_come_from_the_period_frames() {
    let history = builds();
    let results = lazy_results(&[
        result(1, 1, "passed"),
        result(2, 1, "passed"),
        result(3, 1, "failed"),
        result(4, 1, "passed"),
    ]);
    let coverage = lazy_coverage(
        &[totals(1, (100, 80), (0, 0)), totals(4, (100, 83), (0, 0))],
        false,
    );
    let inputs = score_inputs(
        lazy_builds(&history),
        results,
        coverage,
        &FlakyConfig::default(),
    )
    .unwrap();
    assert_eq!(inputs.success_rate, Some(1.0));
    assert_eq!(inputs.pass_rate, Some(0.75));
    // Test 1 runs P P F P across both branches, but flips are counted per branch: main
    // (builds 1, 3) P F is 1 flip (< 2), feature (2, 4) P P none -> not flaky; 0 of 1 tests.
    assert_eq!(inputs.flaky_share, Some(0.0));
    assert_eq!(inputs.coverage, Some(0.83));
    assert!((inputs.coverage_trend_pp.unwrap() - 3.0).abs() < 1e-9);
}

#[test]
fn the_quality_score_per_window_scores_each_window_on_its_own_and_leaves_empty_ones_null() {
    // Week 1 (Mon 2 Mar): builds 1 passed, 2 failed; test 1 passes in both.
    // Week 2: nothing. Week 3 (Mon 16 Mar): build 3 passed, test 1 passes.
    let history = [
        build(1, "main", "c1", "passed", MON + HOUR),
        build(2, "main", "c2", "failed", MON + DAY),
        build(3, "main", "c3", "passed", MON + 14 * DAY),
    ];
    let results = [
        result(2, 1, "passed"),
        result(1, 1, "passed"),
        result(3, 1, "passed"),
    ];
    let spec = WindowSpec::new(Window::Week);
    let weights = ScoreWeights::default();
    let flaky = FlakyConfig::default();
    let frame = score_per_window(
        lazy_builds(&history),
        lazy_results(&results),
        lazy_coverage(&[], false),
        &spec,
        &flaky,
        &weights,
    )
    .unwrap();
    // By hand, with the weights of the measured components scaled up to 100 (no coverage):
    // week 1: success 1/2 -> 0.5, pass rate 1, no flaky test -> 1:
    //   (0.25*0.5 + 0.25*1 + 0.15*1) / 0.65 * 100 = 0.525 / 0.65 * 100 = 80.77
    // week 3: success 1, pass 1, no flaky: 100.
    // score() rounds to one decimal: 80.8.
    let expected_week1 = (0.525_f64 / 0.65 * 1000.0).round() / 10.0;
    let got = floats(&frame, "score");
    assert_eq!(got.len(), 3, "three weeks, the middle one empty");
    assert!((got[0].unwrap() - expected_week1).abs() < 1e-6, "{got:?}");
    assert_eq!(got[1], None, "an empty week is null, not 0");
    assert!((got[2].unwrap() - 100.0).abs() < 1e-9, "{got:?}");
    // Week 1's components: success 0.25/0.65 * 0.5 * 100 = 19.23 points, pass rate
    // 0.25/0.65 * 100 = 38.46, flakiness 0.15/0.65 * 100 = 23.08; no coverage: null.
    let close = |c: &str, want: Option<f64>| {
        let got = floats(&frame, c)[0];
        assert!(
            match (got, want) {
                (Some(g), Some(w)) => (g - w).abs() < 1e-9,
                (None, None) => true,
                _ => false,
            },
            "{c}: {got:?}"
        );
    };
    close("points_success_rate", Some(0.25 / 0.65 * 0.5 * 100.0));
    close("points_pass_rate", Some(0.25 / 0.65 * 100.0));
    close("points_flakiness", Some(0.15 / 0.65 * 100.0));
    close("points_coverage", None);
    close("points_coverage_trend", None);
    // The same as scoring each week's frames alone.
    let alone = score(
        &score_inputs(
            lazy_builds(&history[..2]),
            lazy_results(&results),
            lazy_coverage(&[], false),
            &flaky,
        )
        .unwrap(),
        &weights,
    );
    assert_eq!(alone.score, got[0]);
}
