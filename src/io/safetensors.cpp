// safetensors reading (mmap, validated header) and writing (the Rust crate's layout, atomic).
#include "io/safetensors.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <stdexcept>

#include "io/files.h"
#include "io/jsonl.h"

namespace seva::io {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian; this reader copies bytes as they are");

// The Rust crate refuses headers above 100 MB; so do we (a corrupt length would otherwise make us
// parse gigabytes of tensor data as JSON).
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct DtypeDesc {
  const char* name;
  torch::ScalarType type;
  size_t size;
  int rank;  // position in the Rust crate's `Dtype` enum: the writer orders by it, descending
};

// Only the dtypes libtorch has on every version we build against. The Rust enum order is
// BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64.
const DtypeDesc kDtypes[] = {
    {"BOOL", torch::kBool, 1, 0},    {"U8", torch::kUInt8, 1, 1},
    {"I8", torch::kInt8, 1, 2},      {"I16", torch::kInt16, 2, 5},
    {"F16", torch::kHalf, 2, 7},     {"BF16", torch::kBFloat16, 2, 8},
    {"I32", torch::kInt32, 4, 9},    {"F32", torch::kFloat32, 4, 11},
    {"F64", torch::kFloat64, 8, 12}, {"I64", torch::kInt64, 8, 13},
};

const DtypeDesc* find_dtype(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return &d;
  return nullptr;
}

const DtypeDesc* find_dtype(torch::ScalarType type) {
  for (const auto& d : kDtypes)
    if (type == d.type) return &d;
  return nullptr;
}

bool is_float_dtype(torch::ScalarType t) {
  return t == torch::kFloat32 || t == torch::kFloat64 || t == torch::kHalf || t == torch::kBFloat16;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error("safetensors " + path + ": " + what);
}

[[noreturn]] void fail_tensor(const std::string& path, const std::string& name,
                              const std::string& what) {
  fail(path, "tensor '" + name + "': " + what);
}

// Parses and checks one header entry (everything but the data range against other tensors).
TensorInfo parse_entry(const std::string& path, const std::string& name, const nlohmann::json& j,
                       uint64_t data_size) {
  if (!j.is_object()) fail_tensor(path, name, "header entry is not a JSON object");
  TensorInfo info;

  auto dt = j.find("dtype");
  if (dt == j.end() || !dt->is_string()) fail_tensor(path, name, "missing dtype");
  info.dtype = dt->get<std::string>();
  const DtypeDesc* desc = find_dtype(info.dtype);
  if (!desc)
    fail_tensor(path, name,
                "unknown dtype \"" + info.dtype +
                    "\" (known: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");

  auto sh = j.find("shape");
  if (sh == j.end() || !sh->is_array()) fail_tensor(path, name, "missing shape");
  uint64_t numel = 1;
  bool overflow = false;
  for (const auto& d : *sh) {
    if (!d.is_number_unsigned() || d.get<uint64_t>() > uint64_t(INT64_MAX))
      fail_tensor(path, name, "shape " + sh->dump() + " is not a list of non-negative integers");
    uint64_t v = d.get<uint64_t>();
    info.shape.push_back(static_cast<int64_t>(v));
    overflow = overflow || __builtin_mul_overflow(numel, v, &numel);
  }

  auto off = j.find("data_offsets");
  if (off == j.end()) fail_tensor(path, name, "missing data_offsets");
  if (!off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
      !(*off)[1].is_number_unsigned())
    fail_tensor(path, name, "data_offsets " + off->dump() + " is not [begin, end]");
  info.begin = (*off)[0].get<uint64_t>();
  info.end = (*off)[1].get<uint64_t>();
  if (info.begin > info.end || info.end > data_size)
    fail_tensor(path, name,
                "data_offsets [" + std::to_string(info.begin) + "," + std::to_string(info.end) +
                    "] out of range of the data section (" + std::to_string(data_size) + " bytes)");

  uint64_t bytes = 0;
  overflow = overflow || __builtin_mul_overflow(numel, uint64_t(desc->size), &bytes);
  if (overflow || bytes != info.end - info.begin)
    fail_tensor(path, name,
                "shape/size mismatch: shape " + shape_str(info.shape) + " of " + info.dtype +
                    " needs " + (overflow ? std::string("more than 2^64") : std::to_string(bytes)) +
                    " bytes but data_offsets span " + std::to_string(info.end - info.begin));
  return info;
}

// The Rust crate's order: dtype rank descending (largest elements first, so every tensor stays
// aligned to its element size when the data section is), then name.
std::vector<std::pair<std::string, torch::Tensor>> layout_order(
    const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors) {
  std::set<std::string> seen;
  for (const auto& [name, t] : tensors) {
    if (name == "__metadata__") fail(path, "a tensor may not be named __metadata__");
    if (!seen.insert(name).second) fail_tensor(path, name, "given twice");
    if (!t.defined()) fail_tensor(path, name, "undefined tensor");
    if (!find_dtype(t.scalar_type()))
      fail_tensor(path, name,
                  std::string("dtype ") + c10::toString(t.scalar_type()) +
                      " cannot be written to safetensors");
  }
  auto sorted = tensors;
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    int ra = find_dtype(a.second.scalar_type())->rank,
        rb = find_dtype(b.second.scalar_type())->rank;
    if (ra != rb) return ra > rb;
    return a.first < b.first;
  });
  return sorted;
}

