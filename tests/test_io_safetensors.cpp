// safetensors: round trips of every dtype, the Rust crate's byte layout, sharded checkpoints,
// the llava-tiny fixture, and one test per kind of broken file (each message names file and cause).
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>

#include "io/files.h"
#include "io/safetensors.h"
#include "test_helpers.h"

namespace {

using seva::io::Checkpoint;
using seva::io::SafetensorsFile;
using seva::io::save_checkpoint;
using seva::io::save_safetensors;
using seva::test::temp_dir;
using Named = std::vector<std::pair<std::string, torch::Tensor>>;

// Runs `fn`; succeeds when it throws std::runtime_error whose message contains every `parts`.
::testing::AssertionResult ThrowsWith(const std::function<void()>& fn,
                                      const std::vector<std::string>& parts) {
  try {
    fn();
  } catch (const std::runtime_error& e) {
    std::string msg = e.what();
    for (const auto& p : parts)
      if (msg.find(p) == std::string::npos)
        return ::testing::AssertionFailure() << "message \"" << msg << "\" lacks \"" << p << "\"";
    if (msg.find('\n') != std::string::npos)
      return ::testing::AssertionFailure() << "message is not one line: \"" << msg << "\"";
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no std::runtime_error thrown";
}

// A hand-made file: 8-byte little-endian header length, the header as given (no padding), data.
std::string write_raw(const std::string& path, const std::string& header, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  uint64_t n = header.size();
  char len[8];
  std::memcpy(len, &n, 8);
  out.write(len, 8);
  out << header << data;
  return path;
}

std::string bytes_of(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

std::string header_of(const std::string& path) {
  std::string all = seva::io::read_file(path);
  uint64_t n = 0;
  std::memcpy(&n, all.data(), 8);
  return all.substr(8, n);
}

// ---------------------------------------------------------------------------------------------
// Round trips

TEST(Safetensors, RoundTripEveryDtype) {
  const std::string dir = temp_dir("st_dtypes");
  const std::string path = dir + "/all.safetensors";
  auto f32 = torch::tensor({1.5f, -2.25f, 3.0e-3f, 1e30f}).reshape({2, 2});
  auto f64 = torch::tensor({1.0 / 3.0, -1e300}, torch::kFloat64);
  // Values exact in both half formats: 0.099609375 = 51/512.
  auto f16 = torch::tensor({1.5f, -2.25f, 0.099609375f, 65504.0f}).to(torch::kHalf);
  auto bf16 =
      torch::tensor({1.5f, -2.25f, 0.099609375f, 1.2676506e30f /* 2^100 */}).to(torch::kBFloat16);
  auto i64 = torch::tensor({-(int64_t(1) << 40), int64_t(7)}, torch::kInt64);
  auto i32 = torch::tensor({std::numeric_limits<int32_t>::min(), 5}, torch::kInt32);
  auto i16 = torch::tensor({-32768, 12345}, torch::kInt32).to(torch::kInt16);
  auto i8 = torch::tensor({-128, 127}, torch::kInt32).to(torch::kInt8);
  auto u8 = torch::tensor({0, 255, 17}, torch::kInt32).to(torch::kUInt8);
  auto b = torch::tensor({1, 0, 1}, torch::kInt32).to(torch::kBool);
  auto scalar = torch::tensor(42.0f).reshape({});
  auto empty = torch::zeros({0, 3});
  auto transposed = torch::arange(6, torch::kFloat32).reshape({2, 3}).t();  // not contiguous
  save_safetensors(path, {{"f32", f32},
                          {"f64", f64},
                          {"f16", f16},
                          {"bf16", bf16},
                          {"i64", i64},
                          {"i32", i32},
                          {"i16", i16},
                          {"i8", i8},
                          {"u8", u8},
                          {"bool", b},
                          {"scalar", scalar},
                          {"empty", empty},
                          {"transposed", transposed}});

  SafetensorsFile f(path);
  EXPECT_EQ(f.keys(), (std::vector<std::string>{"bf16", "bool", "empty", "f16", "f32", "f64", "i16",
                                                "i32", "i64", "i8", "scalar", "transposed", "u8"}));
  EXPECT_TRUE(f.metadata().empty());
  const std::map<std::string, std::string> dtypes = {
      {"f32", "F32"}, {"f64", "F64"}, {"f16", "F16"}, {"bf16", "BF16"}, {"i64", "I64"},
      {"i32", "I32"}, {"i16", "I16"}, {"i8", "I8"},   {"u8", "U8"},     {"bool", "BOOL"}};
  for (const auto& [name, dt] : dtypes) EXPECT_EQ(f.info(name).dtype, dt) << name;

  struct Case {
    const char* name;
    torch::Tensor want;
  };
  for (const Case& c :
       {Case{"f32", f32}, Case{"f64", f64}, Case{"f16", f16}, Case{"bf16", bf16}, Case{"i64", i64},
        Case{"i32", i32}, Case{"i16", i16}, Case{"i8", i8}, Case{"u8", u8}, Case{"bool", b},
        Case{"scalar", scalar}, Case{"empty", empty}, Case{"transposed", transposed}}) {
    torch::Tensor got = f.get(c.name);
    EXPECT_EQ(got.scalar_type(), c.want.scalar_type()) << c.name;
    EXPECT_EQ(got.sizes(), c.want.sizes()) << c.name;
    EXPECT_TRUE(got.is_contiguous()) << c.name;
    EXPECT_TRUE(torch::equal(got, c.want)) << c.name;
  }
  EXPECT_EQ(f.info("transposed").shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(f.get("transposed")[0][1].item<float>(), 3.0f);
  EXPECT_EQ(f.info("scalar").shape, std::vector<int64_t>{});

  // Half formats converted to float32 on request, with exact values.
  torch::Tensor h = f.get("f16", torch::kFloat32);
  ASSERT_EQ(h.scalar_type(), torch::kFloat32);
  EXPECT_EQ(h[0].item<float>(), 1.5f);
  EXPECT_EQ(h[1].item<float>(), -2.25f);
  EXPECT_EQ(h[2].item<float>(), 0.099609375f);
  EXPECT_EQ(h[3].item<float>(), 65504.0f);
  torch::Tensor bf = f.get("bf16", torch::kFloat32);
  ASSERT_EQ(bf.scalar_type(), torch::kFloat32);
  EXPECT_EQ(bf[0].item<float>(), 1.5f);
  EXPECT_EQ(bf[1].item<float>(), -2.25f);
  EXPECT_EQ(bf[2].item<float>(), 0.099609375f);
  EXPECT_EQ(bf[3].item<float>(), 1.2676506e30f);
  EXPECT_EQ(f.get("f64", torch::kFloat32)[0].item<float>(), static_cast<float>(1.0 / 3.0));
  EXPECT_EQ(f.get("f32", torch::kBFloat16).scalar_type(), torch::kBFloat16);
  // Integers and bools keep their type whatever float dtype is asked for.
  EXPECT_EQ(f.get("i64", torch::kFloat32).scalar_type(), torch::kInt64);
  EXPECT_EQ(f.get("bool", torch::kFloat32).scalar_type(), torch::kBool);
}

TEST(Safetensors, MetadataRoundTrip) {
  const std::string path = temp_dir("st_meta") + "/m.safetensors";
  save_safetensors(path, {{"w", torch::ones({2})}}, {{"format", "pt"}, {"step", "12"}});
  SafetensorsFile f(path);
  EXPECT_EQ(f.metadata(), (std::map<std::string, std::string>{{"format", "pt"}, {"step", "12"}}));
  EXPECT_EQ(f.path(), path);
  EXPECT_TRUE(f.contains("w"));
  EXPECT_FALSE(f.contains("v"));
}

// The bytes the Rust crate writes for its own alignment test (safetensors/src/tensor.rs,
// test_serialization_forced_alignement): a 65-byte header padded with 7 spaces to 72.
TEST(Safetensors, WritesTheRustCrateBytes) {
  const std::string path = temp_dir("st_bytes") + "/a.safetensors";
  save_safetensors(path, {{"attn0", torch::arange(6, torch::kFloat32).reshape({1, 1, 2, 3})}});
  std::string want_header =
      R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}})" + std::string(7, ' ');
  std::string want =
      std::string("\x48\0\0\0\0\0\0\0", 8) + want_header + bytes_of({0.f, 1.f, 2.f, 3.f, 4.f, 5.f});
  EXPECT_EQ(seva::io::read_file(path), want);
}

TEST(Safetensors, LayoutOrdersByDtypeThenNameWithMetadataFirst) {
  const std::string path = temp_dir("st_layout") + "/l.safetensors";
  save_safetensors(path,
                   {{"b", torch::ones({2})},
                    {"a", torch::ones({1}).to(torch::kHalf)},
                    {"d", torch::ones({3}).to(torch::kUInt8)},
                    {"c", torch::ones({1}, torch::kInt64)},
                    {"e", torch::ones({1})}},
                   {{"format", "pt"}});
  std::string want = R"({"__metadata__":{"format":"pt"},)"
                     R"("c":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},)"
                     R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},)"
                     R"("e":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},)"
                     R"("a":{"dtype":"F16","shape":[1],"data_offsets":[20,22]},)"
                     R"("d":{"dtype":"U8","shape":[3],"data_offsets":[22,25]}})";
  want.append((8 - want.size() % 8) % 8, ' ');
  std::string got = header_of(path);
  EXPECT_EQ(got, want);
  EXPECT_EQ(got.size() % 8, 0u);
  // No temporary file left behind.
  EXPECT_FALSE(seva::io::file_exists(path + ".tmp." + std::to_string(::getpid())));
}

