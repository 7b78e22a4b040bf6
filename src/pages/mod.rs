//! One file per page.

mod auth_form;
mod deployments;
mod not_found;
mod sign_in;
mod sign_up;
mod sites;
mod team;

pub use deployments::DeploymentsPage;
pub use not_found::NotFoundPage;
pub use sign_in::SignInPage;
pub use sign_up::SignUpPage;
pub use sites::SitesPage;
pub use team::TeamPage;
