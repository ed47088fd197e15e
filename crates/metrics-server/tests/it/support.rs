//! A server on an ephemeral port in a background runtime, and a small blocking client.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use metrics_server::{ServerConfig, serve};
use metrics_store::MetricsStore;

/// A running server over a store in a temporary directory; stops when dropped.
pub(crate) struct TestServer {
    pub(crate) url: String,
    pub(crate) dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), metrics_server::ServerError>>>,
}

/// What a request got back.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: ureq::http::HeaderMap,
    pub(crate) body: String,
}

impl Reply {
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|err| panic!("{err}: {}", self.body))
    }

    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

impl TestServer {
    /// A server over a new, empty store.
    pub(crate) fn start() -> TestServer {
        TestServer::start_with(|config| config, |builder| builder)
    }

    /// A server whose config and store builder the test adjusts.
    pub(crate) fn start_with(
        configure: impl FnOnce(ServerConfig) -> ServerConfig,
        build: impl FnOnce(metrics_store::StoreBuilder) -> metrics_store::StoreBuilder,
    ) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let store =
            build(MetricsStore::builder(&dir.path().join(".agent_metrics.json"))).open().unwrap();
        let mut config = configure(ServerConfig::default());
        config.listen = "127.0.0.1:0".parse().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (bound_tx, bound_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
                bound_tx.send(listener.local_addr().unwrap()).unwrap();
                serve(store, config, listener, async move {
                    let _ = stopped.await;
                })
                .await
            })
        });
        let addr = bound_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        TestServer { url: format!("http://{addr}"), dir, stop: Some(stop), thread: Some(thread) }
    }

    pub(crate) fn store_path(&self) -> PathBuf {
        self.dir.path().join(".agent_metrics.json")
    }

    /// Another handle on the same store, as another writer would open it.
    pub(crate) fn other_handle(&self) -> MetricsStore {
        MetricsStore::open(&self.store_path()).unwrap()
    }

    pub(crate) fn get(&self, path: &str) -> Reply {
        request(&format!("{}{path}", self.url), None, None, &[])
    }

    pub(crate) fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        request(&format!("{}{path}", self.url), None, None, headers)
    }

    pub(crate) fn post(&self, path: &str, body: &str) -> Reply {
        request(&format!("{}{path}", self.url), Some(body.as_bytes()), None, &[])
    }

    pub(crate) fn post_bytes(&self, path: &str, body: &[u8], token: Option<&str>) -> Reply {
        request(&format!("{}{path}", self.url), Some(body), token, &[])
    }
    /// Polls `path` until `check` accepts the reply (at most 5 s).
    pub(crate) fn wait_for(&self, path: &str, check: impl Fn(&Reply) -> bool) -> Reply {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let reply = self.get(path);
            if check(&reply) || Instant::now() > deadline {
                return reply;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server as SIGTERM would; returns how `serve` ended, and the directory
    /// (so the test can still read the store).
    pub(crate) fn stop(mut self) -> (Result<(), metrics_server::ServerError>, tempfile::TempDir) {
        self.stop.take().map(|stop| stop.send(()));
        let ended = self.thread.take().unwrap().join().unwrap();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        (ended, dir)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// One request; any status is a reply (never an error), a transport failure panics.
pub(crate) fn request(
    url: &str,
    body: Option<&[u8]>,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> Reply {
    let agent = agent();
    let response = match body {
        Some(body) => {
            let mut post = agent.post(url).header("Content-Type", "application/json");
            for (name, value) in headers {
                post = post.header(*name, *value);
            }
            if let Some(token) = token {
                post = post.header("Authorization", &format!("Bearer {token}"));
            }
            post.send(body)
        }
        None => {
            let mut get = agent.get(url);
            for (name, value) in headers {
                get = get.header(*name, *value);
            }
            get.call()
        }
    };
    let mut response = response.unwrap_or_else(|err| panic!("{url}: {err}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    Reply { status, headers, body }
}

/// `n` events as JSON lines, ids `{prefix}-0` ... `{prefix}-{n-1}`.
pub(crate) fn event_lines(prefix: &str, n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                r#"{{"event_id": "{prefix}-{i}", "agent_name": "agent-{}", "status": "success", "input_tokens": 10, "estimated_cost_usd": 0.01}}"#,
                i % 3
            ) + "\n"
        })
        .collect()
}

/// The ids of the events stored in the file, read by a fresh handle.
pub(crate) fn stored_ids(path: &Path) -> Vec<String> {
    let store = MetricsStore::open(path).unwrap();
    store.load().unwrap().state.events().iter().map(|e| e.event_id().to_owned()).collect()
}
