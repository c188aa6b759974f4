#include "eval/vqa_normalize.h"

#include "util/strings.h"

#include <map>
#include <sstream>
#include <vector>

namespace seva::eval {
namespace {

// EvalAIAnswerProcessor.CONTRACTIONS, verbatim (its oddities included: "somebody'd" →
// "somebodyd", and keys with capitals that never match after lower-casing).
const std::map<std::string, std::string>& contractions() {
  static const std::map<std::string, std::string> table = {
      {"aint", "ain't"}, {"arent", "aren't"}, {"cant", "can't"}, {"couldve", "could've"},
      {"couldnt", "couldn't"}, {"couldn'tve", "couldn't've"}, {"couldnt've", "couldn't've"},
      {"didnt", "didn't"}, {"doesnt", "doesn't"}, {"dont", "don't"}, {"hadnt", "hadn't"},
      {"hadnt've", "hadn't've"}, {"hadn'tve", "hadn't've"}, {"hasnt", "hasn't"}, {"havent", "haven't"},
      {"hed", "he'd"}, {"hed've", "he'd've"}, {"he'dve", "he'd've"}, {"hes", "he's"}, {"howd", "how'd"},
      {"howll", "how'll"}, {"hows", "how's"}, {"Id've", "I'd've"}, {"I'dve", "I'd've"}, {"Im", "I'm"},
      {"Ive", "I've"}, {"isnt", "isn't"}, {"itd", "it'd"}, {"itd've", "it'd've"}, {"it'dve", "it'd've"},
      {"itll", "it'll"}, {"let's", "let's"}, {"maam", "ma'am"}, {"mightnt", "mightn't"},
      {"mightnt've", "mightn't've"}, {"mightn'tve", "mightn't've"}, {"mightve", "might've"},
      {"mustnt", "mustn't"}, {"mustve", "must've"}, {"neednt", "needn't"}, {"notve", "not've"},
      {"oclock", "o'clock"}, {"oughtnt", "oughtn't"}, {"ow's'at", "'ow's'at"}, {"'ows'at", "'ow's'at"},
      {"'ow'sat", "'ow's'at"}, {"shant", "shan't"}, {"shed've", "she'd've"}, {"she'dve", "she'd've"},
      {"she's", "she's"}, {"shouldve", "should've"}, {"shouldnt", "shouldn't"},
      {"shouldnt've", "shouldn't've"}, {"shouldn'tve", "shouldn't've"}, {"somebody'd", "somebodyd"},
      {"somebodyd've", "somebody'd've"}, {"somebody'dve", "somebody'd've"}, {"somebodyll", "somebody'll"},
      {"somebodys", "somebody's"}, {"someoned", "someone'd"}, {"someoned've", "someone'd've"},
      {"someone'dve", "someone'd've"}, {"someonell", "someone'll"}, {"someones", "someone's"},
      {"somethingd", "something'd"}, {"somethingd've", "something'd've"},
      {"something'dve", "something'd've"}, {"somethingll", "something'll"}, {"thats", "that's"},
      {"thered", "there'd"}, {"thered've", "there'd've"}, {"there'dve", "there'd've"},
      {"therere", "there're"}, {"theres", "there's"}, {"theyd", "they'd"}, {"theyd've", "they'd've"},
      {"they'dve", "they'd've"}, {"theyll", "they'll"}, {"theyre", "they're"}, {"theyve", "they've"},
      {"twas", "'twas"}, {"wasnt", "wasn't"}, {"wed've", "we'd've"}, {"we'dve", "we'd've"},
      {"weve", "we've"}, {"werent", "weren't"}, {"whatll", "what'll"}, {"whatre", "what're"},
      {"whats", "what's"}, {"whatve", "what've"}, {"whens", "when's"}, {"whered", "where'd"},
      {"wheres", "where's"}, {"whereve", "where've"}, {"whod", "who'd"}, {"whod've", "who'd've"},
      {"who'dve", "who'd've"}, {"wholl", "who'll"}, {"whos", "who's"}, {"whove", "who've"},
      {"whyll", "why'll"}, {"whyre", "why're"}, {"whys", "why's"}, {"wont", "won't"},
      {"wouldve", "would've"}, {"wouldnt", "wouldn't"}, {"wouldnt've", "wouldn't've"},
      {"wouldn'tve", "wouldn't've"}, {"yall", "y'all"}, {"yall'll", "y'all'll"}, {"y'allll", "y'all'll"},
      {"yall'd've", "y'all'd've"}, {"y'alld've", "y'all'd've"}, {"y'all'dve", "y'all'd've"},
      {"youd", "you'd"}, {"youd've", "you'd've"}, {"you'dve", "you'd've"}, {"youll", "you'll"},
      {"youre", "you're"}, {"youve", "you've"},
  };
  return table;
}

const std::map<std::string, std::string>& number_words() {
  static const std::map<std::string, std::string> table = {
      {"none", "0"}, {"zero", "0"}, {"one", "1"}, {"two", "2"},   {"three", "3"}, {"four", "4"},
      {"five", "5"}, {"six", "6"},  {"seven", "7"}, {"eight", "8"}, {"nine", "9"},  {"ten", "10"},
  };
  return table;
}

// EvalAIAnswerProcessor.PUNCTUATIONS, in its order (the order matters: a removal can create or
// destroy a later mark's "next to a space" only through `out`, and the test reads `in`).
const char* const kPunctuations[] = {";", "/", "[", "]", "\"", "{", "}", "(", ")", "=", "+",
                                     "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!"};

using util::replace_all;
using util::strip;  // the ASCII whitespace " \t\n\r\v\f"

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// COMMA_STRIP = (?<=\d)(\,)+(?=\d): a run of commas between two digits.
bool has_digit_comma_digit(const std::string& s) {
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] != ',' || !is_digit(s[i - 1])) continue;
    size_t j = i;
    while (j < s.size() && s[j] == ',') ++j;
    if (j < s.size() && is_digit(s[j])) return true;
  }
  return false;
}

