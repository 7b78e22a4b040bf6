//! What a browser downloads: compressed when it accepts brotli or gzip,
//! kept for good when named with its content's hash, revalidated when it
//! is a page; and a preview host's files served exactly as they were
//! published, compressed by no one.

mod common;

use common::server::{client, deploy, new_site, sign_up, start_with_pipelines_and};
use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, HOST, VARY};
use std::io::Read;

/// A bundle file as a release build names it.
const HASHED: &str = "flightdeck.Xb3K9_vQm2Lr-8HtYpZ1aA.wasm";

/// Deploys publish a page of 20 KB of text, which compresses well.
const PIPELINES: &str = r#"
[pipelines.deploy]
operation_name = "Deploy {branch}"
[[pipelines.deploy.steps]]
name = "Publish"
phase = "deploy"
run = 'mkdir -p "$FLIGHTDECK_RELEASE_DIR" && for i in $(seq 1 500); do echo "release $FLIGHTDECK_BRANCH, line $i"; done > "$FLIGHTDECK_RELEASE_DIR/index.html"'
"#;

fn header(res: &reqwest::Response, name: reqwest::header::HeaderName) -> &str {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn the_bundle_and_pages_come_compressed_and_hashed_files_are_kept_for_good() {
    let root = tempfile::tempdir().expect("site root");
    std::fs::create_dir_all(root.path().join("pkg")).expect("pkg");
    // Compressible, like a real bundle, but not all alike.
    let bundle: Vec<u8> = (0..300_000u32)
        .map(|i| b"\0asm(module (func $f (result i32)))"[(i % 37) as usize % 34])
        .collect();
    std::fs::write(root.path().join("pkg").join(HASHED), &bundle).expect("bundle");
    std::fs::write(root.path().join("pkg/flightdeck.wasm"), &bundle).expect("plain");
    let flags = [format!("--site-root={}", root.path().display())];
    let s = start_with_pipelines_and(PIPELINES, &flags).await;
    let c = client();
    let get = |path: &str, encodings: &str| {
        c.get(format!("{}{path}", s.base))
            .header(ACCEPT_ENCODING, encodings)
            .send()
    };

    let br = get(&format!("/pkg/{HASHED}"), "br, gzip")
        .await
        .expect("br");
    assert_eq!(br.status(), 200);
    assert_eq!(header(&br, CONTENT_ENCODING), "br");
    assert!(header(&br, VARY).to_lowercase().contains("accept-encoding"));
    assert_eq!(
        header(&br, CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    let br_bytes = br.bytes().await.expect("body").len();
    assert!(br_bytes < bundle.len() / 4, "{br_bytes} bytes on the wire");

    // Gzip for a browser that offers only that, and the same bytes inside.
    let gz = get(&format!("/pkg/{HASHED}"), "gzip").await.expect("gzip");
    assert_eq!(header(&gz, CONTENT_ENCODING), "gzip");
    let mut inflated = Vec::new();
    flate2::read::GzDecoder::new(&gz.bytes().await.expect("body")[..])
        .read_to_end(&mut inflated)
        .expect("gunzip");
    assert_eq!(inflated, bundle);
    // As it is for a client that asks for nothing.
    let raw = get(&format!("/pkg/{HASHED}"), "identity")
        .await
        .expect("raw");
    assert_eq!(header(&raw, CONTENT_ENCODING), "");
    assert_eq!(raw.bytes().await.expect("body"), bundle);

    // A file without a hash in its name is not kept for good.
    let plain = get("/pkg/flightdeck.wasm", "br").await.expect("plain");
    assert_eq!(plain.status(), 200);
    assert_ne!(
        header(&plain, CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );

    // A page: compressed, and asked for again on every load.
    let page = get("/signin", "br, gzip").await.expect("page");
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, CONTENT_ENCODING), "br");
    assert_eq!(header(&page, CACHE_CONTROL), "no-cache");
    // A server function's answer too.
    sign_up(&c, &s, "ada@example.com", "Ada's").await;
    let api = c
        .post(format!("{}/api/list_deployments", s.base))
        .header(ACCEPT_ENCODING, "gzip")
        .header("origin", &s.base)
        .send()
        .await
        .expect("api");
    assert_eq!(api.status(), 200);
    assert_eq!(header(&api, CONTENT_ENCODING), "gzip");
    // A refused call keeps the status its error names, compressed or not.
    let refused = c
        .post(format!("{}/api/get_insights", s.base))
        .header(ACCEPT_ENCODING, "br, gzip")
        .header("origin", &s.base)
        .form(&[("days", "12")])
        .send()
        .await
        .expect("refused");
    assert_eq!(refused.status(), 400);
    assert_eq!(header(&refused, CONTENT_ENCODING), "br");

    // What a preview host serves is left exactly as it was published.
    let site = new_site(&c, &s, "Web").await;
    let d = deploy(&s, &c, &site.id.to_string(), "v1").await;
    let published = std::fs::read(
        s.data
            .join("releases")
            .join(d.id.to_string())
            .join("index.html"),
    )
    .expect("published page");
    assert!(published.len() > 10_000);
    let preview = c
        .get(format!("{}/", s.base))
        .header(
            HOST,
            format!(
                "{}.preview.localhost:3000",
                site.id.to_string().to_lowercase()
            ),
        )
        .header(ACCEPT_ENCODING, "br, gzip")
        .send()
        .await
        .expect("preview");
    assert_eq!(preview.status(), 200);
    assert_eq!(header(&preview, CONTENT_ENCODING), "");
    assert_eq!(preview.bytes().await.expect("body"), published);
}
