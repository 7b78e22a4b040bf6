//! Where a hook may be sent. A hook's URL is typed by a team member, so
//! it could name the server's own network (a database port, a cloud
//! metadata address): loopback, private, link-local and other non-public
//! addresses are refused, after DNS resolution and again at every
//! connection (a name that resolves elsewhere later, DNS rebinding, gets
//! the same check), unless the operator allows them
//! (`FLIGHTDECK_HOOKS_ALLOW_PRIVATE=1`).

use crate::model::AppError;
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The longest hook URL accepted.
pub const URL_MAX_BYTES: usize = 2048;

/// Whether an address is on the public internet: not loopback, private,
/// link-local, shared (CGNAT), multicast, documentation, benchmarking,
/// reserved or unspecified; an IPv4 address inside IPv6 is judged as IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments, 192.0.0.0/24.
        || (a == 192 && b == 0 && c == 0)
        // Benchmarking, 198.18.0.0/15.
        || (a == 198 && (b == 18 || b == 19))
        // Reserved, 240.0.0.0/4.
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // Unique local, fc00::/7.
        || (first & 0xfe00) == 0xfc00
        // Link-local, fe80::/10.
        || (first & 0xffc0) == 0xfe80
        // Documentation, 2001:db8::/32.
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        // IPv4-compatible (deprecated) and NAT64 forms of any address.
        || ip.segments()[..6].iter().all(|&s| s == 0)
        || (first == 0x0064 && ip.segments()[1] == 0xff9b))
}

/// A hook URL, checked for what it can name before any DNS lookup:
/// http or https, a host, no credentials, not too long.
pub fn parse_url(raw: &str) -> Result<Url, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(AppError::invalid("Enter the URL the notifications go to."));
    }
    if raw.len() > URL_MAX_BYTES {
        return Err(AppError::invalid(format!(
            "Keep the URL under {URL_MAX_BYTES} characters."
        )));
    }
    let url = Url::parse(raw).map_err(|_| {
        AppError::invalid(
            "That is not a URL: it should look like https://example.com/hooks/flightdeck.",
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(AppError::invalid(
            "A hook URL must start with http:// or https://.",
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(AppError::invalid("A hook URL needs a host name."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(AppError::invalid(
            "Put no user name or password in a hook URL: the signature proves who sends.",
        ));
    }
    Ok(url)
}

fn refused(host: &str, ip: IpAddr) -> AppError {
    AppError::invalid(format!(
        "{host} is {ip}, a loopback, private or link-local address: hooks may only reach the \
         public internet (an operator can allow private addresses with \
         FLIGHTDECK_HOOKS_ALLOW_PRIVATE=1)."
    ))
}

/// Resolves a hook URL's host and refuses it when any of its addresses is
/// not public (unless `allow_private`): what creating or changing a hook
/// checks, so a person learns at once.
pub async fn check_url(url: &Url, allow_private: bool) -> Result<(), AppError> {
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(443);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<IpAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((bare, port))
            .await
            .map_err(|_| AppError::invalid(format!("{host} does not resolve to any address.")))?
            .map(|a| a.ip())
            .collect(),
    };
    if addresses.is_empty() {
        return Err(AppError::invalid(format!(
            "{host} does not resolve to any address."
        )));
    }
    if !allow_private && let Some(ip) = addresses.into_iter().find(|ip| !is_public(*ip)) {
        return Err(refused(host, ip));
    }
    Ok(())
}

/// Why a delivery is not even tried: a literal address in the URL that
/// is not public (the resolver below never sees those).
pub fn literal_refusal(url: &Url, allow_private: bool) -> Option<AppError> {
    let host = url.host_str()?;
    let ip = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok()?;
    (!allow_private && !is_public(ip)).then(|| refused(host, ip))
}

/// The HTTP client's resolver: the system's, with every address that is
/// not public dropped (unless `allow_private`), so a connection can only
/// go where the check above allows, whatever the name resolves to by then.
#[derive(Clone, Copy, Debug)]
pub struct HookResolver {
    pub allow_private: bool,
}

impl Resolve for HookResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if found.is_empty() {
                let refusal: Box<dyn std::error::Error + Send + Sync> = format!(
                    "{host} resolves to no public address (hooks may only reach the public internet)"
                )
                .into();
                return Err(refusal);
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_public_addresses_are_reachable() {
        for private in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(ip(private)), "{private} must be refused");
        }
        for public in ["1.1.1.1", "93.184.216.34", "172.32.0.1", "2606:4700::1111"] {
            assert!(is_public(ip(public)), "{public} is public");
        }
    }

    #[test]
    fn hook_urls_must_be_plain_http_or_https() {
        assert!(parse_url("https://hooks.example.com/x?y=1").is_ok());
        assert!(parse_url("http://hooks.example.com:8080/").is_ok());
        for bad in [
            "",
            "ftp://example.com/",
            "file:///etc/passwd",
            "gopher://example.com/",
            "javascript:alert(1)",
            "https://user:pass@example.com/",
            "not a url",
        ] {
            assert!(parse_url(bad).is_err(), "{bad:?} must be refused");
        }
        assert!(parse_url(&format!("https://example.com/{}", "a".repeat(3000))).is_err());
    }

    #[test]
    fn literal_private_addresses_are_refused_unless_allowed() {
        let url = parse_url("http://127.0.0.1:9/hook").unwrap();
        assert!(literal_refusal(&url, false).is_some());
        assert!(literal_refusal(&url, true).is_none());
        let v6 = parse_url("http://[::1]:9/hook").unwrap();
        assert!(literal_refusal(&v6, false).is_some());
        let named = parse_url("https://hooks.example.com/").unwrap();
        assert!(literal_refusal(&named, false).is_none());
    }

    #[tokio::test]
    async fn names_resolving_to_loopback_are_refused_after_resolution() {
        let url = parse_url("http://localhost:9/hook").unwrap();
        let refusal = check_url(&url, false).await.unwrap_err();
        assert!(refusal.message.contains("FLIGHTDECK_HOOKS_ALLOW_PRIVATE"));
        assert!(check_url(&url, true).await.is_ok());
    }
}
