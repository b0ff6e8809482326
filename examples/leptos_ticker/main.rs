//! A live ticker in Leptos: one connection shared by a provider, a state badge, the
//! latest tick and the last ten.
//!
//! Run it with `make example-leptos` and open <http://127.0.0.1:8080/>. The stream is
//! the scripted server's: a `tick` every half second, ended by the server every
//! minute, so the badge shows the client reconnecting and resuming where it left off.

use leptos::prelude::*;
use serde::Deserialize;
use sse_wasm::leptos::{expect_sse, use_sse_event, use_sse_events, SseProvider};
use sse_wasm::{Backoff, SseClient};
use std::time::Duration;

/// The data of the server's events: `{"seq":N,"type":"tick"}`.
#[derive(Clone, Deserialize)]
struct Tick {
    seq: u64,
}

const STREAM: &str = "/sse?types=tick&interval=500&count=1000000&max_ms=60000";

#[component]
fn Badge() -> impl IntoView {
    let sse = expect_sse();
    let reconnect = move |_| {
        if let Some(client) = sse.client() {
            client.reconnect();
        }
    };
    view! {
        <p>
            "connection: " <b>{move || sse.state.get().to_string()}</b>
            {move || sse.error.get().map(|error| format!(" (last error: {error})"))}
            " " <button on:click=reconnect>"reconnect now"</button>
        </p>
    }
}

#[component]
fn Latest() -> impl IntoView {
    let tick = use_sse_event::<Tick>(expect_sse(), "tick");
    view! {
        <h1>{move || tick.get().map_or("waiting for the first tick".into(), |t| format!("tick #{}", t.seq))}</h1>
    }
}

#[component]
fn History() -> impl IntoView {
    let ticks = use_sse_events::<Tick>(expect_sse(), "tick", 10);
    view! {
        <ol>
            {move || ticks.get().into_iter().rev().map(|t| view! { <li>"tick #" {t.seq}</li> }).collect_view()}
        </ol>
    }
}

#[component]
pub fn App() -> impl IntoView {
    let stream = SseClient::builder(STREAM)
        .backoff(Backoff::exponential(Duration::from_millis(500)).max(Duration::from_secs(10)));
    view! {
        <SseProvider url=stream>
            <Badge/>
            <Latest/>
            <History/>
        </SseProvider>
    }
}

fn main() {
    mount_to_body(App);
}
