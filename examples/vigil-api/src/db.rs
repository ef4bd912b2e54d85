//! The application's database: users, API keys and analysis jobs (who submitted each, in
//! `db/jobs.rs`) in SQLite.
//!
//! Created if missing and seeded from the configuration when empty. Passwords are stored as
//! Argon2id PHC strings and API keys as SHA-256 hex: neither appears in plain text. Calls run on
//! tokio's blocking pool, so a slow disk never stalls the async workers, and hold the one
//! connection's lock only for their SQL: a login reads the user's hash under it and verifies
//! the password after releasing it ([`Passwords`]), so no login delays an API-key lookup.

use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;
use rusqlite::{Connection, OptionalExtension, params};
use tower_vigil_core::secret::SecretHasher;

use crate::config::Config;
use crate::password::{Passwords, hash_password};
use crate::time::parse_rfc3339;

/// A user row.
#[derive(Debug, Clone)]
pub struct User {
    pub user_id: String,
    pub username: String,
    pub permissions: Vec<String>,
}

/// An API key row (the key itself is only ever known by its hash).
#[derive(Debug, Clone)]
pub struct ApiKeyRow {
    pub id: String,
    pub user_id: String,
    pub organization_id: String,
    pub permissions: Vec<String>,
    pub rate_limit: u64,
    /// Unix seconds.
    pub valid_until: Option<i64>,
}

/// The columns [`RawKeyRow::read`] reads, in its order.
const API_KEY_COLUMNS: &str = "id, user_id, organization_id, permissions, rate_limit, valid_until";

/// An `api_keys` row as SQLite gives it: permissions still JSON, the quota still signed.
struct RawKeyRow(String, String, String, String, i64, Option<i64>);

impl RawKeyRow {
    /// Reads [`API_KEY_COLUMNS`] from `r`.
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self(
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    }

    fn decode(self) -> DbResult<ApiKeyRow> {
        let Self(id, user_id, organization_id, perms, rate_limit, valid_until) = self;
        Ok(ApiKeyRow {
            id,
            user_id,
            organization_id,
            permissions: serde_json::from_str(&perms).map_err(err)?,
            rate_limit: u64::try_from(rate_limit).unwrap_or(0),
            valid_until,
        })
    }
}

/// A handle on the database. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
    passwords: Passwords,
}

