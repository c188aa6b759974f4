#!/usr/bin/env bash
# Downloads (here, with internet) the Debian packages bench/gpu/run.sh unpacks on a GPU machine
# when that machine lacks a build dependency: nlohmann-json and CLI11 (header-only), sentencepiece
# (+ the protobuf-lite it links), libpng, libjpeg, zlib, ICU (the byte-level BPE tokenizer's
# Unicode classes) and pkg-config. Carry bench/gpu/debs/ with the tree (it is git-ignored).
set -eu
cd "$(dirname "$0")"
mkdir -p debs
cd debs
apt-get download nlohmann-json3-dev libcli11-dev libsentencepiece-dev libsentencepiece0 libprotobuf-lite32 \
  libpng-dev libpng16-16 zlib1g-dev libjpeg62-turbo-dev libjpeg62-turbo libicu-dev libicu72 \
  pkgconf pkgconf-bin libpkgconf3 2>&1 \
  | grep -v "unsandboxed" || true
ls -l
