//! `chromedriver` on a free loopback port, and headless Chromium sessions through it: each
//! [`Browser`] is its own profile (its own cookies), like a separate device.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// How long a page may take to show what a step waits for.
const STEP_LIMIT: Duration = Duration::from_secs(15);

/// Where the suite saves its screenshots.
pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-screenshots")
}

/// A running `chromedriver`; killed on drop.
pub struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    /// Starts `chromedriver` (Debian's `chromium-driver`) on a free loopback port and waits
    /// until it answers.
    pub async fn start() -> Self {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver: {e}. The browser suite needs Debian's chromium and chromium-driver \
                     (scripts/test and .ci/run install them: apt-get install chromium chromium-driver)"
                )
            });
        let driver = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + STEP_LIMIT;
        let client = reqwest::Client::new();
        loop {
            let ready = client
                .get(format!("{}/status", driver.url))
                .send()
                .await
                .ok()
                .filter(|r| r.status().is_success());
            if ready.is_some() {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        driver
    }

    /// A new headless Chromium with its own profile, sending `user_agent`.
    pub async fn browser(&self, user_agent: &str) -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium(),
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    "--disable-extensions",
                    "--window-size=1100,760",
                    format!("--user-agent={user_agent}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        });
        let caps = caps.as_object().expect("an object").clone();
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a Chromium session through chromedriver");
        Browser {
            client,
            _profile: profile,
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Debian's binary (`/usr/bin/chromium`), else whatever chromedriver finds.
fn chromium() -> &'static str {
    if Path::new("/usr/bin/chromium").exists() {
        "/usr/bin/chromium"
    } else {
        "chromium"
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("its address")
        .port()
}

/// One browser window (one device).
pub struct Browser {
    pub client: Client,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Opens `url`.
    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("navigation");
    }

    /// The element `css`, once it is on the page.
    pub async fn find(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(STEP_LIMIT)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(el) => el,
            Err(e) => panic!(
                "no {css:?} on {}: {e}\n{}",
                self.url().await,
                self.text().await
            ),
        }
    }

    /// Every element matching `css` now.
    pub async fn all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .expect("find_all")
    }

    /// Types `text` into the field `css` (emptied first).
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("typing");
    }

    /// Clicks `css`, then waits for the page at `path` to show `expect`.
    pub async fn click_to(&self, css: &str, path: &str, expect: &str) {
        self.find(css).await.click().await.expect("click");
        self.wait_for(path, expect).await;
    }

    /// Waits until the page's path is `path` and `expect` is on it.
    pub async fn wait_for(&self, path: &str, expect: &str) {
        let deadline = Instant::now() + STEP_LIMIT;
        loop {
            if self.path().await == path && self.source().await.contains(expect) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "expected {expect:?} at {path}, got {} with:\n{}",
                self.url().await,
                self.text().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn url(&self) -> String {
        self.client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    pub async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .map(|u| u.path().to_owned())
            .unwrap_or_default()
    }

    pub async fn source(&self) -> String {
        self.client.source().await.unwrap_or_default()
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Saves the page as `name.png` in [`screenshot_dir`].
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("the screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("writing a screenshot");
    }

    /// Ends the browser session.
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
