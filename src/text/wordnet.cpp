#include "text/wordnet.h"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

namespace seva::text {

namespace {

constexpr const char* kFileSuffix[4] = {"noun", "verb", "adj", "adv"};

int pos_index(char pos) {
  switch (pos) {
    case 'n': return 0;
    case 'v': return 1;
    case 'a': case 's': return 2;  // NLTK: satellites use the adjective exceptions, rules and index
    case 'r': return 3;
    default:
      throw std::invalid_argument(std::string("WordNet part of speech must be n, v, a, s or r, not '") + pos + "'");
  }
}

std::string read_wordnet_file(const std::string& dir, const std::string& name) {
  const std::string path = dir + "/" + name;
  std::ifstream f(path, std::ios::binary);
  if (!f)
    throw std::runtime_error("WordNet: cannot read " + path + " (is " + dir +
                             " a WordNet 3.0 dict folder? Debian: apt-get install wordnet-base)");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

// The whitespace-separated fields of one line (Python's line.split() on ASCII).
std::vector<std::string_view> fields(std::string_view line, size_t max_fields = SIZE_MAX) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size() && out.size() < max_fields) {
    while (i < line.size() && is_space(line[i])) ++i;
    size_t j = i;
    while (j < line.size() && !is_space(line[j])) ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

template <class Fn>
void for_each_line(const std::string& text, Fn&& fn) {
  size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    fn(std::string_view(text).substr(pos, end - pos), ++line_no);
    pos = end + 1;
  }
}

size_t char_count(std::string_view s) {  // Python's len(): code points
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

struct Rule {
  std::string_view old_suffix, new_suffix;
};
// NLTK's MORPHOLOGICAL_SUBSTITUTIONS, in its order.
const std::vector<Rule> kRules[4] = {
    {{"s", ""}, {"ses", "s"}, {"ves", "f"}, {"xes", "x"}, {"zes", "z"}, {"ches", "ch"}, {"shes", "sh"},
     {"men", "man"}, {"ies", "y"}},
    {{"s", ""}, {"ies", "y"}, {"es", "e"}, {"es", ""}, {"ed", "e"}, {"ed", ""}, {"ing", "e"}, {"ing", ""}},
    {{"er", ""}, {"est", ""}, {"er", "e"}, {"est", "e"}},
    {},
};

}  // namespace

WordNetLemmatizer::WordNetLemmatizer(const std::string& dir) : dir_(dir) {
  lemmas_.reserve(160000);
  for (int p = 0; p < 4; ++p) {
    const std::string name = std::string("index.") + kFileSuffix[p];
    const std::string text = read_wordnet_file(dir, name);
    for_each_line(text, [&](std::string_view line, size_t line_no) {
      if (line.empty() || line[0] == ' ') return;  // the license header
      auto f = fields(line, 2);
      if (f.size() < 2 || f[1].size() != 1 || std::string_view("nvar").find(f[1][0]) == std::string_view::npos)
        throw std::runtime_error("WordNet: " + dir + "/" + name + ":" + std::to_string(line_no) +
                                 ": expected \"lemma pos ...\" with pos n, v, a or r");
      lemmas_[std::string(f[0])] |= static_cast<uint8_t>(1u << pos_index(f[1][0]));
    });
  }
  for (int p = 0; p < 4; ++p) {
    const std::string name = std::string(kFileSuffix[p]) + ".exc";
    const std::string text = read_wordnet_file(dir, name);
    for_each_line(text, [&](std::string_view line, size_t) {
      auto f = fields(line);
      if (f.empty()) return;
      std::vector<std::string> bases(f.begin() + 1, f.end());
      exceptions_[p][std::string(f[0])] = std::move(bases);  // a repeated form: the last line wins, as in NLTK
    });
  }
}

bool WordNetLemmatizer::is_lemma(const std::string& lemma, char pos) const {
  auto it = lemmas_.find(lemma);
  return it != lemmas_.end() && (it->second >> pos_index(pos) & 1u);
}

std::vector<std::string> WordNetLemmatizer::morphy(const std::string& word, char pos) const {
  const int p = pos_index(pos);
  std::vector<std::string> candidates{word};
  auto exc = exceptions_[p].find(word);
  if (exc != exceptions_[p].end()) {
    candidates.insert(candidates.end(), exc->second.begin(), exc->second.end());
  } else {
    for (const Rule& r : kRules[p])
      if (word.size() >= r.old_suffix.size() &&
          word.compare(word.size() - r.old_suffix.size(), r.old_suffix.size(), r.old_suffix) == 0)
        candidates.push_back(word.substr(0, word.size() - r.old_suffix.size()) + std::string(r.new_suffix));
  }
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (auto& c : candidates)
    if (is_lemma(c, pos) && seen.insert(c).second) out.push_back(std::move(c));
  return out;
}

std::string WordNetLemmatizer::lemmatize(const std::string& word, char pos) const {
  auto forms = morphy(word, pos);
  if (forms.empty()) return word;
  size_t best = 0;
  for (size_t i = 1; i < forms.size(); ++i)
    if (char_count(forms[i]) < char_count(forms[best])) best = i;
  return forms[best];
}

}  // namespace seva::text
