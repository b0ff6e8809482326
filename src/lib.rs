//! Server-Sent Events for Rust on WebAssembly.
//!
//! `sse-wasm` wraps the browser's `EventSource` and adds what every real SSE frontend
//! ends up writing by hand:
//!
//! - **typed dispatch**: handlers per event type, data decoded from JSON into your types
//!   ([`SseClient::on`]) or into one enum with a variant per event type
//!   ([`SseClient::on_enum`]);
//! - **reconnection it controls**: exponential backoff with jitter and an optional retry
//!   budget ([`Backoff`]) instead of the browser's fixed-delay retry that gives up on the
//!   first HTTP error;
//! - **resume**: the last event id is carried across every reconnect, including the ones
//!   it makes itself, as a query parameter the server can read;
//! - **an observable state** ([`ConnectionState`]) and one error channel ([`SseError`]);
//! - **leak-free teardown**: every JS closure is owned by the connection that registered
//!   it; dropping a [`Subscription`] unsubscribes, dropping the last [`SseClient`] closes.
//!
//! ```no_run
//! use std::time::Duration;
//! use serde::Deserialize;
//! use sse_wasm::{Backoff, ConnectionState, SseClient, SseError};
//!
//! #[derive(Deserialize)]
//! struct Tick { symbol: String, price: f64 }
//!
//! let client = SseClient::builder("/events")
//!     .backoff(Backoff::exponential(Duration::from_millis(500)).max(Duration::from_secs(30)))
//!     .idle_timeout(Some(Duration::from_secs(45)))
//!     .connect()?;
//! let _ticks = client.on::<Tick>("tick", |tick| { /* update the UI */ });
//! let _state = client.on_state(|state: ConnectionState| { /* show a badge */ });
//! let _errors = client.on_error(|error: &SseError| { /* log it */ });
//! # Ok::<(), SseError>(())
//! ```
//!
//! The policy ([`backoff`]), decoding ([`decode`]) and the event-stream [`parser`] are
//! plain Rust and run natively too; everything else needs a browser (or a worker).
//!
//! Framework hooks, each behind its feature so that builds without it never compile
//! the framework: `leptos` (module `sse_wasm::leptos`: `use_sse`, `use_sse_event`,
//! `use_sse_events`, `<SseProvider>`) and `yew` (module `sse_wasm::yew`: the same as
//! Yew hooks and a context provider). They connect in an effect, never during render.
//!
//! # Features
//!
//! - `json` (default): serde decoding — [`SseClient::on`], [`SseClient::on_enum`],
//!   [`SseClient::subscribe`] and the [`decode`] module. Without it the crate has no
//!   serde dependency, and [`SseClient::on_raw`] hands over the raw events.
//! - `leptos`, `yew`: the framework hooks (they turn `json` on).
//! - `js`: the npm package's JavaScript API (`SseClient` for JS, built by `make pkg`);
//!   it adds nothing to the Rust API, so a Rust app never carries it.
//! - `small-alloc`: a small power-of-two allocator as the global allocator, for the npm
//!   package's size (a few hundred bytes instead of dlmalloc's 7 KB).
//! - `test-hooks`: `live_closures()`, for leak tests and benchmarks.
//! - `testing`: `testing::MockServer`, an SSE server scripted inside the test page,
//!   for testing components with `wasm-pack test --headless` and no server.

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod backoff;
mod bindings;
mod client;
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub mod decode;
mod delivery;
mod dispatch;
mod event;
mod machine;
mod millis;
pub mod parser;
mod runtime;
#[cfg(feature = "small-alloc")]
mod small_alloc;
#[cfg(feature = "json")]
mod stream;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
mod text;
mod transport;

pub use backoff::{Backoff, Jitter};
#[cfg(feature = "leptos")]
#[cfg_attr(docsrs, doc(cfg(feature = "leptos")))]
pub use bindings::leptos;
#[cfg(feature = "yew")]
#[cfg_attr(docsrs, doc(cfg(feature = "yew")))]
pub use bindings::yew;
pub use client::{SseClient, SseClientBuilder, DEFAULT_RESUME_PARAM};
pub use dispatch::Subscription;
pub use event::{ConnectionState, Role, SseError, SseEvent};
#[cfg(feature = "test-hooks")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-hooks")))]
pub use runtime::live_closures;
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub use stream::EventStream;
pub use transport::Transport;
