// CHAIR against the reference chair.py (tests/data/chair, made by make_fixture.py): the metrics and
// per-answer words on a COCO-format fixture, NLTK's lemmatizer and tokenizer word for word, the
// COCO table, and the readers' errors.
#include "eval/chair.h"
#include "io/files.h"
#include "text/word_tokenize.h"
#include "text/wordnet.h"
#include "test_helpers.h"

#include <chrono>
#include <fstream>
#include <sstream>

using namespace seva::eval;
using seva::test::data_path;

namespace {

const char* kWordNet = "/usr/share/wordnet";

const WordNetLemmatizer& lemmatizer() {
  static const WordNetLemmatizer l(kWordNet);
  return l;
}

nlohmann::json read_json_file(const std::string& path) { return seva::io::read_json(path); }

std::string write(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  seva::io::write_file_atomic(path, text);
  return path;
}

// Runs fn and returns the message it throws ("" when it does not throw).
template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

std::vector<std::string> strings(const nlohmann::json& j) { return j.get<std::vector<std::string>>(); }

}  // namespace

TEST(EvalChair, CocoTableIsChairPys) {
  const auto expected = read_json_file(data_path("chair/expected.json"));
  EXPECT_EQ(std::string(kChairCocoSynonyms), expected["synonyms_txt"].get<std::string>());
  const ChairVocabulary v = ChairVocabulary::coco();
  auto reference = expected["inverse_synonym_dict"].get<std::map<std::string, std::string>>();
  ASSERT_EQ(reference.count(""), 1u);  // the table's empty first line; no token can equal it
  reference.erase("");
  EXPECT_EQ(v.node_of, reference);
  EXPECT_EQ(v.double_words, (expected["double_word_dict"].get<std::map<std::string, std::string>>()));
  EXPECT_TRUE(v.toilet_seat_rule);
  EXPECT_EQ(v.node_of.size(), 403u);
  // The quirks, kept: a leading space, a capital, a three-word phrase.
  EXPECT_EQ(v.node_of.at(" motor bike"), "motorcycle");
  EXPECT_EQ(v.node_of.count("motor bike"), 0u);
  EXPECT_EQ(v.node_of.at(" cheesecake"), "cake");
  EXPECT_EQ(v.node_of.at("iPhone"), "cell phone");
  EXPECT_EQ(v.node_of.at("stove top oven"), "oven");
}

