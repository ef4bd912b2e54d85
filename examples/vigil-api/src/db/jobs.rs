//! The `jobs` table: which principal submitted each analysis job. The outcome itself lives in
//! the backend's work ledger, written by the worker; this row is what lets
//! `GET /v1/analyze/jobs/{id}` answer only the job's owner, and tell an unknown id (404) from
//! a known one no worker has picked up yet (pending).

use rusqlite::{OptionalExtension, params};

use super::{Db, DbResult, err, unix_now};

impl Db {
    /// Records job `id` as `owner`'s.
    pub async fn insert_job(&self, id: String, owner: String) -> DbResult<()> {
        self.with(move |c| {
            c.execute(
                "INSERT INTO jobs (id, owner, created_at) VALUES (?1, ?2, ?3)",
                params![id, owner, unix_now()],
            )
            .map_err(err)?;
            Ok(())
        })
        .await
    }

    /// The owner of job `id`, if there is such a job.
    pub async fn job_owner(&self, id: String) -> DbResult<Option<String>> {
        self.with(move |c| {
            c.query_row("SELECT owner FROM jobs WHERE id = ?1", [id], |r| r.get(0))
                .optional()
                .map_err(err)
        })
        .await
    }

    /// Forgets job `id` (its message never reached the stream).
    pub async fn delete_job(&self, id: String) -> DbResult<()> {
        self.with(move |c| {
            c.execute("DELETE FROM jobs WHERE id = ?1", [id])
                .map_err(err)?;
            Ok(())
        })
        .await
    }
}
