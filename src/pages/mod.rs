//! One file per page.

mod account;
mod auth_form;
mod deployment;
mod deployments;
mod insights;
mod new_site;
mod not_found;
mod sign_in;
mod sign_up;
mod site;
mod sites;
mod team;
mod wallboard;

pub use account::AccountPage;
pub use deployment::DeploymentPage;
pub use deployments::DeploymentsPage;
pub use insights::InsightsPage;
pub use new_site::NewSitePage;
pub use not_found::NotFoundPage;
pub use sign_in::SignInPage;
pub use sign_up::SignUpPage;
pub use site::SitePage;
pub use sites::SitesPage;
pub use team::TeamPage;
pub use wallboard::WallboardPage;
