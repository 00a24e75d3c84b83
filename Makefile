# Trawl: the two commands a new user needs are `make run` and `make test`.
SHELL := /bin/bash
ADDR ?= 127.0.0.1:6390
# The release build of `make run`, also run by docker/build.sh (`make
# docker-build`): one cargo call with one package set compiles every
# dependency with the same features, so the image reuses what `make run` built.
RELEASE_BINS = cargo build --release -p trawl-server -p trawl-client --bin trawl --bin trawl-load
DATA_DIR ?= data

.PHONY: run setup build test test-rust test-python test-docker docker-build lint fmt bench-encode eval clean

## run: set up (offline model export, ONNX Runtime), build release, serve on $(ADDR)
run: setup
	$(RELEASE_BINS)
	./target/release/trawl serve --addr $(ADDR) --data-dir $(DATA_DIR)

## setup: Python venv, libonnxruntime, default model export + numpy cross-check (idempotent)
setup:
	./scripts/setup

## build: release build of every binary
build:
	cargo build --release --workspace

## test: every test: Rust (unit, integration, end-to-end on the real binary), the exporter's Python checks,
## and the docker compose deployment (skipped, saying so, where no Docker engine runs)
test: setup test-rust test-python test-docker

# cargo-nextest, where installed, runs the test binaries side by side (each
# test in its own process): the suite takes about half the time of cargo
# test's one binary after another. Doc tests always go through cargo test.
test-rust:
	@if cargo nextest --version >/dev/null 2>&1; then \
		echo "cargo nextest run --workspace --all-targets --no-fail-fast"; \
		cargo nextest run --workspace --all-targets --no-fail-fast; \
	else \
		echo "cargo test --workspace --all-targets (cargo-nextest is not installed)"; \
		cargo test --workspace --all-targets; \
	fi
	cargo test --workspace --doc

# The exporter's checks, the docs' examples, the OpenAI SDK and the console in
# headless Chromium (tests/python), then the Python client and the LangChain and
# LlamaIndex stores (LangChain's standard suite included) against the real
# binary (target/debug/trawl, built by test-rust).
test-python:
	./scripts/setup-test
	.venv/bin/python -m pytest -q tests/python
	.venv/bin/python -m pip install --quiet --disable-pip-version-check ./client/python/trawl-client \
		'./client/python/langchain-trawl[test]' './client/python/llama-index-vector-stores-trawl[test]'
	.venv/bin/python -m pytest -q client/python/trawl-client/tests
	.venv/bin/python -m pytest -q client/python/langchain-trawl/tests
	.venv/bin/python -m pytest -q client/python/llama-index-vector-stores-trawl/tests

# Uses the binaries `cargo test` built (target/debug); see docker/test.sh.
# `--all-targets` as test-rust builds them: the same features, so after
# test-rust nothing is rebuilt (`--bins` alone unifies features without the
# dev-dependencies and rebuilds the workspace's crates, minutes in CI).
test-docker:
	cargo build --workspace --all-targets
	./docker/test.sh

## docker-build: the image trawl:latest from local files only (release binaries, model, libonnxruntime)
docker-build:
	./docker/build.sh

## lint: formatting and clippy, warnings as errors
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

## bench-encode: encoder throughput, in-process and over HTTP (writes bench-out/encode.json)
bench-encode: setup
	cargo build --release -p trawl-server -p trawl-client
	./target/release/trawl-bench encode

## eval: SciFact through the HTTP API, exact and with each layout (writes bench-out/eval-scifact.json)
LAYOUTS ?= float,binary,binary:2,binary:4,matryoshka:128
REFERENCE ?= ../shared/data/reference/sentence-transformers__all-MiniLM-L6-v2__8b3219a92973c328a8e22fadcfa821b5dc75636a__SciFact.json
eval: setup build
	./target/release/trawl-eval --exact --reference $(REFERENCE)
	./target/release/trawl-eval --layout $(LAYOUTS) --reference $(REFERENCE)

clean:
	cargo clean
	rm -rf .venv vendor/onnxruntime models
