//! Server-side rendering of components that use the hooks: natively, with no browser,
//! on threads other than the one that made the components. Effects do not run under
//! SSR, so no connection is attempted; the hooks render their initial values.
//! Run with `--features leptos,leptos/ssr,yew,yew/ssr`.
#![cfg(all(not(target_arch = "wasm32"), feature = "leptos", feature = "yew"))]

use serde::Deserialize;

#[derive(Clone, Deserialize)]
struct Tick {
    seq: u64,
}

mod leptos_app {
    use super::Tick;
    use leptos::prelude::*;
    use sse_wasm::leptos::{expect_sse, use_sse, use_sse_event, use_sse_events, SseProvider};

    #[component]
    fn Reader() -> impl IntoView {
        let sse = expect_sse();
        let latest = use_sse_event::<Tick>(sse, "tick");
        let recent = use_sse_events::<Tick>(sse, "tick", 3);
        view! {
            <span class="state">{move || sse.state.get().to_string()}</span>
            <span class="latest">{move || latest.get().map_or("none".into(), |t| t.seq.to_string())}</span>
            <span class="recent">{move || recent.get().len()}</span>
        }
    }

    #[component]
    pub fn App() -> impl IntoView {
        let own = use_sse("http://127.0.0.1:9/own");
        let client_seen = move || own.client().is_some().to_string();
        view! {
            <p class="own">{move || own.state.get().to_string()} "/" {client_seen}</p>
            <SseProvider url="http://127.0.0.1:9/shared">
                <Reader/>
                <Reader/>
            </SseProvider>
        }
    }
}

#[test]
fn leptos_renders_initial_values_without_touching_the_browser() {
    use leptos::prelude::*;

    // Render on one thread, clean up on another, as a multi-threaded server may.
    let (html, owner) = std::thread::spawn(|| {
        let owner = Owner::new();
        let html = owner.with(|| view! { <leptos_app::App/> }.to_html());
        (html, owner)
    })
    .join()
    .expect("rendering did not panic");
    drop(owner);

    assert!(html.contains("connecting"), "{html}");
    assert!(html.contains("false"), "no client on the server: {html}");
    assert_eq!(html.matches("none").count(), 2, "{html}");
    assert!(!html.contains("closed"), "{html}");
}

mod yew_app {
    use super::Tick;
    use sse_wasm::yew::{use_sse, use_sse_context, use_sse_event, use_sse_events, SseProvider};
    use yew::prelude::*;

    #[function_component]
    fn Reader() -> Html {
        let sse = use_sse_context().expect("inside <SseProvider>");
        let latest = use_sse_event::<Tick>(&sse, "tick");
        let recent = use_sse_events::<Tick>(&sse, "tick", 3);
        html! {
            <>
                <span class="state">{ sse.state.to_string() }</span>
                <span class="latest">{ latest.map_or("none".into(), |t| t.seq.to_string()) }</span>
                <span class="recent">{ recent.len() }</span>
            </>
        }
    }

    #[function_component]
    pub fn App() -> Html {
        let own = use_sse("http://127.0.0.1:9/own");
        html! {
            <>
                <p class="own">{ own.state.to_string() } { "/" } { own.client().is_some().to_string() }</p>
                <SseProvider url="http://127.0.0.1:9/shared">
                    <Reader/>
                    <Reader/>
                </SseProvider>
            </>
        }
    }
}

#[test]
fn yew_renders_initial_values_without_touching_the_browser() {
    // Yew renders on its own runtime's threads.
    let html = futures::executor::block_on(yew::ServerRenderer::<yew_app::App>::new().render());

    assert!(html.contains("connecting"), "{html}");
    assert!(html.contains("false"), "no client on the server: {html}");
    assert_eq!(html.matches("none").count(), 2, "{html}");
    assert!(!html.contains("closed"), "{html}");
}
