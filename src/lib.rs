pub mod dashboard;
pub mod limit;
pub mod payload;
pub mod provision;
pub mod roster;
pub mod secret;
