use cimetrics_history::store::{BuildMeta, Error, Store, UploadMeta, digest};
use cimetrics_ingest::Report;

use crate::stores;

fn junit(cases: &[(&str, &str)]) -> String {
    let mut xml = String::from("<testsuite name=\"s\">");
    for (name, status) in cases {
        match *status {
            "passed" => xml.push_str(&format!("<testcase classname=\"C\" name=\"{name}\" time=\"1.5\"/>")),
            "failed" => xml.push_str(&format!(
                "<testcase classname=\"C\" name=\"{name}\" time=\"1\"><failure message=\"boom\"/></testcase>"
            )),
            "skipped" => xml.push_str(&format!(
                "<testcase classname=\"C\" name=\"{name}\"><skipped/></testcase>"
            )),
            other => panic!("{other}"),
        }
    }
    xml.push_str("</testsuite>");
    xml
}

fn lcov(file: &str, lines: &[(u32, u32)]) -> String {
    let mut s = format!("SF:{file}\n");
    for (line, hits) in lines {
        s.push_str(&format!("DA:{line},{hits}\n"));
    }
    s.push_str("end_of_record\n");
    s
}

fn parse(text: &str) -> Report {
    cimetrics_ingest::parse(std::io::Cursor::new(text.as_bytes().to_vec())).expect("parse")
}

fn meta(id: &str, shards: u32, finished_at: i64) -> BuildMeta {
    BuildMeta {
        id: id.into(),
        commit: Some(format!("sha-{id}")),
        branch: Some("main".into()),
        finished_at: Some(finished_at),
        shards: Some(shards),
        ..BuildMeta::default()
    }
}

fn upload(shard: u32, name: &str, text: &str) -> UploadMeta {
    UploadMeta {
        shard,
        name: name.into(),
        digest: digest(text.as_bytes()),
        size: text.len() as u64,
    }
}

async fn send(
    store: &Store,
    project: i64,
    build: &BuildMeta,
    shard: u32,
    name: &str,
    text: &str,
) -> Result<cimetrics_history::store::UploadOutcome, Error> {
    store
        .ingest(project, build, &upload(shard, name, text), &parse(text))
        .await
}

/// Sends `texts` as shards 1, 2, ... of `build`, each under `name`, and expects each stored.
async fn send_shards(store: &Store, project: i64, build: &BuildMeta, name: &str, texts: &[&str]) {
    for (shard, text) in (1..).zip(texts) {
        send(store, project, build, shard, name, text)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_repeated_upload_changes_nothing_and_a_different_one_conflicts() {
    for (backend, store) in stores().await {
        let p = store.create_project("shop").await.unwrap();
        let build = meta("101", 1, 1_000);
        let report = junit(&[("a", "passed"), ("b", "failed"), ("c", "skipped")]);
        let first = send(&store, p.id, &build, 1, "junit.xml", &report)
            .await
            .unwrap();
        assert!(!first.replayed && first.complete, "{backend}");
        let again = send(&store, p.id, &build, 1, "junit.xml", &report)
            .await
            .unwrap();
        assert!(again.replayed, "{backend}");
        assert_eq!(again.upload_id, first.upload_id, "{backend}");
        assert_eq!(
            serde_json::to_string(&again.summary).unwrap(),
            serde_json::to_string(&first.summary).unwrap(),
            "{backend}: answered as the first time"
        );

        let other = junit(&[("a", "passed")]);
        let err = send(&store, p.id, &build, 1, "junit.xml", &other)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Conflict(_)), "{backend}: {err}");

        let b = store.build(p.id, "101").await.unwrap().unwrap();
        // total, passed, failed, errored, skipped, flaky: counted once.
        assert_eq!(b.tests, Some([3, 1, 1, 0, 1, 0]), "{backend}");
        assert_eq!(
            b.status.as_deref(),
            Some("failed"),
            "{backend}: derived from the tests"
        );
        let h = store.history(p.id, None, None, None).await.unwrap();
        assert_eq!(h.results.len(), 3, "{backend}");
    }
}

