//! The event-stream parser, natively: one test per rule of the standard (HTML §9.2.6),
//! the fixtures in `tests/fixtures/`, and properties over every way of cutting a stream
//! into chunks, checked against a plain transcription of the standard.

#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use proptest::sample::Index;
use sse_wasm::parser::{ParseError, Parser, DEFAULT_MAX_EVENT_SIZE};

// Shared with the fuzz target (fuzz/fuzz_targets/parser.rs).
#[path = "support/reference.rs"]
mod reference;
use reference::{own, reference, Owned};
#[path = "support/fragments.rs"]
mod fragments;
use fragments::FRAGMENTS;

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

fn event(event_type: &str, data: &str, id: Option<&str>) -> Owned {
    Owned::Event {
        event_type: event_type.to_owned(),
        data: data.to_owned(),
        id: id.map(str::to_owned),
    }
}

fn message(data: &str) -> Owned {
    event("message", data, None)
}

fn comment(text: &str) -> Owned {
    Owned::Comment(text.to_owned())
}

/// Everything one stream produced: its items and the first error, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Outcome {
    items: Vec<Owned>,
    error: Option<ParseError>,
}

/// Feeds `chunks` in order (going on after an error, as a careless caller would), then
/// ends the stream.
fn run<'a>(parser: &mut Parser, chunks: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
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

fn run_chunks(limit: usize, chunks: &[&[u8]]) -> Outcome {
    run(
        &mut Parser::with_max_event_size(limit),
        chunks.iter().copied(),
    )
}

/// The items of a stream fed in one chunk, which must not fail.
fn parse(stream: &[u8]) -> Vec<Owned> {
    let outcome = run(&mut Parser::new(), [stream]);
    assert_eq!(outcome.error, None);
    outcome.items
}

/// The same stream cut at `cuts` (sorted positions, repeats allowed: empty chunks).
fn split_at<'a>(stream: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut chunks = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for &cut in cuts {
        chunks.push(&stream[start..cut]);
        start = cut;
    }
    chunks.push(&stream[start..]);
    chunks
}

fn byte_by_byte(stream: &[u8]) -> Vec<&[u8]> {
    stream.chunks(1).collect()
}

