//! Step output as a terminal shows it: ANSI colours and weights become
//! HTML spans, every other escape sequence is dropped, and all text is
//! escaped, so a log can never inject markup into the page.

/// The SGR attributes in force at a point of the output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    /// One of the 16 terminal colours (8-15 are the bright ones).
    fg: Option<u8>,
    bg: Option<u8>,
    bold: bool,
    dim: bool,
    italic: bool,
    underline: bool,
}

impl Style {
    pub fn is_plain(&self) -> bool {
        *self == Style::default()
    }

    /// The `ansi-*` classes that show this style.
    pub fn classes(&self) -> String {
        let mut c = Vec::new();
        if let Some(fg) = self.fg {
            c.push(format!("ansi-fg-{fg}"));
        }
        if let Some(bg) = self.bg {
            c.push(format!("ansi-bg-{bg}"));
        }
        for (on, name) in [
            (self.bold, "ansi-bold"),
            (self.dim, "ansi-dim"),
            (self.italic, "ansi-italic"),
            (self.underline, "ansi-underline"),
        ] {
            if on {
                c.push(name.to_string());
            }
        }
        c.join(" ")
    }

    /// Applies the parameters of one `ESC [ ... m` sequence.
    fn apply(&mut self, params: &str) {
        let mut codes = params.split([';', ':']).map(|p| {
            if p.is_empty() {
                Some(0)
            } else {
                p.parse::<u16>().ok()
            }
        });
        while let Some(code) = codes.next() {
            let Some(code) = code else { continue };
            match code {
                0 => *self = Style::default(),
                1 => self.bold = true,
                2 => self.dim = true,
                3 => self.italic = true,
                4 => self.underline = true,
                22 => {
                    self.bold = false;
                    self.dim = false;
                }
                23 => self.italic = false,
                24 => self.underline = false,
                30..=37 => self.fg = Some((code - 30) as u8),
                39 => self.fg = None,
                40..=47 => self.bg = Some((code - 40) as u8),
                49 => self.bg = None,
                90..=97 => self.fg = Some((code - 90 + 8) as u8),
                100..=107 => self.bg = Some((code - 100 + 8) as u8),
                // 256-colour and true-colour forms: the first 16 of the 256
                // palette are the terminal colours; the rest are skipped.
                38 | 48 => {
                    let colour = match codes.next().flatten() {
                        Some(5) => codes.next().flatten().filter(|n| *n < 16).map(|n| n as u8),
                        Some(2) => {
                            codes.next();
                            codes.next();
                            codes.next();
                            None
                        }
                        _ => None,
                    };
                    if code == 38 {
                        self.fg = colour;
                    } else {
                        self.bg = colour;
                    }
                }
                _ => {}
            }
        }
    }
}

/// Appends `text` escaped for HTML, leaving out carriage returns.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\r' => {}
            c => out.push(c),
        }
    }
}

/// Appends `text` escaped, in a span of `style`'s classes unless it is plain.
pub fn push_run(out: &mut String, style: &Style, text: &str) {
    if text.is_empty() {
        return;
    }
    if style.is_plain() {
        escape_into(out, text);
    } else {
        out.push_str("<span class=\"");
        out.push_str(&style.classes());
        out.push_str("\">");
        escape_into(out, text);
        out.push_str("</span>");
    }
}

/// Renders terminal output as escaped HTML with `ansi-*` classed spans.
pub fn to_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    scan(text, &mut Style::default(), |_, piece, style| {
        push_run(&mut out, style, piece)
    });
    out
}

