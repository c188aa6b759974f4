#include "eval/chair.h"

#include "io/files.h"
#include "io/jsonl.h"
#include "text/word_tokenize.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace seva::eval {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

std::string strip(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

// Python's s.split(sep) for a non-empty separator.
std::vector<std::string> split(const std::string& s, std::string_view sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    const size_t hit = s.find(sep, pos);
    if (hit == std::string::npos) break;
    out.push_back(s.substr(pos, hit - pos));
    pos = hit + sep.size();
  }
  out.push_back(s.substr(pos));
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out = split(text, "\n");
  for (auto& l : out)
    if (!l.empty() && l.back() == '\r') l.pop_back();
  return out;
}

size_t char_count(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

// ---- vocabulary ----

ChairVocabulary ChairVocabulary::coco() {
  ChairVocabulary v;
  // chair.py: synonyms = [s.strip().split(', ') for s in synonyms_txt.splitlines()]; every entry of
  // a line maps to the line's first entry.
  for (const auto& line : lines_of(kChairCocoSynonyms)) {
    const auto entries = split(strip(line), ", ");
    for (const auto& e : entries)
      if (!e.empty()) v.node_of[e] = entries[0];
  }
  // chair.py's hard-coded rules for MSCOCO: common two-word objects stay one word; "baby"/"adult"
  // before an animal and "passenger" before a vehicle would otherwise fire for "person".
  for (const char* w : {"motor bike", "motor cycle", "air plane", "traffic light", "street light", "traffic signal",
                        "stop light", "fire hydrant", "stop sign", "parking meter", "suit case", "sports ball",
                        "baseball bat", "baseball glove", "tennis racket", "wine glass", "hot dog", "cell phone",
                        "mobile phone", "teddy bear", "hair drier", "potted plant", "bow tie", "laptop computer",
                        "stove top oven", "home plate", "train track"})
    v.double_words[w] = w;
  for (const char* animal :
       {"bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "animal", "cub"}) {
    v.double_words[std::string("baby ") + animal] = animal;
    v.double_words[std::string("adult ") + animal] = animal;
  }
  for (const char* vehicle : {"jet", "train"}) v.double_words[std::string("passenger ") + vehicle] = vehicle;
  v.double_words["bow tie"] = "tie";
  v.double_words["toilet seat"] = "toilet";
  v.double_words["wine glas"] = "wine glass";
  v.toilet_seat_rule = true;
  return v;
}

ChairVocabulary ChairVocabulary::read(const std::string& path) {
  ChairVocabulary v;
  std::map<std::string, size_t> line_of;  // synonym -> the line that named it
  const auto lines = lines_of(io::read_file(path));
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string where = path + ":" + std::to_string(i + 1);
    const std::string line = strip(lines[i]);
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> entries;
    for (const auto& raw : split(line, ",")) {
      // Lower-cased, words joined by one space (as chair.py joins two tokens).
      std::string entry;
      size_t words = 0;
      const std::string lowered = text::python_lower(raw);
      for (size_t i = 0; i < lowered.size();) {
        while (i < lowered.size() && is_space(lowered[i])) ++i;
        size_t j = i;
        while (j < lowered.size() && !is_space(lowered[j])) ++j;
        if (j > i) {
          entry += (entry.empty() ? "" : " ") + lowered.substr(i, j - i);
          ++words;
        }
        i = j;
      }
      if (words == 0) throw std::runtime_error(where + ": empty entry (\"node, synonym, ...\" expected)");
      if (words > 2)
        throw std::runtime_error(where + ": \"" + entry +
                                 "\" has more than two words; CHAIR matches one word or two adjacent ones");
      entries.push_back(entry);
    }
    for (const auto& e : entries) {
      auto it = v.node_of.find(e);
      if (it != v.node_of.end() && it->second != entries[0])
        throw std::runtime_error(where + ": \"" + e + "\" is already a synonym of \"" + it->second + "\" (line " +
                                 std::to_string(line_of[e]) + ")");
      v.node_of[e] = entries[0];
      line_of.emplace(e, i + 1);
      if (e.find(' ') != std::string::npos) v.double_words[e] = e;
    }
  }
  if (v.node_of.empty()) throw std::runtime_error(path + ": no objects (one per line: \"node, synonym, ...\")");
  return v;
}

// ---- words ----

std::vector<std::string> chair_word_tokenize(const std::string& text) {
  std::vector<std::string> tokens;
  for (const auto& sentence : text::split_sentences(text::python_lower(text)))
    for (auto& t : text::nltk_word_tokenize(sentence)) tokens.push_back(std::move(t));
  return tokens;
}

bool chair_is_verb(const std::vector<std::string>& tokens, size_t k) {
  static const std::set<std::string> kDeterminers = {"a",     "an", "the", "this", "that", "these", "those",
                                                     "my",    "your", "his", "her",  "its",  "our",   "their"};
  const std::string& t = tokens[k];
  if (char_count(t) < 5 || !(ends_with(t, "ing") || ends_with(t, "ed"))) return false;
  return k == 0 || kDeterminers.count(tokens[k - 1]) == 0;
}

ChairMentions chair_mentions(const std::string& text, const ChairVocabulary& v, const WordNetLemmatizer& l) {
  const auto tokens = chair_word_tokenize(text);
  std::vector<std::string> lemmas;
  lemmas.reserve(tokens.size());
  for (size_t k = 0; k < tokens.size(); ++k) lemmas.push_back(l.lemmatize(tokens[k], chair_is_verb(tokens, k) ? 'v' : 'n'));
  ChairMentions m;
  // Greedy, left to right: ' '.join(words[i:i+2]) looked up (the last word alone at the end).
  for (size_t i = 0; i < lemmas.size();) {
    const std::string pair = i + 1 < lemmas.size() ? lemmas[i] + " " + lemmas[i + 1] : lemmas[i];
    auto it = v.double_words.find(pair);
    if (it != v.double_words.end()) {
      m.raw_words.push_back(it->second);
      i += i + 1 < lemmas.size() ? 2 : 1;
    } else {
      m.raw_words.push_back(lemmas[i]);
      i += 1;
    }
  }
  auto has = [&](const char* w) { return std::find(m.raw_words.begin(), m.raw_words.end(), w) != m.raw_words.end(); };
  // "the seat of the toilet" is no chair.
  const bool drop_seat = v.toilet_seat_rule && has("toilet") && has("seat");
  for (const auto& w : m.raw_words) {
    if (drop_seat && w == "seat") continue;
    auto it = v.node_of.find(w);
    if (it == v.node_of.end()) continue;
    m.words.push_back(w);
    m.nodes.push_back(it->second);
  }
  return m;
}

// ---- annotations ----

namespace {

// The parts of a COCO annotation file CHAIR reads, as JSON: the root's "images", "annotations" and
// "categories", and of each of their elements the fields id, file_name, name, image_id,
// category_id and caption; everything else (polygons, boxes, licenses...) is skipped while
// parsing. COCO val2014's instances file is 160 MB, mostly polygons: as a whole DOM it would take
// about 800 MB, and nlohmann's filtering parser callback (what io::parse_json bounds depth with)
// takes some 40 s on it. Nesting is bounded by io::kMaxJsonDepth, as in io::parse_json.
class CocoSubsetSax : public nlohmann::json_sax<nlohmann::json> {
 public:
  nlohmann::json root;

  bool null() override { return value(nullptr); }
  bool boolean(bool v) override { return value(v); }
  bool number_integer(number_integer_t v) override { return value(v); }
  bool number_unsigned(number_unsigned_t v) override { return value(v); }
  bool number_float(number_float_t v, const string_t&) override { return value(v); }
  bool string(string_t& v) override { return value(std::move(v)); }
  bool binary(binary_t&) override { return value(nullptr); }
  bool start_object(std::size_t) override { return open(nlohmann::json::object()); }
  bool start_array(std::size_t) override { return open(nlohmann::json::array()); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    if (skip_ > 0) return true;
    static const std::set<std::string> kTop = {"images", "annotations", "categories"};
    static const std::set<std::string> kFields = {"id", "file_name", "name", "image_id", "category_id", "caption"};
    const bool element = stack_.size() == 3 && stack_[0]->is_object() && stack_[1]->is_array() && stack_[2]->is_object();
    drop_next_ = (stack_.size() == 1 && !kTop.count(k)) || (element && !kFields.count(k));
    key_ = std::move(k);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    throw std::runtime_error(e.what());
  }

 private:
  bool value(nlohmann::json v) {
    if (skip_ > 0) return true;
    if (drop_next_) {
      drop_next_ = false;
      return true;
    }
    place(std::move(v));
    return true;
  }
  bool open(nlohmann::json container) {
    if (stack_.size() + skip_ >= static_cast<size_t>(io::kMaxJsonDepth))
      throw std::runtime_error("JSON nested deeper than " + std::to_string(io::kMaxJsonDepth) + " levels");
    if (skip_ > 0 || drop_next_) {
      drop_next_ = false;
      ++skip_;
      return true;
    }
    stack_.push_back(place(std::move(container)));
    return true;
  }
  bool close() {
    if (skip_ > 0)
      --skip_;
    else
      stack_.pop_back();
    return true;
  }
  nlohmann::json* place(nlohmann::json v) {
    if (stack_.empty()) {
      root = std::move(v);
      return &root;
    }
    nlohmann::json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(v));
      return &parent.back();
    }
    return &(parent[key_] = std::move(v));
  }

  std::vector<nlohmann::json*> stack_;  // the open containers being kept
  size_t skip_ = 0;                     // open containers inside a skipped value
  bool drop_next_ = false;              // the value after the last key is skipped
  std::string key_;
};

