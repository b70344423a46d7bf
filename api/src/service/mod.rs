//! The HTTP service: uploads from CI jobs, JSON and CSV for tools, charts, badges and the
//! dashboard for people. actix-web over [`Store`] and the [`HistoryCache`].
//!
//! - Every handler is `async` and does no blocking work on the executor: report parsing,
//!   polars and chart drawing run in `web::block` (the blocking pool).
//! - Errors are RFC 9457 problem details (`application/problem+json`) with the right status;
//!   nothing is stored on any error ([`Store::ingest`] is one transaction).
//! - Several instances may serve one PostgreSQL: no state lives in the process except the
//!   history cache, which checks the database's history version on every read.

mod auth;
mod charts;
mod openapi;
mod pages;
mod problem;
mod read;
mod upload;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};

use cimetrics_history::History;
use cimetrics_history::store::{Store, TokenKind, new_token};

pub use openapi::document as openapi_document;
pub use problem::ReportPosition;
pub use problem::{Problem, ProblemDetails};

/// How the service runs. Every field has a default; `cimetrics serve` fills them from its
/// flags, a TOML file and `CIMETRICS_*` variables.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on.
    pub bind: String,
    /// Data directory (the SQLite file, upload spool).
    pub data_dir: PathBuf,
    /// PostgreSQL (or SQLite) URL instead of the data directory's SQLite file.
    pub database_url: Option<String>,
    /// Largest report body accepted, as sent (bytes).
    pub max_upload_bytes: u64,
    /// Largest report after `Content-Encoding: gzip` is undone (bytes).
    pub max_decompressed_bytes: u64,
    /// A request body that sends nothing for this long is cut (seconds).
    pub body_timeout_seconds: u64,
    /// Test reports larger than this (bytes as sent) are read twice from the spool file and
    /// stored in batches, so memory does not grow with the report (about 40 bytes a test).
    pub stream_above_bytes: u64,
    /// Days of raw results kept in memory per project (older periods read the database).
    pub cache_results_days: u32,
    /// Memory for the projects' histories in memory, all projects together (bytes): past
    /// it, the projects read least recently are dropped and read again when asked.
    pub cache_bytes: u64,
    /// A build with all its shards in finishes once no report has come for this long
    /// (seconds), unless its CI says it is over first (0: with its last shard's report).
    pub build_close_after_seconds: u64,
    /// The most windows a trend or chart answers (past it: 400, naming the limit).
    pub max_windows: u32,
    /// Whether projects can be read without a token.
    pub public_read: bool,
    /// The admin token (else generated on first start and printed once).
    pub admin_token: Option<String>,
    /// Worker threads (0: one per core).
    pub workers: usize,
    /// The most testcases one test report may hold (past it: 413, naming the limit), so an
    /// upload's memory is bounded whatever its compressibility.
    pub max_tests_per_report: u64,
    /// The most attempts one test may add up to in a report (past it: 413).
    pub max_attempts_per_test: u32,
    /// Uploads one token may have in progress at once (past it: 429 with Retry-After).
    pub max_uploads_per_token: u32,
    /// An upload's body must arrive whole within this many seconds (past it: 408).
    pub upload_deadline_seconds: u64,
    /// Connections each worker holds at most; past it the listener waits (keep it below
    /// the process's open-file limit divided by the workers).
    pub max_connections: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bind: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("cimetrics-data"),
            database_url: None,
            max_upload_bytes: 1 << 30,
            max_decompressed_bytes: 4 << 30,
            body_timeout_seconds: 60,
            stream_above_bytes: 16 << 20,
            cache_results_days: 120,
            cache_bytes: cimetrics_history::cache::DEFAULT_CACHE_BYTES,
            build_close_after_seconds: 600,
            max_windows: 3_700,
            public_read: true,
            admin_token: None,
            workers: 0,
            max_connections: 400,
            max_uploads_per_token: 4,
            max_tests_per_report: 5_000_000,
            max_attempts_per_test: 1_000,
            upload_deadline_seconds: 600,
        }
    }
}

/// Counters for `/metrics`.
#[derive(Default)]
pub(crate) struct Stats {
    requests: AtomicU64,
    uploads: AtomicU64,
    uploads_replayed: AtomicU64,
    parse_errors: AtomicU64,
    uploads_in_flight: AtomicU64,
    request_micros: AtomicU64,
    /// Requests per latency bucket (upper bounds in [`LATENCY_BUCKETS`], then +Inf).
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
}

/// Upper bounds (seconds) of the request latency histogram in `/metrics`.
pub(crate) const LATENCY_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

