//! One step as a child process: its own process group and working
//! directory, stdout and stderr merged in order, a timeout, and a cancel that
//! ends the whole group (TERM, then KILL after a grace period).

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::io::Read;
use std::path::Path;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// How a step's process ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Failed(String),
    TimedOut(Duration),
    Cancelled,
}

/// Runs `sh -c command`, sending output chunks to `output` as they are read.
/// Returns only when every process of the step's group is gone.
pub async fn run(
    command: &str,
    cwd: &Path,
    env: &[(String, String)],
    timeout: Duration,
    grace: Duration,
    mut cancel: watch::Receiver<bool>,
    output: mpsc::Sender<Vec<u8>>,
) -> std::io::Result<Outcome> {
    let (mut reader, writer) = std::io::pipe()?;
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .current_dir(cwd)
        .env_clear()
        .envs(inherited_env())
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(std::process::Stdio::null())
        .stdout(writer.try_clone()?)
        .stderr(writer)
        .process_group(0)
        .kill_on_drop(true);
    let mut child = cmd.spawn()?;
    // Our copies of the pipe's write end must close, or the reader never ends.
    drop(cmd);
    let pgid = Pid::from_raw(child.id().map(|id| id as i32).unwrap_or(0));
    let reader_thread = std::thread::spawn(move || {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if output.blocking_send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });

    let outcome = tokio::select! {
        status = child.wait() => {
            let status = status?;
            if status.success() {
                Outcome::Succeeded
            } else if let Some(code) = status.code() {
                Outcome::Failed(format!("exited with status {code}"))
            } else {
                Outcome::Failed("was killed by a signal".to_string())
            }
        }
        _ = tokio::time::sleep(timeout) => {
            stop_group(&mut child, pgid, grace).await;
            Outcome::TimedOut(timeout)
        }
        _ = wait_for_cancel(&mut cancel) => {
            stop_group(&mut child, pgid, grace).await;
            Outcome::Cancelled
        }
    };
    // Whatever the step left behind in its group (background jobs,
    // grandchildren) ends with it.
    kill_rest(pgid).await;
    let _ = tokio::task::spawn_blocking(move || reader_thread.join()).await;
    Ok(outcome)
}

async fn wait_for_cancel(cancel: &mut watch::Receiver<bool>) {
    while !*cancel.borrow() {
        if cancel.changed().await.is_err() {
            // The sender is gone: nobody can cancel any more.
            std::future::pending::<()>().await;
        }
    }
}

/// TERM to the whole group, then KILL once the grace period is over.
async fn stop_group(child: &mut tokio::process::Child, pgid: Pid, grace: Duration) {
    let _ = killpg(pgid, Signal::SIGTERM);
    if tokio::time::timeout(grace, child.wait()).await.is_err() {
        let _ = killpg(pgid, Signal::SIGKILL);
        let _ = child.wait().await;
    }
}

/// Kills what is left of a group and waits until none of it remains.
async fn kill_rest(pgid: Pid) {
    for _ in 0..100 {
        if killpg(pgid, Signal::SIGKILL).is_err() {
            return; // ESRCH: the group is empty
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tracing::warn!(
        pgid = pgid.as_raw(),
        "processes of a step's group survived SIGKILL"
    );
}

/// The few variables of the server's own environment a step may need.
fn inherited_env() -> Vec<(String, String)> {
    ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER"]
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
        .collect()
}
