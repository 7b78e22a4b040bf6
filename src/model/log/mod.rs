//! A step's log as the viewer reads it: output split into lines, each with
//! its styles, the time it was written and its place in `::group::` folds;
//! built from the stored output (or its tail) and grown by live output.
//! Markup is made only for the rows on screen ([`render`]).

mod parse;
pub mod render;
pub mod search;

use super::ansi::Style;
use serde::{Deserialize, Serialize};

/// When a stretch of a step's output was written: from byte `offset` of
/// the step's whole output on, until the next mark, at `at` (ms since the
/// epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputMark {
    pub offset: i64,
    pub at: i64,
}

/// A step's whole stored output and when each part of it was written:
/// what a log viewer loads when a page's tail is not enough.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepLog {
    pub output: String,
    pub times: Vec<OutputMark>,
}

/// What appending output to a shown log did.
#[derive(Debug, PartialEq, Eq)]
pub enum Appended {
    /// New text was added at the end.
    Yes,
    /// The page already had it (a replay overlapping the page's data).
    AlreadyShown,
    /// Text before it is missing: the page must refetch.
    Gap,
    /// Not a step of this deployment.
    NotHere,
}

/// What of `text`, which starts at byte `offset` of a step's output, a
/// page that has the output up to byte `end` lacks: the part of `text` (which starts at byte `offset`) not shown yet.
pub fn new_part(end: i64, offset: i64, text: &str) -> Result<&str, Appended> {
    let text_end = offset + text.len() as i64;
    if offset > end {
        return Err(Appended::Gap);
    }
    if text_end <= end {
        return Err(Appended::AlreadyShown);
    }
    // An overlap that ends inside a character: only a refetch can say what is right.
    text.get((end - offset) as usize..).ok_or(Appended::Gap)
}

const GROUP: &str = "::group::";
const END_GROUP: &str = "::endgroup::";

/// What a line is to the fold structure (the GitHub Actions convention).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    Text,
    /// `::group::Title`: shown as the group's header.
    GroupStart,
    /// `::endgroup::`: not shown.
    GroupEnd,
}

/// One line of a log.
#[derive(Clone, Debug)]
pub struct Line {
    /// Its text in [`LogModel::plain`], without the newline.
    pub start: u32,
    pub end: u32,
    /// When its first byte was written, when known.
    pub at: Option<i64>,
    pub kind: LineKind,
}

/// A `::group::` fold: its header line and its `::endgroup::` line (none
/// while the step is still inside it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Group {
    pub start: u32,
    pub end: Option<u32>,
}

/// A log parsed for showing. `raw` is the output from byte `offset` of
/// the step's whole output; `first_line` lines came before it.
#[derive(Clone, Debug, Default)]
pub struct LogModel {
    offset: i64,
    raw: String,
    first_line: u32,
    /// The text without escape sequences, lines ended by `\n`.
    plain: String,
    /// `plain` in ASCII lower case (same byte positions), for search.
    lower: String,
    /// Style changes: from each position of `plain` on, a style.
    runs: Vec<(u32, Style)>,
    lines: Vec<Line>,
    marks: Vec<OutputMark>,
    groups: Vec<Group>,
    /// Bytes of the whole output whose lines are complete, and the style
    /// in force there: the open last line is parsed again as it grows.
    parsed_to: i64,
    parsed_style: Style,
    /// Whether the last line has no newline yet.
    open_last: bool,
    /// Where in `plain` the last growth changed the text from.
    changed_from: u32,
}

impl LogModel {
    /// A log of `text`, which starts at byte `offset` of the step's output
    /// after `first_line` lines, written at the times `marks` give.
    pub fn new(offset: i64, first_line: u32, text: &str, marks: &[OutputMark]) -> Self {
        let mut log = Self {
            offset,
            first_line,
            parsed_to: offset,
            ..Default::default()
        };
        log.marks = marks.to_vec();
        log.raw.push_str(text);
        log.parse();
        log
    }

    /// A whole stored log.
    pub fn whole(log: &StepLog) -> Self {
        Self::new(0, 0, &log.output, &log.times)
    }

    /// Byte of the whole output where this log starts (0 when it is whole).
    pub fn offset(&self) -> i64 {
        self.offset
    }

    /// Byte of the whole output where this log ends.
    pub fn end(&self) -> i64 {
        self.offset + self.raw.len() as i64
    }

    /// Whether the output before this log is left out.
    pub fn is_tail(&self) -> bool {
        self.offset > 0
    }

    /// Lines left out before this log.
    pub fn first_line(&self) -> u32 {
        self.first_line
    }

    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// The line's number as the viewer shows it, from 1.
    pub fn number(&self, line: u32) -> u32 {
        self.first_line + line + 1
    }

