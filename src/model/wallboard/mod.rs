//! The wallboard: every site of a team on one screen, readable across a
//! room. What a tile says and how the screen is divided are decided here,
//! purely, so the rules are unit-tested and the same on both sides.

use super::deployment::Deployment;
use super::ids::{SiteId, WallboardLinkId};
use super::site::{SiteLock, SiteState};
use super::text_enum::text_enum;
use serde::{Deserialize, Serialize};

mod layout;
pub mod tile;
pub use layout::{BoardLayout, MAX_COLUMNS, MAX_ROWS, layout};

/// A team's read-only wallboard link, as its list shows it (never the token).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WallboardLink {
    pub id: WallboardLinkId,
    pub name: String,
    /// Who made it, while they have an account.
    pub created_by: Option<String>,
    pub created_at: i64,
    /// When a screen last opened it or was connected with it.
    pub last_seen_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A link just made: its URL carries the token and is shown this once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewWallboardLink {
    pub id: WallboardLinkId,
    pub name: String,
    pub url: String,
    pub created_at: i64,
}

/// One site's tile: what it serves, what it runs and whether it is broken.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tile {
    pub site_id: SiteId,
    pub name: String,
    pub site_state: SiteState,
    /// The deploy the site serves now.
    pub current: Option<Deployment>,
    /// The operation running on the site, else the oldest one waiting.
    pub active: Option<Deployment>,
    /// The site's latest deploy or lifecycle operation, when it failed: the
    /// tile stays red until a later one succeeds.
    pub failure: Option<Deployment>,
    /// Set while the site is locked: nothing new goes live.
    #[serde(default)]
    pub lock: Option<SiteLock>,
}

/// Everything one screen shows, as of `position` in the live channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Wallboard {
    pub team_name: String,
    /// The live channel's position the data is at least as new as.
    pub position: i64,
    /// The server's build: a page from another build reloads itself.
    pub build: String,
    /// The server's clock when it answered, so a screen whose clock is off
    /// still counts running times right.
    pub now: i64,
    pub tiles: Vec<Tile>,
    /// The team's latest operations, newest first.
    pub recent: Vec<Deployment>,
    /// Ids in the `sites` filter that name no site of the team.
    pub unknown_sites: usize,
}

/// How many operations the strip along the bottom shows.
pub const RECENT: i64 = 8;

/// A tile's colour and word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoardState {
    Failed,
    Building,
    Deploying,
    Queued,
    Ready,
    Stopped,
    /// Nothing deployed yet (and nothing failed).
    Idle,
}

// `ALL` lists them in the order the counts and the tiles show them.
text_enum!(BoardState {
    Failed => "failed",
    Building => "building",
    Deploying => "deploying",
    Queued => "queued",
    Ready => "ready",
    Stopped => "stopped",
    Idle => "idle",
});

impl BoardState {
    /// Failed and busy sites come first and largest.
    pub fn needs_attention(self) -> bool {
        matches!(
            self,
            Self::Failed | Self::Building | Self::Deploying | Self::Queued
        )
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Failed => "Failed",
            Self::Building => "Building",
            Self::Deploying => "Deploying",
            Self::Queued => "Queued",
            Self::Ready => "Ready",
            Self::Stopped => "Stopped",
            Self::Idle => "Not deployed",
        }
    }
}

impl Wallboard {
    /// The tiles in screen order: failed, running, queued, then the rest,
    /// each group by name.
    pub fn ordered(&self) -> Vec<&Tile> {
        let mut tiles: Vec<&Tile> = self.tiles.iter().collect();
        tiles.sort_by_cached_key(|t| t.rank());
        tiles
    }

    /// How many sites are in each state, in [`BoardState::ALL`] order.
    pub fn counts(&self) -> Vec<(BoardState, usize)> {
        BoardState::ALL
            .iter()
            .map(|&state| {
                let n = self.tiles.iter().filter(|t| t.state() == state).count();
                (state, n)
            })
            .collect()
    }
}

/// The `sites` filter of a wallboard's address: site ids separated by
/// commas; empty means every site.
pub fn parse_site_filter(raw: &str) -> Result<Vec<SiteId>, super::error::AppError> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse().map_err(|_| {
                super::error::AppError::invalid(
                    "The sites filter must be site ids separated by commas.",
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ulid::Ulid;

    #[test]
    fn the_sites_filter_is_ids_separated_by_commas() {
        let a = SiteId(Ulid::from_parts(5, 5));
        let b = SiteId(Ulid::from_parts(6, 6));
        assert_eq!(
            parse_site_filter(&format!("{a}, {b},")).expect("ids"),
            vec![a, b]
        );
        assert!(parse_site_filter("").expect("empty").is_empty());
        assert!(parse_site_filter("../etc").is_err());
    }
}