/// Walks terminal output: `piece` gets each stretch of text between
/// escape sequences, with its byte index in `text` and the style in force,
/// while `style` follows the colour and weight sequences (it is left as
/// the end of `text` has it, so output that comes in parts can go on).
/// Every other escape sequence is dropped.
pub fn scan(text: &str, style: &mut Style, mut piece: impl FnMut(usize, &str, &Style)) {
    let bytes = text.as_bytes();
    let mut run_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != 0x1b {
            i += 1;
            continue;
        }
        if run_start < i {
            piece(run_start, &text[run_start..i], style);
        }
        let end = match bytes.get(i + 1) {
            // CSI: parameters and intermediates, then one final byte.
            // A control character (a newline) ends a broken sequence
            // before it, so no line of output is ever swallowed.
            Some(b'[') => {
                let mut j = i + 2;
                while j < bytes.len() && !(0x40..=0x7e).contains(&bytes[j]) && bytes[j] >= 0x20 {
                    j += 1;
                }
                match bytes.get(j) {
                    Some(b'm') => {
                        style.apply(&text[i + 2..j]);
                        j + 1
                    }
                    Some(b) if *b < 0x20 => j,
                    _ => (j + 1).min(bytes.len()),
                }
            }
            // OSC (titles, hyperlinks): up to BEL or ESC \, or a newline.
            Some(b']') => {
                let mut j = i + 2;
                loop {
                    match bytes.get(j) {
                        None | Some(b'\n') => break j,
                        Some(0x07) => break j + 1,
                        Some(0x1b) if bytes.get(j + 1) == Some(&b'\\') => break j + 2,
                        _ => j += 1,
                    }
                }
            }
            // A two-byte escape, or a lone ESC at the end.
            Some(b) if (0x20..0x7f).contains(b) => i + 2,
            _ => i + 1,
        };
        i = end;
        run_start = end;
    }
    if run_start < bytes.len() {
        piece(run_start, &text[run_start..], style);
    }
}

/// The last `max_bytes` of `text`, starting at a line (or at least a
/// character) boundary, and how many bytes were left out before it.
pub fn tail(text: &str, max_bytes: usize) -> (&str, usize) {
    if text.len() <= max_bytes {
        return (text, 0);
    }
    let mut start = text.len() - max_bytes;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    if let Some(nl) = text[start..].find('\n') {
        start += nl + 1;
    }
    (&text[start..], start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_escaped_and_unchanged() {
        assert_eq!(
            to_html("a < b && c > \"d\"\n"),
            "a &lt; b &amp;&amp; c &gt; &quot;d&quot;\n"
        );
        assert_eq!(
            to_html("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
    }

    #[test]
    fn colours_and_weights_become_classed_spans() {
        assert_eq!(
            to_html("\x1b[31merror\x1b[0m: ok"),
            "<span class=\"ansi-fg-1\">error</span>: ok"
        );
        assert_eq!(
            to_html("\x1b[1;92mPASS\x1b[22m done\x1b[m"),
            "<span class=\"ansi-fg-10 ansi-bold\">PASS</span><span class=\"ansi-fg-10\"> done</span>"
        );
        assert_eq!(
            to_html("\x1b[38;5;4mblue\x1b[39m"),
            "<span class=\"ansi-fg-4\">blue</span>"
        );
        assert_eq!(to_html("\x1b[38;2;1;2;3mrgb"), "rgb");
        assert_eq!(
            to_html("\x1b[44;97mx"),
            "<span class=\"ansi-fg-15 ansi-bg-4\">x</span>"
        );
    }

    #[test]
    fn other_escape_sequences_are_dropped() {
        assert_eq!(to_html("a\x1b[2Kb\x1b[1Gc"), "abc");
        assert_eq!(to_html("\x1b]0;title\x07text"), "text");
        assert_eq!(to_html("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\"), "link");
        assert_eq!(to_html("line\r\nnext"), "line\nnext");
        assert_eq!(to_html("cut at the end \x1b["), "cut at the end ");
        // A broken sequence never swallows a newline.
        assert_eq!(to_html("a\x1b[12\nb\x1b]0;title\nc\x1b\nd"), "a\nb\nc\nd");
        assert_eq!(to_html("\x1b"), "");
        assert_eq!(
            to_html("\x1b[31m<b>\x1b[0m"),
            "<span class=\"ansi-fg-1\">&lt;b&gt;</span>"
        );
    }

    #[test]
    fn malformed_parameters_never_panic() {
        for text in [
            "\x1b[;;;m",
            "\x1b[999999999m",
            "\x1b[38;5m",
            "\x1b[38m",
            "\x1b[é",
            "é\x1b",
        ] {
            let _ = to_html(text);
        }
    }

    #[test]
    fn tail_starts_at_a_line_boundary() {
        assert_eq!(tail("short", 10), ("short", 0));
        let text = "line one\nline two\nline three\n";
        let (shown, cut) = tail(text, 15);
        assert_eq!(shown, "line three\n");
        assert_eq!(&text[cut..], shown);
        let (shown, cut) = tail("ééééé", 3);
        assert!(shown.len() <= 3 && cut + shown.len() == "ééééé".len());
    }
}
