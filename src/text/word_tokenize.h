// NLTK's English word tokenizer (NLTKWordTokenizer, what nltk.word_tokenize runs per sentence),
// Python's str.lower(), and a rule-based sentence splitter standing in for NLTK's punkt model.
// Text is UTF-8; bytes that are not well-formed UTF-8 pass through as characters of their own.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace seva::text {

// NLTK 3.10's NLTKWordTokenizer().tokenize(sentence) (convert_parentheses off): its regex rules in
// its order (starting quotes, punctuation, brackets, double dashes, ending quotes, contractions),
// then a split on whitespace. Character classes as NLTK's engines see them: \w, \d and \s of its
// `regex` patterns are Unicode's word (Alphabetic, marks, Nd, Pc, Join_Control), Nd and White_Space;
// the contraction rules run on Python's `re`, whose \w is a letter, a number or '_'; the final
// split also cuts at U+001C..U+001F (str.split). Classes come from ICU: for characters newer than
// ICU's Unicode version they may differ from Python's.
std::vector<std::string> nltk_word_tokenize(std::string_view sentence);

// Python's str.lower(): Unicode full lower-case mapping (so 'İ' -> "i̇", a final 'Σ' -> 'ς').
std::string python_lower(std::string_view text);

// Stands in for punkt's sentence splitting (its model cannot be installed offline): a sentence ends
// after '.', '!' or '?', and the closing quotes or brackets right after it ("')]}»”’), when the next
// character is whitespace (Python's str.isspace). Sentences are stripped of surrounding whitespace;
// empty ones are dropped.
std::vector<std::string> split_sentences(std::string_view text);

}  // namespace seva::text
