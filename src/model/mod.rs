//! Records and rules shared by the server and the browser: pure, no I/O.

pub mod account;
pub mod ansi;
pub mod chart;
pub mod deployment;
pub mod error;
pub mod ids;
pub mod insights;
pub mod integrations;
pub mod live;
pub mod log;
pub mod meta;
pub mod release;
pub mod site;
pub mod status;
mod text_enum;
pub mod time;
pub mod validate;
pub mod wallboard;

pub use account::{
    Actor, Invite, InviteState, InviteSummary, MemberInfo, NewInvite, Notice, Role, SessionInfo,
    TeamSummary, UserInfo,
};
pub use deployment::{
    Deployment, DeploymentPage, DeploymentStep, PipelineType, SourceKind, TriggerKind,
};
pub use error::{AppError, ErrorKind};
pub use ids::{
    ApiTokenId, ArchiveId, CapsuleId, DeploymentId, InstanceId, InviteId, NotificationHookId,
    NotificationId, SiteId, StepId, TeamId, UserId, WallboardLinkId,
};
pub use integrations::{
    ApiToken, Delivery, DeliveryState, HookFormat, NewApiToken, NewNotificationHook,
    NotificationBody, NotificationEvent, NotificationHook,
};
pub use live::{Change, EventKind, LiveMessage};
pub use meta::DeploymentMeta;
pub use site::{DiskUsage, Site, SiteHooks, SiteLock, SiteLockState, SiteState};
pub use status::{
    DeploymentStatus, LifecycleLabel, Phase, ReleaseRemoved, RemovalReason, StepStatus,
};
pub use wallboard::{BoardState, NewWallboardLink, Tile, Wallboard, WallboardLink};
