//! Who may do what. Tokens come as `Authorization: Bearer <token>` (or `X-Cimetrics-Token`).
//! - admin: everything;
//! - upload (per project): write that project's builds and reports, and read it;
//! - read (per project): read that project when reading is not public.
//!
//! A missing or unknown token is 401; a valid token for another project, or a read token
//! on a writing route, is 403.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Problem, Shared};
use cimetrics_history::store::{Project, TokenGrant, TokenKind, new_token};

fn presented(req: &HttpRequest) -> Option<&str> {
    let headers = req.headers();
    if let Some(v) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        let v = v.trim();
        if let Some(t) = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
        {
            return Some(t.trim());
        }
        if let Some(t) = v.strip_prefix("Token ") {
            return Some(t.trim());
        }
    }
    headers
        .get("x-cimetrics-token")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

async fn grant(state: &Shared, req: &HttpRequest) -> Result<Option<TokenGrant>, Problem> {
    match presented(req) {
        None | Some("") => Ok(None),
        Some(token) => match state.history.store().check_token(token).await? {
            Some(g) => Ok(Some(g)),
            None => Err(Problem::unauthorized("the token is unknown or revoked")),
        },
    }
}

/// The project named in the path, or 404.
pub(crate) async fn project(state: &Shared, name: &str) -> Result<Project, Problem> {
    state
        .history
        .store()
        .project(name)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no project {name:?}")))
}

/// Requires the admin token.
pub(crate) async fn admin(state: &Shared, req: &HttpRequest) -> Result<(), Problem> {
    match grant(state, req).await? {
        None => Err(Problem::unauthorized("this route needs the admin token")),
        Some(g) if g.kind == TokenKind::Admin => Ok(()),
        Some(_) => Err(Problem::forbidden("this route needs the admin token")),
    }
}

/// Requires a token that may write `project`.
pub(crate) async fn writer(
    state: &Shared,
    req: &HttpRequest,
    project: &Project,
) -> Result<i64, Problem> {
    match grant(state, req).await? {
        None => Err(Problem::unauthorized(
            "uploads need a token: Authorization: Bearer <upload token>",
        )),
        Some(g) if g.kind == TokenKind::Admin => Ok(g.id),
        Some(g) if g.kind == TokenKind::Upload && g.project_id == Some(project.id) => Ok(g.id),
        Some(g) if g.kind == TokenKind::Upload => Err(Problem::forbidden(format!(
            "this upload token belongs to another project, not {:?}",
            project.name
        ))),
        Some(_) => Err(Problem::forbidden("a read token cannot write")),
    }
}

/// An upload in progress under a token; dropping it frees the token's slot.
pub(crate) struct UploadSlot {
    state: Shared,
    token: i64,
}

impl UploadSlot {
    /// Takes one of the token's `max_uploads_per_token` slots, or answers 429 with
    /// `Retry-After`.
    pub(crate) fn take(state: &Shared, token: i64) -> Result<UploadSlot, Problem> {
        let mut busy = state
            .uploads_by_token
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = busy.entry(token).or_default();
        if *n >= state.settings.max_uploads_per_token.max(1) {
            let mut p = Problem::new(
                actix_web::http::StatusCode::TOO_MANY_REQUESTS,
                "too-many-uploads",
                "Too many uploads at once",
                format!(
                    "this token has {n} uploads in progress, the most max_uploads_per_token allows"
                ),
            );
            p.retry_after = Some(5);
            return Err(p);
        }
        *n += 1;
        Ok(UploadSlot {
            state: state.clone(),
            token,
        })
    }
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        let mut busy = self
            .state
            .uploads_by_token
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = busy.get_mut(&self.token) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                busy.remove(&self.token);
            }
        }
    }
}

/// Requires read access to `project` (anyone, when reading is public).
pub(crate) async fn reader(
    state: &Shared,
    req: &HttpRequest,
    project: &Project,
) -> Result<(), Problem> {
    let g = grant(state, req).await?;
    if project.public_read.unwrap_or(state.settings.public_read) {
        return Ok(());
    }
    match g {
        None => Err(Problem::unauthorized(
            "this project is private: send a read token",
        )),
        Some(g) if g.kind == TokenKind::Admin || g.project_id == Some(project.id) => Ok(()),
        Some(_) => Err(Problem::forbidden(format!(
            "this token belongs to another project, not {:?}",
            project.name
        ))),
    }
}

/// A project to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewProject {
    /// Its name, 1 to 200 characters.
    name: String,
}

/// A project created (or found), with a new upload token, shown once.
#[derive(Serialize, ToSchema)]
pub(crate) struct CreatedProject {
    /// The project.
    project: String,
    /// An upload token for it.
    upload_token: String,
}

/// A token created, shown once.
#[derive(Serialize, ToSchema)]
pub(crate) struct CreatedToken {
    /// The project.
    project: String,
    /// `upload` or `read`.
    kind: String,
    /// The token.
    token: String,
}

