pub mod roster;
pub mod sandbox;
pub mod secret;
