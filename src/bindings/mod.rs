//! The faces of the client for other worlds. Each is behind its own feature, so a build
//! pays only for the faces it uses.

#[cfg(feature = "js")]
pub mod js;
#[cfg(feature = "js")]
mod options;
