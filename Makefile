# The two commands of the README: `make run` and `make test`; `make check` after each edit.
# Everything else is CMake.
JOBS ?= $(shell nproc)

FUZZ_SECONDS ?= 20

.PHONY: run test check build deps clean asan fuzz

# Set-up: installs the missing Debian packages, and checks again only when the list changes.
build/.deps-ok: .ci/install-deps
	@bash .ci/install-deps
	@mkdir -p build && touch $@

deps: build/.deps-ok

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

# Builds (installing missing packages) and runs the headline search.
run: build
	./build/release/planner --model llama2-70b --gpus 2048 --gpu 4090

# Builds and runs every test: the unit tests, then again under AddressSanitizer and
# UndefinedBehaviorSanitizer (build/asan, clang), then each fuzzer of that build for
# FUZZ_SECONDS (tests/fuzz/run).
test: build
	@ctest --preset release -j $(JOBS)
	@$(MAKE) --no-print-directory asan
	@tests/fuzz/run $(FUZZ_SECONDS)

# The edit loop: rebuilds what the edit touched and runs the unit tests (no package check, no
# sanitizers, no fuzzing; `make test` before you push).
check:
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS) --target planner planner_tests accuracy
	@ctest --preset release -j $(JOBS) --output-on-failure

asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)
	@ctest --preset asan -j $(JOBS)

fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)
	@tests/fuzz/run $(FUZZ_SECONDS)

clean:
	rm -rf build
