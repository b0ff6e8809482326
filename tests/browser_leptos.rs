//! The Leptos hooks and provider, mounted in the test page. No network behaviour is
//! under test here, so the streams come from a server scripted in the page
//! (`sse_wasm::testing`), which also tells which streams are open; `server/` is not
//! needed. Run with `--features leptos,leptos/csr` (effects run only with `csr`).
#![cfg(all(target_arch = "wasm32", feature = "leptos"))]

mod common;

use common::*;
use leptos::mount::mount_to;
use leptos::prelude::*;
use sse_wasm::leptos::{
    expect_sse, use_sse, use_sse_event, use_sse_events, SseHandle, SseProvider,
};
use sse_wasm::testing::MockServer;
use sse_wasm::{live_closures, Backoff, Jitter, SseClient};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Shows the connection's state and last error kind.
#[component]
fn Status(sse: SseHandle, #[prop(into)] prefix: String) -> impl IntoView {
    view! {
        <span id=format!("{prefix}-state")>{move || sse.state.get().to_string()}</span>
        <span id=format!("{prefix}-error")>
            {move || sse.error.get().map(|error| error.kind()).unwrap_or("none")}
        </span>
    }
}

/// Shows the latest `tick` and the last three.
#[component]
fn Ticks(sse: SseHandle, #[prop(into)] prefix: String) -> impl IntoView {
    let latest = use_sse_event::<Seq>(sse, "tick");
    let recent = use_sse_events::<Seq>(sse, "tick", 3);
    view! {
        <span id=format!("{prefix}-latest")>
            {move || latest.get().map(|tick| tick.seq.to_string()).unwrap_or_else(|| "-".into())}
        </span>
        <span id=format!("{prefix}-recent")>
            {move || {
                recent.get().iter().map(|tick| tick.seq.to_string()).collect::<Vec<_>>().join(",")
            }}
        </span>
    }
}

/// A component with its own connection.
#[component]
fn Feed(#[prop(into)] url: String) -> impl IntoView {
    let sse = use_sse(url);
    view! {
        <Status sse prefix="feed"/>
        <Ticks sse prefix="feed"/>
    }
}

/// A reader of the connection its provider shares.
#[component]
fn Reader(#[prop(into)] prefix: String) -> impl IntoView {
    let sse = expect_sse();
    view! { <Ticks sse prefix/> }
}

/// Sends `tick` events numbered `first..=last`.
fn ticks(server: &MockServer, first: u64, last: u64) {
    let count = (last + 1 - first) as usize;
    send_seqs(server, first, &vec!["tick"; count]);
}

#[wasm_bindgen_test]
async fn rendered_text_follows_the_events() {
    let (server, url) = mock_server("leptos-text");
    let root = mount_point();
    let app = mount_to(root.clone(), move || view! { <Feed url/> });
    ticks(&server, 1, 5);

    assert_eq!(
        text_by_id(&root, "feed-state").as_deref(),
        Some("connecting")
    );
    assert_eq!(text_by_id(&root, "feed-latest").as_deref(), Some("-"));
    wait_for_text(&root, "feed-latest", "5", ms(5000)).await;
    wait_for_text(&root, "feed-recent", "3,4,5", ms(1000)).await;
    assert_eq!(text_by_id(&root, "feed-state").as_deref(), Some("open"));
    assert_eq!(text_by_id(&root, "feed-error").as_deref(), Some("none"));
    drop(app);
}

#[wasm_bindgen_test]
async fn state_goes_connecting_open_reconnecting_open_on_a_forced_drop() {
    let (server, url) = mock_server("leptos-state");
    let builder =
        SseClient::builder(url).backoff(Backoff::exponential(ms(300)).jitter(Jitter::None));
    let states = Log::<&'static str>::new();
    let root = mount_point();
    let app = mount_to(root.clone(), {
        let states = states.clone();
        move || {
            let sse = use_sse(builder);
            Effect::new(move |_| states.push(sse.state.get().as_str()));
            view! { <Status sse prefix="s"/> }
        }
    });

    wait_for_text(&root, "s-state", "open", ms(5000)).await;
    server.drop_streams();
    wait_for("the state to leave open", ms(5000), || {
        states.get().last() != Some(&"open")
    })
    .await;
    wait_for_text(&root, "s-state", "open", ms(5000)).await;
    let seen = states.get();
    assert_eq!(
        seen,
        ["connecting", "open", "reconnecting", "connecting", "open"],
        "every state the signal held"
    );
    assert_eq!(text_by_id(&root, "s-error").as_deref(), Some("network"));
    assert_eq!(server.connections().len(), 2);
    drop(app);
}

#[wasm_bindgen_test]
async fn unmounting_closes_the_connection_and_frees_its_closures() {
    let baseline = live_closures();
    let (server, url) = mock_server("leptos-unmount");
    let root = mount_point();
    let app = mount_to(root.clone(), move || view! { <Feed url/> });
    ticks(&server, 1, 3);
    wait_for_text(&root, "feed-latest", "3", ms(5000)).await;
    assert_eq!(server.open_streams(), 1);
    assert!(live_closures() > baseline);

    drop(app);
    assert_eq!(live_closures(), baseline, "every closure was dropped");
    wait_for("the server to see the stream closed", ms(3000), || {
        server.open_streams() == 0
    })
    .await;
    sleep_ms(1500).await;
    assert_eq!(server.connections().len(), 1, "no request after unmounting");
}

