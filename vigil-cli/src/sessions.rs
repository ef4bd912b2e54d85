//! `vigil sessions list|revoke USER`: `SessionAdmin`, over the user's session index (never a
//! scan).

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{ArgGroup, Args, Subcommand};
use serde_json::json;
use tower_vigil_session::SessionManagerLayer;

use crate::backend::Target;
use crate::{Failure, Outcome, output};

#[derive(Debug, Subcommand)]
pub(crate) enum SessionsCommand {
    /// The user's live sessions, oldest first.
    List {
        /// The user id the application set with `Session::set_user_id`.
        user: String,
    },
    /// Revoke one session of the user (`--session`, its id hash from `list`) or all of them.
    Revoke(RevokeArgs),
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["session", "all"])))]
pub(crate) struct RevokeArgs {
    /// The user id.
    user: String,
    /// The session's id hash (the `ID HASH` column of `list`).
    #[arg(long, value_name = "ID")]
    session: Option<String>,
    /// Every session of the user.
    #[arg(long)]
    all: bool,
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

pub(crate) async fn run(target: &Target, command: SessionsCommand, json: bool) -> Outcome {
    let backend = target.connect().await?;
    let admin = SessionManagerLayer::new(backend).admin();
    match command {
        SessionsCommand::List { user } => {
            let sessions = admin
                .list_user_sessions(&user)
                .await
                .map_err(Failure::backend)?;
            if json {
                let list: Vec<_> = sessions
                    .iter()
                    .map(|s| {
                        json!({
                            "idHash": s.id_hash,
                            "userId": s.user_id,
                            "createdAt": unix(s.created_at),
                            "lastActivity": unix(s.last_activity),
                            "expiresInMs": output::millis(s.expires_in),
                            "absoluteExpiry": s.absolute_expiry.map(unix),
                        })
                    })
                    .collect();
                output::json(&json!({ "user": user, "sessions": list }));
            } else if sessions.is_empty() {
                println!("{user:?} has no live sessions");
            } else {
                let now = SystemTime::now();
                let ago = |t: SystemTime| {
                    output::duration(now.duration_since(t).unwrap_or_default()) + " ago"
                };
                let rows: Vec<Vec<String>> = sessions
                    .iter()
                    .map(|s| {
                        vec![
                            s.id_hash.clone(),
                            ago(s.created_at),
                            ago(s.last_activity),
                            output::duration(s.expires_in),
                        ]
                    })
                    .collect();
                output::table(
                    &["ID HASH", "CREATED", "LAST ACTIVE", "IDLE EXPIRY IN"],
                    &rows,
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        SessionsCommand::Revoke(a) => {
            let (revoked, found) = match &a.session {
                Some(id) => {
                    let done = admin
                        .destroy_user_session(&a.user, id)
                        .await
                        .map_err(Failure::backend)?;
                    (u64::from(done), done)
                }
                None => {
                    let n = admin
                        .destroy_user_sessions(&a.user)
                        .await
                        .map_err(Failure::backend)?;
                    (n, true)
                }
            };
            if json {
                output::json(&json!({ "user": a.user, "revoked": revoked }));
            } else if found {
                println!("revoked {revoked} session(s) of {:?}", a.user);
            } else {
                println!("{:?} has no live session with that id hash", a.user);
            }
            // A named session that was not there is worth a non-zero status for scripts.
            Ok(if found {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}
