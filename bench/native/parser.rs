//! Row 2a of `make bench`: the event-stream parser natively, against a same-run
//! baseline.
//!
//! Both functions read the same 64 MiB mixed stream (`mixed_stream.rs`, the
//! bytes the browser bench parses too) in 64 KiB chunks, as a network read hands them
//! over:
//!
//! - `sse-wasm`: [`sse_wasm::parser::Parser`], counting the events it dispatches;
//! - `memchr-lines`: the baseline, a split of the chunks into lines with
//!   `memchr::memchr2(b'\n', b'\r', ..)` and nothing else: the ceiling of any
//!   line-based parser.
//!
//! `cargo bench --bench parser -- --noplot`, then `node bench/criterion-summary.mjs`
//! turns criterion's estimates into MB/s. Knobs, for smoke runs and profiling:
//!
//! - `BENCH_QUICK=1`: a shorter warm-up and measurement;
//! - `BENCH_PARSER_MIB=N`: an N MiB stream instead of 64.
//!
//! Criterion does not build for wasm32, so there this is an empty program.

#[cfg(not(target_arch = "wasm32"))]
#[path = "mixed_stream.rs"]
mod mixed_stream;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::hint::black_box;
    use std::time::Duration;

    use criterion::{criterion_group, Criterion, SamplingMode, Throughput};
    use sse_wasm::parser::{Item, Parser};

    use crate::mixed_stream::mixed_stream;

    /// The size of one read, as a network read would hand the body over.
    const CHUNK: usize = 64 * 1024;

    fn stream_len() -> usize {
        let mib = std::env::var("BENCH_PARSER_MIB")
            .ok()
            .and_then(|value| value.parse::<usize>().ok())
            .filter(|&mib| mib > 0)
            .unwrap_or(64);
        mib * 1024 * 1024
    }

    fn quick() -> bool {
        std::env::var("BENCH_QUICK").is_ok_and(|value| value == "1")
    }

    /// The events our parser dispatches from `bytes`, read in chunks.
    fn parse(bytes: &[u8]) -> u64 {
        let mut parser = Parser::new();
        let mut events = 0u64;
        for chunk in bytes.chunks(CHUNK) {
            parser
                .feed(chunk, |item| {
                    if let Item::Event(event) = item {
                        black_box(event);
                        events += 1;
                    }
                })
                .expect("the mixed stream stays within the event size limit");
        }
        parser.finish();
        events
    }

    /// The line ends in `bytes`, read in the same chunks: the baseline.
    fn memchr_lines(bytes: &[u8]) -> u64 {
        let mut lines = 0u64;
        for chunk in bytes.chunks(CHUNK) {
            let mut rest = chunk;
            while let Some(end) = memchr::memchr2(b'\n', b'\r', rest) {
                black_box(&rest[..end]);
                lines += 1;
                rest = &rest[end + 1..];
            }
        }
        lines
    }

    /// The events the stream holds, counted without the parser: one per blank line.
    /// The generator ends every event with a blank line of its own line end and puts no
    /// blank line anywhere else (a comment is not followed by one).
    fn expected_events(bytes: &[u8]) -> u64 {
        let lf = memchr::memmem::find_iter(bytes, b"\n\n").count();
        let crlf = memchr::memmem::find_iter(bytes, b"\r\n\r\n").count();
        (lf + crlf) as u64
    }

    fn parser(c: &mut Criterion) {
        let bytes = mixed_stream(stream_len());
        let expected = expected_events(&bytes);
        assert!(expected > 0, "the mixed stream holds no event");
        // Checked once before timing, so a broken parser cannot make a fast figure.
        assert_eq!(parse(&bytes), expected, "events dispatched by the parser");

        let mut group = c.benchmark_group("parser");
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        // Tens of milliseconds an iteration: the same few iterations per sample.
        group.sampling_mode(SamplingMode::Flat);
        group.bench_function("sse-wasm", |b| b.iter(|| parse(black_box(&bytes))));
        group.bench_function("memchr-lines", |b| {
            b.iter(|| memchr_lines(black_box(&bytes)))
        });
        group.finish();
    }

    fn config() -> Criterion {
        let (warm_up, measurement) = if quick() {
            (Duration::from_millis(300), Duration::from_secs(1))
        } else {
            (Duration::from_secs(2), Duration::from_secs(5))
        };
        Criterion::default()
            .sample_size(10)
            .warm_up_time(warm_up)
            .measurement_time(measurement)
    }

    criterion_group! {
        name = benches;
        config = config();
        targets = parser
    }

    pub fn main() {
        benches();
        Criterion::default().configure_from_args().final_summary();
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    native::main();
}

#[cfg(target_arch = "wasm32")]
fn main() {}