    /// The index of the line numbered `number`, when this log has it.
    pub fn index_of(&self, number: u32) -> Option<u32> {
        let i = number.checked_sub(self.first_line + 1)?;
        ((i as usize) < self.lines.len()).then_some(i)
    }

    /// A line's text without escape sequences.
    pub fn text(&self, line: u32) -> &str {
        let l = &self.lines[line as usize];
        &self.plain[l.start as usize..l.end as usize]
    }

    /// The text of every line, as a reader copies it.
    pub fn plain_text(&self) -> &str {
        &self.plain
    }

    /// Where in [`Self::plain_text`] the last append changed the text
    /// from: what comes before stays as it was.
    pub fn changed_from(&self) -> u32 {
        self.changed_from
    }

    /// [`Self::plain_text`] in ASCII lower case, at the same positions.
    pub fn lower_text(&self) -> &str {
        &self.lower
    }

    /// A group header's title.
    pub fn group_title(&self, line: u32) -> &str {
        self.text(line)
            .strip_prefix(GROUP)
            .unwrap_or_default()
            .trim()
    }

    /// How long a finished group took, from its header to its end.
    pub fn group_took(&self, group: &Group) -> Option<i64> {
        let start = self.lines[group.start as usize].at?;
        let end = self.lines[group.end? as usize].at?;
        Some(end - start)
    }

    /// The group whose header is `line`.
    pub fn group_at(&self, line: u32) -> Option<&Group> {
        self.groups
            .binary_search_by_key(&line, |g| g.start)
            .ok()
            .map(|i| &self.groups[i])
    }

    /// The headers of the groups that hold `line`, outermost first.
    pub fn groups_holding(&self, line: u32) -> Vec<u32> {
        self.groups
            .iter()
            .filter(|g| g.start < line && g.end.is_none_or(|end| line <= end))
            .map(|g| g.start)
            .collect()
    }

    /// The lines shown, in order, with the groups `folded` says are folded
    /// showing only their header. `::endgroup::` lines are never shown.
    pub fn rows(&self, folded: impl Fn(u32) -> bool) -> Vec<u32> {
        let mut rows = Vec::with_capacity(self.lines.len());
        let mut i = 0u32;
        let n = self.lines.len() as u32;
        while i < n {
            match self.lines[i as usize].kind {
                LineKind::GroupEnd => i += 1,
                LineKind::GroupStart => {
                    rows.push(i);
                    i = match self.group_at(i) {
                        Some(g) if folded(i) => g.end.map_or(n, |end| end + 1),
                        _ => i + 1,
                    };
                }
                LineKind::Text => {
                    rows.push(i);
                    i += 1;
                }
            }
        }
        rows
    }

    /// The styles over `plain[start..end]`: each change in that range, the
    /// first at `start`.
    pub fn styles(&self, start: u32, end: u32) -> impl Iterator<Item = (u32, Style)> + '_ {
        let first = self.runs.partition_point(|r| r.0 <= start);
        let before = first
            .checked_sub(1)
            .map(|i| (start, self.runs[i].1))
            .into_iter();
        before.chain(
            self.runs[first..]
                .iter()
                .take_while(move |r| r.0 < end)
                .copied(),
        )
    }

    /// Appends output that starts at byte `offset` of the step's whole
    /// output, written at `marks`; output the log has is left alone.
    pub fn append(&mut self, offset: i64, text: &str, marks: &[OutputMark]) -> Appended {
        let part = match new_part(self.end(), offset, text) {
            Ok(part) => part,
            Err(not) => return not,
        };
        let end = self.end();
        // The stretch that began in output the log has goes on into the part.
        let straddling = marks
            .iter()
            .rfind(|m| m.offset < end)
            .map(|m| OutputMark {
                offset: end,
                at: m.at,
            })
            .filter(|_| !marks.iter().any(|m| m.offset == end));
        self.marks.extend(straddling);
        self.marks.extend(marks.iter().filter(|m| m.offset >= end));
        self.raw.push_str(part);
        self.parse();
        Appended::Yes
    }

    /// This log made whole from `whole`, keeping what arrived live after
    /// `whole` was read.
    pub fn absorb(&mut self, whole: LogModel) {
        let newer = self.end() > whole.end();
        let mut merged = whole;
        if newer {
            let from = (merged.end() - self.offset).max(0) as usize;
            if let Some(rest) = self.raw.get(from..) {
                let marks: Vec<OutputMark> = self.marks.clone();
                merged.append(merged.end(), rest, &marks);
            }
        }
        *self = merged;
    }
}

#[cfg(test)]
mod tests;