std::string process_punctuation(const std::string& in) {
  std::string out = in;
  const bool digit_comma = has_digit_comma_digit(in);
  for (const char* p : kPunctuations) {
    std::string mark = p;
    bool spaced = in.find(mark + " ") != std::string::npos || in.find(" " + mark) != std::string::npos;
    out = replace_all(out, mark, spaced || digit_comma ? "" : " ");
  }
  // PERIOD_STRIP = (?!<=\d)(\.)(?!\d): its first group is a lookahead that never fails, so any
  // '.' not followed by a digit; sub(..., re.UNICODE) passes 32 as the count.
  std::string result;
  int removed = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    bool followed_by_digit = i + 1 < out.size() && is_digit(out[i + 1]);
    if (out[i] == '.' && !followed_by_digit && removed < 32) {
      ++removed;
      continue;
    }
    result += out[i];
  }
  return result;
}

std::string process_digit_article(const std::string& in) {
  std::vector<std::string> words;
  std::istringstream ss(util::ascii_lower(in));
  std::string w;
  while (ss >> w) {
    auto n = number_words().find(w);
    if (n != number_words().end()) w = n->second;
    if (w != "a" && w != "an" && w != "the") words.push_back(w);
  }
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    auto c = contractions().find(words[i]);
    if (i) out += ' ';
    out += c == contractions().end() ? words[i] : c->second;
  }
  return out;
}

}  // namespace

std::string vqa_normalize(const std::string& answer) {
  std::string s = util::ascii_lower(answer);
  s = replace_all(replace_all(s, ",", ""), "?", "");
  s = strip(replace_all(s, "'s", " 's"));
  s = strip(replace_all(replace_all(s, "\n", " "), "\t", " "));
  return process_digit_article(process_punctuation(s));
}

}  // namespace seva::eval
