//! The pieces random streams are made of, for the parser's property tests natively
//! (`tests/parser.rs`) and in wasm (`tests/browser_parser.rs`).

/// Pieces that make streams the parser has to think about: field names, colons and
/// spaces, every line end, BOMs, multi-byte and broken UTF-8, NUL and digits.
pub const FRAGMENTS: &[&[u8]] = &[
    b"data",
    b"event",
    b"id",
    b"retry",
    b"dat",
    b":",
    b": ",
    b" ",
    b"\n",
    b"\n",
    b"\r",
    b"\r\n",
    b"x",
    b"12",
    b"99999999999999999999",
    b"\0",
    b"\xEF\xBB\xBF",
    b"\xEF\xBB",
    "é".as_bytes(),
    "€".as_bytes(),
    "🦀".as_bytes(),
    b"\xF0\x9F",
    b"\xFF",
    b"\x80",
];
