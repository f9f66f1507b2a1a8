//! A webhook receiver on 127.0.0.1 for tests, and the Standard Webhooks signature check
//! written from the specification (not from the product's code).
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

#[derive(Clone, Debug)]
pub struct Delivery {
    pub headers: HashMap<String, String>,
    pub body: String,
    pub answered: u16,
    pub at: Instant,
}

impl Delivery {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name}: {self:?}"))
    }
    pub fn webhook_id(&self) -> &str {
        self.header("webhook-id")
    }
    pub fn payload(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
    /// The notification this delivery carries.
    pub fn notification(&self) -> String {
        self.payload()["data"]["id"].as_str().unwrap().to_owned()
    }
}

/// A gateway on 127.0.0.1 that records every request and answers 500 to the next
/// `failures` of them, 200 after that. One request per connection, closed after the answer.
pub struct Receiver {
    pub url: String,
    seen: Arc<Mutex<Vec<Delivery>>>,
    failures: Arc<AtomicUsize>,
}

impl Receiver {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/gateway", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let failures = Arc::new(AtomicUsize::new(0));
        let (s, f) = (Arc::clone(&seen), Arc::clone(&failures));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (s, f) = (Arc::clone(&s), Arc::clone(&f));
                std::thread::spawn(move || answer(stream, &s, &f));
            }
        });
        Self { url, seen, failures }
    }

    pub fn fail_next(&self, n: usize) {
        self.failures.store(n, Ordering::SeqCst);
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.seen.lock().unwrap().clone()
    }
}

fn answer(stream: TcpStream, seen: &Mutex<Vec<Delivery>>, failures: &AtomicUsize) {
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut reader = BufReader::new(&stream);
    let mut line = String::new();
    let mut headers = HashMap::new();
    while reader.read_line(&mut line).unwrap_or(0) > 0 && !line.trim().is_empty() {
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
        line.clear();
    }
    let body = if headers
        .get("transfer-encoding")
        .is_some_and(|t| t.contains("chunked"))
    {
        read_chunked(&mut reader)
    } else {
        let length = headers.get("content-length").map_or(0, |n| n.parse().unwrap());
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok().map(|()| body)
    };
    let Some(body) = body else { return };
    let fail = failures
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let answered = if fail { 500 } else { 200 };
    seen.lock().unwrap().push(Delivery {
        headers,
        body: String::from_utf8(body).unwrap(),
        answered,
        at: Instant::now(),
    });
    let status = if fail {
        "500 Internal Server Error"
    } else {
        "200 OK"
    };
    let mut out = &stream;
    let _ = write!(
        out,
        "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    );
}

fn read_chunked(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).ok()?;
        let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).ok()?;
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

/// A `whsec_` secret and the key bytes it stands for.
pub fn secret() -> (String, Vec<u8>) {
    let key: [u8; 32] = rand::random();
    (format!("whsec_{}", STANDARD.encode(key)), key.to_vec())
}

/// Standard Webhooks: `v1,` + base64 HMAC-SHA256 of "{id}.{timestamp}.{body}".
pub fn assert_signed(key: &[u8], d: &Delivery) {
    let (id, timestamp) = (d.webhook_id(), d.header("webhook-timestamp"));
    let sent: i64 = timestamp.parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - sent).abs() < 300, "{timestamp}");
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(format!("{id}.{timestamp}.{}", d.body).as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    let signatures = d.header("webhook-signature");
    assert!(
        signatures.split(' ').any(|s| s == expected),
        "{id}: {signatures} is not {expected}"
    );
    assert!(d.header("content-type").starts_with("application/json"), "{d:?}");
}
