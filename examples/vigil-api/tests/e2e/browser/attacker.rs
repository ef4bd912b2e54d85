//! An attacker's site: pages on another origin that, once loaded, post a form to the console
//! with the victim's browser (the classic cross-site request forgery), with a made-up token.

use axum::Router;
use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::get;
use serde::Deserialize;
use tokio::net::TcpListener;

/// A running attacker site on `127.0.0.1`, stopped on drop.
pub struct Attacker {
    pub port: u16,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Deserialize)]
struct Target {
    /// The console URL the page's form posts to.
    action: String,
}

impl Attacker {
    /// Serves `GET /forge?action=URL`: a page whose form posts `csrf_token=forged` to `URL`
    /// as soon as it loads.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let port = listener.local_addr().expect("its address").port();
        let app = Router::new().route("/forge", get(forge)).with_state(());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { port, task }
    }

    /// The forging page at `host` (`127.0.0.1` is another site than `localhost`;
    /// `localhost` on this port is the same site as the console, another origin).
    pub fn page(&self, host: &str, action: &str) -> String {
        let mut url =
            reqwest::Url::parse(&format!("http://{host}:{}/forge", self.port)).expect("a URL");
        url.query_pairs_mut().append_pair("action", action);
        url.to_string()
    }
}

impl Drop for Attacker {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forge(State(()): State<()>, Query(Target { action }): Query<Target>) -> Html<String> {
    let action = action.replace('"', "&quot;");
    Html(format!(
        r#"<!doctype html><title>win a prize</title>
<form method="post" action="{action}">
<input type="hidden" name="csrf_token" value="forged">
<input type="hidden" name="rate_limit" value="1">
</form>
<script>document.forms[0].submit()</script>"#
    ))
}