/// Every chunking of `stream` into two and three pieces (empty ones included) and one
/// byte at a time gives `expected`.
fn assert_every_split(limit: usize, stream: &[u8], expected: &Outcome) {
    let n = stream.len();
    for i in 0..=n {
        assert_eq!(
            &run_chunks(limit, &split_at(stream, &[i])),
            expected,
            "cut at {i}"
        );
        for j in i..=n {
            assert_eq!(
                &run_chunks(limit, &split_at(stream, &[i, j])),
                expected,
                "cuts at {i}, {j}"
            );
        }
    }
    assert_eq!(
        &run_chunks(limit, &byte_by_byte(stream)),
        expected,
        "byte by byte"
    );
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const FIXTURES: [&str; 7] = [
    "basic-lf.sse",
    "basic-crlf.sse",
    "basic-cr.sse",
    "basic-mixed.sse",
    "full.sse",
    "bom.sse",
    "unicode.sse",
];

// ---------------------------------------------------------------------------------
// Dispatch, data and event type
// ---------------------------------------------------------------------------------

#[test]
fn an_event_without_an_event_field_is_a_message() {
    assert_eq!(parse(b"data: hello\n\n"), [message("hello")]);
}

#[test]
fn the_event_field_sets_the_type_of_one_event_only() {
    assert_eq!(
        parse(b"event: tick\ndata: 1\n\ndata: 2\n\n"),
        [event("tick", "1", None), message("2")]
    );
    // The last `event:` wins; an empty one means "message".
    assert_eq!(
        parse(b"event: a\nevent: b\ndata: x\n\nevent: a\nevent:\ndata: y\n\n"),
        [event("b", "x", None), message("y")]
    );
}

#[test]
fn data_lines_are_joined_with_lf_and_one_trailing_lf_is_removed() {
    assert_eq!(parse(b"data: a\ndata: b\n\n"), [message("a\nb")]);
    assert_eq!(parse(b"data: a\ndata\n\n"), [message("a\n")]);
    assert_eq!(parse(b"data\ndata\n\n"), [message("\n")]);
}

#[test]
fn an_empty_data_field_still_dispatches_an_event() {
    assert_eq!(parse(b"data\n\n"), [message("")]);
    assert_eq!(parse(b"data:\n\n"), [message("")]);
    assert_eq!(parse(b"data: \n\n"), [message("")]);
}

#[test]
fn a_blank_line_without_data_dispatches_nothing_and_resets_the_type() {
    assert_eq!(parse(b"event: lost\n\ndata: x\n\n"), [message("x")]);
    assert_eq!(parse(b"\n\n\r\n\r\r\n"), []);
}

#[test]
fn a_line_without_a_colon_is_a_field_name_with_an_empty_value() {
    // `event` alone sets an empty type, which is "message".
    assert_eq!(parse(b"event: x\nevent\ndata: y\n\n"), [message("y")]);
    let mut parser = Parser::new();
    parser.feed(b"id\n\n", |_| {}).unwrap();
    assert_eq!(parser.last_event_id(), Some(""));
}

#[test]
fn only_one_leading_space_is_removed_from_a_value() {
    assert_eq!(parse(b"data:x\n\n"), [message("x")]);
    assert_eq!(parse(b"data: x\n\n"), [message("x")]);
    assert_eq!(parse(b"data:  x \n\n"), [message(" x ")]);
    assert_eq!(parse(b"data:\tx\n\n"), [message("\tx")]);
    assert_eq!(
        parse(b"event:  padded\ndata: x\n\n"),
        [event(" padded", "x", None)]
    );
}

#[test]
fn the_first_colon_separates_name_and_value() {
    assert_eq!(parse(b"data: a: b:c\n\n"), [message("a: b:c")]);
    assert_eq!(parse(b"data::\n\n"), [message(":")]);
}

#[test]
fn field_names_are_exact_and_unknown_fields_are_ignored() {
    assert_eq!(
        parse(b"Data: a\nDATA: b\ndata : c\n data: d\ndatum: e\nfoo\n\n"),
        []
    );
    assert_eq!(parse(b"foo: bar\ndata: x\nbaz\n\n"), [message("x")]);
}

// ---------------------------------------------------------------------------------
// Comments
// ---------------------------------------------------------------------------------

#[test]
fn comments_are_reported_without_the_colon_and_one_space() {
    assert_eq!(
        parse(b": one\n:two\n:  three\n:\n: a: b\n"),
        [
            comment("one"),
            comment("two"),
            comment(" three"),
            comment(""),
            comment("a: b"),
        ]
    );
}

#[test]
fn a_comment_inside_an_event_does_not_interrupt_it() {
    assert_eq!(
        parse(b"data: a\n: ping\ndata: b\n\n"),
        [comment("ping"), message("a\nb")]
    );
}

// ---------------------------------------------------------------------------------
// Ids
// ---------------------------------------------------------------------------------

#[test]
fn an_id_belongs_to_its_event_and_every_later_one() {
    assert_eq!(
        parse(b"data: before\n\nid: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\n"),
        [
            event("message", "before", None),
            event("message", "a", Some("1")),
            event("message", "b", Some("1")),
            event("message", "c", Some("2")),
        ]
    );
}

#[test]
fn the_last_id_field_of_an_event_wins() {
    assert_eq!(
        parse(b"id: 1\ndata: x\nid: 2\n\n"),
        [event("message", "x", Some("2"))]
    );
}

#[test]
fn an_empty_id_resets_the_last_event_id() {
    let mut parser = Parser::new();
    let outcome = run(&mut parser, [&b"id: 1\ndata: a\n\nid:\ndata: b\n\n"[..]]);
    assert_eq!(
        outcome.items,
        [
            event("message", "a", Some("1")),
            event("message", "b", Some(""))
        ]
    );
    assert_eq!(parser.last_event_id(), Some(""));
}

#[test]
fn an_id_containing_nul_is_ignored() {
    assert_eq!(
        parse(b"id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n"),
        [
            event("message", "a", Some("1")),
            event("message", "b", Some("1"))
        ]
    );
}

#[test]
fn an_id_without_data_moves_the_last_event_id_but_dispatches_nothing() {
    let mut parser = Parser::new();
    let mut items = Vec::new();
    parser
        .feed(b"id: 5\n\n", |item| items.push(own(item)))
        .unwrap();
    assert_eq!(items, []);
    assert_eq!(parser.last_event_id(), Some("5"));
    parser
        .feed(b"data: next\n\n", |item| items.push(own(item)))
        .unwrap();
    assert_eq!(items, [event("message", "next", Some("5"))]);
}

#[test]
fn an_id_is_committed_only_by_a_blank_line() {
    let mut parser = Parser::new();
    parser.feed(b"id: 1\ndata: a\n\nid: 2\n", |_| {}).unwrap();
    assert_eq!(parser.last_event_id(), Some("1"));
    assert_eq!(parser.last_event_id_buffer(), Some("2"));
    parser.feed(b"\n", |_| {}).unwrap();
    assert_eq!(parser.last_event_id(), Some("2"));
}

#[test]
fn no_id_until_one_is_seen() {
    let parser = Parser::new();
    assert_eq!(parser.last_event_id(), None);
    assert_eq!(parser.last_event_id_buffer(), None);
    assert_eq!(parse(b"data: x\n\n"), [event("message", "x", None)]);
}

// ---------------------------------------------------------------------------------
// Retry
// ---------------------------------------------------------------------------------

#[test]
fn a_retry_of_digits_is_reported_when_its_line_ends() {
    // No blank line needed: the reconnection time is set as the line is read.
    assert_eq!(
        parse(b"retry: 3000\nretry:0\nretry: 007\n"),
        [Owned::Retry(3000), Owned::Retry(0), Owned::Retry(7)]
    );
    assert_eq!(
        parse(b"data: x\nretry: 10\n\n"),
        [Owned::Retry(10), message("x")]
    );
}

#[test]
fn a_retry_that_is_not_only_digits_is_ignored() {
    let stream = "retry\nretry:\nretry: \nretry:  5\nretry: 5 \nretry: 1s\nretry: -1\n\
                  retry: +1\nretry: 1.5\nretry: 1_000\nretry: ５\nRetry: 5\n";
    assert_eq!(parse(stream.as_bytes()), []);
}

#[test]
fn a_retry_too_large_for_u64_is_ignored() {
    let max = format!("retry: {}\n", u64::MAX);
    assert_eq!(parse(max.as_bytes()), [Owned::Retry(u64::MAX)]);
    assert_eq!(parse(b"retry: 18446744073709551616\n"), []);
    let huge = format!("retry: {}\nretry: 1\n", "9".repeat(10_000));
    assert_eq!(parse(huge.as_bytes()), [Owned::Retry(1)]);
    let zeros = format!("retry: {}42\n", "0".repeat(10_000));
    assert_eq!(parse(zeros.as_bytes()), [Owned::Retry(42)]);
}

// ---------------------------------------------------------------------------------
// Line ends
// ---------------------------------------------------------------------------------

#[test]
fn lf_crlf_and_cr_end_lines_alike() {
    let expected = [event("t", "a\nb", Some("1")), comment("c")];
    assert_eq!(
        parse(b"event: t\nid: 1\ndata: a\ndata: b\n\n: c\n"),
        expected
    );
    assert_eq!(
        parse(b"event: t\r\nid: 1\r\ndata: a\r\ndata: b\r\n\r\n: c\r\n"),
        expected
    );
    assert_eq!(
        parse(b"event: t\rid: 1\rdata: a\rdata: b\r\r: c\r"),
        expected
    );
    assert_eq!(
        parse(b"event: t\rid: 1\r\ndata: a\ndata: b\r\n\r: c\n"),
        expected
    );
}

#[test]
fn cr_and_lf_in_separate_chunks_are_one_line_end() {
    // Were they two, the LF would be a blank line dispatching "a" alone.
    let outcome = run_chunks(
        DEFAULT_MAX_EVENT_SIZE,
        &[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"],
    );
    assert_eq!(outcome.items, [message("a\nb")]);
    // Empty chunks in between change nothing.
    let outcome = run_chunks(DEFAULT_MAX_EVENT_SIZE, &[b"data: a\r", b"", b"", b"\n\n"]);
    assert_eq!(outcome.items, [message("a")]);
}

#[test]
fn a_cr_at_a_chunk_end_followed_by_anything_else_is_a_line_end() {
    let outcome = run_chunks(DEFAULT_MAX_EVENT_SIZE, &[b"data: a\r", b"data: b\r", b"\r"]);
    assert_eq!(outcome.items, [message("a\nb")]);
}

#[test]
fn cr_cr_and_lf_cr_are_two_line_ends() {
    assert_eq!(parse(b"data: a\r\r"), [message("a")]);
    assert_eq!(parse(b"data: a\n\r"), [message("a")]);
    assert_eq!(parse(b"data: a\r\n\r\n"), [message("a")]);
    // CR LF LF: a line end, then a blank line.
    assert_eq!(parse(b"data: a\r\n\n"), [message("a")]);
}

// ---------------------------------------------------------------------------------
// Byte order mark
// ---------------------------------------------------------------------------------

const BOM: &[u8] = b"\xEF\xBB\xBF";

#[test]
fn a_leading_bom_is_stripped() {
    assert_eq!(parse(b"\xEF\xBB\xBFdata: x\n\n"), [message("x")]);
    assert_eq!(parse(b"\xEF\xBB\xBF: c\n"), [comment("c")]);
}

#[test]
fn a_bom_split_across_chunks_is_stripped() {
    let stream = b"\xEF\xBB\xBFdata: x\n\n";
    let expected = Outcome {
        items: vec![message("x")],
        error: None,
    };
    assert_every_split(DEFAULT_MAX_EVENT_SIZE, stream, &expected);
}

#[test]
fn only_one_bom_is_stripped() {
    // The second one starts the first line, whose field name is then not "data".
    assert_eq!(
        parse(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\ndata: y\n\n"),
        [message("y")]
    );
    assert_eq!(
        parse(b"\xEF\xBB\xBFdata: \xEF\xBB\xBFx\n\n"),
        [message("\u{feff}x")]
    );
}

#[test]
fn a_bom_later_in_the_stream_is_not_stripped() {
    let mut stream = b"data: a\n\n".to_vec();
    stream.extend_from_slice(BOM);
    stream.extend_from_slice(b"data: b\n\n");
    assert_eq!(parse(&stream), [message("a")]);
    // A stream that is empty at first has not started: its first bytes may still be one.
    let outcome = run_chunks(DEFAULT_MAX_EVENT_SIZE, &[b"", b"\xEF\xBB\xBFdata: c\n\n"]);
    assert_eq!(outcome.items, [message("c")]);
}

#[test]
fn the_start_of_a_bom_that_does_not_finish_is_ordinary_bytes() {
    let stream = b"\xEF\xBBdata: x\n\ndata: y\n\n";
    assert_eq!(parse(stream), [message("y")]);
    assert_eq!(parse(stream), reference(stream));
    assert_every_split(
        DEFAULT_MAX_EVENT_SIZE,
        stream,
        &Outcome {
            items: vec![message("y")],
            error: None,
        },
    );
    assert_eq!(parse(b"\xEF\n: after\n"), [comment("after")]);
    assert_eq!(parse(b"\xEF\xBB"), []);
}

// ---------------------------------------------------------------------------------
// UTF-8
// ---------------------------------------------------------------------------------

#[test]
fn utf8_split_anywhere_decodes_whole() {
    let stream = "event: tëst\nid: ключ\ndata: é € 🦀 漢\n\n: コメント\n".as_bytes();
    let expected = Outcome {
        items: vec![
            event("tëst", "é € 🦀 漢", Some("ключ")),
            comment("コメント"),
        ],
        error: None,
    };
    assert_eq!(run_chunks(DEFAULT_MAX_EVENT_SIZE, &[stream]), expected);
    assert_every_split(DEFAULT_MAX_EVENT_SIZE, stream, &expected);
}

#[test]
fn invalid_utf8_becomes_replacement_characters() {
    assert_eq!(parse(b"data: a\xFFb\n\n"), [message("a\u{FFFD}b")]);
    // A truncated sequence is one replacement; bytes that can never start one are one
    // each (the WHATWG decoder's rule, and Rust's).
    assert_eq!(parse(b"data: \xF0\x9F\xA6\n\n"), [message("\u{FFFD}")]);
    assert_eq!(parse(b"data: \xC0\xAF\n\n"), [message("\u{FFFD}\u{FFFD}")]);
    assert_eq!(
        parse(b"event: \xFE\nid: \x80\ndata: x\n\n:\xE2\x82\n"),
        [
            event("\u{FFFD}", "x", Some("\u{FFFD}")),
            comment("\u{FFFD}")
        ]
    );
}

#[test]
fn a_sequence_cut_by_a_line_end_is_not_joined_across_it() {
    // E2 82 AC is "€"; with an LF inside it is two broken pieces, as when decoding
    // the whole stream first.
    let stream = b"data: \xE2\x82\ndata: \xAC\n\n";
    assert_eq!(parse(stream), [message("\u{FFFD}\n\u{FFFD}")]);
    assert_eq!(parse(stream), reference(stream));
}

// ---------------------------------------------------------------------------------
// End of stream
// ---------------------------------------------------------------------------------

#[test]
fn finish_discards_an_undispatched_event() {
    let mut parser = Parser::new();
    let outcome = run(&mut parser, [&b"data: a\n"[..]]);
    assert_eq!(outcome.items, []);
    // The next stream starts clean: "a" is not prepended to "b".
    let outcome = run(&mut parser, [&b"data: b\n\n"[..]]);
    assert_eq!(outcome.items, [message("b")]);
}

#[test]
fn finish_discards_an_unterminated_line() {
    for tail in [
        &b"data: x"[..],
        b"retry: 5",
        b"id: 9",
        b": comment",
        b"event: t",
    ] {
        let mut parser = Parser::new();
        let outcome = run(&mut parser, [tail]);
        assert_eq!(outcome.items, [], "{tail:?}");
        let outcome = run(&mut parser, [&b"\n\ndata: y\n\n"[..]]);
        assert_eq!(outcome.items, [message("y")], "{tail:?}");
        assert_eq!(parser.last_event_id(), None, "{tail:?}");
    }
}

#[test]
fn finish_carries_the_dispatched_id_into_the_next_stream() {
    let mut parser = Parser::new();
    run(&mut parser, [&b"id: 1\ndata: a\n\nid: 2\ndata: cut"[..]]);
    // Event 2 never arrived, so its id is forgotten: a reconnect resumes after 1.
    assert_eq!(parser.last_event_id(), Some("1"));
    assert_eq!(parser.last_event_id_buffer(), Some("1"));
    let outcome = run(&mut parser, [&b"data: b\n\n"[..]]);
    assert_eq!(outcome.items, [event("message", "b", Some("1"))]);
}

#[test]
fn finish_rearms_the_bom() {
    let mut parser = Parser::new();
    run(&mut parser, [&b"\xEF\xBB\xBFdata: a\n\n"[..]]);
    let outcome = run(&mut parser, [&b"\xEF\xBB\xBFdata: b\n\n"[..]]);
    assert_eq!(outcome.items, [message("b")]);
}

// ---------------------------------------------------------------------------------
// Size limit
// ---------------------------------------------------------------------------------

#[test]
fn the_default_limit_is_64_mib() {
    assert_eq!(DEFAULT_MAX_EVENT_SIZE, 64 * 1024 * 1024);
    assert_eq!(Parser::new().max_event_size(), DEFAULT_MAX_EVENT_SIZE);
    assert_eq!(Parser::default().max_event_size(), DEFAULT_MAX_EVENT_SIZE);
    assert_eq!(Parser::with_max_event_size(10).max_event_size(), 10);

    // The buffered first line (half - 5 bytes) plus the second line (half + 5) reach the
    // limit exactly and pass; one byte more fails.
    let half = DEFAULT_MAX_EVENT_SIZE / 2;
    let fits = format!(
        "data:{}\ndata:{}\n\n",
        "a".repeat(half - 6),
        "b".repeat(half)
    );
    let outcome = run_chunks(DEFAULT_MAX_EVENT_SIZE, &[fits.as_bytes()]);
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.items.len(), 1);
    let over = format!(
        "data:{}\ndata:{}\n\n",
        "a".repeat(half - 6),
        "b".repeat(half + 1)
    );
    let outcome = run_chunks(DEFAULT_MAX_EVENT_SIZE, &[over.as_bytes()]);
    assert_eq!(
        outcome.error,
        Some(ParseError::EventTooLarge {
            limit: DEFAULT_MAX_EVENT_SIZE
        })
    );
    assert_eq!(outcome.items, []);
}

#[test]
fn the_limit_counts_the_data_buffer_plus_the_current_line() {
    // "data: aaaa" is 10 bytes and leaves 5 ("aaaa\n") in the data buffer.
    let limit = 16;
    let ok = run_chunks(limit, &[b"data: aaaa\ndata: bbbb\n\n"]);
    assert_eq!(
        ok,
        Outcome {
            items: vec![message("aaaa\nbbbb")],
            error: None
        }
    );
    // 10 buffered + a 7-byte line: 17.
    let over = run_chunks(limit, &[b"data: aaaa\ndata: bbbb\ndata: c\n\n"]);
    assert_eq!(over.error, Some(ParseError::EventTooLarge { limit }));
    assert_eq!(over.items, []);
    // Dispatching empties the buffer, so the limit is per event.
    let many = "data: 0123456789\n\n".repeat(100);
    let outcome = run_chunks(limit, &[many.as_bytes()]);
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.items.len(), 100);
}

#[test]
fn the_limit_bounds_any_single_line() {
    let limit = 32;
    let long_comment = format!(":{}\n", "c".repeat(limit));
    assert!(run_chunks(limit, &[long_comment.as_bytes()])
        .error
        .is_some());
    // A line whose end has not arrived fails as soon as it is too long.
    let mut parser = Parser::with_max_event_size(limit);
    assert!(parser.feed(&[b'x'; 20], |_| {}).is_ok());
    assert_eq!(
        parser.feed(&[b'x'; 20], |_| {}),
        Err(ParseError::EventTooLarge { limit })
    );
}

#[test]
fn items_before_the_oversized_line_are_delivered() {
    let limit = 24;
    let stream = format!(
        ": hi\nretry: 5\ndata: ok\n\ndata: {}\n\n",
        "x".repeat(limit)
    );
    let expected = Outcome {
        items: vec![comment("hi"), Owned::Retry(5), message("ok")],
        error: Some(ParseError::EventTooLarge { limit }),
    };
    assert_eq!(run_chunks(limit, &[stream.as_bytes()]), expected);
    assert_every_split(limit, stream.as_bytes(), &expected);
}

#[test]
fn a_failed_parser_keeps_failing_until_finish() {
    let limit = 8;
    let mut parser = Parser::with_max_event_size(limit);
    let error = Err(ParseError::EventTooLarge { limit });
    assert_eq!(parser.feed(b"data: too long\n", |_| {}), error);
    let mut items = Vec::new();
    assert_eq!(parser.feed(b"data: a\n\n", |i| items.push(own(i))), error);
    assert_eq!(items, []);
    parser.finish();
    assert_eq!(parser.feed(b"data: a\n\n", |i| items.push(own(i))), Ok(()));
    assert_eq!(items, [message("a")]);
}

#[test]
fn the_error_says_what_happened() {
    let error = ParseError::EventTooLarge { limit: 1024 };
    assert_eq!(
        error.to_string(),
        "event stream: an event exceeded the limit of 1024 bytes"
    );
    let _: &dyn std::error::Error = &error;
}

#[test]
fn a_zero_limit_allows_only_blank_lines() {
    assert_eq!(run_chunks(0, &[b"\n\r\n\r"]).error, None);
    assert!(run_chunks(0, &[b"d"]).error.is_some());
}

// ---------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------

fn basic_events() -> Vec<Owned> {
    vec![
        message("hello"),
        event("greeting", "bonjour\nhola", None),
        message("no space\n two spaces"),
        event("tick", "{\"n\":1}", Some("42")),
        event("message", "inherits the id", Some("42")),
    ]
}

#[test]
fn fixture_basic_is_the_same_with_lf_crlf_cr_and_mixed_line_ends() {
    for name in [
        "basic-lf.sse",
        "basic-crlf.sse",
        "basic-cr.sse",
        "basic-mixed.sse",
    ] {
        assert_eq!(parse(&fixture(name)), basic_events(), "{name}");
    }
    // The files really differ in their line ends (no checkout converted them).
    let lf = fixture("basic-lf.sse");
    assert!(!lf.contains(&b'\r'));
    assert_eq!(fixture("basic-crlf.sse"), crlf(&lf));
    assert_eq!(fixture("basic-cr.sse"), cr(&lf));
    let mixed = fixture("basic-mixed.sse");
    assert!(mixed.windows(2).any(|w| w == b"\r\n"));
    assert!(mixed.windows(2).any(|w| w[0] == b'\r' && w[1] != b'\n'));
    assert!(mixed.windows(2).any(|w| w[0] != b'\r' && w[1] == b'\n'));
}

fn crlf(lf: &[u8]) -> Vec<u8> {
    lf.iter()
        .flat_map(|&b| {
            if b == b'\n' {
                vec![b'\r', b'\n']
            } else {
                vec![b]
            }
        })
        .collect()
}

fn cr(lf: &[u8]) -> Vec<u8> {
    lf.iter()
        .map(|&b| if b == b'\n' { b'\r' } else { b })
        .collect()
}

fn full_items() -> Vec<Owned> {
    vec![
        comment("welcome to the stream"),
        Owned::Retry(2500),
        comment("heartbeat"),
        event("order", "{\n  \"qty\": 3\n}", Some("a-1")),
        event("message", "", Some("a-2")),
        comment("a comment inside an event"),
        Owned::Retry(1000),
        event("message", "after a bare id\nx", Some("a-3")),
        event("message", "cleared id", Some("")),
        event("message", "nul ignored", Some("")),
        // "cut off at the end" has no blank line: discarded.
    ]
}

#[test]
fn fixture_full_comments_multiline_data_ids_and_retry() {
    let stream = fixture("full.sse");
    let mut parser = Parser::new();
    let outcome = run(&mut parser, [&stream[..]]);
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.items, full_items());
    assert_eq!(parser.last_event_id(), Some(""));
    // The same stream with CRLF and CR line ends.
    assert_eq!(parse(&crlf(&stream)), full_items());
    assert_eq!(parse(&cr(&stream)), full_items());
}

