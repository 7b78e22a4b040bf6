//! One step as a child process: its own process group and working
//! directory, stdout and stderr merged in order, a timeout, and a cancel that
//! ends the whole group (TERM, then KILL after a grace period). A step in a
//! sandbox is the same process group around `bwrap`.

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

/// What to start for a step: `sh -c <run>` as it is, or the same inside a
/// sandbox (`bwrap ... -- /bin/sh -c <run>`).
pub struct StepCommand {
    pub command: std::process::Command,
    /// Whether `command` is `bwrap`, whose own process must outlive the
    /// TERM that asks the step to stop (it ends the box when the step has).
    pub boxed: bool,
}

impl StepCommand {
    /// `sh -c command`, on the host.
    pub fn shell(command: &str) -> Self {
        let mut cmd = std::process::Command::new("sh");
        cmd.arg("-c").arg(command);
        Self {
            command: cmd,
            boxed: false,
        }
    }
}

/// Runs a step, sending output chunks to `output` as they are read, and
/// its process group to `spawned` once it has one. `cancel` turns to the
/// grace a cancelled step gets between TERM and KILL; `grace` is the one
/// for a timeout. Returns only when every process of the step's group is
/// gone.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    step: StepCommand,
    cwd: &Path,
    env: &[(String, String)],
    timeout: Duration,
    grace: Duration,
    mut cancel: watch::Receiver<Option<Duration>>,
    output: mpsc::Sender<Vec<u8>>,
    spawned: impl FnOnce(i32),
) -> std::io::Result<Outcome> {
    let (mut reader, writer) = std::io::pipe()?;
    let boxed = step.boxed;
    let mut cmd = tokio::process::Command::from(step.command);
    cmd.current_dir(cwd)
        .env_clear()
        .envs(inherited_env(env))
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
    spawned(pgid.as_raw());
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
            stop_group(&mut child, pgid, grace, boxed).await;
            Outcome::TimedOut(timeout)
        }
        grace = wait_for_cancel(&mut cancel) => {
            stop_group(&mut child, pgid, grace, boxed).await;
            Outcome::Cancelled
        }
    };
    // Whatever the step left behind in its group (background jobs,
    // grandchildren) ends with it.
    kill_rest(pgid).await;
    let _ = tokio::task::spawn_blocking(move || reader_thread.join()).await;
    Ok(outcome)
}

/// The grace of the cancel, once there is one.
async fn wait_for_cancel(cancel: &mut watch::Receiver<Option<Duration>>) -> Duration {
    loop {
        if let Some(grace) = *cancel.borrow() {
            return grace;
        }
        if cancel.changed().await.is_err() {
            // The sender is gone: nobody can cancel any more.
            std::future::pending::<()>().await;
        }
    }
}

/// TERM to the whole group, then KILL once the grace period is over. In a
/// box, `bwrap` itself is spared the TERM (it would end at once, and the
/// box with it, before the step could stop by itself).
async fn stop_group(child: &mut tokio::process::Child, pgid: Pid, grace: Duration, boxed: bool) {
    if boxed {
        term_group_but_leader(pgid);
    } else {
        let _ = killpg(pgid, Signal::SIGTERM);
    }
    if tokio::time::timeout(grace, child.wait()).await.is_err() {
        let _ = killpg(pgid, Signal::SIGKILL);
        let _ = child.wait().await;
    }
}

/// Kills what is left of a group and waits until none of it remains. What
/// the step's processes leave behind as zombies (bwrap's own init, whose
/// parent exits without waiting for it) is reparented to this server, a
/// subreaper (see [`adopt_orphans`]), and reaped here; nothing else of
/// ours is, so tokio's own children are left to it.
async fn kill_rest(pgid: Pid) {
    for _ in 0..100 {
        if killpg(pgid, Signal::SIGKILL).is_err() {
            return; // ESRCH: the group is empty
        }
        reap_zombies_of(pgid);
        if killpg(pgid, Signal::SIGKILL).is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tracing::warn!(
        pgid = pgid.as_raw(),
        "processes of a step's group survived SIGKILL"
    );
}

/// Makes this server the reaper of its steps' orphans, so nothing they
/// leave waits for an init that may never reap it (a container's PID 1).
pub fn adopt_orphans() {
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        tracing::warn!(error = %e, "could not become the subreaper of step processes");
    }
}

/// A process as `/proc/<pid>/stat` tells it.
struct Proc {
    pid: i32,
    state: char,
    ppid: i32,
    pgrp: i32,
}

/// The processes of a group, read from `/proc`.
fn group_members(pgid: Pid) -> Vec<Proc> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse::<i32>().ok()?;
            // `pid (comm) state ppid pgrp ...`: the name may hold spaces, so
            // fields are counted after its closing parenthesis.
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
            let state = fields.next()?.chars().next()?;
            let ppid = fields.next()?.parse().ok()?;
            let pgrp = fields.next()?.parse().ok()?;
            Some(Proc {
                pid,
                state,
                ppid,
                pgrp,
            })
        })
        .filter(|p| p.pgrp == pgid.as_raw())
        .collect()
}

/// Ends what is left of the group `pgid` that a stopped instance recorded
/// for a step of `deployment`: each process that is still in that group
/// and carries that deployment's id in its environment is killed (a group
/// id may have been reused by something else since). Returns how many.
pub async fn end_left_group(pgid: i64, deployment: crate::model::DeploymentId) -> usize {
    let Ok(pgid) = i32::try_from(pgid) else {
        return 0;
    };
    let mark = format!("FLIGHTDECK_DEPLOYMENT_ID={deployment}");
    let ours = |p: &Proc| {
        std::fs::read(format!("/proc/{}/environ", p.pid))
            .is_ok_and(|environ| environ.split(|b| *b == 0).any(|var| var == mark.as_bytes()))
    };
    let mut ended = std::collections::HashSet::new();
    for _ in 0..50 {
        let left: Vec<Proc> = group_members(Pid::from_raw(pgid))
            .into_iter()
            .filter(|p| p.state != 'Z' && ours(p))
            .collect();
        if left.is_empty() {
            break;
        }
        for p in &left {
            if nix::sys::signal::kill(Pid::from_raw(p.pid), Signal::SIGKILL).is_ok() {
                ended.insert(p.pid);
            }
        }
        reap_zombies_of(Pid::from_raw(pgid));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ended.len()
}

/// TERM to every process of the group but its leader.
fn term_group_but_leader(pgid: Pid) {
    for p in group_members(pgid) {
        if p.pid != pgid.as_raw() {
            let _ = nix::sys::signal::kill(Pid::from_raw(p.pid), Signal::SIGTERM);
        }
    }
}

/// Waits for the group's zombies this process is the parent of (adopted
/// ones: the group's leader, our own child, was waited for already).
fn reap_zombies_of(pgid: Pid) {
    let us = std::process::id() as i32;
    for p in group_members(pgid) {
        if p.state == 'Z' && p.ppid == us && p.pid != pgid.as_raw() {
            let _ = nix::sys::wait::waitpid(
                Pid::from_raw(p.pid),
                Some(nix::sys::wait::WaitPidFlag::WNOHANG),
            );
        }
    }
}

/// The few variables of the server's own environment a step may need,
/// unless the step's own environment sets them (a boxed step's `HOME`).
fn inherited_env(own: &[(String, String)]) -> Vec<(String, String)> {
    ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER"]
        .iter()
        .filter(|k| !own.iter().any(|(o, _)| o == *k))
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
        .collect()
}
