//! The `flightdeck` command: with no command (or `serve`) it runs the
//! server; its other commands drive a server from a script or a CI job
//! with an API token (`FLIGHTDECK_URL`, `FLIGHTDECK_TOKEN`):
//!
//! - [`client`]: the API and the live channel, with a token;
//! - [`follow`]: a deployment followed live, step by step;
//! - [`read`]: `status` and `logs`;
//! - [`exit`]: exit codes and failures.
//!
//! Exit codes are a contract (README, "Command line"): 0 completed, 1
//! failed or cancelled, 2 refused, 3 the server could not be reached,
//! 130 interrupted.

/// `println!` for the command line's output, which does not panic when
/// its reader went away (`flightdeck logs … | head`).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

pub mod client;
pub mod exit;
pub mod follow;
pub mod read;

use crate::model::{Deployment, DeploymentStatus, StepStatus};
use clap::{Parser, Subcommand};
use client::Client;
pub use exit::{Exit, Failure};
use follow::{Ended, Printer};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "flightdeck",
    version,
    about = "Flightdeck: self-hosted live deployment tracking.",
    long_about = "Flightdeck: self-hosted live deployment tracking.\n\n\
        With no command, `flightdeck` serves the dashboard (see `flightdeck serve --help`). \
        The other commands drive a Flightdeck server from a terminal, a script or a CI job \
        with an API token made on the team page.",
    after_help = "Exit codes: 0 completed, 1 failed or cancelled, 2 refused (busy or locked site, \
        bad token, unknown site), 3 server unreachable, 130 interrupted.\n\n\
        Example (CI):\n  FLIGHTDECK_URL=https://deploys.example.com FLIGHTDECK_TOKEN=fdt_... \\\n    \
        flightdeck deploy docs --ref \"$GITHUB_SHA\" --wait"
)]
struct Cli {
    /// The dashboard's address.
    #[arg(
        long,
        env = "FLIGHTDECK_URL",
        global = true,
        default_value = "http://127.0.0.1:3000"
    )]
    url: String,
    /// An API token of the team (make one on the team page).
    #[arg(long, env = "FLIGHTDECK_TOKEN", global = true, hide_env_values = true)]
    token: Option<String>,
    /// Print the server's JSON records instead of text (for scripts).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the dashboard (what `flightdeck` with no command does). Its
    /// flags (--database-url, --site-addr, ...) and environment variables
    /// are in the README.
    Serve {
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "FLAGS"
        )]
        flags: Vec<String>,
    },
    /// Start a deploy of a site (by id, slug or name).
    Deploy {
        site: String,
        /// A branch or commit to deploy (the site's branch by default).
        #[arg(long = "ref", value_name = "BRANCH_OR_COMMIT")]
        git_ref: Option<String>,
        /// Follow it live and exit with its outcome: 0 completed, 1 failed.
        #[arg(long)]
        wait: bool,
        /// On Ctrl-C while waiting, cancel the deployment without asking.
        #[arg(long)]
        cancel_on_interrupt: bool,
    },
    /// Show the team's sites, or one site's latest deployments.
    Status { site: Option<String> },
    /// Print a deployment's output, step by step.
    Logs {
        /// Its id, or the short id the dashboard shows.
        deployment: String,
        /// Keep printing output as it is written, until it finishes.
        #[arg(long, short)]
        follow: bool,
    },
    /// Cancel a queued or running deployment.
    Cancel { deployment: String },
    /// Make an earlier deploy's release current again, with no rebuild.
    Rollback {
        deployment: String,
        /// Follow the rollback live and exit with its outcome.
        #[arg(long)]
        wait: bool,
        /// On Ctrl-C while waiting, cancel the rollback without asking.
        #[arg(long)]
        cancel_on_interrupt: bool,
    },
}

/// Whether these arguments ask for the server: none, or server flags
/// (`flightdeck --database-url=...`, as before there were commands).
pub fn wants_server(args: &[String]) -> bool {
    match args.get(1).map(String::as_str) {
        None => true,
        Some(first) => crate::server::config::is_server_flag(first),
    }
}

/// Runs the command line; the caller has already handled [`wants_server`].
pub async fn run(args: Vec<String>) -> ExitCode {
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                Exit::Refused as u8
            } else {
                0
            });
        }
    };
    if let Command::Serve { flags } = cli.command {
        crate::server::startup::run_with(flags).await;
        return ExitCode::SUCCESS;
    }
    let exit = match execute(&cli).await {
        Ok(exit) => exit,
        Err(failure) => {
            eprintln!("flightdeck: {}", failure.message);
            failure.exit
        }
    };
    ExitCode::from(exit as u8)
}

