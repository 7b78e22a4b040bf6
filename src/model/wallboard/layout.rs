//! How one screen is cut into tiles: a grid of equal cells sized for a
//! 16:9 screen, tiles that need attention spanning four cells, and healthy
//! sites folded into one "N more" cell once the screen is full.

/// How the screen's grid is cut: `columns` × `rows` equal cells, tiles
/// that need attention spanning 2×2 cells when `big`, the first `shown`
/// tiles on their own and the rest folded into one "N more" cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoardLayout {
    pub columns: usize,
    pub rows: usize,
    pub big: bool,
    pub shown: usize,
    pub folded: usize,
}

/// The most cells a 1080p screen holds with names still 20 px or more.
pub const MAX_COLUMNS: usize = 10;
pub const MAX_ROWS: usize = 6;
/// Past this many sites needing attention, their tiles are no larger.
const MAX_BIG: usize = 8;
/// The grid's width over its height on a 16:9 screen, below the header
/// and above the strip of operations.
const GRID_ASPECT: f64 = 2.2;
/// The shape a tile reads best in: a little wider than high.
const CELL_ASPECT: f64 = 1.45;

/// Cuts the screen for `attention` tiles (first in order) and `healthy`
/// ones: no tile falls off the screen, and when not all fit, healthy ones
/// fold into one cell.
pub fn layout(attention: usize, healthy: usize) -> BoardLayout {
    let big = attention > 0 && attention <= MAX_BIG;
    let span = if big { 2 } else { 1 };
    let mut best: Option<(usize, f64, BoardLayout)> = None;
    for columns in 1..=MAX_COLUMNS {
        for rows in 1..=MAX_ROWS {
            let cells = columns * rows;
            if big && (columns / 2) * (rows / 2) < attention {
                continue;
            }
            let taken = attention * span * span;
            if taken > cells {
                continue;
            }
            let free = cells - taken;
            let (shown_healthy, folded) = if healthy <= free {
                (healthy, 0)
            } else if free >= 1 {
                (free - 1, healthy - (free - 1))
            } else {
                continue;
            };
            let used = taken + shown_healthy + usize::from(folded > 0);
            let waste = cells - used;
            let cell_aspect = GRID_ASPECT * rows as f64 / columns as f64;
            let score = waste as f64 + 2.0 * (cell_aspect / CELL_ASPECT).ln().abs();
            let candidate = BoardLayout {
                columns,
                rows,
                big,
                shown: attention + shown_healthy,
                folded,
            };
            let better = match &best {
                None => true,
                Some((f, s, _)) => folded < *f || (folded == *f && score < *s),
            };
            if better {
                best = Some((folded, score, candidate));
            }
        }
    }
    // Attention alone overflows the grid (more than 60 failing sites):
    // show what fits and fold the rest.
    best.map(|(_, _, l)| l).unwrap_or_else(|| BoardLayout {
        columns: MAX_COLUMNS,
        rows: MAX_ROWS,
        big: false,
        shown: MAX_COLUMNS * MAX_ROWS - 1,
        folded: (attention + healthy).saturating_sub(MAX_COLUMNS * MAX_ROWS - 1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_count_of_sites_up_to_sixty_fits_without_folding_healthy_ones_needlessly() {
        for healthy in 1..=60 {
            let l = layout(0, healthy);
            assert_eq!(l.folded, 0, "{healthy} healthy");
            assert!(l.columns * l.rows >= healthy);
            assert!(!l.big);
        }
        // Forty healthy sites: 8 by 5, cells a little wider than high.
        let forty = layout(0, 40);
        assert_eq!((forty.columns, forty.rows), (8, 5));
    }

    #[test]
    fn attention_tiles_are_large_and_healthy_ones_fold_past_what_fits() {
        let l = layout(2, 10);
        assert!(l.big);
        assert_eq!(l.folded, 0);
        assert!(l.columns * l.rows >= 2 * 4 + 10);
        // Three running among sixty: the big tiles take 12 cells, so ten
        // healthy sites share one "N more" cell instead of falling off.
        let l = layout(3, 57);
        assert!(l.big);
        assert_eq!(l.columns * l.rows, 60);
        assert_eq!(l.shown + l.folded, 60);
        assert_eq!(l.shown, 3 + 60 - 12 - 1);
        // Many failing: every one shown, at the normal size.
        let l = layout(20, 40);
        assert!(!l.big);
        assert_eq!((l.shown, l.folded), (60, 0));
        // More than the screen holds: nothing falls off, the rest folds.
        let l = layout(0, 75);
        assert_eq!(l.shown + l.folded, 75);
        assert!(l.columns * l.rows > l.shown, "room for the folded cell");
    }
}
