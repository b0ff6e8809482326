# sse-wasm — developer commands. `make test` is what CI runs (via .ci/run).
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)

HOST ?= 127.0.0.1
PORT ?= 8080
# make fuzz: how long to fuzz, and where its (nightly, sanitized) build goes.
FUZZ_SECONDS ?= 60
FUZZ_TARGET_DIR ?= $(if $(CARGO_TARGET_DIR),$(CARGO_TARGET_DIR)/fuzz,fuzz/target)

.PHONY: all setup test server fmt clippy clean demo demo-cluster pkg bench fuzz help example-leptos example-yew

all: test

help:
	@echo "make demo     the live demo on http://$(HOST):$(PORT)/ (installs what is missing, builds the package)"
	@echo "make demo-cluster  the demo scaled out: Redis, two instances, nginx on http://$(HOST):$(PORT)/"
	@echo "make setup    install the toolchain (wasm32 target, chromium, wasm-bindgen-cli, wasm-pack)"
	@echo "make test     fmt + clippy + native tests + browser tests; ends with 'N passed, M failed'"
	@echo "make pkg      build the npm package into pkg/ (release, wasm-opt) and print its gzipped size"
	@echo "make bench    speed, size, memory and recovery against same-run baselines (target/bench.md)"
	@echo "make server   run the test server on HOST=$(HOST) PORT=$(PORT)"
	@echo "make fmt      format the workspace"
	@echo "make clippy   clippy, native and wasm32, warnings denied"
	@echo "make clean    remove build outputs"
	@echo "make fuzz     fuzz the event-stream parser for FUZZ_SECONDS=$(FUZZ_SECONDS) (nightly, cargo-fuzz)"
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
	bash scripts/clippy.sh

example-leptos:
	HOST=$(HOST) PORT=$(PORT) bash scripts/example.sh leptos_ticker

example-yew:
	HOST=$(HOST) PORT=$(PORT) bash scripts/example.sh yew_ticker

clean:
	cargo clean
	rm -rf pkg

# The corpus starts from the parser fixtures, each behind a header of two zero bytes
# (no size limit, no cuts: see fuzz/fuzz_targets/parser.rs).
fuzz:
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
	@mkdir -p fuzz/corpus/parser
	@for f in tests/fixtures/*.sse; do \
	  seed=fuzz/corpus/parser/seed-$$(basename $$f .sse); \
	  [ -e $$seed ] || { printf '\0\0'; cat $$f; } > $$seed; \
	done
	cargo +nightly fuzz run parser --target-dir $(FUZZ_TARGET_DIR) -- \
	  -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1

# The live demo: setup, the npm package, the server serving www/ on HOST:PORT.
demo:
	bash scripts/demo.sh --host $(HOST) --port $(PORT)

# The demo scaled out: Redis, two instances and nginx in front on HOST:PORT.
demo-cluster:
	bash scripts/demo-cluster.sh --host $(HOST) --port $(PORT)

pkg:
	bash scripts/pkg.sh

# Speed, size, memory and recovery against same-run baselines; the table goes to
# target/bench.md (see the README's Performance section).
bench:
	bash scripts/bench.sh