async fn execute(cli: &Cli) -> Result<Exit, Failure> {
    let client = Client::new(&cli.url, cli.token.as_deref())?;
    match &cli.command {
        Command::Serve { .. } => Ok(Exit::Completed),
        Command::Deploy {
            site,
            git_ref,
            wait,
            cancel_on_interrupt,
        } => {
            let site = client.site(site).await?;
            let id = site.id.to_string();
            let mut form = vec![("site_id", id.as_str()), ("kind", "deploy")];
            if let Some(git_ref) = git_ref {
                form.push(("git_ref", git_ref.as_str()));
            }
            start(
                &client,
                cli.json,
                *wait,
                *cancel_on_interrupt,
                "trigger_deployment",
                &form,
            )
            .await
        }
        Command::Rollback {
            deployment,
            wait,
            cancel_on_interrupt,
        } => {
            let earlier = client.deployment(deployment).await?;
            let id = earlier.id.to_string();
            let form = [("id", id.as_str())];
            start(
                &client,
                cli.json,
                *wait,
                *cancel_on_interrupt,
                "rollback_deployment",
                &form,
            )
            .await
        }
        Command::Status { site } => read::status(&client, cli.json, site.as_deref()).await,
        Command::Logs { deployment, follow } => {
            read::logs(&client, cli.json, deployment, *follow).await
        }
        Command::Cancel { deployment } => {
            let d = client.deployment(deployment).await?;
            let id = d.id.to_string();
            client
                .call::<()>("cancel_deployment", &[("id", &id)])
                .await?;
            let after: Deployment = client.call("get_deployment", &[("id", &id)]).await?;
            if cli.json {
                read::print_json(&after);
            } else {
                say!(
                    "{} on {}: {}",
                    after.operation_name,
                    after.site_name,
                    after.status
                );
            }
            Ok(Exit::Completed)
        }
    }
}

/// Starts a deployment with `call`; with `wait`, follows it to its end.
/// The socket opens first, so nothing it does is missed.
async fn start(
    client: &Client,
    json: bool,
    wait: bool,
    cancel_on_interrupt: bool,
    call: &str,
    form: &[(&str, &str)],
) -> Result<Exit, Failure> {
    let socket = match wait {
        true => Some(client.socket(None).await?.0),
        false => None,
    };
    let started: Deployment = client.call(call, form).await?;
    let Some(socket) = socket else {
        if json {
            read::print_json(&started);
        } else {
            say!(
                "{} on {} is {} ({})",
                started.operation_name,
                started.site_name,
                started.status,
                started.id
            );
        }
        return Ok(Exit::Completed);
    };
    let mut out = Printer::new(json);
    out.line(&format!(
        "{} on {} ({}), {}",
        started.operation_name, started.site_name, started.id, started.status
    ));
    match follow::follow(client, socket, started.clone(), &mut out).await? {
        Ended::Finished(done) => Ok(outcome(&done, json, &mut out)),
        Ended::Interrupted => {
            interrupted(client, &started, cancel_on_interrupt, &mut out).await;
            Ok(Exit::Interrupted)
        }
    }
}

/// Prints how a deployment ended; its exit code.
fn outcome(d: &Deployment, json: bool, out: &mut Printer) -> Exit {
    let took = d
        .duration_ms()
        .map(|ms| format!(" in {}", crate::model::time::duration(ms)))
        .unwrap_or_default();
    if d.status == DeploymentStatus::Completed {
        out.line(&format!("✔ {} completed{took}", d.operation_name));
        if let Some(url) = &d.preview_url {
            out.line(&format!("  {url}"));
        }
    } else {
        if let Some(step) = d.steps.iter().find(|s| s.status == StepStatus::Failed) {
            out.line(&format!("--- the last lines of {} ---", step.name));
            for line in follow::last_lines(&step.output, 20) {
                out.line(line);
            }
            out.line("---");
        }
        let why = d
            .error_message
            .as_deref()
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        out.line(&format!("✖ {} {}{took}{why}", d.operation_name, d.status));
    }
    if json {
        read::print_json(d);
    }
    match d.status {
        DeploymentStatus::Completed => Exit::Completed,
        _ => Exit::Failed,
    }
}

/// After Ctrl-C: cancels the deployment when asked to (the flag, or a
/// "y" at the prompt on a terminal); otherwise says how to. A second
/// Ctrl-C at the prompt leaves at once, the deployment running.
async fn interrupted(client: &Client, d: &Deployment, cancel: bool, out: &mut Printer) {
    use std::io::IsTerminal;
    let id = d.id.to_string();
    let cancel = cancel
        || {
            std::io::stdin().is_terminal()
                && {
                    out.line(&format!(
                        "Cancel {} on {} too? [y/N] ",
                        d.operation_name, d.site_name
                    ));
                    let answer = tokio::task::spawn_blocking(|| {
                        let mut answer = String::new();
                        let _ = std::io::stdin().read_line(&mut answer);
                        answer.trim().eq_ignore_ascii_case("y")
                    });
                    tokio::select! {
                        yes = answer => yes.unwrap_or(false),
                        _ = tokio::signal::ctrl_c() => {
                            out.line(&format!("{} goes on; stop it with: flightdeck cancel {id}", d.operation_name));
                            // The prompt's read cannot be interrupted: leave now.
                            std::process::exit(Exit::Interrupted as i32);
                        }
                    }
                }
        };
    if cancel {
        match client.call::<()>("cancel_deployment", &[("id", &id)]).await {
            Ok(()) => out.line(&format!("Cancelled {}.", d.operation_name)),
            Err(e) => out.line(&format!("Could not cancel it: {}", e.message)),
        }
    } else {
        out.line(&format!(
            "{} goes on; stop it with: flightdeck cancel {id}",
            d.operation_name
        ));
    }
}
