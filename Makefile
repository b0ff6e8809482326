# sse-wasm — developer commands. `make test` is what CI runs (via .ci/run).
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)

HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: all setup test server fmt clippy clean demo pkg bench help

all: test

help:
	@echo "make setup    install the toolchain (wasm32 target, chromium, wasm-bindgen-cli, wasm-pack)"
	@echo "make test     fmt + clippy + native tests + browser tests; ends with 'N passed, M failed'"
	@echo "make pkg      build the npm package into pkg/ (release, wasm-opt) and print its gzipped size"
	@echo "make server   run the test server on HOST=$(HOST) PORT=$(PORT)"
	@echo "make fmt      format the workspace"
	@echo "make clippy   clippy, native and wasm32, warnings denied"
	@echo "make clean    remove build outputs"

setup:
	bash scripts/setup.sh

test:
	bash scripts/test.sh

server:
	cargo run -p sse-server -- --host $(HOST) --port $(PORT)

fmt:
	cargo fmt --all

clippy:
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p sse-wasm --all-targets --target wasm32-unknown-unknown -- -D warnings

clean:
	cargo clean
	rm -rf pkg

demo:
	@echo "make demo: not yet implemented (later issue: the demo page)" >&2; exit 1

pkg:
	bash scripts/pkg.sh

bench:
	@echo "make bench: not yet implemented (later issue: benchmarks)" >&2; exit 1
