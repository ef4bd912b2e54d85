//! Issue 12, item 20: a login's Argon2 verification never holds the database connection, so
//! logins neither wait for each other's verification nor delay an API-key lookup.
//!
//! Deterministic: a hook holds every verification in progress until the test opens a gate; the
//! timeouts only turn a wait that would never end (the old code) into a failure.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};
use tower_vigil_core::secret::SecretHasher;

use super::Db;
use crate::config::Settings;
use crate::password::Passwords;

/// Long enough for any machine: passing never waits for it.
const NEVER: Duration = Duration::from_secs(30);

/// Closed until opened; [`wait`](Gate::wait) blocks the calling thread while it is closed.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn wait(&self) {
        let mut open = self.open.lock();
        self.opened.wait_while(&mut open, |open| !*open);
    }

    fn open(&self) {
        *self.open.lock() = true;
        self.opened.notify_all();
    }
}

struct OpenOnDrop(Arc<Gate>);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.open();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_key_lookups_do_not_wait_for_logins_being_verified() {
    const LOGINS: usize = 4;
    let gate = Arc::new(Gate::default());
    // Opened when the test ends, failing or not: a verification still held would keep the
    // runtime from shutting down.
    let _open_at_the_end = OpenOnDrop(gate.clone());
    let (entered_tx, mut entered) = tokio::sync::mpsc::unbounded_channel();
    let passwords = Passwords::new(LOGINS).with_hook({
        let gate = gate.clone();
        move || {
            let _ = entered_tx.send(());
            gate.wait();
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open_with(&dir.path().join("db.sqlite"), passwords).unwrap();
    let settings = Settings::from_lookup(|_| None).unwrap();
    let hasher = SecretHasher::sha256();
    assert!(db.seed_if_empty(&settings.config, &hasher).unwrap());
    let alice = settings
        .config
        .users
        .iter()
        .find(|u| u.username == "alice")
        .unwrap();
    let attempts = [
        (alice.username.clone(), alice.password.clone()),
        (alice.username.clone(), "wrong".to_owned()),
        ("nobody".to_owned(), "whatever".to_owned()),
        (alice.username.clone(), alice.password.clone()),
    ];
    let logins: Vec<_> = attempts
        .into_iter()
        .map(|(user, pw)| {
            tokio::spawn({
                let db = db.clone();
                async move { db.verify_login(user, pw).await }
            })
        })
        .collect();

    // Every login is in its verification at the same time: none holds the connection.
    for n in 0..LOGINS {
        tokio::time::timeout(NEVER, entered.recv())
            .await
            .unwrap_or_else(|_| panic!("only {n} of {LOGINS} logins reached verification"));
    }
    // Meanwhile the database answers at once.
    let demo = &settings.config.api_keys[0];
    let hash = hasher.hash_hex(demo.key.as_bytes());
    let row = tokio::time::timeout(NEVER, db.api_key_by_hash(hash))
        .await
        .expect("an API-key lookup waited for the logins' password verification")
        .unwrap()
        .expect("the demo key");
    assert_eq!(row.id, demo.id);
    let user = tokio::time::timeout(NEVER, db.user(alice.user_id.clone()))
        .await
        .expect("a user lookup waited for the logins' password verification")
        .unwrap();
    assert_eq!(user.map(|u| u.username).as_deref(), Some("alice"));

    gate.open();
    let mut outcomes = Vec::new();
    for login in logins {
        outcomes.push(login.await.unwrap().unwrap().map(|u| u.user_id));
    }
    let ok = Some(alice.user_id.clone());
    assert_eq!(outcomes, [ok.clone(), None, None, ok]);
}
