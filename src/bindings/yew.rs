//! Yew 0.23 hooks and a context provider (feature `yew`).
//!
//! - [`use_sse`] opens a connection owned by the current component and returns a
//!   [`UseSseHandle`] with its [`state`](UseSseHandle::state), last
//!   [`error`](UseSseHandle::error) and client; the component re-renders when they
//!   change;
//! - [`use_sse_event`] gives the latest event of one type, decoded from JSON;
//!   [`use_sse_events`] keeps the last `n`;
//! - [`SseProvider`] shares one connection with every component inside it, which find
//!   it with [`use_sse_context`].
//!
//! ```no_run
//! use serde::Deserialize;
//! use sse_wasm::yew::{use_sse, use_sse_event};
//! use yew::prelude::*;
//!
//! #[derive(Clone, Deserialize)]
//! struct Tick { symbol: String, price: f64 }
//!
//! #[function_component]
//! fn Ticker() -> Html {
//!     let sse = use_sse("/events");
//!     let tick = use_sse_event::<Tick>(&sse, "tick");
//!     html! {
//!         <>
//!             <p>{ sse.state.to_string() }</p>
//!             if let Some(tick) = tick { <p>{ format!("{} {:.2}", tick.symbol, tick.price) }</p> }
//!         </>
//!     }
//! }
//! ```
//!
//! The connection opens in an effect (`use_effect_with`), so it opens in the browser
//! only: server-side rendering shows the initial values (`connecting`, `None`) and
//! touches no browser API. The effect's destructor drops the subscriptions and closes
//! the connection when the component is unmounted; a component that only reads events
//! drops its own subscription when it goes. When the options change (another URL, other
//! settings), the old connection is closed and a new one opened.
//!
//! Your app enables Yew's `csr` (or `hydration`/`ssr`) feature, as usual; this crate
//! enables none.

use std::cell::Cell;
use std::rc::Rc;

use ::yew::html::IntoPropValue;
use ::yew::prelude::{
    function_component, hook, html, use_context, use_effect_with, use_reducer, use_state,
    use_state_eq, AttrValue, ContextProvider, Html, Properties, Reducible,
};
use serde::de::DeserializeOwned;

use super::hook_options::{open, push_recent, Opened};
pub use super::SseOptions;
use crate::client::{SseClient, SseClientBuilder};
use crate::event::{ConnectionState, SseError};

thread_local! {
    static NEXT_CONNECTION: Cell<u64> = const { Cell::new(1) };
}

/// A client with an identity, so that hooks can tell connections apart.
#[derive(Clone)]
struct Connection {
    id: u64,
    client: SseClient,
}

impl Connection {
    fn new(client: SseClient) -> Self {
        let id = NEXT_CONNECTION.with(|next| next.replace(next.get() + 1));
        Connection { id, client }
    }
}

/// A connection opened by [`use_sse`]: its state, last error and client, as of this
/// render.
///
/// Cheap to clone. Two handles are equal when they show the same connection in the same
/// state with the same last error, which is what [`SseProvider`]'s context compares.
///
/// ```no_run
/// use sse_wasm::yew::use_sse;
/// use yew::prelude::*;
///
/// #[function_component]
/// fn Status() -> Html {
///     let sse = use_sse("/events");
///     let reconnect = {
///         let sse = sse.clone();
///         Callback::from(move |_| {
///             if let Some(client) = sse.client() {
///                 client.reconnect();
///             }
///         })
///     };
///     html! {
///         <>
///             <span>{ sse.state.to_string() }</span>
///             <span>{ sse.error.as_ref().map(ToString::to_string) }</span>
///             <button onclick={reconnect}>{ "reconnect" }</button>
///         </>
///     }
/// }
/// ```
#[derive(Clone)]
pub struct UseSseHandle {
    /// The connection state: `connecting` until the effect has opened the connection
    /// (and always under server-side rendering), then every change the client reports.
    pub state: ConnectionState,
    /// The last error the client reported (a lost connection, a decode failure, an
    /// invalid URL ...); `None` until there is one. It is not cleared when the
    /// connection recovers: read [`state`](Self::state) for that.
    pub error: Option<SseError>,
    connection: Option<Connection>,
}

impl UseSseHandle {
    /// The client, once the connection has been opened in the browser: `None` before
    /// the effect ran, under server-side rendering, and when the options were invalid.
    pub fn client(&self) -> Option<&SseClient> {
        self.connection
            .as_ref()
            .map(|connection| &connection.client)
    }

