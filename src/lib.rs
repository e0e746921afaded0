pub mod roster;
pub mod secret;
