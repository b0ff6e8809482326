//! The Yew hooks and provider, rendered in the test page. No network behaviour is under
//! test here, so the streams come from a server scripted in the page
//! (`sse_wasm::testing`), which also tells which streams are open and what each request
//! carried; `server/` is not needed. Run with `--features yew,yew/csr` (the renderer
//! exists only with `csr`).
#![cfg(all(target_arch = "wasm32", feature = "yew"))]

mod common;

use std::cell::RefCell;

use common::*;
use sse_wasm::testing::MockServer;
use sse_wasm::yew::{
    use_sse, use_sse_context, use_sse_event, use_sse_events, SseOptions, SseProvider, UseSseHandle,
};
use sse_wasm::{live_closures, Backoff, Jitter, SseClient};
use wasm_bindgen_test::*;
use yew::prelude::*;
use yew::{AppHandle, Renderer};

wasm_bindgen_test_configure!(run_in_browser);

#[derive(Properties, PartialEq)]
struct PrefixProps {
    sse: UseSseHandle,
    prefix: AttrValue,
}

/// Shows the connection's state and last error kind.
#[function_component]
fn Status(props: &PrefixProps) -> Html {
    let prefix = &props.prefix;
    html! {
        <>
            <span id={format!("{prefix}-state")}>{ props.sse.state.to_string() }</span>
            <span id={format!("{prefix}-error")}>
                { props.sse.error.as_ref().map(|error| error.kind()).unwrap_or("none") }
            </span>
        </>
    }
}

