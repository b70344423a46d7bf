//! Errors as RFC 9457 problem details: `{"type", "code", "title", "status", "detail"}` and,
//! for a bad report, where in it (`position`: byte offset, line, column; `path`: element
//! path). `code` is stable for programs; `detail` is for people. An internal error's cause
//! chain goes to the log, never to the client.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use cimetrics_history::store;
use serde::Serialize;
use utoipa::ToSchema;

/// An error answer (boxed: handlers return it in every `Result`).
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Problem(Box<ProblemDetails>);

impl std::ops::Deref for Problem {
    type Target = ProblemDetails;
    fn deref(&self) -> &ProblemDetails {
        &self.0
    }
}

impl std::ops::DerefMut for Problem {
    fn deref_mut(&mut self) -> &mut ProblemDetails {
        &mut self.0
    }
}

/// Where in a report reading stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReportPosition {
    /// 0-based byte offset (in the decoded report).
    pub byte_offset: u64,
    /// 1-based line.
    pub line: u64,
    /// 1-based column, in bytes.
    pub column: u64,
}

/// The members of a problem details document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProblemDetails {
    /// A URI naming the problem kind (relative, under `/problems/`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The kind as a stable code: `bad-request`, `bad-report`, `unknown-format`,
    /// `unauthorized`, `forbidden`, `not-found`, `conflict`, `timeout`, `too-large`,
    /// `internal`.
    pub code: &'static str,
    /// A short summary of the kind.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What happened, for a person.
    pub detail: String,
    /// Where in the report, for a report that could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<ReportPosition>,
    /// The element path, for a report that could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Seconds to wait before trying again (also the `Retry-After` header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl Problem {
    /// A problem of a status, kind and detail.
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Problem(Box::new(ProblemDetails {
            kind: format!("/problems/{code}"),
            code,
            title,
            status: status.as_u16(),
            detail: detail.into(),
            position: None,
            path: None,
            retry_after: None,
        }))
    }

    /// 400.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "Bad request",
            detail,
        )
    }

    /// 401.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Missing or unknown token",
            detail,
        )
    }

    /// 403.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Token not allowed here",
            detail,
        )
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    /// 413.
    pub fn too_large(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Report too large",
            detail,
        )
    }

    /// 500: the cause (with its chain) goes to the log; the client learns only that it
    /// happened.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(cause = %cause, "internal error");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the server failed to answer; the cause is in its log",
        )
    }

    /// An error and its sources, one line (for the log).
    fn chain(e: &dyn std::error::Error) -> String {
        let mut out = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            out.push_str(": ");
            out.push_str(&s.to_string());
            source = s.source();
        }
        out
    }

    /// A report the parser refused: 415 for an unknown format, 413 for a reader limit,
    /// else 400, with the position.
    pub fn from_report(e: &cimetrics_ingest::Error) -> Self {
        use cimetrics_ingest::ErrorKind;
        let mut p = match e.kind() {
            ErrorKind::UnknownFormat(_) => Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unknown-format",
                "Not a report format cimetrics reads",
                e.to_string(),
            ),
            ErrorKind::Limit(_) => Problem::too_large(e.to_string()),
            _ => Problem::new(
                StatusCode::BAD_REQUEST,
                "bad-report",
                "The report could not be read",
                e.to_string(),
            ),
        };
        let at = e.position();
        p.position = Some(ReportPosition {
            byte_offset: at.byte_offset,
            line: at.line,
            column: at.column,
        });
        if !e.path().is_empty() {
            p.path = Some(e.path().to_owned());
        }
        p
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.title, self.detail)
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut answer = HttpResponse::build(self.status_code());
        answer.content_type("application/problem+json");
        if let Some(s) = self.retry_after {
            answer.insert_header(("retry-after", s.to_string()));
        }
        answer.json(self)
    }
}

impl From<store::Error> for Problem {
    fn from(e: store::Error) -> Self {
        match e {
            store::Error::Conflict(d) => Problem::new(
                StatusCode::CONFLICT,
                "conflict",
                "Conflicts with what is stored",
                d,
            ),
            store::Error::NotFound(d) => Problem::not_found(d),
            store::Error::Invalid(d) => Problem::bad_request(d),
            other => Problem::internal(Problem::chain(&other)),
        }
    }
}

impl From<cimetrics_history::Error> for Problem {
    fn from(e: cimetrics_history::Error) -> Self {
        use cimetrics_history::Error;
        match e {
            Error::Store(s) => s.into(),
            Error::NotFound(d) => Problem::not_found(d),
            Error::Invalid(d) | Error::Metrics(cimetrics_metrics::Error::Invalid(d)) => {
                Problem::bad_request(d)
            }
            other => Problem::internal(Problem::chain(&other)),
        }
    }
}

impl From<cimetrics_metrics::Error> for Problem {
    fn from(e: cimetrics_metrics::Error) -> Self {
        match e {
            cimetrics_metrics::Error::Invalid(d) => Problem::bad_request(d),
            other => Problem::internal(Problem::chain(&other)),
        }
    }
}
