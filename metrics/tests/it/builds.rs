use super::*;

#[test]
fn success_rate_per_day_leaves_empty_days_null_not_zero() {
    // Mon: 3 finished (2 passed) + 1 cancelled (not counted); Tue: nothing; Wed: 1 failed.
    let builds = lazy_builds(&[
        build(4, "main", "d", "failed", MON + 2 * DAY + HOUR),
        build(1, "main", "a", "passed", MON + HOUR),
        build(3, "main", "c", "failed", MON + 3 * HOUR),
        build(2, "main", "b", "passed", MON + 2 * HOUR),
        build(5, "main", "e", "cancelled", MON + 4 * HOUR),
    ]);
    let s = success_rate(builds, &WindowSpec::new(Window::Day), false).unwrap();
    assert_eq!(
        strings(&s, "window_start"),
        ["2026-03-02", "2026-03-03", "2026-03-04"]
    );
    assert_eq!(ints(&s, "finished"), [Some(3), Some(0), Some(1)]);
    assert_eq!(ints(&s, "successful"), [Some(2), Some(0), Some(0)]);
    assert_close!(
        floats(&s, "success_rate"),
        vec![Some(2.0 / 3.0), None, Some(0.0)]
    );
}

#[test]
fn windows_follow_the_local_calendar_of_the_time_zone() {
    // Sunday 2026-03-01 23:30 UTC is Monday 00:30 in Berlin (UTC+1) but still Sunday in
    // New York (UTC-5). Sunday 2026-03-01 04:00 UTC is Saturday 23:00 in New York.
    let builds = || {
        lazy_builds(&[
            build(1, "main", "a", "passed", MON - 30 * 60_000),
            build(2, "main", "b", "failed", MON - 20 * HOUR),
            build(3, "main", "c", "passed", MON + 10 * HOUR),
        ])
    };
    let utc = success_rate(builds(), &WindowSpec::new(Window::Week), false).unwrap();
    // UTC: builds 1, 2 in the week of Mon 23 Feb; build 3 in the week of Mon 2 Mar.
    assert_eq!(strings(&utc, "window_start"), ["2026-02-23", "2026-03-02"]);
    assert_eq!(ints(&utc, "finished"), [Some(2), Some(1)]);

    let berlin = WindowSpec::new(Window::Week).in_zone("Europe/Berlin");
    let s = success_rate(builds(), &berlin, false).unwrap();
    // Berlin: build 1 moves to the week of 2 March.
    assert_eq!(ints(&s, "finished"), [Some(1), Some(2)]);
    assert_close!(floats(&s, "success_rate"), vec![Some(0.0), Some(1.0)]);

    let ny = WindowSpec::new(Window::Day).in_zone("America/New_York");
    let s = success_rate(builds(), &ny, false).unwrap();
    // New York days: build 2 on Sat 28 Feb, build 1 on Sun 1 Mar, build 3 on Mon 2 Mar.
    assert_eq!(
        strings(&s, "window_start"),
        ["2026-02-28", "2026-03-01", "2026-03-02"]
    );
    assert_eq!(ints(&s, "successful"), [Some(0), Some(1), Some(1)]);
}

#[test]
fn success_rate_bounds_add_empty_windows_at_both_ends() {
    let builds = lazy_builds(&[build(1, "main", "a", "passed", MON + HOUR)]);
    let d = |day| chrono::NaiveDate::from_ymd_opt(2026, 3, day).unwrap();
    let spec = WindowSpec::new(Window::Day).between(Some(d(1)), Some(d(3)));
    let s = success_rate(builds, &spec, false).unwrap();
    assert_eq!(
        strings(&s, "window_start"),
        ["2026-03-01", "2026-03-02", "2026-03-03"]
    );
    assert_close!(floats(&s, "success_rate"), vec![None, Some(1.0), None]);
}

#[test]
fn success_rate_by_branch_gives_every_branch_every_window() {
    let builds = lazy_builds(&[
        build(1, "main", "a", "passed", MON + HOUR),
        build(2, "dev", "b", "failed", MON + HOUR),
        build(3, "main", "c", "failed", MON + DAY + HOUR),
    ]);
    let s = success_rate(builds, &WindowSpec::new(Window::Day), true).unwrap();
    assert_eq!(strings(&s, "branch"), ["dev", "dev", "main", "main"]);
    assert_eq!(
        strings(&s, "window_start"),
        ["2026-03-02", "2026-03-03", "2026-03-02", "2026-03-03"]
    );
    assert_close!(
        floats(&s, "success_rate"),
        vec![Some(0.0), None, Some(1.0), Some(0.0)]
    );
}