#[tokio::test]
async fn a_sharded_build_counts_only_when_all_shards_are_in() {
    for (backend, store) in stores().await {
        let p = store.create_project("shop").await.unwrap();
        let build = meta("7", 2, 5_000);
        // Shard 1: t1 failed, t2 passed. Shard 2: t1 passed (a retry elsewhere), t3 passed.
        let one = junit(&[("t1", "failed"), ("t2", "passed")]);
        let two = junit(&[("t1", "passed"), ("t3", "passed")]);
        let r = send(&store, p.id, &build, 1, "junit.xml", &one)
            .await
            .unwrap();
        assert!(!r.complete, "{backend}");
        let h = store.history(p.id, None, None, None).await.unwrap();
        assert!(
            h.builds.is_empty(),
            "{backend}: an incomplete build does not count"
        );

        let r = send(&store, p.id, &build, 2, "junit.xml", &two)
            .await
            .unwrap();
        assert!(r.complete, "{backend}");
        let h = store.history(p.id, None, None, None).await.unwrap();
        assert_eq!(h.builds.len(), 1, "{backend}");
        let mut statuses: Vec<(&str, bool, u32)> = h
            .results
            .iter()
            .map(|r| (r.status, r.flaky, r.attempts))
            .collect();
        statuses.sort();
        // t1 passed in one shard and failed in the other: one flaky pass with 2 attempts.
        assert_eq!(
            statuses,
            [
                ("passed", false, 1),
                ("passed", false, 1),
                ("passed", true, 2)
            ],
            "{backend}"
        );
        let b = store.build(p.id, "7").await.unwrap().unwrap();
        assert_eq!(b.tests, Some([3, 3, 0, 0, 0, 1]), "{backend}");
        assert_eq!(b.status.as_deref(), Some("passed"), "{backend}");

        // A third shard of a complete two-shard build is refused, and stores nothing.
        let three = junit(&[("t9", "failed")]);
        assert!(
            send(&store, p.id, &build, 3, "junit.xml", &three)
                .await
                .is_err(),
            "{backend}"
        );
        let b = store.build(p.id, "7").await.unwrap().unwrap();
        assert_eq!(b.tests, Some([3, 3, 0, 0, 0, 1]), "{backend}");
    }
}

