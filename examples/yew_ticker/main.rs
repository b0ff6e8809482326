//! A live ticker in Yew: one connection shared by a provider, a state badge, the latest
//! tick and the last ten.
//!
//! Run it with `make example-yew` and open <http://127.0.0.1:8080/>. The stream is the
//! scripted server's: a `tick` every half second, ended by the server every minute, so
//! the badge shows the client reconnecting and resuming where it left off.

use serde::Deserialize;
use sse_wasm::yew::{use_sse_context, use_sse_event, use_sse_events, SseProvider};
use sse_wasm::{Backoff, SseClient};
use std::time::Duration;
use yew::prelude::*;

/// The data of the server's events: `{"seq":N,"type":"tick"}`.
#[derive(Clone, Deserialize)]
struct Tick {
    seq: u64,
}

const STREAM: &str = "/sse?types=tick&interval=500&count=1000000&max_ms=60000";

#[function_component]
fn Badge() -> Html {
    let sse = use_sse_context().expect("inside <SseProvider>");
    let reconnect = {
        let sse = sse.clone();
        Callback::from(move |_| {
            if let Some(client) = sse.client() {
                client.reconnect();
            }
        })
    };
    html! {
        <p>
            { "connection: " } <b>{ sse.state.to_string() }</b>
            { sse.error.as_ref().map(|error| format!(" (last error: {error})")) }
            { " " } <button onclick={reconnect}>{ "reconnect now" }</button>
        </p>
    }
}

#[function_component]
fn Latest() -> Html {
    let sse = use_sse_context().expect("inside <SseProvider>");
    let tick = use_sse_event::<Tick>(&sse, "tick");
    html! {
        <h1>{ tick.map_or("waiting for the first tick".into(), |t| format!("tick #{}", t.seq)) }</h1>
    }
}

#[function_component]
fn History() -> Html {
    let sse = use_sse_context().expect("inside <SseProvider>");
    let ticks = use_sse_events::<Tick>(&sse, "tick", 10);
    html! {
        <ol>{ for ticks.iter().rev().map(|t| html! { <li>{ format!("tick #{}", t.seq) }</li> }) }</ol>
    }
}

#[function_component]
pub fn App() -> Html {
    let stream = SseClient::builder(STREAM)
        .backoff(Backoff::exponential(Duration::from_millis(500)).max(Duration::from_secs(10)));
    html! {
        <SseProvider url={stream}>
            <Badge/>
            <Latest/>
            <History/>
        </SseProvider>
    }
}

fn main() {
    yew::Renderer::<App>::new().render();
}