impl Stats {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// The runtime the analytics run on. polars blocks in place on a multi-threaded tokio
/// runtime (and refuses actix's single-threaded ones), so everything that touches frames
/// runs here, awaited from the handlers.
pub(crate) struct Analytics(Option<tokio::runtime::Runtime>);

impl Drop for Analytics {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// What every handler shares.
pub(crate) struct State {
    pub(crate) analytics: Analytics,
    pub(crate) history: Arc<History>,
    pub(crate) settings: Settings,
    pub(crate) stats: Stats,
    pub(crate) spool: PathBuf,
    /// Uploads in progress per token id.
    pub(crate) uploads_by_token: std::sync::Mutex<std::collections::HashMap<i64, u32>>,
}

/// A running service.
pub struct Running {
    /// The address it listens on (with the real port when asked for port 0).
    pub addr: std::net::SocketAddr,
    /// Stops it gracefully.
    pub handle: ServerHandle,
    /// The admin token, when this start generated it (shown once).
    pub generated_admin_token: Option<String>,
    server: actix_web::dev::Server,
}

impl Running {
    /// Runs until stopped (SIGINT/SIGTERM: in-flight requests finish, up to 30 s).
    ///
    /// # Errors
    /// The server fails.
    pub async fn wait(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Opens the store, makes sure an admin token exists, and starts listening.
///
/// # Errors
/// The database cannot be opened, or the address cannot be bound.
pub async fn start(
    settings: Settings,
) -> Result<Running, Box<dyn std::error::Error + Send + Sync>> {
    let store = match &settings.database_url {
        Some(url) => Store::open(url).await?,
        None => Store::open_data_dir(&settings.data_dir).await?,
    }
    .with_build_close_after(settings.build_close_after_seconds);
    let mut generated_admin_token = None;
    match &settings.admin_token {
        Some(token) if token.chars().count() < 32 => {
            return Err("admin_token: at least 32 characters (a generated one has 68)".into());
        }
        Some(token) => {
            let (revoked, dead) = store.set_admin_token(token).await?;
            if revoked > 0 {
                tracing::info!(
                    revoked,
                    "admin_token set: the earlier admin tokens are revoked"
                );
            }
            if dead {
                tracing::warn!(
                    "the configured admin_token was revoked earlier and stays revoked: \
                     no admin token works; configure a new one"
                );
            }
        }
        None if !store.has_admin_token().await? => {
            let token = new_token()?;
            store.add_token(&token, TokenKind::Admin, None).await?;
            generated_admin_token = Some(token);
        }
        None => {}
    }
    let spool = settings.data_dir.join("spool");
    std::fs::create_dir_all(&spool)?;
    restrict(&settings.data_dir);
    // Uploads a crash cut short left their spool files: nothing refers to them any more.
    for entry in std::fs::read_dir(&spool)?.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("upload-") && name.ends_with(".part") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let analytics = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("cimetrics-analytics")
        .enable_all()
        .build()?;
    let state = web::Data::new(State {
        analytics: Analytics(Some(analytics)),
        history: Arc::new(
            History::new(store, settings.cache_results_days)
                .with_max_windows(settings.max_windows)
                .with_cache_bytes(settings.cache_bytes),
        ),
        stats: Stats::default(),
        spool,
        uploads_by_token: Default::default(),
        settings: settings.clone(),
    });
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(usize::MAX))
            // Every error is a problem document, and none echoes what the client sent.
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                Problem::bad_request(format!("query: {}", serde_error(&e.to_string()))).into()
            }))
            .app_data(
                web::JsonConfig::default()
                    .limit(64 << 10)
                    .error_handler(|e, _| match e {
                        actix_web::error::JsonPayloadError::OverflowKnownLength { .. }
                        | actix_web::error::JsonPayloadError::Overflow { .. } => {
                            Problem::too_large("a JSON body is at most 64 KiB").into()
                        }
                        other => Problem::bad_request(format!(
                            "JSON body: {}",
                            serde_error(&other.to_string())
                        ))
                        .into(),
                    }),
            )
            .app_data(
                web::PathConfig::default()
                    .error_handler(|_, _| Problem::not_found("no such resource").into()),
            )
            .wrap(actix_web::middleware::from_fn(catch_panics))
            .wrap(actix_web::middleware::from_fn(headers))
            .wrap(actix_web::middleware::from_fn(observe))
            .configure(routes)
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(Problem::not_found(
                    "no such route (see /api/v1/openapi.json)",
                ))
            }))
    })
    .shutdown_timeout(30)
    // A request's head must arrive within 5 s (bodies have their own stall timeout), and
    // each worker holds at most `max_connections` connections, so idle or slow clients
    // cannot take every file descriptor.
    .client_request_timeout(Duration::from_secs(5))
    .max_connections(settings.max_connections.max(1));
    if settings.workers > 0 {
        server = server.workers(settings.workers);
    }
    let server = server.bind(&settings.bind)?;
    let addr = server.addrs().first().copied().ok_or("no address bound")?;
    let server = server.run();
    Ok(Running {
        addr,
        handle: server.handle(),
        generated_admin_token,
        server,
    })
}