TEST(EvalChair, MatchesReferenceOnFixture) {
  const auto expected = read_json_file(data_path("chair/expected.json"));
  const auto t0 = std::chrono::steady_clock::now();
  const ChairBenchmark b = read_chair_benchmark(data_path("chair"), "val2014", "", kWordNet);
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "read_chair_benchmark (WordNet included): " << load_s << " s\n";
  EXPECT_LT(load_s, 5.0);

  // Ground-truth objects per image: instance categories and the reference captions' objects.
  ASSERT_EQ(b.images.size(), 16u);
  EXPECT_EQ(b.images.front().id, 42);
  EXPECT_EQ(b.images.front().file_name, "COCO_val2014_000000000042.jpg");
  for (size_t i = 1; i < b.images.size(); ++i) EXPECT_LT(b.images[i - 1].id, b.images[i].id);
  for (const auto& img : b.images) {
    const auto key = std::to_string(img.id);
    ASSERT_TRUE(expected["ground_truth"].contains(key)) << key;
    EXPECT_EQ(std::vector<std::string>(img.objects.begin(), img.objects.end()), strings(expected["ground_truth"][key]))
        << "image " << key;
  }

  const auto answers = read_chair_answers(data_path("chair/answers.jsonl"));
  const auto& rows = expected["answers"];
  ASSERT_EQ(answers.size(), rows.size());
  std::vector<int64_t> asked;
  for (const auto& a : answers) asked.push_back(a.image_id);
  std::vector<nlohmann::json> per_answer;
  const auto scores = score_chair(b, answers, asked, {}, &per_answer);
  ASSERT_EQ(per_answer.size(), rows.size());
  size_t words_compared = 0, without_objects = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& want = rows[i];
    const auto& got = per_answer[i];
    SCOPED_TRACE("answer " + std::to_string(i) + ": " + want["text"].get<std::string>());
    EXPECT_EQ(got["image_id"].get<int64_t>(), want["image_id"].get<int64_t>());
    EXPECT_EQ(strings(got["mentioned"]), strings(want["mentioned"]));
    EXPECT_EQ(strings(got["objects"]), strings(want["objects"]));
    EXPECT_EQ(got["hallucinated"], want["hallucinated"]);
    EXPECT_EQ(strings(got["ground_truth"]), strings(want["ground_truth"]));
    const auto m = chair_mentions(want["text"].get<std::string>(), b.vocabulary, *b.lemmatizer);
    EXPECT_EQ(m.raw_words, strings(want["raw_words"]));
    EXPECT_EQ(got["words"].get<size_t>(), want["raw_words"].size());
    EXPECT_NEAR(got["chair_i"].get<double>(), want["metrics"]["CHAIRi"].get<double>(), 1e-12);
    EXPECT_NEAR(got["recall"].get<double>(), want["metrics"]["Recall"].get<double>(), 1e-12);
    words_compared += m.raw_words.size();
    without_objects += want["mentioned"].empty() ? 1 : 0;
  }
  std::cout << rows.size() << " answers, " << words_compared << " words compared with chair.py\n";
  const auto& o = scores["overall"];
  const auto& ref = expected["overall"];
  EXPECT_NEAR(o["chair_s"].get<double>(), ref["CHAIRs"].get<double>(), 1e-12);
  EXPECT_NEAR(o["chair_i"].get<double>(), ref["CHAIRi"].get<double>(), 1e-12);
  EXPECT_NEAR(o["recall"].get<double>(), ref["Recall"].get<double>(), 1e-12);
  EXPECT_NEAR(0.01 * o["mean_words"].get<double>(), ref["Len"].get<double>(), 1e-12);  // chair.py's Len is 0.01x
  // The values themselves, so that a regenerated fixture that drifts shows here too.
  EXPECT_NEAR(o["chair_s"].get<double>(), 31.0 / 63.0, 1e-12);
  EXPECT_EQ(o["answers_without_objects"].get<int64_t>(), static_cast<int64_t>(without_objects));
  EXPECT_EQ(o["unknown_image_ids"].get<int64_t>(), 1);  // 999999
  EXPECT_FALSE(o.contains("mean_tokens"));             // the fixture's rows record no tokens
  EXPECT_EQ(o["questions"].get<int64_t>(), 17);        // 16 images + 999999
  EXPECT_EQ(o["scored"].get<int64_t>(), 63);
  EXPECT_EQ(o["missing_images"].get<int64_t>(), 0);
  EXPECT_EQ(o["unanswered"].get<int64_t>(), 0);
  int64_t mentions = 0, hallucinated = 0;
  for (const auto& r : rows) {
    mentions += static_cast<int64_t>(r["mentioned"].size());
    hallucinated += static_cast<int64_t>(r["hallucinated"].size());
  }
  EXPECT_EQ(o["mentions"].get<int64_t>(), mentions);
  EXPECT_EQ(o["hallucinated"].get<int64_t>(), hallucinated);
}

TEST(EvalChair, LemmatizerMatchesNltk) {
  const auto t0 = std::chrono::steady_clock::now();
  const WordNetLemmatizer l(kWordNet);
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "WordNet index and exceptions read in " << load_s << " s (" << l.lemma_count() << " lemmas)\n";
  EXPECT_GT(l.lemma_count(), 140000u);
  std::ifstream f(data_path("chair/lemmas.tsv"));
  ASSERT_TRUE(f) << "missing tests/data/chair/lemmas.tsv";
  std::string line;
  size_t words = 0, checked = 0, mismatches = 0;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, '\t');) cols.push_back(c);
    ASSERT_EQ(cols.size(), 5u) << line;
    ++words;
    for (int p = 0; p < 4; ++p) {
      const std::string got = l.lemmatize(cols[0], "nvar"[p]);
      ++checked;
      if (got != cols[1 + p] && ++mismatches <= 20)
        ADD_FAILURE() << "lemmatize(" << cols[0] << ", " << "nvar"[p] << ") = " << got << ", NLTK: " << cols[1 + p];
    }
  }
  std::cout << words << " words x 4 parts of speech: " << checked - mismatches << "/" << checked << " equal NLTK\n";
  EXPECT_GT(words, 5000u);
  EXPECT_EQ(mismatches, 0u);
  // NLTK's docstring examples and the corners CHAIR meets.
  EXPECT_EQ(l.lemmatize("us", 'n'), "u");
  EXPECT_EQ(l.lemmatize("abaci", 'n'), "abacus");
  EXPECT_EQ(l.lemmatize("people", 'n'), "people");  // never "person": 'people' is a noun lemma itself
  EXPECT_EQ(l.lemmatize("glasses", 'n'), "glass");
  EXPECT_EQ(l.lemmatize("seated", 'v'), "seat");
  EXPECT_EQ(l.lemmatize("skiing", 'n'), "skiing");
  EXPECT_EQ(l.lemmatize("skiing", 'v'), "ski");
  EXPECT_EQ(l.lemmatize("Dogs", 'n'), "Dogs");  // case-sensitive
  EXPECT_EQ(l.lemmatize("better", 'a'), "good");
  EXPECT_EQ(l.lemmatize("better", 's'), "good");
  EXPECT_EQ(l.morphy("glasses", 'n'), (std::vector<std::string>{"glasses", "glass"}));
  EXPECT_NE(error_of([&] { l.lemmatize("dog", 'x'); }).find("n, v, a, s or r"), std::string::npos);
}