    fn connection_id(&self) -> Option<u64> {
        self.connection.as_ref().map(|connection| connection.id)
    }
}

impl PartialEq for UseSseHandle {
    fn eq(&self, other: &Self) -> bool {
        self.state == other.state
            && self.error == other.error
            && self.connection_id() == other.connection_id()
    }
}

impl std::fmt::Debug for UseSseHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UseSseHandle")
            .field("state", &self.state)
            .field("error", &self.error)
            .field("client", &self.client())
            .finish()
    }
}

/// Opens a connection for the current component and returns its handle.
///
/// The connection is opened in an effect, after the component is rendered, never
/// during render. The effect's destructor drops the handlers and closes the connection
/// when the component is unmounted, or when `options` change (then a new connection is
/// opened). An invalid URL or option is reported as the handle's
/// [`error`](UseSseHandle::error) with the state `closed`; it never panics.
///
/// To share one connection among many components, use [`SseProvider`].
///
/// ```no_run
/// use std::time::Duration;
/// use sse_wasm::{yew::use_sse, Backoff, SseClient};
/// use yew::prelude::*;
///
/// #[function_component]
/// fn Feed() -> Html {
///     // A URL, or a builder with every client option.
///     let sse = use_sse(
///         SseClient::builder("/events").backoff(Backoff::exponential(Duration::from_millis(500))),
///     );
///     html! { <p>{ sse.state.to_string() }</p> }
/// }
/// ```
#[hook]
pub fn use_sse<O>(options: O) -> UseSseHandle
where
    O: Into<SseOptions>,
{
    let options: SseOptions = options.into();
    let state = use_state_eq(|| ConnectionState::Connecting);
    let error = use_state_eq(|| None::<SseError>);
    let connection = use_state(|| None::<Connection>);
    {
        let (state, error, connection) = (state.setter(), error.setter(), connection.setter());
        use_effect_with(options, move |options| {
            let opened = open(
                options,
                {
                    let state = state.clone();
                    move |now| state.set(now)
                },
                {
                    let error = error.clone();
                    move |reported| error.set(Some(reported))
                },
            );
            connection.set(
                opened
                    .as_ref()
                    .map(|opened| Connection::new(opened.client.clone())),
            );
            move || {
                if let Some(Opened { client, watchers }) = opened {
                    drop(watchers);
                    client.close();
                }
            }
        });
    }
    UseSseHandle {
        state: *state,
        error: (*error).clone(),
        connection: (*connection).clone(),
    }
}

/// The latest event of `event_type` on `sse`, its data decoded from JSON into `T`;
/// `None` until the first one arrives. The component re-renders with every event.
///
/// Events whose data does not decode are reported on the handle's
/// [`error`](UseSseHandle::error) and leave the value as it was. The subscription
/// belongs to the current component and is dropped in its effect's destructor.
///
/// ```no_run
/// use serde::Deserialize;
/// use sse_wasm::yew::{use_sse_context, use_sse_event};
/// use yew::prelude::*;
///
/// #[derive(Clone, Deserialize)]
/// struct News { headline: String }
///
/// #[function_component]
/// fn Headline() -> Html {
///     let sse = use_sse_context().expect("inside <SseProvider>");
///     let news = use_sse_event::<News>(&sse, "news");
///     html! { <h2>{ news.map(|n| n.headline) }</h2> }
/// }
/// ```
#[hook]
pub fn use_sse_event<T>(sse: &UseSseHandle, event_type: &str) -> Option<T>
where
    T: DeserializeOwned + Clone + 'static,
{
    let latest = use_state(|| None::<T>);
    {
        let latest = latest.setter();
        let client = sse.client().cloned();
        use_effect_with(
            (sse.connection_id(), event_type.to_owned()),
            move |(_, event_type)| {
                let subscription = client
                    .map(|client| client.on::<T>(event_type, move |value| latest.set(Some(value))));
                move || drop(subscription)
            },
        );
    }
    (*latest).clone()
}

/// The last `limit` events of a type, oldest first.
struct Recent<T> {
    limit: usize,
    events: Rc<Vec<T>>,
}

impl<T: Clone> Reducible for Recent<T> {
    type Action = T;

    fn reduce(self: Rc<Self>, value: T) -> Rc<Self> {
        if self.limit == 0 {
            return self;
        }
        let mut events = Vec::clone(&self.events);
        push_recent(&mut events, self.limit, value);
        Rc::new(Recent {
            limit: self.limit,
            events: Rc::new(events),
        })
    }
}

