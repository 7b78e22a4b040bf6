//! A step's output on its way to storage: flushed every
//! [`OUTPUT_FLUSH`] so readers see it live, and bounded, so a step that
//! prints gigabytes keeps its head and its tail.

use super::retry::retrying;
use crate::model::StepId;
use crate::model::time::now_ms;
use crate::server::store::output_times::Pending;
use crate::server::store::{Db, changes};
use std::time::Duration;
use tokio::sync::mpsc;

/// Stored output per step: this much from the start, then only the tail.
const OUTPUT_HEAD_BYTES: usize = 1024 * 1024;
const OUTPUT_TAIL_BYTES: usize = 256 * 1024;
/// Readers see new output within this long.
const OUTPUT_FLUSH: Duration = Duration::from_millis(200);

/// The next flush time: the next multiple of [`OUTPUT_FLUSH`] on the wall
/// clock at least half a period away. Every running step flushes on the
/// same beat, so the output of many steps commits together and reaches
/// each socket in one write, not one per step.
fn next_flush() -> tokio::time::Instant {
    let period = OUTPUT_FLUSH.as_millis() as u64;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut wait = period - now_ms % period;
    if wait < period / 2 {
        wait += period;
    }
    tokio::time::Instant::now() + Duration::from_millis(wait)
}

/// Writes a step's output as it arrives, at most every [`OUTPUT_FLUSH`]
/// (on a beat shared by every step, see [`next_flush`]),
/// keeping the stored output bounded. Ends when the sender is dropped.
/// Output a write could not store is kept and sent with the next one (it
/// is bounded by the head and tail), and the last write is retried for
/// `patience`, so a database that stops answering for a while loses none.
pub(super) async fn write_output(
    db: Db,
    step_id: StepId,
    mut rx: mpsc::Receiver<Vec<u8>>,
    patience: Duration,
) {
    let mut limiter = OutputLimiter::new(OUTPUT_HEAD_BYTES, OUTPUT_TAIL_BYTES);
    let mut pending = String::new();
    // When each part of `pending` came, for the log's per-line times.
    let mut times = Pending::default();
    let mut tick = tokio::time::interval_at(next_flush(), OUTPUT_FLUSH);
    loop {
        tokio::select! {
            chunk = rx.recv() => match chunk {
                Some(chunk) => {
                    let at = now_ms();
                    let now = limiter.push(&chunk, at);
                    times.push(at, now.len());
                    pending.push_str(&now);
                }
                None => break,
            },
            _ = tick.tick() => {
                if !pending.is_empty() {
                    match changes::append_output(&db, step_id, &pending, &times).await {
                        Ok(()) => {
                            pending.clear();
                            times.clear();
                        }
                        Err(e) => tracing::warn!(error = %e, "could not store step output yet"),
                    }
                    // The next flush is on the beat after this write ended, however
                    // long the database kept it: the step's end is seen in between,
                    // and the last write below waits out the database, for
                    // `patience` and no longer.
                    tick.reset_at(next_flush());
                }
            }
        }
    }
    let (rest, rest_times) = limiter.finish(now_ms());
    for (at, len) in rest_times {
        times.push(at, len);
    }
    pending.push_str(&rest);
    if !pending.is_empty()
        && let Err(e) = retrying(patience, || {
            changes::append_output(&db, step_id, &pending, &times)
        })
        .await
    {
        tracing::warn!(error = %e, "could not store step output");
    }
}

/// Keeps a step's stored output bounded: the first `head` bytes go to
/// storage as they come; after that only the last `tail` bytes are kept and
/// written at the end, behind a note of how much was cut, with the times
/// their parts came at.
pub struct OutputLimiter {
    head_left: usize,
    tail: std::collections::VecDeque<u8>,
    tail_cap: usize,
    /// When the bytes in `tail` came: (ms, bytes), oldest first.
    tail_times: std::collections::VecDeque<(i64, usize)>,
    cut: u64,
    pending: Vec<u8>,
}

