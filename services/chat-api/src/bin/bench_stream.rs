//! Streaming benchmark: the same answers straight from the sandbox LLM
//! ("direct"), through nginx as a plain proxy in front of the LLM ("proxy"),
//! through chat-api ("chat-api"), and through nginx in front of chat-api
//! ("edge", the deployed path), side by side in one run.
//!
//! ```text
//! cargo build --release -p paychat-sandbox-llm -p paychat-chat-api --bin bench_stream
//! ./target/release/bench_stream [--levels 50,200,1000] [--chunks 200]
//!     [--chunk-delay-ms 5] [--chunk-bytes 21] [--prompt-chars 100]
//!     [--rounds 2] [--streams-per-worker 3] [--ramp-ms N] [--paths direct,proxy,chat,edge]
//! ```
//!
//! It starts its own processes: the sandbox LLM (`paychat-sandbox-llm` next to
//! this binary, else `target/{release,debug}`) answering every request with
//! `--chunks` chunks of `--chunk-bytes` ASCII bytes, `--chunk-delay-ms` apart;
//! chat-api (this binary re-run with `--serve`, configured through `PAYCHAT_*`
//! variables against a fresh test database and its own Redis prefix, with the
//! per-user caps raised); and a private nginx on free ports, configured from
//! `deploy/nginx.conf.template` (what `scripts/edge.sh` runs) plus one plain
//! proxy server in front of the LLM. MariaDB and Redis are the shared local
//! stack's.
//!
//! Load shape (steady arrivals, one user per stream): at level N, N workers
//! each run `--streams-per-worker` streams back to back, each worker as a user
//! of its own; their first starts are spread over one stream's length (the
//! warm-up's direct median, or `--ramp-ms`), so about N streams are open all
//! the time and new ones arrive as old ones end. Each level runs one unmeasured
//! warm-up round of every path, then `--rounds` measured rounds, each running
//! the paths one after the other; samples are pooled.
//!
//! Figures per level and path: time to first token (first content byte) p50
//! and p99, and what the path adds to direct's at the same percentile;
//! streams/s (and the share of direct's); CPU seconds per 1,000 streams of
//! every process involved, from `/proc/<pid>/stat` (chat-api, the LLM
//! stand-in, nginx master and workers, mariadbd, redis-server), measured over
//! that path's rounds only; and KiB per open stream of the relaying process
//! (peak RSS minus the RSS before the round, over the most streams open at
//! once); and the events carrying answer text per finished stream (the
//! upstream's chunks direct, chat-api's deltas, which gather a flush window's
//! chunks after the first). MariaDB and Redis are shared with whatever else
//! runs on the machine, so their CPU figures include that.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use paychat_chat_api::app::Application;
use paychat_chat_api::config::Config;
use paychat_common::auth::{Role, Sessions};
use paychat_common::redis::Keys;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// A way to the LLM's answer.
enum Route {
    Direct,
    Proxy,
    Chat,
    Edge,
}

impl Route {
    fn name(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Proxy => "proxy",
            Self::Chat => "chat-api",
            Self::Edge => "edge",
        }
    }

    /// Whether the answer arrives in chat-api's event shape.
    fn via_chat(self) -> bool {
        matches!(self, Self::Chat | Self::Edge)
    }
}

struct Options {
    levels: Vec<usize>,
    chunks: usize,
    chunk_delay_ms: u64,
    chunk_bytes: usize,
    prompt_chars: usize,
    rounds: usize,
    ramp_ms: Option<u64>,
    per_worker: usize,
    paths: Vec<Route>,
}

