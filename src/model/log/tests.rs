use super::render::{RowOptions, clock, parse_anchor, rows_html};
use super::search::find;
use super::*;

fn mark(offset: i64, at: i64) -> OutputMark {
    OutputMark { offset, at }
}

fn texts(log: &LogModel) -> Vec<&str> {
    (0..log.lines().len() as u32).map(|i| log.text(i)).collect()
}

fn html(log: &LogModel, rows: &[u32]) -> String {
    rows_html(
        log,
        rows,
        &RowOptions {
            step: 2,
            started_at: Some(1_000),
            matches: &[],
            current: None,
            highlight: None,
            folded: &|_| false,
        },
    )
}

#[test]
fn output_becomes_numbered_lines_with_the_time_each_was_written() {
    let text = "one\ntwo\nthree";
    let log = LogModel::new(0, 0, text, &[mark(0, 1_000), mark(4, 6_500)]);
    assert_eq!(texts(&log), ["one", "two", "three"]);
    assert_eq!(log.number(0), 1);
    let at: Vec<_> = log.lines().iter().map(|l| l.at).collect();
    assert_eq!(at, [Some(1_000), Some(6_500), Some(6_500)]);
    let rows = html(&log, &[1]);
    assert!(rows.contains("id=\"step-2-L2\""), "{rows}");
    assert!(rows.contains("href=\"#step-2-L2\""), "{rows}");
    assert!(rows.contains("data-t=\"0:05\""), "{rows}");
    assert!(rows.contains("title=\"1970-01-01 00:00:06 UTC\""), "{rows}");
    assert_eq!(clock(3_723_000), "1:02:03");
}

#[test]
fn output_arriving_in_any_pieces_reads_as_output_parsed_at_once() {
    let text = "\x1b[31mred\nstill red\x1b[0m plain\r\nprogress 10%\rprogress 99%\r\n::group::Build\ninside\n::endgroup::\nlast é";
    let whole = LogModel::new(0, 0, text, &[]);
    for cut in 1..text.len() {
        if !text.is_char_boundary(cut) {
            continue;
        }
        let mut grown = LogModel::new(0, 0, &text[..cut], &[]);
        assert_eq!(grown.append(cut as i64, &text[cut..], &[]), Appended::Yes);
        assert_eq!(texts(&grown), texts(&whole), "cut at {cut}");
        assert_eq!(html(&grown, &[0, 1, 2, 3]), html(&whole, &[0, 1, 2, 3]));
    }
    assert_eq!(
        texts(&whole),
        [
            "red",
            "still red plain",
            "progress 99%",
            "::group::Build",
            "inside",
            "::endgroup::",
            "last é"
        ]
    );
    // A colour goes on across lines, as in a terminal.
    assert!(html(&whole, &[1]).contains("<span class=\"ansi-fg-1\">still red</span> plain"));
}

#[test]
fn groups_fold_to_their_header_with_how_long_they_took() {
    let text = "a\n::group::Install\nx\ny\n::endgroup::\nb\n::group::Test\nz\n";
    let marks = [mark(0, 0), mark(2, 1_000), mark(23, 4_500), mark(38, 5_000)];
    let log = LogModel::new(0, 0, text, &marks);
    assert_eq!(
        log.groups(),
        &[
            Group {
                start: 1,
                end: Some(4)
            },
            Group {
                start: 6,
                end: None
            }
        ]
    );
    assert_eq!(log.rows(|_| true), [0, 1, 5, 6]);
    assert_eq!(log.rows(|_| false), [0, 1, 2, 3, 5, 6, 7]);
    assert_eq!(log.group_took(&log.groups()[0]), Some(3_500));
    assert_eq!(log.groups_holding(3), [1]);
    assert_eq!(log.groups_holding(7), [6]);
    assert!(log.groups_holding(5).is_empty());
    let header = html(&log, &[1]);
    assert!(header.contains("Install"), "{header}");
    assert!(header.contains("3s"), "{header}");
    assert!(html(&log, &[6]).contains("running"));
}