#[test]
fn months_bucket_by_local_month() {
    // 2026-03-31 23:00 UTC is 1 April 01:00 in Berlin (UTC+2 after the DST change).
    let builds = lazy_builds(&[
        build(1, "main", "a", "passed", MON + 29 * DAY + 23 * HOUR),
        build(2, "main", "b", "failed", MON + 10 * DAY),
    ]);
    let spec = WindowSpec::new(Window::Month).in_zone("Europe/Berlin");
    let s = success_rate(builds, &spec, false).unwrap();
    assert_eq!(strings(&s, "window_start"), ["2026-03-01", "2026-04-01"]);
    assert_close!(floats(&s, "success_rate"), vec![Some(0.0), Some(1.0)]);
}

#[test]
fn rolling_success_rate_looks_at_the_last_n_builds_in_time_order() {
    // In time order: P F P P (ids 10, 11, 12, 13), given shuffled.
    let builds = lazy_builds(&[
        build(13, "main", "d", "passed", MON + 4 * HOUR),
        build(10, "main", "a", "passed", MON + HOUR),
        build(12, "main", "c", "passed", MON + 3 * HOUR),
        build(11, "main", "b", "failed", MON + 2 * HOUR),
    ]);
    let r = rolling_success_rate(builds, 3, false).unwrap();
    assert_eq!(
        ints(&r, "build_id"),
        [Some(10), Some(11), Some(12), Some(13)]
    );
    assert_eq!(ints(&r, "builds"), [Some(1), Some(2), Some(3), Some(3)]);
    // 1/1, 1/2, 2/3 (P F P), 2/3 (F P P).
    assert_close!(
        floats(&r, "success_rate"),
        vec![Some(1.0), Some(0.5), Some(2.0 / 3.0), Some(2.0 / 3.0)]
    );
}

#[test]
fn mttr_is_the_mean_time_from_first_failure_to_next_pass() {
    // main: P(0h) F(1h) F(2h) P(4h) F(5h) P(6h) F(8h, open)
    // outages: 1h→4h = 3h, 5h→6h = 1h, 8h open. MTTR = 2h = 7200 s.
    let main = [
        (1, "passed", 0),
        (2, "failed", 1),
        (3, "failed", 2),
        (4, "passed", 4),
        (5, "failed", 5),
        (6, "passed", 6),
        (7, "failed", 8),
    ];
    let mut rows: Vec<BuildRow> = main
        .iter()
        .rev()
        .map(|&(id, s, h)| build(id, "main", "x", s, MON + h * HOUR))
        .collect();
    // dev: F(0h) first build failed, never recovered.
    rows.push(build(20, "dev", "y", "failed", MON));
    let m = mttr(lazy_builds(&rows)).unwrap();
    assert_eq!(strings(&m, "branch"), ["dev", "main"]);
    assert_eq!(ints(&m, "outages"), [Some(1), Some(3)]);
    assert_eq!(ints(&m, "recovered"), [Some(0), Some(2)]);
    assert_close!(floats(&m, "mttr_s"), vec![None, Some(7200.0)]);

    // The same outages one by one, in order of their first failure: dev's (0h, open),
    // main's 1h→4h (builds 2, 3; recovered by 4), 5h→6h (5; by 6), 8h (7, open).
    let s = failure_streaks(lazy_builds(&rows)).unwrap();
    assert_eq!(strings(&s, "branch"), ["dev", "main", "main", "main"]);
    assert_eq!(
        ints(&s, "first_failed"),
        [Some(20), Some(2), Some(5), Some(7)]
    );
    assert_eq!(ints(&s, "recovered_by"), [None, Some(4), Some(6), None]);
    assert_close!(
        floats(&s, "recovery_s"),
        vec![None, Some(10800.0), Some(3600.0), None]
    );
    let table = Table::from_frame(&s).unwrap();
    assert_eq!(
        table.get(1, "failed_builds"),
        Some(&Value::List(vec![Value::Int(2), Value::Int(3)]))
    );
    // MTTR from the streaks: mean(3 h, 1 h) = 2 h, as above.
    assert_eq!(mean([10800.0, 3600.0]), Some(7200.0));
    assert_eq!(mean([]), None);
}

#[test]
fn build_duration_trend_gives_quantiles_per_window() {
    let mut rows = Vec::new();
    for (i, d) in [10.0, 20.0, 30.0, 40.0].into_iter().enumerate() {
        let mut b = build(i as i64, "main", "a", "passed", MON + i as i64 * HOUR);
        b.duration_s = Some(d);
        rows.push(b);
    }
    let mut late = build(9, "main", "b", "passed", MON + 2 * DAY);
    late.duration_s = Some(5.0);
    rows.push(late);
    let t = duration_trend(lazy_builds(&rows), &WindowSpec::new(Window::Day)).unwrap();
    assert_eq!(ints(&t, "builds"), [Some(4), Some(0), Some(1)]);
    assert_close!(floats(&t, "mean_s"), vec![Some(25.0), None, Some(5.0)]);
    // Linear p50 of 10,20,30,40 = 25; p95 = 30 + 0.85*10 = 38.5.
    assert_close!(floats(&t, "p50_s"), vec![Some(25.0), None, Some(5.0)]);
    assert_close!(floats(&t, "p95_s"), vec![Some(38.5), None, Some(5.0)]);
}
