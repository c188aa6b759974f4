// NLTK's WordNetLemmatizer over the WordNet 3.0 database files (index.POS, POS.exc).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace seva::text {

// WordNetLemmatizer().lemmatize(word, pos) of NLTK 3.10, exactly: its _morphy takes the word's
// exception-list bases if the word is in POS.exc, else the word with each detachment rule of POS
// applied once (nouns: -s -ses -ves -xes -zes -ches -shes -men -ies; verbs: -s -ies -es -ed -ing;
// adjectives: -er -est; adverbs: none); the candidates [word, ...] that are lemmas of POS in
// index.POS are kept in order without repeats, and lemmatize returns the first of the shortest
// (in characters), or the word itself when there is none. Case-sensitive, as NLTK is.
class WordNetLemmatizer {
 public:
  // Reads DIR/index.{noun,verb,adj,adv} and DIR/{noun,verb,adj,adv}.exc (Debian's wordnet-base
  // installs them in /usr/share/wordnet). A missing file throws one line naming it and DIR.
  explicit WordNetLemmatizer(const std::string& dir = "/usr/share/wordnet");

  // pos: 'n', 'v', 'a' (adjective; 's', a satellite, is the same here) or 'r'; another throws.
  std::string lemmatize(const std::string& word, char pos = 'n') const;
  // The candidates before the choice (NLTK's _morphy): lemmas of pos, in order.
  std::vector<std::string> morphy(const std::string& word, char pos) const;
  // True when `lemma` has an entry in index.POS.
  bool is_lemma(const std::string& lemma, char pos) const;

  const std::string& dir() const { return dir_; }
  size_t lemma_count() const { return lemmas_.size(); }

 private:
  std::string dir_;
  std::unordered_map<std::string, uint8_t> lemmas_;                   // lemma -> bit per POS (n v a r)
  std::unordered_map<std::string, std::vector<std::string>> exceptions_[4];  // per POS: form -> bases
};

}  // namespace seva::text
