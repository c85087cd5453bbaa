//! Streaming benchmark: many concurrent completions through chat-api and, in
//! the same run, straight against the sandbox LLM, to see what the relay adds.
//!
//! ```text
//! cargo build --release -p paychat-sandbox-llm
//! cargo run --release -p paychat-chat-api --bin bench_stream -- [--levels 1,50,200,1000]
//!     [--chunk-delay-ms 20] [--prompt-chars 200] [--rounds 3] [--users 500]
//!     [--mode steady|burst] [--streams-per-worker 3]
//!     [--ramp-ms N]                                    # spread each level's first starts over this
//!     [--sandbox-url http://127.0.0.1:8091]            # use a running sandbox LLM
//! ```
//!
//! By default it starts the sandbox LLM (`target/{release,debug}/paychat-sandbox-llm`)
//! and chat-api as separate processes (chat-api is this binary re-run with
//! `--serve`, configured through `PAYCHAT_*` variables against a fresh test
//! database and its own Redis prefix, with the per-user caps raised). CPU time
//! and resident memory are read from `/proc/<chat-api pid>/stat` and `/status`.
//!
//! "N concurrent streams" is N streams open at once. In the default `steady`
//! mode, N workers each run `--streams-per-worker` streams back to back, their
//! first starts spread over one stream's length (the warm-up's direct median,
//! or `--ramp-ms`), so about N streams are open all the time and new ones
//! arrive as old ones end, as on a live site. `burst` starts all N in the same
//! instant, once per round: the worst case, where each stream also waits for
//! the N - 1 that started with it.
//!
//! Each level first runs one unmeasured warm-up round (through chat-api and
//! direct), so the pools (database connections, upstream connections, the
//! allocator's arenas) have grown to that level; then `--rounds` measured
//! rounds, each direct then through chat-api, whose samples are pooled.
//!
//! Figures per level: added time-to-first-token (chat-api TTFT minus direct
//! TTFT, at p50 and at p99), whole-stream time, streams/s through chat-api,
//! chat-api CPU seconds per 1000 streams, and chat-api RSS growth per open
//! stream: "warm" is the measured rounds' peak RSS minus the RSS just before
//! them (pools warm, no stream open), over the most streams open at once (the
//! largest of the rounds); "cold" is the same for the warm-up round, so it
//! also holds the pools' growth to this level and first-touched memory.

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

struct Options {
    levels: Vec<usize>,
    chunk_delay_ms: u64,
    prompt_chars: usize,
    users: usize,
    rounds: usize,
    ramp_ms: Option<u64>,
    burst: bool,
    per_worker: usize,
    sandbox_url: Option<String>,
}

