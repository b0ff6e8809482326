//! The reads of a response's body, for the Rust faces' task.
//!
//! A BYOB ("bring your own buffer") reader reads into one buffer that goes to the
//! stream and comes back with every read; the default reader makes a new
//! `ArrayBuffer` for every read. On the bench's stream (13.8 MB) the page's main thread
//! spent about 17 ms reading it the first way and 29 ms the second (Chromium 156, no
//! parsing), and that thread is also the one that parses and runs the handlers. A body
//! that is not a byte stream (in browsers whose fetch bodies are not) is read with the
//! default reader. `bindings/js_fetch.js` reads the npm face's bodies the same way.

use js_sys::{ArrayBuffer, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{
    ReadableStream, ReadableStreamByobReader, ReadableStreamDefaultReader,
    ReadableStreamGetReaderOptions, ReadableStreamReaderMode,
};

/// The most one read brings. Measured against the default reader's reads (up to 2 MiB
/// each on a fast stream): 64 KiB, 256 KiB and 1 MiB all cost the main thread less, and
/// 256 KiB least. It also bounds the copy of each read in wasm memory.
const READ_BYTES: u32 = 256 * 1024;

#[wasm_bindgen]
extern "C" {
    /// A `ReadableStream`, for a `getReader` that may throw: asked for a BYOB reader,
    /// it does when the stream is not a byte stream.
    type Stream;

    #[wasm_bindgen(method, catch, js_name = getReader)]
    fn byob_reader(
        this: &Stream,
        options: &ReadableStreamGetReaderOptions,
    ) -> Result<ReadableStreamByobReader, JsValue>;

    /// What a read's promise gives, read by its fields' getters (no field name
    /// crosses from wasm as a string, as it would with `Reflect::get`).
    type ReadResult;

    #[wasm_bindgen(method, getter)]
    fn done(this: &ReadResult) -> bool;

    #[wasm_bindgen(method, getter)]
    fn value(this: &ReadResult) -> JsValue;
}

/// What one read of the body gave.
pub(super) enum Read {
    Bytes(Uint8Array),
    /// The body ended.
    Done,
    /// A value that is not bytes (a body's never is).
    NotBytes,
}

pub(super) enum BodyReader {
    /// Reads into `buffer`, which each read takes and gives back.
    Byob {
        reader: ReadableStreamByobReader,
        buffer: ArrayBuffer,
    },
    Default(ReadableStreamDefaultReader),
}

impl BodyReader {
    pub(super) fn new(body: &ReadableStream) -> BodyReader {
        let options = ReadableStreamGetReaderOptions::new();
        options.set_mode(ReadableStreamReaderMode::Byob);
        match body.unchecked_ref::<Stream>().byob_reader(&options) {
            Ok(reader) => BodyReader::Byob {
                reader,
                buffer: ArrayBuffer::new(READ_BYTES),
            },
            // The failed call left the stream unlocked.
            Err(_) => BodyReader::Default(body.get_reader().unchecked_into()),
        }
    }

    /// The next read: a promise of `{ done, value }`.
    pub(super) fn read(&self) -> Promise {
        match self {
            BodyReader::Byob { reader, buffer } => {
                reader.read_with_array_buffer_view(&Uint8Array::new(buffer))
            }
            BodyReader::Default(reader) => reader.read(),
        }
    }

    /// What the promise of [`read`](Self::read) gave. A BYOB reader takes its buffer
    /// back from the bytes, so they are good until the next read.
    pub(super) fn took(&mut self, result: JsValue) -> Read {
        let result = result.unchecked_into::<ReadResult>();
        if result.done() {
            return Read::Done;
        }
        let Ok(bytes) = result.value().dyn_into::<Uint8Array>() else {
            return Read::NotBytes;
        };
        if let BodyReader::Byob { buffer, .. } = self {
            *buffer = bytes.buffer();
        }
        Read::Bytes(bytes)
    }
}
