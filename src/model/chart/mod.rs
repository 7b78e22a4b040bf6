//! Charts as SVG text, drawn on the server and kept as they came when the
//! page hydrates: readable without JavaScript, coloured by the page's CSS
//! (light and dark), with a title, axis labels and a tooltip per point.
//! One value per point (a day or a week), oldest first.

mod scale;

pub use scale::Scale;

use super::ansi::escape_into;
use super::time::short_date;
use std::fmt::Write;

/// A chart's size in its own units: text is 10.5 of them, so a chart
/// shown about this many pixels wide reads at the page's small print.
const WIDE: (f64, f64) = (440.0, 170.0);
const SMALL: (f64, f64) = (320.0, 140.0);
const LEFT: f64 = 54.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 34.0;

/// How values are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bars,
    Lines,
    /// Dots only: for values few and far between.
    Points,
}

/// One line or set of bars, coloured by its CSS class.
pub struct Series<'a> {
    pub label: &'a str,
    pub class: &'a str,
    pub values: &'a [Option<f64>],
}

pub struct Chart<'a> {
    /// What it shows, read by screen readers and shown on hover.
    pub title: &'a str,
    /// The value axis's name.
    pub y_label: &'a str,
    /// Each point's first day (UTC days since the epoch), oldest first.
    pub starts: &'a [i64],
    /// Whether a point is a week (else a day).
    pub weekly: bool,
    pub kind: Kind,
    pub scale: Scale,
    pub series: &'a [Series<'a>],
    /// Drawn for a narrow card (a step among several).
    pub small: bool,
}

fn esc(out: &mut String, text: &str) {
    escape_into(out, text);
}

