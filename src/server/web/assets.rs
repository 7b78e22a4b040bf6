//! The browser bundle and the other files of the site root, and how long
//! a browser may keep them. A release build names each bundle file after
//! its content's hash (cargo-leptos `hash-files`), so such a file never
//! changes: it is kept for a year without asking again. A page is
//! revalidated on every load, so the first page after an upgrade names
//! the new bundle, and only then is it fetched.

use axum::extract::Request;
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, Version, header};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::OnceLock;

/// What cargo-leptos writes next to the server binary in a hashed build.
const HASH_FILE: &str = "hash.txt";

/// The bundle's files as this build names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bundle {
    /// Whether the names carry hashes (a `hash.txt` lies by the binary).
    pub hashed: bool,
    /// The stylesheet's address.
    pub stylesheet: String,
}

impl Bundle {
    /// Reads `hash.txt` by the running binary, once per process.
    pub fn current() -> &'static Bundle {
        static BUNDLE: OnceLock<Bundle> = OnceLock::new();
        BUNDLE.get_or_init(|| {
            let file = std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(|dir| dir.join(HASH_FILE)));
            let text = file.and_then(|f| std::fs::read_to_string(f).ok());
            Bundle::from_hashes(text.as_deref())
        })
    }

    /// From `hash.txt`'s lines (`js: …`, `wasm: …`, `css: …`), if any.
    pub fn from_hashes(text: Option<&str>) -> Bundle {
        let css = text.and_then(|t| {
            t.lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(kind, _)| kind.trim() == "css")
                .map(|(_, hash)| hash.trim().to_string())
        });
        Bundle {
            hashed: text.is_some(),
            stylesheet: match css {
                Some(hash) => format!("/pkg/flightdeck.{hash}.css"),
                None => "/pkg/flightdeck.css".to_string(),
            },
        }
    }
}

/// Above this a body is sent as it is: a debug build's bundle (30 MB)
/// would cost more to compress on every fetch than it saves on a local
/// link. A release bundle (under 2 MB) is compressed.
const COMPRESS_AT_MOST: u64 = 8 * 1024 * 1024;

/// Whether a response is small enough to compress as it goes out (its
/// length unknown, as a page's, counts as small).
pub fn worth_compressing(_: StatusCode, _: Version, headers: &HeaderMap, _: &Extensions) -> bool {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .is_none_or(|n| n <= COMPRESS_AT_MOST)
}

/// A bundle file named with its content's hash: `/pkg/<name>.<hash>.<ext>`,
/// the hash an MD5 in unpadded base64url (22 characters).
pub fn is_hashed(path: &str) -> bool {
    let Some(file) = path.strip_prefix("/pkg/") else {
        return false;
    };
    let parts: Vec<&str> = file.split('.').collect();
    parts.len() == 3
        && !parts[0].is_empty()
        && parts[1].len() == 22
        && parts[1]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Sets how long a response may be kept: a year for a hashed bundle file,
/// never without asking for a page. Other files keep the validators their
/// handler gives (`Last-Modified`).
pub async fn cache_control(request: Request, next: Next) -> Response {
    let hashed = is_hashed(request.uri().path());
    let mut response = next.run(request).await;
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let value = if hashed && response.status().is_success() {
        Some("public, max-age=31536000, immutable")
    } else if html {
        Some("no-cache")
    } else {
        None
    };
    if let Some(value) = value {
        response
            .headers_mut()
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_named_with_a_hash_are_kept_for_good() {
        assert!(is_hashed("/pkg/flightdeck.Xb3K9_vQm2Lr-8HtYpZ1aA.wasm"));
        assert!(is_hashed("/pkg/flightdeck.Xb3K9_vQm2Lr-8HtYpZ1aA.css"));
        assert!(!is_hashed("/pkg/flightdeck.wasm"));
        assert!(!is_hashed("/pkg/flightdeck.short.js"));
        assert!(!is_hashed("/favicon.svg"));
        assert!(!is_hashed("/pkg/snippets/x/Xb3K9_vQm2Lr-8HtYpZ1aA.js"));
    }

    #[test]
    fn the_stylesheet_is_named_as_the_hash_file_says() {
        let hashed = Bundle::from_hashes(Some("js: a\nwasm: b\ncss: Xb3K9_vQm2Lr-8HtYpZ1aA\n"));
        assert!(hashed.hashed);
        assert_eq!(
            hashed.stylesheet,
            "/pkg/flightdeck.Xb3K9_vQm2Lr-8HtYpZ1aA.css"
        );
        let plain = Bundle::from_hashes(None);
        assert!(!plain.hashed);
        assert_eq!(plain.stylesheet, "/pkg/flightdeck.css");
    }
}
