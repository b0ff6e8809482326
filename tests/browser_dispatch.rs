//! Dispatch and decoding in a real browser. No network behaviour is under test here, so
//! the streams come from a server scripted in the page (`sse_wasm::testing`), through
//! the native transport's own listeners; `server/` is not needed.
#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::*;
use futures::StreamExt;
use serde::Deserialize;
use sse_wasm::testing::Event;
use sse_wasm::{Backoff, ConnectionState, Jitter, SseClient, SseError};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn events_reach_the_handlers_of_their_type() {
    let (server, url) = mock_server("types");
    send_seqs(&server, 1, &["tick", "", "news", "tick", "", "news"]);
    let client = SseClient::connect(url).unwrap();
    let (ticks, _t) = record_seqs(&client, "tick");
    let (messages, _m) = record_seqs(&client, "message");
    let (news, _n) = record_seqs(&client, "news");
    wait_for("six events", ms(5000), || {
        ticks.len() + messages.len() + news.len() == 6
    })
    .await;
    assert_eq!(ticks.get(), [1, 4]);
    assert_eq!(
        messages.get(),
        [2, 5],
        "events without an event: field are \"message\""
    );
    assert_eq!(news.get(), [3, 6]);
    client.close();
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(rename_all = "lowercase")]
enum ServerEvent {
    Tick(Seq),
    News { seq: u64 },
    Message(Seq),
}

#[wasm_bindgen_test]
async fn one_enum_receives_every_variant_type() {
    let (server, url) = mock_server("enum");
    send_seqs(&server, 1, &["tick", "", "news", "other", "tick", ""]);
    let client = SseClient::connect(url).unwrap();
    let seen = Log::new();
    let sink = seen.clone();
    let _all = client
        .on_enum(move |event: ServerEvent| {
            sink.push(match event {
                ServerEvent::Tick(data) => format!("tick {}", data.seq),
                ServerEvent::News { seq } => format!("news {seq}"),
                ServerEvent::Message(data) => format!("message {}", data.seq),
            })
        })
        .unwrap();
    let (others, _o) = record_seqs(&client, "other");
    wait_for("six events", ms(5000), || seen.len() + others.len() == 6).await;
    assert_eq!(
        seen.get(),
        ["tick 1", "message 2", "news 3", "tick 5", "message 6"]
    );
    assert_eq!(
        others.get(),
        [4],
        "types outside the enum are not its business"
    );
    client.close();
}

#[wasm_bindgen_test]
async fn an_enum_that_cannot_name_event_types_is_rejected() {
    #[derive(Deserialize)]
    #[serde(tag = "type")]
    #[allow(dead_code)]
    enum Internally {
        Tick { seq: u64 },
    }
    let (_server, url) = mock_server("bad-enum");
    let client = SseClient::connect(url).unwrap();
    let error = client.on_enum(|_: Internally| {}).unwrap_err();
    assert_eq!(error.kind(), "invalid");
    client.close();
}

#[wasm_bindgen_test]
async fn dropping_a_subscription_unsubscribes() {
    let (server, url) = mock_server("unsubscribe");
    send_seqs(&server, 1, &[""; 6]);
    let client = SseClient::connect(url).unwrap();
    let victim_slot: Rc<RefCell<Option<sse_wasm::Subscription>>> = Rc::default();
    let first = Log::new();
    let slot = victim_slot.clone();
    let sink = first.clone();
    // Registered first, so for each event it runs before the victim; at seq 2 it drops
    // the victim's subscription, so the victim sees seq 1 only.
    let _first = client.on::<Seq>("message", move |data| {
        sink.push(data.seq);
        if data.seq == 2 {
            slot.borrow_mut().take();
        }
    });
    let (victim, subscription) = record_seqs(&client, "message");
    *victim_slot.borrow_mut() = Some(subscription);
    wait_for("six events", ms(5000), || first.len() == 6).await;
    assert_eq!(first.get(), [1, 2, 3, 4, 5, 6]);
    assert_eq!(victim.get(), [1]);
    client.close();
}