TEST(Safetensors, ReadsUnalignedData) {
  // A 5-byte header puts the data at byte 13: the F64 values are not 8-aligned in the mapping.
  const std::string path = temp_dir("st_unaligned") + "/u.safetensors";
  std::string header = R"({"x":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}})";
  ASSERT_NE((8 + header.size()) % 8, 0u);
  double v[2] = {0.1, -7.5};
  write_raw(path, header, std::string(reinterpret_cast<const char*>(v), sizeof v));
  torch::Tensor t = SafetensorsFile(path).get("x");
  EXPECT_EQ(t[0].item<double>(), 0.1);
  EXPECT_EQ(t[1].item<double>(), -7.5);
}

TEST(Safetensors, BoolBytesOtherThanOneReadAsTrue) {
  const std::string path = temp_dir("st_bool") + "/b.safetensors";
  write_raw(path, R"({"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}})",
            std::string("\x00\x02\x01", 3));
  torch::Tensor t = SafetensorsFile(path).get("m");
  EXPECT_TRUE(torch::equal(t, torch::tensor({0, 1, 1}, torch::kInt32).to(torch::kBool)));
}

// ---------------------------------------------------------------------------------------------
// Sharded checkpoints

Named six_tensors() {
  Named t;
  for (int i = 0; i < 6; ++i)
    t.emplace_back("layers." + std::to_string(i) + ".weight",
                   torch::arange(4, torch::kFloat32) + 10.0f * i);  // 16 bytes each
  return t;
}

