#!/usr/bin/env bash
# How the shipped base checkpoint (assets/tiny-world-base) was made, on a 2-core CPU (~47 min):
# `seva demo --from-scratch --base-only` with seed 0 — the world (v3), a SentencePiece tokenizer
# and a random tiny LLaVA with no system prompt (seva init), five SFT stages (one epoch of
# captions, then one of the question families, at 2e-3; then one epoch of each again at 1e-3,
# and a third epoch of the question families at 1e-3; AdamW betas 0.9/0.98, cosine to 0.1x), the
# base's evaluation and the grounding gate — and the final stage's model copied into assets/.
# Rerunning it gives the same bytes (checked: stage 5 rerun from stage 4 was bit-identical).
set -euo pipefail
cd "$(dirname "$0")/.."
SEVA=${SEVA:-build/seva}
OUT=${OUT:-runs/base}
$SEVA demo --from-scratch --base-only --out "$OUT" --seed 0 --threads 2
rm -rf assets/tiny-world-base
mkdir -p assets
cp -r "$OUT/base-sft5/model" assets/tiny-world-base
