//! When each part of a step's output was written, as the
//! `deployment_steps.output_times` column keeps it: a line of
//! "<ms since the epoch> <bytes>" per stretch of output, in order. Lengths
//! rather than offsets, so that appending output appends its times in the
//! same statement without reading the output first.

use crate::model::log::OutputMark;

/// Stretches that start this close together are kept as one: a step that
/// prints fast stores a few times a second, not one per read.
const MERGE_MS: i64 = 100;

/// The times of output on its way to storage: what [`Self::take`] writes
/// beside the text it covers.
#[derive(Debug, Default)]
pub struct Pending {
    stretches: Vec<(i64, usize)>,
}

impl Pending {
    /// `len` bytes of output, written at `at`.
    pub fn push(&mut self, at: i64, len: usize) {
        if len == 0 {
            return;
        }
        match self.stretches.last_mut() {
            // Later stretches only: the tail of a long log comes with
            // the times it was written at, earlier than the end.
            Some((start, n)) if (0..MERGE_MS).contains(&(at - *start)) => *n += len,
            _ => self.stretches.push((at, len)),
        }
    }

    /// The column text for everything pushed since the last `take`.
    pub fn text(&self) -> String {
        self.stretches
            .iter()
            .map(|(at, len)| format!("{at} {len}\n"))
            .collect()
    }

    /// The marks of the pending output once it is stored from byte `start` on.
    pub fn marks(&self, start: i64) -> Vec<OutputMark> {
        let mut offset = start;
        self.stretches
            .iter()
            .map(|&(at, len)| {
                let mark = OutputMark { offset, at };
                offset += len as i64;
                mark
            })
            .collect()
    }

    pub fn clear(&mut self) {
        self.stretches.clear();
    }
}

/// The marks of a stored column; lines that do not parse are skipped.
pub fn parse(text: &str) -> Vec<OutputMark> {
    let mut offset = 0i64;
    let mut marks = Vec::new();
    for line in text.lines() {
        let Some((at, len)) = line.split_once(' ') else {
            continue;
        };
        let (Ok(at), Ok(len)) = (at.parse::<i64>(), len.parse::<i64>()) else {
            continue;
        };
        marks.push(OutputMark { offset, at });
        offset += len;
    }
    marks
}

/// The marks of output from byte `cut` on: the stretch `cut` falls in
/// starts at `cut`.
pub fn from(marks: &[OutputMark], cut: i64) -> Vec<OutputMark> {
    let first = marks.partition_point(|m| m.offset <= cut);
    let before = first.checked_sub(1).map(|i| OutputMark {
        offset: cut,
        at: marks[i].at,
    });
    before
        .into_iter()
        .chain(marks[first..].iter().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_give_each_stretch_its_offset() {
        let mut p = Pending::default();
        p.push(1_000, 10);
        p.push(1_050, 5);
        p.push(1_300, 7);
        p.push(1_400, 0);
        assert_eq!(p.text(), "1000 15\n1300 7\n");
        assert_eq!(
            p.marks(100),
            [
                OutputMark {
                    offset: 100,
                    at: 1_000
                },
                OutputMark {
                    offset: 115,
                    at: 1_300
                }
            ]
        );
        // Appended columns read as one.
        let column = format!("{}{}", "5 100\n", p.text());
        let marks = parse(&column);
        assert_eq!(
            marks[1],
            OutputMark {
                offset: 100,
                at: 1_000
            }
        );
        assert_eq!(
            marks[2],
            OutputMark {
                offset: 115,
                at: 1_300
            }
        );
        assert_eq!(parse("junk\n1 x\n"), []);
        assert_eq!(
            from(&marks, 110),
            [
                OutputMark {
                    offset: 110,
                    at: 1_000
                },
                OutputMark {
                    offset: 115,
                    at: 1_300
                }
            ]
        );
    }
}