impl Chart<'_> {
    fn days(&self) -> usize {
        self.series
            .iter()
            .map(|s| s.values.len())
            .max()
            .unwrap_or(0)
    }

    /// The SVG element, scaled to its container's width.
    pub fn svg(&self) -> String {
        let n = self.days().max(1);
        let (width, height) = if self.small { SMALL } else { WIDE };
        let (pw, ph) = (width - LEFT - RIGHT, height - TOP - BOTTOM);
        let max = self
            .series
            .iter()
            .flat_map(|s| s.values.iter().flatten())
            .fold(0.0f64, |a, b| a.max(*b));
        let top = self.scale.top(max);
        let band = pw / n as f64;
        let y = |v: f64| TOP + ph - (v / top).clamp(0.0, 1.0) * ph;
        let mut out = String::with_capacity(4096);
        // Past a month, a line's points are only there to be hovered.
        let dense = if self.kind == Kind::Lines && n > 31 {
            " chart-dense"
        } else {
            ""
        };
        let _ = write!(
            out,
            r#"<svg class="chart-svg{dense}" viewBox="0 0 {width} {height}" role="img" aria-label=""#
        );
        esc(&mut out, self.title);
        out.push_str(r#""><title>"#);
        esc(&mut out, self.title);
        out.push_str("</title>");
        // The value axis: round numbers at 0, half and the top.
        out.push_str(r#"<g class="chart-axis">"#);
        for v in [0.0, top / 2.0, top] {
            let at = y(v);
            let _ = write!(
                out,
                r#"<line class="chart-grid" x1="{LEFT}" x2="{:.1}" y1="{at:.1}" y2="{at:.1}"/><text x="{:.1}" y="{:.1}" text-anchor="end">"#,
                width - RIGHT,
                LEFT - 5.0,
                at + 3.5
            );
            esc(&mut out, &self.scale.tick(v));
            out.push_str("</text>");
        }
        let _ = write!(
            out,
            r#"<text class="chart-axis-title" transform="translate(10 {:.1}) rotate(-90)" text-anchor="middle">"#,
            TOP + ph / 2.0
        );
        esc(&mut out, self.y_label);
        out.push_str("</text>");
        // The day axis: the first, middle and last day.
        let mut ticks = vec![0, n / 2, n - 1];
        ticks.dedup();
        for i in ticks {
            let x = LEFT + (i as f64 + 0.5) * band;
            let anchor = match i {
                0 => "start",
                i if i == n - 1 => "end",
                _ => "middle",
            };
            let x = match anchor {
                "start" => x - band / 2.0,
                "end" => x + band / 2.0,
                _ => x,
            };
            let _ = write!(
                out,
                r#"<text x="{x:.1}" y="{:.1}" text-anchor="{anchor}">{}</text>"#,
                TOP + ph + 14.0,
                self.starts.get(i).map_or(String::new(), |d| short_date(*d))
            );
        }
        let _ = write!(
            out,
            r#"<text class="chart-axis-title" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text></g>"#,
            LEFT + pw / 2.0,
            height - 3.0,
            self.axis_title()
        );
        if self.kind != Kind::Bars {
            // A day's column shows all its values on hover, under the lines.
            for i in 0..n {
                if self
                    .series
                    .iter()
                    .all(|s| s.values.get(i).copied().flatten().is_none())
                {
                    continue;
                }
                let _ = write!(
                    out,
                    r#"<rect class="chart-hover" x="{:.1}" y="{TOP}" width="{band:.1}" height="{ph:.1}">"#,
                    LEFT + i as f64 * band
                );
                self.tooltip(&mut out, i);
                out.push_str("</rect>");
            }
        }
        for (k, s) in self.series.iter().enumerate() {
            out.push_str(r#"<g class="chart-series "#);
            esc(&mut out, s.class);
            out.push_str(r#"">"#);
            match self.kind {
                Kind::Bars => {
                    // Side by side when there are several.
                    let width = band * 0.7 / self.series.len() as f64;
                    for (i, v) in s.values.iter().enumerate() {
                        let Some(v) = v else { continue };
                        let x = LEFT + i as f64 * band + band * 0.15 + k as f64 * width;
                        // A zero is a hairline on the axis, unlike a day without a value.
                        let h = (TOP + ph - y(*v)).max(1.0);
                        let _ = write!(
                            out,
                            r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" rx="1">"#,
                            TOP + ph - h,
                            width.max(1.0)
                        );
                        self.tooltip(&mut out, i);
                        out.push_str("</rect>");
                    }
                }
                Kind::Lines | Kind::Points => {
                    let point = |i: usize, v: f64| (LEFT + (i as f64 + 0.5) * band, y(v));
                    let mut d = String::new();
                    let mut drawing = false;
                    for (i, v) in s.values.iter().enumerate() {
                        match v {
                            Some(v) => {
                                let (x, y) = point(i, *v);
                                let _ =
                                    write!(d, "{}{x:.1} {y:.1}", if drawing { " L" } else { " M" });
                                drawing = true;
                            }
                            // A day without a value breaks the line.
                            None => drawing = false,
                        }
                    }
                    if self.kind == Kind::Lines {
                        let _ = write!(out, r#"<path d="{}"/>"#, d.trim_start());
                    }
                    // Past a month a line's points would only clutter it.
                    if !dense.is_empty() {
                        out.push_str("</g>");
                        continue;
                    }
                    for (i, v) in s.values.iter().enumerate() {
                        let Some(v) = v else { continue };
                        let (x, y) = point(i, *v);
                        let _ = write!(out, r#"<circle cx="{x:.1}" cy="{y:.1}" r="2.5"/>"#);
                    }
                }
            }
            out.push_str("</g>");
        }
        out.push_str("</svg>");
        out
    }

    /// The same numbers as a table for screen readers, day by day (days
    /// without a value left out), after the chart, which they skip.
    pub fn table(&self) -> String {
        let mut out = String::from(r#"<table class="visually-hidden"><caption>"#);
        esc(&mut out, self.title);
        out.push_str("</caption><thead><tr><th scope=\"col\">");
        out.push_str(self.axis_title());
        out.push_str("</th>");
        for s in self.series {
            out.push_str("<th scope=\"col\">");
            esc(&mut out, s.label);
            out.push_str("</th>");
        }
        out.push_str("</tr></thead><tbody>");
        for i in 0..self.days() {
            let cells: Vec<Option<f64>> = self
                .series
                .iter()
                .map(|s| s.values.get(i).copied().flatten())
                .collect();
            if cells.iter().all(Option::is_none) {
                continue;
            }
            let _ = write!(out, "<tr><th scope=\"row\">{}</th>", self.point_name(i));
            for cell in cells {
                out.push_str("<td>");
                esc(
                    &mut out,
                    &cell.map_or("–".to_string(), |v| self.scale.label(v)),
                );
                out.push_str("</td>");
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table>");
        out
    }

    /// The chart, then its table.
    pub fn html(&self) -> String {
        self.svg() + &self.table()
    }

    fn axis_title(&self) -> &'static str {
        if self.weekly {
            "Week (UTC)"
        } else {
            "Day (UTC)"
        }
    }

    /// "Dec 3" or "Week of Dec 3".
    fn point_name(&self, i: usize) -> String {
        let day = self.starts.get(i).map_or(String::new(), |d| short_date(*d));
        if self.weekly {
            format!("Week of {day}")
        } else {
            day
        }
    }

    /// "Dec 3 · p50: 1m 05s · p95: 2m 10s": a point's values, on hover.
    fn tooltip(&self, out: &mut String, i: usize) {
        out.push_str("<title>");
        esc(out, &self.point_name(i));
        for s in self.series {
            if let Some(v) = s.values.get(i).copied().flatten() {
                out.push_str(" · ");
                esc(out, s.label);
                out.push_str(": ");
                esc(out, &self.scale.label(v));
            }
        }
        out.push_str("</title>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_has_its_title_axes_and_a_tooltip_per_day_with_names_escaped() {
        let values = [Some(2.0), None, Some(4.0)];
        let series = [Series {
            label: "<b>p50</b>",
            class: "s-main",
            values: &values,
        }];
        let chart = Chart {
            title: "Build & test",
            y_label: "duration",
            starts: &[0, 1, 2],
            weekly: false,
            kind: Kind::Lines,
            scale: Scale::Count,
            series: &series,
            small: false,
        };
        let svg = chart.svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<title>Build &amp; test</title>"));
        assert!(svg.contains("Jan 1") && svg.contains("Jan 3") && svg.contains("Day (UTC)"));
        assert_eq!(svg.matches("<circle").count(), 2);
        assert_eq!(
            svg.matches(r#"class="chart-hover""#).count(),
            2,
            "a column per day with a value"
        );
        assert!(svg.contains("&lt;b&gt;p50&lt;/b&gt;: 4"));
        // The day without a value breaks the line in two.
        assert_eq!(
            svg.matches(" M").count() + usize::from(svg.contains("d=\"M")),
            2
        );
        let table = chart.table();
        assert_eq!(
            table.matches("<tr>").count(),
            3,
            "a header and the two days with a value"
        );
        assert!(table.contains("<caption>Build &amp; test</caption>"));
        let bars = Chart {
            kind: Kind::Bars,
            ..chart
        };
        assert_eq!(bars.svg().matches("<rect").count(), 2);
    }
}
