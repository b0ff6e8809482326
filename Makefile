# sse-wasm — developer commands. `make test` is what CI runs (via .ci/run).
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)

HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: all setup test server fmt clippy clean demo pkg bench help example-leptos example-yew

all: test

help:
	@echo "make setup    install the toolchain (wasm32 target, chromium, wasm-bindgen-cli, wasm-pack)"
	@echo "make test     fmt + clippy + native tests + browser tests; ends with 'N passed, M failed'"
	@echo "make server   run the test server on HOST=$(HOST) PORT=$(PORT)"
	@echo "make fmt      format the workspace"
	@echo "make clippy   clippy, native and wasm32, warnings denied"
	@echo "make clean    remove build outputs"
	@echo "make example-leptos / make example-yew"
	@echo "              build a live ticker example and serve it on HOST=$(HOST) PORT=$(PORT)"

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
	cargo clippy -p sse-wasm --all-targets --features leptos,leptos/csr --target wasm32-unknown-unknown -- -D warnings
	cargo clippy -p sse-wasm --all-targets --features yew,yew/csr --target wasm32-unknown-unknown -- -D warnings

example-leptos:
	HOST=$(HOST) PORT=$(PORT) bash scripts/example.sh leptos_ticker

example-yew:
	HOST=$(HOST) PORT=$(PORT) bash scripts/example.sh yew_ticker

clean:
	cargo clean
	rm -rf pkg

demo:
	@echo "make demo: not yet implemented (later issue: the demo page)" >&2; exit 1

pkg:
	@echo "make pkg: not yet implemented (later issue: the npm package)" >&2; exit 1

bench:
	@echo "make bench: not yet implemented (later issue: benchmarks)" >&2; exit 1