#[wasm_bindgen_test]
async fn json_decodes_into_a_struct_and_bad_json_is_a_decode_error() {
    let (server, url) = mock_server("decode");
    send_seqs(&server, 1, &["", ""]);
    server.send(Event::message("{\"seq\":3, broken").id("3"));
    send_seqs(&server, 4, &["", ""]);
    let client = SseClient::connect(url).unwrap();
    let watch = Watch::new(&client);
    let decoded = Log::new();
    let sink = decoded.clone();
    let _m = client.on::<Seq>("message", move |data| sink.push(data));
    wait_for("four good events", ms(5000), || decoded.len() == 4).await;
    let seqs: Vec<u64> = decoded.get().iter().map(|data| data.seq).collect();
    assert_eq!(seqs, [1, 2, 4, 5], "the stream goes on after the bad event");
    assert_eq!(decoded.get()[0].event_type, "message");
    match &watch.errors.get()[..] {
        [SseError::Decode {
            event_type,
            data,
            message,
        }] => {
            assert_eq!(event_type, "message");
            assert_eq!(data, "{\"seq\":3, broken");
            assert!(!message.is_empty());
        }
        other => panic!("expected exactly one decode error, got {other:?}"),
    }
    assert_eq!(
        client.state(),
        ConnectionState::Open,
        "a decode error does not disconnect"
    );
    client.close();
}

#[wasm_bindgen_test]
async fn server_events_named_error_and_open_are_data() {
    let (server, url) = mock_server("error-open");
    send_seqs(&server, 1, &["error", "open", ""]);
    let client = SseClient::connect(url).unwrap();
    let watch = Watch::new(&client);
    let (errors, _e) = record_seqs(&client, "error");
    let (opens, _o) = record_seqs(&client, "open");
    let (messages, _m) = record_seqs(&client, "message");
    wait_for("three events", ms(5000), || messages.len() == 1).await;
    assert_eq!(errors.get(), [1]);
    assert_eq!(opens.get(), [2]);
    assert!(
        watch.errors.get().is_empty(),
        "no connection error: {:?}",
        watch.errors.get()
    );
    assert_eq!(watch.state_names(), ["open"], "one open, not two");
    client.close();
}

#[wasm_bindgen_test]
async fn raw_handlers_see_type_data_and_the_last_id() {
    let (server, url) = mock_server("raw");
    server.send(Event::new("note", "event 1").id("1"));
    server.send(Event::new("note", "event 2").id("2"));
    let client = SseClient::connect(url).unwrap();
    let (notes, _n) = record_raw(&client, "note");
    wait_for("two events", ms(5000), || notes.len() == 2).await;
    let last = &notes.get()[1];
    assert_eq!(
        (last.event_type.as_str(), last.data.as_str()),
        ("note", "event 2")
    );
    assert_eq!(last.last_event_id, "2");
    assert_eq!(client.last_event_id(), "2");
    client.close();
}

#[wasm_bindgen_test]
async fn subscribe_streams_items_and_ends_on_close() {
    let (server, url) = mock_server("subscribe");
    send_seqs(&server, 1, &[""]);
    server.send(Event::message("{\"seq\":2, broken").id("2"));
    send_seqs(&server, 3, &[""]);
    let client = SseClient::builder(url)
        .backoff(Backoff::default().jitter(Jitter::None))
        .connect()
        .unwrap();
    let mut stream = client.subscribe::<Seq>("message");
    let mut items = Vec::new();
    for _ in 0..3 {
        let item = within(ms(5000), "the next item", stream.next())
            .await
            .unwrap();
        items.push(item.map(|data| data.seq).map_err(|error| error.kind()));
    }
    assert_eq!(items, [Ok(1), Err("decode"), Ok(3)]);
    client.close();
    assert!(within(ms(1000), "the end", stream.next()).await.is_none());
}

#[wasm_bindgen_test]
async fn a_stream_ends_when_the_last_handle_is_dropped() {
    let (server, url) = mock_server("last-handle");
    send_seqs(&server, 1, &[""]);
    let client = SseClient::connect(url).unwrap();
    let mut stream = client.subscribe::<Seq>("message");
    assert_eq!(
        within(ms(5000), "an item", stream.next())
            .await
            .unwrap()
            .unwrap()
            .seq,
        1
    );
    drop(client);
    assert!(within(ms(1000), "the end", stream.next()).await.is_none());
}
