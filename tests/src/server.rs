//! Running the workspace's programs from tests: a server (`cos pack serve`,
//! `cos-pdp`) on a free loopback port until it says where it listens,
//! killed when dropped; a command run with a deadline; bounded waiting.
//!
//! The servers print `... on <scheme>://<addr>` as their first line of
//! standard output once they listen (`--listen 127.0.0.1:0` picks a free
//! port), which [`start`] reads. Used by the cos-cli and cos-pdp
//! integration tests (dev-dependency; cos-tests depends on no example, so
//! there is no cycle).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test support: a failure should panic with context"
)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A running server, killed (and reaped) when dropped.
#[derive(Debug)]
pub struct Server {
    /// The process.
    pub child: Child,
    /// `http(s)://127.0.0.1:PORT`, from its first line.
    pub base: String,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// The port it listens on.
    pub port: u16,
    /// The first line it printed (without the line end).
    pub first_line: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `command` (standard input closed, standard error inherited) until
/// its first line of standard output says where it listens (`... on
/// <url>`); panics, naming the program, when it exits or prints something
/// else first.
pub fn start(mut command: Command) -> Server {
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = match line.trim().rsplit_once(" on ") {
        Some((_, url)) => url.to_owned(),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{program} did not start: {line:?}");
        }
    };
    let addr = base
        .split_once("://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .1
        .to_owned();
    let port = addr.rsplit_once(':').unwrap().1.parse().unwrap();
    Server {
        child,
        base,
        addr,
        port,
        first_line: line.trim_end().to_owned(),
    }
}

/// What [`run_bounded`] saw.
#[derive(Debug)]
pub struct Bounded {
    /// Exit status and captured standard output and error.
    pub output: Output,
    /// How long it ran.
    pub elapsed: Duration,
    /// Whether it was killed at the deadline (it had not exited by itself).
    pub killed: bool,
}

/// Runs `command` (standard input closed, output captured), killing it if
/// it has not exited after `limit`: for a program that must stop by itself
/// (a refused start, a read that must not block).
pub fn run_bounded(mut command: Command, limit: Duration) -> Bounded {
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut killed = false;
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            killed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Bounded {
        output: child.wait_with_output().unwrap(),
        elapsed: started.elapsed(),
        killed,
    }
}

/// Waits (20 ms apart, 30 s at most) until `f` holds; panics naming `what`.
pub fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}
