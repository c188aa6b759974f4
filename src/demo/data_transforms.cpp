#include "demo/data_transforms.h"

#include "io/files.h"
#include "io/jsonl.h"

#include <nlohmann/json.hpp>

#include <map>
#include <stdexcept>
#include <vector>

namespace seva::demo {

void write_sft_from_pairs(const std::string& pairs_path, const std::string& labels_path, bool use_labels,
                          const std::string& out) {
  std::map<std::string, std::string> labels;
  if (use_labels)
    io::for_each_jsonl(labels_path, [&](const nlohmann::json& j, int64_t) {
      labels[j.at("id").get<std::string>()] = j.at("answer").get<std::string>();
    });
  nlohmann::json data = nlohmann::json::array();
  io::for_each_jsonl(pairs_path, [&](const nlohmann::json& p, int64_t line) {
    const std::string id = p.at("id").get<std::string>();
    std::string answer = p.at("chosen").get<std::string>();
    if (use_labels) {
      auto it = labels.find(id);
      if (it == labels.end()) throw std::runtime_error(pairs_path + ":" + std::to_string(line) + ": no label for " + id);
      answer = it->second;
    }
    data.push_back({{"id", id},
                    {"image", p.at("image")},
                    {"conversations",
                     {{{"from", "human"}, {"value", "<image>\n" + p.at("question").get<std::string>()}},
                      {{"from", "gpt"}, {"value", answer}}}}});
  });
  io::write_file_atomic(out, data.dump() + "\n");
}

void write_swapped_vqa(const std::string& vqa, const std::string& out) {
  std::vector<nlohmann::json> rows;
  io::for_each_jsonl(vqa, [&](const nlohmann::json& j, int64_t) { rows.push_back(j); });
  std::string text;
  for (size_t i = 0; i < rows.size(); ++i) {
    nlohmann::json row = rows[i];
    for (size_t k = 1; k < rows.size(); ++k) {
      const auto& other = rows[(i + k) % rows.size()];
      if (other.at("image") != rows[i].at("image")) {
        row["image"] = other.at("image");
        break;
      }
    }
    text += row.dump() + "\n";
  }
  io::write_file_atomic(out, text);
}

int64_t count_lines(const std::string& path) {
  int64_t n = 0;
  if (io::file_exists(path)) io::for_each_jsonl(path, [&](const nlohmann::json&, int64_t) { ++n; });
  return n;
}

}  // namespace seva::demo