TEST(Checkpoint, ShardedWriteAndRead) {
  const std::string dir = temp_dir("ckpt_sharded");
  // 40 bytes a shard: two 16-byte tensors fit, a third would make 48.
  save_checkpoint(dir, six_tensors(), 40);
  EXPECT_FALSE(seva::io::file_exists(dir + "/model.safetensors"));
  for (const char* s : {"model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                        "model-00003-of-00003.safetensors"})
    EXPECT_TRUE(seva::io::file_exists(dir + "/" + s)) << s;

  std::string index = seva::io::read_file(dir + "/model.safetensors.index.json");
  EXPECT_EQ(index,
            "{\n"
            "  \"metadata\": {\n"
            "    \"total_size\": 96\n"
            "  },\n"
            "  \"weight_map\": {\n"
            "    \"layers.0.weight\": \"model-00001-of-00003.safetensors\",\n"
            "    \"layers.1.weight\": \"model-00001-of-00003.safetensors\",\n"
            "    \"layers.2.weight\": \"model-00002-of-00003.safetensors\",\n"
            "    \"layers.3.weight\": \"model-00002-of-00003.safetensors\",\n"
            "    \"layers.4.weight\": \"model-00003-of-00003.safetensors\",\n"
            "    \"layers.5.weight\": \"model-00003-of-00003.safetensors\"\n"
            "  }\n"
            "}\n");
  SafetensorsFile shard2(dir + "/model-00002-of-00003.safetensors");
  EXPECT_EQ(shard2.keys(), (std::vector<std::string>{"layers.2.weight", "layers.3.weight"}));
  EXPECT_EQ(shard2.metadata().at("format"), "pt");

  Checkpoint ck(dir);
  EXPECT_EQ(ck.keys().size(), 6u);
  EXPECT_TRUE(ck.contains("layers.5.weight"));
  EXPECT_FALSE(ck.contains("layers.6.weight"));
  EXPECT_EQ(ck.file_of("layers.4.weight"), dir + "/model-00003-of-00003.safetensors");
  EXPECT_EQ(ck.info("layers.3.weight").shape, std::vector<int64_t>{4});
  EXPECT_TRUE(torch::equal(ck.get("layers.3.weight"), torch::tensor({30.f, 31.f, 32.f, 33.f})));
  EXPECT_EQ(ck.get("layers.3.weight", torch::kHalf).scalar_type(), torch::kHalf);
  EXPECT_TRUE(ThrowsWith([&] { ck.get("nope"); }, {dir, "'nope'"}));
}

TEST(Checkpoint, OneShardWritesSingleFileAndRemovesStaleShards) {
  const std::string dir = temp_dir("ckpt_single");
  save_checkpoint(dir, six_tensors(), 40, "adapter");       // 3 shards + index
  save_checkpoint(dir, six_tensors(), 1 << 20, "adapter");  // now one file
  EXPECT_TRUE(seva::io::file_exists(dir + "/adapter.safetensors"));
  EXPECT_FALSE(seva::io::file_exists(dir + "/adapter.safetensors.index.json"));
  EXPECT_FALSE(seva::io::file_exists(dir + "/adapter-00001-of-00003.safetensors"));
  Checkpoint ck(dir, "adapter");
  EXPECT_EQ(ck.keys().size(), 6u);
  EXPECT_EQ(ck.file_of("layers.0.weight"), dir + "/adapter.safetensors");

  save_checkpoint(dir, six_tensors(), 40, "adapter");  // sharded again: the single file goes
  EXPECT_FALSE(seva::io::file_exists(dir + "/adapter.safetensors"));
  EXPECT_EQ(Checkpoint(dir, "adapter").file_of("layers.0.weight"),
            dir + "/adapter-00001-of-00003.safetensors");
}

TEST(Checkpoint, TensorLargerThanShardGetsItsOwnShard) {
  const std::string dir = temp_dir("ckpt_big");
  save_checkpoint(
      dir, {{"a", torch::ones({2})}, {"big", torch::ones({100})}, {"c", torch::ones({2})}}, 16);
  Checkpoint ck(dir);
  EXPECT_EQ(ck.file_of("a"), dir + "/model-00001-of-00003.safetensors");
  EXPECT_EQ(ck.file_of("big"), dir + "/model-00002-of-00003.safetensors");
  EXPECT_EQ(ck.file_of("c"), dir + "/model-00003-of-00003.safetensors");
}

// ---------------------------------------------------------------------------------------------
// The fixture written by Hugging Face transformers

TEST(Safetensors, ReadsTransformersFixture) {
  const std::string path = seva::test::fixture_path("model_A/model.safetensors");
  SafetensorsFile f(path);
  nlohmann::json ref = seva::io::read_json(seva::test::fixture_path("reference_A.json"));
  auto want = ref.at("safetensors_keys").get<std::vector<std::string>>();
  std::sort(want.begin(), want.end());
  EXPECT_EQ(f.keys().size(), 63u);
  EXPECT_EQ(f.keys(), want);
  EXPECT_EQ(f.metadata().at("format"), "pt");

  const auto& info = f.info("language_model.model.embed_tokens.weight");
  EXPECT_EQ(info.dtype, "F32");
  EXPECT_EQ(info.shape, (std::vector<int64_t>{514, 64}));
  torch::Tensor emb = f.get("language_model.model.embed_tokens.weight");
  EXPECT_EQ(emb.sizes(), (std::vector<int64_t>{514, 64}));
  EXPECT_TRUE(torch::isfinite(emb).all().item<bool>());

  Checkpoint ck(seva::test::fixture_path("model_A"));
  EXPECT_EQ(ck.keys(), want);
  EXPECT_TRUE(torch::equal(ck.get("language_model.model.embed_tokens.weight"), emb));
}

// ---------------------------------------------------------------------------------------------
// Broken files: one clear message each, naming the file and the cause

class BrokenFile : public ::testing::Test {
 protected:
  std::string path_ = temp_dir("st_broken") + "/broken.safetensors";
  ::testing::AssertionResult OpenFails(const std::vector<std::string>& parts) {
    std::vector<std::string> all = parts;
    all.push_back(path_);
    return ThrowsWith([&] { SafetensorsFile f(path_); }, all);
  }
};

TEST_F(BrokenFile, ShorterThanEightBytes) {
  std::ofstream(path_, std::ios::binary) << "abc";
  EXPECT_TRUE(OpenFails({"shorter than the 8-byte header length"}));
}

TEST_F(BrokenFile, EmptyFile) {
  std::ofstream(path_, std::ios::binary).flush();
  EXPECT_TRUE(OpenFails({"file is 0 bytes"}));
}

TEST_F(BrokenFile, HeaderLengthPastEnd) {
  std::ofstream out(path_, std::ios::binary);
  uint64_t n = 1000;
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << R"({"a":1})";
  out.close();
  EXPECT_TRUE(OpenFails({"header length 1000 runs past the end of the file"}));
}

TEST_F(BrokenFile, MalformedHeaderJson) {
  write_raw(path_, R"({"w":{"dtype":"F32",)", "");
  EXPECT_TRUE(OpenFails({"malformed header JSON"}));
}

TEST_F(BrokenFile, HeaderNotAnObject) {
  write_raw(path_, "[1,2]", "");
  EXPECT_TRUE(OpenFails({"malformed header JSON", "not an object"}));
}

TEST_F(BrokenFile, UnknownDtype) {
  write_raw(path_, R"({"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}})", "ab");
  EXPECT_TRUE(OpenFails({"tensor 'w'", "unknown dtype \"F8_E4M3\""}));
}