#[test]
fn fixture_bom() {
    let stream = fixture("bom.sse");
    assert!(stream.starts_with(BOM));
    assert_eq!(
        parse(&stream),
        [
            message("after the bom"),
            message("\u{feff}a second bom is data")
        ]
    );
    assert_eq!(parse(&crlf(&stream)), parse(&stream));
}

#[test]
fn fixture_unicode() {
    let stream = fixture("unicode.sse");
    let expected = vec![
        event(
            "ünïcödé",
            "2 bytes: é, 3 bytes: €, 4 bytes: 🦀\n漢字かな",
            Some("ключ-7"),
        ),
        comment("コメント"),
        event(
            "message",
            "bad \u{FFFD} byte, truncated \u{FFFD}\nlone continuation \u{FFFD} and overlong \u{FFFD}\u{FFFD}",
            Some("ключ-7"),
        ),
    ];
    assert_eq!(parse(&stream), expected);
    assert_eq!(parse(&cr(&stream)), expected);
}

#[test]
fn every_fixture_agrees_with_the_reference() {
    for name in FIXTURES {
        let stream = fixture(name);
        assert_eq!(parse(&stream), reference(&stream), "{name}");
    }
}

#[test]
fn every_two_and_three_way_split_of_every_fixture_parses_the_same() {
    for name in FIXTURES {
        let stream = fixture(name);
        let whole = run_chunks(DEFAULT_MAX_EVENT_SIZE, &[&stream]);
        assert_every_split(DEFAULT_MAX_EVENT_SIZE, &stream, &whole);
    }
}