/// Every route. The `/api/v1/projects/{project}/...` paths are a public contract.
fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(read::health))
        .route("/readyz", web::get().to(read::ready))
        .route("/metrics", web::get().to(read::prometheus))
        .route("/", web::get().to(pages::index))
        .route("/projects/{project}", web::get().to(pages::project))
        .route(
            "/projects/{project}/builds/{build}",
            web::get().to(pages::build),
        )
        .route(
            "/projects/{project}/tests/{test}",
            web::get().to(pages::test),
        )
        .route("/api/v1/openapi.json", web::get().to(read::openapi))
        .route("/api/v1/projects", web::get().to(read::projects))
        .route("/api/v1/projects", web::post().to(auth::create_project))
        .route(
            "/api/v1/projects/{project}",
            web::delete().to(auth::delete_project),
        )
        .route(
            "/api/v1/projects/{project}/tokens",
            web::post().to(auth::create_token),
        )
        .route(
            "/api/v1/projects/{project}/settings",
            web::put().to(auth::project_settings),
        )
        .route("/api/v1/tokens/revoke", web::post().to(auth::revoke_token))
        .route(
            "/api/v1/projects/{project}/builds",
            web::get().to(read::builds),
        )
        .route(
            "/api/v1/projects/{project}/builds/{build}",
            web::get().to(read::build),
        )
        .route(
            "/api/v1/projects/{project}/builds/{build}",
            web::put().to(upload::put_build),
        )
        .route(
            "/api/v1/projects/{project}/builds/{build}",
            web::delete().to(auth::delete_build),
        )
        .route(
            "/api/v1/projects/{project}/builds/{build}/reports",
            web::post().to(upload::report),
        )
        .route(
            "/api/v1/projects/{project}/builds/{build}/finalize",
            web::post().to(upload::finalize),
        )
        .route(
            "/api/v1/projects/{project}/trends",
            web::get().to(read::trends),
        )
        .route(
            "/api/v1/projects/{project}/tests/flaky",
            web::get().to(read::flaky),
        )
        .route(
            "/api/v1/projects/{project}/tests/slowest",
            web::get().to(read::slowest),
        )
        .route(
            "/api/v1/projects/{project}/tests/failing",
            web::get().to(read::failing),
        )
        .route(
            "/api/v1/projects/{project}/coverage/files",
            web::get().to(read::coverage_files),
        )
        .route(
            "/api/v1/projects/{project}/issues",
            web::get().to(read::issues),
        )
        .route(
            "/api/v1/projects/{project}/issues/summary",
            web::get().to(read::issues_summary),
        )
        .route(
            "/api/v1/projects/{project}/score",
            web::get().to(read::score),
        )
        .route(
            "/api/v1/projects/{project}/charts/{chart}",
            web::get().to(charts::chart),
        )
        .route(
            "/api/v1/projects/{project}/badges/{badge}",
            web::get().to(charts::badge),
        )
        .route("/api/v1/projects/{project}/gate", web::get().to(read::gate))
        .route("/api/v1/projects/{project}/mttr", web::get().to(read::mttr))
        .route(
            "/api/v1/projects/{project}/compare",
            web::get().to(read::compare),
        )
        .route(
            "/api/v1/projects/{project}/tests/regressions",
            web::get().to(read::regressions),
        )
        .route(
            "/api/v1/projects/{project}/coverage/packages",
            web::get().to(read::coverage_packages),
        )
        // The tabular answers as CSV by suffix too (or `Accept: text/csv`, or `?format=csv`).
        .route(
            "/api/v1/projects/{project}/builds.csv",
            web::get().to(read::csv_routes::builds),
        )
        .route(
            "/api/v1/projects/{project}/trends.csv",
            web::get().to(read::csv_routes::trends),
        )
        .route(
            "/api/v1/projects/{project}/tests/flaky.csv",
            web::get().to(read::csv_routes::flaky),
        )
        .route(
            "/api/v1/projects/{project}/tests/slowest.csv",
            web::get().to(read::csv_routes::slowest),
        )
        .route(
            "/api/v1/projects/{project}/tests/failing.csv",
            web::get().to(read::csv_routes::failing),
        )
        .route(
            "/api/v1/projects/{project}/coverage/files.csv",
            web::get().to(read::csv_routes::coverage_files),
        )
        .route(
            "/api/v1/projects/{project}/issues.csv",
            web::get().to(read::csv_routes::issues),
        )
        // After every other `tests/...` route: a test's id is any other segment.
        .route(
            "/api/v1/projects/{project}/tests/{test}",
            web::get().to(read::test),
        );
}