nlohmann::json parse_annotations(const std::string& path) {
  const std::string text = io::read_file(path);
  CocoSubsetSax sax;
  try {
    nlohmann::json::sax_parse(text.data(), text.data() + text.size(), &sax);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": malformed JSON: " + e.what());
  }
  return std::move(sax.root);
}

const nlohmann::json& array_field(const nlohmann::json& root, const char* key, const std::string& path) {
  if (!root.is_object()) throw std::runtime_error(path + ": a COCO annotation file must be a JSON object");
  auto it = root.find(key);
  if (it == root.end() || !it->is_array())
    throw std::runtime_error(path + ": needs an array \"" + key + "\" (a COCO annotation file)");
  return *it;
}

const nlohmann::json& field(const nlohmann::json& row, const char* key, const std::string& where) {
  if (!row.is_object()) throw std::runtime_error(where + ": must be a JSON object");
  auto it = row.find(key);
  if (it == row.end()) throw std::runtime_error(where + ": missing \"" + key + "\"");
  return *it;
}

int64_t int_field(const nlohmann::json& row, const char* key, const std::string& where) {
  const auto& v = field(row, key, where);
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    throw std::runtime_error(where + ": \"" + key + "\" is out of range");
  if (!v.is_number_integer()) throw std::runtime_error(where + ": \"" + key + "\" must be an integer");
  return v.get<int64_t>();
}