/// A project's read access as it now stands.
#[derive(Serialize, ToSchema)]
pub(crate) struct ReadAccess {
    /// The project.
    project: String,
    /// Whether anyone may read it.
    public_read: bool,
}

/// Creates a project (or finds it) and a new upload token for it (admin).
#[utoipa::path(post, path = "/api/v1/projects", tag = "admin", request_body = NewProject,
    responses((status = 201, description = "Created", body = CreatedProject),
        (status = 401, description = "No admin token", body = super::ProblemDetails)))]
pub(crate) async fn create_project(
    state: Shared,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    admin(&state, &req).await?;
    let body: NewProject = super::json_body(&state, payload).await?;
    let project = state.history.store().create_project(&body.name).await?;
    let token = new_token()?;
    state
        .history
        .store()
        .add_token(&token, TokenKind::Upload, Some(project.id))
        .await?;
    Ok(HttpResponse::Created().json(CreatedProject {
        project: project.name,
        upload_token: token,
    }))
}

/// A token to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewToken {
    /// `upload` or `read`.
    kind: String,
}

/// Another token for a project (admin).
#[utoipa::path(post, path = "/api/v1/projects/{project}/tokens", tag = "admin",
    params(("project" = String, Path, description = "Project name")), request_body = NewToken,
    responses((status = 201, description = "Created", body = CreatedToken)))]
pub(crate) async fn create_token(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    admin(&state, &req).await?;
    let body: NewToken = super::json_body(&state, payload).await?;
    let project = project(&state, &path).await?;
    let kind = match body.kind.as_str() {
        "upload" => TokenKind::Upload,
        "read" => TokenKind::Read,
        other => {
            return Err(Problem::bad_request(format!(
                "kind {other:?} is not upload or read"
            )));
        }
    };
    let token = new_token()?;
    state
        .history
        .store()
        .add_token(&token, kind, Some(project.id))
        .await?;
    Ok(HttpResponse::Created().json(CreatedToken {
        project: project.name,
        kind: body.kind.clone(),
        token,
    }))
}

/// A project's settings.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProjectSettings {
    /// `true` public, `false` private (read tokens), `null` the server's default.
    public_read: Option<bool>,
}

/// Makes a project public, private, or as the server's default (admin).
#[utoipa::path(put, path = "/api/v1/projects/{project}/settings", tag = "admin",
    params(("project" = String, Path, description = "Project name")), request_body = ProjectSettings,
    responses((status = 200, description = "Its read access now", body = ReadAccess)))]
pub(crate) async fn project_settings(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    admin(&state, &req).await?;
    let body: ProjectSettings = super::json_body(&state, payload).await?;
    let project = project(&state, &path).await?;
    state
        .history
        .store()
        .set_public_read(project.id, body.public_read)
        .await?;
    Ok(HttpResponse::Ok().json(ReadAccess {
        project: project.name,
        public_read: body.public_read.unwrap_or(state.settings.public_read),
    }))
}

/// A token to revoke.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Revoke {
    /// The token.
    token: String,
}

/// Revokes a token (admin).
#[utoipa::path(post, path = "/api/v1/tokens/revoke", tag = "admin", request_body = Revoke,
    responses((status = 204, description = "Revoked"),
        (status = 404, description = "No such live token", body = super::ProblemDetails)))]
pub(crate) async fn revoke_token(
    state: Shared,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    admin(&state, &req).await?;
    let body: Revoke = super::json_body(&state, payload).await?;
    state.history.store().revoke_token(&body.token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Deletes a build and all that is stored of it (admin; audited in the log).
#[utoipa::path(delete, path = "/api/v1/projects/{project}/builds/{build}", tag = "admin",
    params(("project" = String, Path, description = "Project name"),
        ("build" = String, Path, description = "The CI's build id")),
    responses((status = 204, description = "Deleted"),
        (status = 404, description = "No such build", body = super::ProblemDetails)))]
pub(crate) async fn delete_build(
    state: Shared,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let (name, build) = path.into_inner();
    admin(&state, &req).await?;
    let project = project(&state, &name).await?;
    if !state
        .history
        .store()
        .delete_build(project.id, &build)
        .await?
    {
        return Err(Problem::not_found(format!(
            "no build {build:?} in {name:?}"
        )));
    }
    tracing::warn!(audit = "delete-build", project = %name, build = %build, "build deleted");
    Ok(HttpResponse::NoContent().finish())
}

/// Deletes a project with all its builds, tests and tokens (admin; audited in the log).
#[utoipa::path(delete, path = "/api/v1/projects/{project}", tag = "admin",
    params(("project" = String, Path, description = "Project name")),
    responses((status = 204, description = "Deleted"),
        (status = 404, description = "No such project", body = super::ProblemDetails)))]
pub(crate) async fn delete_project(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    admin(&state, &req).await?;
    let project = project(&state, &path).await?;
    state.history.store().delete_project(project.id).await?;
    tracing::warn!(audit = "delete-project", project = %project.name, "project deleted");
    Ok(HttpResponse::NoContent().finish())
}
