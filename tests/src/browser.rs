//! A real headless browser for the console's tests: Debian's `chromium`
//! driven through its `chromedriver` over WebDriver ([`fantoccini`]), both
//! started for one test on loopback and stopped when dropped.
//!
//! Nothing is downloaded: the binaries are the system's (`.ci/run`
//! installs `chromium` and `chromium-driver` with apt-get when they are
//! missing), or the ones `CHROME_BIN` and `CHROMEDRIVER` name. A machine
//! without them fails the test, saying what to install; it never skips.
//!
//! Waits are bounded by lack of progress ([`crate::progress`]): a page
//! still changing (its text growing as its fetches answer) is waited for.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub use fantoccini;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::progress::Progress;

/// How long a page may stay the same before a wait for it gives up.
const QUIET: Duration = Duration::from_secs(30);

/// The chromium binary: `CHROME_BIN`, else Debian's.
fn chrome_bin() -> PathBuf {
    std::env::var_os("CHROME_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// The chromedriver binary: `CHROMEDRIVER`, else Debian's.
fn driver_bin() -> PathBuf {
    std::env::var_os("CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"))
}

fn require(path: &Path, package: &str) {
    assert!(
        path.is_file(),
        "the console's browser tests need {} (Debian's `{package}`): \
         `apt-get install chromium chromium-driver`, as .ci/run does, \
         or point CHROME_BIN and CHROMEDRIVER at them",
        path.display()
    );
}

/// chromedriver and one headless browser session.
pub struct Browser {
    driver: Child,
    client: Option<Client>,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and opens a headless
    /// session of 1280×900.
    ///
    /// # Panics
    /// When chromium or chromedriver is missing, or the session cannot start.
    pub async fn start() -> Browser {
        let (chrome, driver_path) = (chrome_bin(), driver_bin());
        require(&chrome, "chromium");
        require(&driver_path, "chromium-driver");
        let port = free_port();
        // Its own process group, so that dropping it stops the browsers it
        // started too, even when the test panicked mid-session.
        let mut driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver_path.display()));
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        // It listens soon after it starts; only a driver that exits, or that
        // stays silent as long as a starting server may (testkit::http's
        // two minutes, not a measure of speed), ends the wait.
        let mut attempts = 0;
        while TcpStream::connect(addr).is_err() {
            if let Ok(Some(status)) = driver.try_wait() {
                panic!("chromedriver exited at once ({status})");
            }
            attempts += 1;
            assert!(attempts < 2400, "chromedriver never listened on {addr}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chrome.display().to_string(),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,900",
                         "--no-first-run", "--disable-extensions"],
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("an object")
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://{addr}"))
            .await
            .unwrap_or_else(|e| panic!("no browser session through chromedriver: {e}"));
        Browser {
            driver,
            client: Some(client),
        }
    }

    /// The session.
    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("open until dropped")
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) {
        self.client()
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    /// The text of the first element `css` finds, once `ready` holds of
    /// it; waits while the page's text keeps changing.
    ///
    /// # Panics
    /// When the page stops changing for a long quiet period first.
    pub async fn text_when(&self, css: &str, ready: impl Fn(&str) -> bool) -> String {
        let mut progress = Progress::new(QUIET);
        loop {
            if let Ok(element) = self.client().find(Locator::Css(css)).await
                && let Ok(text) = element.text().await
                && ready(&text)
            {
                return text;
            }
            let page = self.body_text().await;
            if let Err(stalled) = progress.check(page.clone()) {
                panic!("`{css}` never became ready; the page stalled ({stalled}) at:\n{page}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The text of the first element `css` finds, once there is one.
    pub async fn text_of(&self, css: &str) -> String {
        self.text_when(css, |_| true).await
    }

    /// The whole page's visible text.
    pub async fn body_text(&self) -> String {
        match self.client().find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Saves a PNG of the window as `target/screenshots/{name}.png` and
    /// answers its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .client()
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("no screenshot: {e}"));
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
        std::fs::create_dir_all(&dir).expect("target/screenshots");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("the screenshot written");
        path
    }
}

impl Browser {
    /// Ends the session (its browser quits), then the driver.
    pub async fn close(mut self) {
        if let Some(client) = self.client.take() {
            let _ = client.close().await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}
