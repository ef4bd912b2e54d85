//! The API-key cache's source of truth: the `api_keys` table.

use tower_vigil_apikey::{ApiKeyData, KeyStore, StoreError, ValidUntil};

use crate::db::Db;

impl KeyStore for Db {
    type Extra = ();

    async fn lookup(&self, key_hash: &str) -> Result<Option<ApiKeyData>, StoreError> {
        let row = self
            .api_key_by_hash(key_hash.to_owned())
            .await
            .map_err(StoreError::new)?;
        Ok(row.map(|row| {
            let mut data = ApiKeyData::new(row.id, row.user_id)
                .organization(row.organization_id)
                .rate_limit(row.rate_limit);
            for p in row.permissions {
                data = data.permission(p);
            }
            if let Some(secs) = row.valid_until {
                data = data.valid_until(ValidUntil::from_unix_seconds(secs));
            }
            data
        }))
    }
}