std::string string_field(const nlohmann::json& row, const char* key, const std::string& where) {
  const auto& v = field(row, key, where);
  if (!v.is_string()) throw std::runtime_error(where + ": \"" + key + "\" must be a string");
  return v.get<std::string>();
}

std::string at(const std::string& path, const char* array, size_t i) {
  return path + ": " + array + "[" + std::to_string(i) + "]";
}

}  // namespace

ChairBenchmark read_chair_benchmark(const std::string& dir, const std::string& split_name,
                                    const std::string& vocabulary_file, const std::string& wordnet_dir) {
  ChairBenchmark b;
  b.vocabulary = vocabulary_file.empty() ? ChairVocabulary::coco() : ChairVocabulary::read(vocabulary_file);
  const std::string instances_path = io::join_path(dir, "instances_" + split_name + ".json");
  const std::string captions_path = io::join_path(dir, "captions_" + split_name + ".json");
  for (const auto& p : {instances_path, captions_path})
    if (!io::file_exists(p))
      throw std::runtime_error("CHAIR: no " + p + " (a COCO annotations folder holds instances_" + split_name +
                               ".json and captions_" + split_name + ".json)");

  const nlohmann::json instances = parse_annotations(instances_path);
  const auto& images = array_field(instances, "images", instances_path);
  for (size_t i = 0; i < images.size(); ++i) {
    const std::string where = at(instances_path, "images", i);
    ChairImage img;
    img.id = int_field(images[i], "id", where);
    img.file_name = string_field(images[i], "file_name", where);
    b.images.push_back(std::move(img));
  }
  std::sort(b.images.begin(), b.images.end(), [](const ChairImage& x, const ChairImage& y) { return x.id < y.id; });
  for (size_t i = 0; i < b.images.size(); ++i)
    if (!b.index_of.emplace(b.images[i].id, i).second)
      throw std::runtime_error(instances_path + ": image id " + std::to_string(b.images[i].id) + " is repeated");
  auto image_of = [&](int64_t id, const std::string& where) -> ChairImage& {
    auto it = b.index_of.find(id);
    if (it == b.index_of.end())
      throw std::runtime_error(where + ": image_id " + std::to_string(id) + " is not among " + instances_path +
                               "'s images");
    return b.images[it->second];
  };

  std::map<int64_t, std::string> category_name;
  const auto& categories = array_field(instances, "categories", instances_path);
  for (size_t i = 0; i < categories.size(); ++i) {
    const std::string where = at(instances_path, "categories", i);
    const int64_t id = int_field(categories[i], "id", where);
    if (!category_name.emplace(id, string_field(categories[i], "name", where)).second)
      throw std::runtime_error(where + ": category id " + std::to_string(id) + " is repeated");
  }
  const auto& objects = array_field(instances, "annotations", instances_path);
  for (size_t i = 0; i < objects.size(); ++i) {
    const std::string where = at(instances_path, "annotations", i);
    const int64_t image_id = int_field(objects[i], "image_id", where);
    const int64_t category = int_field(objects[i], "category_id", where);
    auto name = category_name.find(category);
    if (name == category_name.end())
      throw std::runtime_error(where + ": category_id " + std::to_string(category) + " is not among the categories");
    auto node = b.vocabulary.node_of.find(name->second);
    if (node == b.vocabulary.node_of.end())
      throw std::runtime_error(where + ": category \"" + name->second + "\" (id " + std::to_string(category) +
                               ") is not in the CHAIR vocabulary" +
                               (vocabulary_file.empty() ? std::string(" (the COCO table)") : " " + vocabulary_file));
    image_of(image_id, where).objects.insert(node->second);
  }

  b.lemmatizer = std::make_shared<const WordNetLemmatizer>(wordnet_dir);
  const nlohmann::json captions = parse_annotations(captions_path);
  const auto& rows = array_field(captions, "annotations", captions_path);
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string where = at(captions_path, "annotations", i);
    const int64_t image_id = int_field(rows[i], "image_id", where);
    const std::string caption = string_field(rows[i], "caption", where);
    auto& img = image_of(image_id, where);
    for (auto& node : chair_mentions(caption, b.vocabulary, *b.lemmatizer).nodes) img.objects.insert(std::move(node));
  }
  return b;
}