uint64_t byte_size(const torch::Tensor& t) {
  return static_cast<uint64_t>(t.numel()) * t.element_size();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// SafetensorsFile

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st;
  if (::fstat(fd_, &st) != 0) {
    std::string why = std::strerror(errno);
    ::close(fd_);
    fail(path, "cannot stat: " + why);
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ < 8) {
    ::close(fd_);
    fail(path, "file is " + std::to_string(size_) +
                   " bytes, shorter than the 8-byte header length (truncated or not safetensors)");
  }
  void* m = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
  // The mapping outlives the descriptor; closing it keeps many shards from holding many fds.
  ::close(fd_);
  fd_ = -1;
  if (m == MAP_FAILED) fail(path, std::string("cannot mmap: ") + std::strerror(errno));
  map_ = static_cast<const uint8_t*>(m);

  try {
    uint64_t n = 0;
    std::memcpy(&n, map_, 8);  // little-endian u64
    if (n > kMaxHeaderBytes)
      fail(path, "header length " + std::to_string(n) +
                     " exceeds the 100 MB limit (corrupt or not safetensors)");
    if (n > size_ - 8)
      fail(path, "header length " + std::to_string(n) + " runs past the end of the file (" +
                     std::to_string(size_) + " bytes; truncated or not safetensors)");
    data_offset_ = 8 + n;
    const uint64_t data_size = size_ - data_offset_;

    nlohmann::json header;
    try {
      // Depth-bounded: a header of nested '[' would overflow the stack in error messages.
      header = parse_json(reinterpret_cast<const char*>(map_ + 8),
                          reinterpret_cast<const char*>(map_ + 8 + n));
    } catch (const std::exception& e) {
      fail(path, std::string("malformed header JSON: ") + e.what());
    }
    if (!header.is_object()) fail(path, "malformed header JSON: not an object");

    for (auto it = header.begin(); it != header.end(); ++it) {
      if (it.key() == "__metadata__") {
        if (!it->is_object()) fail(path, "__metadata__ is not a JSON object");
        for (auto m2 = it->begin(); m2 != it->end(); ++m2) {
          if (!m2->is_string())
            fail(path, "__metadata__ value of \"" + m2.key() + "\" is not a string");
          metadata_[m2.key()] = m2->get<std::string>();
        }
        continue;
      }
      tensors_[it.key()] = parse_entry(path, it.key(), *it, data_size);
    }

    // Overlap: sort the byte ranges; an empty tensor overlaps nothing.
    std::vector<std::pair<const std::string*, const TensorInfo*>> by_offset;
    for (const auto& [name, info] : tensors_)
      if (info.end > info.begin) by_offset.emplace_back(&name, &info);
    std::sort(by_offset.begin(), by_offset.end(),
              [](const auto& a, const auto& b) { return a.second->begin < b.second->begin; });
    for (size_t i = 1; i < by_offset.size(); ++i) {
      const auto& prev = by_offset[i - 1];
      const auto& cur = by_offset[i];
      if (cur.second->begin < prev.second->end)
        fail(path, "tensors '" + *prev.first + "' [" + std::to_string(prev.second->begin) + "," +
                       std::to_string(prev.second->end) + ") and '" + *cur.first + "' [" +
                       std::to_string(cur.second->begin) + "," + std::to_string(cur.second->end) +
                       ") overlap");
    }
  } catch (...) {
    ::munmap(const_cast<uint8_t*>(map_), size_);
    map_ = nullptr;
    throw;
  }
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(const_cast<uint8_t*>(map_), size_);
  if (fd_ >= 0) ::close(fd_);
}

