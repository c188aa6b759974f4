# The README's two commands. Each installs what is missing, builds Release, then runs.
BUILD ?= build
JOBS ?= $(shell nproc)
MODEL ?= tests/data/llava-tiny-a/model_A

.PHONY: deps build demo test bench clean

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The main job: the whole SeVa method on the embedded synthetic world with the shipped tiny base
# (world -> eval base -> sample -> generate with diffusion noise -> pair -> DPO+LoRA -> eval -> report).
DEMO_OUT ?= runs/demo
demo: build
	$(BUILD)/seva demo --out $(DEMO_OUT)
	@echo "report: $(DEMO_OUT)/report.md"

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Speed on this machine: GEMM/bandwidth limits, generation, the DPO step against the official
# algorithm (seva bench --help for sizes and devices).
bench: build
	$(BUILD)/seva bench --size small --json $(BUILD)/bench.json

clean:
	rm -rf $(BUILD)