/// The part of a deserialiser's message that names what was wrong, without the input: the
/// text up to the first `:` after "error" prefixes, at most 200 characters.
fn serde_error(message: &str) -> String {
    let message = message
        .trim_start_matches("Query deserialize error: ")
        .trim_start_matches("Json deserialize error: ");
    message.chars().take(200).collect()
}

/// The data directory and the database file are the owner's alone (0700, 0600).
fn restrict(dir: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        for file in ["cimetrics.db", "cimetrics.db-wal", "cimetrics.db-shm"] {
            let path = dir.join(file);
            if path.exists() {
                let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
            }
        }
    }
}

/// Security headers on every answer: no MIME sniffing; HTML pages may run nothing and be
/// framed by nobody (charts and badges stay embeddable); an answer to a request that
/// carried a token is private and not stored by caches.
async fn headers(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use actix_web::http::header::{self, HeaderValue};
    let with_token = req.headers().contains_key(header::AUTHORIZATION)
        || req.headers().contains_key("x-cimetrics-token");
    let mut res = next.call(req).await?;
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(if html {
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'"
        } else {
            "default-src 'none'; style-src 'unsafe-inline'"
        }),
    );
    if with_token {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
    }
    Ok(res)
}

/// A handler that panics answers a problem 500 without internals (the panic goes to the
/// log), and the worker goes on serving.
async fn catch_panics(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<
    actix_web::dev::ServiceResponse<actix_web::body::EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    use actix_web::ResponseError;
    use futures_util::FutureExt;
    // The request cannot be kept (routing needs it unshared) and is gone after a panic:
    // the answer goes out with a stand-in carrying the method and path.
    let (method, uri) = (req.method().clone(), req.uri().clone());
    match std::panic::AssertUnwindSafe(next.call(req))
        .catch_unwind()
        .await
    {
        Ok(answer) => answer.map(actix_web::dev::ServiceResponse::map_into_left_body),
        Err(_) => {
            let request = actix_web::test::TestRequest::default()
                .method(method)
                .uri(&uri.to_string())
                .to_http_request();
            Ok(actix_web::dev::ServiceResponse::new(
                request,
                Problem::internal("a handler panicked").error_response(),
            )
            .map_into_right_body())
        }
    }
}

/// Counts requests and their time for `/metrics`, and logs each one.
async fn observe(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let state = req.app_data::<web::Data<State>>().cloned();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let res = next.call(req).await;
    let micros = started.elapsed().as_micros() as u64;
    if let Some(state) = state {
        Stats::add(&state.stats.requests, 1);
        Stats::add(&state.stats.request_micros, micros);
        let seconds = micros as f64 / 1e6;
        let bucket = LATENCY_BUCKETS
            .iter()
            .position(|&le| seconds <= le)
            .unwrap_or(LATENCY_BUCKETS.len());
        Stats::add(&state.stats.latency_buckets[bucket], 1);
    }
    match &res {
        Ok(r) => tracing::info!(%method, %path, status = r.status().as_u16(), micros, "request"),
        Err(e) => tracing::warn!(%method, %path, error = %e, micros, "request failed"),
    }
    res
}

/// The shared state type handlers take.
pub(crate) type Shared = web::Data<State>;

/// Percent-encodes a URL path segment or query value (every byte but RFC 3986's unreserved
/// characters). The dashboard's links and `cimetrics upload` both build URLs with it.
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Runs analytics (store reads, then polars) on the analytics runtime.
pub(crate) async fn analytics<T, F>(
    state: &Shared,
    f: impl FnOnce(Shared) -> F,
) -> Result<T, Problem>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, Problem>> + Send + 'static,
{
    let Some(rt) = &state.analytics.0 else {
        return Err(Problem::internal("the analytics runtime is gone"));
    };
    rt.spawn(f(state.clone()))
        .await
        .map_err(|e| Problem::internal(format_args!("analytics: {e}")))?
}

/// The most a JSON body may hold.
pub(crate) const JSON_BODY_BYTES: usize = 64 << 10;

