use super::*;

/// Four builds on main, in time order 1..4 (commit c1 built twice: builds 1 and 2).
fn history() -> Vec<BuildRow> {
    vec![
        build(3, "main", "c2", "failed", MON + 3 * HOUR),
        build(1, "main", "c1", "failed", MON + HOUR),
        build(4, "main", "c3", "passed", MON + DAY + HOUR),
        build(2, "main", "c1", "passed", MON + 2 * HOUR),
    ]
}

#[test]
fn pass_rate_per_build_does_not_count_skips_as_runs() {
    let mut flaky = result(2, 100, "passed");
    flaky.flaky = true;
    let results = lazy_results(&[
        result(1, 100, "failed"),
        result(1, 101, "passed"),
        result(1, 102, "skipped"),
        flaky,
        result(2, 101, "errored"),
        result(2, 102, "skipped"),
    ]);
    let p = pass_rate_per_build(results, lazy_builds(&history())).unwrap();
    assert_eq!(ints(&p, "build_id"), [Some(1), Some(2)]);
    assert_eq!(ints(&p, "total"), [Some(3), Some(3)]);
    assert_eq!(ints(&p, "flaky"), [Some(0), Some(1)]);
    // build 1: 1 passed / (1 + 1 failed) = 0.5; build 2: 1 / (1 + 1 errored) = 0.5.
    assert_close!(floats(&p, "pass_rate"), vec![Some(0.5), Some(0.5)]);
}

#[test]
fn pass_rate_per_window_sums_results_and_nulls_windows_that_ran_nothing() {
    let results = lazy_results(&[
        result(1, 100, "failed"),
        result(2, 100, "passed"),
        result(3, 100, "passed"),
        result(4, 100, "skipped"),
    ]);
    let p = pass_rate_per_window(
        results,
        lazy_builds(&history()),
        &WindowSpec::new(Window::Day),
    )
    .unwrap();
    assert_eq!(ints(&p, "total"), [Some(3), Some(1)]);
    // Day 1: 2 of 3 passed; day 2: only a skip, nothing ran.
    assert_close!(floats(&p, "pass_rate"), vec![Some(2.0 / 3.0), None]);
}

#[test]
fn failure_rate_per_test_orders_the_worst_first() {
    let results = lazy_results(&[
        result(1, 100, "failed"),
        result(2, 100, "passed"),
        result(3, 100, "failed"),
        result(4, 100, "passed"),
        result(1, 101, "errored"),
        result(2, 101, "errored"),
        result(3, 101, "skipped"),
        result(4, 101, "failed"),
        result(4, 102, "passed"),
    ]);
    let f = failure_rate_per_test(results, lazy_builds(&history())).unwrap();
    assert_eq!(ints(&f, "test_id"), [Some(101), Some(100), Some(102)]);
    assert_eq!(ints(&f, "runs"), [Some(3), Some(4), Some(1)]);
    assert_close!(
        floats(&f, "failure_rate"),
        vec![Some(1.0), Some(0.5), Some(0.0)]
    );
    assert_eq!(strings(&f, "last_status"), ["failed", "passed", "passed"]);
}

#[test]
fn failing_since_is_the_first_build_after_the_last_pass() {
    // Test 100: F P F F -> failing since build 3 (2 builds).
    // Test 101: F F S F -> never passed: since build 1 (3 runs; the skip neither breaks nor counts).
    // Test 102: F P P P -> not failing.
    let results = lazy_results(&[
        result(4, 100, "failed"),
        result(3, 100, "errored"),
        result(2, 100, "passed"),
        result(1, 100, "failed"),
        result(1, 101, "failed"),
        result(2, 101, "failed"),
        result(3, 101, "skipped"),
        result(4, 101, "failed"),
        result(1, 102, "failed"),
        result(2, 102, "passed"),
        result(3, 102, "passed"),
        result(4, 102, "passed"),
    ]);
    let f = failing_since(results, lazy_builds(&history()), "main").unwrap();
    assert_eq!(ints(&f, "test_id"), [Some(101), Some(100)]);
    assert_eq!(ints(&f, "since_build_id"), [Some(1), Some(3)]);
    assert_eq!(strings(&f, "since_commit"), ["c1", "c2"]);
    assert_eq!(ints(&f, "failing_builds"), [Some(3), Some(2)]);
    assert_eq!(ints(&f, "last_build_id"), [Some(4), Some(4)]);
    assert_eq!(strings(&f, "since")[0], "2026-03-02T01:00:00Z");
    assert_eq!(
        failing_since(lazy_results(&[]), lazy_builds(&history()), "dev")
            .unwrap()
            .height(),
        0
    );
}

