//! Configuration from environment variables, each with a matching flag
//! (`--database-url`, `--site-addr`, `--pipelines`, `--data-dir`). The
//! bottom layer of the server: it depends on nothing else of it.

mod data_dir;
mod flags;
mod preview_hosts;
mod retention;

pub use data_dir::{DataDir, folder_bytes};
use flags::{host_name, parse_flags};
pub use preview_hosts::PreviewHosts;
pub use retention::Retention;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Who may create an account (`FLIGHTDECK_SIGNUP`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signup {
    /// The first account of an empty instance, then only people a team
    /// owner invited.
    Invite,
    /// Anyone; each gets a team of their own.
    Open,
}

/// How large an uploaded archive may be, packed and unpacked.
#[derive(Clone, Copy, Debug)]
pub struct UploadLimits {
    /// The zip file itself.
    pub upload_bytes: usize,
    /// Everything in it, unpacked.
    pub unpacked_bytes: u64,
    pub entries: usize,
}

impl Default for UploadLimits {
    fn default() -> Self {
        Self {
            upload_bytes: 50 * 1024 * 1024,
            unpacked_bytes: 200 * 1024 * 1024,
            entries: 20_000,
        }
    }
}

/// Everything the server reads at start.
#[derive(Clone, Debug)]
pub struct Config {
    /// `DATABASE_URL`: `sqlite://...` or `postgres://...`; a SQLite file under the data dir by default.
    pub database_url: String,
    /// `LEPTOS_SITE_ADDR`: where the dashboard listens.
    pub site_addr: SocketAddr,
    /// `FLIGHTDECK_DATA_DIR`: the SQLite file, workspaces, published sites;
    /// absolute, whatever the flag said.
    pub data_dir: DataDir,
    /// `FLIGHTDECK_PIPELINES`: a TOML file replacing the compiled-in pipelines.
    pub pipelines_file: Option<PathBuf>,
    /// `LEPTOS_SITE_ROOT`: the built assets (`pkg/`, `public/`).
    pub site_root: PathBuf,
    /// `FLIGHTDECK_PUBLIC_URL`: the dashboard's own origin; `https://` makes cookies Secure.
    pub public_url: Option<String>,
    /// `FLIGHTDECK_MAX_PIPELINES`: pipelines running at once across all sites.
    pub max_pipelines: usize,
    /// `FLIGHTDECK_DEMO`: `1` creates the demo account (its password is
    /// published) on an empty database. Off unless asked for: `./dev run`
    /// asks.
    pub seed_demo: bool,
    /// `FLIGHTDECK_SIGNUP`: who may create an account.
    pub signup: Signup,
    /// `FLIGHTDECK_PREVIEW_URL`: where deployed sites are served, as a
    /// template whose host starts with `{id}`; by default
    /// `http://{id}.preview.localhost:<port>/`, an origin of its own.
    pub preview_hosts: PreviewHosts,
    /// `FLIGHTDECK_MAX_UPLOAD_MB` and `FLIGHTDECK_MAX_UNPACKED_MB`: how large
    /// an uploaded archive may be, packed and unpacked (50 and 200).
    pub upload_limits: UploadLimits,
    /// `FLIGHTDECK_SHUTDOWN_GRACE_SECS`: on SIGTERM or Ctrl-C, how long
    /// running steps may go on before they are cancelled (30 s).
    pub shutdown_grace: Duration,
    /// `FLIGHTDECK_SANDBOX`: `on` (the default) runs every step in a
    /// bubblewrap sandbox and refuses to start without one; `off` runs them
    /// on the host, with a warning on every page.
    pub sandbox: bool,
    /// `FLIGHTDECK_SANDBOX_NETWORK`: whether sandboxed steps reach the
    /// network (`on` by default: builds fetch packages).
    pub sandbox_network: bool,
    /// `FLIGHTDECK_LEASE_SECS`: how long an instance's lease on the
    /// database lasts (30 s); it renews it at a third of that, and its
    /// work is failed by another instance once it has run out.
    pub lease: Duration,
    /// What the periodic cleanup keeps (`FLIGHTDECK_KEEP_RELEASES`, ...).
    pub retention: Retention,
    /// `FLIGHTDECK_HOOKS_ALLOW_PRIVATE`: `1` lets notification hooks reach
    /// loopback, private and link-local addresses (off: a hook could
    /// otherwise probe the server's own network).
    pub hooks_allow_private: bool,
}

/// Whether a command-line argument is one of the server's flags
/// (`--database-url`, `--site-addr=...`), not a command.
pub fn is_server_flag(arg: &str) -> bool {
    arg.strip_prefix("--")
        .map(|flag| flag.split_once('=').map_or(flag, |(name, _)| name))
        .is_some_and(|name| flags::FLAGS.contains(&name))
}

impl Config {
    /// Reads these flags and the process's environment; flags win.
    pub fn from_args(args: &[String]) -> Result<Self, String> {
        Self::from_sources(args, |key| std::env::var(key).ok())
    }

    pub fn from_sources(
        args: &[String],
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let flags = parse_flags(args)?;
        let get = |flag: &str, var: &str| {
            flags
                .iter()
                .rfind(|(k, _)| k == flag)
                .map(|(_, v)| v.clone())
                .or_else(|| env(var).filter(|v| !v.is_empty()))
        };
        let data_dir =
            DataDir::new(get("data-dir", "FLIGHTDECK_DATA_DIR").unwrap_or_else(|| "data".into()))?;
        let database_url = get("database-url", "DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.database_file().display()));
        let addr = get("site-addr", "LEPTOS_SITE_ADDR").unwrap_or_else(|| "127.0.0.1:3000".into());
        let site_addr: SocketAddr = addr.parse().map_err(|_| {
            format!("LEPTOS_SITE_ADDR must look like 127.0.0.1:3000 (got {addr:?})")
        })?;
        let public_url = get("public-url", "FLIGHTDECK_PUBLIC_URL");
        if let Some(url) = &public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(format!(
                "FLIGHTDECK_PUBLIC_URL must start with http:// or https:// (got {url:?})"
            ));
        }
        let signup = match get("signup", "FLIGHTDECK_SIGNUP").as_deref() {
            None | Some("invite") => Signup::Invite,
            Some("open") => Signup::Open,
            Some(other) => {
                return Err(format!(
                    "FLIGHTDECK_SIGNUP must be invite or open (got {other:?})"
                ));
            }
        };
        let seed_demo = match get("demo", "FLIGHTDECK_DEMO").as_deref() {
            None => false,
            Some("1") | Some("true") => true,
            Some("0") | Some("false") => false,
            Some(other) => return Err(format!("FLIGHTDECK_DEMO must be 0 or 1 (got {other:?})")),
        };
        let max = get("max-pipelines", "FLIGHTDECK_MAX_PIPELINES").unwrap_or_else(|| "4".into());
        let max_pipelines = match max.parse::<usize>() {
            Ok(n) if (1..=256).contains(&n) => n,
            _ => {
                return Err(format!(
                    "FLIGHTDECK_MAX_PIPELINES must be a number from 1 to 256 (got {max:?})"
                ));
            }
        };
        let preview_hosts = match get("preview-url", "FLIGHTDECK_PREVIEW_URL") {
            Some(template) => PreviewHosts::parse(&template)?,
            None => PreviewHosts::local(site_addr.port()),
        };
        let grace = get("shutdown-grace-secs", "FLIGHTDECK_SHUTDOWN_GRACE_SECS")
            .unwrap_or_else(|| "30".into());
        let shutdown_grace = match grace.parse::<u64>() {
            Ok(n) if n <= 86_400 => Duration::from_secs(n),
            _ => {
                return Err(format!(
                    "FLIGHTDECK_SHUTDOWN_GRACE_SECS must be a number of seconds (got {grace:?})"
                ));
            }
        };
        let switch = |flag: &str, var: &str| match get(flag, var).as_deref() {
            None | Some("on") | Some("1") | Some("true") => Ok(true),
            Some("off") | Some("0") | Some("false") => Ok(false),
            Some(other) => Err(format!("{var} must be on or off (got {other:?})")),
        };
        let lease = get("lease-secs", "FLIGHTDECK_LEASE_SECS").unwrap_or_else(|| "30".into());
        let lease = match lease.parse::<u64>() {
            Ok(n) if (3..=3600).contains(&n) => Duration::from_secs(n),
            _ => {
                return Err(format!(
                    "FLIGHTDECK_LEASE_SECS must be a number of seconds from 3 to 3600 (got {lease:?})"
                ));
            }
        };
        let sandbox = switch("sandbox", "FLIGHTDECK_SANDBOX")?;
        let sandbox_network = switch("sandbox-network", "FLIGHTDECK_SANDBOX_NETWORK")?;
        let mut upload_limits = UploadLimits::default();
        for (flag, var, slot) in [
            ("max-upload-mb", "FLIGHTDECK_MAX_UPLOAD_MB", 0),
            ("max-unpacked-mb", "FLIGHTDECK_MAX_UNPACKED_MB", 1),
        ] {
            let Some(raw) = get(flag, var) else { continue };
            let mb = match raw.parse::<u64>() {
                Ok(n) if (1..=100_000).contains(&n) => n,
                _ => return Err(format!("{var} must be a number of megabytes (got {raw:?})")),
            };
            if slot == 0 {
                upload_limits.upload_bytes = (mb * 1024 * 1024) as usize;
            } else {
                upload_limits.unpacked_bytes = mb * 1024 * 1024;
            }
        }
        let hooks_allow_private =
            match get("hooks-allow-private", "FLIGHTDECK_HOOKS_ALLOW_PRIVATE").as_deref() {
                None | Some("0") | Some("false") | Some("off") => false,
                Some("1") | Some("true") | Some("on") => true,
                Some(other) => {
                    return Err(format!(
                        "FLIGHTDECK_HOOKS_ALLOW_PRIVATE must be 0 or 1 (got {other:?})"
                    ));
                }
            };
        let retention = Retention::from_settings(get)?;
        Ok(Self {
            hooks_allow_private,
            retention,
            lease,
            sandbox,
            sandbox_network,
            shutdown_grace,
            upload_limits,
            preview_hosts,
            max_pipelines,
            database_url,
            site_addr,
            data_dir,
            pipelines_file: get("pipelines", "FLIGHTDECK_PIPELINES").map(PathBuf::from),
            site_root: PathBuf::from(
                get("site-root", "LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".into()),
            ),
            public_url,
            seed_demo,
            signup,
        })
    }

    /// Whether a request's `Host` names the dashboard: the public URL's
    /// host when one is set; otherwise a loopback name or the address the
    /// server listens on. Anything else is another site's name pointed at
    /// this server (DNS rebinding) and gets no answer.
    pub fn is_dashboard_host(&self, host: &str) -> bool {
        let name = host_name(host).to_ascii_lowercase();
        if let Some(url) = &self.public_url {
            let authority = url
                .split_once("://")
                .map_or(url.as_str(), |(_, rest)| rest)
                .split('/')
                .next()
                .unwrap_or_default();
            return name == host_name(authority).to_ascii_lowercase();
        }
        if name == "localhost" {
            return true;
        }
        let Ok(ip) = name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
        else {
            return false;
        };
        ip.is_loopback() || (!self.site_addr.ip().is_unspecified() && ip == self.site_addr.ip())
    }

    /// The dashboard's origin for links people open: its public URL, else
    /// the host the request came to, else the address it listens on.
    pub fn origin(&self, request_host: Option<&str>) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!(
                "http://{}",
                request_host
                    .map(str::to_string)
                    .unwrap_or_else(|| self.site_addr.to_string())
            ),
        }
    }

    /// Cookies are `Secure` when the dashboard is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_put_sqlite_under_the_data_dir() {
        let c = Config::from_sources(&[], |_| None).expect("config");
        // The data folder is absolute, so steps in their own working
        // directories find what it names.
        assert!(c.data_dir.root().is_absolute() && c.data_dir.root().ends_with("data"));
        assert_eq!(
            c.database_url,
            format!(
                "sqlite://{}",
                c.data_dir.root().join("flightdeck.db").display()
            )
        );
        assert_eq!(c.site_addr.to_string(), "127.0.0.1:3000");
        assert!(!c.secure_cookies());
        assert!(!c.seed_demo, "the demo account only where it is asked for");
        assert_eq!(c.signup, Signup::Invite);
    }

    #[test]
    fn flags_win_over_environment() {
        let env = |k: &str| (k == "DATABASE_URL").then(|| "postgres://env/db".to_string());
        let c =
            Config::from_sources(&args(&["--database-url", "sqlite://x.db"]), env).expect("config");
        assert_eq!(c.database_url, "sqlite://x.db");
        let c = Config::from_sources(&args(&["--signup=open", "--signup=invite"]), env)
            .expect("config");
        assert_eq!(c.signup, Signup::Invite, "the last flag wins");
        let c = Config::from_sources(&[], env).expect("config");
        assert_eq!(c.database_url, "postgres://env/db");
    }

    #[test]
    fn only_the_dashboards_own_names_are_answered() {
        let c = Config::from_sources(&[], |_| None).expect("config");
        for host in [
            "127.0.0.1:3000",
            "localhost:3000",
            "LOCALHOST",
            "[::1]:3000",
            "127.0.0.2",
        ] {
            assert!(c.is_dashboard_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:3000",
            "10.0.0.5:3000",
            "localhost.evil.example",
            "",
        ] {
            assert!(!c.is_dashboard_host(host), "{host}");
        }
        let lan =
            Config::from_sources(&args(&["--site-addr=10.0.0.5:3000"]), |_| None).expect("config");
        assert!(lan.is_dashboard_host("10.0.0.5:3000"));
        let public = Config::from_sources(
            &args(&["--public-url=https://Deploys.Example.com/"]),
            |_| None,
        )
        .expect("config");
        assert!(public.is_dashboard_host("deploys.example.com"));
        assert!(public.is_dashboard_host("deploys.example.com:443"));
        assert!(!public.is_dashboard_host("127.0.0.1:3000"));
    }

    #[test]
    fn bad_configuration_is_refused_with_a_message() {
        assert!(
            Config::from_sources(&args(&["--nope=1"]), |_| None)
                .unwrap_err()
                .contains("unknown flag")
        );
        assert!(Config::from_sources(&args(&["--site-addr=localhost"]), |_| None).is_err());
        assert!(Config::from_sources(&args(&["--public-url=ftp://x"]), |_| None).is_err());
        assert!(Config::from_sources(&args(&["--shutdown-grace-secs=soon"]), |_| None).is_err());
        assert!(Config::from_sources(&args(&["--sandbox=maybe"]), |_| None).is_err());
        assert!(Config::from_sources(&args(&["--lease-secs=1"]), |_| None).is_err());
        let c = Config::from_sources(&[], |_| None).expect("config");
        assert!(
            c.sandbox && c.sandbox_network,
            "sandboxed, with the network, by default"
        );
        let off = Config::from_sources(&args(&["--sandbox=off"]), |_| None).expect("config");
        assert!(!off.sandbox);
        let https = Config::from_sources(&args(&["--public-url=https://fd.example.com"]), |_| None);
        assert!(https.expect("config").secure_cookies());
    }
}
