//! Leptos 0.8 hooks and a provider (feature `leptos`).
//!
//! - [`use_sse`] opens a connection owned by the current component and gives its
//!   [`state`](SseHandle::state) and last [`error`](SseHandle::error) as signals;
//! - [`use_sse_event`] gives the latest event of one type, decoded from JSON, as a
//!   signal; [`use_sse_events`] keeps the last `n`;
//! - [`SseProvider`] (or [`provide_sse`]) shares one connection with every component
//!   below it, which find it with [`expect_sse`] / [`use_sse_context`].
//!
//! ```no_run
//! use leptos::prelude::*;
//! use serde::Deserialize;
//! use sse_wasm::leptos::{use_sse, use_sse_event};
//!
//! #[derive(Clone, Deserialize)]
//! struct Tick { symbol: String, price: f64 }
//!
//! #[component]
//! fn Ticker() -> impl IntoView {
//!     let sse = use_sse("/events");
//!     let tick = use_sse_event::<Tick>(sse, "tick");
//!     view! {
//!         <p>{move || sse.state.get().to_string()}</p>
//!         <p>{move || tick.get().map(|t| format!("{} {:.2}", t.symbol, t.price))}</p>
//!     }
//! }
//! ```
//!
//! The connection opens in an effect, so it opens in the browser only: under `ssr` the
//! hooks render their initial values (`connecting`, `None`) and touch no browser API,
//! and a `hydrate` build connects after hydration. When the component that called
//! [`use_sse`] (or the provider) is unmounted, its subscriptions are dropped and the
//! connection is closed; a component that only reads events drops its own
//! subscription when it goes.
//!
//! The client is `!Send` (it lives in the browser's single thread) while Leptos signals
//! are `Send + Sync`; the handle keeps it in a
//! [`SendOption`](leptos::reactive::send_wrapper_ext::SendOption), which is empty on the
//! server and only ever filled in the browser.
//!
//! Your app enables one of Leptos's `csr`, `hydrate` or `ssr` features, as usual; this
//! crate enables none.

use ::leptos::children::Children;
use ::leptos::component;
use ::leptos::prelude::{
    on_cleanup, provide_context, untrack, use_context, Effect, IntoView, IsDisposed, RwSignal, Set,
    Signal, StoredValue, Track, Update, UpdateUntracked, UpdateValue, With,
};
use ::leptos::reactive::send_wrapper_ext::SendOption;
use serde::de::DeserializeOwned;

use super::hook_options::{open, push_recent, Opened};
pub use super::SseOptions;
use crate::client::SseClient;
use crate::dispatch::Subscription;
use crate::event::{ConnectionState, SseError};

/// A connection opened by [`use_sse`]: its state and last error as signals, and the
/// client.
///
/// `Copy`, like a signal: pass it to [`use_sse_event`] and into closures freely.
///
/// ```no_run
/// use leptos::prelude::*;
/// use sse_wasm::leptos::use_sse;
///
/// #[component]
/// fn Status() -> impl IntoView {
///     let sse = use_sse("/events");
///     let reconnect = move |_| {
///         if let Some(client) = sse.client() {
///             client.reconnect();
///         }
///     };
///     view! {
///         <span>{move || sse.state.get().to_string()}</span>
///         <span>{move || sse.error.get().map(|e| e.to_string())}</span>
///         <button on:click=reconnect>"reconnect"</button>
///     }
/// }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct SseHandle {
    /// The connection state: `connecting` until the effect has opened the connection
    /// (and always on the server), then every change the client reports.
    pub state: Signal<ConnectionState>,
    /// The last error the client reported (a lost connection, a decode failure, an
    /// invalid URL ...); `None` until there is one. It is not cleared when the
    /// connection recovers: read [`state`](Self::state) for that.
    pub error: Signal<Option<SseError>>,
    client: RwSignal<SendOption<SseClient>>,
}

impl SseHandle {
    /// The client, once the connection has been opened in the browser: `None` before
    /// the effect ran, on the server, and when the options were invalid.
    ///
    /// Reading it subscribes the current reactive context, so an effect that uses it
    /// runs again when the client appears.
    pub fn client(&self) -> Option<SseClient> {
        self.client.with(|client| client.as_ref().cloned())
    }
}