#[test]
fn flaky_definitions_each_give_their_verdict_and_evidence() {
    // Test 100: failed on c1 (build 1) and passed on c1 (build 2): same-commit flaky.
    // Test 101: passed after a retry in build 3: pass-on-retry flaky.
    // Test 102: F F P F (builds 1 and 2 are both commit c1, and failed on it both times):
    // flips 2 of 3 -> flip-rate flaky only.
    // Test 103: F F P P: one flip, a fix; not flaky by any definition.
    let mut retried = result(3, 101, "passed");
    retried.flaky = true;
    let results = lazy_results(&[
        result(1, 100, "failed"),
        result(2, 100, "passed"),
        result(3, 100, "passed"),
        result(4, 100, "passed"),
        result(1, 101, "passed"),
        retried,
        result(1, 102, "failed"),
        result(2, 102, "failed"),
        result(3, 102, "passed"),
        result(4, 102, "failed"),
        result(1, 103, "failed"),
        result(2, 103, "failed"),
        result(3, 103, "passed"),
        result(4, 103, "passed"),
    ]);
    let config = FlakyConfig::default();
    let f = flaky_tests(results, lazy_builds(&history()), &config).unwrap();
    // Flake rates: 100: 1 fail on a commit that also passed / 4 runs = 0.25;
    // 101: 1 retry pass / 2 runs = 0.5; 102: 0 (no commit both passed and failed).
    assert_eq!(ints(&f, "test_id"), [Some(101), Some(100), Some(102)]);
    assert_close!(
        floats(&f, "flake_rate"),
        vec![Some(0.5), Some(0.25), Some(0.0)]
    );
    assert_eq!(strings(&f, "same_commit"), ["false", "true", "false"]);
    assert_eq!(strings(&f, "pass_on_retry"), ["true", "false", "false"]);
    assert_eq!(strings(&f, "flip_rate_flaky"), ["false", "false", "true"]);
    assert_eq!(strings(&f, "same_commit_commits")[1], "c1");
    assert_eq!(strings(&f, "same_commit_builds")[1], "1");
    assert_eq!(strings(&f, "retry_builds")[0], "3");
    assert_eq!(strings(&f, "flip_sequence")[2], "FFPF");
    assert_close!(
        floats(&f, "flip_rate"),
        vec![Some(0.0), Some(1.0 / 3.0), Some(2.0 / 3.0)]
    );
    assert_close!(
        floats(&f, "pass_rate"),
        vec![Some(1.0), Some(0.75), Some(0.25)]
    );
    // Test 100 flipped once (F P P P): 1/3 >= 0.2 but fewer than 2 flips, so not flip-flaky.
    assert_eq!(ints(&f, "flips"), [Some(0), Some(1), Some(2)]);
}

#[test]
fn flip_rate_only_looks_at_the_latest_runs() {
    let builds: Vec<BuildRow> = (0..6)
        .map(|i| build(i, "main", &format!("c{i}"), "passed", MON + i * HOUR))
        .collect();
    // F P F P P P: over the last 3 runs (P P P) nothing flips.
    let statuses = ["failed", "passed", "failed", "passed", "passed", "passed"];
    let results: Vec<ResultRow> = statuses
        .iter()
        .enumerate()
        .map(|(i, s)| result(i as i64, 7, s))
        .collect();
    let config = FlakyConfig {
        flip_runs: 3,
        ..FlakyConfig::default()
    };
    let f = flaky_tests(lazy_results(&results), lazy_builds(&builds), &config).unwrap();
    assert_eq!(f.height(), 0);
    let f = flaky_tests(
        lazy_results(&results),
        lazy_builds(&builds),
        &FlakyConfig::default(),
    )
    .unwrap();
    assert_eq!(strings(&f, "flip_sequence"), ["FPFPPP"]);
}