/// A database error, as text for the logs (never for the client).
pub type DbResult<T> = Result<T, String>;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl Db {
    /// Opens (creating if needed) the database at `path`.
    ///
    /// Instances started together on one file can find it busy while another switches it to
    /// WAL, and SQLite reports that without consulting the busy timeout: such an open is
    /// retried for up to five seconds.
    pub fn open(path: &Path) -> DbResult<Self> {
        Self::open_with(path, Passwords::default())
    }

    /// As [`open`](Self::open), verifying passwords with `passwords`.
    pub fn open_with(path: &Path, passwords: Passwords) -> DbResult<Self> {
        let conn = retry_while_busy(|| {
            let conn = Connection::open(path)?;
            conn.execute_batch(
                // The busy timeout first: another instance opening the same file at the same time
                // holds the lock while it switches to WAL or creates the tables.
                "PRAGMA busy_timeout = 5000;
                 PRAGMA journal_mode = WAL;
                 CREATE TABLE IF NOT EXISTS users (
                     user_id TEXT PRIMARY KEY,
                     username TEXT NOT NULL UNIQUE,
                     password_hash TEXT NOT NULL,
                     permissions TEXT NOT NULL,
                     created_at INTEGER NOT NULL
                 );
                 CREATE TABLE IF NOT EXISTS api_keys (
                     id TEXT PRIMARY KEY,
                     key_hash TEXT NOT NULL UNIQUE,
                     user_id TEXT NOT NULL,
                     organization_id TEXT NOT NULL,
                     permissions TEXT NOT NULL,
                     rate_limit INTEGER NOT NULL,
                     valid_until INTEGER
                 );
                 CREATE TABLE IF NOT EXISTS jobs (
                     id TEXT PRIMARY KEY,
                     owner TEXT NOT NULL,
                     created_at INTEGER NOT NULL
                 );",
            )?;
            Ok(conn)
        })
        .map_err(err)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            passwords,
        })
    }

    /// Seeds users and keys from `config` when the database holds none.
    ///
    /// In one immediate transaction: instances started together on one database file would
    /// otherwise all see it empty and all but the first fail on the unique constraints.
    pub fn seed_if_empty(&self, config: &Config, hasher: &SecretHasher) -> DbResult<bool> {
        let mut guard = self.conn.lock();
        let conn = guard
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        let users: i64 = conn
            .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))
            .map_err(err)?;
        let keys: i64 = conn
            .query_row("SELECT COUNT(*) FROM api_keys", [], |r| r.get(0))
            .map_err(err)?;
        if users > 0 || keys > 0 {
            return Ok(false);
        }
        let now = unix_now();
        for u in &config.users {
            conn.execute(
                "INSERT INTO users (user_id, username, password_hash, permissions, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    u.user_id,
                    u.username,
                    hash_password(&u.password)?,
                    serde_json::to_string(&u.permissions).map_err(err)?,
                    now
                ],
            )
            .map_err(err)?;
        }
        for k in &config.api_keys {
            let valid_until = k
                .valid_until
                .as_deref()
                .map(parse_rfc3339)
                .transpose()
                .map_err(|e| format!("api key {}: valid_until: {e}", k.id))?;
            conn.execute(
                "INSERT INTO api_keys (id, key_hash, user_id, organization_id, permissions, rate_limit, valid_until)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    k.id,
                    hasher.hash_hex(k.key.as_bytes()),
                    k.user_id,
                    k.organization_id,
                    serde_json::to_string(&k.permissions).map_err(err)?,
                    i64::try_from(k.rate_limit).map_err(err)?,
                    valid_until
                ],
            )
            .map_err(err)?;
        }
        conn.commit().map_err(err)?;
        Ok(true)
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> DbResult<T> + Send + 'static,
    ) -> DbResult<T> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || f(&conn.lock()))
            .await
            .map_err(err)?
    }

    /// The API key whose hash is `key_hash`.
    pub async fn api_key_by_hash(&self, key_hash: String) -> DbResult<Option<ApiKeyRow>> {
        self.with(move |c| {
            c.query_row(
                &format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = ?1"),
                [key_hash],
                RawKeyRow::read,
            )
            .optional()
            .map_err(err)?
            .map(RawKeyRow::decode)
            .transpose()
        })
        .await
    }

    /// Deletes the API key `id`; returns its hash when it existed.
    pub async fn delete_api_key(&self, id: String) -> DbResult<Option<String>> {
        self.with(move |c| {
            let hash: Option<String> = c
                .query_row("SELECT key_hash FROM api_keys WHERE id = ?1", [&id], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(err)?;
            if hash.is_some() {
                c.execute("DELETE FROM api_keys WHERE id = ?1", [&id])
                    .map_err(err)?;
            }
            Ok(hash)
        })
        .await
    }

    /// Sets the `rate_limit` of the API key `id`; returns its hash when it exists.
    pub async fn set_api_key_rate_limit(
        &self,
        id: String,
        rate_limit: u64,
    ) -> DbResult<Option<String>> {
        let rate_limit = i64::try_from(rate_limit).map_err(err)?;
        self.with(move |c| {
            c.query_row(
                "UPDATE api_keys SET rate_limit = ?2 WHERE id = ?1 RETURNING key_hash",
                params![id, rate_limit],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)
        })
        .await
    }

    /// The user `username` if `password` is theirs. Only the read of the user's row holds the
    /// connection; Argon2 runs after it is released. An unknown user costs the same
    /// verification as a known one, so timing does not reveal which usernames exist.
    pub async fn verify_login(&self, username: String, password: String) -> DbResult<Option<User>> {
        let row = self
            .with(move |c| {
                c.query_row(
                    "SELECT user_id, username, password_hash, permissions FROM users WHERE username = ?1",
                    [&username],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                        ))
                    },
                )
                .optional()
                .map_err(err)
            })
            .await?;
        let (user, phc) = match row {
            Some((user_id, username, phc, perms)) => {
                let user = User {
                    user_id,
                    username,
                    permissions: serde_json::from_str(&perms).map_err(err)?,
                };
                (Some(user), Some(phc))
            }
            None => (None, None),
        };
        let verified = self.passwords.verify(password, phc).await?;
        Ok(user.filter(|_| verified))
    }

    /// The user with id `user_id`.
    pub async fn user(&self, user_id: String) -> DbResult<Option<User>> {
        self.with(move |c| {
            c.query_row(
                "SELECT user_id, username, permissions FROM users WHERE user_id = ?1",
                [&user_id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()
            .map_err(err)?
            .map(|(user_id, username, perms)| {
                Ok(User {
                    user_id,
                    username,
                    permissions: serde_json::from_str(&perms).map_err(err)?,
                })
            })
            .transpose()
        })
        .await
    }
}

/// Runs `f` again while SQLite answers "database is locked", for up to five seconds.
fn retry_while_busy<T>(mut f: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match f() {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

mod api_keys;
mod jobs;
#[cfg(test)]
mod lock_tests;
