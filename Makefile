# Thin wrapper around CMake for the README's commands. CMakeLists.txt is the
# build; nothing here compiles anything itself.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=
DEMO_TRACE ?= data/redis.ast
DEMO_OUT   ?= demo-out
PREFIX     ?= /usr/local
DESTDIR    ?=

DEB_PACKAGES = cmake pkg-config gcc make libzstd-dev zstd libcjson-dev libgsl-dev \
               gnuplot-nox libcunit1-dev libunwind-dev binutils clang time python3 \
               python3-yaml help2man chromium parallel slurm-wlm munge sqlite3 git g++ \
               redis-server redis-tools

.PHONY: all deps build test test-fast test-asan demo bench fuzz clean format \
        install uninstall

all: build

# Install the Debian packages the build needs, only when one is missing.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

$(ASAN_BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DALLOCSIM_SANITIZE=ON \
	  -DALLOCSIM_RECORDER=OFF $(CMAKE_ARGS)

# Every test, in the normal build and again under ASan+UBSan.
test: test-fast test-asan

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

test-asan: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j$(JOBS)

# Replay the bundled default trace through every registered policy.
demo: build
	./$(BUILD)/allocsim demo --trace $(DEMO_TRACE) -o $(DEMO_OUT)

# Benchmarks (never part of `make test`); EVENTS=N for a smaller trace.
bench: build
	bash bench/replay/run.sh $(BUILD) $(or $(EVENTS),50000000) bestfit $(BENCH_POLICIES)

# Install under PREFIX (default /usr/local), staged under DESTDIR when set:
# the binary, the recorder, the manual page, bash completion, the docs
# (docs/install.md lists where each goes).
install: deps
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_ARGS)
	cmake --build $(BUILD) -j$(JOBS)
	DESTDIR="$(if $(DESTDIR),$(abspath $(DESTDIR)))" cmake --install $(BUILD)

# Remove what the last `make install` installed (its manifest lists the
# paths without DESTDIR: give the same DESTDIR again).
uninstall:
	@test -r $(BUILD)/install_manifest.txt || { echo "nothing installed from $(BUILD)"; exit 1; }
	sed 's|^|$(if $(DESTDIR),$(abspath $(DESTDIR)))|' $(BUILD)/install_manifest.txt | xargs -d '\n' rm -f --

# Build the libFuzzer targets, then replay every saved corpus under clang's
# ASan+UBSan (which, unlike gcc's, reports a null pointer plus zero).
fuzz: deps
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DALLOCSIM_FUZZ=ON -DALLOCSIM_RECORDER=OFF
	cmake --build build-fuzz -j$(JOBS)
	cd build-fuzz && UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest -R '^fuzz_regress_' --output-on-failure -j$(JOBS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz $(DEMO_OUT)