std::vector<std::string> SafetensorsFile::keys() const {
  std::vector<std::string> out;
  out.reserve(tensors_.size());
  for (const auto& kv : tensors_) out.push_back(kv.first);
  return out;
}

bool SafetensorsFile::contains(const std::string& name) const { return tensors_.count(name) > 0; }

const TensorInfo& SafetensorsFile::info(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) fail_tensor(path_, name, "no such tensor in this file");
  return it->second;
}

torch::Tensor SafetensorsFile::get(const std::string& name,
                                   c10::optional<torch::ScalarType> float_dtype) const {
  const TensorInfo& ti = info(name);
  const DtypeDesc* desc = find_dtype(ti.dtype);  // validated on open
  // Booleans are read as bytes and compared with zero: a byte other than 0/1 in a torch bool is
  // undefined behaviour.
  torch::ScalarType read_as = desc->type == torch::kBool ? torch::kUInt8 : desc->type;
  torch::Tensor t = torch::empty(ti.shape, torch::TensorOptions().dtype(read_as));
  // The mapped data need not be aligned to the element size: copy bytes, never view them.
  if (ti.end > ti.begin)
    std::memcpy(t.data_ptr(), map_ + data_offset_ + ti.begin, ti.end - ti.begin);
  if (desc->type == torch::kBool) t = t.ne(0);
  if (float_dtype && is_float_dtype(desc->type) && *float_dtype != desc->type)
    t = t.to(*float_dtype);
  return t;
}

// ---------------------------------------------------------------------------------------------
// Checkpoint

Checkpoint::Checkpoint(const std::string& dir, const std::string& stem) : dir_(dir) {
  const std::string single = join_path(dir, stem + ".safetensors");
  const std::string index = join_path(dir, stem + ".safetensors.index.json");
  // transformers looks for the single file first, then the index.
  if (file_exists(single)) {
    files_.push_back(std::make_unique<SafetensorsFile>(single));
    for (const auto& k : files_[0]->keys()) where_[k] = 0;
    return;
  }
  if (!file_exists(index))
    throw std::runtime_error("checkpoint " + dir + ": neither " + stem + ".safetensors nor " +
                             stem + ".safetensors.index.json exists there");

  nlohmann::json j = read_json(index);
  auto wm = j.find("weight_map");
  if (!j.is_object() || wm == j.end() || !wm->is_object())
    throw std::runtime_error(index + ": no \"weight_map\" object");

  std::map<std::string, size_t> shard_index;  // shard file name -> index into files_
  for (auto it = wm->begin(); it != wm->end(); ++it) {
    if (!it->is_string())
      throw std::runtime_error(index + ": weight_map entry '" + it.key() + "' is not a file name");
    const std::string shard = it->get<std::string>();
    if (shard_index.count(shard)) continue;
    const std::string shard_path = join_path(dir, shard);
    if (!file_exists(shard_path))
      throw std::runtime_error(index + ": shard " + shard_path + " (holding '" + it.key() +
                               "') does not exist");
    shard_index[shard] = files_.size();
    files_.push_back(std::make_unique<SafetensorsFile>(shard_path));
  }
  // Every tensor of every listed shard, each in exactly one shard.
  for (size_t i = 0; i < files_.size(); ++i) {
    for (const auto& k : files_[i]->keys()) {
      auto [pos, inserted] = where_.emplace(k, i);
      if (!inserted)
        throw std::runtime_error(index + ": tensor '" + k + "' is in two shards: " +
                                 files_[pos->second]->path() + " and " + files_[i]->path());
    }
  }
  for (auto it = wm->begin(); it != wm->end(); ++it) {
    const auto& file = files_[shard_index.at(it->get<std::string>())];
    if (!file->contains(it.key()))
      throw std::runtime_error(index + ": places tensor '" + it.key() + "' in shard " +
                               file->path() + ", which lacks it");
  }
}

std::vector<std::string> Checkpoint::keys() const {
  std::vector<std::string> out;
  out.reserve(where_.size());
  for (const auto& kv : where_) out.push_back(kv.first);
  return out;
}

bool Checkpoint::contains(const std::string& name) const { return where_.count(name) > 0; }