fn options() -> anyhow::Result<Options> {
    let mut o = Options {
        levels: vec![50, 200, 1000],
        chunks: 200,
        chunk_delay_ms: 5,
        chunk_bytes: 21,
        prompt_chars: 100,
        rounds: 2,
        ramp_ms: None,
        per_worker: 3,
        paths: vec![Route::Direct, Route::Proxy, Route::Chat, Route::Edge],
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--levels" => {
                o.levels = value
                    .split(',')
                    .map(|v| v.trim().parse())
                    .collect::<Result<_, _>>()
                    .context("--levels: comma-separated numbers")?;
            }
            "--chunks" => o.chunks = value.parse::<usize>()?.max(1),
            "--chunk-delay-ms" => o.chunk_delay_ms = value.parse()?,
            "--chunk-bytes" => o.chunk_bytes = value.parse::<usize>()?.max(1),
            "--prompt-chars" => o.prompt_chars = value.parse()?,
            "--rounds" => o.rounds = value.parse::<usize>()?.max(1),
            "--ramp-ms" => o.ramp_ms = Some(value.parse()?),
            "--streams-per-worker" => o.per_worker = value.parse::<usize>()?.max(1),
            "--paths" => {
                let mut paths = vec![Route::Direct];
                for name in value.split(',').map(str::trim) {
                    let path = match name {
                        "direct" => continue,
                        "proxy" => Route::Proxy,
                        "chat" | "chat-api" => Route::Chat,
                        "edge" => Route::Edge,
                        other => bail!("--paths: direct, proxy, chat, edge; not {other}"),
                    };
                    paths.push(path);
                }
                o.paths = paths;
            }
            other => bail!("unknown flag {other}"),
        }
    }
    if o.levels.is_empty() {
        bail!("--levels: at least one level");
    }
    Ok(o)
}

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn wait_up(url: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if client
            .get(url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("{url} did not come up")
}

/// The sandbox LLM built alongside this binary (same profile) if there is one.
fn sandbox_binary() -> anyhow::Result<PathBuf> {
    let beside = std::env::current_exe()?
        .parent()
        .map(|dir| dir.join("paychat-sandbox-llm"));
    let target = root().join("target");
    beside
        .into_iter()
        .chain(
            ["release", "debug"]
                .iter()
                .map(|p| target.join(p).join("paychat-sandbox-llm")),
        )
        .find(|p| p.exists())
        .context("no sandbox LLM binary: run `cargo build --release -p paychat-sandbox-llm`")
}

async fn start_sandbox(o: &Options) -> anyhow::Result<(String, Child)> {
    let binary = sandbox_binary()?;
    let port = free_port()?;
    let child = Command::new(&binary)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--chunk-delay-ms", &o.chunk_delay_ms.to_string()])
        .args(["--chunk-chars", &o.chunk_bytes.to_string()])
        .args(["--chunks", &o.chunks.to_string()])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting the sandbox LLM")?;
    let base = format!("http://127.0.0.1:{port}");
    wait_up(&format!("{base}/healthz")).await?;
    eprintln!("sandbox LLM: {} on {base}", binary.display());
    Ok((base, child))
}

/// A private nginx: the deployed edge configuration in front of chat-api, and
/// a plain proxy server in front of the LLM.
struct Nginx {
    dir: PathBuf,
    child: Child,
    edge_base: String,
    proxy_base: String,
}

async fn start_nginx(chat_port: u16, llm_port: u16) -> anyhow::Result<Nginx> {
    let dir = std::env::temp_dir().join(paychat_common::testing::unique("bench-nginx"));
    std::fs::create_dir_all(dir.join("tmp"))?;
    std::fs::create_dir_all(dir.join("web"))?;
    let (edge_port, proxy_port, unused) = (free_port()?, free_port()?, free_port()?);
    let template = std::fs::read_to_string(root().join("deploy/nginx.conf.template"))
        .context("reading deploy/nginx.conf.template")?;
    let prefix = dir.display().to_string();
    let mut conf = template
        .replace("@PREFIX@", &prefix)
        .replace("@LISTEN_PORT@", &edge_port.to_string())
        .replace("@CHAT_PORT@", &chat_port.to_string())
        .replace("@ORDERS_PORT@", &unused.to_string())
        .replace("@GATEWAY_PORT@", &unused.to_string())
        .replace("@WEB_ROOT@", &format!("{prefix}/web"));
    // The plain proxy: the same settings as the edge's chat location.
    let close = conf.rfind('}').context("odd nginx template")?;
    conf.insert_str(
        close,
        &format!(
            "  upstream bench_llm {{ server 127.0.0.1:{llm_port}; keepalive 64; }}\n\
             \x20 server {{\n\
             \x20   listen 127.0.0.1:{proxy_port};\n\
             \x20   location / {{ proxy_pass http://bench_llm; proxy_buffering off; proxy_cache off; gzip off; proxy_read_timeout 300s; }}\n\
             \x20 }}\n"
        ),
    );
    let conf_path = dir.join("nginx.conf");
    std::fs::write(&conf_path, conf)?;
    let child = Command::new("nginx")
        .arg("-p")
        .arg(&dir)
        .arg("-c")
        .arg(&conf_path)
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting nginx")?;
    let edge_base = format!("http://127.0.0.1:{edge_port}");
    let proxy_base = format!("http://127.0.0.1:{proxy_port}");
    wait_up(&format!("{proxy_base}/healthz")).await?;
    eprintln!("nginx: {prefix}/nginx.conf, edge {edge_base}, plain proxy {proxy_base}");
    Ok(Nginx {
        dir,
        child,
        edge_base,
        proxy_base,
    })
}

/// `--serve`: chat-api from the environment, as `main` runs it.
async fn serve() -> anyhow::Result<()> {
    let config = Config::load(&[])?;
    paychat_common::telemetry::init_logging(&config.common);
    Application::build(config).await?.run_until_stopped().await
}

/// Fields of `/proc/<pid>/stat` after the command name.
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    Some(after.split_whitespace().map(str::to_owned).collect())
}

