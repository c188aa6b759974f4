// Helpers shared by the libFuzzer targets: a private scratch directory per process and writing
// the input into it as a named file (the parsers read files, as seva does).
#pragma once
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

#include "seva_build_paths.h"  // SEVA_SOURCE_DIR

namespace seva_fuzz {

// Created once per process; files in it are overwritten by every run.
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/seva_fuzz_XXXXXX";
    if (!::mkdtemp(tmpl)) std::abort();
    return std::string(tmpl);
  }();
  return dir;
}

inline std::string write_file(const std::string& dir, const std::string& name, const std::string& bytes) {
  const std::string path = dir + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) std::abort();
  return path;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) std::abort();
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The fixture files of tests/data (SEVA_SOURCE_DIR comes from the build's generated header).
inline std::string fixture(const std::string& rel) { return std::string(SEVA_SOURCE_DIR) + "/tests/data/" + rel; }

}  // namespace seva_fuzz