#[test]
fn search_finds_every_match_ignoring_case_with_its_line() {
    let log = LogModel::new(0, 0, "Error one\nfine\nan error, another ERROR\n", &[]);
    let found = find(&log, "error");
    assert_eq!(found.iter().map(|m| m.line).collect::<Vec<_>>(), [0, 2, 2]);
    assert!(find(&log, "").is_empty());
    // What the viewer does not show is not found.
    let grouped = LogModel::new(0, 0, "::group::group of errors\nerror\n::endgroup::\n", &[]);
    assert_eq!(find(&grouped, "group").len(), 1);
    assert_eq!(
        find(&grouped, "error")
            .iter()
            .map(|m| m.line)
            .collect::<Vec<_>>(),
        [0, 1]
    );
    assert_eq!(super::search::find_from(&log, "error", 10).len(), 2);
    assert!(find(&log, "one\nfine").is_empty());
    let rows = rows_html(
        &log,
        &[2],
        &RowOptions {
            step: 1,
            started_at: None,
            matches: &found,
            current: Some(2),
            highlight: Some((3, 3)),
            folded: &|_| false,
        },
    );
    assert!(
        rows.contains(
            "an <mark class=\"m\">error</mark>, another <mark class=\"m cur\">ERROR</mark>"
        ),
        "{rows}"
    );
    assert!(rows.starts_with("<div class=\"ll hl\""), "{rows}");
}

#[test]
fn a_log_can_never_inject_markup() {
    let log = LogModel::new(
        0,
        0,
        "<img src=x onerror=alert(1)>\n::group::<b>\"x\"</b>\n",
        &[],
    );
    let rows = html(&log, &[0, 1]);
    assert!(!rows.contains("<img"), "{rows}");
    assert!(!rows.contains("<b>"), "{rows}");
    assert!(rows.contains("&lt;img src=x onerror=alert(1)&gt;"));
}

#[test]
fn a_tail_counts_lines_from_where_it_starts_and_grows_whole_with_what_came_live() {
    let whole = "l1\nl2\nl3\nl4\n";
    let mut tail = LogModel::new(6, 2, "l3\nl4\n", &[mark(6, 50)]);
    assert!(tail.is_tail());
    assert_eq!(tail.number(0), 3);
    assert_eq!(tail.index_of(4), Some(1));
    assert_eq!(tail.index_of(2), None);
    // Output that came live after the whole log was read is kept.
    assert_eq!(tail.append(12, "l5\n", &[mark(12, 90)]), Appended::Yes);
    tail.absorb(LogModel::new(0, 0, whole, &[mark(0, 10), mark(6, 50)]));
    assert!(!tail.is_tail());
    assert_eq!(texts(&tail), ["l1", "l2", "l3", "l4", "l5"]);
    assert_eq!(tail.lines()[4].at, Some(90));
    assert_eq!(tail.end(), 15);
}

#[test]
fn appends_take_only_what_is_new_and_refuse_to_skip() {
    let mut log = LogModel::new(0, 0, "abc", &[]);
    assert_eq!(log.append(0, "ab", &[]), Appended::AlreadyShown);
    assert_eq!(log.append(5, "xyz", &[]), Appended::Gap);
    assert_eq!(log.append(1, "bcd\n", &[]), Appended::Yes);
    assert_eq!(texts(&log), ["abcd"]);
    // A stretch that began in what the log had goes on into what came.
    let mut timed = LogModel::new(0, 0, "ab", &[]);
    timed.append(0, "ab\ncd\nef", &[mark(0, 5), mark(6, 9)]);
    let at: Vec<_> = timed.lines().iter().map(|l| l.at).collect();
    assert_eq!(at, [None, Some(5), Some(9)]);
    assert_eq!(new_part(2, 0, "é"), Err(Appended::AlreadyShown));
    assert_eq!(new_part(1, 0, "éa"), Err(Appended::Gap));
}

#[test]
fn anchors_name_a_step_and_a_line_or_a_range() {
    assert_eq!(parse_anchor("#step-2-L120"), Some((2, 120, 120)));
    assert_eq!(parse_anchor("step-2-L120-L140"), Some((2, 120, 140)));
    assert_eq!(parse_anchor("#step-2-L140-L120"), Some((2, 120, 140)));
    for bad in [
        "",
        "#step-0-L1",
        "#step-2-L0",
        "#step-x-L1",
        "#step-2",
        "#top",
        "#step-2-L1-Lx",
    ] {
        assert_eq!(parse_anchor(bad), None, "{bad}");
    }
}
