//! Search in a log: every match of a phrase, ignoring ASCII case, as
//! positions in the log's text and the line each is on.

use super::LogModel;

/// One match: `plain[start..end]` of the log, on line `line`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match {
    pub line: u32,
    pub start: u32,
    pub end: u32,
}

/// Every match of `phrase` in `log`, in order; none for an empty phrase.
pub fn find(log: &LogModel, phrase: &str) -> Vec<Match> {
    let needle = phrase.to_ascii_lowercase();
    if needle.is_empty() || needle.contains('\n') {
        return Vec::new();
    }
    let lines = log.lines();
    let mut line = 0usize;
    let mut found = Vec::new();
    for (at, _) in log.lower_text().match_indices(&needle) {
        let at = at as u32;
        while line + 1 < lines.len() && lines[line].end < at {
            line += 1;
        }
        found.push(Match {
            line: line as u32,
            start: at,
            end: at + needle.len() as u32,
        });
    }
    found
}
