//! The event-stream parser compiled to wasm and run in a real browser, against the
//! standard's algorithm transcribed plainly (`tests/support/reference.rs`).
//!
//! `tests/parser.rs` checks every rule natively. What only a wasm build runs is the
//! line search: sixteen bytes a step in two `u64`s by default, and 64-byte blocks of
//! 128-bit vectors when the app is built with `-C target-feature=+simd128`. The suite
//! runs once each way (`scripts/test.sh`); `SSE_PARSER_SEARCH`, set at build time, says
//! which search the build is meant to have, so that a run cannot test the other one
//! without noticing.
#![cfg(target_arch = "wasm32")]

#[path = "support/fragments.rs"]
mod fragments;
#[path = "support/reference.rs"]
mod reference;

use fragments::FRAGMENTS;
use reference::{own, reference, Owned};
use sse_wasm::parser::Parser;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// What the parser makes of `chunks`, fed in order and ended; it must not fail.
fn parse_chunks(chunks: &[&[u8]]) -> Vec<Owned> {
    let mut parser = Parser::new();
    let mut items = Vec::new();
    for chunk in chunks {
        parser
            .feed(chunk, |item| items.push(own(item)))
            .unwrap_or_else(|e| panic!("{e} in {chunks:?}"));
    }
    parser.finish();
    items
}

/// A fixed xorshift generator: every run tests the same streams.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `stream` cut into pieces of random sizes: single bytes, a few bytes, a line or so,
/// and long runs that hold several 64-byte blocks.
fn cut<'a>(stream: &'a [u8], random: &mut Random) -> Vec<&'a [u8]> {
    let mut chunks = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let n = match random.below(4) {
            0 => 1,
            1 => random.below(8),
            2 => random.below(200),
            _ => random.below(1000),
        }
        .min(rest.len());
        let (chunk, tail) = rest.split_at(n);
        chunks.push(chunk);
        rest = tail;
    }
    chunks
}

#[wasm_bindgen_test]
fn the_build_has_the_line_search_it_was_meant_to() {
    let simd128 = cfg!(target_feature = "simd128");
    match option_env!("SSE_PARSER_SEARCH") {
        Some("simd128") => assert!(simd128, "built without simd128"),
        Some("words") => assert!(!simd128, "built with simd128"),
        None => {}
        Some(other) => panic!("SSE_PARSER_SEARCH: expected simd128 or words, got {other:?}"),
    }
}

#[wasm_bindgen_test]
fn the_fixtures_parse_as_the_standard_says_however_they_are_cut() {
    let fixtures: [(&str, &[u8]); 7] = [
        ("basic-lf", include_bytes!("fixtures/basic-lf.sse")),
        ("basic-crlf", include_bytes!("fixtures/basic-crlf.sse")),
        ("basic-cr", include_bytes!("fixtures/basic-cr.sse")),
        ("basic-mixed", include_bytes!("fixtures/basic-mixed.sse")),
        ("full", include_bytes!("fixtures/full.sse")),
        ("bom", include_bytes!("fixtures/bom.sse")),
        ("unicode", include_bytes!("fixtures/unicode.sse")),
    ];
    let mut random = Random(0x9E37_79B9_7F4A_7C15);
    for (name, stream) in fixtures {
        let expected = reference(stream);
        assert!(!expected.is_empty(), "{name}: the fixture has no items");
        assert_eq!(parse_chunks(&[stream]), expected, "{name} in one chunk");
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(parse_chunks(&bytes), expected, "{name} byte by byte");
        for _ in 0..50 {
            let chunks = cut(stream, &mut random);
            assert_eq!(parse_chunks(&chunks), expected, "{name} in {chunks:?}");
        }
    }
}

/// Streams of the native property tests' pieces (field names, every line end, text
/// beyond ASCII, bytes that are never UTF-8, NUL), with whole fields and plain runs
/// long enough for either search's fast steps and for lines across 64-byte blocks, at
/// any offset from a step's or a block's start.
#[wasm_bindgen_test]
fn random_streams_parse_as_the_standard_says_however_they_are_cut() {
    let plain = [b'a'; 150];
    let mut pieces: Vec<&[u8]> = FRAGMENTS.to_vec();
    pieces.extend_from_slice(&[
        b"data: ",
        b"\n\n",
        b"0123456789abcdef",
        b"the quick brown fox jumps over the lazy dog, ",
        &plain,
        &plain[..61],
        b"\t\x0E\x7F\x0C\x8E",
        b"data: {\"seq\":1,\"type\":\"tick\",\"price\":101.25}\n",
        b"id: 7\ndata: done\n\n",
    ]);
    let mut random = Random(0x2545_F491_4F6C_DD1D);
    let mut events = 0;
    for _ in 0..3000 {
        let mut stream = Vec::new();
        for _ in 0..random.below(80) {
            stream.extend_from_slice(pieces[random.below(pieces.len())]);
        }
        let expected = reference(&stream);
        events += expected
            .iter()
            .filter(|item| matches!(item, Owned::Event { .. }))
            .count();
        assert_eq!(parse_chunks(&[&stream]), expected, "{stream:?}");
        let chunks = cut(&stream, &mut random);
        assert_eq!(parse_chunks(&chunks), expected, "{stream:?} in {chunks:?}");
    }
    assert!(events > 1000, "the streams dispatched only {events} events");
}
