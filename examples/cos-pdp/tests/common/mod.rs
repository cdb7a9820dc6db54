//! What the cos-pdp integration tests share (each test file is a crate of
//! its own and includes this module with `mod common;`): the daemon on a
//! free loopback port, killed when dropped, and bounded waiting (both from
//! `cos_tests::server`, which the cos-cli tests use too); an HTTP client; a
//! scripted pack server.
#![allow(
    dead_code,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test support: each test crate uses a part, and a failure should panic with context"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cos_policy::distribution::publish::PublishedPack;
use serde_json::Value;

/// The daemon, killed when dropped: `base` is `http(s)://127.0.0.1:PORT`,
/// `addr` is `127.0.0.1:PORT` (the shared test server of `cos-tests`).
pub(crate) use cos_tests::server::Server as Pdp;
/// Runs `command` (cos-pdp, or a shell that execs it) until it says where
/// it listens.
pub(crate) use cos_tests::server::start;
/// Waits (20 ms apart, 30 s at most) until `f` holds.
pub(crate) use cos_tests::server::wait_until;

/// Starts cos-pdp on a free port with `args`, once it says where it listens.
pub(crate) fn pdp(args: &[&str]) -> Pdp {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cos-pdp"));
    command.args(["--listen", "127.0.0.1:0"]).args(args);
    start(command)
}

/// A client that reads error statuses as answers, 10 s per request.
pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

pub(crate) fn post(agent: &ureq::Agent, url: &str, body: &Value) -> (u16, Value) {
    let mut r = agent.post(url).send(body.to_string().as_bytes()).unwrap();
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub(crate) fn get(agent: &ureq::Agent, url: &str) -> (u16, String) {
    let mut r = agent.get(url).call().unwrap();
    (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
}

/// What the scripted pack server does now.
#[derive(Clone)]
pub(crate) enum Mode {
    Serve(PublishedPack),
    Fail500,
    Hang,
    Truncate(PublishedPack),
}

/// A pack server whose behaviour the test switches; long polls are not
/// offered (each request is answered at once).
pub(crate) fn pack_server(mode: Arc<Mutex<Mode>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mode = Arc::clone(&mode);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let (mut first, mut inm) = (String::new(), None);
                if reader.read_line(&mut first).unwrap_or(0) == 0 {
                    return;
                }
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':')
                        && k.eq_ignore_ascii_case("if-none-match")
                    {
                        inm = Some(v.trim().to_owned());
                    }
                }
                let attestation = first.contains("/attestation");
                let m = mode.lock().unwrap().clone();
                let (status, headers, body, length): (u16, Vec<String>, Vec<u8>, Option<usize>) =
                    match m {
                        Mode::Fail500 => (500, vec![], b"down".to_vec(), None),
                        Mode::Hang => {
                            std::thread::sleep(Duration::from_secs(5));
                            return;
                        }
                        Mode::Serve(p) | Mode::Truncate(p) if attestation => (
                            200,
                            vec![],
                            p.sigstore_bundle().map(|b| b.to_vec()).unwrap_or_default(),
                            None,
                        ),
                        Mode::Serve(p) if p.not_modified(inm.as_deref()) => {
                            (304, vec![format!("ETag: {}", p.etag())], vec![], None)
                        }
                        Mode::Serve(p) => (
                            200,
                            vec![
                                format!("ETag: {}", p.etag()),
                                format!("Digest: {}", p.digest_header()),
                            ],
                            p.archive().to_vec(),
                            None,
                        ),
                        Mode::Truncate(p) => (
                            200,
                            vec![format!("Digest: {}", p.digest_header())],
                            p.archive()[..p.archive().len() / 2].to_vec(),
                            Some(p.archive().len()),
                        ),
                    };
                let mut out = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                    length.unwrap_or(body.len())
                );
                for h in headers {
                    out.push_str(&h);
                    out.push_str("\r\n");
                }
                out.push_str("\r\n");
                let _ = stream.write_all(out.as_bytes());
                let _ = stream.write_all(&body);
                let _ = stream.flush();
                let _ = stream.set_read_timeout(Some(Duration::from_millis(10)));
                let _ = reader.read_to_end(&mut Vec::new());
            });
        }
    });
    base
}
