// safetensors: memory-mapped reading (single file or sharded with an index) and writing.
// No pickle loading, ever. Every error names the file and, where there is one, the tensor.
#pragma once
#include <torch/types.h>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace seva::io {

// One tensor's entry in a safetensors header.
struct TensorInfo {
  std::string dtype;            // as written: "F32", "F16", "BF16", "F64", "I64", "I32", "I16", "I8", "U8", "BOOL"
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte offsets into the data section
};

// One .safetensors file, memory-mapped read-only. The header is validated on open: header length
// within the file, JSON well formed, every dtype known, shape × element size == end − begin,
// offsets inside the data section, no two tensors overlapping.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);  // throws std::runtime_error naming `path`
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  std::vector<std::string> keys() const;  // sorted
  bool contains(const std::string& name) const;
  const TensorInfo& info(const std::string& name) const;  // throws naming file and tensor
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // A copy of the tensor (CPU, contiguous). Floating dtypes (F16/BF16/F32/F64) are converted to
  // `float_dtype` when it is given; integer and bool tensors keep their type.
  torch::Tensor get(const std::string& name,
                    c10::optional<torch::ScalarType> float_dtype = c10::nullopt) const;

 private:
  std::string path_;
  int fd_ = -1;
  const uint8_t* map_ = nullptr;
  size_t size_ = 0;
  size_t data_offset_ = 0;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

// All tensors of a checkpoint directory: `model.safetensors`, or the shards listed in
// `model.safetensors.index.json` (its "weight_map"). A missing shard or a tensor the index places
// in a shard that lacks it is an error naming both.
class Checkpoint {
 public:
  // `dir` holds the files; `stem` is "model" for model.safetensors / model.safetensors.index.json.
  explicit Checkpoint(const std::string& dir, const std::string& stem = "model");
  std::vector<std::string> keys() const;  // sorted
  bool contains(const std::string& name) const;
  const TensorInfo& info(const std::string& name) const;
  torch::Tensor get(const std::string& name,
                    c10::optional<torch::ScalarType> float_dtype = c10::nullopt) const;
  const std::string& file_of(const std::string& name) const;  // the path of the shard holding it

 private:
  std::string dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, size_t> where_;  // tensor name -> index into files_
};

// Writes tensors (any CPU or CUDA tensor; written contiguous, in the tensor's own dtype) to one
// file atomically (a temporary file renamed into place), in the layout the Rust crate writes:
// tensors ordered by dtype alignment then name, header padded with spaces to 8 bytes,
// `__metadata__` when non-empty.
void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Same, split into shards of at most `max_shard_bytes` each, named
// `{stem}-00001-of-0000N.safetensors`, plus `{stem}.safetensors.index.json` (as transformers
// writes: {"metadata": {"total_size": N}, "weight_map": {name: file}}). With one shard, writes
// `{stem}.safetensors` and no index.
void save_checkpoint(const std::string& dir,
                     const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                     uint64_t max_shard_bytes, const std::string& stem = "model",
                     const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

}  // namespace seva::io
