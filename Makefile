# Thin wrapper over CMake for the README's two commands.
#   make run   installs what is missing, builds, runs the daemon on a
#              private Redis with a generated development config
#   make demo  installs what is missing, builds, runs the end-to-end
#              migration demo (Redis, two bridges, Flask and Go apps, nginx)
#              on loopback ports until Ctrl-C
#   make test  installs what is missing, builds (warnings are errors) and
#              runs every test, then again under ASan+UBSan, then a short
#              fuzz smoke run
#   make vectors regenerates tests/vectors/public.json from the real
#              frameworks and checks every vector (tests/vectors/README.md)
#   make bench   runs the benchmarks of the README's "Numbers measured"
#   make deb     builds the Debian package into build-deb/ and runs lintian
#              on it (debian/build-deb.sh)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS ?= $(shell nproc)

.PHONY: all deps test-deps build run demo test test-normal test-asan fuzz-smoke vectors bench deb clean

all: build

# What building and running need; the test toolchain (Go, Node, Ruby,
# clang, nginx ...) only for the targets that use it.
deps:
	bash docker/install-deps.sh build runtime run

test-deps:
	bash docker/install-deps.sh build runtime test

build: deps
	cmake -S . -B $(BUILD) -DSB_WERROR=ON
	cmake --build $(BUILD) -j$(JOBS)

run: build
	bash tests/harness/devrun.sh $(BUILD)

demo: test-deps build
	bash tests/e2e/demo.sh $(BUILD)

test: test-normal test-asan fuzz-smoke

test-normal: test-deps build
	ctest --test-dir $(BUILD) --output-on-failure

test-asan: test-deps
	cmake -S . -B $(ASAN_BUILD) -DSB_WERROR=ON -DSB_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ctest --test-dir $(ASAN_BUILD) --output-on-failure

fuzz-smoke: test-deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DSB_FUZZ=ON -DSB_TESTS=OFF
	cmake --build $(FUZZ_BUILD) -j$(JOBS)
	bash tests/fuzz/smoke.sh $(FUZZ_BUILD) 20

vectors:
	bash docker/install-deps.sh test vectors
	sh tests/vectors/generators/generate_all.sh

bench: test-deps build
	bash tests/bench/run_all.sh $(BUILD)

deb:
	bash docker/install-deps.sh build runtime package
	bash debian/build-deb.sh build-deb

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) build-deb