const std::string& Checkpoint::file_of(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end())
    throw std::runtime_error("checkpoint " + dir_ + ": no tensor '" + name + "'");
  return files_[it->second]->path();
}

const TensorInfo& Checkpoint::info(const std::string& name) const {
  file_of(name);  // throws naming the checkpoint
  return files_[where_.at(name)]->info(name);
}

torch::Tensor Checkpoint::get(const std::string& name,
                              c10::optional<torch::ScalarType> float_dtype) const {
  file_of(name);
  return files_[where_.at(name)]->get(name, float_dtype);
}

// ---------------------------------------------------------------------------------------------
// Writing

void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  auto sorted = layout_order(path, tensors);

  // Key order as the crate serialises: __metadata__, then tensors in data order; inside an entry
  // dtype, shape, data_offsets. Compact, padded with spaces to a multiple of 8.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    header["__metadata__"] = m;
  }
  uint64_t offset = 0;
  for (const auto& [name, t] : sorted) {
    nlohmann::ordered_json e = nlohmann::ordered_json::object();
    e["dtype"] = find_dtype(t.scalar_type())->name;
    e["shape"] = t.sizes().vec();
    e["data_offsets"] = {offset, offset + byte_size(t)};
    header[name] = e;
    offset += byte_size(t);
  }
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');

  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  try {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail(tmp, std::string("cannot write: ") + std::strerror(errno));
    uint64_t n = h.size();
    char len[8];
    std::memcpy(len, &n, 8);
    out.write(len, 8);
    out.write(h.data(), static_cast<std::streamsize>(h.size()));
    // One tensor at a time on the CPU, so a large checkpoint is never copied whole.
    for (const auto& [name, t] : sorted) {
      torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
      out.write(static_cast<const char*>(c.data_ptr()), static_cast<std::streamsize>(byte_size(c)));
    }
    out.flush();
    if (!out) fail(tmp, std::string("write failed: ") + std::strerror(errno));
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    fail(path, "cannot rename " + tmp + " into place: " + why);
  }
}

void save_checkpoint(const std::string& dir,
                     const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                     uint64_t max_shard_bytes, const std::string& stem,
                     const std::map<std::string, std::string>& metadata) {
  // transformers' shard_checkpoint: tensors in the given order; start a new shard when the next
  // tensor would push the current one over the limit, unless the current one is still empty.
  std::vector<std::vector<std::pair<std::string, torch::Tensor>>> shards(1);
  uint64_t current = 0, total = 0;
  for (const auto& nt : tensors) {
    uint64_t b = nt.second.defined() ? byte_size(nt.second) : 0;
    if (current + b > max_shard_bytes && !shards.back().empty()) {
      shards.emplace_back();
      current = 0;
    }
    shards.back().push_back(nt);
    current += b;
    total += b;
  }

  const std::string single = stem + ".safetensors";
  const std::string index = stem + ".safetensors.index.json";
  std::set<std::string> written;
  if (shards.size() == 1) {
    save_safetensors(join_path(dir, single), shards[0], metadata);
    written.insert(single);
  } else {
    nlohmann::json weight_map = nlohmann::json::object();
    char buf[64];
    for (size_t i = 0; i < shards.size(); ++i) {
      std::snprintf(buf, sizeof buf, "-%05zu-of-%05zu.safetensors", i + 1, shards.size());
      const std::string file = stem + buf;
      save_safetensors(join_path(dir, file), shards[i], metadata);
      for (const auto& nt : shards[i]) weight_map[nt.first] = file;
      written.insert(file);
    }
    // json.dumps(index, indent=2, sort_keys=True) + "\n", as transformers writes it.
    nlohmann::json idx = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
    write_file_atomic(join_path(dir, index), idx.dump(2) + "\n");
    written.insert(index);
  }

  // Like save_pretrained, remove what an earlier save left under the same stem: a stale
  // model.safetensors would shadow a new index (readers look for it first), and stale shards or
  // index would confuse anyone reading the directory.
  const std::regex stale(
      "^" + std::regex_replace(stem, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
      R"((\.safetensors|\.safetensors\.index\.json|-\d{5}-of-\d{5}\.safetensors)$)");
  if (DIR* d = ::opendir(dir.c_str())) {
    std::vector<std::string> remove;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (!written.count(n) && std::regex_match(n, stale)) remove.push_back(n);
    }
    ::closedir(d);
    for (const auto& n : remove) std::remove(join_path(dir, n).c_str());
  }
}

}  // namespace seva::io
