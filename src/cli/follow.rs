//! Following one deployment live: each step's start and end and its
//! output as it is written, from the live channel, with a progress line
//! on a terminal and plain lines when piped. Output is tracked by byte
//! offset per step, so nothing is printed twice or skipped across a
//! reconnect (the record is fetched again and only what is new printed).

use super::client::{self, Client, Socket};
use super::exit::Failure;
use crate::model::time::duration;
use crate::model::{Deployment, DeploymentStep, LiveMessage, StepId, StepStatus};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::time::{Duration, Instant};

/// How long the live channel may stay silent (it sends a heartbeat every
/// 20 s) before the connection counts as lost.
const SILENCE: Duration = Duration::from_secs(65);

/// How a deployment being followed came to an end.
pub enum Ended {
    /// It finished; here it is, as stored.
    Finished(Box<Deployment>),
    /// The person pressed Ctrl-C first.
    Interrupted,
}

/// Where the stream goes: a terminal gets colours and a progress line
/// redrawn in place; anything else plain lines.
pub struct Printer {
    tty: bool,
    /// Under `--json`, stdout is for the JSON: the stream goes to stderr.
    to_stderr: bool,
    progress_shown: bool,
}

impl Printer {
    pub fn new(to_stderr: bool) -> Self {
        use std::io::IsTerminal;
        let tty = if to_stderr {
            std::io::stderr().is_terminal()
        } else {
            std::io::stdout().is_terminal()
        };
        Self {
            tty,
            to_stderr,
            progress_shown: false,
        }
    }

    fn write(&mut self, text: &str) {
        let mut lock: Box<dyn Write> = if self.to_stderr {
            Box::new(std::io::stderr().lock())
        } else {
            Box::new(std::io::stdout().lock())
        };
        if self.progress_shown {
            let _ = lock.write_all(b"\r\x1b[2K");
            self.progress_shown = false;
        }
        let _ = lock.write_all(text.as_bytes());
        let _ = lock.flush();
    }

    /// A line of its own.
    pub fn line(&mut self, text: &str) {
        self.write(&format!("{text}\n"));
    }

    /// A line in a colour, on a terminal (`code` is an SGR parameter).
    fn styled(&mut self, code: &str, text: &str) {
        if self.tty {
            self.line(&format!("\x1b[{code}m{text}\x1b[0m"));
        } else {
            self.line(text);
        }
    }

    /// The progress line, on a terminal only, redrawn in place.
    fn progress(&mut self, text: &str) {
        if !self.tty {
            return;
        }
        self.write(&format!("\x1b[2m{text}\x1b[0m"));
        self.progress_shown = true;
    }

    /// Clears the progress line before the program says something else.
    pub fn done(&mut self) {
        if self.progress_shown {
            self.write("");
        }
    }
}

/// What has been shown of a deployment so far.
struct Shown {
    /// The record as known, its steps without output.
    deployment: Deployment,
    /// Per step: the bytes of output printed, and an unfinished last
    /// line held back until its end arrives (or the step ends).
    printed: HashMap<StepId, i64>,
    partial: HashMap<StepId, String>,
    /// Steps whose start, and whose end, were announced.
    headers: HashSet<StepId>,
    footers: HashSet<StepId>,
    started: Instant,
}

impl Shown {
    fn new(mut deployment: Deployment) -> Self {
        for step in &mut deployment.steps {
            step.output.clear();
        }
        Self {
            deployment,
            printed: HashMap::new(),
            partial: HashMap::new(),
            headers: HashSet::new(),
            footers: HashSet::new(),
            started: Instant::now(),
        }
    }

    fn step_index(&self, id: StepId) -> Option<usize> {
        self.deployment.steps.iter().position(|s| s.id == id)
    }

    /// Output of a step from byte `offset`: only what was not printed yet.
    fn output(&mut self, out: &mut Printer, step_id: StepId, offset: i64, text: &str) {
        if self.step_index(step_id).is_none() {
            return;
        }
        let printed = self.printed.entry(step_id).or_insert(0);
        let end = offset + text.len() as i64;
        if end <= *printed || offset > *printed {
            // Already shown, or a gap: the refetch at the end fills gaps.
            return;
        }
        let Some(new) = text.get((*printed - offset) as usize..) else {
            return;
        };
        *printed = end;
        let pending = self.partial.entry(step_id).or_default();
        pending.push_str(new);
        if let Some(cut) = pending.rfind('\n') {
            let complete: String = pending.drain(..=cut).collect();
            out.write(&complete);
        }
    }

    /// A newer record of a step (without output) replaces the known one.
    fn step(&mut self, out: &mut Printer, step: &DeploymentStep) {
        let Some(i) = self.step_index(step.id) else {
            return;
        };
        if step.version >= self.deployment.steps[i].version {
            self.deployment.steps[i] = DeploymentStep {
                output: String::new(),
                ..step.clone()
            };
        }
        self.header(out, i);
        self.footer(out, i);
    }

    /// "==> [2/4] Build", once a step has started.
    fn header(&mut self, out: &mut Printer, i: usize) {
        let step = &self.deployment.steps[i];
        if step.started_at.is_none() || !self.headers.insert(step.id) {
            return;
        }
        let text = format!(
            "==> [{}/{}] {}",
            i + 1,
            self.deployment.steps.len(),
            step.name
        );
        out.styled("1;36", &text);
    }