// ---- answers ----

namespace {

int64_t image_id_of(const nlohmann::json& v, const char* key, const std::string& where) {
  if (v.is_number_integer() && !(v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)))
    return v.get<int64_t>();
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (!s.empty() && s.size() <= 18 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::stoll(s);
  }
  throw std::runtime_error(where + ": \"" + key + "\" must be an image id (an integer)");
}

ChairAnswer answer_of(const nlohmann::json& row, const std::string& where) {
  if (!row.is_object()) throw std::runtime_error(where + ": an answer row must be a JSON object");
  ChairAnswer a;
  const char *id_key = "question_id", *text_key = "text";
  if (!(row.contains("question_id") && row.contains("text")) && row.contains("image_id") && row.contains("caption")) {
    id_key = "image_id";
    text_key = "caption";
  }
  if (!row.contains(id_key) || !row.contains(text_key))
    throw std::runtime_error(where + ": a CHAIR answer row needs \"question_id\" and \"text\", or \"image_id\" and \"caption\"");
  a.image_id = image_id_of(row[id_key], id_key, where);
  if (!row[text_key].is_string()) throw std::runtime_error(where + ": \"" + text_key + "\" must be a string");
  a.text = row[text_key].get<std::string>();
  if (row.contains("tokens") && !row["tokens"].is_null()) {
    const auto& t = row["tokens"];
    if (!t.is_number_integer() || t.get<int64_t>() < 0)
      throw std::runtime_error(where + ": \"tokens\" must be a count (an integer >= 0)");
    a.tokens = t.get<int64_t>();
  }
  return a;
}

}  // namespace

