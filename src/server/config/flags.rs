//! `--name value` and `--name=value` flags, and small parsing helpers.

/// The name of a `host[:port]` (an IPv6 address keeps its brackets).
pub(super) fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split_once(']')
            .map_or(host, |(name, _)| &host[..name.len() + 1]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}

pub(super) const FLAGS: &[&str] = &[
    "max-pipelines",
    "database-url",
    "site-addr",
    "pipelines",
    "data-dir",
    "site-root",
    "public-url",
    "demo",
    "preview-url",
    "max-upload-mb",
    "max-unpacked-mb",
    "shutdown-grace-secs",
    "lease-secs",
    "sandbox",
    "sandbox-network",
    "signup",
    "keep-releases",
    "keep-events",
    "keep-events-days",
    "keep-uploads-hours",
    "retention-secs",
    "hooks-allow-private",
];

/// `--name value` and `--name=value`; an unknown flag is an error, not a surprise.
pub(super) fn parse_flags(args: &[String]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let Some(flag) = arg.strip_prefix("--") else {
            return Err(format!(
                "unexpected argument {arg:?}; flags look like --database-url=..."
            ));
        };
        let (name, value) = match flag.split_once('=') {
            Some((n, v)) => (n.to_string(), v.to_string()),
            None => {
                let v = it.next().ok_or_else(|| format!("--{flag} needs a value"))?;
                (flag.to_string(), v.clone())
            }
        };
        if !FLAGS.contains(&name.as_str()) {
            return Err(format!(
                "unknown flag --{name}; known: --{}",
                FLAGS.join(", --")
            ));
        }
        out.push((name, value));
    }
    Ok(out)
}