#[wasm_bindgen_test]
async fn a_component_that_goes_away_closes_its_own_connection() {
    let (server, url) = mock_server("leptos-show");
    let show = RwSignal::new(true);
    let root = mount_point();
    let app = mount_to(root.clone(), move || {
        view! {
            <p id="still-here">"parent"</p>
            <Show when=move || show.get()>
                <Feed url=url.clone()/>
            </Show>
        }
    });
    ticks(&server, 1, 2);
    wait_for_text(&root, "feed-latest", "2", ms(5000)).await;
    assert_eq!(server.open_streams(), 1);

    show.set(false);
    wait_for("the component to go", ms(2000), || {
        text_by_id(&root, "feed-latest").is_none()
    })
    .await;
    wait_for("the server to see the stream closed", ms(3000), || {
        server.open_streams() == 0
    })
    .await;
    assert_eq!(text_by_id(&root, "still-here").as_deref(), Some("parent"));
    drop(app);
}

#[wasm_bindgen_test]
async fn components_under_one_provider_share_one_connection() {
    let (server, url) = mock_server("leptos-provider");
    let show_b = RwSignal::new(true);
    let root = mount_point();
    let app = mount_to(root.clone(), move || {
        view! {
            <SseProvider url>
                <Reader prefix="a"/>
                <Show when=move || show_b.get()>
                    <Reader prefix="b"/>
                </Show>
            </SseProvider>
        }
    });
    let mut next = 1;
    tick_until(
        &server,
        &mut next,
        "both readers to show events",
        ms(5000),
        || {
            [text_by_id(&root, "a-latest"), text_by_id(&root, "b-latest")]
                .iter()
                .all(|text| text.as_deref().is_some_and(|text| text != "-"))
        },
    )
    .await;
    let seen = server.connections();
    assert_eq!(seen.len(), 1, "one connection: {seen:?}");
    assert_eq!(server.open_streams(), 1);

    // A reader that goes drops its subscription: the `tick` listener is still needed
    // by the other reader, so only that reader's handler goes and the stream goes on.
    let with_both = live_closures();
    show_b.set(false);
    wait_for("reader b to go", ms(2000), || {
        text_by_id(&root, "b-latest").is_none()
    })
    .await;
    assert_eq!(live_closures(), with_both, "the shared listener stays");
    ticks(&server, next, next);
    wait_for_text(&root, "a-latest", &next.to_string(), ms(3000)).await;
    assert_eq!(server.open_streams(), 1);

    drop(app);
    wait_for("the server to see the stream closed", ms(3000), || {
        server.open_streams() == 0
    })
    .await;
    assert_eq!(server.connections().len(), 1);
}

/// Two providers of one share name stand for two tabs of an app: one connection
/// serves both, and both go with the app.
#[wasm_bindgen_test]
async fn providers_of_one_share_name_share_one_connection() {
    let (server, url) = mock_server("leptos-share");
    let name = format!("share-{url}");
    let root = mount_point();
    let app = mount_to(root.clone(), move || {
        let (first_url, first_name) = (url.clone(), name.clone());
        view! {
            <SseProvider url=first_url share=first_name>
                <Reader prefix="a"/>
            </SseProvider>
            <SseProvider url share=name>
                <Reader prefix="b"/>
            </SseProvider>
        }
    });
    let mut next = 1;
    tick_until(
        &server,
        &mut next,
        "both providers' readers to show events",
        ms(5000),
        || {
            [text_by_id(&root, "a-latest"), text_by_id(&root, "b-latest")]
                .iter()
                .all(|text| text.as_deref().is_some_and(|text| text != "-"))
        },
    )
    .await;
    ticks(&server, next, next);
    wait_for_text(&root, "a-latest", &next.to_string(), ms(3000)).await;
    wait_for_text(&root, "b-latest", &next.to_string(), ms(3000)).await;
    let seen = server.connections();
    assert_eq!(seen.len(), 1, "one connection for both providers: {seen:?}");
    drop(app);
    wait_for("the server to see the stream closed", ms(3000), || {
        server.open_streams() == 0
    })
    .await;
    sleep_ms(300).await;
    assert_eq!(
        server.connections().len(),
        1,
        "nobody took over an app that went"
    );
}

#[wasm_bindgen_test]
async fn a_component_that_goes_away_drops_its_subscriptions() {
    let (server, url) = mock_server("leptos-unsubscribe");
    let show = RwSignal::new(true);
    let root = mount_point();
    let app = mount_to(root.clone(), move || {
        let sse = use_sse(url);
        view! {
            <Status sse prefix="p"/>
            <Show when=move || show.get()>
                <Ticks sse prefix="t"/>
            </Show>
        }
    });
    tick_until(&server, &mut 1, "an event", ms(5000), || {
        text_by_id(&root, "t-latest").is_some_and(|text| text != "-")
    })
    .await;
    let with_reader = live_closures();
    show.set(false);
    wait_for("the reader to go", ms(2000), || {
        text_by_id(&root, "t-latest").is_none()
    })
    .await;
    // The reader's two handlers were the only ones for `tick`: with them gone the
    // connection stops listening for it, which frees the listener's closure.
    assert_eq!(
        live_closures(),
        with_reader - 1,
        "the tick listener was removed"
    );
    assert_eq!(text_by_id(&root, "p-state").as_deref(), Some("open"));
    assert_eq!(server.open_streams(), 1, "the connection stays");
    drop(app);
}

#[wasm_bindgen_test]
async fn an_invalid_url_is_an_error_state_not_a_panic() {
    let root = mount_point();
    let app = mount_to(root.clone(), move || view! { <Feed url="http://[::1"/> });
    wait_for_text(&root, "feed-error", "invalid", ms(2000)).await;
    assert_eq!(text_by_id(&root, "feed-state").as_deref(), Some("closed"));
    assert_eq!(text_by_id(&root, "feed-latest").as_deref(), Some("-"));
    drop(app);
}
