//! GitHub webhook fixtures: the example payloads of `tests/fixtures/github`
//! and a team whose site receives them.

use super::server::{Server, ok, sign_up, wait_idle};
use flightdeck::model::SiteHooks;
use serde_json::Value;

pub fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/github/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
}

pub struct HookedSite {
    pub id: String,
    pub secret: String,
}

/// A team whose site deploys `master`, the branch of GitHub's examples.
pub async fn hooked_site(s: &Server, c: &reqwest::Client) -> HookedSite {
    sign_up(c, s, "ada@example.com", "Hello").await;
    let site: flightdeck::model::Site = ok(
        c,
        s,
        "create_site",
        &[
            ("name", "Hello World"),
            ("repository", "https://github.com/Codertocat/Hello-World"),
            ("branch", "master"),
            ("auto_deploy", "on"),
        ],
    )
    .await;
    let id = site.id.to_string();
    let hooks: SiteHooks = ok(c, s, "get_site_hooks", &[("id", &id)]).await;
    assert!(hooks.webhook_url.ends_with(&format!("/hooks/github/{id}")));
    wait_idle(c, s, &id).await;
    HookedSite {
        id,
        secret: hooks.secret,
    }
}
