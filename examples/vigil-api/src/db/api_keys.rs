//! Listing and issuing API keys, for the console. (Looking a key up by its hash, deleting it
//! and changing its quota are in `db.rs`, beside the other calls the API itself makes.)

use rusqlite::params;

use super::{API_KEY_COLUMNS, ApiKeyRow, Db, DbResult, RawKeyRow, err};

/// Most keys the console lists: a page, not an export.
pub const MAX_LISTED_KEYS: usize = 500;

impl Db {
    /// Every API key (at most [`MAX_LISTED_KEYS`]), by id. Only rows: the raw keys are not
    /// stored anywhere.
    pub async fn list_api_keys(&self) -> DbResult<Vec<ApiKeyRow>> {
        self.with(|c| {
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY id LIMIT ?1"
                ))
                .map_err(err)?;
            let rows = stmt
                .query_map(
                    [i64::try_from(MAX_LISTED_KEYS).map_err(err)?],
                    RawKeyRow::read,
                )
                .map_err(err)?;
            rows.map(|row| row.map_err(err)?.decode()).collect()
        })
        .await
    }

    /// Stores a new key as `row` and the hash of its raw value. False (nothing stored) when
    /// the id is taken.
    pub async fn insert_api_key(&self, row: ApiKeyRow, key_hash: String) -> DbResult<bool> {
        let rate_limit = i64::try_from(row.rate_limit).map_err(err)?;
        self.with(move |c| {
            let inserted = c
                .execute(
                    "INSERT INTO api_keys (id, key_hash, user_id, organization_id, permissions, rate_limit, valid_until)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO NOTHING",
                    params![
                        row.id,
                        key_hash,
                        row.user_id,
                        row.organization_id,
                        serde_json::to_string(&row.permissions).map_err(err)?,
                        rate_limit,
                        row.valid_until
                    ],
                )
                .map_err(err)?;
            Ok(inserted == 1)
        })
        .await
    }
}
