//! `futures::Stream` views of a client's events ([`SseClient::subscribe`]), built on
//! the callback API.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures_core::Stream;
use serde::de::DeserializeOwned;

use crate::client::SseClient;
use crate::decode;
use crate::dispatch::Subscription;
use crate::event::{ConnectionState, SseError};

/// The events of one type, decoded from JSON; made by [`SseClient::subscribe`].
///
/// Dropping the stream unsubscribes. It ends when the client closes or its last handle
/// is dropped.
///
/// ```no_run
/// use futures::StreamExt;
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Tick { price: f64 }
///
/// # async fn demo(client: sse_wasm::SseClient) {
/// let mut ticks = client.subscribe::<Tick>("tick");
/// while let Some(tick) = ticks.next().await {
///     match tick {
///         Ok(tick) => { /* ... */ }
///         Err(error) => { /* data that was not a Tick; the stream goes on */ }
///     }
/// }
/// # }
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct EventStream<T> {
    shared: Rc<RefCell<Buffer<T>>>,
    _subscriptions: [Subscription; 2],
}

struct Buffer<T> {
    items: VecDeque<Result<T, SseError>>,
    ended: bool,
    waker: Option<Waker>,
}

impl<T> Buffer<T> {
    fn wake(&mut self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

/// Ends the stream when the client lets go of the handler holding it.
struct EndOnDrop<T>(Rc<RefCell<Buffer<T>>>);

impl<T> Drop for EndOnDrop<T> {
    fn drop(&mut self) {
        if let Ok(mut buffer) = self.0.try_borrow_mut() {
            buffer.ended = true;
            buffer.wake();
        }
    }
}

impl SseClient {
    /// The events of `event_type`, decoded from JSON, as a `futures::Stream`.
    ///
    /// Decode failures are `Err` items (and are reported on `on_error` too); the
    /// stream ends when the client closes. Events are buffered until polled.
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    pub fn subscribe<T: DeserializeOwned + 'static>(&self, event_type: &str) -> EventStream<T> {
        EventStream::new(self, event_type)
    }
}

impl<T: DeserializeOwned + 'static> EventStream<T> {
    fn new(client: &SseClient, event_type: &str) -> Self {
        let shared = Rc::new(RefCell::new(Buffer {
            items: VecDeque::new(),
            ended: client.state() == ConnectionState::Closed,
            waker: None,
        }));
        let events = {
            let shared = shared.clone();
            client.add_event_handler(event_type, move |event| {
                let item = decode::json_data::<T>(event.event_type, event.data);
                let reported = item.as_ref().err().cloned();
                let mut buffer = shared.borrow_mut();
                buffer.items.push_back(item);
                buffer.wake();
                reported.map_or(Ok(()), Err)
            })
        };
        let end = EndOnDrop(shared.clone());
        let states = client.on_state(move |state| {
            if state == ConnectionState::Closed {
                let mut buffer = end.0.borrow_mut();
                buffer.ended = true;
                buffer.wake();
            }
        });
        EventStream {
            shared,
            _subscriptions: [events, states],
        }
    }
}

impl<T> Stream for EventStream<T> {
    type Item = Result<T, SseError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut buffer = self.shared.borrow_mut();
        if let Some(item) = buffer.items.pop_front() {
            return Poll::Ready(Some(item));
        }
        if buffer.ended {
            return Poll::Ready(None);
        }
        buffer.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl<T> std::fmt::Debug for EventStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let buffer = self.shared.borrow();
        f.debug_struct("EventStream")
            .field("buffered", &buffer.items.len())
            .field("ended", &buffer.ended)
            .finish()
    }
}