TEST(EvalChair, WordNetFolderErrors) {
  const std::string dir = seva::test::temp_dir("chair_wordnet");
  const std::string e = error_of([&] { WordNetLemmatizer l(dir); });
  EXPECT_NE(e.find(dir + "/index.noun"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  write(dir, "index.noun", "  1 license line\nbad\n");
  const std::string e2 = error_of([&] { WordNetLemmatizer l(dir); });
  EXPECT_NE(e2.find(dir + "/index.noun:2"), std::string::npos) << e2;
}

TEST(EvalChair, TokenizerMatchesNltk) {
  const auto rows = read_json_file(data_path("chair/tokenize.json"));
  size_t strings_checked = 0, tokens = 0;
  for (const auto& r : rows) {
    const std::string text = r["text"].get<std::string>();
    SCOPED_TRACE(nlohmann::json(text).dump());
    EXPECT_EQ(seva::text::nltk_word_tokenize(text), strings(r["nltk"]));
    EXPECT_EQ(chair_word_tokenize(text), strings(r["chair"]));
    ++strings_checked;
    tokens += r["nltk"].size() + r["chair"].size();
  }
  std::cout << strings_checked << " strings (" << tokens << " tokens) compared with NLTK\n";
  EXPECT_GT(strings_checked, 300u);
}

TEST(EvalChair, TokenizerKeepsOtherBytes) {
  // Not UTF-8: the bytes pass through (in the token they belong to), nothing is dropped.
  EXPECT_EQ(seva::text::nltk_word_tokenize("caf\xe9 \xff\xfe dog."),
            (std::vector<std::string>{"caf\xe9", "\xff\xfe", "dog", "."}));
  EXPECT_EQ(seva::text::python_lower("A\xe9\xc3\x89"), "a\xe9\xc3\xa9");
  EXPECT_EQ(seva::text::python_lower("ΟΔΟΣ ΣΑΣ."), "οδος σας.");  // final sigma, as Python
  EXPECT_EQ(seva::text::python_lower("İ"), "i\xcc\x87");
  EXPECT_EQ(seva::text::split_sentences("A dog. (A cat.) Done!\"  Next? x.y z"),
            (std::vector<std::string>{"A dog.", "(A cat.)", "Done!\"", "Next?", "x.y z"}));
}

TEST(EvalChair, MentionsFollowTheReferenceRules) {
  const ChairVocabulary v = ChairVocabulary::coco();
  auto words = [&](const std::string& text) { return chair_mentions(text, v, lemmatizer()).words; };
  using W = std::vector<std::string>;
  // "motor bike" becomes one word that is no object (the table has " motor bike").
  const auto bike = chair_mentions("A man on a motor bike.", v, lemmatizer());
  EXPECT_EQ(bike.words, W{"man"});
  EXPECT_EQ(bike.raw_words, (W{"a", "man", "on", "a", "motor bike", "."}));
  EXPECT_EQ(words("A baby elephant."), W{"elephant"});              // not "baby" -> person
  EXPECT_EQ(words("A passenger jet."), W{"jet"});
  EXPECT_EQ(words("The seat of the toilet."), W{"toilet"});          // seat dropped: no chair
  EXPECT_EQ(words("A toilet seat."), W{"toilet"});
  EXPECT_EQ(words("A man seated on a bench."), (W{"man", "seat", "bench"}));  // verb: seat -> chair
  EXPECT_EQ(words("The seated man."), W{"man"});                     // after "the": a noun, no lemma
  EXPECT_EQ(words("People skiing."), (W{"people", "ski"}));
  EXPECT_EQ(words("The skiing people."), W{"people"});
  EXPECT_EQ(words("Two wine glasses and a hot dog."), (W{"wine glass", "hot dog"}));
  EXPECT_EQ(words("Train tracks."), W{});                            // "train track" is a double word
  EXPECT_EQ(words("A DOG's bowl"), (W{"dog", "bowl"}));
  EXPECT_EQ(words(""), W{});
  EXPECT_EQ(chair_mentions("A bow tie.", v, lemmatizer()).nodes, W{"tie"});
}

TEST(EvalChair, VocabularyFile) {
  const std::string dir = seva::test::temp_dir("chair_vocab");
  const std::string good = write(dir, "objects.txt",
                                 "# made-up objects\n\nBall, sphere,  red \t ball\ncube, box\r\n"
                                 "traffic cone, cone, pylon\n");
  const ChairVocabulary v = ChairVocabulary::read(good);
  EXPECT_EQ(v.node_of, (std::map<std::string, std::string>{{"ball", "ball"}, {"sphere", "ball"}, {"red ball", "ball"},
                                                            {"cube", "cube"}, {"box", "cube"},
                                                            {"traffic cone", "traffic cone"}, {"cone", "traffic cone"},
                                                            {"pylon", "traffic cone"}}));
  EXPECT_EQ(v.double_words, (std::map<std::string, std::string>{{"red ball", "red ball"},
                                                                  {"traffic cone", "traffic cone"}}));
  EXPECT_FALSE(v.toilet_seat_rule);
  const auto m = chair_mentions("A red ball next to two traffic cones and boxes.", v, lemmatizer());
  EXPECT_EQ(m.words, (std::vector<std::string>{"red ball", "traffic cone", "box"}));
  EXPECT_EQ(m.nodes, (std::vector<std::string>{"ball", "traffic cone", "cube"}));

  auto error = [&](const std::string& text) {
    const std::string path = write(dir, "bad.txt", text);
    return error_of([&] { ChairVocabulary::read(path); });
  };
  EXPECT_NE(error("ball\ncube, , box\n").find(dir + "/bad.txt:2: empty entry"), std::string::npos);
  EXPECT_NE(error("ball\n\nstove top oven\n").find("bad.txt:3: \"stove top oven\" has more than two words"),
            std::string::npos);
  EXPECT_NE(error("ball, sphere\ncube, sphere\n").find("bad.txt:2: \"sphere\" is already a synonym of \"ball\" (line 1)"),
            std::string::npos);
  EXPECT_NE(error("# nothing\n").find("no objects"), std::string::npos);
  EXPECT_NE(error_of([&] { ChairVocabulary::read(dir + "/absent.txt"); }).find(dir + "/absent.txt"), std::string::npos);
  // A repeated word under the same node is fine (the COCO table has several).
  EXPECT_EQ(ChairVocabulary::read(write(dir, "rep.txt", "cup, mug, mug\n")).node_of.size(), 2u);
}

namespace {

// A minimal annotations folder: two images, a dog and a cat.
struct Annotations {
  nlohmann::json instances = {
      {"images", {{{"id", 2}, {"file_name", "b.jpg"}}, {{"id", 1}, {"file_name", "a.jpg"}}}},
      {"categories", {{{"id", 18}, {"name", "dog"}, {"supercategory", "animal"}},
                      {{"id", 17}, {"name", "cat"}, {"supercategory", "animal"}}}},
      {"annotations", {{{"image_id", 1}, {"category_id", 18}, {"bbox", {1, 2, 3, 4}}, {"segmentation", {{1, 2, 3, 4}}}},
                       {{"image_id", 2}, {"category_id", 17}}}}};
  nlohmann::json captions = {
      {"annotations", {{{"image_id", 1}, {"caption", "A puppy on a sofa."}}, {{"image_id", 2}, {"caption", "A cat."}}}}};
  std::string write_to(const std::string& dir) const {
    write(dir, "instances_val2014.json", instances.dump());
    write(dir, "captions_val2014.json", captions.dump());
    return dir;
  }
};

std::string benchmark_error(const Annotations& a, const std::string& name, const std::string& vocabulary = "") {
  const std::string dir = a.write_to(seva::test::temp_dir("chair_" + name));
  return error_of([&] { read_chair_benchmark(dir, "val2014", vocabulary, kWordNet); });
}

}  // namespace

TEST(EvalChair, BenchmarkFolder) {
  const std::string dir = Annotations{}.write_to(seva::test::temp_dir("chair_ok"));
  const ChairBenchmark b = read_chair_benchmark(dir, "val2014", "", kWordNet);
  ASSERT_EQ(b.images.size(), 2u);
  EXPECT_EQ(b.images[0].file_name, "a.jpg");
  EXPECT_EQ(b.images[0].objects, (std::set<std::string>{"couch", "dog"}));  // sofa -> couch from the caption
  EXPECT_EQ(b.images[1].objects, (std::set<std::string>{"cat"}));
  EXPECT_EQ(b.index_of.at(2), 1u);
  EXPECT_EQ(b.lemmatizer->dir(), kWordNet);
}

TEST(EvalChair, BenchmarkErrors) {
  const std::string none = seva::test::temp_dir("chair_none");
  std::string e = error_of([&] { read_chair_benchmark(none, "val2014", "", kWordNet); });
  EXPECT_NE(e.find(none + "/instances_val2014.json"), std::string::npos) << e;
  {
    const std::string dir = Annotations{}.write_to(seva::test::temp_dir("chair_nownet"));
    e = error_of([&] { read_chair_benchmark(dir, "val2014", "", dir + "/no-wordnet"); });
    EXPECT_NE(e.find(dir + "/no-wordnet"), std::string::npos) << e;
  }
  {
    const std::string dir = Annotations{}.write_to(seva::test::temp_dir("chair_malformed"));
    write(dir, "captions_val2014.json", "{\"annotations\": [");
    e = error_of([&] { read_chair_benchmark(dir, "val2014", "", kWordNet); });
    EXPECT_NE(e.find(dir + "/captions_val2014.json: malformed JSON"), std::string::npos) << e;
    write(dir, "captions_val2014.json", std::string(100000, '[') + std::string(100000, ']'));
    e = error_of([&] { read_chair_benchmark(dir, "val2014", "", kWordNet); });
    EXPECT_NE(e.find("nested deeper"), std::string::npos) << e;
  }
  struct Case {
    const char* name;
    std::function<void(Annotations&)> edit;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"root", [](Annotations& a) { a.instances = nlohmann::json::array(); }, "instances_val2014.json: a COCO annotation file must be a JSON object"},
      {"images", [](Annotations& a) { a.instances.erase("images"); }, "instances_val2014.json: needs an array \"images\""},
      {"images_type", [](Annotations& a) { a.instances["images"] = "x"; }, "needs an array \"images\""},
      {"image_row", [](Annotations& a) { a.instances["images"][1] = 5; }, "images[1]: must be a JSON object"},
      {"image_id", [](Annotations& a) { a.instances["images"][0]["id"] = "2"; }, "images[0]: \"id\" must be an integer"},
      {"image_id_float", [](Annotations& a) { a.instances["images"][0]["id"] = 2.5; }, "images[0]: \"id\" must be an integer"},
      {"image_id_huge", [](Annotations& a) { a.instances["images"][0]["id"] = 18446744073709551615ull; }, "images[0]: \"id\" is out of range"},
      {"file_name", [](Annotations& a) { a.instances["images"][0].erase("file_name"); }, "images[0]: missing \"file_name\""},
      {"repeat", [](Annotations& a) { a.instances["images"][0]["id"] = 1; }, "image id 1 is repeated"},
      {"categories", [](Annotations& a) { a.instances.erase("categories"); }, "needs an array \"categories\""},
      {"category_name", [](Annotations& a) { a.instances["categories"][0]["name"] = 3; }, "categories[0]: \"name\" must be a string"},
      {"category_repeat", [](Annotations& a) { a.instances["categories"][1]["id"] = 18; }, "categories[1]: category id 18 is repeated"},
      {"unknown_category", [](Annotations& a) { a.instances["annotations"][1]["category_id"] = 99; }, "annotations[1]: category_id 99 is not among the categories"},
      {"vocabulary", [](Annotations& a) { a.instances["categories"][0]["name"] = "dragon"; }, "annotations[0]: category \"dragon\" (id 18) is not in the CHAIR vocabulary"},
      {"annotation_image", [](Annotations& a) { a.instances["annotations"][0]["image_id"] = 7; }, "annotations[0]: image_id 7 is not among"},
      {"annotation_key", [](Annotations& a) { a.instances["annotations"][0].erase("category_id"); }, "annotations[0]: missing \"category_id\""},
      {"captions", [](Annotations& a) { a.captions = {{"annotations", {{{"image_id", 1}}}}}; }, "captions_val2014.json: annotations[0]: missing \"caption\""},
      {"caption_type", [](Annotations& a) { a.captions["annotations"][1]["caption"] = nullptr; }, "annotations[1]: \"caption\" must be a string"},
      {"caption_image", [](Annotations& a) { a.captions["annotations"][1]["image_id"] = 3; }, "captions_val2014.json: annotations[1]: image_id 3 is not among"},
  };
  for (const auto& c : cases) {
    Annotations a;
    c.edit(a);
    e = benchmark_error(a, c.name);
    EXPECT_NE(e.find(c.message), std::string::npos) << c.name << ": " << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << c.name << ": " << e;
  }
  // A vocabulary of its own must name every category the annotations use.
  const std::string vdir = seva::test::temp_dir("chair_vocab_missing");
  e = benchmark_error(Annotations{}, "vocab", write(vdir, "v.txt", "dog, puppy\n"));
  EXPECT_NE(e.find("category \"cat\" (id 17) is not in the CHAIR vocabulary " + vdir + "/v.txt"), std::string::npos) << e;
}

TEST(EvalChair, AnswerFiles) {
  const std::string dir = seva::test::temp_dir("chair_answers");
  const auto jsonl = read_chair_answers(write(dir, "a.jsonl",
                                              "{\"question_id\": 42, \"text\": \"A dog.\", \"tokens\": 3}\n\n"
                                              "{\"image_id\": 7, \"caption\": \"A cat.\"}\n"
                                              "{\"question_id\": \"74\", \"text\": \"\", \"image_id\": 1, \"caption\": \"x\"}\n"));
  ASSERT_EQ(jsonl.size(), 3u);
  EXPECT_EQ(jsonl[0].image_id, 42);
  EXPECT_EQ(jsonl[0].text, "A dog.");
  EXPECT_EQ(jsonl[0].tokens, 3);
  EXPECT_EQ(jsonl[1].image_id, 7);
  EXPECT_EQ(jsonl[1].text, "A cat.");
  EXPECT_EQ(jsonl[1].tokens, -1);
  EXPECT_EQ(jsonl[2].image_id, 74);  // question_id/text win over image_id/caption
  EXPECT_EQ(jsonl[2].text, "");

  // chair.py's own form, a .json list; the fixture's file is read by chair.py too.
  const auto expected = read_json_file(data_path("chair/expected.json"))["answers_caption_json"];
  const auto list = read_chair_answers(data_path("chair/answers_caption.json"));
  ASSERT_EQ(list.size(), expected["image_ids"].size());
  for (size_t i = 0; i < list.size(); ++i) {
    EXPECT_EQ(list[i].image_id, expected["image_ids"][i].get<int64_t>());
    EXPECT_EQ(list[i].text, expected["captions"][i].get<std::string>());
  }

  auto error = [&](const std::string& name, const std::string& text) {
    const std::string path = write(dir, name, text);
    return error_of([&] { read_chair_answers(path); });
  };
  EXPECT_NE(error("b.jsonl", "{\"question_id\": 1, \"text\": \"a\"}\n{\"question_id\": 2}\n")
                .find(dir + "/b.jsonl:2: a CHAIR answer row needs \"question_id\" and \"text\", or \"image_id\" and \"caption\""),
            std::string::npos);
  EXPECT_NE(error("b.jsonl", "{\"question_id\": 1, \"text\": 5}\n").find("b.jsonl:1: \"text\" must be a string"),
            std::string::npos);
  EXPECT_NE(error("b.jsonl", "{\"question_id\": 1.5, \"text\": \"a\"}\n").find("b.jsonl:1: \"question_id\" must be an image id"),
            std::string::npos);
  EXPECT_NE(error("b.jsonl", "{\"question_id\": \"x1\", \"text\": \"a\"}\n").find("must be an image id"), std::string::npos);
  EXPECT_NE(error("b.jsonl", "{\"question_id\": 1, \"text\": \"a\", \"tokens\": -2}\n").find("b.jsonl:1: \"tokens\" must be a count"),
            std::string::npos);
  EXPECT_NE(error("b.jsonl", "[1]\n").find("b.jsonl:1: an answer row must be a JSON object"), std::string::npos);
  EXPECT_NE(error("b.jsonl", "{\"question_id\": 1,\n").find("b.jsonl:1"), std::string::npos);
  EXPECT_NE(error("c.json", "{\"image_id\": 1}").find("c.json: a .json answers file must be a JSON list"), std::string::npos);
  EXPECT_NE(error("c.json", "[{\"image_id\": 1, \"caption\": \"a\"}, {\"image_id\": 1}]").find("c.json: row 1: a CHAIR answer row"),
            std::string::npos);
  EXPECT_NE(error("c.json", "[{").find("c.json: malformed JSON"), std::string::npos);
  EXPECT_NE(error("c.json", std::string(5000, '[')).find("c.json: malformed JSON: JSON nested deeper"), std::string::npos);
}

TEST(EvalChair, CoverageAndTokens) {
  const std::string dir = Annotations{}.write_to(seva::test::temp_dir("chair_coverage"));
  const ChairBenchmark b = read_chair_benchmark(dir, "val2014", "", kWordNet);
  // Asked: 1, 2, 3 (no annotations), 4; 4's image is missing; 2 is not answered; 1 twice.
  const std::vector<ChairAnswer> answers = {{1, "A dog on a couch.", 10}, {1, "A dog and a cat.", 20}, {3, "A bus.", 6}};
  std::vector<nlohmann::json> rows;
  const auto o = score_chair(b, answers, {1, 2, 3, 4, 1}, {4}, &rows)["overall"];
  EXPECT_EQ(o["questions"].get<int64_t>(), 4);
  EXPECT_EQ(o["scored"].get<int64_t>(), 3);
  EXPECT_EQ(o["missing_images"].get<int64_t>(), 1);
  EXPECT_EQ(o["unanswered"].get<int64_t>(), 1);
  EXPECT_EQ(o["unknown_image_ids"].get<int64_t>(), 1);
  EXPECT_EQ(o["mentions"].get<int64_t>(), 5);      // dog couch | dog cat | bus
  EXPECT_EQ(o["hallucinated"].get<int64_t>(), 2);  // cat (image 1 has dog, couch), bus (image 3 unknown)
  EXPECT_DOUBLE_EQ(o["chair_s"].get<double>(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(o["chair_i"].get<double>(), 2.0 / 5.0);
  EXPECT_DOUBLE_EQ(o["recall"].get<double>(), (2.0 + 1.0 + 0.0) / (2.0 + 2.0 + 0.0));
  EXPECT_DOUBLE_EQ(o["mean_words"].get<double>(), (6.0 + 6.0 + 3.0) / 3.0);  // a dog on a couch . | ... | a bus .
  EXPECT_DOUBLE_EQ(o["mean_tokens"].get<double>(), 12.0);
  EXPECT_EQ(o["answers_without_objects"].get<int64_t>(), 0);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1]["hallucinated"], nlohmann::json::parse(R"([["cat", "cat"]])"));
  EXPECT_DOUBLE_EQ(rows[1]["chair_i"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(rows[1]["recall"].get<double>(), 0.5);
  EXPECT_EQ(rows[1]["tokens"].get<int64_t>(), 20);
  EXPECT_EQ(rows[2]["ground_truth"], nlohmann::json::array());
  // One answer without a token count: no mean_tokens. No answers: zeros, not NaN.
  const auto partial = score_chair(b, {{1, "A dog.", -1}, {2, "", 4}}, {1, 2}, {}, nullptr)["overall"];
  EXPECT_FALSE(partial.contains("mean_tokens"));
  EXPECT_EQ(partial["answers_without_objects"].get<int64_t>(), 1);
  const auto empty = score_chair(b, {}, {1, 2}, {}, nullptr)["overall"];
  EXPECT_EQ(empty["chair_s"].get<double>(), 0.0);
  EXPECT_EQ(empty["chair_i"].get<double>(), 0.0);
  EXPECT_EQ(empty["recall"].get<double>(), 0.0);
  EXPECT_EQ(empty["unanswered"].get<int64_t>(), 2);
  EXPECT_FALSE(empty.contains("mean_tokens"));
}
