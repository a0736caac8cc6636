# The two commands of the README: `make run` and `make test`. Everything else is CMake.
JOBS ?= $(shell nproc)

FUZZ_SECONDS ?= 20

.PHONY: run test build deps clean asan fuzz

deps:
	@bash .ci/install-deps

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
