//! Headless Chromium through ChromeDriver (Debian's packages; nothing is downloaded). A missing
//! browser or driver fails these tests: it never skips them.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use thirtyfour::common::capabilities::chromium::ChromiumLikeCapabilities;
use thirtyfour::prelude::*;

use crate::support::TestApp;

const PASSWORD: &str = "a long browser password";

pub struct Browser {
    pub driver: WebDriver,
    chromedriver: Child,
}

impl Browser {
    pub async fn start() -> Self {
        let driver_path =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let chromedriver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "ChromeDriver is required ({driver_path}): {e}; run the README's test command"
                )
            });
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(&chromium).unwrap();
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1200,900",
        ] {
            caps.add_arg(arg).unwrap();
        }
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        for _ in 0..50 {
            match WebDriver::new(&url, caps.clone()).await {
                Ok(driver) => {
                    return Self {
                        driver,
                        chromedriver,
                    };
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("Chromium did not start through {driver_path}: {last:?}");
    }

    pub async fn fill(&self, id: &str, text: &str) {
        let field = self.driver.find(By::Id(id)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    pub async fn submit(&self, css: &str) {
        self.driver
            .find(By::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    pub async fn path(&self) -> String {
        self.driver.current_url().await.unwrap().path().to_owned()
    }

    /// Waits (up to ten seconds) until the page at `path` shows `text`.
    pub async fn wait_for(&self, path: &str, text: &str) {
        for _ in 0..100 {
            if self.path().await == path && self.text().await.contains(text) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "expected {text:?} at {path}, found {} showing:\n{}",
            self.path().await,
            self.text().await
        );
    }

    pub async fn text(&self) -> String {
        self.driver
            .find(By::Tag("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn stop(mut self) {
        let _ = self.driver.quit().await;
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
    }
}

#[tokio::test]
async fn first_administrator_signs_in_and_out_in_a_browser() {
    let app = TestApp::spawn().await;
    let link = app.setup_link.clone().unwrap();
    let browser = Browser::start().await;

    browser.driver.goto(&link).await.unwrap();
    assert!(
        browser
            .text()
            .await
            .contains("Create the first Administrator")
    );
    browser.fill("email", "admin@example.com").await;
    browser.fill("display_name", "Ada Admin").await;
    browser.fill("password", PASSWORD).await;
    browser
        .fill("password_confirm", "a different password")
        .await;
    let setup_path = link.trim_start_matches(&app.base).to_owned();
    browser.submit("button[type=submit].primary").await;
    browser
        .wait_for(&setup_path, "The two passwords differ.")
        .await;
    assert_eq!(
        browser
            .driver
            .find(By::Id("email"))
            .await
            .unwrap()
            .value()
            .await
            .unwrap()
            .as_deref(),
        Some("admin@example.com")
    );

    browser.fill("password", PASSWORD).await;
    browser.fill("password_confirm", PASSWORD).await;
    browser.submit("button[type=submit].primary").await;
    browser
        .wait_for("/login", "is ready. Sign in with that account.")
        .await;

    browser.fill("email", "admin@example.com").await;
    browser.fill("password", PASSWORD).await;
    browser.submit("button[type=submit].primary").await;
    browser
        .wait_for("/organizations", "Ada Admin (Administrator)")
        .await;
    let session = browser
        .driver
        .get_named_cookie("__Host-roster-session")
        .await
        .unwrap()
        .value;

    browser.submit("form[action='/logout'] button").await;
    browser.wait_for("/login", "You have signed out.").await;
    browser
        .driver
        .goto(format!("{}/users", app.base))
        .await
        .unwrap();
    browser.wait_for("/login", "Sign in").await;
    browser.stop().await;

    // The old cookie no longer opens anything.
    let replay = app.client();
    replay.set_cookie("__Host-roster-session", &session);
    let res = replay.get("/organizations").await;
    assert_eq!(res.status, 303);
    assert!(res.location().starts_with("/login"));
}