/// CPU seconds (user + system) of a process.
fn cpu_secs(pid: u32) -> f64 {
    // utime and stime are fields 14 and 15, the 12th and 13th after the name.
    let ticks = stat_fields(pid)
        .and_then(|f| Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?))
        .unwrap_or(0);
    // CLK_TCK is 100 on Linux for every architecture we run on.
    ticks as f64 / 100.0
}

/// Resident bytes of a process.
fn rss_bytes(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Every process whose command line has `name` as its program and `needle`
/// among its words (a port, a socket): the shared stack's MariaDB and Redis.
fn find_processes(name: &str, needle: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            comm.trim() == name && cmdline.contains(needle)
        })
        .collect()
}

/// The children of `parent` (nginx's workers).
fn children(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            stat_fields(*pid)
                .and_then(|f| f.get(1)?.parse::<u32>().ok())
                .is_some_and(|ppid| ppid == parent)
        })
        .collect()
}

/// The processes whose CPU is counted, in the order they are printed.
struct Procs {
    groups: Vec<(&'static str, Vec<u32>)>,
}

impl Procs {
    fn cpu(&self) -> Vec<f64> {
        self.groups
            .iter()
            .map(|(_, pids)| pids.iter().map(|p| cpu_secs(*p)).sum())
            .collect()
    }

    fn rss(&self, name: &str) -> u64 {
        self.groups
            .iter()
            .filter(|(n, _)| *n == name)
            .flat_map(|(_, pids)| pids.iter().map(|p| rss_bytes(*p)))
            .sum()
    }
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    ttft: Duration,
    ok: bool,
    /// Events that carried answer text (chat-api's deltas, the upstream's content chunks).
    events: u32,
}

/// Reads one SSE response; the first token is the first `delta` event
/// (chat-api) or the first chunk with non-empty content (OpenAI format).
async fn read_stream(res: reqwest::Response, started: Instant, via_chat: bool) -> Sample {
    let mut ttft = None;
    let mut finished = false;
    let mut events = 0;
    let mut buffer = String::new();
    let mut body = res.bytes_stream();
    while let Some(Ok(bytes)) = body.next().await {
        buffer.push_str(&String::from_utf8_lossy(&bytes));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if via_chat {
                if block.starts_with("event: delta") {
                    events += 1;
                    if ttft.is_none() {
                        ttft = Some(started.elapsed());
                    }
                } else if block.starts_with("event: done") {
                    finished = true;
                }
                continue;
            }
            let data = block.trim().trim_start_matches("data:").trim();
            if data.contains("\"content\":\"") && !data.contains("\"content\":\"\"") {
                events += 1;
            }
            if data == "[DONE]" {
                finished = true;
            } else if ttft.is_none()
                && serde_json::from_str::<Value>(data).is_ok_and(|v| {
                    v["choices"][0]["delta"]["content"]
                        .as_str()
                        .is_some_and(|c| !c.is_empty())
                })
            {
                ttft = Some(started.elapsed());
            }
        }
    }
    Sample {
        ttft: ttft.unwrap_or_default(),
        ok: finished && ttft.is_some(),
        events,
    }
}

