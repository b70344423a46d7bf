//! The quality trend's window inputs, kept across restarts.
//!
//! Scoring a quality window reads every raw result of its builds; a year of weekly windows
//! took 24 s on the first chart after a start. Each window's score inputs are kept here
//! under its key (project, branch, window length, time zone, first day) with a fingerprint
//! of its builds and their history sequences: a window whose builds have not changed since
//! is not scored again, by this process or any other over the same database.

use std::collections::HashMap;

use sqlx::Row;

use super::{Result, Store};

impl Store {
    /// The project's kept window inputs: window key → (fingerprint, inputs as JSON).
    ///
    /// # Errors
    /// The database fails.
    pub async fn quality_windows(&self, project_id: i64) -> Result<HashMap<String, (i64, String)>> {
        let rows = sqlx::query(
            "SELECT window_key, fingerprint, inputs FROM quality_windows WHERE project_id = $1",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?))))
            .collect()
    }

    /// Keeps `(window key, fingerprint, inputs as JSON)` for each window, replacing what was
    /// kept under the same keys, in one transaction.
    ///
    /// # Errors
    /// The database fails.
    pub async fn keep_quality_windows(
        &self,
        project_id: i64,
        windows: &[(String, i64, String)],
    ) -> Result<()> {
        if windows.is_empty() {
            return Ok(());
        }
        let _guard = self.write_lock().await;
        let mut tx = self.pool.begin().await?;
        for (key, fingerprint, inputs) in windows {
            sqlx::query(
                "INSERT INTO quality_windows (project_id, window_key, fingerprint, inputs) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (project_id, window_key) \
                 DO UPDATE SET fingerprint = excluded.fingerprint, inputs = excluded.inputs",
            )
            .bind(project_id)
            .bind(key)
            .bind(fingerprint)
            .bind(inputs)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
