//! The OpenAPI document, generated from the handlers' annotations and the answer types, so
//! it cannot drift from what the service answers (`api/tests/it/openapi.rs` checks every
//! route's live answers against it).

use std::sync::OnceLock;

use utoipa::OpenApi;

use super::{auth, charts, pages, read, upload};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "cimetrics",
        description = "CI test, coverage and build metrics: reports in, numbers and charts out. \
Times are RFC 3339 UTC; builds are named by the CI's build id; rates are fractions (0..=1) or \
null when nothing was measured. Answers with rows are also CSV (`Accept: text/csv`, \
`?format=csv` or a `.csv` suffix). Errors are `application/problem+json`."
    ),
    paths(
        read::health,
        read::ready,
        read::prometheus,
        read::openapi,
        pages::index,
        pages::project,
        pages::build,
        pages::test,
        read::projects,
        read::builds,
        read::build,
        read::trends,
        read::flaky,
        read::slowest,
        read::failing,
        read::coverage_files,
        read::issues,
        read::issues_summary,
        read::score,
        read::gate,
        read::mttr,
        read::compare,
        read::regressions,
        read::coverage_packages,
        read::test,
        charts::chart,
        charts::badge,
        read::csv_routes::builds,
        read::csv_routes::trends,
        read::csv_routes::flaky,
        read::csv_routes::slowest,
        read::csv_routes::failing,
        read::csv_routes::coverage_files,
        read::csv_routes::issues,
        auth::create_project,
        auth::create_token,
        auth::project_settings,
        auth::revoke_token,
        auth::delete_build,
        auth::delete_project,
        upload::put_build,
        upload::report,
        upload::finalize,
    ),
    components(schemas(super::ProblemDetails)),
    modifiers(&Security),
    tags(
        (name = "read", description = "Public, or with one of the project's tokens"),
        (name = "write", description = "The project's upload token (or admin)"),
        (name = "admin", description = "The admin token"),
        (name = "csv", description = "Answers with rows, as CSV"),
        (name = "pages", description = "The dashboard (HTML)"),
        (name = "operations", description = "Health, readiness, metrics, this document"),
    )
)]
struct Document;

/// Bearer tokens on every route.
struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The document as JSON (built once).
pub fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| Document::openapi().to_pretty_json().unwrap_or_default())
}
