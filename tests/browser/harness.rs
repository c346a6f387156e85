//! Starting `serve` and chromedriver, one browser session per case, and the small waits and
//! reads the cases share.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// A consumer-panel row: provenance marker, value, struck-through page value.
pub(crate) type Row = (String, String, Option<String>);

/// A case: its name and its body.
pub(crate) type Case = (
    &'static str,
    fn(Ctx) -> Pin<Box<dyn Future<Output = Result<(), String>>>>,
);

/// Turns any error into the case's failure text.
pub(crate) trait Context<T> {
    /// Adds what was being done.
    fn ctx(self, what: &str) -> Result<T, String>;
}

impl<T, E: std::fmt::Display> Context<T> for Result<T, E> {
    fn ctx(self, what: &str) -> Result<T, String> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

/// Fails the case unless `cond`.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

/// Fails the case unless the two are equal.
#[macro_export]
macro_rules! ensure_eq {
    ($left:expr, $right:expr, $what:expr) => {{
        let (left, right) = (&$left, &$right);
        if left != right {
            return Err(format!("{}: {:?} != {:?}", $what, left, right));
        }
    }};
}

/// What a case gets: a browser session and where the servers are.
pub(crate) struct Ctx {
    /// The browser.
    pub(crate) browser: Client,
    /// The provider and platform with default settings.
    pub(crate) origin: String,
    /// The same, with ID tokens that live 4 seconds.
    pub(crate) short_lived_origin: String,
    /// An HTTP client that trusts both servers' CAs.
    pub(crate) http: reqwest::Client,
    /// Where screenshots go.
    pub(crate) screenshots: PathBuf,
    /// The default server's CA certificate.
    pub(crate) ca: PathBuf,
}

impl Ctx {
    /// Opens `path` on the default server.
    pub(crate) async fn open(&self, path: &str) -> Result<(), String> {
        self.browser
            .goto(&format!("{}{path}", self.origin))
            .await
            .ctx(path)
    }

    /// Waits up to 15 s for `css` to match.
    pub(crate) async fn wait(&self, css: &str) -> Result<fantoccini::elements::Element, String> {
        self.browser
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(css))
            .await
            .ctx(&format!("waiting for {css}"))
    }

    /// The text of the first element matching `css`.
    pub(crate) async fn text(&self, css: &str) -> Result<String, String> {
        self.browser
            .find(Locator::Css(css))
            .await
            .ctx(css)?
            .text()
            .await
            .ctx(css)
    }

    /// How many elements match `css`.
    pub(crate) async fn count(&self, css: &str) -> Result<usize, String> {
        Ok(self
            .browser
            .find_all(Locator::Css(css))
            .await
            .ctx(css)?
            .len())
    }

    /// Clicks the first element matching `css`.
    pub(crate) async fn click(&self, css: &str) -> Result<(), String> {
        self.wait(css).await?.click().await.ctx(css)
    }

    /// Picks `value` in the `<select>` with this id.
    pub(crate) async fn choose(&self, id: &str, value: &str) -> Result<(), String> {
        self.wait(&format!("#{id}"))
            .await?
            .select_by_value(value)
            .await
            .ctx(id)
    }

    /// Goes to `url` (a workspace link, say).
    pub(crate) async fn goto(&self, url: &str) -> Result<(), String> {
        self.browser.goto(url).await.ctx(url)
    }

