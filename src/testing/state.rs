//! What one installed server knows: how to answer the next requests, its open
//! streams, what it was told to send while none was open, and every request it saw.
//! The installed servers of the page are kept per URL path, and a client's driver
//! asks [`find`] before it goes to the network.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::Waker;

use futures_core::Stream;

use futures_channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};

use super::{Connection, Refusal};
use crate::transport::status;

/// What a scripted stream carries, in order.
pub(crate) enum Chunk {
    /// Bytes, read by the client as one chunk.
    Bytes(Rc<[u8]>),
    /// The server ends the stream cleanly.
    End,
    /// The connection is lost.
    Lost,
}

/// How the server answers one request.
pub(crate) enum Reply {
    Refuse(Refusal),
    Stall,
}

/// The answer a request got.
pub(crate) enum Answer {
    /// 200 and an event stream: read these chunks. Dropping the [`StreamGuard`] tells
    /// the server the client went away.
    Stream(StreamGuard, UnboundedReceiver<Chunk>),
    /// This status and headers, and no stream.
    Refused(Refusal),
    /// No answer at all, ever.
    Stalled,
}

#[derive(Default)]
pub(crate) struct ServerState {
    /// How to answer the next requests, in order; then streams.
    replies: VecDeque<Reply>,
    streams: Vec<(u64, UnboundedSender<Chunk>)>,
    next_stream: u64,
    /// Sent while no stream was open: for the next one that opens.
    pending: Vec<Chunk>,
    pub(crate) seen: Vec<Connection>,
    /// How many of `seen` `next_connection` has handed out.
    pub(crate) taken: usize,
    pub(crate) waker: Option<Waker>,
}

impl ServerState {
    pub(crate) fn answer_next(&mut self, replies: impl IntoIterator<Item = Reply>) {
        self.replies.extend(replies);
    }

    /// Sends to every open stream, or keeps it for the next one.
    pub(crate) fn send(&mut self, bytes: Rc<[u8]>) {
        if self.streams.is_empty() {
            self.pending.push(Chunk::Bytes(bytes));
            return;
        }
        for (_, stream) in &self.streams {
            let _ = stream.unbounded_send(Chunk::Bytes(bytes.clone()));
        }
    }

    /// Ends (or loses) every open stream.
    pub(crate) fn close_streams(&mut self, how: fn() -> Chunk) {
        for (_, stream) in self.streams.drain(..) {
            let _ = stream.unbounded_send(how());
        }
    }

    pub(crate) fn open_streams(&self) -> usize {
        self.streams.len()
    }

    /// Records a request and answers it.
    fn answer(&mut self, seen: Connection, server: &Rc<RefCell<ServerState>>) -> Answer {
        self.seen.push(seen);
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
        match self.replies.pop_front() {
            Some(Reply::Stall) => return Answer::Stalled,
            Some(Reply::Refuse(refusal)) if refusal.refuses() => return Answer::Refused(refusal),
            Some(Reply::Refuse(_)) | None => {}
        }
        let (sender, receiver) = unbounded();
        for chunk in self.pending.drain(..) {
            let _ = sender.unbounded_send(chunk);
        }
        let id = self.next_stream;
        self.next_stream += 1;
        self.streams.push((id, sender));
        let guard = StreamGuard {
            server: Rc::downgrade(server),
            id,
        };
        Answer::Stream(guard, receiver)
    }
}

impl Refusal {
    /// Whether a browser would refuse to read the stream (any transport).
    fn refuses(&self) -> bool {
        status::judge(self.status, self.content_type.as_deref(), None).is_err()
    }
}

/// An open stream, as the server sees it: dropped when the client goes away.
pub(crate) struct StreamGuard {
    server: Weak<RefCell<ServerState>>,
    id: u64,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        if let Some(server) = self.server.upgrade() {
            if let Ok(mut server) = server.try_borrow_mut() {
                server.streams.retain(|(id, _)| *id != self.id);
            }
        }
    }
}

thread_local! {
    /// The installed servers: (path, server), the newest last.
    static INSTALLED: RefCell<Vec<(String, Weak<RefCell<ServerState>>)>> =
        const { RefCell::new(Vec::new()) };
}

pub(crate) fn install(path: String, server: &Rc<RefCell<ServerState>>) {
    INSTALLED.with(|installed| installed.borrow_mut().push((path, Rc::downgrade(server))));
}

pub(crate) fn uninstall(server: &Rc<RefCell<ServerState>>) {
    let server = Rc::downgrade(server);
    INSTALLED.with(|installed| {
        installed
            .borrow_mut()
            .retain(|(_, installed)| !installed.ptr_eq(&server))
    });
}

/// The server installed for `url`'s path (the newest, when several are), if any.
pub(crate) fn find(url: &str) -> Option<Rc<RefCell<ServerState>>> {
    let path = web_sys::Url::new(url).ok()?.pathname();
    INSTALLED.with(|installed| {
        installed
            .borrow()
            .iter()
            .rev()
            .find(|(installed, _)| *installed == path)
            .and_then(|(_, server)| server.upgrade())
    })
}

/// Records `seen` on `server` and answers it.
pub(crate) fn answer(server: &Rc<RefCell<ServerState>>, seen: Connection) -> Answer {
    server.borrow_mut().answer(seen, server)
}

/// The next chunk of a stream; `None` once the server let go of it.
pub(crate) async fn next_chunk(chunks: &mut UnboundedReceiver<Chunk>) -> Option<Chunk> {
    std::future::poll_fn(|cx| Pin::new(&mut *chunks).poll_next(cx)).await
}

/// Waits for the browser's next task (a zero-delay timer). A network answer never
/// comes sooner, so neither does a scripted one: what a client does in the same task
/// as its request (render "connecting", add listeners) happens first, as in production.
pub(crate) async fn next_task() {
    let (sender, receiver) = futures_channel::oneshot::channel();
    let _timer = crate::runtime::Timer::new(
        std::time::Duration::ZERO,
        Box::new(move || {
            let _ = sender.send(());
        }),
    );
    let _ = receiver.await;
}
