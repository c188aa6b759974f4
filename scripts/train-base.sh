#!/usr/bin/env bash
# How the shipped base checkpoint (assets/tiny-world-base) was made, on a 2-core CPU (~40 min).
# 1. `seva demo --from-scratch --base-only`: the world (seed 0), a SentencePiece tokenizer and a
#    random tiny LLaVA (seva init), LLaVA's two SFT stages (captions 300 steps, then one epoch of
#    the question families), and the base's evaluation with the grounding gate.
# 2. Two more stages at half the learning rate, because the base after (1) could not yet tell
#    shapes apart or read the digits (captions right in layout and colour, wrong in shape/text):
#    one epoch of captions, then one epoch of questions.
# 3. The result is evaluated on the world's benchmarks and copied to assets/tiny-world-base.
set -euo pipefail
cd "$(dirname "$0")/.."
SEVA=${SEVA:-build/seva}
OUT=${OUT:-runs/base}
W=$OUT/world
$SEVA demo --from-scratch --base-only --out "$OUT" --seed 0 --threads 2
common=(--images "$W/images" --train vision,projector,language --lr 1e-3 --weight-decay 0.01 --warmup-ratio 0.03
        --batch-size 64 --micro-batch-size 64 --seed 0 --threads 2)
[ -f "$OUT/base-sft3/model/config.json" ] ||
  $SEVA sft --model "$OUT/base-sft2/model" --data "$W/sft_stage1.json" --out "$OUT/base-sft3" "${common[@]}"
[ -f "$OUT/base-sft4/model/config.json" ] ||
  $SEVA sft --model "$OUT/base-sft3/model" --data "$W/sft_stage2.json" --out "$OUT/base-sft4" "${common[@]}"
$SEVA eval --model "$OUT/base-sft4/model" --pope "$W/pope.jsonl" --mmbench "$W/mmbench.tsv" --vqa "$W/vqa.jsonl" \
  --images "$W/images" --out "$OUT/eval-base-sft4" --batch-size 64 --max-new-tokens 12 --threads 2
rm -rf assets/tiny-world-base
mkdir -p assets
cp -r "$OUT/base-sft4/model" assets/tiny-world-base
