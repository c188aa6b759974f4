#include "eval/choice.h"

#include "util/strings.h"

#include <cctype>
#include <sstream>

namespace seva::eval {
namespace {

using util::strip;  // the ASCII whitespace " \t\n\r\v\f"
using util::ascii_lower;

int letter_index(char c, size_t n) {
  int i = c - 'A';
  return i >= 0 && static_cast<size_t>(i) < n ? i : -1;
}

bool is_closing(char c) { return c == '.' || c == ')' || c == ']' || c == ':' || c == ','; }

// Step 1: "B", "B.", "B) ...", "(B)", "[B] ...", "b".
int leading_letter(const std::string& s, size_t n) {
  if (s.empty()) return -1;
  if (s.size() == 1 || (s.size() == 2 && is_closing(s[1]))) {
    int i = letter_index(static_cast<char>(std::toupper(static_cast<unsigned char>(s[0]))), n);
    if (i >= 0) return i;
  }
  size_t p = 0;
  char open = 0;
  if (s[0] == '(' || s[0] == '[') open = s[p++];
  if (p >= s.size()) return -1;
  int i = letter_index(s[p], n);
  if (i < 0) return -1;
  ++p;
  if (open) return p < s.size() && s[p] == (open == '(' ? ')' : ']') ? i : -1;
  return p == s.size() || is_closing(s[p]) ? i : -1;
}

// Step 2: the valid letters that occur as words once punctuation is spaced out.
std::vector<int> letter_words(const std::string& s, size_t n, size_t* word_count) {
  std::string spaced = s;
  for (char& c : spaced)
    if (std::string(".()[],:;!*#{}").find(c) != std::string::npos) c = ' ';
  std::istringstream ss(spaced);
  std::vector<bool> seen(n, false);
  std::string w;
  *word_count = 0;
  while (ss >> w) {
    ++*word_count;
    if (w.size() == 1 && letter_index(w[0], n) >= 0) seen[letter_index(w[0], n)] = true;
  }
  std::vector<int> found;
  for (size_t i = 0; i < n; ++i)
    if (seen[i]) found.push_back(static_cast<int>(i));
  return found;
}

// Step 3: options whose text occurs in the answer.
int option_text(const std::string& s, const std::vector<std::string>& options) {
  std::string a = ascii_lower(s);
  std::vector<int> cands;
  for (size_t i = 0; i < options.size(); ++i) {
    std::string o = ascii_lower(strip(options[i]));
    if (!o.empty() && a.find(o) != std::string::npos) cands.push_back(static_cast<int>(i));
  }
  if (cands.size() == 1) return cands[0];
  std::vector<int> maximal;
  for (int i : cands) {
    bool inside_another = false;
    std::string oi = ascii_lower(strip(options[i]));
    for (int j : cands) {
      std::string oj = ascii_lower(strip(options[j]));
      if (j != i && oj.size() > oi.size() && oj.find(oi) != std::string::npos) inside_another = true;
    }
    if (!inside_another) maximal.push_back(i);
  }
  return maximal.size() == 1 ? maximal[0] : -1;
}

}  // namespace

int extract_choice(const std::string& answer, const std::vector<std::string>& options) {
  const size_t n = options.size();
  const std::string s = strip(answer);
  int i = leading_letter(s, n);
  if (i >= 0) return i;
  size_t words = 0;
  auto letters = letter_words(s, n, &words);
  if (letters.size() == 1) {
    if (letters[0] == 0 && words > 1) {  // "A" may be the article
      int t = option_text(s, options);
      if (t >= 0) return t;
    }
    return letters[0];
  }
  return option_text(s, options);
}

}  // namespace seva::eval
