// The questions file `seva sample` writes and `seva generate` reads: one {"id", "image", "text"}
// object per line ("question" is read for "text" too).
#pragma once
#include <string>
#include <vector>

namespace seva::method {

struct Question {
  std::string id;     // unique per file (seva sample: "<entry id>_<human turn index>"); an integer id is read as written
  std::string image;  // relative to an images directory
  std::string text;   // the question, without an <image> marker
};

// Reads the JSONL file. A line that is not such an object, or an id seen before (answers are
// resumed by id), throws naming the file and line.
std::vector<Question> read_questions(const std::string& path);

}  // namespace seva::method