fn percentile(values: &mut [Duration], p: f64) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    values.sort_unstable();
    let rank = ((p / 100.0) * (values.len() as f64)).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Target {
    client: reqwest::Client,
    llm_base: String,
    proxy_base: String,
    chat_base: String,
    edge_base: String,
    /// One user per worker, so one per open stream.
    tokens: Vec<String>,
    prompt: String,
    /// The first starts are spread over this.
    ramp: Duration,
    /// Streams each worker runs back to back.
    per_worker: usize,
}

async fn batch(target: &Arc<Target>, n: usize, path: Route, open: Arc<AtomicI64>) -> Vec<Sample> {
    let (ramp, per_worker) = (target.ramp, target.per_worker);
    let tasks = (0..n).map(|i| {
        let target = target.clone();
        let open = open.clone();
        // Worker i starts at i/n of the ramp.
        let delay = ramp.mul_f64(i as f64 / n as f64);
        tokio::spawn(async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let mut samples = Vec::with_capacity(per_worker);
            for k in 0..per_worker {
                // In flight from the first byte sent: the server holds state for it from then on.
                open.fetch_add(1, Ordering::SeqCst);
                samples.push(one(&target, i, k, path).await);
                open.fetch_sub(1, Ordering::SeqCst);
            }
            samples
        })
    });
    let failed = Sample {
        ttft: Duration::ZERO,
        ok: false,
        events: 0,
    };
    futures::future::join_all(tasks)
        .await
        .into_iter()
        .flat_map(|r| r.unwrap_or_else(|_| vec![failed; per_worker]))
        .collect()
}

async fn one(target: &Target, worker: usize, k: usize, path: Route) -> Sample {
    let started = Instant::now();
    let prompt = format!("{} #{worker}.{k}", target.prompt);
    let request = if path.via_chat() {
        let base = if path == Route::Edge {
            &target.edge_base
        } else {
            &target.chat_base
        };
        target
            .client
            .post(format!("{base}/api/chat/completions"))
            .bearer_auth(&target.tokens[worker % target.tokens.len()])
            .json(&json!({ "prompt": prompt }))
    } else {
        let base = if path == Route::Proxy {
            &target.proxy_base
        } else {
            &target.llm_base
        };
        target
            .client
            .post(format!("{base}/v1/chat/completions"))
            .bearer_auth("sk-bench")
            .json(&json!({
                "model": "sandbox-chat",
                "messages": [{"role": "user", "content": prompt}],
                "stream": true,
                "stream_options": {"include_usage": true},
            }))
    };
    let failed = Sample {
        ttft: Duration::ZERO,
        ok: false,
        events: 0,
    };
    let res = match request.send().await {
        Ok(res) if res.status().is_success() => res,
        Ok(res) => {
            eprintln!(
                "{}: status {}: {}",
                path.name(),
                res.status(),
                res.text().await.unwrap_or_default()
            );
            return failed;
        }
        Err(error) => {
            eprintln!("{}: request failed: {error}", path.name());
            return failed;
        }
    };
    read_stream(res, started, path.via_chat()).await
}

/// One path's round: its samples, wall time, CPU of each process, and the
/// RSS growth of the relaying process over the most streams open at once.
struct Round {
    samples: Vec<Sample>,
    wall: Duration,
    cpu: Vec<f64>,
    rss_per_stream: u64,
}

/// The process whose memory holds a path's open streams.
fn relay_of(path: Route) -> &'static str {
    match path {
        Route::Direct => "llm",
        Route::Proxy | Route::Edge => "nginx",
        Route::Chat => "chat-api",
    }
}

