// Test helpers: where the fixtures are, scratch directories.
#pragma once
#include <gtest/gtest.h>
#include <string>

namespace seva::test {
std::string data_path(const std::string& rel);     // tests/data/<rel>
std::string fixture_path(const std::string& rel);  // tests/data/llava-tiny-a/<rel>
std::string temp_dir(const std::string& name);     // a fresh directory under the test temp dir
}  // namespace seva::test
