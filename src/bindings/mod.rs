//! The faces of the client for other worlds, each behind its own feature so that a
//! build that does not ask for one never compiles it: the npm package's API (`js`) and
//! the UI framework hooks (`leptos`, `yew`).

#[cfg(any(feature = "leptos", feature = "yew"))]
mod hook_options;
#[cfg(feature = "js")]
pub mod js;
#[cfg(feature = "js")]
mod js_stream;
#[cfg(feature = "leptos")]
pub mod leptos;
#[cfg(feature = "yew")]
pub mod yew;

#[cfg(any(feature = "leptos", feature = "yew"))]
pub use hook_options::SseOptions;
