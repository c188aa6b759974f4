#include "method/questions.h"

#include "io/jsonl.h"

#include <nlohmann/json.hpp>

#include <map>
#include <stdexcept>

namespace seva::method {

using nlohmann::json;

std::vector<Question> read_questions(const std::string& path) {
  std::vector<Question> items;
  std::map<std::string, size_t> line_of;
  io::for_each_jsonl(path, [&](const json& j, size_t line) {
    auto where = path + ":" + std::to_string(line);
    if (!j.is_object()) throw std::runtime_error(where + ": expected a JSON object");
    auto id = j.find("id");
    auto image = j.find("image");
    auto text = j.find("text");
    if (text == j.end()) text = j.find("question");
    if (id == j.end() || (!id->is_string() && !id->is_number_integer()))
      throw std::runtime_error(where + ": missing \"id\" (a string or an integer)");
    if (image == j.end() || !image->is_string()) throw std::runtime_error(where + ": missing \"image\" (a string)");
    if (text == j.end() || !text->is_string()) throw std::runtime_error(where + ": missing \"text\" (the question)");
    Question it{id->is_string() ? id->get<std::string>() : id->dump(), image->get<std::string>(), text->get<std::string>()};
    if (auto [pos, fresh] = line_of.emplace(it.id, line); !fresh)
      throw std::runtime_error(where + ": duplicate id \"" + it.id + "\" (first on line " + std::to_string(pos->second) +
                               "); ids must be unique to resume");
    items.push_back(std::move(it));
  });
  return items;
}

}  // namespace seva::method
