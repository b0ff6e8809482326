//! The example's component test, as a user of `sse-wasm` writes one: the real `App`
//! mounted in the test page, its stream scripted with `sse_wasm::testing::MockServer`
//! (no server), and the rendered DOM checked after events, a drop and the resume.
//!
//! `wasm-pack test --headless --chrome -- --features leptos,leptos/csr,testing --test leptos_ticker_test`
#![cfg(target_arch = "wasm32")]

#[allow(dead_code)]
#[path = "main.rs"]
mod app;
#[path = "../../tests/common/mod.rs"]
mod common;

use common::{mount_point, ms, text_of, wait_for, wait_for_selector_text, within};
use leptos::mount::mount_to;
use sse_wasm::testing::{Event, MockServer};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn tick(seq: u64) -> Event {
    Event::new("tick", format!("{{\"seq\":{seq},\"type\":\"tick\"}}")).id(seq.to_string())
}

#[wasm_bindgen_test]
async fn the_ticker_shows_ticks_and_resumes_after_a_drop() {
    // The App connects to "/sse?types=tick&…": the query string does not matter.
    let server = MockServer::install("/sse");
    let root = mount_point();
    let app = mount_to(root.clone(), app::App);

    let first = within(ms(5000), "the provider's request", server.next_connection()).await;
    assert_eq!(first.last_event_id, None);
    wait_for_selector_text(&root, "b", "open", ms(5000)).await;
    assert_eq!(text_of(&root, "h1"), "waiting for the first tick");

    for seq in 1..=3 {
        server.send(tick(seq));
    }
    wait_for_selector_text(&root, "h1", "tick #3", ms(5000)).await;
    assert_eq!(text_of(&root, "ol"), "tick #3tick #2tick #1");

    // A lost connection: the badge shows the error, the client resumes from id 3.
    server.drop_streams();
    let second = within(ms(10_000), "the reconnect", server.next_connection()).await;
    assert_eq!(second.last_event_id.as_deref(), Some("3"));
    wait_for_selector_text(&root, "b", "open", ms(5000)).await;
    assert!(
        text_of(&root, "p").contains("last error"),
        "{}",
        text_of(&root, "p")
    );
    server.send(tick(4));
    wait_for_selector_text(&root, "h1", "tick #4", ms(5000)).await;
    assert_eq!(text_of(&root, "ol"), "tick #4tick #3tick #2tick #1");

    drop(app);
    wait_for("the stream to close on unmount", ms(5000), || {
        server.open_streams() == 0
    })
    .await;
}
