//! `vigil apikey invalidate --key RAW | --hash HEX`: `ApiKeyCache::invalidate_*`, which bumps
//! the key's revocation generation, deletes its L2 record and publishes on the invalidation
//! channel, so every running instance evicts it from its in-process cache.

use std::process::ExitCode;

use clap::{ArgGroup, Args, Subcommand};
use serde_json::json;
use tower_vigil_apikey::{ApiKeyCache, StaticKeyStore};
use tower_vigil_core::secret::SecretHasher;

use crate::backend::Target;
use crate::{Failure, Outcome, output};

#[derive(Debug, Subcommand)]
pub(crate) enum ApikeyCommand {
    /// Revoke a key in every instance's cache (delete it from your key store first).
    Invalidate(InvalidateArgs),
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["key", "hash"])))]
pub(crate) struct InvalidateArgs {
    /// The raw key (hashed here the way the services hash it; never sent anywhere).
    #[arg(long, value_name = "RAW")]
    key: Option<String>,
    /// The key's hash: 64 hex digits, as the services store it.
    #[arg(long, value_name = "HEX")]
    hash: Option<String>,
    /// The services' HMAC pepper, when they hash keys with `SecretHasher::hmac_sha256`
    /// (without it: plain SHA-256, the flagship's default) [env: VIGIL_APIKEY_PEPPER].
    #[arg(long)]
    pepper: Option<String>,
}

pub(crate) async fn run(target: &Target, command: ApikeyCommand, json: bool) -> Outcome {
    let ApikeyCommand::Invalidate(a) = command;
    let pepper = a
        .pepper
        .clone()
        .or_else(|| std::env::var("VIGIL_APIKEY_PEPPER").ok())
        .filter(|p| !p.is_empty());
    let hasher = match pepper {
        Some(p) => SecretHasher::hmac_sha256(p.into_bytes())
            .map_err(|e| Failure::Usage(format!("--pepper: {e}")))?,
        None => SecretHasher::sha256(),
    };
    let hash = match (&a.key, &a.hash) {
        (Some(raw), _) => hasher.hash_hex(raw.as_bytes()),
        (None, Some(h)) => {
            let h = h.trim().to_ascii_lowercase();
            if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Failure::Usage(
                    "--hash: expected 64 hex digits (a SHA-256 or HMAC-SHA256 hex digest)".into(),
                ));
            }
            h
        }
        (None, None) => unreachable!("clap requires --key or --hash"),
    };
    let backend = target.connect().await?;
    // A store that knows no key: invalidation never asks the store.
    let cache = ApiKeyCache::builder(backend, StaticKeyStore::<()>::new())
        .hasher(hasher)
        .build()
        .map_err(|e| Failure::Usage(e.to_string()))?;
    cache
        .invalidate_hash(&hash)
        .await
        .map_err(Failure::backend)?;
    if json {
        output::json(&json!({ "invalidated": true, "hash": hash }));
    } else {
        println!("invalidated key {hash} on every instance");
    }
    Ok(ExitCode::SUCCESS)
}
