//! The fetch transport's side of a scripted server: the request's headers are made as
//! for the network, then the scripted answer goes through [`StreamReader`] — the status
//! rules, the parser, ids, `retry:` — exactly as a response read from the network.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::state::{self, next_chunk, Answer, Chunk, ServerState, StreamGuard};
use super::Connection as Seen;
use crate::event::SseError;
use crate::machine::FailureClass;
use crate::runtime;
use crate::transport::fetch::{self, request_headers, Stop, StreamReader};
use crate::transport::{Connection, FetchConfig, Signal, SignalSink, Transport};

/// The client's side of one scripted request; dropping it is the client going away.
struct ScriptedFetch {
    dropped: Rc<Cell<bool>>,
    stream: Rc<RefCell<Option<StreamGuard>>>,
}

impl Connection for ScriptedFetch {
    fn listen(&mut self, _event_type: &str) {}
    fn unlisten(&mut self, _event_type: &str) {}
}

impl Drop for ScriptedFetch {
    fn drop(&mut self) {
        self.dropped.set(true);
        // The server forgets the stream, which ends the task's wait for its next chunk.
        self.stream.borrow_mut().take();
    }
}

pub(crate) fn open(
    server: Rc<RefCell<ServerState>>,
    url: &str,
    last_event_id: Option<&str>,
    config: Rc<FetchConfig>,
    sink: SignalSink,
) -> Box<dyn Connection> {
    let connection = ScriptedFetch {
        dropped: Rc::new(Cell::new(false)),
        stream: Rc::new(RefCell::new(None)),
    };
    let task = Task {
        server,
        url: url.to_owned(),
        last_event_id: last_event_id.filter(|id| !id.is_empty()).map(str::to_owned),
        config,
        sink,
        dropped: connection.dropped.clone(),
        stream: connection.stream.clone(),
    };
    wasm_bindgen_futures::spawn_local(task.run());
    Box::new(connection)
}

struct Task {
    server: Rc<RefCell<ServerState>>,
    url: String,
    last_event_id: Option<String>,
    config: Rc<FetchConfig>,
    sink: SignalSink,
    dropped: Rc<Cell<bool>>,
    stream: Rc<RefCell<Option<StreamGuard>>>,
}

impl Task {
    async fn run(self) {
        if let Err(Stop::Failed(failure)) = self.serve().await {
            if !self.dropped.get() {
                (self.sink)(Signal::Failed(failure));
            }
        }
    }

    /// As in the network reader: nothing is reported once the client let go.
    fn report(&self, signal: Signal<'_>) -> Result<(), Stop> {
        fetch::report(&self.dropped, &self.sink, signal)
    }

    async fn serve(&self) -> Result<(), Stop> {
        let headers =
            request_headers(&self.config, self.last_event_id.as_deref(), &self.dropped).await?;
        let at = runtime::now();
        state::next_task().await;
        if self.dropped.get() {
            return Err(Stop::Dropped);
        }
        let seen = Seen {
            at,
            transport: Transport::Fetch,
            url: self.url.clone(),
            method: self.config.method.clone(),
            headers: header_list(&headers),
            body: self.config.body.clone(),
            last_event_id: self.last_event_id.clone(),
        };
        let mut chunks = match state::answer(&self.server, seen) {
            Answer::Stalled => return Ok(()),
            Answer::Refused(refusal) => {
                StreamReader::judge(
                    refusal.status,
                    refusal.content_type.as_deref(),
                    refusal.retry_after.as_deref(),
                )
                .map_err(Stop::Failed)?;
                return Ok(());
            }
            Answer::Stream(guard, chunks) => {
                *self.stream.borrow_mut() = Some(guard);
                chunks
            }
        };
        if self.dropped.get() {
            // Gone while the server answered: the guard goes with the connection.
            self.stream.borrow_mut().take();
            return Err(Stop::Dropped);
        }
        self.report(Signal::Opened)?;
        let mut reader = StreamReader::new(self.config.max_event_size);
        let mut report = |signal: Signal<'_>| self.report(signal);
        loop {
            match next_chunk(&mut chunks).await {
                Some(Chunk::Bytes(bytes)) => reader.chunk(&bytes, &mut report)?,
                Some(Chunk::End) => return Err(Stop::Failed(reader.ended())),
                // Lost, or the server was uninstalled (or the client went away, which
                // `report` tells apart).
                Some(Chunk::Lost) | None => {
                    if self.dropped.get() {
                        return Err(Stop::Dropped);
                    }
                    return Err(Stop::failed(
                        SseError::network("the stream was lost: the scripted server dropped it"),
                        FailureClass::Retryable,
                    ));
                }
            }
        }
    }
}

/// The request's headers as the server would see them: names in lower case.
fn header_list(headers: &web_sys::Headers) -> Vec<(String, String)> {
    let mut list = Vec::new();
    let Ok(Some(entries)) = js_sys::try_iter(headers) else {
        return list;
    };
    for entry in entries.flatten() {
        let pair = js_sys::Array::from(&entry);
        if let (Some(name), Some(value)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
            list.push((name, value));
        }
    }
    list
}
