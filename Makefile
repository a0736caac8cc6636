# The two commands of the README: `make run` and `make test`. Everything else is CMake.
JOBS ?= $(shell nproc)

.PHONY: run test build deps clean

deps:
	@bash .ci/install-deps

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

# Builds (installing missing packages) and runs the headline search.
run: build
	./build/release/planner --model llama2-70b --gpus 2048 --gpu 4090

# Builds and runs every test.
test: build
	@ctest --preset release -j $(JOBS)

clean:
	rm -rf build
