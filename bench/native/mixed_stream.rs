//! The parser benchmarks' workload: a deterministic event stream of mixed shapes.
//!
//! Shared by the native criterion bench (`bench/native/parser.rs`) and the browser bench
//! (`bench/wasm`, by `#[path]`), so that both parse exactly the same bytes. No
//! dependencies: a fixed xorshift generator keeps the stream identical on every run
//! and every target.

/// A stream of at least `target_len` bytes, ending on an event boundary.
///
/// The mix, by event: about 70% short JSON events with an id, 15% long events
/// (several `data:` lines, 1 to 4 KiB), 10% comment lines (heartbeats), 5% typed
/// events with a `retry:` field. Every fourth event uses CRLF line ends, the rest LF.
pub fn mixed_stream(target_len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(target_len + 8 * 1024);
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut seq: u64 = 0;
    while out.len() < target_len {
        seq += 1;
        let eol: &[u8] = if seq & 3 == 0 { b"\r\n" } else { b"\n" };
        let line = |out: &mut Vec<u8>, parts: &[&[u8]]| {
            for part in parts {
                out.extend_from_slice(part);
            }
            out.extend_from_slice(eol);
        };
        let seq_text = seq.to_string();
        match rng.next() % 100 {
            0..=69 => {
                line(&mut out, &[b"id: ", seq_text.as_bytes()]);
                line(
                    &mut out,
                    &[
                        b"data: {\"seq\":",
                        seq_text.as_bytes(),
                        b",\"type\":\"tick\",\"price\":101.25,\"symbol\":\"SSEW\"}",
                    ],
                );
            }
            70..=84 => {
                let lines = 8 + (rng.next() % 25) as usize;
                line(&mut out, &[b"event: document"]);
                for n in 0..lines {
                    let width = 96 + (rng.next() % 64) as usize;
                    let filler = vec![b'a' + (n % 26) as u8; width];
                    line(&mut out, &[b"data: ", &filler]);
                }
            }
            85..=94 => {
                line(&mut out, &[b": keep-alive ", seq_text.as_bytes()]);
                continue;
            }
            _ => {
                line(&mut out, &[b"retry: 3000"]);
                line(&mut out, &[b"event: notice"]);
                line(&mut out, &[b"id: ", seq_text.as_bytes()]);
                line(&mut out, &[b"data: notice ", seq_text.as_bytes()]);
            }
        }
        out.extend_from_slice(eol);
    }
    out
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}
