# Thin front for the two commands in README.md. Everything real is in CMake.
#   make run    bootstrap, build (Release), run the quick suite -> results/latest/
#   make test   bootstrap, then build and ctest in four builds: normal, chaos, TSan, ASan+UBSan
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
CTEST = ctest --output-on-failure --no-tests=error

.PHONY: all bootstrap build run report test test-normal test-chaos test-tsan test-asan clean

all: build

bootstrap:
	@sh scripts/bootstrap.sh

build: bootstrap
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCONTEND_WERROR=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build build -j $(JOBS)

run: build
	./build/contend suite --quick --out results/latest

# Charts and a Markdown summary of the last `make run` (python3 + gnuplot).
report:
	python3 tools/report.py results/latest/results.json results/latest/report
	@if [ -f results/latest/backpressure.json ]; then \
	  python3 tools/report.py results/latest/backpressure.json results/latest/report; fi

# Tests run one at a time: stress tests oversubscribe the cores on purpose, and two at once
# would only measure each other.
test-normal: build
	cd build && $(CTEST)

test-chaos: bootstrap
	cmake -S . -B build-chaos -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONTEND_WERROR=ON \
	      -DCONTEND_CHAOS=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build build-chaos -j $(JOBS)
	cd build-chaos && $(CTEST)

# ck's atomics are inline assembly that TSan cannot see, so peers stay out of the TSan build.
test-tsan: bootstrap
	cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONTEND_WERROR=ON \
	      -DCONTEND_SANITIZE=thread -DCONTEND_PEERS=OFF $(CMAKE_FLAGS) >/dev/null
	cmake --build build-tsan -j $(JOBS)
	cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" $(CTEST)

test-asan: bootstrap
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONTEND_WERROR=ON \
	      -DCONTEND_SANITIZE=address $(CMAKE_FLAGS) >/dev/null
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS="detect_leaks=1" UBSAN_OPTIONS="print_stacktrace=1" $(CTEST)

test: test-normal test-chaos test-tsan test-asan
	@echo "make test: normal, chaos, tsan and asan builds all passed"

clean:
	rm -rf build build-chaos build-tsan build-asan
