# lakemesh: `make run` and `make test` work on a fresh Debian 12 machine (as root or with sudo).
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
DATA ?= ./lakemesh-data
JOBS ?= $(shell nproc)

.PHONY: all deps build test unit e2e run bench clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

unit: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) -L unit

e2e: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -L e2e

run: build
	@$(BUILD_DIR)/lakemesh serve --demo --data $(DATA)

bench: build
	@scripts/install-deps.sh --bench
	@bench/run.sh

clean:
	rm -rf $(BUILD_DIR)