TEST_F(BrokenFile, ShapeSizeMismatch) {
  write_raw(path_, R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})",
            std::string(20, '\0'));
  EXPECT_TRUE(OpenFails({"tensor 'w'", "shape/size mismatch", "[2,3]", "24", "20"}));
}

TEST_F(BrokenFile, ShapeOverflow) {
  write_raw(path_, R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})",
            std::string(4, '\0'));
  EXPECT_TRUE(OpenFails({"tensor 'w'", "shape/size mismatch"}));
}

TEST_F(BrokenFile, OffsetsPastDataSection) {
  write_raw(path_, R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
            std::string(4, '\0'));
  EXPECT_TRUE(OpenFails({"tensor 'w'", "out of range of the data section (4 bytes)"}));
}

TEST_F(BrokenFile, OffsetsReversed) {
  write_raw(path_, R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})",
            std::string(8, '\0'));
  EXPECT_TRUE(OpenFails({"tensor 'w'", "out of range"}));
}

TEST_F(BrokenFile, OverlappingTensors) {
  write_raw(path_,
            R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
            R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
            std::string(12, '\0'));
  EXPECT_TRUE(OpenFails({"'a'", "'b'", "overlap"}));
}

TEST_F(BrokenFile, MissingDataOffsets) {
  write_raw(path_, R"({"w":{"dtype":"F32","shape":[2]}})", std::string(8, '\0'));
  EXPECT_TRUE(OpenFails({"tensor 'w'", "missing data_offsets"}));
}

