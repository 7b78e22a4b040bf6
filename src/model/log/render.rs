//! A log's rows as HTML, the same on the server and in the browser: line
//! number links, per-line times, styles and search highlights, with every
//! character of the log escaped, so output can never inject markup.

use super::search::Match;
use super::{LineKind, LogModel};
use crate::model::ansi::{Style, push_run};
use crate::model::time;

/// How rows are drawn.
pub struct RowOptions<'a> {
    /// The step's number as the page shows it (the `2` of `#step-2-L120`).
    pub step: i64,
    /// When the step started: each line's time is shown from it.
    pub started_at: Option<i64>,
    /// This log's search matches, in order, and the current one.
    pub matches: &'a [Match],
    pub current: Option<usize>,
    /// Line numbers a link points at, first and last.
    pub highlight: Option<(u32, u32)>,
    /// Whether the group headed by a line is folded.
    pub folded: &'a dyn Fn(u32) -> bool,
}

/// The anchor of a line: `step-2-L120`.
pub fn line_anchor(step: i64, number: u32) -> String {
    format!("step-{step}-L{number}")
}

/// What an anchor points at: the step's number and the first and last
/// line numbers of `step-2-L120` or `step-2-L120-L140` (a leading `#`
/// allowed; a range given backwards is turned round).
pub fn parse_anchor(anchor: &str) -> Option<(i64, u32, u32)> {
    let rest = anchor.trim_start_matches('#').strip_prefix("step-")?;
    let (step, lines) = rest.split_once("-L")?;
    let step: i64 = step.parse().ok().filter(|n| *n > 0)?;
    let (a, b) = match lines.split_once("-L") {
        Some((a, b)) => (a.parse::<u32>().ok()?, b.parse::<u32>().ok()?),
        None => {
            let a = lines.parse::<u32>().ok()?;
            (a, a)
        }
    };
    (a > 0 && b > 0).then(|| (step, a.min(b), a.max(b)))
}

/// A time from a step's start as a clock reads: "0:05", "12:34", "1:02:03".
pub fn clock(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    if secs >= 3600 {
        format!("{}:{:02}:{:02}", secs / 3600, (secs % 3600) / 60, secs % 60)
    } else {
        format!("{}:{:02}", secs / 60, secs % 60)
    }
}

/// The rows `rows` (line indexes) of `log` as HTML.
pub fn rows_html(log: &LogModel, rows: &[u32], o: &RowOptions) -> String {
    let mut out = String::with_capacity(rows.len() * 160);
    for &line in rows {
        row_html(&mut out, log, line, o);
    }
    out
}

fn row_html(out: &mut String, log: &LogModel, line: u32, o: &RowOptions) {
    let l = &log.lines()[line as usize];
    let number = log.number(line);
    let anchor = line_anchor(o.step, number);
    let lit = o.highlight.is_some_and(|(a, b)| a <= number && number <= b);
    let header = l.kind == LineKind::GroupStart;
    out.push_str("<div class=\"ll");
    if lit {
        out.push_str(" hl");
    }
    if header {
        out.push_str(" lg");
    }
    out.push_str(&format!(
        "\" id=\"{anchor}\" data-l=\"{number}\"><a class=\"ln\" href=\"#{anchor}\" data-n=\"{number}\" aria-label=\"Line {number}\"></a>"
    ));
    match (l.at, o.started_at) {
        (Some(at), Some(start)) => out.push_str(&format!(
            "<span class=\"lt\" data-t=\"{}\" title=\"{}\"></span>",
            clock(at - start),
            time::exact_utc(at)
        )),
        _ => out.push_str("<span class=\"lt\"></span>"),
    }
    if header {
        let folded = (o.folded)(line);
        let group = log.group_at(line);
        out.push_str(&format!(
            "<button type=\"button\" class=\"lx lg-toggle\" data-g=\"{line}\" aria-expanded=\"{}\"><span class=\"lg-arrow\" aria-hidden=\"true\"></span>",
            !folded
        ));
        let title = log.group_title(line);
        let title_start =
            l.start + (title.as_ptr() as usize - log.text(line).as_ptr() as usize) as u32;
        styled(out, log, title_start, title_start + title.len() as u32, o);
        if title.is_empty() {
            out.push_str("Group");
        }
        match group.and_then(|g| log.group_took(g)) {
            Some(ms) => out.push_str(&format!(
                "<span class=\"lg-took\">{}</span>",
                time::duration(ms)
            )),
            None if group.is_some_and(|g| g.end.is_none()) => {
                out.push_str("<span class=\"lg-took\">running</span>")
            }
            None => {}
        }
        out.push_str("</button></div>");
    } else {
        out.push_str("<span class=\"lx\">");
        styled(out, log, l.start, l.end, o);
        out.push_str("</span></div>");
    }
}

/// `plain[start..end]` with its styles and the search matches in it.
fn styled(out: &mut String, log: &LogModel, start: u32, end: u32, o: &RowOptions) {
    if start >= end {
        return;
    }
    let styles: Vec<(u32, Style)> = log.styles(start, end).collect();
    let first = o.matches.partition_point(|m| m.end <= start);
    let matches: Vec<(usize, &Match)> = o.matches[first..]
        .iter()
        .enumerate()
        .take_while(|(_, m)| m.start < end)
        .map(|(i, m)| (first + i, m))
        .collect();
    let mut cuts: Vec<u32> = vec![start, end];
    cuts.extend(styles.iter().map(|s| s.0));
    for (_, m) in &matches {
        cuts.push(m.start.max(start));
        cuts.push(m.end.min(end));
    }
    cuts.sort_unstable();
    cuts.dedup();
    let plain = log.plain_text();
    for pair in cuts.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if a < start || b > end || a >= b {
            continue;
        }
        let style = styles
            .iter()
            .rev()
            .find(|s| s.0 <= a)
            .map(|s| s.1)
            .unwrap_or_default();
        let hit = matches.iter().find(|(_, m)| m.start <= a && a < m.end);
        if let Some((i, _)) = hit {
            out.push_str(if Some(*i) == o.current {
                "<mark class=\"m cur\">"
            } else {
                "<mark class=\"m\">"
            });
        }
        push_run(out, &style, &plain[a as usize..b as usize]);
        if hit.is_some() {
            out.push_str("</mark>");
        }
    }
}