#[test]
fn slowest_tests_rank_by_p95_or_p50() {
    let builds: Vec<BuildRow> = (0..4)
        .map(|i| build(i, "main", "c", "passed", MON + i * HOUR))
        .collect();
    let timed = |b, t, d| ResultRow {
        duration_s: Some(d),
        ..result(b, t, "passed")
    };
    // Test 1: 1,1,1,100 -> p50 1, p95 = 1 + 0.85*99 = 85.15. Test 2: 10,10,10,10.
    let rows = vec![
        timed(0, 1, 1.0),
        timed(1, 1, 1.0),
        timed(2, 1, 1.0),
        timed(3, 1, 100.0),
        timed(0, 2, 10.0),
        timed(1, 2, 10.0),
        timed(2, 2, 10.0),
        timed(3, 2, 10.0),
        ResultRow {
            duration_s: Some(500.0),
            ..result(3, 3, "skipped")
        },
    ];
    let by95 = slowest_tests(
        lazy_results(&rows),
        lazy_builds(&builds),
        SlowestBy::P95,
        10,
    )
    .unwrap();
    assert_eq!(ints(&by95, "test_id"), [Some(1), Some(2)]);
    assert_close!(floats(&by95, "p95_s"), vec![Some(85.15), Some(10.0)]);
    let by50 = slowest_tests(lazy_results(&rows), lazy_builds(&builds), SlowestBy::P50, 1).unwrap();
    assert_eq!(ints(&by50, "test_id"), [Some(2)]);
}

#[test]
fn a_duration_regression_compares_recent_and_earlier_medians() {
    let builds: Vec<BuildRow> = (0..6)
        .map(|i| build(i, "main", "c", "passed", MON + i * DAY))
        .collect();
    let timed = |b, t, d| ResultRow {
        duration_s: Some(d),
        ..result(b, t, "passed")
    };
    // Test 1: earlier 1,1,1 then 2,2,2: +100%. Test 2: 1,1,1 then 1.1,1.1,1.1: +10%.
    let mut rows = Vec::new();
    for b in 0..6 {
        rows.push(timed(b, 1, if b < 3 { 1.0 } else { 2.0 }));
        rows.push(timed(b, 2, if b < 3 { 1.0 } else { 1.1 }));
    }
    let r = duration_regressions(
        lazy_results(&rows),
        lazy_builds(&builds),
        MON + 3 * DAY,
        20.0,
        3,
    )
    .unwrap();
    assert_eq!(ints(&r, "test_id"), [Some(1)]);
    assert_close!(floats(&r, "increase_pct"), vec![Some(100.0)]);
    let none = duration_regressions(
        lazy_results(&rows),
        lazy_builds(&builds),
        MON + 3 * DAY,
        20.0,
        4,
    )
    .unwrap();
    assert_eq!(none.height(), 0, "needs 4 runs on each side");
}

#[test]
fn flip_rate_looks_at_each_branch_on_its_own_and_names_the_branch() {
    // Test 1 passes on main (builds 1, 3, 5) and is broken on feature (2, 4, 6): in time
    // order P F P F P F (5 flips), but per branch P P P and F F F: no flip, not flaky.
    // Test 2 flips on feature (F P F: 2 flips of 2, rate 1.0) and passes on main: flaky,
    // with feature's evidence.
    let day = 86_400_000;
    let builds: Vec<BuildRow> = (1..=6)
        .map(|i| BuildRow {
            build_id: i,
            branch: if i % 2 == 1 { "main" } else { "feature" }.into(),
            commit: format!("c{i}"),
            status: "passed".into(),
            finished_at_ms: 1_767_225_600_000 + i * day,
            duration_s: None,
        })
        .collect();
    let r = |build_id, test_id, status| ResultRow {
        build_id,
        test_id,
        status,
        flaky: false,
        attempts: 1,
        duration_s: None,
    };
    let mut results = Vec::new();
    for b in 1..=6 {
        results.push(r(b, 1, if b % 2 == 1 { "passed" } else { "failed" }));
    }
    for (b, s) in [
        (1, "passed"),
        (3, "passed"),
        (5, "passed"),
        (2, "failed"),
        (4, "passed"),
        (6, "failed"),
    ] {
        results.push(r(b, 2, s));
    }
    let f = flaky_tests(
        results_frame(&results).unwrap().lazy(),
        builds_frame(&builds).unwrap().lazy(),
        &FlakyConfig::default(),
    )
    .unwrap();
    let table = Table::from_frame(&f).unwrap();
    let ids: Vec<_> = (0..table.rows.len())
        .map(|i| table.get(i, "test_id").cloned())
        .collect();
    assert_eq!(ids, [Some(Value::Int(2))], "only test 2 is flaky");
    assert_eq!(
        table.get(0, "flip_branch"),
        Some(&Value::Str("feature".into()))
    );
    assert_eq!(
        table.get(0, "flip_sequence"),
        Some(&Value::Str("FPF".into()))
    );
    assert_eq!(
        table.get(0, "flip_builds"),
        Some(&Value::List(vec![
            Value::Int(2),
            Value::Int(4),
            Value::Int(6)
        ]))
    );
    assert_eq!(table.get(0, "flip_rate"), Some(&Value::Float(1.0)));
}