    /// Switches to the window that is not `current`, waiting for it to open.
    pub(crate) async fn other_window(
        &self,
        current: &fantoccini::wd::WindowHandle,
    ) -> Result<fantoccini::wd::WindowHandle, String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let windows = self.browser.windows().await.ctx("windows")?;
            if let Some(other) = windows.into_iter().find(|w| w != current) {
                self.browser
                    .switch_to_window(other.clone())
                    .await
                    .ctx("switching windows")?;
                return Ok(other);
            }
            if Instant::now() > deadline {
                return Err("no second window opened".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Writes a PNG of the current window to `target/browser-screenshots/<name>.png`.
    pub(crate) async fn screenshot(&self, name: &str) -> Result<(), String> {
        let png = self.browser.screenshot().await.ctx("screenshot")?;
        std::fs::create_dir_all(&self.screenshots).ctx("screenshot folder")?;
        std::fs::write(self.screenshots.join(format!("{name}.png")), png).ctx("screenshot")
    }

    /// Signs in on the brand page as `persona` through the provider's login page.
    pub(crate) async fn sign_in(&self, persona: &str) -> Result<(), String> {
        self.sign_in_at(&self.origin, persona).await
    }

    /// The same on the server at `origin`.
    pub(crate) async fn sign_in_at(&self, origin: &str, persona: &str) -> Result<(), String> {
        self.browser
            .goto(&format!("{origin}/demo/brand"))
            .await
            .ctx("the brand page")?;
        self.click("#sign-in").await?;
        self.login_as(persona).await?;
        self.wait("#signed-in-as[data-signed-in='yes']").await?;
        Ok(())
    }

    /// On the provider's login page: opens `persona`'s card and continues as it.
    pub(crate) async fn login_as(&self, persona: &str) -> Result<(), String> {
        let card = format!("#persona-{persona}");
        self.wait(&card).await?;
        if self
            .browser
            .find(Locator::Css(&card))
            .await
            .ctx(&card)?
            .attr("open")
            .await
            .ctx(&card)?
            .is_none()
        {
            self.click(&format!("{card} summary")).await?;
        }
        self.click(&format!("{card} button[value='allow']")).await
    }

    /// Sets the brand page's chat settings and clicks "Chat with us".
    pub(crate) async fn chat(
        &self,
        flow: &str,
        encryption: &str,
        mode: &str,
    ) -> Result<(), String> {
        self.choose("flow", flow).await?;
        self.choose("encryption", encryption).await?;
        self.choose("mode", mode).await?;
        self.click("#chat").await
    }

    /// Waits for the chat window to settle on `status`; returns the workspace's URL.
    pub(crate) async fn window_settles(&self, status: &str) -> Result<String, String> {
        let window = match self
            .wait(&format!("#lp-window[data-status='{status}']"))
            .await
        {
            Ok(window) => window,
            Err(err) => {
                let says = self.text("#lp-status").await.unwrap_or_default();
                return Err(format!("{err}; the window says {says:?}"));
            }
        };
        let link = window
            .find(Locator::Css("#lp-workspace"))
            .await
            .ctx("workspace link")?;
        link.prop("href")
            .await
            .ctx("workspace link")?
            .ok_or_else(|| "the workspace link has no href".to_owned())
    }

    /// The id of the conversation the chat window shows.
    pub(crate) async fn window_conversation(&self) -> Result<String, String> {
        self.wait("#lp-window")
            .await?
            .attr("data-conversation")
            .await
            .ctx("conversation id")?
            .ok_or_else(|| "the window names no conversation".to_owned())
    }

    /// Opens a workspace, waits for its `status`, saves a screenshot as `name`, and checks
    /// every row against the platform's record (on `origin`).
    pub(crate) async fn open_workspace(
        &self,
        url: &str,
        status: &str,
        name: &str,
        origin: &str,
    ) -> Result<(), String> {
        self.goto(url).await?;
        self.wait(&format!("#agent[data-status='{status}']"))
            .await?;
        self.screenshot(name).await?;
        self.every_row_matches_the_api(origin).await?;
        Ok(())
    }

    /// Checks every row of the open workspace against the platform's own record of the
    /// conversation (its JSON API on `origin`): the same keys in the same order, each with the
    /// same value, provenance marker and struck-through page value. Returns the row count.
    pub(crate) async fn every_row_matches_the_api(&self, origin: &str) -> Result<usize, String> {
        let id = self
            .wait("#agent")
            .await?
            .attr("data-conversation")
            .await
            .ctx("conversation id")?
            .ok_or("the workspace names no conversation")?;
        let shown = self
            .browser
            .execute(
                "return [...document.querySelectorAll('tr[data-key]')].map((row) => [
                    row.dataset.key,
                    row.dataset.provenance,
                    row.querySelector('.value').textContent,
                    (row.querySelector('del.page-value') || {}).textContent ?? null,
                ]);",
                vec![],
            )
            .await
            .ctx("reading the rows")?;
        let view: serde_json::Value = self
            .http
            .get(format!("{origin}/platform/api/conversations/{id}"))
            .send()
            .await
            .ctx("the conversation")?
            .json()
            .await
            .ctx("the conversation")?;
        let expected: Vec<serde_json::Value> = view["profile"]["fields"]
            .as_array()
            .ok_or("no profile in the API's answer")?
            .iter()
            .map(|f| {
                let provenance = match f["provenance"]["kind"].as_str() {
                    Some("authenticated") => "verified",
                    _ => "page",
                };
                serde_json::json!([f["key"], provenance, f["value"], f["overridden_page_value"]])
            })
            .collect();
        let shown = shown.as_array().ok_or("the rows are not a list")?;
        if shown != &expected {
            return Err(format!(
                "the workspace's rows differ from the conversation's fields:\n  shown    {}\n  expected {}",
                serde_json::Value::from(shown.clone()),
                serde_json::Value::from(expected)
            ));
        }
        Ok(shown.len())
    }

