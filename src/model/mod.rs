//! Records and rules shared by the server and the browser: pure, no I/O.

pub mod account;
pub mod ansi;
pub mod deployment;
pub mod error;
pub mod ids;
pub mod live;
pub mod site;
pub mod time;
pub mod validate;

pub use account::{MemberInfo, Role, SessionInfo, TeamSummary, UserInfo};
pub use deployment::{
    Deployment, DeploymentPage, DeploymentStatus, DeploymentStep, LifecycleLabel, Phase,
    PipelineType, SourceKind, StepStatus, TriggerKind,
};
pub use error::{AppError, ErrorKind};
pub use ids::{DeploymentId, SiteId, StepId, TeamId, UserId};
pub use site::{Site, SiteState};
