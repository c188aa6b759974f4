// CHAIR (Rohrbach et al. 2018, "Object Hallucination in Image Captioning"): which objects a
// description mentions, which of them the image lacks, and the CHAIR_s / CHAIR_i / recall metrics,
// as the chair.py that OPERA, LURE and most later papers use computes them.
#pragma once
#include "eval/report.h"
#include "text/wordnet.h"

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace seva::eval {

using text::WordNetLemmatizer;

// The objects a description can mention: word or phrase -> node word, and the two-word rules.
struct ChairVocabulary {
  std::map<std::string, std::string> node_of;       // every synonym (after the table's own quirks) -> node word
  std::map<std::string, std::string> double_words;  // "baby bird" -> "bird", "motor bike" -> "motor bike", ...
  bool toilet_seat_rule = false;                    // COCO: drop "seat" when "toilet" is also mentioned
  // chair.py's table (src/eval/chair_coco_synonyms.cpp) and rules. Its quirks are kept: " motor bike"
  // and " cheesecake" keep the leading space that `line.strip().split(', ')` leaves them (so neither
  // ever matches, and "motor bike" is merged into a word that is no object), "iPhone" keeps its
  // capital (never matches lower-cased text), "stove top oven" is a double word of three words
  // (never matches). The table's empty first line gives chair.py the synonym "" -> "", which no
  // token can equal; it is left out.
  static ChairVocabulary coco();
  // A synonyms file in the same form: one object per line, "node, synonym, ..." (entries split at
  // commas and stripped of spaces; the first is the node word); blank lines and lines starting
  // with '#' skipped. Entries are lower-cased (descriptions are). Every two-word entry becomes a
  // double word mapping to itself. A word listed under two nodes, an empty entry or an entry of
  // more than two words (which pairwise matching could never find) throws "FILE:LINE: ...".
  static ChairVocabulary read(const std::string& path);
};

// chair.py's `nltk.word_tokenize(caption.lower())`: Python's lower(), the stand-in sentence split
// (text::split_sentences) and NLTK's word tokenizer per sentence.
std::vector<std::string> chair_word_tokenize(const std::string& text);

// Stands in for nltk.pos_tag (its model cannot be installed offline): true when token k is
// lemmatized as a verb, i.e. has at least 5 characters, ends in "ing" or "ed", and the token before
// it (if any) is none of a, an, the, this, that, these, those, my, your, his, her, its, our, their.
// Every other token is lemmatized as a noun.
bool chair_is_verb(const std::vector<std::string>& tokens, size_t k);

struct ChairMentions {
  std::vector<std::string> words;       // the mentioned vocabulary words, in order
  std::vector<std::string> nodes;       // their node words
  std::vector<std::string> raw_words;   // all tokens after double-word merging (length counts these)
};
// chair.py's caption_to_words: tokens, lemmas (verb or noun), greedy left-to-right double-word
// merging, the toilet/seat rule, then the words in the vocabulary.
ChairMentions chair_mentions(const std::string& text, const ChairVocabulary& v, const WordNetLemmatizer& l);

struct ChairImage {
  int64_t id = 0;
  std::string file_name;
  std::set<std::string> objects;  // node words: instance categories ∪ objects its reference captions mention
};

// A COCO-style annotations folder: DIR/instances_SPLIT.json and DIR/captions_SPLIT.json (SPLIT e.g.
// val2014). Images (id, file_name) from the instances file's "images", sorted by id; objects as
// chair.py builds them. Only the fields CHAIR reads are checked (images: id, file_name; categories:
// id, name; annotations: image_id with category_id or caption); polygons, boxes and the rest are
// skipped while parsing. Malformed files, annotations of images the instances file lacks and
// categories outside the vocabulary throw one line naming the file.
struct ChairBenchmark {
  ChairVocabulary vocabulary;
  std::shared_ptr<const WordNetLemmatizer> lemmatizer;
  std::vector<ChairImage> images;
  std::map<int64_t, size_t> index_of;  // image id -> position in images
};
ChairBenchmark read_chair_benchmark(const std::string& dir, const std::string& split,
                                    const std::string& vocabulary_file /* "" = COCO table */,
                                    const std::string& wordnet_dir);

struct ChairAnswer {
  int64_t image_id = 0;
  std::string text;
  int64_t tokens = -1;  // model tokens, -1 unknown
};
// Reads an answers file as the reference script does: JSON Lines, or a JSON list when the name ends
// in ".json", whose rows have `question_id` (= image id) and `text`, or `image_id` and `caption`;
// an optional `tokens` (a count >= 0). Ids are integers (a string of digits is accepted). Errors
// name the file and line (JSONL) or row (JSON list).
std::vector<ChairAnswer> read_chair_answers(const std::string& path);

// Scores answers; returns {"overall": {chair_s, chair_i, recall (fractions), mean_words,
// mean_tokens (only when every answer has tokens >= 0), mentions, hallucinated,
// answers_without_objects, unknown_image_ids, questions, scored, missing_images, unanswered}}.
//   chair_s = answers with >= 1 hallucinated mention / answers; chair_i = hallucinated mentions /
//   mentions; recall = sum over answers of |mentioned nodes ∩ image objects| / sum of |image objects|;
//   mean_words = mean count of raw_words (chair.py's "Len" is 0.01 times it). 0 where undefined.
// Every answer is scored, repeats included (chair.py scores each row). An answer for an id the
// annotations lack is scored against no objects (every mention hallucinated) and counted in
// unknown_image_ids (a count of answers). questions = distinct ids in `asked`, missing_images = ids of `missing`,
// unanswered = asked ids neither missing nor answered, scored = answers scored.
// `per_answer` (when not null) gets one row per answer: image_id, text, mentioned (words), objects
// (node words), hallucinated ([word, node] pairs), chair_i, recall, words (the raw_words count),
// ground_truth (the image's objects, sorted), and tokens when known.
ordered_json score_chair(const ChairBenchmark& b, const std::vector<ChairAnswer>& answers,
                         const std::vector<int64_t>& asked, const std::set<int64_t>& missing,
                         std::vector<nlohmann::json>* per_answer = nullptr);

// chair.py's synonyms.txt, verbatim (src/eval/chair_coco_synonyms.cpp).
extern const char* const kChairCocoSynonyms;

}  // namespace seva::eval
