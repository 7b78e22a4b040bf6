//! Search in a log: every match of a phrase, ignoring ASCII case, as
//! positions in the log's text and the line each is on. Only what the
//! viewer shows is searched: not `::endgroup::` lines, nor the `::group::`
//! before a header's title.

use super::{GROUP, LineKind, LogModel};

/// One match: `plain[start..end]` of the log, on line `line`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match {
    pub line: u32,
    pub start: u32,
    pub end: u32,
}

/// Every match of `phrase` in `log`, in order; none for an empty phrase.
pub fn find(log: &LogModel, phrase: &str) -> Vec<Match> {
    find_from(log, phrase, 0)
}

/// The matches of `phrase` that start at or after `from` in the log's text.
pub fn find_from(log: &LogModel, phrase: &str, from: u32) -> Vec<Match> {
    let needle = phrase.to_ascii_lowercase();
    if needle.is_empty() || needle.contains('\n') {
        return Vec::new();
    }
    let lines = log.lines();
    let mut line = lines.partition_point(|l| l.end < from);
    let mut found = Vec::new();
    let text = log.lower_text().get(from as usize..).unwrap_or_default();
    for (at, _) in text.match_indices(&needle) {
        let at = from + at as u32;
        while line + 1 < lines.len() && lines[line].end < at {
            line += 1;
        }
        let Some(l) = lines.get(line) else { break };
        let shown = match l.kind {
            LineKind::Text => true,
            LineKind::GroupEnd => false,
            LineKind::GroupStart => at >= l.start + GROUP.len() as u32,
        };
        if shown {
            found.push(Match {
                line: line as u32,
                start: at,
                end: at + needle.len() as u32,
            });
        }
    }
    found
}
