//! Where a job's effect lands: SQLite, written under a fencing token.
//!
//! The worker records a job's result and folds it into its owner's running totals
//! (`owner_stats`) while holding the owner's [`Lock`](tower_vigil_core::Lock). A lock lease can
//! lapse under a holder that is paused (a GC pause, `SIGSTOP`, a slow disk) while another
//! worker takes the lock and writes; the paused one, resumed, would then write on top. So the
//! lock's fencing token travels with the write and the store refuses an older one:
//!
//! ```sql
//! INSERT INTO fences(resource, fence) VALUES (?1, ?2)
//!   ON CONFLICT(resource) DO UPDATE SET fence = excluded.fence WHERE fences.fence < excluded.fence
//! ```
//!
//! changes nothing for a token not newer than the last one written, and the whole write is
//! refused ([`Recorded::StaleFence`]). In the same transaction a job already recorded (a
//! second run after a worker died between this write and completing its ledger entry) is
//! left alone ([`Recorded::AlreadyRecorded`]): the effect happens once either way.

use std::path::Path;
use std::sync::Arc;

use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use vigil_api::jobs::{AnalyzeJob, JobResult};

/// What [`Sink::record`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The result and its effect on the owner's totals were written.
    Applied,
    /// The job's result was there already: nothing written.
    AlreadyRecorded,
    /// A newer fencing token had written the resource: nothing written.
    StaleFence,
}

/// The results database. Cheap to clone; SQLite calls run on the blocking pool (the mutex is
/// only ever held there).
#[derive(Clone)]
pub struct Sink {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink").finish_non_exhaustive()
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS fences (
    resource TEXT PRIMARY KEY,
    fence INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS job_results (
    job_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    result TEXT NOT NULL,
    fence INTEGER NOT NULL,
    worker TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS owner_stats (
    owner TEXT PRIMARY KEY,
    jobs INTEGER NOT NULL,
    blocked INTEGER NOT NULL
);
-- Every effect applied, append only: the exactly-once test counts these per job.
CREATE TABLE IF NOT EXISTS effects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    worker TEXT NOT NULL,
    fence INTEGER NOT NULL
);
-- Every delivery the worker handled and what it did with it.
CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    worker TEXT NOT NULL,
    delivered INTEGER NOT NULL,
    outcome TEXT NOT NULL
);
";

impl Sink {
    /// Opens (creating if needed) the database at `path`, shared by the workers of one
    /// machine: WAL, and a busy timeout so writers queue instead of failing.
    ///
    /// # Errors
    /// When the file cannot be opened or the schema not created.
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Records `result` of `job` and its effect on the owner's totals, if `fence` is newer
    /// than every token that wrote `resource` before and the job is not recorded yet.
    ///
    /// # Errors
    /// SQLite's.
    pub async fn record(
        &self,
        resource: String,
        fence: u64,
        job: AnalyzeJob,
        result: JobResult,
        worker: String,
    ) -> rusqlite::Result<Recorded> {
        self.blocking(move |conn| {
            let fence = i64::try_from(fence).unwrap_or(i64::MAX);
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let newer = tx.execute(
                "INSERT INTO fences(resource, fence) VALUES (?1, ?2)
                 ON CONFLICT(resource) DO UPDATE SET fence = excluded.fence
                 WHERE fences.fence < excluded.fence",
                params![resource, fence],
            )?;
            if newer == 0 {
                return Ok(Recorded::StaleFence);
            }
            let known: Option<i64> = tx
                .query_row(
                    "SELECT 1 FROM job_results WHERE job_id = ?1",
                    params![job.id],
                    |r| r.get(0),
                )
                .optional()?;
            if known.is_some() {
                tx.commit()?;
                return Ok(Recorded::AlreadyRecorded);
            }
            let stored = String::from_utf8_lossy(&result.to_bytes()).into_owned();
            tx.execute(
                "INSERT INTO job_results(job_id, owner, result, fence, worker)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![job.id, job.owner, stored, fence, worker],
            )?;
            tx.execute(
                "INSERT INTO effects(job_id, worker, fence) VALUES (?1, ?2, ?3)",
                params![job.id, worker, fence],
            )?;
            tx.execute(
                "INSERT INTO owner_stats(owner, jobs, blocked) VALUES (?1, 1, ?2)
                 ON CONFLICT(owner) DO UPDATE SET jobs = jobs + 1, blocked = blocked + ?2",
                params![job.owner, i64::from(result.verdict == "BLOCKED")],
            )?;
            tx.commit()?;
            Ok(Recorded::Applied)
        })
        .await
    }

    /// Logs one delivery and what became of it (`ran`, `replayed`, `in_flight`, ...).
    ///
    /// # Errors
    /// SQLite's.
    pub async fn delivery(
        &self,
        job_id: String,
        worker: String,
        delivered: i64,
        outcome: &'static str,
    ) -> rusqlite::Result<()> {
        self.blocking(move |conn| {
            conn.execute(
                "INSERT INTO deliveries(job_id, worker, delivered, outcome) VALUES (?1, ?2, ?3, ?4)",
                params![job_id, worker, delivered, outcome],
            )
            .map(drop)
        })
        .await
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> rusqlite::Result<T> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut conn)
        })
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }
}