    /// Fails unless the agent's panel has `verified` verified rows and `page` rows from the page
    /// alone.
    pub(crate) async fn expect_rows(&self, verified: usize, page: usize) -> Result<(), String> {
        let shown = (
            self.count("tr[data-provenance='verified']").await?,
            self.count("tr[data-provenance='page']").await?,
        );
        if shown != (verified, page) {
            return Err(format!(
                "rows (verified, page): {shown:?} != {:?}",
                (verified, page)
            ));
        }
        Ok(())
    }

    /// Fails unless the panel shows `key` as `expected` (provenance, value, struck page value).
    pub(crate) async fn expect_field(&self, key: &str, expected: Row) -> Result<(), String> {
        let shown = self.field(key).await?;
        if shown != expected {
            return Err(format!("{key}: {shown:?} != {expected:?}"));
        }
        Ok(())
    }

    /// One field of the agent's consumer panel: (provenance, value, struck-through page value).
    pub(crate) async fn field(&self, key: &str) -> Result<Row, String> {
        let css = format!("tr[data-key='{key}']");
        let row = self.browser.find(Locator::Css(&css)).await.ctx(&css)?;
        let provenance = row
            .attr("data-provenance")
            .await
            .ctx(&css)?
            .unwrap_or_default();
        let value = row
            .find(Locator::Css(".value"))
            .await
            .ctx(&css)?
            .text()
            .await
            .ctx(&css)?;
        let overridden = match row.find(Locator::Css("del.page-value")).await {
            Ok(del) => Some(del.text().await.ctx(&css)?),
            Err(_) => None,
        };
        Ok((provenance, value, overridden))
    }
}

