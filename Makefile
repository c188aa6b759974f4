# The README's two commands. Each first installs the Debian packages that are missing
# (scripts/install-deps.sh), configures a Release build, then builds what it needs and runs.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: deps configure seva build demo test bench clean

deps:
	@bash scripts/install-deps.sh

# A new build directory uses Ninja: with Make, adding a source file rewrites the flags file that the
# precompiled header depends on, so every file is compiled again. An existing one keeps its generator.
GENERATOR = $(if $(wildcard $(BUILD)/CMakeCache.txt),,-G Ninja)

configure: deps
	@cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Release >/dev/null

# The seva program alone (the library and the CLI): what demo and bench need.
seva: configure
	@cmake --build $(BUILD) -j $(JOBS) --target seva

# Everything, the test suite included.
build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# The main job: the whole SeVa method on the embedded synthetic world with the shipped tiny base
# (world -> eval base -> sample -> generate with diffusion noise -> pair -> DPO+LoRA -> eval -> report).
DEMO_OUT ?= runs/demo
demo: seva
	$(BUILD)/seva demo --out $(DEMO_OUT)
	@echo "report: $(DEMO_OUT)/report.md"

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Speed on this machine: GEMM/bandwidth limits, generation, the DPO step against the official
# algorithm (seva bench --help for sizes and devices).
bench: seva
	$(BUILD)/seva bench --size small --json $(BUILD)/bench.json

clean:
	rm -rf $(BUILD)
