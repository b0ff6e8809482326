//! The faces of the client for UI frameworks, each behind its own feature so that a
//! build that does not ask for a framework never compiles it.

#[cfg(feature = "leptos")]
pub mod leptos;
#[cfg(any(feature = "leptos", feature = "yew"))]
mod options;
#[cfg(feature = "yew")]
pub mod yew;

#[cfg(any(feature = "leptos", feature = "yew"))]
pub use options::SseOptions;
