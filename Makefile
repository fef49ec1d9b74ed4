# The two commands of the quick start, and a few more for developers.
#   make demo       install dependencies, build (Release), run the main job
#   make test       install dependencies, build, run every test through ctest, then fuzz
#                   the TQL parser and the HTTP API for 20 s each (scripts/fuzz.sh,
#                   clang-14, build-fuzz/)
#   make fuzz       fuzz the TQL parser and the HTTP API for 10 minutes each
#                   (FUZZ_SECONDS=N to change)
#   make test-asan  the same tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench      every benchmark in --quick mode
#   make format     clang-format every source file

BUILD_DIR ?= build
ASAN_DIR ?= build-asan
JOBS ?= $(shell nproc)
DEMO_DIR ?= tidal-demo-data
FUZZ_SECONDS ?= 600

.PHONY: all deps build demo test test-asan bench fuzz format clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	./$(BUILD_DIR)/tidal demo --data $(DEMO_DIR)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)
	bash scripts/fuzz.sh tql 20
	bash scripts/fuzz.sh api 20

test-asan: deps
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DTIDAL_SANITIZE=ON -DTIDAL_BUILD_BENCH=OFF
	cmake --build $(ASAN_DIR) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(ASAN_DIR) --output-on-failure -j $(JOBS)

fuzz: deps
	bash scripts/fuzz.sh tql $(FUZZ_SECONDS)
	bash scripts/fuzz.sh api $(FUZZ_SECONDS)

bench: build
	@for b in $(BUILD_DIR)/bench/*_bench $(BUILD_DIR)/bench/beir_eval $(BUILD_DIR)/bench/ann_eval; do echo "== $$b --quick"; $$b --quick || exit 1; done

format:
	find include src tools tests bench fuzz -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) build-fuzz
