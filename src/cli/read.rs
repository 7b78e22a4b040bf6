//! The commands that read: `status` (the team's sites, or one site's
//! latest deployments) and `logs` (a deployment's output, followed live
//! with `--follow`), as text or, with `--json`, the server's records.

use super::client::Client;
use super::exit::{Exit, Failure};
use super::follow::{self, Ended, Printer};
use crate::model::time::relative;
use crate::model::{Deployment, DeploymentPage, DeploymentStatus, Site};

pub async fn status(client: &Client, json: bool, site: Option<&str>) -> Result<Exit, Failure> {
    let now = crate::model::time::now_ms();
    let Some(wanted) = site else {
        let sites: Vec<Site> = client.call("list_sites", &[]).await?;
        if json {
            print_json(&sites);
            return Ok(Exit::Completed);
        }
        let rows: Vec<[String; 4]> = sites
            .iter()
            .map(|s| {
                let current = s.current_deployment.as_ref().map_or("-".to_string(), |d| {
                    format!("{} ({})", d.operation_name, relative(d.created_at, now))
                });
                let active = s.active_deployment.as_ref().map_or("-".to_string(), |d| {
                    format!("{} {}", d.operation_name, d.status)
                });
                let state = match &s.lock {
                    Some(lock) => format!("{} · locked by {}", s.state.as_str(), lock.by_name),
                    None => s.state.as_str().to_string(),
                };
                [s.slug.clone(), state, current, active]
            })
            .collect();
        table(&["SITE", "STATE", "SERVING", "RUNNING"], &rows);
        return Ok(Exit::Completed);
    };
    let site = client.site(wanted).await?;
    let id = site.id.to_string();
    let page: DeploymentPage = client.call("list_deployments", &[("site_id", &id)]).await?;
    if json {
        print_json(&page.deployments);
        return Ok(Exit::Completed);
    }
    say!("{} ({}), {}", site.name, site.slug, site.state.as_str());
    let rows: Vec<[String; 4]> = page
        .deployments
        .iter()
        .take(15)
        .map(|d| {
            [
                d.id.short(),
                d.operation_name.clone(),
                d.status.to_string(),
                format!("{}, {}", d.triggered_by, relative(d.created_at, now)),
            ]
        })
        .collect();
    table(&["ID", "OPERATION", "STATUS", "BY"], &rows);
    Ok(Exit::Completed)
}

pub async fn logs(
    client: &Client,
    json: bool,
    wanted: &str,
    follow: bool,
) -> Result<Exit, Failure> {
    // The socket first: what is written after the fetch arrives on it.
    let socket = match follow {
        true => Some(client.socket(None).await?.0),
        false => None,
    };
    let d = client.deployment(wanted).await?;
    if json && !follow {
        print_json(&d);
        return Ok(Exit::Completed);
    }
    let mut out = Printer::new(json);
    let ended = match socket {
        Some(socket) if !d.is_finished() => follow::follow(client, socket, d, &mut out).await?,
        _ => {
            // Finished, or not followed: what is stored, printed once.
            print_stored(&d, &mut out);
            Ended::Finished(Box::new(d))
        }
    };
    match ended {
        Ended::Finished(d) => {
            if json {
                print_json(&d);
            }
            Ok(match d.status {
                DeploymentStatus::Failed | DeploymentStatus::Cancelled => Exit::Failed,
                _ => Exit::Completed,
            })
        }
        Ended::Interrupted => Ok(Exit::Interrupted),
    }
}

/// A stored deployment's output, step by step.
fn print_stored(d: &Deployment, out: &mut Printer) {
    let total = d.steps.len();
    for (i, step) in d.steps.iter().enumerate() {
        if step.started_at.is_none() {
            continue;
        }
        out.line(&format!(
            "==> [{}/{total}] {} ({})",
            i + 1,
            step.name,
            step.status
        ));
        if !step.output.is_empty() {
            out.line(step.output.trim_end_matches('\n'));
        }
    }
}

pub fn print_json<T: serde::Serialize>(value: &T) {
    say!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// Columns padded to their widest cell.
fn table<const N: usize>(headers: &[&str; N], rows: &[[String; N]]) {
    let mut widths = headers.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        say!("{}", padded.join("  ").trim_end());
    };
    line(headers.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    if rows.is_empty() {
        say!("(none)");
    }
}
