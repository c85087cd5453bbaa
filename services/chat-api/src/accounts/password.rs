//! argon2id hashing (PHC strings) on a few threads of its own.
//!
//! One hash needs 19 MiB (argon2's defaults, RFC 9106's second recommended
//! option). Allocated per request on tokio's blocking pool, a login flood ran
//! hundreds of hashes at once and glibc kept the freed blocks in its arenas:
//! the process grew by gigabytes and stayed there. Here each worker owns one
//! block for its lifetime, at most one hash per worker runs at a time, and a
//! request that cannot get a worker within the configured wait is answered
//! 503 `busy` instead of queueing without end.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use paychat_common::ApiError;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

/// The bounded hashing pool; cheap to share behind an `Arc`.
pub struct Hasher {
    jobs: SyncSender<Job>,
    /// One per worker: holding one is the right to have a hash computed now.
    workers: Arc<Semaphore>,
    queue_wait: Duration,
}

enum Work {
    Hash(oneshot::Sender<anyhow::Result<String>>),
    /// Against the stored PHC string; `None` (no account) hashes anyway, so
    /// an unknown address takes as long as a wrong password, and answers false.
    Verify(Option<String>, oneshot::Sender<bool>),
}

struct Job {
    password: SecretString,
    work: Work,
    /// Released by the worker when the hash is done, even if the request
    /// that asked has gone meanwhile.
    _permit: OwnedSemaphorePermit,
}

impl Hasher {
    /// Starts `threads` workers (0: one per core); a request waits at most
    /// `queue_wait` for one of them.
    pub fn start(threads: usize, queue_wait: Duration) -> anyhow::Result<Self> {
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        let (jobs, receiver) = sync_channel(threads);
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..threads {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || work(&receiver))
                .context("starting a password hashing thread")?;
        }
        Ok(Self {
            jobs,
            workers: Arc::new(Semaphore::new(threads)),
            queue_wait,
        })
    }

    /// The PHC string of `password` (argon2id, RFC 9106 defaults, random salt).
    pub async fn hash(&self, password: &str) -> Result<String, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.submit(password, Work::Hash(reply)).await?;
        let hashed = answer.await.context("the hashing thread stopped")??;
        Ok(hashed)
    }

    /// Checks `password` against `stored`, or, when there is no account,
    /// spends the same time and answers false.
    pub async fn verify(&self, password: &str, stored: Option<String>) -> Result<bool, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.submit(password, Work::Verify(stored, reply)).await?;
        Ok(answer.await.context("the hashing thread stopped")?)
    }

    async fn submit(&self, password: &str, work: Work) -> Result<(), ApiError> {
        let waited = tokio::time::timeout(self.queue_wait, self.workers.clone().acquire_owned());
        let permit = match waited.await {
            Ok(permit) => permit.context("the hashing pool is closed")?,
            Err(_) => {
                metrics::counter!("password_hash_busy_total").increment(1);
                return Err(ApiError::Busy {
                    retry_after_secs: self.queue_wait.as_secs().max(1),
                });
            }
        };
        let job = Job {
            password: SecretString::from(password.to_owned()),
            work,
            _permit: permit,
        };
        // Never full: there are as many permits as slots.
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => ApiError::internal(anyhow::anyhow!("hashing queue full")),
            TrySendError::Disconnected(_) => {
                ApiError::internal(anyhow::anyhow!("the hashing threads have stopped"))
            }
        })
    }
}

/// A worker: takes jobs until the pool is dropped, reusing one memory block.
fn work(jobs: &Mutex<Receiver<Job>>) {
    let mut memory = Vec::new();
    loop {
        let next = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = next else { return };
        let password = job.password.expose_secret().as_bytes();
        // A panic must cost one request, not a worker.
        let done = std::panic::catch_unwind(AssertUnwindSafe(|| match job.work {
            Work::Hash(reply) => {
                let _ = reply.send(hash_with(&mut memory, password));
            }
            Work::Verify(stored, reply) => {
                let matches = match stored {
                    Some(phc) => verify_with(&mut memory, password, &phc),
                    None => {
                        let _ = hash_with(&mut memory, password);
                        false
                    }
                };
                let _ = reply.send(matches);
            }
        }));
        if done.is_err() {
            tracing::error!("password hashing panicked");
            memory = Vec::new();
        }
    }
}