async fn round(target: &Arc<Target>, n: usize, path: Route, procs: &Arc<Procs>) -> Round {
    let relay = relay_of(path);
    let cpu_before = procs.cpu();
    let rss_idle = procs.rss(relay);
    let open = Arc::new(AtomicI64::new(0));
    let peak = Arc::new((AtomicU64::new(0), AtomicI64::new(0)));
    let sampler = {
        let (open, peak, procs) = (open.clone(), peak.clone(), procs.clone());
        tokio::spawn(async move {
            loop {
                peak.0.fetch_max(procs.rss(relay), Ordering::Relaxed);
                peak.1
                    .fetch_max(open.load(Ordering::SeqCst), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let started = Instant::now();
    let samples = batch(target, n, path, open).await;
    let wall = started.elapsed();
    sampler.abort();
    let cpu = procs
        .cpu()
        .iter()
        .zip(&cpu_before)
        .map(|(after, before)| after - before)
        .collect();
    let open_peak = u64::try_from(peak.1.load(Ordering::Relaxed)).unwrap_or(0);
    Round {
        samples,
        wall,
        cpu,
        rss_per_stream: peak.0.load(Ordering::Relaxed).saturating_sub(rss_idle) / open_peak.max(1),
    }
}

/// A path's measured rounds at one level, pooled.
struct Pooled {
    path: Route,
    samples: Vec<Sample>,
    wall: Duration,
    cpu: Vec<f64>,
    rss_per_stream: u64,
}

impl Pooled {
    fn new(path: Route, processes: usize) -> Self {
        Self {
            path,
            samples: Vec::new(),
            wall: Duration::ZERO,
            cpu: vec![0.0; processes],
            rss_per_stream: 0,
        }
    }

    fn add(&mut self, round: Round) {
        self.samples.extend(round.samples);
        self.wall += round.wall;
        for (sum, cpu) in self.cpu.iter_mut().zip(round.cpu) {
            *sum += cpu;
        }
        self.rss_per_stream = self.rss_per_stream.max(round.rss_per_stream);
    }

    fn ttft(&self, p: f64) -> Duration {
        let mut values: Vec<Duration> = self
            .samples
            .iter()
            .filter(|s| s.ok)
            .map(|s| s.ttft)
            .collect();
        percentile(&mut values, p)
    }

    fn streams_per_sec(&self) -> f64 {
        self.samples.len() as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    /// Text-carrying events per stream that finished.
    fn events_per_stream(&self) -> f64 {
        let ok: Vec<&Sample> = self.samples.iter().filter(|s| s.ok).collect();
        ok.iter().map(|s| f64::from(s.events)).sum::<f64>() / ok.len().max(1) as f64
    }

    fn errors(&self) -> usize {
        self.samples.iter().filter(|s| !s.ok).count()
    }
}

struct Stack {
    chat_api: Child,
    chat_pid: u32,
    chat_base: String,
    database_url: String,
    prefix: String,
}

async fn start_chat_api(llm_base: &str) -> anyhow::Result<Stack> {
    let database_url = paychat_common::testing::fresh_database().await?;
    let prefix = paychat_common::testing::unique("bench") + ":";
    let port = free_port()?;
    let config_file = root().join("config/default.toml");
    let chat_api = Command::new(std::env::current_exe()?)
        .arg("--serve")
        .env("PAYCHAT_CONFIG_FILE", &config_file)
        .env("PAYCHAT_DATABASE_URL", &database_url)
        .env("PAYCHAT_DATABASE_MAX_CONNECTIONS", "200")
        .env("PAYCHAT_REDIS_PREFIX", &prefix)
        .env("PAYCHAT_CHAT_BIND", format!("127.0.0.1:{port}"))
        .env("PAYCHAT_LOG_LEVEL", "warn")
        .env("PAYCHAT_LLM_BASE_URL", format!("{llm_base}/v1"))
        .env("PAYCHAT_LLM_API_KEYS", "sk-bench")
        .env("PAYCHAT_CHAT_MAX_STREAMS_PER_USER", "100000")
        .env("PAYCHAT_CHAT_REQUESTS_PER_MINUTE", "1000000")
        .env("PAYCHAT_REQUEST_TIMEOUT_MS", "60000")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting chat-api")?;
    let chat_pid = chat_api.id().context("chat-api pid")?;
    let chat_base = format!("http://127.0.0.1:{port}");
    wait_up(&format!("{chat_base}/healthz")).await?;
    eprintln!("chat-api: pid {chat_pid} on {chat_base}; database {database_url}");
    Ok(Stack {
        chat_api,
        chat_pid,
        chat_base,
        database_url,
        prefix,
    })
}

/// The port of a `scheme://…host:port/…` URL.
fn port_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let host = rest.split('/').next()?;
    Some(host.rsplit_once(':')?.1.to_owned())
}

async fn run() -> anyhow::Result<()> {
    let o = options()?;
    let (llm_base, sandbox) = start_sandbox(&o).await?;
    let llm_pid = sandbox.id().context("sandbox pid")?;
    let stack = start_chat_api(&llm_base).await?;
    let chat_port: u16 = port_of(&stack.chat_base)
        .and_then(|p| p.parse().ok())
        .context("chat-api port")?;
    let llm_port: u16 = port_of(&llm_base)
        .and_then(|p| p.parse().ok())
        .context("LLM port")?;
    let mut nginx = start_nginx(chat_port, llm_port).await?;
    let nginx_pid = nginx.child.id().context("nginx pid")?;

    let common = paychat_common::config::CommonConfig::load(&[])?;
    let db_port = port_of(&stack.database_url).unwrap_or_else(|| "3306".into());
    let redis_port = {
        use secrecy::ExposeSecret;
        port_of(common.redis_url.expose_secret()).unwrap_or_else(|| "6379".into())
    };
    let mut nginx_pids = vec![nginx_pid];
    nginx_pids.extend(children(nginx_pid));
    let procs = Arc::new(Procs {
        groups: vec![
            ("llm", vec![llm_pid]),
            ("chat-api", vec![stack.chat_pid]),
            ("nginx", nginx_pids),
            (
                "mariadbd",
                find_processes("mariadbd", &format!("--port={db_port}")),
            ),
            (
                "redis",
                find_processes("redis-server", &format!(":{redis_port}")),
            ),
        ],
    });
    for (name, pids) in &procs.groups {
        eprintln!("CPU of {name}: pids {pids:?}");
    }

    // Users straight in the database (accounts are not what is measured): one
    // per worker at the highest level, so one per open stream.
    let users = o.levels.iter().copied().max().unwrap_or(1);
    let db = sqlx::MySqlPool::connect(&stack.database_url).await?;
    let redis = paychat_common::redis::connect(&common.redis_url)?;
    let sessions = Sessions::new(
        redis,
        Keys::new(stack.prefix.clone()),
        Duration::from_secs(3600),
    );
    let ids = paychat_common::ids::IdGenerator::with_worker(1000);
    let mut tokens = Vec::with_capacity(users);
    for i in 0..users {
        let id = ids.next();
        sqlx::query(
            "INSERT INTO chat_user (id, nickname, can_conversation_times) VALUES (?, ?, 1000000)",
        )
        .bind(id)
        .bind(format!("bench{i}"))
        .execute(&db)
        .await?;
        tokens.push(sessions.create(id, Role::User).await?.token);
    }

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(4000)
        .tcp_nodelay(true)
        .build()?;
    let warm = Arc::new(Target {
        client,
        llm_base: llm_base.clone(),
        proxy_base: nginx.proxy_base.clone(),
        chat_base: stack.chat_base.clone(),
        edge_base: nginx.edge_base.clone(),
        tokens,
        prompt: "p".repeat(o.prompt_chars),
        ramp: Duration::ZERO,
        per_worker: 1,
    });
    // Warm every path; the direct streams also give one stream's length, over
    // which steady starts are spread.
    for &path in &o.paths {
        batch(&warm, 20, path, Arc::new(AtomicI64::new(0))).await;
    }
    let started = Instant::now();
    batch(&warm, 1, Route::Direct, Arc::new(AtomicI64::new(0))).await;
    let length = started.elapsed();
    let ramp = o.ramp_ms.map_or(length, Duration::from_millis);
    let target = Arc::new(Target {
        ramp,
        per_worker: o.per_worker,
        ..Arc::try_unwrap(warm).map_err(|_| anyhow::anyhow!("warm-up still running"))?
    });

    println!(
        "shape: {} chunks of {} bytes, {} ms apart ({} bytes), prompt {} chars; steady arrivals: \
         N workers (one user each) run {} streams back to back, first starts spread over {:.0} ms; \
         1 warm-up + {} measured rounds per level, paths run one after the other in each round",
        o.chunks,
        o.chunk_bytes,
        o.chunk_delay_ms,
        o.chunks * o.chunk_bytes,
        o.prompt_chars,
        o.per_worker,
        ms(ramp),
        o.rounds,
    );
    println!(
        "direct = the sandbox LLM itself; proxy = nginx plain proxy to it; chat-api = chat-api to it; \
         edge = nginx (deploy/nginx.conf.template) to chat-api. +TTFT = path minus direct at the same percentile."
    );
    let names: Vec<&str> = procs.groups.iter().map(|(n, _)| *n).collect();
    let mut header = format!(
        "{:>5} {:<8} | {:>8} {:>8} | {:>8} {:>8} | {:>9} {:>5} | CPU s/1000:",
        "N", "path", "TTFT p50", "TTFT p99", "+p50", "+p99", "streams/s", "%"
    );
    for name in &names {
        let _ = write!(header, " {name:>8}");
    }
    let _ = write!(
        header,
        " {:>8} | {:>13} | {:>6} | {:>9}",
        "sum", "KiB/open", "errors", "ev/stream"
    );
    println!("{header}");

    for &n in &o.levels {
        // Warm-up round: the pools grow to this level here, not in the measured rounds.
        for &path in &o.paths {
            tokio::time::sleep(Duration::from_millis(300)).await;
            round(&target, n, path, &procs).await;
        }
        let mut pooled: Vec<Pooled> = o
            .paths
            .iter()
            .map(|&p| Pooled::new(p, names.len()))
            .collect();
        for _ in 0..o.rounds {
            for p in &mut pooled {
                tokio::time::sleep(Duration::from_millis(300)).await;
                p.add(round(&target, n, p.path, &procs).await);
            }
        }
        let direct = &pooled[0];
        let (d50, d99) = (direct.ttft(50.0), direct.ttft(99.0));
        let direct_rate = direct.streams_per_sec();
        for p in &pooled {
            let streams = p.samples.len().max(1) as f64;
            let mut line = format!(
                "{:>5} {:<8} | {:>6.2}ms {:>6.2}ms | {:>+6.2}ms {:>+6.2}ms | {:>9.1} {:>4.0}% |            ",
                n,
                p.path.name(),
                ms(p.ttft(50.0)),
                ms(p.ttft(99.0)),
                ms(p.ttft(50.0)) - ms(d50),
                ms(p.ttft(99.0)) - ms(d99),
                p.streams_per_sec(),
                100.0 * p.streams_per_sec() / direct_rate.max(1e-9),
            );
            for cpu in &p.cpu {
                let _ = write!(line, " {:>8.2}", cpu / streams * 1000.0);
            }
            let _ = write!(
                line,
                " {:>8.2} | {:>8.1} {:<4} | {:>6} | {:>9.1}",
                p.cpu.iter().sum::<f64>() / streams * 1000.0,
                p.rss_per_stream as f64 / 1024.0,
                relay_of(p.path),
                p.errors(),
                p.events_per_stream()
            );
            println!("{line}");
        }
    }

    let Stack {
        mut chat_api,
        database_url,
        ..
    } = stack;
    chat_api.kill().await.ok();
    // SIGTERM lets the master stop its workers; a SIGKILL would leave them
    // listening on the bench's ports after it ends.
    if let Some(pid) = nginx.child.id() {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .await;
        let _ = tokio::time::timeout(Duration::from_secs(5), nginx.child.wait()).await;
    }
    nginx.child.kill().await.ok();
    let _ = std::fs::remove_dir_all(&nginx.dir);
    drop(sandbox);
    let name = database_url
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    if name.starts_with("paychat_test_") {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE `{name}`")))
            .execute(&db)
            .await
            .ok();
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if std::env::args().nth(1).as_deref() == Some("--serve") {
        runtime.block_on(serve())
    } else {
        runtime.block_on(run())
    }
}