/// Reads a JSON request body, called only once the request's token has been checked (an
/// extractor would read it before): at most [`JSON_BODY_BYTES`], each chunk within
/// `body_timeout_seconds`, else a problem (413, 408, 400 naming the field).
pub(crate) async fn json_body<T: serde::de::DeserializeOwned>(
    state: &Shared,
    mut payload: web::Payload,
) -> Result<T, Problem> {
    use futures_util::StreamExt;
    let stall = Duration::from_secs(state.settings.body_timeout_seconds.max(1));
    let mut body = Vec::new();
    loop {
        match tokio::time::timeout(stall, payload.next()).await {
            Err(_) => {
                return Err(Problem::new(
                    actix_web::http::StatusCode::REQUEST_TIMEOUT,
                    "body-timeout",
                    "The body stalled",
                    format!("no bytes for {} s", stall.as_secs()),
                ));
            }
            Ok(None) => break,
            Ok(Some(Err(_))) => return Err(Problem::bad_request("the body could not be read")),
            Ok(Some(Ok(chunk))) => {
                if body.len() + chunk.len() > JSON_BODY_BYTES {
                    return Err(Problem::too_large("a JSON body is at most 64 KiB"));
                }
                body.extend_from_slice(&chunk);
            }
        }
    }
    serde_json::from_slice(&body)
        .map_err(|e| Problem::bad_request(format!("JSON body: {}", serde_error(&e.to_string()))))
}

/// Runs blocking work (parsing, drawing) off the executor.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Problem> + Send + 'static,
) -> Result<T, Problem> {
    web::block(f)
        .await
        .map_err(|e| Problem::internal(format_args!("worker: {e}")))?
}

/// Runs the service on this thread until a signal stops it; `started` is told where it
/// listens first.
///
/// # Errors
/// It cannot start.
pub fn serve_forever(
    settings: Settings,
    started: impl FnOnce(&Running),
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    actix_web::rt::System::new().block_on(async move {
        let running = start(settings).await?;
        started(&running);
        running.wait().await?;
        Ok(())
    })
}

/// A service running on its own thread (for tests and tools): stop it with
/// [`Spawned::stop`].
pub struct Spawned {
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    /// The admin token it generated, if it did.
    pub generated_admin_token: Option<String>,
    handle: ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Spawned {
    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops gracefully and waits for the thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(thread) = self.thread.take() {
            actix_web::rt::System::new().block_on(self.handle.stop(true));
            let _ = thread.join();
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Starts the service on a thread of its own.
///
/// # Errors
/// It cannot start.
pub fn spawn(settings: Settings) -> Result<Spawned, Box<dyn std::error::Error + Send + Sync>> {
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            match start(settings).await {
                Ok(running) => {
                    let info = (
                        running.addr,
                        running.generated_admin_token.clone(),
                        running.handle.clone(),
                    );
                    let _ = tx.send(Ok(info));
                    let _ = running.wait().await;
                }
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                }
            }
        });
    });
    match rx.recv() {
        Ok(Ok((addr, generated_admin_token, handle))) => Ok(Spawned {
            addr,
            generated_admin_token,
            handle,
            thread: Some(thread),
        }),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e.into())
        }
        Err(_) => Err("the service thread ended before it started".into()),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test as http;
    use actix_web::{App, web};

    #[actix_web::test]
    async fn a_panicking_handler_answers_a_problem_without_internals_and_the_app_goes_on() {
        let app = http::init_service(
            App::new()
                .wrap(actix_web::middleware::from_fn(super::catch_panics))
                .route(
                    "/panic",
                    web::get().to(|| async {
                        if true {
                            panic!("secret internals");
                        }
                        "never"
                    }),
                )
                .route("/ok", web::get().to(|| async { "ok" })),
        )
        .await;
        let answer =
            http::call_service(&app, http::TestRequest::get().uri("/panic").to_request()).await;
        assert_eq!(answer.status(), 500);
        assert_eq!(
            answer
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap()),
            Some("application/problem+json")
        );
        let body = http::read_body(answer).await;
        let text = String::from_utf8_lossy(&body);
        assert!(
            text.contains("\"code\":\"internal\"") && !text.contains("secret"),
            "{text}"
        );
        let ok = http::call_service(&app, http::TestRequest::get().uri("/ok").to_request()).await;
        assert_eq!(ok.status(), 200);
    }

    #[test]
    fn percent_encoding_keeps_unreserved_bytes_only() {
        assert_eq!(
            super::percent_encode("release/1.x b~_-"),
            "release%2F1.x%20b~_-"
        );
        assert_eq!(super::percent_encode("é&="), "%C3%A9%26%3D");
    }
}
