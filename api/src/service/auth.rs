//! Who may do what. Tokens come as `Authorization: Bearer <token>` (or `X-Cimetrics-Token`).
//! - admin: everything;
//! - upload (per project): write that project's builds and reports, and read it;
//! - read (per project): read that project when reading is not public.
//!
//! A missing or unknown token is 401; a valid token for another project, or a read token
//! on a writing route, is 403.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{Problem, Shared};
use crate::store::{Project, TokenGrant, TokenKind, new_token};

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
        Some(token) => match state.store.check_token(token).await? {
            Some(g) => Ok(Some(g)),
            None => Err(Problem::unauthorized("the token is unknown or revoked")),
        },
    }
}

/// The project named in the path, or 404.
pub(crate) async fn project(state: &Shared, name: &str) -> Result<Project, Problem> {
    state
        .store
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
) -> Result<(), Problem> {
    match grant(state, req).await? {
        None => Err(Problem::unauthorized(
            "uploads need a token: Authorization: Bearer <upload token>",
        )),
        Some(g) if g.kind == TokenKind::Admin => Ok(()),
        Some(g) if g.kind == TokenKind::Upload && g.project_id == Some(project.id) => Ok(()),
        Some(g) if g.kind == TokenKind::Upload => Err(Problem::forbidden(format!(
            "this upload token belongs to another project, not {:?}",
            project.name
        ))),
        Some(_) => Err(Problem::forbidden("a read token cannot write")),
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewProject {
    name: String,
}

/// `POST /api/v1/projects {"name": ...}` (admin): creates the project (or finds it) and a
/// new upload token for it, shown once.
pub(crate) async fn create_project(
    state: Shared,
    req: HttpRequest,
    body: web::Json<NewProject>,
) -> Result<HttpResponse, Problem> {
    admin(&state, &req).await?;
    let project = state.store.create_project(&body.name).await?;
    let token = new_token()?;
    state
        .store
        .add_token(&token, TokenKind::Upload, Some(project.id))
        .await?;
    Ok(HttpResponse::Created().json(serde_json::json!({
        "project": project.name,
        "id": project.id,
        "upload_token": token,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewToken {
    kind: String,
}

/// `POST /api/v1/projects/{project}/tokens {"kind": "upload"|"read"}` (admin).
pub(crate) async fn create_token(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<NewToken>,
) -> Result<HttpResponse, Problem> {
    admin(&state, &req).await?;
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
        .store
        .add_token(&token, kind, Some(project.id))
        .await?;
    Ok(HttpResponse::Created().json(serde_json::json!({
        "project": project.name,
        "kind": kind,
        "token": token,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProjectSettings {
    /// `true` public, `false` private (read tokens), `null` the server's default.
    public_read: Option<bool>,
}

/// `PUT /api/v1/projects/{project}/settings {"public_read": true|false|null}` (admin).
pub(crate) async fn project_settings(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<ProjectSettings>,
) -> Result<HttpResponse, Problem> {
    admin(&state, &req).await?;
    let project = project(&state, &path).await?;
    state
        .store
        .set_public_read(project.id, body.public_read)
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "project": project.name,
        "public_read": body.public_read.unwrap_or(state.settings.public_read),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Revoke {
    token: String,
}

/// `POST /api/v1/tokens/revoke {"token": ...}` (admin).
pub(crate) async fn revoke_token(
    state: Shared,
    req: HttpRequest,
    body: web::Json<Revoke>,
) -> Result<HttpResponse, Problem> {
    admin(&state, &req).await?;
    state.store.revoke_token(&body.token).await?;
    Ok(HttpResponse::NoContent().finish())
}