/// Shows the latest `tick` and the last three.
#[function_component]
fn Ticks(props: &PrefixProps) -> Html {
    let latest = use_sse_event::<Seq>(&props.sse, "tick");
    let recent = use_sse_events::<Seq>(&props.sse, "tick", 3);
    let prefix = &props.prefix;
    let recent = recent
        .iter()
        .map(|tick| tick.seq.to_string())
        .collect::<Vec<_>>()
        .join(",");
    html! {
        <>
            <span id={format!("{prefix}-latest")}>
                { latest.map(|tick| tick.seq.to_string()).unwrap_or_else(|| "-".into()) }
            </span>
            <span id={format!("{prefix}-recent")}>{ recent }</span>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct FeedProps {
    options: SseOptions,
}

/// A component with its own connection.
#[function_component]
fn Feed(props: &FeedProps) -> Html {
    let sse = use_sse(props.options.clone());
    html! {
        <>
            <Status sse={sse.clone()} prefix="feed"/>
            <Ticks {sse} prefix="feed"/>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct ReaderProps {
    prefix: AttrValue,
}

/// A reader of the connection its provider shares.
#[function_component]
fn Reader(props: &ReaderProps) -> Html {
    let sse = use_sse_context().expect("inside <SseProvider>");
    html! { <Ticks {sse} prefix={props.prefix.clone()}/> }
}

#[derive(Properties, PartialEq)]
struct ShowProps {
    options: SseOptions,
    show: bool,
}

/// A parent that keeps its own text and shows a `Feed` while `show` holds.
#[function_component]
fn ShowFeed(props: &ShowProps) -> Html {
    html! {
        <>
            <p id="still-here">{ "parent" }</p>
            if props.show { <Feed options={props.options.clone()}/> }
        </>
    }
}

/// Two readers under one provider; the second while `show` holds.
#[function_component]
fn SharedFeed(props: &ShowProps) -> Html {
    html! {
        <SseProvider url={props.options.clone()}>
            <Reader prefix="a"/>
            if props.show { <Reader prefix="b"/> }
        </SseProvider>
    }
}

#[derive(Properties, PartialEq)]
struct TwoProvidersProps {
    options: SseOptions,
    share: AttrValue,
}

/// Two providers of one share name, as two tabs of an app would have.
#[function_component]
fn TwoProviders(props: &TwoProvidersProps) -> Html {
    html! {
        <>
            <SseProvider url={props.options.clone()} share={props.share.clone()}>
                <Reader prefix="a"/>
            </SseProvider>
            <SseProvider url={props.options.clone()} share={props.share.clone()}>
                <Reader prefix="b"/>
            </SseProvider>
        </>
    }
}

/// One connection in the parent; a reader of it while `show` holds.
#[function_component]
fn ParentAndReader(props: &ShowProps) -> Html {
    let sse = use_sse(props.options.clone());
    html! {
        <>
            <Status sse={sse.clone()} prefix="p"/>
            if props.show { <Ticks {sse} prefix="t"/> }
        </>
    }
}

thread_local! {
    static STATES: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

/// Records every state it renders with.
#[function_component]
fn StateRecorder(props: &FeedProps) -> Html {
    let sse = use_sse(props.options.clone());
    let name = sse.state.as_str();
    STATES.with(|states| {
        let mut states = states.borrow_mut();
        if states.last() != Some(&name) {
            states.push(name);
        }
    });
    html! { <Status {sse} prefix="s"/> }
}

/// Renders `COMP` into a new element of the test page.
fn render<COMP>(props: COMP::Properties) -> (web_sys::HtmlElement, AppHandle<COMP>)
where
    COMP: BaseComponent,
{
    // Keep the test runner's panic hook rather than Yew's default one; once, since a
    // hook cannot be changed after a failed test's panic (wasm does not unwind).
    static KEEP_HOOK: std::sync::Once = std::sync::Once::new();
    KEEP_HOOK.call_once(|| yew::set_custom_panic_hook(std::panic::take_hook()));
    let root = mount_point();
    let app = Renderer::<COMP>::with_root_and_props(root.clone().into(), props).render();
    (root, app)
}

/// Sends `tick` events numbered `first..=last`.
fn ticks(server: &MockServer, first: u64, last: u64) {
    let count = (last + 1 - first) as usize;
    send_seqs(server, first, &vec!["tick"; count]);
}

#[wasm_bindgen_test]
async fn rendered_text_follows_the_events() {
    let (server, url) = mock_server("yew-text");
    let options = url.into();
    let (root, app) = render::<Feed>(FeedProps { options });
    ticks(&server, 1, 5);

    wait_for_text(&root, "feed-latest", "5", ms(5000)).await;
    wait_for_text(&root, "feed-recent", "3,4,5", ms(1000)).await;
    assert_eq!(text_by_id(&root, "feed-state").as_deref(), Some("open"));
    assert_eq!(text_by_id(&root, "feed-error").as_deref(), Some("none"));
    app.destroy();
}

#[wasm_bindgen_test]
async fn state_goes_connecting_open_reconnecting_open_on_a_forced_drop() {
    let (server, url) = mock_server("yew-state");
    let options = SseClient::builder(url)
        .backoff(Backoff::exponential(ms(300)).jitter(Jitter::None))
        .into();
    STATES.with(|states| states.borrow_mut().clear());
    let (root, app) = render::<StateRecorder>(FeedProps { options });

    wait_for_text(&root, "s-state", "open", ms(5000)).await;
    server.drop_streams();
    wait_for("the state to leave open", ms(5000), || {
        STATES.with(|states| states.borrow().last() != Some(&"open"))
    })
    .await;
    wait_for_text(&root, "s-state", "open", ms(5000)).await;
    let seen = STATES.with(|states| states.borrow().clone());
    assert_eq!(
        seen,
        ["connecting", "open", "reconnecting", "connecting", "open"],
        "every state the component rendered"
    );
    assert_eq!(text_by_id(&root, "s-error").as_deref(), Some("network"));
    assert_eq!(server.connections().len(), 2);
    app.destroy();
}

#[wasm_bindgen_test]
async fn unmounting_closes_the_connection_and_frees_its_closures() {
    let baseline = live_closures();
    let (server, url) = mock_server("yew-unmount");
    let (root, app) = render::<Feed>(FeedProps {
        options: url.into(),
    });
    ticks(&server, 1, 3);
    wait_for_text(&root, "feed-latest", "3", ms(5000)).await;
    assert_eq!(server.open_streams(), 1);
    assert!(live_closures() > baseline);

    app.destroy();
    wait_for("every closure to be dropped", ms(2000), || {
        live_closures() == baseline
    })
    .await;
    wait_for("the server to see the stream closed", ms(3000), || {
        server.open_streams() == 0
    })
    .await;
    sleep_ms(1500).await;
    assert_eq!(server.connections().len(), 1, "no request after unmounting");
}

#[wasm_bindgen_test]
async fn a_component_that_goes_away_closes_its_own_connection() {
    let (server, url) = mock_server("yew-show");
    let options: SseOptions = url.into();
    let (root, mut app) = render::<ShowFeed>(ShowProps {
        options: options.clone(),
        show: true,
    });
    ticks(&server, 1, 2);
    wait_for_text(&root, "feed-latest", "2", ms(5000)).await;
    assert_eq!(server.open_streams(), 1);

    app.update(ShowProps {
        options,
        show: false,
    });
    wait_for("the component to go", ms(2000), || {
        text_by_id(&root, "feed-latest").is_none()
    })
    .await;
    wait_for("the server to see the stream closed", ms(3000), || {
        server.open_streams() == 0
    })
    .await;
    assert_eq!(text_by_id(&root, "still-here").as_deref(), Some("parent"));
    app.destroy();
}

#[wasm_bindgen_test]
async fn providers_of_one_share_name_share_one_connection() {
    let (server, url) = mock_server("yew-share");
    let share = AttrValue::from(format!("share-{url}"));
    let (root, app) = render::<TwoProviders>(TwoProvidersProps {
        options: url.into(),
        share,
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
    app.destroy();
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
async fn components_under_one_provider_share_one_connection() {
    let (server, url) = mock_server("yew-provider");
    let options: SseOptions = url.into();
    let (root, mut app) = render::<SharedFeed>(ShowProps {
        options: options.clone(),
        show: true,
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

    // A reader that goes drops its subscription; the other still needs the `tick`
    // listener, so it stays and the stream goes on.
    let with_both = live_closures();
    app.update(ShowProps {
        options,
        show: false,
    });
    wait_for("reader b to go", ms(2000), || {
        text_by_id(&root, "b-latest").is_none()
    })
    .await;
    assert_eq!(live_closures(), with_both, "the shared listener stays");
    ticks(&server, next, next);
    wait_for_text(&root, "a-latest", &next.to_string(), ms(3000)).await;
    assert_eq!(server.open_streams(), 1);

    app.destroy();
    wait_for("the server to see the stream closed", ms(3000), || {
        server.open_streams() == 0
    })
    .await;
    assert_eq!(server.connections().len(), 1);
}

#[wasm_bindgen_test]
async fn a_component_that_goes_away_drops_its_subscriptions() {
    let (server, url) = mock_server("yew-unsubscribe");
    let options: SseOptions = url.into();
    let (root, mut app) = render::<ParentAndReader>(ShowProps {
        options: options.clone(),
        show: true,
    });
    tick_until(&server, &mut 1, "an event", ms(5000), || {
        text_by_id(&root, "t-latest").is_some_and(|text| text != "-")
    })
    .await;
    let with_reader = live_closures();
    app.update(ShowProps {
        options,
        show: false,
    });
    wait_for("the reader to go", ms(2000), || {
        text_by_id(&root, "t-latest").is_none()
    })
    .await;
    // The reader's two handlers were the only ones for `tick`: with them gone the
    // connection stops listening for it, which frees the listener's closure.
    wait_for("the tick listener to be removed", ms(2000), || {
        live_closures() == with_reader - 1
    })
    .await;
    assert_eq!(text_by_id(&root, "p-state").as_deref(), Some("open"));
    assert_eq!(server.open_streams(), 1, "the connection stays");
    app.destroy();
}

#[wasm_bindgen_test]
async fn changed_options_close_the_old_connection_and_open_a_new_one() {
    let (first, first_url) = mock_server("yew-change-a");
    let (second, second_url) = mock_server("yew-change-b");
    let (root, mut app) = render::<ShowFeed>(ShowProps {
        options: first_url.into(),
        show: true,
    });
    ticks(&first, 1, 2);
    wait_for_text(&root, "feed-latest", "2", ms(5000)).await;
    app.update(ShowProps {
        options: second_url.into(),
        show: true,
    });
    wait_for("the new connection", ms(5000), || {
        second.open_streams() == 1
    })
    .await;
    wait_for("the old one to close", ms(3000), || {
        first.open_streams() == 0
    })
    .await;
    assert_eq!(first.connections().len(), 1);
    app.destroy();
}

/// Options that differ only in their header function are different options: a hook
/// given a new token function connects anew, and sends the new headers.
#[wasm_bindgen_test]
async fn a_new_header_function_alone_makes_a_new_connection() {
    let (server, url) = mock_server("yew-headers");
    let options = |token: &'static str| -> SseOptions {
        SseClient::builder(url.as_str())
            .headers_with(move || vec![("x-token".to_owned(), token.to_owned())])
            .into()
    };
    let first = options("a");
    let (root, mut app) = render::<ShowFeed>(ShowProps {
        options: first.clone(),
        show: true,
    });
    ticks(&server, 1, 2);
    wait_for_text(&root, "feed-latest", "2", ms(5000)).await;
    // The same options again (a clone shares the function): nothing changes.
    app.update(ShowProps {
        options: first,
        show: true,
    });
    app.update(ShowProps {
        options: options("b"),
        show: true,
    });
    wait_for("the second connection", ms(5000), || {
        server.connections().len() == 2 && server.open_streams() == 1
    })
    .await;
    let tokens: Vec<_> = server
        .connections()
        .iter()
        .map(|connection| connection.header("x-token").map(str::to_owned))
        .collect();
    assert_eq!(tokens, [Some("a".to_owned()), Some("b".to_owned())]);
    app.destroy();
}

#[wasm_bindgen_test]
async fn an_invalid_url_is_an_error_state_not_a_panic() {
    let (root, app) = render::<Feed>(FeedProps {
        options: "http://[::1".into(),
    });
    wait_for_text(&root, "feed-error", "invalid", ms(2000)).await;
    assert_eq!(text_by_id(&root, "feed-state").as_deref(), Some("closed"));
    assert_eq!(text_by_id(&root, "feed-latest").as_deref(), Some("-"));
    app.destroy();
}