impl OutputLimiter {
    pub fn new(head: usize, tail: usize) -> Self {
        Self {
            head_left: head,
            tail: Default::default(),
            tail_cap: tail,
            tail_times: Default::default(),
            cut: 0,
            pending: Vec::new(),
        }
    }

    /// Takes a chunk that came at `at`; returns the text to store now
    /// (possibly empty).
    pub fn push(&mut self, chunk: &[u8], at: i64) -> String {
        let take = chunk.len().min(self.head_left);
        self.head_left -= take;
        let mut now = std::mem::take(&mut self.pending);
        now.extend_from_slice(&chunk[..take]);
        let rest = &chunk[take..];
        if !rest.is_empty() {
            self.tail_times.push_back((at, rest.len()));
        }
        for &b in rest {
            if self.tail.len() == self.tail_cap {
                self.tail.pop_front();
                self.cut += 1;
                if let Some(front) = self.tail_times.front_mut() {
                    front.1 -= 1;
                    if front.1 == 0 {
                        self.tail_times.pop_front();
                    }
                }
            }
            self.tail.push_back(b);
        }
        // Hold back an incomplete UTF-8 sequence at the end for the next chunk.
        let valid = match std::str::from_utf8(&now) {
            Ok(_) => now.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => now.len(),
        };
        self.pending = now.split_off(valid);
        String::from_utf8_lossy(&now).into_owned()
    }

    /// What remains at the end (held-back bytes, the cut note and the
    /// tail), and when its parts came: (ms, bytes) covering the text.
    pub fn finish(&mut self, now: i64) -> (String, Vec<(i64, usize)>) {
        let mut out = String::from_utf8_lossy(&std::mem::take(&mut self.pending)).into_owned();
        let mut times = vec![(now, out.len())];
        let tail_at = self.tail_times.front().map_or(now, |t| t.0);
        if self.cut > 0 {
            let before = out.len();
            out.push_str(&format!(
                "\n[… {} bytes of output cut; the last {} bytes follow …]\n",
                self.cut,
                self.tail.len()
            ));
            times.push((tail_at, out.len() - before));
        }
        let tail: Vec<u8> = self.tail.drain(..).collect();
        let tail = String::from_utf8_lossy(&tail);
        let mut stretches: Vec<(i64, usize)> = self.tail_times.drain(..).collect();
        // A tail cut inside a character reads a little longer or shorter.
        let counted: usize = stretches.iter().map(|s| s.1).sum();
        if let Some(first) = stretches.first_mut() {
            first.1 = (first.1 + tail.len()).saturating_sub(counted);
        }
        out.push_str(&tail);
        times.extend(stretches);
        times.retain(|t| t.1 > 0);
        (out, times)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_keeps_the_head_and_the_tail_and_says_what_was_cut() {
        let mut l = OutputLimiter::new(10, 5);
        let mut stored = l.push(b"0123456789abcdefghij", 1);
        let (rest, times) = l.finish(9);
        stored.push_str(&rest);
        assert!(stored.starts_with("0123456789"));
        assert!(stored.contains("5 bytes of output cut"));
        assert!(stored.ends_with("fghij"));
        assert_eq!(times.iter().map(|t| t.1).sum::<usize>(), rest.len());
    }

    #[test]
    fn the_tail_keeps_the_times_its_parts_came_at() {
        let mut l = OutputLimiter::new(4, 6);
        assert_eq!(l.push(b"head", 100), "head");
        assert_eq!(l.push(b"aaaa", 200), "");
        assert_eq!(l.push(b"bbbb", 300), "");
        let (rest, times) = l.finish(900);
        assert!(rest.ends_with("aabbbb"), "{rest}");
        let note = rest.len() - 6;
        // The note goes with the tail's first part; each part keeps its time.
        assert_eq!(times, [(200, note), (200, 2), (300, 4)]);
    }

    #[test]
    fn a_character_split_across_chunks_is_kept_whole() {
        let mut l = OutputLimiter::new(100, 10);
        let euro = "€".as_bytes();
        let mut s = l.push(&euro[..1], 1);
        s.push_str(&l.push(&euro[1..], 2));
        s.push_str(&l.finish(3).0);
        assert_eq!(s, "€");
    }
}
