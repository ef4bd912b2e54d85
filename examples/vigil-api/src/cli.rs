//! The command line: `--config`, `--addr` and `--db` over their environment variables,
//! `--help` and `--version`. An unknown flag or a stray argument is an error with the usage
//! (exit status 2), never ignored.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use vigil_api::config::Overrides;

/// The tower-vigil flagship: an axum API guarded by API keys, per-key rate limits,
/// idempotency keys and server-side sessions, in memory or over Redis.
#[derive(Debug, Parser)]
#[command(
    name = "vigil-api",
    version,
    after_help = "\
Environment (a flag wins over its variable):
  VIGIL_CONFIG           the configuration file (default: the demo vigil.toml, compiled in)
  VIGIL_ADDR             the address to listen on (default: 127.0.0.1:8080)
  VIGIL_DB               the SQLite database file (default: vigil-api.db)
  REDIS_URL              a Redis server as the backend
  REDIS_CLUSTER_URLS     a Redis Cluster (comma-separated seed URLs)
  REDIS_SENTINEL_URLS    Redis through its sentinels, with REDIS_SENTINEL_MASTER
  NATS_URL               NATS JetStream for the analysis jobs
  VIGIL_TRUSTED_PROXIES  proxies whose forwarding header names the client (comma-separated)
  RUST_LOG               the log filter (default: info)"
)]
pub struct Cli {
    /// The configuration file (TOML); overrides VIGIL_CONFIG.
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// The address to listen on, e.g. 0.0.0.0:8080 (port 0: any free port); overrides
    /// VIGIL_ADDR.
    #[arg(long, value_name = "HOST:PORT")]
    addr: Option<SocketAddr>,
    /// The SQLite database file, created and seeded from the configuration when empty;
    /// overrides VIGIL_DB.
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
}

impl Cli {
    /// What the flags set.
    pub fn overrides(self) -> Overrides {
        Overrides {
            config: self.config,
            addr: self.addr,
            db: self.db,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_become_overrides() {
        let cli = Cli::try_parse_from([
            "vigil-api",
            "--config",
            "x.toml",
            "--addr",
            "127.0.0.1:0",
            "--db=y.db",
        ])
        .unwrap();
        let o = cli.overrides();
        assert_eq!(o.config, Some(PathBuf::from("x.toml")));
        assert_eq!(o.addr, Some("127.0.0.1:0".parse().unwrap()));
        assert_eq!(o.db, Some(PathBuf::from("y.db")));
        assert_eq!(
            Cli::try_parse_from(["vigil-api"]).unwrap().overrides(),
            Overrides::default()
        );
    }

    #[test]
    fn unknown_flags_stray_arguments_and_bad_addresses_are_errors() {
        for args in [
            &["vigil-api", "--nope"][..],
            &["vigil-api", "serve"],
            &["vigil-api", "--addr", "localhost"],
            &["vigil-api", "--config"],
        ] {
            let err = Cli::try_parse_from(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}: {err}");
        }
    }
}