#[tokio::test]
async fn coverage_of_one_file_in_two_shards_is_the_union_of_its_lines() {
    for (backend, store) in stores().await {
        let p = store.create_project("shop").await.unwrap();
        let build = meta("9", 2, 9_000);
        let one = lcov("src/a.rs", &[(1, 1), (2, 0), (3, 0)]);
        let two = lcov("src/a.rs", &[(2, 5), (3, 0), (4, 1)]);
        send_shards(&store, p.id, &build, "lcov.info", &[&one, &two]).await;
        let b = store.build(p.id, "9").await.unwrap().unwrap();
        // Lines 1-4 measured; 1, 2 and 4 ran.
        assert_eq!(b.coverage, Some([4, 3, 0, 0]), "{backend}");
        let files = store.file_coverage(&[b.id]).await.unwrap();
        assert_eq!(files.len(), 1, "{backend}");
        assert_eq!(
            (files[0].lines_valid, files[0].lines_covered),
            (4, 3),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn file_paths_with_quotes_and_backslashes_come_back_as_sent() {
    // PostgreSQL receives a report's files as the text of arrays: each of these characters
    // means something there. The lines go with them, and a second shard merges with them.
    let paths = [
        r#"src/"quoted".rs"#,
        r"C:\src\win.rs",
        "src/a,b {c}.rs",
        "src/NULL",
        r#"\"#,
    ];
    for (backend, store) in stores().await {
        let p = store.create_project("shop").await.unwrap();
        let build = meta("10", 2, 9_000);
        let one: String = paths.iter().map(|f| lcov(f, &[(1, 1), (2, 0)])).collect();
        let two: String = paths.iter().map(|f| lcov(f, &[(2, 3), (3, 0)])).collect();
        send_shards(&store, p.id, &build, "lcov.info", &[&one, &two]).await;
        let b = store.build(p.id, "10").await.unwrap().unwrap();
        let mut files: Vec<(String, u64, u64)> = store
            .file_coverage(&[b.id])
            .await
            .unwrap()
            .into_iter()
            .map(|f| (f.path.unwrap_or_default(), f.lines_valid, f.lines_covered))
            .collect();
        files.sort();
        let mut expected: Vec<(String, u64, u64)> =
            paths.iter().map(|f| (f.to_string(), 3, 2)).collect();
        expected.sort();
        assert_eq!(files, expected, "{backend}");
        assert_eq!(b.coverage, Some([15, 10, 0, 0]), "{backend}");
    }
}

#[tokio::test]
async fn a_bulk_load_gives_each_result_to_its_own_test_across_builds() {
    // A bulk load remembers the ids of tests it read back as stored: the second build reads
    // t1 and t2 and inserts t3; the third has all three from memory.
    for (backend, store) in stores().await {
        let bulk = store.clone().for_bulk_load();
        let p = bulk.create_project("shop").await.unwrap();
        let first = [("t1", "passed"), ("t2", "failed")];
        let second = [("t3", "failed"), ("t2", "passed"), ("t1", "skipped")];
        let third = [("t2", "skipped"), ("t1", "failed"), ("t3", "passed")];
        let sent = [
            ("1", 1_000, &first[..]),
            ("2", 2_000, &second[..]),
            ("3", 3_000, &third[..]),
        ];
        for (id, finished_at, cases) in sent {
            let build = meta(id, 1, finished_at);
            send(&bulk, p.id, &build, 1, "a.xml", &junit(cases))
                .await
                .unwrap();
            bulk.finish(p.id, &build).await.unwrap();
        }

        let h = store.history(p.id, None, None, None).await.unwrap();
        let ids: Vec<i64> = h.results.iter().map(|r| r.test_id).collect();
        let names = store.test_names(p.id, &ids).await.unwrap();
        let name_of = |id: i64| {
            names
                .iter()
                .find(|n| n.id == id)
                .map(|n| n.name.clone())
                .unwrap_or_default()
        };
        let mut builds = Vec::new();
        for id in ["1", "2", "3"] {
            builds.push((store.build(p.id, id).await.unwrap().unwrap().id, id));
        }
        let build_of = |id: i64| {
            builds
                .iter()
                .find(|b| b.0 == id)
                .map(|b| b.1.to_owned())
                .unwrap_or_default()
        };
        let mut got: Vec<(String, String, &str)> = h
            .results
            .iter()
            .map(|r| (build_of(r.build_id), name_of(r.test_id), r.status))
            .collect();
        got.sort();
        let expected: Vec<(String, String, &str)> = [
            ("1", "t1", "passed"),
            ("1", "t2", "failed"),
            ("2", "t1", "skipped"),
            ("2", "t2", "passed"),
            ("2", "t3", "failed"),
            ("3", "t1", "failed"),
            ("3", "t2", "skipped"),
            ("3", "t3", "passed"),
        ]
        .into_iter()
        .map(|(b, t, s)| (b.to_owned(), t.to_owned(), s))
        .collect();
        assert_eq!(got, expected, "{backend}");
    }
}

#[tokio::test]
async fn a_refused_upload_stores_nothing_at_all() {
    for (backend, store) in stores().await {
        let p = store.create_project("shop").await.unwrap();
        let report = junit(&[("a", "passed")]);
        // Shard 3 of a 2-shard build: refused after the build row was written in the
        // transaction; the rollback must take the build with it.
        let err = send(&store, p.id, &meta("55", 2, 1), 3, "j.xml", &report)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Invalid(_)), "{backend}: {err}");
        assert!(
            store.build(p.id, "55").await.unwrap().is_none(),
            "{backend}"
        );
        assert!(
            store
                .builds(p.id, None, None, None, 10, 0)
                .await
                .unwrap()
                .is_empty(),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn uploads_out_of_order_read_back_in_time_order() {
    for (backend, store) in stores().await {
        let p = store.create_project("shop").await.unwrap();
        // Build 2 (newer) arrives first.
        send(
            &store,
            p.id,
            &meta("2", 1, 2_000),
            1,
            "j.xml",
            &junit(&[("a", "failed")]),
        )
        .await
        .unwrap();
        send(
            &store,
            p.id,
            &meta("1", 1, 1_000),
            1,
            "j.xml",
            &junit(&[("a", "passed")]),
        )
        .await
        .unwrap();
        let builds = store
            .builds(p.id, Some("main"), None, None, 10, 0)
            .await
            .unwrap();
        let ids: Vec<&str> = builds.iter().map(|b| b.ci_build_id.as_str()).collect();
        assert_eq!(ids, ["2", "1"], "{backend}: newest first");
        let page = store.builds(p.id, None, None, None, 1, 1).await.unwrap();
        assert_eq!(page[0].ci_build_id, "1", "{backend}: paged");
        let h = store.history(p.id, None, Some(1_500), None).await.unwrap();
        assert_eq!(h.builds.len(), 1, "{backend}: time range");
        assert_eq!(h.builds[0].status, "failed", "{backend}");
    }
}

#[tokio::test]
async fn finalize_completes_a_build_with_missing_shards() {
    for (backend, store) in stores().await {
        let p = store.create_project("shop").await.unwrap();
        send(
            &store,
            p.id,
            &meta("3", 4, 3_000),
            1,
            "j.xml",
            &junit(&[("a", "passed")]),
        )
        .await
        .unwrap();
        assert!(
            store
                .history(p.id, None, None, None)
                .await
                .unwrap()
                .builds
                .is_empty(),
            "{backend}"
        );
        store.finalize(p.id, "3").await.unwrap();
        let h = store.history(p.id, None, None, None).await.unwrap();
        assert_eq!(h.builds.len(), 1, "{backend}");
        assert!(
            matches!(store.finalize(p.id, "nope").await, Err(Error::NotFound(_))),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn concurrent_shards_of_one_build_all_land() {
    for (backend, store) in stores().await {
        let p = store.create_project("shop").await.unwrap();
        let build = meta("c", 4, 4_000);
        let mut tasks = Vec::new();
        for shard in 1..=4u32 {
            let store = store.clone();
            let build = build.clone();
            tasks.push(tokio::spawn(async move {
                // Every shard runs the shared test "common" plus its own.
                let own = format!("own{shard}");
                let text = junit(&[("common", "passed"), (own.as_str(), "passed")]);
                send(&store, p.id, &build, shard, "j.xml", &text)
                    .await
                    .unwrap()
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let b = store.build(p.id, "c").await.unwrap().unwrap();
        assert!(b.complete, "{backend}");
        assert_eq!(
            b.tests.map(|t| t[0]),
            Some(5),
            "{backend}: common once + 4 own"
        );
        let h = store.history(p.id, None, None, None).await.unwrap();
        let common = h.results.iter().map(|r| r.attempts).max();
        assert_eq!(
            common,
            Some(4),
            "{backend}: the common test ran in 4 shards"
        );
    }
}

#[tokio::test]
async fn pruning_rolls_results_up_by_day_once() {
    for (backend, store) in stores().await {
        let p = store.create_project("shop").await.unwrap();
        let day = 86_400_000;
        send(
            &store,
            p.id,
            &meta("1", 1, day + 10),
            1,
            "j.xml",
            &junit(&[("a", "passed"), ("b", "failed")]),
        )
        .await
        .unwrap();
        send(
            &store,
            p.id,
            &meta("2", 1, day + 20),
            1,
            "j.xml",
            &junit(&[("a", "failed"), ("b", "skipped")]),
        )
        .await
        .unwrap();
        send(
            &store,
            p.id,
            &meta("3", 1, 5 * day),
            1,
            "j.xml",
            &junit(&[("a", "passed")]),
        )
        .await
        .unwrap();
        let stats = store.prune(p.id, 2 * day).await.unwrap();
        assert_eq!((stats.builds, stats.results), (2, 4), "{backend}");
        let again = store.prune(p.id, 2 * day).await.unwrap();
        assert_eq!((again.builds, again.results), (0, 0), "{backend}");
        let rollups = store.daily_rollups(p.id).await.unwrap();
        // Per test: day 1, runs, passes, failures, flaky, skips, duration sum, max (µs).
        let mut got: Vec<[i64; 8]> = rollups.iter().map(|r| r.2).collect();
        got.sort();
        assert_eq!(
            got,
            [
                [1, 1, 0, 1, 0, 1, 1_000_000, 1_000_000], // b: failed (1 s), skipped
                [1, 2, 1, 1, 0, 0, 2_500_000, 1_500_000], // a: passed (1.5 s), failed (1 s)
            ],
            "{backend}"
        );
        // Build 3 keeps its raw result; builds 1-2 keep their totals.
        let h = store.history(p.id, None, None, None).await.unwrap();
        assert_eq!((h.builds.len(), h.results.len()), (3, 1), "{backend}");
        let b = store.build(p.id, "2").await.unwrap().unwrap();
        assert_eq!(b.tests, Some([2, 0, 1, 0, 1, 0]), "{backend}");
    }
}

/// The results the cache gives for `[from, to)`: (build id, test status) pairs, sorted.
async fn cached(
    (cache, store, project): (&cimetrics_history::cache::HistoryCache, &Store, i64),
    snap: &cimetrics_history::cache::Snapshot,
    from: i64,
    to: i64,
) -> Vec<(i64, String)> {
    let frame = cache
        .results_between(store, project, snap, (from, to))
        .await
        .unwrap();
    let builds = frame.column("build_id").unwrap().i64().unwrap().clone();
    let status = frame.column("status").unwrap().str().unwrap().clone();
    let mut out: Vec<(i64, String)> = (0..frame.height())
        .map(|i| (builds.get(i).unwrap(), status.get(i).unwrap().to_owned()))
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_cache_follows_new_builds_changed_builds_and_pruning() {
    use cimetrics_history::cache::{DAY_MS, HistoryCache};
    for (backend, store) in stores().await {
        let p = store.create_project("shop").await.unwrap();
        let cache = HistoryCache::new(10);
        let at = (&cache, &store, p.id);
        let empty = cache.snapshot(&store, p.id).await.unwrap();
        assert_eq!(empty.builds.height(), 0, "{backend}");
        assert_eq!(empty.latest_ms, None);

        let t0 = 100 * DAY_MS;
        send(
            &store,
            p.id,
            &meta("1", 1, t0),
            1,
            "j.xml",
            &junit(&[("a", "passed"), ("b", "failed")]),
        )
        .await
        .unwrap();
        let one = cache.snapshot(&store, p.id).await.unwrap();
        assert_eq!(one.builds.height(), 1, "{backend}: a new build is seen");
        let ids: Vec<i64> = cached(at, &one, t0 - DAY_MS, t0 + 1)
            .await
            .iter()
            .map(|r| r.0)
            .collect();
        assert_eq!(ids.len(), 2, "{backend}");
        let b1 = ids[0];

        // Same version: the very same snapshot answers.
        let same = cache.snapshot(&store, p.id).await.unwrap();
        assert!(std::sync::Arc::ptr_eq(&one, &same), "{backend}");

        // A sharded build counts only when complete; then it is appended, in time order,
        // even though it finished before build 1.
        send(
            &store,
            p.id,
            &meta("2", 2, t0 - 3 * DAY_MS),
            1,
            "j.xml",
            &junit(&[("a", "failed")]),
        )
        .await
        .unwrap();
        let partial = cache.snapshot(&store, p.id).await.unwrap();
        assert_eq!(
            partial.builds.height(),
            1,
            "{backend}: an incomplete build does not count"
        );
        send(
            &store,
            p.id,
            &meta("2", 2, t0 - 3 * DAY_MS),
            2,
            "k.xml",
            &junit(&[("c", "passed")]),
        )
        .await
        .unwrap();
        let two = cache.snapshot(&store, p.id).await.unwrap();
        assert_eq!(two.builds.height(), 2, "{backend}");
        let early = cached(at, &two, t0 - 4 * DAY_MS, t0 - DAY_MS).await;
        assert_eq!(
            early.len(),
            2,
            "{backend}: build 2's two results, and only them: {early:?}"
        );
        assert!(early.iter().all(|(b, _)| *b != b1));
        assert_eq!(
            cached(at, &two, 0, i64::MAX).await.len(),
            4,
            "{backend}: a period reaching before the horizon is read from the store"
        );

        // A complete build changed (finalized again): its rows are replaced, not doubled.
        store.finalize(p.id, "1").await.unwrap();
        let again = cache.snapshot(&store, p.id).await.unwrap();
        assert_eq!(
            cached(at, &again, t0 - 9 * DAY_MS, t0 + 1).await.len(),
            4,
            "{backend}"
        );

        // A late report to a complete build: the build is read again with it (its packed
        // results are written again with the build).
        send(
            &store,
            p.id,
            &meta("1", 1, t0),
            1,
            "late.xml",
            &junit(&[("d", "skipped")]),
        )
        .await
        .unwrap();
        let late = cache.snapshot(&store, p.id).await.unwrap();
        assert_eq!(
            cached(at, &late, t0 - DAY_MS, t0 + 1).await,
            vec![
                (b1, "failed".into()),
                (b1, "passed".into()),
                (b1, "skipped".into())
            ],
            "{backend}"
        );

        // Pruning reloads: pruned raw results are gone from the cache too.
        store.prune(p.id, t0 - DAY_MS).await.unwrap();
        let pruned = cache.snapshot(&store, p.id).await.unwrap();
        assert_eq!(pruned.builds.height(), 2, "{backend}: builds stay");
        let left = cached(at, &pruned, t0 - 9 * DAY_MS, t0 + 1).await;
        assert_eq!(
            left,
            vec![
                (b1, "failed".into()),
                (b1, "passed".into()),
                (b1, "skipped".into())
            ],
            "{backend}"
        );
    }
}

/// PostgreSQL over TLS: with `sslmode=require` the store migrates and works, and the
/// server sees the connection encrypted. (The local server runs with `ssl = on`.)
#[tokio::test]
async fn postgres_over_tls_works_with_sslmode_require() {
    let Ok(url) = std::env::var("CIMETRICS_TEST_DATABASE_URL") else {
        eprintln!("CIMETRICS_TEST_DATABASE_URL is not set: PostgreSQL tests skipped");
        return;
    };
    let db = cimetrics_history::store::fresh_postgres_database(&url, "cimetrics_tls")
        .await
        .expect("a fresh database");
    let tls = format!("{db}?sslmode=require");
    let store = Store::open(&tls).await.expect("opens over TLS");
    let project = store.create_project("shop").await.expect("writes over TLS");
    assert_eq!(store.project("shop").await.unwrap(), Some(project));
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&tls)
        .await
        .expect("connects over TLS");
    let encrypted: bool =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&mut conn)
            .await
            .expect("pg_stat_ssl");
    assert!(encrypted, "the connection is encrypted");
}

/// Many projects read round-robin under a budget smaller than one of them give the same
/// answers as with no budget; under it the cache holds what fits, and drops the projects read
/// least recently first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_under_a_small_cache_budget_answer_as_with_no_budget() {
    use cimetrics_history::History;
    use cimetrics_history::cache::DAY_MS;
    for (backend, store) in stores().await {
        let mut projects = Vec::new();
        for p in 0..4 {
            let project = store.create_project(&format!("p{p}")).await.unwrap();
            // Build i of project p: tests t0..t4, t1 failing in odd builds (flaky by flips),
            // one file's coverage growing with i.
            for i in 0..6 {
                let cases: Vec<(String, &str)> = (0..5)
                    .map(|t| {
                        let failed = t == 1 && i % 2 == 1 || t == p;
                        (format!("t{t}"), if failed { "failed" } else { "passed" })
                    })
                    .collect();
                let cases: Vec<(&str, &str)> =
                    cases.iter().map(|(n, s)| (n.as_str(), *s)).collect();
                let id = format!("b{i}");
                let at = 100 * DAY_MS + i64::from(i) * DAY_MS + i64::from(p) * 1000;
                send(
                    &store,
                    project.id,
                    &meta(&id, 2, at),
                    1,
                    "j.xml",
                    &junit(&cases),
                )
                .await
                .unwrap();
                let lines: Vec<(u32, u32)> = (1..=10).map(|l| (l, u32::from(l <= i + 3))).collect();
                send(
                    &store,
                    project.id,
                    &meta(&id, 2, at),
                    2,
                    "c.info",
                    &lcov("src/a.rs", &lines),
                )
                .await
                .unwrap();
            }
            projects.push(project);
        }
        let unbounded = History::new(store.clone(), 120).with_cache_bytes(u64::MAX);
        let expected = answers(&unbounded, &projects).await;
        let (held, bytes) = unbounded.cache_usage();
        assert_eq!(held, 4, "{backend}: with no budget every project stays");
        let one = bytes / 4;
        // Smaller than one project: nothing stays, every answer reads the store.
        let tiny = History::new(store.clone(), 120).with_cache_bytes(1);
        assert_eq!(
            answers(&tiny, &projects).await,
            expected,
            "{backend}: a 1-byte budget"
        );
        assert_eq!(tiny.cache_usage(), (0, 0), "{backend}");
        // About two projects: the two read last stay.
        let two = History::new(store.clone(), 120).with_cache_bytes(one * 5 / 2);
        assert_eq!(
            answers(&two, &projects).await,
            expected,
            "{backend}: a budget of two projects"
        );
        let (held, bytes) = two.cache_usage();
        assert_eq!(held, 2, "{backend}: {bytes} bytes held, {one} per project");
        assert!(bytes <= one * 5 / 2, "{backend}");
    }
}

/// The answers of `history` to every question for `projects`, round-robin, twice (a project
/// dropped from the cache is read again).
async fn answers(
    history: &cimetrics_history::History,
    projects: &[cimetrics_history::store::Project],
) -> Vec<serde_json::Value> {
    use cimetrics_history::questions::{FlakyParams, Metric, SlowestParams, TrendParams};
    let mut out = Vec::new();
    for _ in 0..2 {
        for project in projects {
            for metric in [Metric::SuccessRate, Metric::Coverage, Metric::PassRate] {
                let params = TrendParams {
                    metric,
                    window: cimetrics_metrics::Window::Day,
                    time_zone: "UTC".into(),
                    branch: None,
                    from: None,
                    to: None,
                };
                let t = history.trend(project, &params).await.unwrap();
                out.push(serde_json::to_value(t).unwrap());
            }
            let flaky = history
                .flaky(project, &FlakyParams::default())
                .await
                .unwrap();
            out.push(serde_json::to_value(flaky).unwrap());
            let slowest = history
                .slowest(project, &SlowestParams::default())
                .await
                .unwrap();
            out.push(serde_json::to_value(slowest).unwrap());
            let score = history.score(project, None, 30).await.unwrap();
            out.push(serde_json::to_value(score).unwrap());
        }
    }
    out
}

/// Answers a snapshot worked out (flaky, slowest, score) are not given once a build has
/// completed since: after it, the history answers as a new one over the same store does,
/// and the flaky list names the test that began to flip.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_worked_out_before_a_new_build_are_not_given_after_it() {
    use cimetrics_history::History;
    use cimetrics_history::cache::DAY_MS;
    use cimetrics_history::questions::{FlakyParams, Metric, TrendParams};
    for (backend, store) in stores().await {
        let project = store.create_project("shop").await.unwrap();
        let history = History::new(store.clone(), 120);
        // t1 fails in builds 1 and 3; from build 4 on, t2 fails in even builds.
        let build = |i: i64| {
            let t1 = if i % 2 == 1 && i < 4 {
                "failed"
            } else {
                "passed"
            };
            let t2 = if i >= 4 && i % 2 == 0 {
                "failed"
            } else {
                "passed"
            };
            junit(&[("t0", "passed"), ("t1", t1), ("t2", t2)])
        };
        let flaky_names = |answer: &cimetrics_history::answers::FlakyTests| {
            let mut names: Vec<String> = answer.tests.iter().map(|t| t.test.name.clone()).collect();
            names.sort();
            names
        };
        let send_builds = async |builds: std::ops::Range<i64>| {
            for i in builds {
                let at = 100 * DAY_MS + i * DAY_MS;
                let id = format!("b{i}");
                send(&store, project.id, &meta(&id, 1, at), 1, "j.xml", &build(i))
                    .await
                    .unwrap();
            }
        };
        send_builds(0..4).await;
        let before = answers(&history, std::slice::from_ref(&project)).await;
        let flaky = history
            .flaky(&project, &FlakyParams::default())
            .await
            .unwrap();
        assert_eq!(flaky_names(&flaky), vec!["t1"], "{backend}");

        send_builds(4..7).await;
        let after = answers(&history, std::slice::from_ref(&project)).await;
        assert_ne!(before, after, "{backend}");
        let fresh = History::new(store.clone(), 120);
        assert_eq!(
            after,
            answers(&fresh, std::slice::from_ref(&project)).await,
            "{backend}: as a new history answers"
        );
        let flaky = history
            .flaky(&project, &FlakyParams::default())
            .await
            .unwrap();
        assert_eq!(flaky_names(&flaky), vec!["t1", "t2"], "{backend}");

        // Kept answers count in the cache's memory (noted at the next read): asking with
        // new parameters cannot grow memory past the budget unseen.
        let success = TrendParams::new(Metric::SuccessRate);
        history.trend(&project, &success).await.unwrap();
        let (_, before) = history.cache_usage();
        let week = FlakyParams {
            days: 7,
            ..FlakyParams::default()
        };
        history.flaky(&project, &week).await.unwrap();
        history.trend(&project, &success).await.unwrap();
        let (_, after) = history.cache_usage();
        assert!(after > before, "{backend}: {before} -> {after} bytes");
    }
}

/// The quality trend's window inputs are kept in the store: a new history over the same
/// store (a restart, another instance) takes them from there, so what the store holds is
/// what it shows, and a window whose builds change is scored again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quality_windows_are_kept_in_the_store_until_their_builds_change() {
    use cimetrics_history::History;
    use cimetrics_history::cache::DAY_MS;
    use cimetrics_history::questions::{Metric, TrendParams};
    for (backend, store) in stores().await {
        let project = store.create_project("shop").await.unwrap();
        let day = |i: i64| 100 * DAY_MS + i * DAY_MS;
        for i in 0..3 {
            let cases = [
                ("t0", "passed"),
                ("t1", if i == 1 { "failed" } else { "passed" }),
            ];
            send(
                &store,
                project.id,
                &meta(&format!("b{i}"), 1, day(i)),
                1,
                "j.xml",
                &junit(&cases),
            )
            .await
            .unwrap();
        }
        let params = TrendParams {
            window: cimetrics_metrics::Window::Day,
            ..TrendParams::new(Metric::Quality)
        };
        let scores = |t: cimetrics_history::answers::Trend| -> Vec<Option<f64>> {
            t.points.iter().map(|p| p.value).collect()
        };
        let first = History::new(store.clone(), 120);
        let computed = scores(first.trend(&project, &params).await.unwrap());
        assert_eq!(computed.len(), 3, "{backend}");
        assert!(
            computed.iter().all(Option::is_some),
            "{backend}: {computed:?}"
        );

        // Every kept window now says no build succeeded and no test passed.
        let kept = store.quality_windows(project.id).await.unwrap();
        assert_eq!(kept.len(), 3, "{backend}");
        let altered: Vec<(String, i64, String)> = kept
            .into_iter()
            .map(|(key, (fingerprint, json))| {
                let mut inputs: serde_json::Value = serde_json::from_str(&json).unwrap();
                inputs["success_rate"] = serde_json::json!(0.0);
                inputs["pass_rate"] = serde_json::json!(0.0);
                (key, fingerprint, inputs.to_string())
            })
            .collect();
        store
            .keep_quality_windows(project.id, &altered)
            .await
            .unwrap();
        let restarted = History::new(store.clone(), 120);
        let shown = scores(restarted.trend(&project, &params).await.unwrap());
        assert!(
            shown.iter().zip(&computed).all(|(s, c)| s < c),
            "{backend}: the kept inputs are shown: {shown:?} against {computed:?}"
        );

        // A second build on day 2: that window is scored again (as the first history, which
        // kept the true inputs in memory, scores it); the others stay as kept.
        let cases = [("t0", "passed"), ("t1", "passed")];
        send(
            &store,
            project.id,
            &meta("b3", 1, day(2) + 1000),
            1,
            "j.xml",
            &junit(&cases),
        )
        .await
        .unwrap();
        let truth = scores(first.trend(&project, &params).await.unwrap());
        let shown = scores(restarted.trend(&project, &params).await.unwrap());
        assert_eq!(shown[2], truth[2], "{backend}: day 2 scored again");
        assert_eq!(truth[..2], computed[..2], "{backend}");
        assert!(shown[0] < truth[0], "{backend}: day 0 still as kept");
    }
}
