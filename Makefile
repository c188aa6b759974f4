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

# Until the embedded default (a synthetic world + a tiny LLaVA trained by seva) exists, the
# main job shows the model path end to end on a tiny llava-hf checkpoint made by transformers.
demo: build
	$(BUILD)/seva info --model $(MODEL)
	$(BUILD)/seva chat --model $(MODEL) --image tests/data/llava-tiny-a/images/img0_97x61.png \
	  --question "What is shown?" --max-new-tokens 20 --json

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Speed on this machine: GEMM/bandwidth limits, generation, the DPO step against the official
# algorithm (seva bench --help for sizes and devices).
bench: build
	$(BUILD)/seva bench --size small --json $(BUILD)/bench.json

clean:
	rm -rf $(BUILD)