/// The first `params.block_count()` blocks of the worker's memory, grown to
/// the default size once; anything larger (a hash made with other
/// parameters) gets a block of its own for the call.
fn blocks<'m>(
    memory: &'m mut Vec<Block>,
    params: &Params,
    spare: &'m mut Vec<Block>,
) -> &'m mut [Block] {
    let needed = params.block_count();
    let kept = Params::default().block_count();
    if needed <= kept {
        if memory.len() < kept {
            memory.resize(kept, Block::default());
        }
        &mut memory[..needed]
    } else {
        spare.resize(needed, Block::default());
        spare
    }
}

fn hash_with(memory: &mut Vec<Block>, password: &[u8]) -> anyhow::Result<String> {
    let params = Params::default();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_buf)
        .map_err(|e| anyhow::anyhow!("decoding a fresh salt: {e}"))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let mut spare = Vec::new();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(
            password,
            salt_bytes,
            &mut out,
            blocks(memory, &params, &mut spare),
        )
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)
            .map_err(|e| anyhow::anyhow!("encoding argon2 parameters: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("argon2 output: {e}"))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` hashes to the PHC string `phc`, with its own
/// algorithm, version, parameters and salt; false for anything unreadable.
fn verify_with(memory: &mut Vec<Block>, password: &[u8], phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut out = [0u8; Output::MAX_LENGTH];
    let Some(out) = out.get_mut(..expected.len()) else {
        return false;
    };
    let mut spare = Vec::new();
    let computed = Argon2::new(algorithm, version, params.clone()).hash_password_into_with_memory(
        password,
        salt_bytes,
        out,
        blocks(memory, &params, &mut spare),
    );
    // `Output`'s equality is constant-time.
    computed.is_ok() && Output::new(out).is_ok_and(|out| out == expected)
}

#[cfg(test)]
mod tests {
    use argon2::{PasswordHasher, PasswordVerifier};

    use super::*;

    fn pool(threads: usize, wait_ms: u64) -> Hasher {
        Hasher::start(threads, Duration::from_millis(wait_ms)).expect("pool")
    }

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_match() {
        let hasher = pool(2, 10_000);
        let phc = hasher.hash("correct horse").await.expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(
            hasher
                .verify("correct horse", Some(phc.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify("wrong horse", Some(phc))
                .await
                .expect("verify")
        );
        assert!(!hasher.verify("anything", None).await.expect("verify"));
        assert!(
            !hasher
                .verify("x", Some("not a hash".into()))
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn hashes_are_those_of_the_argon2_crate_both_ways() {
        let hasher = pool(1, 10_000);
        let ours = hasher.hash("correct horse").await.expect("hash");
        let parsed = PasswordHash::new(&ours).expect("a PHC string");
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"battery staple", &salt)
            .expect("hash")
            .to_string();
        assert!(
            hasher
                .verify("battery staple", Some(theirs.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify("battery", Some(theirs))
                .await
                .expect("verify")
        );
        // Other (smaller) parameters are read from the string.
        let small = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 1, 1, None).expect("params"),
        )
        .hash_password(b"tiny", &salt)
        .expect("hash")
        .to_string();
        assert!(hasher.verify("tiny", Some(small)).await.expect("verify"));
    }

    #[tokio::test]
    async fn waiting_too_long_for_a_worker_is_busy() {
        let hasher = Arc::new(pool(1, 1));
        let results = futures::future::join_all((0..4).map(|_| {
            let hasher = hasher.clone();
            async move { hasher.hash("correct horse").await }
        }))
        .await;
        let busy = results
            .iter()
            .filter(|r| matches!(r, Err(ApiError::Busy { .. })))
            .count();
        assert!(
            busy >= 1,
            "none of four was refused with one worker and 1 ms to wait"
        );
        assert!(results.iter().any(Result::is_ok));
    }
}