fn find_program(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// `oidc-harness serve` on a free loopback port with its own state folder; returns the origin.
async fn start_serve(state_dir: &Path, config: Option<&Path>) -> Result<(Child, String), String> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_oidc-harness"));
    command
        .args(["serve", "--addr", "127.0.0.1:0", "--state-dir"])
        .arg(state_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    let mut child = command.spawn().ctx("starting serve")?;
    let stdout = child.stdout.take().ok_or("serve has no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let mut origin = None;
    while let Some(line) = lines.next_line().await.ctx("reading serve's banner")? {
        if let Some(rest) = line.trim().strip_prefix("listening") {
            origin = Some(rest.trim().to_owned());
        }
        if line.starts_with("ready in") {
            break;
        }
    }
    // Keep reading so serve never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((child, origin.ok_or("serve printed no listening line")?))
}

async fn start_chromedriver(driver: &Path) -> Result<(Child, String), String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .ctx("a free port")?
        .port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .ctx("starting chromedriver")?;
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(response) = http.get(format!("{url}/status")).send().await {
            if response.status().is_success() {
                return Ok((child, url));
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("chromedriver did not answer within 20 s".into())
}

async fn new_browser(webdriver: &str, chromium: &Path) -> Result<Client, String> {
    let capabilities = serde_json::json!({
        "browserName": "chrome",
        // The servers use a CA made for this run.
        "acceptInsecureCerts": true,
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,1100",
            ],
        },
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!("a JSON object literal");
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(webdriver)
        .await
        .ctx("starting a browser session")
}

/// Runs the cases whose names contain any of the command line's words (all without words).
pub(crate) fn main(cases: &[Case]) -> ExitCode {
    let required = std::env::var("OIDC_HARNESS_BROWSER_TESTS").is_ok_and(|v| v == "require");
    let chromium = find_program(
        "CHROMIUM",
        &["chromium", "chromium-browser", "google-chrome"],
    );
    let driver = find_program("CHROMEDRIVER", &["chromedriver"]);
    let (Some(chromium), Some(driver)) = (chromium, driver) else {
        let message = "browser tests: chromium and chromedriver not found";
        if required {
            eprintln!("{message}, and OIDC_HARNESS_BROWSER_TESTS=require: failing");
            return ExitCode::FAILURE;
        }
        println!(
            "\n{message}: SKIPPED {} browser tests.\n  Install them (Debian: apt-get install \
             chromium chromium-driver) to run them; OIDC_HARNESS_BROWSER_TESTS=require makes \
             this skip a failure.\n",
            cases.len()
        );
        return ExitCode::SUCCESS;
    };
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let selected: Vec<&Case> = cases
        .iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())))
        .collect();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("browser tests: no runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(selected, &chromium, &driver))
}

async fn run(cases: Vec<&Case>, chromium: &Path, driver: &Path) -> ExitCode {
    let setup = async {
        let dir = tempfile::tempdir().ctx("temporary folder")?;
        let short_config = dir.path().join("short.toml");
        std::fs::write(&short_config, "[tokens]\nid_token_lifetime_secs = 4\n")
            .ctx("writing a config")?;
        // The default provider, and a brand beside it with a connector of its own.
        let brands = dir.path().join("brands.toml");
        std::fs::write(&brands, "[[brand]]\nname = \"acme\"\n").ctx("writing a config")?;
        let (serve, origin) = start_serve(&dir.path().join("state"), Some(&brands)).await?;
        let (short_serve, short_lived_origin) =
            start_serve(&dir.path().join("state-short"), Some(&short_config)).await?;
        let (chromedriver, webdriver) = start_chromedriver(driver).await?;
        let mut http = reqwest::Client::builder();
        for state in ["state", "state-short"] {
            let pem = std::fs::read(dir.path().join(state).join("ca.pem")).ctx("the CA")?;
            http = http.add_root_certificate(reqwest::Certificate::from_pem(&pem).ctx("the CA")?);
        }
        let http = http.build().ctx("HTTP client")?;
        Ok::<_, String>((
            dir,
            [serve, short_serve, chromedriver],
            origin,
            short_lived_origin,
            webdriver,
            http,
        ))
    };
    let (_dir, _children, origin, short_lived_origin, webdriver, http) = match setup.await {
        Ok(setup) => setup,
        Err(err) => {
            eprintln!("browser tests: setup failed: {err}");
            return ExitCode::FAILURE;
        }
    };
    let ca = _dir.path().join("state").join("ca.pem");
    let screenshots = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
        .join("browser-screenshots");
    println!(
        "\nrunning {} browser tests (Chromium, headless)",
        cases.len()
    );
    let started = Instant::now();
    let mut failed = Vec::new();
    for (name, case) in &cases {
        let t = Instant::now();
        let result = async {
            let browser = new_browser(&webdriver, chromium).await?;
            let ctx = Ctx {
                browser: browser.clone(),
                origin: origin.clone(),
                short_lived_origin: short_lived_origin.clone(),
                http: http.clone(),
                screenshots: screenshots.clone(),
                ca: ca.clone(),
            };
            let outcome = tokio::time::timeout(Duration::from_secs(90), case(ctx))
                .await
                .unwrap_or_else(|_| Err("timed out after 90 s".into()));
            if outcome.is_err() {
                let _ = Ctx {
                    browser: browser.clone(),
                    origin: origin.clone(),
                    short_lived_origin: short_lived_origin.clone(),
                    http: http.clone(),
                    screenshots: screenshots.clone(),
                    ca: ca.clone(),
                }
                .screenshot(&format!("FAILED-{name}"))
                .await;
            }
            let _ = browser.close().await;
            outcome
        }
        .await;
        match result {
            Ok(()) => println!("test {name} ... ok ({:.1} s)", t.elapsed().as_secs_f64()),
            Err(err) => {
                println!(
                    "test {name} ... FAILED ({:.1} s)\n    {err}",
                    t.elapsed().as_secs_f64()
                );
                failed.push(*name);
            }
        }
    }
    println!(
        "\nbrowser test result: {}. {} passed; {} failed; finished in {:.1} s; screenshots in {}\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        cases.len() - failed.len(),
        failed.len(),
        started.elapsed().as_secs_f64(),
        screenshots.display()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
