#include "train/ref_cache.h"

#include "dist/dist.h"
#include "io/files.h"
#include "io/jsonl.h"
#include "util/strings.h"

#include <iostream>
#include <memory>

#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>

namespace seva::train {
namespace {

// Size and modification time (ns) of a file: enough to notice a rewritten multi-GB weight file
// without reading it.
nlohmann::json stat_of(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return nullptr;
  return {{"size", static_cast<int64_t>(st.st_size)},
          {"mtime_ns", static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec}};
}

std::string absolute(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) ? std::string(buf) : path;
}

std::vector<std::string> weight_files(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (auto* e = ::readdir(d)) {
      std::string n = e->d_name;
      auto ends = [&](const std::string& s) { return n.size() >= s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0; };
      if (ends(".safetensors") || ends(".safetensors.index.json")) out.push_back(n);
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<double> values_of(const torch::Tensor& t) {
  auto v = t.to(torch::kFloat64).contiguous();
  return std::vector<double>(v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
}

// Appends rows to the cache file, opened on the first row. When the pairs' directory is not
// writable the cache moves to the run directory, taking along what is known so far.
class RefCacheWriter {
 public:
  RefCacheWriter(const RefCacheSpec& spec, const std::vector<PreferencePair>& pairs, std::vector<torch::Tensor>& ref,
                 std::string path, bool append)
      : spec_(spec), pairs_(pairs), ref_(ref), path_(std::move(path)), append_(append) {}
  const std::string& path() const { return path_; }

  void write(size_t i) {
    open();
    writer_->write({{"index", i}, {"id", pairs_[i].id}, {"logps", values_of(ref_[i])}});
  }

 private:
  void open_at(const std::string& path, bool append) {
    writer_ = std::make_unique<io::JsonlWriter>(path, append);
    if (!append) writer_->write({{"seva_ref_logps", 1}, {"key", spec_.key}});
    path_ = path;
  }
  void open() {
    if (writer_) return;
    try {
      open_at(path_, append_);
    } catch (const std::exception&) {  // the pairs' directory is read-only: keep the cache in the run
      const auto there_path = ref_cache_path(spec_.pairs_path, spec_.key, spec_.run_dir);
      std::vector<torch::Tensor> there;
      read_ref_cache(there_path, spec_.key, pairs_, there);  // what an earlier run kept there, if anything
      for (size_t i = 0; i < ref_.size(); ++i)
        if (!ref_[i].defined()) ref_[i] = there[i];
      open_at(there_path, false);
      for (size_t i = 0; i < ref_.size(); ++i)
        if (ref_[i].defined()) writer_->write({{"index", i}, {"id", pairs_[i].id}, {"logps", values_of(ref_[i])}});
    }
  }
  const RefCacheSpec& spec_;
  const std::vector<PreferencePair>& pairs_;
  std::vector<torch::Tensor>& ref_;
  std::string path_;
  bool append_;
  std::unique_ptr<io::JsonlWriter> writer_;
};

// Several ranks: every rank's fresh rows to every rank; rank 0 writes them in pair order.
void gather_fresh(const nlohmann::json& mine, std::vector<torch::Tensor>& ref, RefCacheWriter& writer) {
  std::vector<size_t> fresh;
  for (const auto& bytes : dist::all_gather_bytes(mine.dump()))
    for (const auto& row : nlohmann::json::parse(bytes)) {
      size_t i = row[0].get<size_t>();
      ref[i] = torch::tensor(row[1].get<std::vector<double>>(), torch::kFloat32);
      fresh.push_back(i);
    }
  std::sort(fresh.begin(), fresh.end());
  if (dist::is_main())
    for (auto i : fresh) writer.write(i);
}

}  // namespace

std::vector<torch::Tensor> reference_logps(model::VisionLanguageModelImpl& model,
                                           const std::vector<PreferencePair>& pairs,
                                           const std::vector<PackedExample>& examples, ImageFeatures& features,
                                           const RefCacheSpec& spec) {
  std::vector<torch::Tensor> ref;
  const auto path = ref_cache_path(spec.pairs_path, spec.key);
  const bool valid = read_ref_cache(path, spec.key, pairs, ref);
  dist::barrier();  // every rank has read the cache before rank 0 writes to it
  size_t reused = 0;
  for (const auto& r : ref) reused += r.defined();
  if (!spec.quiet && reused > 0) std::cerr << "reference log-probs: " << reused << " from " << path << "\n";
  RefCacheWriter writer(spec, pairs, ref, path, valid);
  torch::NoGradGuard ng;
  nlohmann::json mine = nlohmann::json::array();
  const size_t chunk = static_cast<size_t>(std::max<int64_t>(1, spec.chunk));
  for (size_t i = 0, c = 0; i < pairs.size(); i += chunk, ++c) {
    std::vector<size_t> todo;
    for (size_t j = i; j < std::min(pairs.size(), i + chunk); ++j)
      if (!ref[j].defined()) todo.push_back(j);
    if (todo.empty() || !dist::mine(c)) continue;
    std::vector<PackedExample> ex;
    std::vector<std::string> images;
    for (auto j : todo) {
      ex.push_back(examples[j]);
      images.push_back(pairs[j].image);
    }
    auto lp = packed_logps(model, ex, features(images));
    for (size_t k = 0; k < todo.size(); ++k) {
      ref[todo[k]] = lp[k].cpu().to(torch::kFloat32);
      if (dist::active()) mine.push_back({todo[k], values_of(ref[todo[k]])});
      else writer.write(todo[k]);
    }
  }
  if (dist::active()) gather_fresh(mine, ref, writer);
  return ref;
}

std::string fnv1a_hex(const std::string& bytes) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(util::fnv1a(bytes, util::kFnv1aShortBasis)));
  return buf;
}

nlohmann::json model_identity(const generate::ModelOptions& model) {
  nlohmann::json weights = nlohmann::json::object();
  for (const auto& f : weight_files(model.model_dir)) weights[f] = stat_of(io::join_path(model.model_dir, f));
  auto config = io::join_path(model.model_dir, "config.json");
  return {{"config", io::file_exists(config) ? fnv1a_hex(io::read_file(config)) : ""}, {"weights", weights}};
}

nlohmann::json ref_cache_key(const std::string& pairs_path, const generate::ModelOptions& model,
                             torch::ScalarType dtype, const std::string& images_dir) {
  std::string pairs = io::read_file(pairs_path);
  nlohmann::json adapter = nullptr;
  if (!model.adapter_dir.empty()) {
    auto ac = io::join_path(model.adapter_dir, "adapter_config.json");
    adapter = {{"config", io::file_exists(ac) ? fnv1a_hex(io::read_file(ac)) : ""},
               {"weights", stat_of(io::join_path(model.adapter_dir, "adapter_model.safetensors"))}};
  }
  return {{"format", 1},
          {"pairs", {{"fnv1a", fnv1a_hex(pairs)}, {"size", pairs.size()}}},
          {"model", model_identity(model)},
          {"adapter", adapter},
          {"image_aspect", model.image_aspect},
          {"images", absolute(images_dir)},
          {"dtype", std::string(c10::toString(dtype))}};
}

nlohmann::json run_identity_of(nlohmann::json key) {
  if (key.is_object()) {
    key.erase("mtime_ns");
    for (auto& [k, v] : key.items()) v = run_identity_of(v);
  }
  return key;
}

std::string ref_cache_path(const std::string& pairs_path, const nlohmann::json& key, const std::string& dir_override) {
  auto slash = pairs_path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : pairs_path.substr(0, slash);
  std::string name = slash == std::string::npos ? pairs_path : pairs_path.substr(slash + 1);
  if (!dir_override.empty()) dir = dir_override;
  return io::join_path(dir, name + ".ref_logps." + fnv1a_hex(key.dump()) + ".jsonl");
}

bool read_ref_cache(const std::string& path, const nlohmann::json& key, const std::vector<PreferencePair>& pairs,
                    std::vector<torch::Tensor>& ref) {
  ref.assign(pairs.size(), torch::Tensor());
  if (!io::file_exists(path)) return false;
  std::vector<torch::Tensor> got(pairs.size());
  bool ok = true, header = false;
  try {
    io::for_each_jsonl(path, [&](const nlohmann::json& row, size_t line) {
      if (!ok) return;
      if (line == 1) {
        header = row.value("seva_ref_logps", 0) == 1 && row.contains("key") && row["key"] == key;
        ok = header;
        return;
      }
      auto i = row.at("index").get<size_t>();
      if (i >= pairs.size() || row.at("id").get<std::string>() != pairs[i].id) {
        ok = false;
        return;
      }
      got[i] = torch::tensor(row.at("logps").get<std::vector<double>>(), torch::kFloat32);
    }, /*tolerate_torn_tail=*/true);
  } catch (const std::exception&) {
    return false;
  }
  if (!ok || !header) return false;
  ref = std::move(got);
  return true;
}

}  // namespace seva::train
