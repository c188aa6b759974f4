#!/usr/bin/env bash
# How the shipped base checkpoint (assets/tiny-world-base) is made, on a 2-core CPU:
# `seva demo --from-scratch --base-only` with seed 0 — the world, a SentencePiece tokenizer
# and a random tiny LLaVA with no system prompt (seva init), eight SFT stages, the base's
# evaluation and the grounding gate — and the final stage's model copied into assets/.
#   stages 1-5 (~47 min): one epoch of captions, then one of the question families, at 2e-3; then
#     one epoch of each again at 1e-3, and a third epoch of the question families at 1e-3; every
#     part trains; AdamW betas 0.9/0.98, cosine to 0.1x. Rerunning gives the same bytes (checked:
#     stage 5 rerun from stage 4 was bit-identical).
#   stages 6-7 (~10 min each): one epoch of sft_choice_drill2.json (multiple choice on stated
#     answers, two options), then one of sft_choice_drill.json (two to four options); projector
#     and language model only, lr 1e-3 cosine to 0.5x, batch 32.
#   stage 8: one epoch of sft_stage2.json + sft_choice.json as one mixture, every part, lr 5e-4.
# FROM_STAGE5=DIR starts from a stage-5 model and runs stages 6-8 only (the markers of init and
# stages 1-5 are written as done, DIR is copied in as stage 5's model).
set -euo pipefail
cd "$(dirname "$0")/.."
SEVA=${SEVA:-build/seva}
OUT=${OUT:-runs/base}
if [ -n "${FROM_STAGE5:-}" ]; then
  mkdir -p "$OUT/.done" "$OUT/base-sft5"
  [ -d "$OUT/base-sft5/model" ] || cp -r "$FROM_STAGE5" "$OUT/base-sft5/model"
  for k in init sft1 sft2 sft3 sft4 sft5; do
    [ -e "$OUT/.done/$k" ] ||
      printf '{"phase": "%s (not rerun: FROM_STAGE5=%s)", "key": "%s", "seconds": 0}\n' "$k" "$FROM_STAGE5" "$k" \
        >"$OUT/.done/$k"
  done
fi
$SEVA demo --from-scratch --base-only --out "$OUT" --seed 0 --threads 2
rm -rf assets/tiny-world-base
mkdir -p assets
cp -r "$OUT/base-sft8/model" assets/tiny-world-base
