//! The requests each case sends, and the login storm and the open connections.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::load::MakeRequest;
use crate::world::{Rider, PASSWORD};

/// Rider `offset + i` claims a voucher of `campaign`.
pub fn claims(base: &str, campaign: &str, riders: Arc<Vec<Rider>>, offset: usize) -> MakeRequest {
    let url = format!("{base}/api/v1/campaigns/{campaign}/claims");
    Arc::new(move |client, i| client.post(&url).bearer_auth(&riders[offset + i].token))
}

/// Code `i` is redeemed at `station` by counter `i % counters` (each counter account is
/// one person at one terminal, and its code-guess budget counts requests in flight).
pub fn redemptions(
    base: &str,
    counters: &[(String, String)],
    station: &str,
    codes: Arc<Vec<String>>,
) -> MakeRequest {
    let (url, station) = (format!("{base}/api/v1/counter/redemptions"), station.to_owned());
    let tokens: Vec<String> = counters.iter().map(|(token, _)| token.clone()).collect();
    Arc::new(move |client, i| {
        client
            .post(&url)
            .bearer_auth(&tokens[i % tokens.len()])
            .json(&json!({"code": codes[i], "station_id": station}))
    })
}

/// A rider (the `i`-th, cycling) asks whether they may claim from `campaign`.
pub fn eligibility(base: &str, campaign: &str, riders: Arc<Vec<Rider>>) -> MakeRequest {
    let url = format!("{base}/api/v1/campaigns/{campaign}/eligibility");
    Arc::new(move |client, i| {
        client
            .get(&url)
            .bearer_auth(&riders[(i * 7919) % riders.len()].token)
    })
}

/// Each of `tokens` refreshed once, at 64 clients: not a goal of issue 16, but what a
/// refresh costs, the request launch morning brings most of (docs/capacity.md,
/// "Sign-ins"). The bench's service lifts the refresh budgets, which would otherwise
/// answer most of them 429 (all come from 127.0.0.1).
pub async fn refreshes(base: &str, pid: u32, tokens: Vec<String>) -> crate::load::Run {
    let (url, n, tokens) = (
        format!("{base}/api/v1/auth/refresh"),
        tokens.len(),
        Arc::new(tokens),
    );
    let make: MakeRequest =
        Arc::new(move |client, i| client.post(&url).json(&json!({"refresh_token": tokens[i]})));
    crate::load::closed_loop(64, n, Duration::from_secs(120), pid, make).await
}

/// `GET /healthz`: the generator's own ceiling.
pub fn health(base: &str) -> MakeRequest {
    let url = format!("{base}/healthz");
    Arc::new(move |client, _| client.get(&url))
}

/// `n` clients signing in over and over (argon2 each time) until stopped; the statuses
/// they got.
pub struct Storm {
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<Vec<u16>>>,
}

impl Storm {
    pub fn start(base: &str, riders: &[Rider], n: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let client = reqwest::Client::builder().no_proxy().build().expect("client");
        let tasks = riders
            .iter()
            .take(n)
            .map(|rider| {
                let (stop, client, url, phone) = (
                    stop.clone(),
                    client.clone(),
                    format!("{base}/api/v1/auth/login"),
                    rider.phone.clone(),
                );
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let sent = client
                            .post(&url)
                            .json(&json!({"phone": phone, "password": PASSWORD}))
                            .send()
                            .await;
                        seen.push(sent.map_or(0, |r| r.status().as_u16()));
                    }
                    seen
                })
            })
            .collect();
        Self { stop, tasks }
    }

    /// Stops the storm: how many sign-ins were answered with each status.
    pub async fn stop(self) -> std::collections::BTreeMap<u16, usize> {
        self.stop.store(true, Ordering::Relaxed);
        let mut counts = std::collections::BTreeMap::new();
        for task in self.tasks {
            for status in task.await.unwrap_or_default() {
                *counts.entry(status).or_insert(0) += 1;
            }
        }
        counts
    }
}

/// Opens `n` keep-alive connections to `addr` ("127.0.0.1:port"), 1,000 at a time, each
/// answering one `GET /healthz`. After each thousand every connection open so far is
/// pinged again, so none idles into the server's 5 s keep-alive timeout; those that did
/// not answer are dropped.
pub async fn open_connections(addr: &str, n: usize) -> Vec<tokio::net::TcpStream> {
    let mut open: Vec<tokio::net::TcpStream> = Vec::with_capacity(n);
    while open.len() < n {
        let tries = (0..1000.min(n - open.len())).map(|_| {
            let addr = addr.to_owned();
            tokio::spawn(async move {
                let mut stream = tokio::net::TcpStream::connect(&addr).await.ok()?;
                ping(&mut stream).await.then_some(stream)
            })
        });
        let opened: Vec<_> = futures_util::future::join_all(tries)
            .await
            .into_iter()
            .filter_map(|t| t.ok().flatten())
            .collect();
        if opened.is_empty() {
            break;
        }
        open.extend(opened);
        open = keep_alive(open).await;
    }
    open
}

/// Pings every connection, 1,000 at a time; keeps those that answered.
async fn keep_alive(open: Vec<tokio::net::TcpStream>) -> Vec<tokio::net::TcpStream> {
    let mut alive = Vec::with_capacity(open.len());
    let mut rest = open.into_iter();
    loop {
        let chunk: Vec<_> = rest.by_ref().take(1000).collect();
        if chunk.is_empty() {
            return alive;
        }
        let pinged = chunk
            .into_iter()
            .map(|mut stream| async move { ping(&mut stream).await.then_some(stream) });
        alive.extend(futures_util::future::join_all(pinged).await.into_iter().flatten());
    }
}

/// Pings every connection at once (one at a time would outlast the 5 s keep-alive);
/// how many answered.
pub async fn ping_all(open: &mut [tokio::net::TcpStream]) -> usize {
    let mut alive = 0;
    for chunk in open.chunks_mut(1000) {
        let pings = chunk.iter_mut().map(ping);
        alive += futures_util::future::join_all(pings)
            .await
            .into_iter()
            .filter(|ok| *ok)
            .count();
    }
    alive
}

/// One `GET /healthz` on an open connection; whether it was answered (and stays open).
pub async fn ping(stream: &mut tokio::net::TcpStream) -> bool {
    let sent = stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .is_ok();
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await;
    sent && matches!(read, Ok(Ok(n)) if n > 0 && buf.starts_with(b"HTTP/1.1 200"))
}
