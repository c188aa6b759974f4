// seva sample on a small hand-made LLaVA-665k file: sources, markers, per-image questions, N.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "io/files.h"
#include "io/jsonl.h"
#include "method/sample.h"
#include "test_helpers.h"

using namespace seva;

namespace {

std::string write_instructions(const std::string& dir) {
  std::string path = dir + "/llava_mix.json";
  io::write_file_atomic(path, R"([
 {"id": "t1", "image": "textvqa/train_images/a.jpg", "conversations": [
   {"from": "human", "value": "<image>\nWhat does the sign say?"}, {"from": "gpt", "value": "STOP"},
   {"from": "human", "value": "What colour is it?"}, {"from": "gpt", "value": "Red"},
   {"from": "human", "value": "Is it round?"}, {"from": "gpt", "value": "No"}]},
 {"id": "o1", "image": "ocr_vqa/images/b.jpg", "conversations": [
   {"from": "human", "value": "Who wrote this book?\n<image>"}, {"from": "gpt", "value": "X"}]},
 {"id": 17, "image": "coco/train2017/c.jpg", "conversations": [
   {"from": "human", "value": "<image>\nWhat is here?"}, {"from": "gpt", "value": "A cat"}]},
 {"id": "text-only", "conversations": [{"from": "human", "value": "Hello"}, {"from": "gpt", "value": "Hi"}]},
 {"id": "t2", "image": "textvqa/train_images/d.jpg", "conversations": [
   {"from": "human", "value": "<image>\nRead the number."}, {"from": "gpt", "value": "42"}]}
])");
  return path;
}

}  // namespace

TEST(SevaSample, RemovesTheImageMarkerBeforeOrAfter) {
  EXPECT_EQ(method::remove_image_marker("<image>\nWhat is it?"), "What is it?");
  EXPECT_EQ(method::remove_image_marker("What is it?\n<image>"), "What is it?");
  EXPECT_EQ(method::remove_image_marker("  What <image> is it? "), "What  is it?");
}

TEST(SevaSample, FiltersSourcesAndTakesUpToTwoQuestionsPerImage) {
  auto dir = test::temp_dir("sample");
  method::SampleOptions o;
  o.instructions = write_instructions(dir);
  o.sources = {"textvqa", "ocr_vqa"};
  o.per_image = 2;
  o.count = 0;
  o.seed = 3;
  o.out = dir + "/q.jsonl";
  auto st = method::run_sample(o);
  EXPECT_EQ(st.read, 5);
  EXPECT_EQ(st.no_image, 1);
  EXPECT_EQ(st.other_source, 1);
  EXPECT_EQ(st.kept, 3);
  EXPECT_EQ(st.sampled, 3);
  EXPECT_EQ(st.written, 4);  // 2 of t1's three, o1's one, t2's one
  auto rows = io::read_jsonl(o.out);
  ASSERT_EQ(rows.size(), 4u);
  std::map<std::string, int> per_image;
  std::set<std::string> ids;
  for (const auto& r : rows) {
    EXPECT_EQ(r.size(), 3u);
    ++per_image[r["image"].get<std::string>()];
    ids.insert(r["id"].get<std::string>());
    EXPECT_EQ(r["text"].get<std::string>().find("<image>"), std::string::npos);
    EXPECT_EQ(r["image"].get<std::string>().rfind("coco", 0), std::string::npos);
  }
  EXPECT_EQ(ids.size(), 4u) << "ids are unique per line";
  EXPECT_EQ(per_image["textvqa/train_images/a.jpg"], 2);
  EXPECT_EQ(per_image["ocr_vqa/images/b.jpg"], 1);
  for (const auto& r : rows) {
    if (r["id"] == "o1_0") {
      EXPECT_EQ(r["text"], "Who wrote this book?");
    }
  }

  // The same seed gives the same file; N limits the image entries.
  std::string first = io::read_file(o.out);
  method::run_sample(o);
  EXPECT_EQ(io::read_file(o.out), first);
  o.count = 2;
  o.per_image = 1;
  st = method::run_sample(o);
  EXPECT_EQ(st.sampled, 2);
  EXPECT_EQ(st.written, 2);
  // No source filter: the coco entry (an integer id) is kept too.
  o.sources.clear();
  o.count = 0;
  st = method::run_sample(o);
  EXPECT_EQ(st.kept, 4);
  bool saw_int_id = false;
  for (const auto& r : io::read_jsonl(o.out)) saw_int_id = saw_int_id || r["id"] == "17_0";
  EXPECT_TRUE(saw_int_id);
}

TEST(SevaSample, MalformedFileIsNamed) {
  auto dir = test::temp_dir("sample");
  method::SampleOptions o;
  o.instructions = dir + "/bad.json";
  o.out = dir + "/q.jsonl";
  io::write_file_atomic(o.instructions, R"([{"id": "a", "image": "x.jpg", "conversations": [}])");
  try {
    method::run_sample(o);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
  }
  io::write_file_atomic(o.instructions, R"({"id": "a"})");
  EXPECT_THROW(method::run_sample(o), std::runtime_error);
}

// A crafted entry nested a million deep would be copied and printed recursively: refused while
// parsing, naming the file.
TEST(SevaSample, DeeplyNestedEntryIsRefused) {
  auto dir = test::temp_dir("sample_deep");
  method::SampleOptions o;
  o.instructions = dir + "/deep.json";
  o.out = dir + "/q.jsonl";
  io::write_file_atomic(o.instructions, "[{\"id\": \"a\", \"image\": " + std::string(100000, '[') +
                                            std::string(100000, ']') + "}]");
  try {
    method::run_sample(o);
    FAIL() << "accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("deep.json: JSON nested deeper than"), std::string::npos) << e.what();
  }
}
