//! A silence timer for streams that hear something every few milliseconds:
//! hearing only sets a flag, and the timer looks at it in quarter steps, so a
//! busy stream reads no clock and moves no timer per event. It fires once
//! `wait` has passed with nothing heard — never sooner, at most a quarter
//! later.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

const STEPS: u32 = 4;

pub struct Quiet {
    step: Pin<Box<Sleep>>,
    wait: Duration,
    heard: bool,
    /// Steps in a row with nothing heard.
    silent: u32,
}

impl Quiet {
    pub fn new(wait: Duration) -> Self {
        Self {
            step: Box::pin(tokio::time::sleep(wait / STEPS)),
            wait,
            heard: false,
            silent: 0,
        }
    }

    pub fn heard(&mut self) {
        self.heard = true;
    }

    /// From now on, silence counts against `wait`, from zero.
    pub fn set_wait(&mut self, wait: Duration) {
        self.wait = wait;
        self.heard = true;
    }

    pub fn wait(&self) -> Duration {
        self.wait
    }

    /// Ready once `wait` has passed with nothing heard; the count then starts
    /// again, so the timer can be polled on for the next silence.
    pub fn poll_silence(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            ready!(self.step.as_mut().poll(cx));
            if std::mem::take(&mut self.heard) {
                self.silent = 0;
            } else {
                self.silent += 1;
            }
            let next = Instant::now() + self.wait / STEPS;
            self.step.as_mut().reset(next);
            if self.silent >= STEPS {
                self.silent = 0;
                return Poll::Ready(());
            }
        }
    }

    pub async fn silence(&mut self) {
        poll_fn(|cx| self.poll_silence(cx)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAIT: Duration = Duration::from_millis(200);

    #[tokio::test]
    async fn fires_after_the_wait_and_not_while_something_is_heard() {
        let start = Instant::now();
        let mut quiet = Quiet::new(WAIT);
        quiet.silence().await;
        let waited = start.elapsed();
        assert!(waited >= WAIT && waited < WAIT * 2, "{waited:?}");

        // Heard every 20 ms for three waits: no silence in that time, then
        // one a wait after the last.
        let start = Instant::now();
        let mut last = start;
        loop {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(20)), if start.elapsed() < WAIT * 3 => {
                    quiet.heard();
                    last = Instant::now();
                }
                () = quiet.silence() => break,
            }
        }
        assert!(start.elapsed() >= WAIT * 3, "fired while heard");
        let waited = last.elapsed();
        assert!(waited >= WAIT && waited < WAIT * 2, "{waited:?}");
    }
}
