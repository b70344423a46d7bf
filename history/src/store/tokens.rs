//! Access tokens: an admin token (creates projects and tokens), per-project upload tokens
//! (write builds and reports) and read tokens (read a private project). Only a SHA-256
//! digest of each token is stored; the token itself is shown once, when it is made.

use sha2::{Digest, Sha256};
use sqlx::Row;
use subtle::ConstantTimeEq;

use super::{Error, Result, Store, now_ms};

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// Everything, on every project.
    Admin,
    /// Write builds and reports of one project (and read it).
    Upload,
    /// Read one project.
    Read,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            TokenKind::Admin => "admin",
            TokenKind::Upload => "upload",
            TokenKind::Read => "read",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(TokenKind::Admin),
            "upload" => Some(TokenKind::Upload),
            "read" => Some(TokenKind::Read),
            _ => None,
        }
    }
}

/// A token as found by [`Store::check_token`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenGrant {
    /// Database id (for revoking).
    pub id: i64,
    /// Its kind.
    pub kind: TokenKind,
    /// Its project (`None` for the admin token).
    pub project_id: Option<i64>,
}

/// The stored form of a token: SHA-256, hex.
pub fn token_digest(token: &str) -> String {
    super::hex(&Sha256::digest(token.as_bytes()))
}

/// A new random token: `cim_` and 32 random bytes in hex.
///
/// # Errors
/// The operating system has no randomness to give.
pub fn new_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::Invalid(format!("no randomness: {e}")))?;
    Ok(format!("cim_{}", super::hex(&bytes)))
}

impl Store {
    /// Stores the digest of `token` (made by [`new_token`] or given by the operator) as a
    /// token of `kind` for `project_id` (`None` for admin). Storing the same token again is
    /// a no-op.
    ///
    /// # Errors
    /// The database fails.
    pub async fn add_token(
        &self,
        token: &str,
        kind: TokenKind,
        project_id: Option<i64>,
    ) -> Result<()> {
        let _guard = self.write_lock().await;
        sqlx::query(
            "INSERT INTO tokens (project_id, kind, digest, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (digest) DO NOTHING",
        )
        .bind(project_id)
        .bind(kind.as_str())
        .bind(token_digest(token))
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Makes `token` (the operator's, from the settings) the one admin token: stores it if
    /// new and revokes every other live admin token, so changing the setting retires the
    /// earlier ones. Returns (how many were revoked, whether `token` itself was revoked
    /// before: it then stays revoked and does not work).
    ///
    /// # Errors
    /// The database fails.
    pub async fn set_admin_token(&self, token: &str) -> Result<(u64, bool)> {
        let _guard = self.write_lock().await;
        let digest = token_digest(token);
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO tokens (project_id, kind, digest, created_at) VALUES (NULL, 'admin', $1, $2) \
             ON CONFLICT (digest) DO NOTHING",
        )
        .bind(&digest)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        let revoked = sqlx::query(
            "UPDATE tokens SET revoked_at = $2 WHERE kind = 'admin' AND digest <> $1 \
             AND revoked_at IS NULL",
        )
        .bind(&digest)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let dead: Option<i64> =
            sqlx::query_scalar("SELECT revoked_at FROM tokens WHERE digest = $1")
                .bind(&digest)
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok((revoked, dead.is_some()))
    }

    /// Whether any admin token exists.
    ///
    /// # Errors
    /// The database fails.
    pub async fn has_admin_token(&self) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM tokens WHERE kind = 'admin' AND revoked_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// The grant of a presented token, if it is a live one. The stored digest is compared
    /// in constant time.
    ///
    /// # Errors
    /// The database fails.
    pub async fn check_token(&self, token: &str) -> Result<Option<TokenGrant>> {
        let digest = token_digest(token);
        let row = sqlx::query(
            "SELECT id, kind, project_id, digest FROM tokens WHERE digest = $1 AND revoked_at IS NULL",
        )
        .bind(&digest)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let stored: String = row.try_get(3)?;
        if !bool::from(stored.as_bytes().ct_eq(digest.as_bytes())) {
            return Ok(None);
        }
        let kind: String = row.try_get(1)?;
        Ok(TokenKind::parse(&kind).map(|kind| TokenGrant {
            id: row.try_get(0).unwrap_or_default(),
            kind,
            project_id: row.try_get(2).ok().flatten(),
        }))
    }

    /// Revokes a token (it stops working at once, on every instance).
    ///
    /// # Errors
    /// The database fails, or no such live token.
    pub async fn revoke_token(&self, token: &str) -> Result<()> {
        let _guard = self.write_lock().await;
        let done = sqlx::query(
            "UPDATE tokens SET revoked_at = $2 WHERE digest = $1 AND revoked_at IS NULL",
        )
        .bind(token_digest(token))
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound("no such live token".into()));
        }
        Ok(())
    }

    /// Every project: (id, name), by name.
    ///
    /// # Errors
    /// The database fails.
    pub async fn projects(&self) -> Result<Vec<super::Project>> {
        let rows = sqlx::query("SELECT id, name, public_read FROM projects ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(super::Project {
                    id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    public_read: r.try_get::<Option<i64>, _>(2)?.map(|v| v != 0),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digest a stored token is found by: SHA-256 in lowercase hex (FIPS 180-2's "abc"
    /// vector), so tokens stored by earlier versions keep working.
    #[test]
    fn a_token_digest_is_its_sha256_in_hex() {
        assert_eq!(
            token_digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(crate::store::hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        let token = new_token().unwrap();
        assert!(
            token.len() == 4 + 64 && token.starts_with("cim_"),
            "{token}"
        );
        assert!(
            token[4..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }
}