    /// "<== Build completed in 3s", once a step has ended.
    fn footer(&mut self, out: &mut Printer, i: usize) {
        let step = self.deployment.steps[i].clone();
        // A step that never ran (cancelled while queued) says nothing.
        if !step.status.is_finished() || step.started_at.is_none() || !self.footers.insert(step.id)
        {
            return;
        }
        if let Some(rest) = self.partial.remove(&step.id).filter(|r| !r.is_empty()) {
            out.line(&rest);
        }
        let took = match (step.started_at, step.finished_at) {
            (Some(a), Some(b)) => format!(" in {}", duration(b - a)),
            _ => String::new(),
        };
        let (code, word) = match step.status {
            StepStatus::Completed => ("32", "completed"),
            StepStatus::Failed => ("1;31", "failed"),
            _ => ("33", "cancelled"),
        };
        out.styled(code, &format!("<== {} {word}{took}", step.name));
    }

    /// Everything of a stored record not shown yet: each step's start,
    /// its output past what was printed, and its end, in order.
    fn catch_up(&mut self, out: &mut Printer, fresh: Deployment) {
        for step in &fresh.steps {
            let Some(i) = self.step_index(step.id) else {
                continue;
            };
            if step.version >= self.deployment.steps[i].version {
                self.deployment.steps[i] = DeploymentStep {
                    output: String::new(),
                    ..step.clone()
                };
            }
            self.header(out, i);
            self.output(out, step.id, step.output_offset, &step.output);
            self.footer(out, i);
        }
        if fresh.version >= self.deployment.version {
            let steps = std::mem::take(&mut self.deployment.steps);
            self.deployment = Deployment { steps, ..fresh };
        }
    }

    fn progress_line(&self) -> String {
        const SPIN: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
        let elapsed = self.started.elapsed();
        let spin = SPIN[(elapsed.as_millis() / 100) as usize % SPIN.len()];
        let d = &self.deployment;
        let running = d
            .steps
            .iter()
            .enumerate()
            .find(|(_, s)| s.status == StepStatus::Running);
        let at = match running {
            Some((i, s)) => format!("{} ({}/{})", s.name, i + 1, d.steps.len()),
            None => d.status.to_string(),
        };
        format!(
            "{spin} {} · {at} · {}",
            d.operation_name,
            duration(elapsed.as_millis() as i64)
        )
    }
}

/// Follows `deployment` on `socket` until it finishes or Ctrl-C, printing
/// as it goes; `deployment` is the record as fetched after the socket
/// opened (what it already has is printed first).
pub async fn follow(
    client: &Client,
    mut socket: Socket,
    deployment: Deployment,
    out: &mut Printer,
) -> Result<Ended, Failure> {
    let id = deployment.id;
    let mut shown = Shown::new(deployment.clone());
    shown.catch_up(out, deployment);
    let mut tick = tokio::time::interval(Duration::from_millis(120));
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);
    loop {
        if shown.deployment.is_finished() {
            // Everything is stored by now: show what the stream may not have.
            let fresh: Deployment = client
                .call("get_deployment", &[("id", &id.to_string())])
                .await?;
            shown.catch_up(out, fresh.clone());
            out.done();
            return Ok(Ended::Finished(Box::new(fresh)));
        }
        tokio::select! {
            // Quiet for three heartbeats: the connection died without a
            // word (a NAT timeout, a partition); treat it as lost.
            message = tokio::time::timeout(SILENCE, client::next_message(&mut socket)) => match message.ok().flatten() {
                Some(LiveMessage::Deployment { deployment, .. }) if deployment.id == id => {
                    if deployment.version > shown.deployment.version {
                        for step in &deployment.steps {
                            shown.step(out, step);
                        }
                        let steps = std::mem::take(&mut shown.deployment.steps);
                        shown.deployment = Deployment { steps, ..*deployment };
                    }
                }
                Some(LiveMessage::Step { step, .. }) if step.deployment_id == id => shown.step(out, &step),
                Some(LiveMessage::Output { step_id, offset, text, .. }) => shown.output(out, step_id, offset, &text),
                Some(LiveMessage::Reset { .. }) | None => {
                    // Fell behind or lost the connection: start over from
                    // the stored record, printing only what is new.
                    socket = reconnect(client).await?;
                    let fresh: Deployment = client.call("get_deployment", &[("id", &id.to_string())]).await?;
                    shown.catch_up(out, fresh);
                }
                Some(_) => {}
            },
            _ = tick.tick() => out.progress(&shown.progress_line()),
            _ = &mut interrupt => {
                out.done();
                return Ok(Ended::Interrupted);
            }
        }
    }
}

/// A new socket after a lost one, trying for about half a minute.
async fn reconnect(client: &Client) -> Result<Socket, Failure> {
    let mut wait = Duration::from_millis(250);
    let mut last = None;
    for _ in 0..8 {
        match client.socket(None).await {
            Ok((socket, _)) => return Ok(socket),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(8));
    }
    Err(last.unwrap_or_else(|| Failure::unreachable("lost the live channel")))
}

/// The last `n` lines of a step's output.
pub fn last_lines(output: &str, n: usize) -> Vec<&str> {
    let lines: Vec<&str> = output.trim_end().lines().collect();
    lines[lines.len().saturating_sub(n)..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_lines_of_a_log_are_its_tail() {
        assert_eq!(last_lines("a\nb\nc\n", 2), ["b", "c"]);
        assert_eq!(last_lines("a\n", 5), ["a"]);
        assert!(last_lines("", 5).is_empty());
    }
}