/// The last `limit` events of `event_type` on `sse`, oldest first, their data decoded
/// from JSON into `T`. A `limit` of 0 keeps none; the `limit` of the first render is the
/// one used. Every event is kept, even when several arrive between two renders.
///
/// Like [`use_sse_event`] otherwise.
///
/// ```no_run
/// use serde::Deserialize;
/// use sse_wasm::yew::{use_sse_context, use_sse_events};
/// use yew::prelude::*;
///
/// #[derive(Clone, Deserialize)]
/// struct Tick { price: f64 }
///
/// #[function_component]
/// fn History() -> Html {
///     let sse = use_sse_context().expect("inside <SseProvider>");
///     let ticks = use_sse_events::<Tick>(&sse, "tick", 10);
///     html! { <ul>{ for ticks.iter().map(|t| html! { <li>{ t.price }</li> }) }</ul> }
/// }
/// ```
#[hook]
pub fn use_sse_events<T>(sse: &UseSseHandle, event_type: &str, limit: usize) -> Rc<Vec<T>>
where
    T: DeserializeOwned + Clone + 'static,
{
    let recent = use_reducer(move || Recent {
        limit,
        events: Rc::new(Vec::new()),
    });
    {
        let push = recent.dispatcher();
        let client = sse.client().cloned();
        use_effect_with(
            (sse.connection_id(), event_type.to_owned()),
            move |(_, event_type)| {
                let subscription = client
                    .map(|client| client.on::<T>(event_type, move |value| push.dispatch(value)));
                move || drop(subscription)
            },
        );
    }
    recent.events.clone()
}

/// The connection shared by the nearest [`SseProvider`] above, if any.
///
/// ```no_run
/// use sse_wasm::yew::use_sse_context;
/// use yew::prelude::*;
///
/// #[function_component]
/// fn Badge() -> Html {
///     let state = use_sse_context().map(|sse| sse.state.to_string());
///     html! { <span>{ state }</span> }
/// }
/// ```
#[hook]
pub fn use_sse_context() -> Option<UseSseHandle> {
    use_context::<UseSseHandle>()
}

/// Properties of [`SseProvider`].
#[derive(Properties, PartialEq)]
pub struct SseProviderProps {
    /// The stream: a URL, or an [`SseClientBuilder`] with every option. A change opens
    /// a new connection.
    pub url: SseOptions,
    /// Share the connection with the providers and clients of this name in every tab
    /// of the browser too ([`SseClientBuilder::share`](crate::SseClientBuilder::share)):
    /// one tab connects, the others follow it.
    #[prop_or_default]
    pub share: Option<AttrValue>,
    /// The components that share the connection.
    #[prop_or_default]
    pub children: Html,
}

/// Shares one connection with every component inside it.
///
/// The children find the connection with [`use_sse_context`]; however many of them use
/// it, the server sees one connection, and it closes when the provider is unmounted.
///
/// ```no_run
/// use serde::Deserialize;
/// use sse_wasm::yew::{use_sse_context, use_sse_event, SseProvider};
/// use yew::prelude::*;
///
/// #[derive(Clone, Deserialize)]
/// struct Tick { price: f64 }
///
/// #[function_component]
/// fn Price() -> Html {
///     let sse = use_sse_context().expect("inside <SseProvider>");
///     let tick = use_sse_event::<Tick>(&sse, "tick");
///     html! { <b>{ tick.map(|t| t.price) }</b> }
/// }
///
/// #[function_component]
/// fn App() -> Html {
///     html! {
///         <SseProvider url="/events">
///             <Price/>
///             <Price/>
///         </SseProvider>
///     }
/// }
/// ```
#[function_component]
pub fn SseProvider(props: &SseProviderProps) -> Html {
    let options = props.url.clone();
    let sse = use_sse(options.shared_as(props.share.as_ref().map(|name| name.to_string())));
    html! {
        <ContextProvider<UseSseHandle> context={sse}>
            { props.children.clone() }
        </ContextProvider<UseSseHandle>>
    }
}

impl IntoPropValue<SseOptions> for &'static str {
    fn into_prop_value(self) -> SseOptions {
        self.into()
    }
}

impl IntoPropValue<SseOptions> for String {
    fn into_prop_value(self) -> SseOptions {
        self.into()
    }
}

impl IntoPropValue<SseOptions> for AttrValue {
    fn into_prop_value(self) -> SseOptions {
        SseOptions::from(self.as_str())
    }
}

impl IntoPropValue<SseOptions> for SseClientBuilder {
    fn into_prop_value(self) -> SseOptions {
        self.into()
    }
}
