#include "train/ref_cache.h"

#include "io/files.h"
#include "io/jsonl.h"

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

}  // namespace

std::string fnv1a_hex(const std::string& bytes) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

nlohmann::json ref_cache_key(const std::string& pairs_path, const generate::ModelOptions& model,
                             torch::ScalarType dtype, const std::string& images_dir) {
  std::string pairs = io::read_file(pairs_path);
  nlohmann::json weights = nlohmann::json::object();
  for (const auto& f : weight_files(model.model_dir)) weights[f] = stat_of(io::join_path(model.model_dir, f));
  auto config = io::join_path(model.model_dir, "config.json");
  nlohmann::json adapter = nullptr;
  if (!model.adapter_dir.empty()) {
    auto ac = io::join_path(model.adapter_dir, "adapter_config.json");
    adapter = {{"config", io::file_exists(ac) ? fnv1a_hex(io::read_file(ac)) : ""},
               {"weights", stat_of(io::join_path(model.adapter_dir, "adapter_model.safetensors"))}};
  }
  return {{"format", 1},
          {"pairs", {{"fnv1a", fnv1a_hex(pairs)}, {"size", pairs.size()}}},
          {"model", {{"config", io::file_exists(config) ? fnv1a_hex(io::read_file(config)) : ""}, {"weights", weights}}},
          {"adapter", adapter},
          {"image_aspect", model.image_aspect},
          {"images", absolute(images_dir)},
          {"dtype", std::string(c10::toString(dtype))}};
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