// ---------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------

const LINE_ENDS: &[&[u8]] = &[b"\n", b"\r", b"\r\n"];

fn sse_like() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..80).prop_map(|pieces| pieces.concat())
}

fn any_stream() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![sse_like(), prop::collection::vec(any::<u8>(), 0..300)]
}

fn cut_points(stream_len: usize, picks: &[Index]) -> Vec<usize> {
    let mut cuts: Vec<usize> = picks.iter().map(|i| i.index(stream_len + 1)).collect();
    cuts.sort_unstable();
    cuts
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn any_chunking_parses_like_one_chunk(
        stream in any_stream(),
        picks in prop::collection::vec(any::<Index>(), 0..12),
    ) {
        let whole = run_chunks(DEFAULT_MAX_EVENT_SIZE, &[&stream]);
        let chunks = split_at(&stream, &cut_points(stream.len(), &picks));
        prop_assert_eq!(&run_chunks(DEFAULT_MAX_EVENT_SIZE, &chunks), &whole);
        prop_assert_eq!(&run_chunks(DEFAULT_MAX_EVENT_SIZE, &byte_by_byte(&stream)), &whole);
    }

    #[test]
    fn the_parser_agrees_with_the_reference(stream in any_stream()) {
        prop_assert_eq!(parse(&stream), reference(&stream));
    }

    #[test]
    fn under_any_limit_chunking_changes_nothing(
        stream in sse_like(),
        limit in 0usize..48,
        picks in prop::collection::vec(any::<Index>(), 0..12),
    ) {
        let whole = run_chunks(limit, &[&stream]);
        let chunks = split_at(&stream, &cut_points(stream.len(), &picks));
        prop_assert_eq!(&run_chunks(limit, &chunks), &whole);
        prop_assert_eq!(&run_chunks(limit, &byte_by_byte(&stream)), &whole);
        // Until it fails, the parser delivers what an unlimited one does.
        let unlimited = parse(&stream);
        prop_assert!(unlimited.starts_with(&whole.items));
        if whole.error.is_none() {
            prop_assert_eq!(&whole.items, &unlimited);
        }
    }

    #[test]
    fn line_ends_are_interchangeable(
        lines in prop::collection::vec(
            prop::collection::vec(prop::sample::select(FRAGMENTS), 0..6),
            0..30,
        ),
        ends in prop::collection::vec(prop::sample::select(LINE_ENDS), 30),
    ) {
        // Lines without line ends of their own, so that each gets exactly one.
        let lines: Vec<Vec<u8>> = lines
            .iter()
            .map(|pieces| pieces.concat().into_iter().filter(|b| *b != b'\n' && *b != b'\r').collect())
            .collect();
        let mut with_lf = Vec::new();
        let mut with_any = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            with_lf.extend_from_slice(line);
            with_lf.push(b'\n');
            with_any.extend_from_slice(line);
            // CR then an empty line ended by LF would read as one CRLF: fall back to LF.
            let next_is_blank_lf = lines.get(i + 1).is_some_and(|l| l.is_empty()) && ends[(i + 1) % ends.len()] == b"\n";
            let end = if ends[i % ends.len()] == b"\r" && next_is_blank_lf { &b"\n"[..] } else { ends[i % ends.len()] };
            with_any.extend_from_slice(end);
        }
        prop_assert_eq!(parse(&with_any), parse(&with_lf));
    }
}
