//! Voucher code input (issue 9 fault 6, contract v1.1 "Voucher code input"): however a
//! keyboard, an input method or a scanner typed a real code, the counter finds it and can
//! redeem it; a code with a wrong character is still unknown.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use common::*;
use serde_json::{json, Value};

/// Ways people type a code. Those needing a 0 or a 1 come first, to pick their vouchers.
const WAYS: [&str; 24] = [
    "O for 0",
    "o for 0",
    "I for 1",
    "L for 1",
    "l for 1",
    "lower case",
    "full-width",
    "full-width lower case",
    "no separators",
    "ideographic spaces",
    "other Unicode spaces",
    "hyphen U+2010",
    "non-breaking hyphen U+2011",
    "en dash",
    "em dash",
    "full-width hyphen-minus",
    "zero-width spaces between characters",
    "byte-order marks",
    "trailing CR LF",
    "trailing tab",
    "QR payload in capitals",
    "QR payload in mixed case",
    "QR payload in full-width",
    "all at once",
];

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                char::from_u32(u32::from(c) + 0xFEE0).unwrap()
            } else {
                c
            }
        })
        .collect()
}

fn alternate_case(s: &str) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if i % 2 == 0 {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// `code` (`XXXX-XXXX-XXXX-XXXX`) or its QR payload typed `way`; `None` when the code has
/// nothing that way would change.
fn typed(way: &str, code: &str, qr: &str) -> Option<String> {
    let dashes = |sep: &str| code.replace('-', sep);
    let swap = |from: char, to: &str| code.contains(from).then(|| code.replace(from, to));
    match way {
        "O for 0" => swap('0', "O"),
        "o for 0" => swap('0', "o"),
        "I for 1" => swap('1', "I"),
        "L for 1" => swap('1', "L"),
        "l for 1" => swap('1', "l"),
        "lower case" => Some(code.to_lowercase()),
        "full-width" => Some(full_width(code)),
        "full-width lower case" => Some(full_width(&code.to_lowercase())),
        "no separators" => Some(dashes("")),
        "ideographic spaces" => Some(dashes("\u{3000}")),
        "other Unicode spaces" => Some(format!(
            "\u{3000}{}\u{a0}",
            code.replacen('-', "\u{a0}", 1)
                .replacen('-', "\u{2003}", 1)
                .replacen('-', "\n", 1)
        )),
        "hyphen U+2010" => Some(dashes("\u{2010}")),
        "non-breaking hyphen U+2011" => Some(dashes("\u{2011}")),
        "en dash" => Some(dashes("\u{2013}")),
        "em dash" => Some(dashes("\u{2014}")),
        "full-width hyphen-minus" => Some(dashes("\u{ff0d}")),
        "zero-width spaces between characters" => Some(code.chars().flat_map(|c| [c, '\u{200b}']).collect()),
        "byte-order marks" => Some(format!("\u{feff}{}", dashes("\u{feff}"))),
        "trailing CR LF" => Some(format!("{code}\r\n")),
        "trailing tab" => Some(format!("{code}\t")),
        "QR payload in capitals" => Some(qr.to_uppercase()),
        "QR payload in mixed case" => Some(alternate_case(qr)),
        "QR payload in full-width" => Some(full_width(qr)),
        "all at once" => Some(format!(
            "\u{feff}{}\r\n",
            full_width(&code.to_lowercase()).replace('-', "\u{3000}\u{200b}")
        )),
        other => panic!("no way of typing called {other}"),
    }
}

#[tokio::test]
async fn every_way_of_typing_a_code_finds_and_redeems_it() {
    // A failing variant must show as itself, not as a 429 after ten misses.
    let app = spawn_app_with(|c| c.limits.code_guess_max = 1_000).await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 60).await;
    // Enough vouchers that some codes hold a 0 and some a 1 (each does with p ≈ 0.4).
    let mut pool = Vec::new();
    for rider in app.riders(40).await {
        let resp = app.claim(&campaign, &rider.access).await;
        assert_eq!(resp.status().as_u16(), 201);
        let v: Value = resp.json().await.unwrap();
        let text = |field: &str| v[field].as_str().unwrap().to_owned();
        pool.push((text("id"), text("code"), text("qr_payload")));
    }
    let counter = &w.luqiao_counter.access;
    for way in WAYS {
        // Each way gets a voucher of its own: redeeming uses it up.
        let at = pool
            .iter()
            .position(|(_, code, qr)| typed(way, code, qr).is_some())
            .unwrap_or_else(|| panic!("no voucher whose code can be typed {way}"));
        let (id, code, qr) = pool.swap_remove(at);
        let input = typed(way, &code, &qr).unwrap();
        let context = format!("{code} typed {way} as {input:?}");

        let resp = app
            .post_auth("/api/v1/counter/lookups", counter, &json!({"code": input}))
            .await;
        let status = resp.status().as_u16();
        let found: Value = resp.json().await.unwrap();
        assert_eq!(
            (status, found["voucher_id"].as_str()),
            (200, Some(id.as_str())),
            "lookup of {context}: {found}"
        );

        let redeem = json!({"code": input, "station_id": w.luqiao_station});
        let resp = app
            .post_auth("/api/v1/counter/redemptions", counter, &redeem)
            .await;
        let status = resp.status().as_u16();
        let redeemed: Value = resp.json().await.unwrap();
        assert_eq!(
            (status, redeemed["voucher_id"].as_str()),
            (201, Some(id.as_str())),
            "redemption of {context}: {redeemed}"
        );
    }

    // Lenient to people, not to guesses: one wrong character is still an unknown code.
    let (_, code, _) = &pool[0];
    let wrong = format!("{}{}", if code.starts_with('A') { 'B' } else { 'A' }, &code[1..]);
    let resp = app
        .post_auth("/api/v1/counter/lookups", counter, &json!({"code": wrong}))
        .await;
    assert_problem(resp, 404, "VOUCHER_NOT_FOUND").await;
}