/// Opens a connection for the current component and returns its handle.
///
/// The connection is opened in an effect (in the browser, after the component is
/// mounted), never during render. It is closed, and its subscriptions dropped, when the
/// component is unmounted. An invalid URL or option is reported as the handle's
/// [`error`](SseHandle::error) with the state `closed`; it never panics.
///
/// To share one connection among many components, use [`SseProvider`] or
/// [`provide_sse`] instead.
///
/// ```no_run
/// use std::time::Duration;
/// use leptos::prelude::*;
/// use sse_wasm::{leptos::use_sse, Backoff, SseClient};
///
/// #[component]
/// fn Feed() -> impl IntoView {
///     // A URL, or a builder with every client option.
///     let sse = use_sse(
///         SseClient::builder("/events").backoff(Backoff::exponential(Duration::from_millis(500))),
///     );
///     view! { <p>{move || sse.state.get().to_string()}</p> }
/// }
/// ```
pub fn use_sse(options: impl Into<SseOptions>) -> SseHandle {
    let options = options.into();
    let state = RwSignal::new(ConnectionState::Connecting);
    let error = RwSignal::new(None::<SseError>);
    let client = RwSignal::new(SendOption::new_local(None::<SseClient>));
    // The state and error handlers; dropped before the client is closed, so that
    // closing does not write to signals that are being disposed.
    let watchers = StoredValue::new(SendOption::new_local(None::<[Subscription; 2]>));

    let mut options = Some(options);
    Effect::new(move |_| {
        // Runs once: it reads no signal.
        let Some(options) = options.take() else {
            return;
        };
        untrack(|| {
            // A component unmounted before its effect ran must not connect.
            if client.is_disposed() {
                return;
            }
            let opened = open(
                &options,
                move |now| {
                    state.try_set(now);
                },
                move |reported| {
                    error.try_set(Some(reported));
                },
            );
            if let Some(Opened {
                client: connected,
                watchers: handlers,
            }) = opened
            {
                watchers.update_value(|slot| **slot = Some(handlers));
                client.set(SendOption::new_local(Some(connected)));
            }
        });
    });

    on_cleanup(move || {
        watchers.try_update_value(|slot| Option::take(slot));
        let closing = client
            .try_update_untracked(|slot| Option::take(slot))
            .flatten();
        if let Some(closing) = closing {
            closing.close();
        }
    });

    SseHandle {
        state: state.read_only().into(),
        error: error.read_only().into(),
        client,
    }
}

/// The latest event of `event_type` on `sse`, its data decoded from JSON into `T`;
/// `None` until the first one arrives.
///
/// Events whose data does not decode are reported on the handle's
/// [`error`](SseHandle::error) and leave the value as it was. The subscription belongs
/// to the current component and is dropped when it is unmounted.
///
/// ```no_run
/// use leptos::prelude::*;
/// use serde::Deserialize;
/// use sse_wasm::leptos::{expect_sse, use_sse_event};
///
/// #[derive(Clone, Deserialize)]
/// struct News { headline: String }
///
/// #[component]
/// fn Headline() -> impl IntoView {
///     let news = use_sse_event::<News>(expect_sse(), "news");
///     view! { <h2>{move || news.get().map(|n| n.headline)}</h2> }
/// }
/// ```
pub fn use_sse_event<T>(sse: SseHandle, event_type: &str) -> Signal<Option<T>>
where
    T: DeserializeOwned + Send + Sync + 'static,
{
    let latest = RwSignal::new(None::<T>);
    subscribe(sse, event_type, move |value: T| {
        latest.try_set(Some(value));
    });
    latest.read_only().into()
}

/// The last `limit` events of `event_type` on `sse`, oldest first, their data decoded
/// from JSON into `T`. A `limit` of 0 keeps none.
///
/// Like [`use_sse_event`] otherwise.
///
/// ```no_run
/// use leptos::prelude::*;
/// use serde::Deserialize;
/// use sse_wasm::leptos::{expect_sse, use_sse_events};
///
/// #[derive(Clone, Deserialize)]
/// struct Tick { price: f64 }
///
/// #[component]
/// fn History() -> impl IntoView {
///     let ticks = use_sse_events::<Tick>(expect_sse(), "tick", 10);
///     view! {
///         <ul>{move || ticks.get().into_iter().map(|t| view! { <li>{t.price}</li> }).collect_view()}</ul>
///     }
/// }
/// ```
pub fn use_sse_events<T>(sse: SseHandle, event_type: &str, limit: usize) -> Signal<Vec<T>>
where
    T: DeserializeOwned + Send + Sync + 'static,
{
    let recent = RwSignal::new(Vec::<T>::new());
    subscribe(sse, event_type, move |value: T| {
        if limit == 0 {
            return;
        }
        recent.try_update(|events| push_recent(events, limit, value));
    });
    recent.read_only().into()
}

