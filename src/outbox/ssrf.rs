//! Where a webhook may point (contract v1.1, "Partners"): `https://` to a public address.
//! The host is resolved at registration and again at every delivery (DNS can change),
//! and refused when any address is loopback, private, link-local (the cloud metadata
//! service 169.254.169.254 included), unspecified, multicast or otherwise not public —
//! unless `WEBHOOK_ALLOW_PRIVATE=true` (tests, private deployments), which also allows
//! `http://`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why a URL is refused, in words for the partner.
pub type Refusal = String;

/// Whether an address is one a webhook may never reach.
pub fn forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => forbidden_v4(v4),
            None => forbidden_v6(v6),
        },
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // Carrier-grade NAT (100.64.0.0/10) and benchmarking (198.18.0.0/15).
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // Unique local fc00::/7 and link-local fe80::/10.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
}

/// The scheme, host and port of `url`, or why it is not a webhook URL.
pub fn parse(url: &str, allow_private: bool) -> Result<(String, u16), Refusal> {
    let (scheme, rest) = url.split_once("://").ok_or("网址须以 https:// 开头")?;
    let port = match scheme {
        "https" => 443,
        "http" if allow_private => 80,
        _ => return Err("网址须以 https:// 开头".into()),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return Err("网址缺少主机名，或含有用户名密码".into());
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => match p.parse::<u16>() {
            Ok(p) => (h, p),
            Err(_) if authority.starts_with('[') && authority.ends_with(']') => (authority, port),
            Err(_) => return Err("端口不正确".into()),
        },
        _ => (authority, port),
    };
    Ok((
        host.trim_start_matches('[').trim_end_matches(']').to_owned(),
        port,
    ))
}

/// Resolves and checks `url`; `Err` says why it may not be used.
pub async fn check(url: &str, allow_private: bool) -> Result<(), Refusal> {
    let (host, port) = parse(url, allow_private)?;
    if allow_private {
        return Ok(());
    }
    let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|_| "主机名无法解析".to_owned())?
            .map(|a| a.ip())
            .collect(),
    };
    if addrs.is_empty() || addrs.into_iter().any(forbidden_ip) {
        return Err("网址指向内网、本机或保留地址，不能作为回调地址".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_metadata_addresses_are_refused_without_any_network() {
        for ip in [
            "169.254.169.254",
            "10.0.0.1",
            "127.0.0.1",
            "192.168.1.1",
            "172.16.0.1",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(forbidden_ip(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "2001:4860:4860::8888", "114.114.114.114"] {
            assert!(!forbidden_ip(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn only_https_urls_with_a_host_unless_private_is_allowed() {
        assert_eq!(
            parse("https://hooks.example.com/zj", false).unwrap(),
            ("hooks.example.com".into(), 443)
        );
        assert_eq!(
            parse("https://[::1]:8443/x", false).unwrap(),
            ("::1".into(), 8443)
        );
        assert!(parse("http://hooks.example.com/", false).is_err());
        assert!(parse("https://user:pw@host/", false).is_err());
        assert!(parse("ftp://host/", true).is_err());
        assert_eq!(
            parse("http://127.0.0.1:9000/h", true).unwrap(),
            ("127.0.0.1".into(), 9000)
        );
    }

    #[tokio::test]
    async fn literal_private_addresses_are_refused_before_any_request() {
        for url in [
            "https://169.254.169.254/latest",
            "https://10.0.0.1/",
            "https://127.0.0.1:8443/",
        ] {
            assert!(check(url, false).await.is_err(), "{url}");
        }
    }
}