TEST_F(BrokenFile, MetadataNotStrings) {
  write_raw(path_, R"({"__metadata__":{"step":3}})", "");
  EXPECT_TRUE(OpenFails({"__metadata__", "\"step\"", "not a string"}));
}

TEST_F(BrokenFile, UnknownTensorOnGet) {
  save_safetensors(path_, {{"w", torch::ones({1})}});
  SafetensorsFile f(path_);
  EXPECT_TRUE(ThrowsWith([&] { f.get("v"); }, {path_, "tensor 'v'", "no such tensor"}));
  EXPECT_TRUE(ThrowsWith([&] { f.info("v"); }, {path_, "tensor 'v'"}));
}

TEST(SaveSafetensors, RejectsDuplicateNames) {
  const std::string path = temp_dir("st_dup") + "/d.safetensors";
  EXPECT_TRUE(ThrowsWith(
      [&] {
        save_safetensors(path, {{"w", torch::ones({1})}, {"w", torch::ones({1})}});
      },
      {path, "'w'", "given twice"}));
  EXPECT_FALSE(seva::io::file_exists(path));
}

// ---------------------------------------------------------------------------------------------
// Broken checkpoints

TEST(BrokenCheckpoint, NeitherFileExists) {
  const std::string dir = temp_dir("ck_none");
  EXPECT_TRUE(ThrowsWith([&] { Checkpoint ck(dir); },
                         {dir, "model.safetensors", "model.safetensors.index.json"}));
}

