//! Arbitrary bytes, cut into chunks at points the fuzzer picks, must parse exactly as
//! the same bytes in one chunk, and one byte at a time, under any size limit; without a
//! limit they must parse as the standard's plain transcription does. Any panic fails.
//!
//! Input layout, so that the fuzzer steers the cuts and the limit:
//! `[limit byte] [cut count] [cut count × u16 LE positions] [stream bytes...]`.
//! A limit byte below 128 means no limit; 128 + n means a limit of n bytes, small enough
//! that the error path is reached often.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sse_wasm::parser::{ParseError, Parser};

#[path = "../../tests/support/reference.rs"]
mod reference;
use reference::{own, reference, Owned};

#[derive(Debug, PartialEq)]
struct Outcome {
    items: Vec<Owned>,
    error: Option<ParseError>,
}

fn run<'a>(limit: usize, chunks: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
    let mut parser = Parser::with_max_event_size(limit);
    let mut items = Vec::new();
    let mut error = None;
    for chunk in chunks {
        if let Err(e) = parser.feed(chunk, |item| items.push(own(item))) {
            error.get_or_insert(e);
        }
    }
    parser.finish();
    Outcome { items, error }
}

fuzz_target!(|input: &[u8]| {
    let Some((&limit_byte, rest)) = input.split_first() else {
        return;
    };
    let Some((&cut_count, rest)) = rest.split_first() else {
        return;
    };
    let header = (usize::from(cut_count % 16) * 2).min(rest.len());
    let (cut_bytes, stream) = rest.split_at(header);
    let mut cuts: Vec<usize> = cut_bytes
        .chunks_exact(2)
        .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])) % (stream.len() + 1))
        .collect();
    cuts.sort_unstable();
    let limit = if limit_byte < 128 {
        usize::MAX
    } else {
        usize::from(limit_byte - 128)
    };

    let mut chunks = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for &cut in &cuts {
        chunks.push(&stream[start..cut]);
        start = cut;
    }
    chunks.push(&stream[start..]);

    let whole = run(limit, [stream]);
    assert_eq!(run(limit, chunks), whole, "cut at {cuts:?}");
    assert_eq!(run(limit, stream.chunks(1)), whole, "byte by byte");

    let unlimited = run(usize::MAX, [stream]);
    assert_eq!(unlimited.error, None);
    assert_eq!(unlimited.items, reference(stream));
    // A limit only ever stops the stream early.
    assert!(unlimited.items.starts_with(&whole.items));
    if whole.error.is_none() {
        assert_eq!(whole.items, unlimited.items);
    }
    // The limit counts raw bytes; decoding turns one invalid byte into at most three.
    for item in &whole.items {
        if let Owned::Event { data, .. } = item {
            assert!(
                data.len() <= limit.saturating_mul(3),
                "{} bytes over {limit}",
                data.len()
            );
        }
    }
});