/// Subscribes `handler` to `event_type` whenever `sse` has a client, for as long as the
/// current owner lives.
fn subscribe<T>(sse: SseHandle, event_type: &str, handler: impl Fn(T) + Clone + 'static)
where
    T: DeserializeOwned + 'static,
{
    let event_type = event_type.to_owned();
    let subscription = StoredValue::new(SendOption::new_local(None::<Subscription>));
    Effect::new(move |_| {
        // Tracks the client: subscribes when it appears.
        sse.client.track();
        let next =
            untrack(|| sse.client()).map(|client| client.on::<T>(&event_type, handler.clone()));
        // Replacing the slot drops the previous subscription.
        subscription.try_update_value(|slot| **slot = next);
    });
    on_cleanup(move || {
        subscription.try_update_value(|slot| Option::take(slot));
    });
}

/// Opens a connection with [`use_sse`] and shares it with every component below the
/// current one through the context; they find it with [`expect_sse`] or
/// [`use_sse_context`]. Returns the handle.
///
/// The connection closes when the component that called this is unmounted.
///
/// ```no_run
/// use leptos::prelude::*;
/// use sse_wasm::leptos::provide_sse;
///
/// #[component]
/// fn App() -> impl IntoView {
///     provide_sse("/events");
///     view! { /* components that call expect_sse() */ }
/// }
/// ```
pub fn provide_sse(options: impl Into<SseOptions>) -> SseHandle {
    let sse = use_sse(options);
    provide_context(sse);
    sse
}

/// The connection shared by the nearest [`SseProvider`] or [`provide_sse`] above, if any.
///
/// ```no_run
/// use leptos::prelude::*;
/// use sse_wasm::leptos::use_sse_context;
///
/// #[component]
/// fn Badge() -> impl IntoView {
///     let state = move || use_sse_context().map(|sse| sse.state.get().to_string());
///     view! { <span>{state}</span> }
/// }
/// ```
pub fn use_sse_context() -> Option<SseHandle> {
    use_context::<SseHandle>()
}

/// The connection shared by the nearest [`SseProvider`] or [`provide_sse`] above.
///
/// # Panics
///
/// When there is none: a component that needs it is placed outside the provider, a
/// mistake in the program rather than in its input.
///
/// ```no_run
/// use leptos::prelude::*;
/// use sse_wasm::leptos::expect_sse;
///
/// #[component]
/// fn Badge() -> impl IntoView {
///     let sse = expect_sse();
///     view! { <span>{move || sse.state.get().to_string()}</span> }
/// }
/// ```
#[track_caller]
pub fn expect_sse() -> SseHandle {
    match use_sse_context() {
        Some(sse) => sse,
        // ok: a documented panic for a program error (no provider above the caller),
        // like Leptos's own expect_context; no input reaches it.
        None => panic!(
            "expect_sse: no SSE connection in the context; place this component inside \
             <SseProvider> or call provide_sse() in an ancestor"
        ),
    }
}

/// Shares one connection with every component inside it.
///
/// The children find the connection with [`expect_sse`] or [`use_sse_context`]; however
/// many of them use it, the server sees one connection, and it closes when the provider
/// is unmounted.
///
/// ```no_run
/// use leptos::prelude::*;
/// use serde::Deserialize;
/// use sse_wasm::leptos::{expect_sse, use_sse_event, SseProvider};
///
/// #[derive(Clone, Deserialize)]
/// struct Tick { price: f64 }
///
/// #[component]
/// fn Price() -> impl IntoView {
///     let tick = use_sse_event::<Tick>(expect_sse(), "tick");
///     view! { <b>{move || tick.get().map(|t| t.price)}</b> }
/// }
///
/// #[component]
/// fn App() -> impl IntoView {
///     view! {
///         <SseProvider url="/events">
///             <Price/>
///             <Price/>
///         </SseProvider>
///     }
/// }
/// ```
#[component]
pub fn SseProvider(
    /// The stream: a URL, or an [`SseClientBuilder`](crate::SseClientBuilder) with
    /// every option.
    #[prop(into)]
    url: SseOptions,
    /// Share the connection with the providers and clients of this name in every tab
    /// of the browser too ([`SseClientBuilder::share`](crate::SseClientBuilder::share)):
    /// one tab connects, the others follow it.
    #[prop(optional, into)]
    share: Option<String>,
    /// The components that share the connection.
    children: Children,
) -> impl IntoView {
    provide_sse(url.shared_as(share));
    children()
}
