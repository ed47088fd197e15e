//! Just enough of the Chrome DevTools Protocol to drive one page: start a headless
//! Chromium, attach to its page, send commands and wait for their answers (events are
//! read and dropped).

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};
use tungstenite::{Message, WebSocket, stream::MaybeTlsStream};

/// A headless Chromium with one page attached.
pub(crate) struct Browser {
    child: Child,
    page: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub(crate) fn launch(width: u32, height: u32) -> Result<Browser, String> {
        Browser::launch_with(width, height, &[])
    }

    /// [`Browser::launch`] with extra command-line switches.
    pub(crate) fn launch_with(width: u32, height: u32, extra: &[&str]) -> Result<Browser, String> {
        let profile = tempfile::tempdir().map_err(|err| err.to_string())?;
        let mut child = Command::new("chromium")
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--hide-scrollbars",
            ])
            .arg("--remote-debugging-port=0")
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--window-size={width},{height}"))
            .args(extra)
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|err| format!("cannot start chromium: {err}"))?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let endpoint = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                return Err("chromium exited before it listened for DevTools".into());
            };
            if let Some(url) = line.strip_prefix("DevTools listening on ") {
                break url.to_owned();
            }
        };
        // Keep draining chromium's stderr so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        let http =
            endpoint.trim_start_matches("ws://").split('/').next().unwrap_or_default().to_owned();
        let targets = super::get_json(&format!("http://{http}/json/list"))?;
        let page_url = targets
            .as_array()
            .and_then(|targets| targets.iter().find(|t| t["type"] == "page"))
            .and_then(|page| page["webSocketDebuggerUrl"].as_str())
            .ok_or(format!("no page target in {targets}"))?
            .to_owned();
        let (page, _) =
            tungstenite::connect(page_url.as_str()).map_err(|err| format!("{page_url}: {err}"))?;
        Ok(Browser { child, page, next_id: 0, _profile: profile })
    }

    /// Sends a command and returns its `result` (an `error` answer is an error).
    pub(crate) fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let message = json!({ "id": id, "method": method, "params": params }).to_string();
        self.page.send(Message::text(message)).map_err(|err| format!("{method}: {err}"))?;
        loop {
            let message = self.page.read().map_err(|err| format!("{method}: {err}"))?;
            let Message::Text(text) = message else { continue };
            let answer: Value =
                serde_json::from_str(text.as_str()).map_err(|err| err.to_string())?;
            if answer["id"] != id {
                continue;
            }
            if let Some(error) = answer.get("error") {
                return Err(format!("{method}: {error}"));
            }
            return Ok(answer["result"].clone());
        }
    }

    /// Evaluates a JavaScript expression in the page and returns its value.
    pub(crate) fn eval(&mut self, expression: &str) -> Result<Value, String> {
        let result = self
            .call("Runtime.evaluate", json!({ "expression": expression, "returnByValue": true }))?;
        if let Some(exception) = result.get("exceptionDetails") {
            return Err(format!("{expression}: {exception}"));
        }
        Ok(result["result"]["value"].clone())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