TEST(BrokenCheckpoint, ShardMissing) {
  const std::string dir = temp_dir("ck_missing");
  save_checkpoint(dir, six_tensors(), 40);
  std::remove((dir + "/model-00002-of-00003.safetensors").c_str());
  EXPECT_TRUE(ThrowsWith(
      [&] { Checkpoint ck(dir); },
      {"model.safetensors.index.json", "model-00002-of-00003.safetensors", "does not exist"}));
}

TEST(BrokenCheckpoint, IndexPlacesTensorInShardThatLacksIt) {
  const std::string dir = temp_dir("ck_misplaced");
  save_safetensors(dir + "/model-00001-of-00002.safetensors", {{"a", torch::ones({1})}});
  save_safetensors(dir + "/model-00002-of-00002.safetensors", {{"b", torch::ones({1})}});
  seva::io::write_file_atomic(dir + "/model.safetensors.index.json",
                              R"({"metadata":{"total_size":8},"weight_map":{)"
                              R"("a":"model-00001-of-00002.safetensors",)"
                              R"("b":"model-00001-of-00002.safetensors"}})");
  EXPECT_TRUE(ThrowsWith(
      [&] { Checkpoint ck(dir); },
      {"model.safetensors.index.json", "'b'", "model-00001-of-00002.safetensors", "lacks it"}));
}

TEST(BrokenCheckpoint, TensorInTwoShards) {
  const std::string dir = temp_dir("ck_twice");
  save_safetensors(dir + "/model-00001-of-00002.safetensors",
                   {{"a", torch::ones({1})}, {"x", torch::ones({1})}});
  save_safetensors(dir + "/model-00002-of-00002.safetensors",
                   {{"b", torch::ones({1})}, {"x", torch::zeros({1})}});
  seva::io::write_file_atomic(dir + "/model.safetensors.index.json",
                              R"({"metadata":{"total_size":16},"weight_map":{)"
                              R"("a":"model-00001-of-00002.safetensors",)"
                              R"("b":"model-00002-of-00002.safetensors",)"
                              R"("x":"model-00001-of-00002.safetensors"}})");
  EXPECT_TRUE(ThrowsWith([&] { Checkpoint ck(dir); },
                         {"'x'", "two shards", "model-00001-of-00002.safetensors",
                          "model-00002-of-00002.safetensors"}));
}

TEST(BrokenCheckpoint, IndexWithoutWeightMap) {
  const std::string dir = temp_dir("ck_nomap");
  seva::io::write_file_atomic(dir + "/model.safetensors.index.json", R"({"metadata":{}})");
  EXPECT_TRUE(
      ThrowsWith([&] { Checkpoint ck(dir); }, {"model.safetensors.index.json", "weight_map"}));
}

TEST(BrokenCheckpoint, BrokenShardNamesTheShard) {
  const std::string dir = temp_dir("ck_badshard");
  save_checkpoint(dir, six_tensors(), 40);
  std::ofstream(dir + "/model-00003-of-00003.safetensors", std::ios::binary) << "xy";
  EXPECT_TRUE(ThrowsWith([&] { Checkpoint ck(dir); },
                         {dir + "/model-00003-of-00003.safetensors", "shorter than"}));
}

// Found by fuzz/fuzz_safetensors_header: a shape of a million nested '[' parsed fine, then the
// error message dumped it recursively and overflowed the stack. Deep nesting is refused up front.
TEST(BrokenSafetensors, DeeplyNestedHeaderIsRefusedNotOverflowed) {
  const std::string dir = temp_dir("st_deep");
  const std::string deep = std::string(1000000, '[') + std::string(1000000, ']');
  const std::string path =
      write_raw(dir + "/deep.safetensors",
                R"({"a":{"dtype":"F32","shape":)" + deep + R"(,"data_offsets":[0,0]}})", "");
  EXPECT_TRUE(ThrowsWith([&] { SafetensorsFile f(path); }, {path, "nested deeper than 256"}));
  // The index of a sharded checkpoint (read with io::read_json) is bounded the same way.
  write_raw(dir + "/model-00001-of-00001.safetensors", "{}", "");
  std::ofstream(dir + "/model.safetensors.index.json") << R"({"weight_map":{"a":)" << deep << "}}";
  EXPECT_TRUE(ThrowsWith([&] { Checkpoint ck(dir); }, {"model.safetensors.index.json", "nested deeper than 256"}));
}

}  // namespace
