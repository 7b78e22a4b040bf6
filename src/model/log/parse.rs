//! How output becomes lines: escape sequences become style changes,
//! newlines end lines, a carriage return starts its line over (as a
//! terminal's progress bar does), and `::group::` markers are recognised.

use super::{END_GROUP, GROUP, Group, Line, LineKind, LogModel};
use crate::model::ansi::{self, Style};

impl LogModel {
    /// Parses the output from the start of the open last line on.
    pub(super) fn parse(&mut self) {
        let from = self.parsed_to;
        if self.open_last
            && let Some(open) = self.lines.pop()
        {
            // The last line is still open: take it off and parse it again.
            let start = open.start as usize;
            self.plain.truncate(start);
            self.lower.truncate(start);
            let keep = self.runs.partition_point(|r| (r.0 as usize) < start);
            self.runs.truncate(keep);
        }
        self.changed_from = self.plain.len() as u32;
        let raw = std::mem::take(&mut self.raw);
        let base = self.offset;
        let skip = (from - base) as usize;
        let mut style = self.parsed_style;
        let mut open: Option<Line> = None;
        let mut parser = Parser {
            log: self,
            raw: &raw,
            base,
        };
        ansi::scan(&raw[skip..], &mut style, |at, piece, style| {
            parser.piece(&mut open, skip + at, piece, style);
        });
        self.open_last = open.is_some();
        if let Some(line) = open {
            self.push_line(line);
        }
        self.raw = raw;
        self.find_groups();
    }

    fn push_line(&mut self, mut line: Line) {
        let text = &self.plain[line.start as usize..line.end as usize];
        line.kind = if text.starts_with(GROUP) {
            LineKind::GroupStart
        } else if text.trim_end() == END_GROUP {
            LineKind::GroupEnd
        } else {
            LineKind::Text
        };
        self.lines.push(line);
    }

    fn time_at(&self, raw: i64) -> Option<i64> {
        let i = self.marks.partition_point(|m| m.offset <= raw);
        i.checked_sub(1).map(|i| self.marks[i].at)
    }

    fn push_text(&mut self, text: &str, style: &Style) {
        if text.is_empty() {
            return;
        }
        let at = self.plain.len() as u32;
        match self.runs.last_mut() {
            Some(last) if last.1 == *style => {}
            Some(last) if last.0 == at => last.1 = *style,
            _ => self.runs.push((at, *style)),
        }
        self.plain.push_str(text);
        self.lower.push_str(&text.to_ascii_lowercase());
    }

    fn find_groups(&mut self) {
        let mut groups = Vec::new();
        let mut open: Vec<usize> = Vec::new();
        for (i, line) in self.lines.iter().enumerate() {
            match line.kind {
                LineKind::GroupStart => {
                    open.push(groups.len());
                    groups.push(Group {
                        start: i as u32,
                        end: None,
                    });
                }
                LineKind::GroupEnd => {
                    if let Some(g) = open.pop() {
                        let g: &mut Group = &mut groups[g];
                        g.end = Some(i as u32);
                    }
                }
                LineKind::Text => {}
            }
        }
        self.groups = groups;
    }
}

/// Splits escape-free pieces of output into lines; a carriage return
/// starts its line over, as a terminal's progress bar does.
struct Parser<'a> {
    log: &'a mut LogModel,
    raw: &'a str,
    base: i64,
}

impl Parser<'_> {
    fn piece(&mut self, open: &mut Option<Line>, at: usize, piece: &str, style: &Style) {
        let mut from = 0;
        for (j, c) in piece.match_indices(['\n', '\r']) {
            self.text(open, at + from, &piece[from..j], style);
            let next = at + j + 1;
            if c == "\n" {
                let line = open.take().unwrap_or_else(|| self.open_line(at + j));
                let mut line = line;
                line.end = self.log.plain.len() as u32;
                self.log.plain.push('\n');
                self.log.lower.push('\n');
                self.log.push_line(line);
                self.log.parsed_to = self.base + next as i64;
                self.log.parsed_style = *style;
            } else if !matches!(self.raw.as_bytes().get(next), Some(b'\n') | None)
                && let Some(line) = open
            {
                // A bare carriage return: what follows overwrites the line.
                let start = line.start as usize;
                self.log.plain.truncate(start);
                self.log.lower.truncate(start);
                let keep = self.log.runs.partition_point(|r| (r.0 as usize) < start);
                self.log.runs.truncate(keep);
                line.end = line.start;
            }
            from = j + 1;
        }
        self.text(open, at + from, &piece[from..], style);
    }

    fn text(&mut self, open: &mut Option<Line>, at: usize, text: &str, style: &Style) {
        if text.is_empty() {
            return;
        }
        if open.is_none() {
            *open = Some(self.open_line(at));
        }
        self.log.push_text(text, style);
        if let Some(line) = open {
            line.end = self.log.plain.len() as u32;
        }
    }

    fn open_line(&self, raw_at: usize) -> Line {
        let start = self.log.plain.len() as u32;
        Line {
            start,
            end: start,
            at: self.log.time_at(self.base + raw_at as i64),
            kind: LineKind::Text,
        }
    }
}