std::vector<ChairAnswer> read_chair_answers(const std::string& path) {
  std::vector<ChairAnswer> out;
  if (ends_with(path, ".json")) {
    const std::string text = io::read_file(path);
    nlohmann::json rows;
    try {
      rows = io::parse_json(text);
    } catch (const std::exception& e) {
      throw std::runtime_error(path + ": malformed JSON: " + e.what());
    }
    if (!rows.is_array()) throw std::runtime_error(path + ": a .json answers file must be a JSON list of rows");
    for (size_t i = 0; i < rows.size(); ++i) out.push_back(answer_of(rows[i], path + ": row " + std::to_string(i)));
    return out;
  }
  io::for_each_jsonl(path, [&](const nlohmann::json& row, size_t line) {
    out.push_back(answer_of(row, path + ":" + std::to_string(line)));
  });
  return out;
}

// ---- scores ----

ordered_json score_chair(const ChairBenchmark& b, const std::vector<ChairAnswer>& answers,
                         const std::vector<int64_t>& asked, const std::set<int64_t>& missing,
                         std::vector<nlohmann::json>* per_answer) {
  static const std::set<std::string> kNoObjects;
  int64_t hallucinated_answers = 0, mentions = 0, hallucinated = 0, recalled = 0, gt_objects = 0, words = 0;
  int64_t without_objects = 0, unknown = 0, tokens = 0;
  bool all_tokens = !answers.empty();
  std::set<int64_t> answered;
  for (const auto& a : answers) {
    answered.insert(a.image_id);
    auto it = b.index_of.find(a.image_id);
    if (it == b.index_of.end()) ++unknown;
    const std::set<std::string>& gt = it == b.index_of.end() ? kNoObjects : b.images[it->second].objects;
    const ChairMentions m = chair_mentions(a.text, b.vocabulary, *b.lemmatizer);
    std::set<std::string> recall_nodes;
    nlohmann::json pairs = nlohmann::json::array();
    for (size_t k = 0; k < m.words.size(); ++k) {
      if (gt.count(m.nodes[k]))
        recall_nodes.insert(m.nodes[k]);
      else
        pairs.push_back({m.words[k], m.nodes[k]});
    }
    mentions += static_cast<int64_t>(m.words.size());
    hallucinated += static_cast<int64_t>(pairs.size());
    hallucinated_answers += pairs.empty() ? 0 : 1;
    recalled += static_cast<int64_t>(recall_nodes.size());
    gt_objects += static_cast<int64_t>(gt.size());
    words += static_cast<int64_t>(m.raw_words.size());
    without_objects += m.words.empty() ? 1 : 0;
    all_tokens = all_tokens && a.tokens >= 0;
    tokens += std::max<int64_t>(a.tokens, 0);
    if (per_answer) {
      nlohmann::json row = {
          {"image_id", a.image_id},
          {"text", a.text},
          {"mentioned", m.words},
          {"objects", m.nodes},
          {"hallucinated", pairs},
          {"chair_i", m.words.empty() ? 0.0 : double(pairs.size()) / double(m.words.size())},
          {"recall", gt.empty() ? 0.0 : double(recall_nodes.size()) / double(gt.size())},
          {"words", m.raw_words.size()},
          {"ground_truth", std::vector<std::string>(gt.begin(), gt.end())},
      };
      if (a.tokens >= 0) row["tokens"] = a.tokens;
      per_answer->push_back(std::move(row));
    }
  }
  auto ratio = [](int64_t x, int64_t y) { return y > 0 ? double(x) / double(y) : 0.0; };
  const int64_t n = static_cast<int64_t>(answers.size());
  ordered_json o;
  o["chair_s"] = ratio(hallucinated_answers, n);
  o["chair_i"] = ratio(hallucinated, mentions);
  o["recall"] = ratio(recalled, gt_objects);
  o["mean_words"] = ratio(words, n);
  if (all_tokens) o["mean_tokens"] = ratio(tokens, n);
  o["mentions"] = mentions;
  o["hallucinated"] = hallucinated;
  o["answers_without_objects"] = without_objects;
  o["unknown_image_ids"] = unknown;
  Coverage c;
  const std::set<int64_t> asked_ids(asked.begin(), asked.end());
  c.questions = static_cast<int64_t>(asked_ids.size());
  c.scored = n;
  c.missing_images = static_cast<int64_t>(missing.size());
  for (int64_t id : asked_ids) c.unanswered += !missing.count(id) && !answered.count(id) ? 1 : 0;
  c.add_to(o);
  ordered_json out;
  out["overall"] = std::move(o);
  return out;
}

}  // namespace seva::eval
