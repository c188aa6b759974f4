#!/usr/bin/env bash
# Installs the Debian packages seva needs, only those missing. Safe to run again.
set -euo pipefail
PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache
  libtorch-dev            # the tensor library (CPU build on Debian)
  libopenblas0-pthread    # fast BLAS for libtorch's matmuls (the reference BLAS is ~70x slower)
  libsentencepiece-dev    # tokenizer.model
  libicu-dev              # Unicode classes and NFC for tokenizer.json (byte-level BPE)
  wordnet-base            # WordNet 3.0: the lemmas CHAIR (seva eval --chair) matches objects by
  nlohmann-json3-dev libcli11-dev
  libjpeg62-turbo-dev libpng-dev   # the decoders Pillow uses
  googletest libgtest-dev
  libgloo-dev             # headers torch's c10d ProcessGroupGloo needs (multi-process runs)
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