fn options() -> anyhow::Result<Options> {
    let mut o = Options {
        levels: vec![1, 50, 200, 1000],
        chunk_delay_ms: 20,
        prompt_chars: 200,
        users: 500,
        rounds: 3,
        ramp_ms: None,
        burst: false,
        per_worker: 3,
        sandbox_url: None,
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
            "--chunk-delay-ms" => o.chunk_delay_ms = value.parse()?,
            "--prompt-chars" => o.prompt_chars = value.parse()?,
            "--users" => o.users = value.parse::<usize>()?.max(1),
            "--rounds" => o.rounds = value.parse::<usize>()?.max(1),
            "--ramp-ms" => o.ramp_ms = Some(value.parse()?),
            "--mode" => {
                o.burst = match value.as_str() {
                    "burst" => true,
                    "steady" => false,
                    other => bail!("--mode: steady or burst, not {other}"),
                };
            }
            "--streams-per-worker" => o.per_worker = value.parse::<usize>()?.max(1),
            "--sandbox-url" => o.sandbox_url = Some(value.trim_end_matches('/').to_owned()),
            other => bail!("unknown flag {other}"),
        }
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

async fn start_sandbox(chunk_delay_ms: u64) -> anyhow::Result<(String, Child)> {
    let target = root().join("target");
    let binary = ["release", "debug"]
        .iter()
        .map(|p| target.join(p).join("paychat-sandbox-llm"))
        .find(|p| p.exists())
        .context("no sandbox LLM binary: run `cargo build --release -p paychat-sandbox-llm`")?;
    let port = free_port()?;
    let child = Command::new(&binary)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--chunk-delay-ms", &chunk_delay_ms.to_string()])
        .args(["--chunk-chars", "8"])
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

/// `--serve`: chat-api from the environment, as `main` runs it.
async fn serve() -> anyhow::Result<()> {
    let config = Config::load(&[])?;
    paychat_common::telemetry::init_logging(&config.common);
    Application::build(config).await?.run_until_stopped().await
}

/// CPU seconds (user + system) and resident bytes of a process.
fn proc_usage(pid: u32) -> anyhow::Result<(f64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let after = stat.rsplit_once(')').context("odd /proc stat")?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let rss_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmRSS")?;
    // CLK_TCK is 100 on Linux for every architecture we run on.
    Ok((ticks as f64 / 100.0, rss_kb * 1024))
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    /// Until the response headers (chat-api sends `meta` with them).
    headers: Duration,
    ttft: Duration,
    total: Duration,
    ok: bool,
}

/// Reads one SSE response; the first token is the first `delta` event
/// (chat-api) or the first chunk with non-empty content (OpenAI format).
async fn read_stream(res: reqwest::Response, started: Instant, openai: bool) -> Sample {
    let headers = started.elapsed();
    let mut ttft = None;
    let mut finished = false;
    let mut buffer = String::new();
    let mut body = res.bytes_stream();
    while let Some(Ok(bytes)) = body.next().await {
        buffer.push_str(&String::from_utf8_lossy(&bytes));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if openai {
                let data = block.trim().trim_start_matches("data:").trim();
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
            } else if block.starts_with("event: delta") && ttft.is_none() {
                ttft = Some(started.elapsed());
            } else if block.starts_with("event: done") {
                finished = true;
            }
        }
    }
    Sample {
        headers,
        ttft: ttft.unwrap_or_default(),
        total: started.elapsed(),
        ok: finished && ttft.is_some(),
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

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Target {
    client: reqwest::Client,
    chat_url: String,
    llm_url: String,
    tokens: Vec<String>,
    prompt: String,
    /// The first starts are spread over this.
    ramp: Duration,
    /// Streams each worker runs back to back.
    per_worker: usize,
}

async fn batch(
    target: &Arc<Target>,
    n: usize,
    via_chat: bool,
    open: Arc<AtomicI64>,
) -> Vec<Sample> {
    let (ramp, per_worker) = (target.ramp, target.per_worker);
    let tasks = (0..n).map(|i| {
        let target = target.clone();
        let open = open.clone();
        // Worker i starts at i/n of the ramp (all at once without one).
        let delay = ramp.mul_f64(i as f64 / n as f64);
        tokio::spawn(async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let mut samples = Vec::with_capacity(per_worker);
            for k in 0..per_worker {
                // In flight from the first byte sent: the server holds state for it from then on.
                open.fetch_add(1, Ordering::SeqCst);
                samples.push(one(&target, i + k * n, via_chat).await);
                open.fetch_sub(1, Ordering::SeqCst);
            }
            samples
        })
    });
    let failed = Sample {
        headers: Duration::ZERO,
        ttft: Duration::ZERO,
        total: Duration::ZERO,
        ok: false,
    };
    futures::future::join_all(tasks)
        .await
        .into_iter()
        .flat_map(|r| r.unwrap_or_else(|_| vec![failed; per_worker]))
        .collect()
}

async fn one(target: &Target, i: usize, via_chat: bool) -> Sample {
    let started = Instant::now();
    let prompt = format!("{} #{i}", target.prompt);
    let request = if via_chat {
        target
            .client
            .post(&target.chat_url)
            .bearer_auth(&target.tokens[i % target.tokens.len()])
            .json(&json!({ "prompt": prompt }))
    } else {
        target
            .client
            .post(&target.llm_url)
            .bearer_auth("sk-bench")
            .json(&json!({
                "model": "sandbox-chat",
                "messages": [{"role": "user", "content": prompt}],
                "stream": true,
                "stream_options": {"include_usage": true},
            }))
    };
    let failed = Sample {
        headers: Duration::ZERO,
        ttft: Duration::ZERO,
        total: started.elapsed(),
        ok: false,
    };
    let res = match request.send().await {
        Ok(res) if res.status().is_success() => res,
        Ok(res) => {
            eprintln!(
                "status {}: {}",
                res.status(),
                res.text().await.unwrap_or_default()
            );
            return failed;
        }
        Err(error) => {
            eprintln!("request failed: {error}");
            return failed;
        }
    };
    read_stream(res, started, !via_chat).await
}

/// One round through chat-api, with its CPU time and RSS growth per open stream.
struct Round {
    samples: Vec<Sample>,
    wall: Duration,
    cpu: f64,
    rss_idle: u64,
    rss_peak: u64,
    open_peak: u64,
}

impl Round {
    /// Peak RSS growth over the most streams open at once: RSS can peak a
    /// little after the most streams are open (while they are saved), so the
    /// two peaks are taken separately, which can only overstate the figure.
    fn rss_per_stream(&self) -> u64 {
        self.rss_peak.saturating_sub(self.rss_idle) / self.open_peak.max(1)
    }
}

async fn through_chat(target: &Arc<Target>, n: usize, pid: u32) -> anyhow::Result<Round> {
    let (cpu_before, rss_idle) = proc_usage(pid)?;
    let open = Arc::new(AtomicI64::new(0));
    let peak = Arc::new((AtomicU64::new(0), AtomicI64::new(0)));
    let sampler = {
        let (open, peak) = (open.clone(), peak.clone());
        tokio::spawn(async move {
            loop {
                if let Ok((_, rss)) = proc_usage(pid) {
                    peak.0.fetch_max(rss, Ordering::Relaxed);
                }
                peak.1
                    .fetch_max(open.load(Ordering::SeqCst), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let started = Instant::now();
    let samples = batch(target, n, true, open).await;
    let wall = started.elapsed();
    sampler.abort();
    let (cpu_after, _) = proc_usage(pid)?;
    Ok(Round {
        samples,
        wall,
        cpu: cpu_after - cpu_before,
        rss_idle,
        rss_peak: peak.0.load(Ordering::Relaxed),
        open_peak: u64::try_from(peak.1.load(Ordering::Relaxed)).unwrap_or(0),
    })
}

async fn run() -> anyhow::Result<()> {
    let o = options()?;
    let (llm_base, _sandbox) = match &o.sandbox_url {
        Some(url) => (url.clone(), None),
        None => {
            let (base, child) = start_sandbox(o.chunk_delay_ms).await?;
            (base, Some(child))
        }
    };

    let database_url = paychat_common::testing::fresh_database().await?;
    let prefix = paychat_common::testing::unique("bench") + ":";
    let port = free_port()?;
    let config_file = root().join("config/default.toml");
    let mut chat_api = Command::new(std::env::current_exe()?)
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
    let pid = chat_api.id().context("chat-api pid")?;
    let chat_base = format!("http://127.0.0.1:{port}");
    wait_up(&format!("{chat_base}/healthz")).await?;
    eprintln!("chat-api: pid {pid} on {chat_base}; database {database_url}");

    // Users straight in the database (accounts are not what is measured).
    let db = sqlx::MySqlPool::connect(&database_url).await?;
    let redis = paychat_common::redis::connect(
        &paychat_common::config::CommonConfig::load(&[])?.redis_url,
    )?;
    let sessions = Sessions::new(redis, Keys::new(prefix.clone()), Duration::from_secs(3600));
    let ids = paychat_common::ids::IdGenerator::with_worker(1000);
    let mut tokens = Vec::new();
    // As many users as a real site has for this many streams (the default cap
    // is 2 open streams a user), so a chat time is not taken on a few hot rows.
    for i in 0..o.users {
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
        .pool_max_idle_per_host(2000)
        .tcp_nodelay(true)
        .build()?;
    let warm = Arc::new(Target {
        client,
        chat_url: format!("{chat_base}/api/chat/completions"),
        llm_url: format!("{llm_base}/v1/chat/completions"),
        tokens,
        prompt: "p".repeat(o.prompt_chars),
        ramp: Duration::ZERO,
        per_worker: 1,
    });
    // Warm both paths (connections, caches, the encoder); the direct streams
    // also give one stream's length, over which steady starts are spread.
    let open = Arc::new(AtomicI64::new(0));
    batch(&warm, 20, true, open.clone()).await;
    let mut lengths: Vec<Duration> = batch(&warm, 20, false, open.clone())
        .await
        .iter()
        .map(|s| s.total)
        .collect();
    let length = percentile(&mut lengths, 50.0);
    let ramp = match (o.ramp_ms, o.burst) {
        (Some(ms), _) => Duration::from_millis(ms),
        (None, true) => Duration::ZERO,
        (None, false) => length,
    };
    let per_worker = if o.burst { 1 } else { o.per_worker };
    let target = Arc::new(Target {
        ramp,
        per_worker,
        ..Arc::try_unwrap(warm).map_err(|_| anyhow::anyhow!("warm-up still running"))?
    });

    let shape = if o.burst {
        "burst: each level's streams start at once".to_owned()
    } else {
        format!(
            "steady: each of the N workers runs {per_worker} streams back to back, first starts spread over {:.0} ms",
            ms(ramp)
        )
    };
    println!(
        "chunk delay {} ms, prompt {} chars, answer {} chars in 8-char chunks; {shape}; 1 warm-up + {} measured rounds per level; chat-api is a separate process (pid {pid}), CPU and RSS from /proc/{pid}",
        o.chunk_delay_ms,
        o.prompt_chars,
        o.prompt_chars + 50,
        o.rounds,
    );
    println!(
        "{:>6} | {:>10} {:>10} | {:>10} {:>10} | {:>10} {:>10} | {:>9} | {:>10} | {:>12} {:>12} | {:>6}",
        "conc",
        "+TTFT p50",
        "+TTFT p99",
        "TTFT p50",
        "direct p50",
        "stream p50",
        "direct p50",
        "streams/s",
        "CPU s/1000",
        "RSS/str warm",
        "RSS/str cold",
        "errors"
    );
    for &n in &o.levels {
        // Warm-up round: the pools grow to this level here, not in the measured rounds.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let cold = through_chat(&target, n, pid).await?;
        let warm_direct = batch(&target, n, false, Arc::new(AtomicI64::new(0))).await;

        let mut errors = cold
            .samples
            .iter()
            .chain(&warm_direct)
            .filter(|s| !s.ok)
            .count();
        let mut direct = Vec::new();
        let mut via = Vec::new();
        let (mut wall, mut cpu, mut warm_rss) = (Duration::ZERO, 0.0, 0u64);
        let (mut rss_idle, mut rss_peak) = (0u64, 0u64);
        for _ in 0..o.rounds {
            tokio::time::sleep(Duration::from_millis(300)).await;
            direct.extend(batch(&target, n, false, Arc::new(AtomicI64::new(0))).await);
            tokio::time::sleep(Duration::from_millis(300)).await;
            let round = through_chat(&target, n, pid).await?;
            wall += round.wall;
            cpu += round.cpu;
            if round.rss_per_stream() >= warm_rss {
                warm_rss = round.rss_per_stream();
                (rss_idle, rss_peak) = (round.rss_idle, round.rss_peak);
            }
            via.extend(round.samples);
        }
        errors += via.iter().chain(&direct).filter(|s| !s.ok).count();

        let ok_ttft =
            |v: &[Sample]| -> Vec<Duration> { v.iter().filter(|s| s.ok).map(|s| s.ttft).collect() };
        let ok_total = |v: &[Sample]| -> Vec<Duration> {
            v.iter().filter(|s| s.ok).map(|s| s.total).collect()
        };
        let (mut via_ttft, mut direct_ttft) = (ok_ttft(&via), ok_ttft(&direct));
        let (mut via_total, mut direct_total) = (ok_total(&via), ok_total(&direct));
        let (v50, v99) = (
            percentile(&mut via_ttft, 50.0),
            percentile(&mut via_ttft, 99.0),
        );
        let (d50, d99) = (
            percentile(&mut direct_ttft, 50.0),
            percentile(&mut direct_ttft, 99.0),
        );
        let ok_headers = |v: &[Sample]| -> Vec<Duration> {
            v.iter().filter(|s| s.ok).map(|s| s.headers).collect()
        };
        let (mut via_headers, mut direct_headers) = (ok_headers(&via), ok_headers(&direct));
        let streams = (n * o.rounds * per_worker) as f64;
        println!(
            "{:>6} | {:>8.2}ms {:>8.2}ms | {:>8.2}ms {:>8.2}ms | {:>8.1}ms {:>8.1}ms | {:>9.1} | {:>10.3} | {:>8.1} KiB {:>8.1} KiB | {:>6}",
            n,
            ms(v50) - ms(d50),
            ms(v99) - ms(d99),
            ms(v50),
            ms(d50),
            ms(percentile(&mut via_total, 50.0)),
            ms(percentile(&mut direct_total, 50.0)),
            streams / wall.as_secs_f64(),
            cpu / streams * 1000.0,
            warm_rss as f64 / 1024.0,
            cold.rss_per_stream() as f64 / 1024.0,
            errors
        );
        println!(
            "{:>6}   headers p50 {:.2} ms (direct {:.2} ms), p99 {:.2} ms (direct {:.2} ms); RSS warm round {:.1} -> {:.1} MiB; cold round {:.1} -> {:.1} MiB",
            "",
            ms(percentile(&mut via_headers, 50.0)),
            ms(percentile(&mut direct_headers, 50.0)),
            ms(percentile(&mut via_headers, 99.0)),
            ms(percentile(&mut direct_headers, 99.0)),
            mib(rss_idle),
            mib(rss_peak),
            mib(cold.rss_idle),
            mib(cold.rss_peak),
        );
    }

    chat_api.kill().await.ok();
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
