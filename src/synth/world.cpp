#include "synth/world.h"

#include "eval/base64.h"
#include "image/encode.h"
#include "io/files.h"
#include "method/sample.h"
#include "synth/choice_drill.h"
#include "synth/questions.h"
#include "synth/render.h"
#include "synth/scene.h"
#include "text/conversation.h"
#include "util/rng.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace seva::synth {

const char* const kWorldManifest = "world.json";
const char* const kSftStage1 = "sft_stage1.json";
const char* const kSftStage2 = "sft_stage2.json";
const char* const kSftChoiceDrill2 = "sft_choice_drill2.json";
const char* const kSftChoiceDrill = "sft_choice_drill.json";
const char* const kSftChoice = "sft_choice.json";
const char* const kPoolFile = "pool.json";
const char* const kPoolLabels = "pool_labels.jsonl";
const char* const kPopeFile = "pope.jsonl";
const char* const kMmbenchFile = "mmbench.tsv";
const char* const kVqaFile = "vqa.jsonl";
const char* const kCorpusFile = "corpus.txt";
const char* const kImagesDir = "images";
const char* const kChairDir = "chair";
const char* const kChairSplit = "bench";
const char* const kChairInstances = "instances_bench.json";
const char* const kChairCaptions = "captions_bench.json";
const char* const kChairObjects = "objects.txt";

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string item_id(const std::string& split, int64_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s_%06lld", split.c_str(), static_cast<long long>(index));
  return buf;
}

// Runs fn(i) for i in [0, n) on `threads` workers; the first exception is rethrown.
template <typename Fn>
void parallel_for(int64_t n, int threads, Fn fn) {
  std::atomic<int64_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&] {
    try {
      for (int64_t i; (i = next.fetch_add(1)) < n;) fn(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next = n;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::max(1, threads); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

json turn(const char* from, const std::string& value) { return json{{"from", from}, {"value", value}}; }

// One LLaVA-665k entry; the first human turn carries the image marker.
json entry(const std::string& id, const std::string& image, const std::vector<Qa>& qas, bool answers) {
  json conv = json::array();
  for (size_t t = 0; t < qas.size(); ++t) {
    conv.push_back(turn("human", (t == 0 ? "<image>\n" : "") + qas[t].question));
    if (answers) conv.push_back(turn("gpt", qas[t].answer));
  }
  return json{{"id", id}, {"image", image}, {"conversations", conv}};
}

// A JSON array with one entry per line (readable, diffable, still one JSON document).
std::string json_array_lines(const std::vector<std::string>& rows) {
  std::string out = "[\n";
  for (size_t i = 0; i < rows.size(); ++i) (out += rows[i]) += i + 1 < rows.size() ? ",\n" : "\n";
  return out + "]\n";
}

std::string join_lines(const std::vector<std::string>& rows) {
  std::string out;
  size_t n = 0;
  for (const auto& r : rows) n += r.size();
  out.reserve(n);
  for (const auto& r : rows) out += r;
  return out;
}

// A TSV cell as pandas writes it: quoted when it holds a tab, newline or quote.
std::string tsv_cell(const std::string& s) {
  if (s.find_first_of("\t\n\r\"") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) (q += c) += c == '"' ? "\"" : "";
  return q + "\"";
}

// Text lines for the tokenizer corpus: each line of a question (MMBench prompts span several), the answer.
void add_corpus(std::string& lines, const Qa& q) {
  size_t b = 0;
  for (size_t e; (e = q.question.find('\n', b)) != std::string::npos; b = e + 1) lines += q.question.substr(b, e - b) + "\n";
  lines += q.question.substr(b) + "\n";
  lines += q.answer + "\n";
}

const char* l2_category(const std::string& asked) {
  if (asked == "color") return "attribute";
  if (asked == "count") return "counting";
  if (asked == "position") return "spatial";
  if (asked == "exist") return "hallucination";
  return "ocr";
}

std::string write_image(const std::string& images_dir, const std::string& rel, const Scene& s) {
  std::string bytes = image::encode_png(render_scene(s));
  const std::string path = io::join_path(images_dir, rel);
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write " + path);
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  if (std::fclose(f) != 0 || !ok) throw std::runtime_error("cannot write " + path + " (disk full?)");
  return bytes;
}

void progress(const WorldOptions& o, const std::string& what, int64_t n, double secs) {
  if (o.quiet) return;
  std::cerr << "seva world: " << what << ": " << n << " images in " << secs << " s ("
            << (secs > 0 ? static_cast<int64_t>(n / secs) : 0) << " images/s)\n";
}

}  // namespace

std::string image_rel_path(const std::string& split, int64_t index) {
  return split + "/" + item_id(split, index) + ".png";
}

namespace {

// The pool's question families (the six question families and caption when none are named),
// checked against the options.
std::vector<Family> checked_pool_families(const WorldOptions& o) {
  if (o.out.empty()) throw std::invalid_argument("seva world: --out is required");
  if (o.train < 0 || o.pool < 0 || o.bench < 0 || o.describe < 0)
    throw std::invalid_argument("seva world: counts must not be negative");
  if (o.pool_questions_per_image < 1) throw std::invalid_argument("--pool-questions-per-image must be at least 1");
  std::vector<Family> pool_families;
  for (const auto& name : o.pool_families) {
    Family f = family_from_name(name);
    if (std::find(pool_families.begin(), pool_families.end(), f) == pool_families.end()) pool_families.push_back(f);
  }
  if (pool_families.empty()) {
    pool_families = question_families();
    pool_families.push_back(Family::caption);
  }
  if (o.pool_questions_per_image > static_cast<int>(pool_families.size()))
    throw std::invalid_argument("--pool-questions-per-image " + std::to_string(o.pool_questions_per_image) +
                                " is more than the " + std::to_string(pool_families.size()) + " pool families");
  return pool_families;
}

// Written before anything else and removed once world.json is there: a world killed half-way is
// known as seva's own and written again, where a directory seva did not write is refused.
const char* const kWorldWriting = "world.writing";

// OUT/images/{train,pool,bench}, emptied, and no OUT/chair: a smaller world over a bigger one
// leaves no strays.
std::string fresh_image_dirs(const WorldOptions& o) {
  io::make_dir(o.out);
  const std::string images = io::join_path(o.out, kImagesDir), chair = io::join_path(o.out, kChairDir);
  const std::string manifest = io::join_path(o.out, kWorldManifest), writing = io::join_path(o.out, kWorldWriting);
  for (const auto& dir : {images, chair})
    if (io::file_exists(dir) && !io::file_exists(manifest) && !io::file_exists(writing))
      throw std::runtime_error(dir + " exists but " + manifest + " does not: not a world directory, refusing to overwrite it");
  io::write_file_atomic(writing, "seva world is writing this directory\n");
  io::remove_tree(chair);
  for (const char* split : {"train", "pool", "bench"}) {
    io::remove_tree(io::join_path(images, split));
    io::make_dir(io::join_path(images, split));
  }
  return images;
}

// What the train split adds to the world: its corpus lines and the number of stage-2 turns.
struct TrainSplit {
  std::vector<std::string> corpus;
  int64_t stage2_turns = 0;
};

// The train split: images, SFT stage 1 (captions), stage 2 (question families + some captions) and
// the multiple-choice stages.
TrainSplit write_train_split(const WorldOptions& o, const std::string& images, const WorldStats& stats) {
  const auto& all_families = question_families();
  std::vector<std::string> stage1(o.train), stage2(o.train), drill2(o.train), drill(o.train), choice(o.train);
  TrainSplit out;
  out.corpus.resize(o.train);
  std::vector<int64_t> stage2_turns(o.train);
  parallel_for(o.train, o.threads, [&](int64_t i) {
    const Scene s = sample_scene(o.seed, "train", i);
    const std::string rel = image_rel_path("train", i);
    write_image(images, rel, s);
    const std::string id = item_id("train", i);
    util::Rng rng(util::hash_key(o.seed, "questions/train", std::to_string(i)));
    const Qa cap = make_question(Family::caption, s, rng, stats);
    stage1[i] = entry(id, rel, {cap}, true).dump();
    std::vector<Qa> qas;
    if (rng.bernoulli(o.stage2_caption_share)) {
      qas.push_back(cap);
    } else {
      for (size_t f : rng.permutation(all_families.size())) qas.push_back(make_question(all_families[f], s, rng, stats));
    }
    stage2[i] = entry(id, rel, qas, true).dump();
    stage2_turns[i] = static_cast<int64_t>(qas.size());
    add_corpus(out.corpus[i], cap);
    for (const auto& q : qas)
      if (q.family != Family::caption) add_corpus(out.corpus[i], q);
    // The multiple-choice stages (choice_drill.h) draw from streams of their own and stay out of
    // the corpus, so the other files and the tokenizer do not depend on them.
    util::Rng crng(util::hash_key(o.seed, "choice/train", std::to_string(i)));
    auto three_binding = [&crng] { return std::vector<Qa>{binding_question(crng), binding_question(crng), binding_question(crng)}; };
    drill[i] = entry(id, rel, three_binding(), true).dump();
    const bool binding = crng.bernoulli(o.choice_binding_share);
    choice[i] = entry(id, rel, binding ? three_binding() : choice_turns(s, crng, stats, 3, o.choice_open_share), true).dump();
    util::Rng rng2(util::hash_key(o.seed, "choice2/train", std::to_string(i)));
    drill2[i] = entry(id, rel, {binding_question(rng2, 2), binding_question(rng2, 2), binding_question(rng2, 2)}, true).dump();
  });
  io::write_file_atomic(io::join_path(o.out, kSftStage1), json_array_lines(stage1));
  io::write_file_atomic(io::join_path(o.out, kSftStage2), json_array_lines(stage2));
  io::write_file_atomic(io::join_path(o.out, kSftChoiceDrill2), json_array_lines(drill2));
  io::write_file_atomic(io::join_path(o.out, kSftChoiceDrill), json_array_lines(drill));
  io::write_file_atomic(io::join_path(o.out, kSftChoice), json_array_lines(choice));
  for (auto n : stage2_turns) out.stage2_turns += n;
  return out;
}

// The pool split: unlabeled questions (human turns only) and their labels, for measuring pairs.
// Returns its corpus lines.
std::vector<std::string> write_pool_split(const WorldOptions& o, const std::string& images, const WorldStats& stats,
                                          const std::vector<Family>& pool_families) {
  const int k = o.pool_questions_per_image;
  std::vector<std::string> pool(o.pool), labels(o.pool), corpus(o.pool);
  parallel_for(o.pool, o.threads, [&](int64_t i) {
    const Scene s = sample_scene(o.seed, "pool", i);
    const std::string rel = image_rel_path("pool", i);
    write_image(images, rel, s);
    const std::string id = item_id("pool", i);
    const uint64_t key = util::hash_key(o.seed, "questions/pool", std::to_string(i));
    std::vector<Qa> qas;
    for (int j = 0; j < k; ++j) {  // families in rotation: equal shares over the pool
      const Family f = pool_families[static_cast<size_t>((i * k + j) % static_cast<int64_t>(pool_families.size()))];
      // Each family draws from its own copy of the image's stream: the question an image gets in
      // a family depends on (seed, image, family) only, not on the family list or the other
      // slots (and a one-question pool is what it was when the stream was shared).
      util::Rng rng(key);
      qas.push_back(make_question(f, s, rng, stats));
    }
    json e = entry(id, rel, qas, false);
    pool[i] = e.dump();
    for (int j = 0; j < k; ++j) {
      // The id and text exactly as `seva sample` makes them from the entry.
      const std::string text = method::remove_image_marker(e["conversations"][j]["value"].get<std::string>());
      json row = {{"id", id + "_" + std::to_string(j)}, {"image", rel}, {"text", text}, {"answer", qas[j].answer},
                  {"family", family_name(qas[j].family)}, {"category", qas[j].category},
                  {"hard", qas[j].hard}};
      labels[i] += row.dump() + "\n";
      add_corpus(corpus[i], qas[j]);
    }
  });
  io::write_file_atomic(io::join_path(o.out, kPoolFile), json_array_lines(pool));
  io::write_file_atomic(io::join_path(o.out, kPoolLabels), join_lines(labels));
  return corpus;
}

// One MMBench TSV row (the image inlined as base64 PNG).
std::string mmbench_row(int64_t i, const Qa& q, const std::string& png) {
  std::string row = std::to_string(i) + "\t" + tsv_cell(q.stem) + "\t";  // hint: empty
  for (const auto& opt : q.options) row += "\t" + tsv_cell(opt);
  return row + "\t" + q.answer + "\t" + q.category + "\t" + l2_category(q.category) + "\t" + eval::base64_encode(png) + "\n";
}

// The bench split: one POPE, one MMBench and one VQA question per image. Returns its corpus lines.
std::vector<std::string> write_bench_split(const WorldOptions& o, const std::string& images, const WorldStats& stats) {
  static const Family kMcAsked[] = {Family::color, Family::count, Family::position, Family::exist, Family::text};
  static const Family kVqaFamilies[] = {Family::color, Family::count, Family::position, Family::text, Family::exist};
  std::vector<std::string> pope(o.bench), mmbench(o.bench), vqa(o.bench), corpus(o.bench);
  parallel_for(o.bench, o.threads, [&](int64_t i) {
    const Scene s = sample_scene(o.seed, "bench", i);
    const std::string rel = image_rel_path("bench", i);
    const std::string png = write_image(images, rel, s);
    // POPE: yes/no alternate; each category gets both equally (i/2 cycles the categories).
    util::Rng pope_rng(util::hash_key(o.seed, "pope/bench", std::to_string(i)));
    const auto neg = static_cast<NegativeKind>((i / 2) % 3);
    const Qa p = exist_question(s, pope_rng, i % 2 == 0, neg, stats);
    pope[i] = json{{"question_id", i}, {"image", rel}, {"text", p.question}, {"label", p.answer},
                   {"category", negative_name(neg)}, {"hard", p.hard}}.dump() + "\n";
    add_corpus(corpus[i], p);
    util::Rng mc_rng(util::hash_key(o.seed, "mmbench/bench", std::to_string(i)));
    const Qa mc = choice_question(s, mc_rng, kMcAsked[i % 5], stats);
    mmbench[i] = mmbench_row(i, mc, png);
    add_corpus(corpus[i], mc);
    util::Rng vqa_rng(util::hash_key(o.seed, "vqa/bench", std::to_string(i)));
    const Family f = kVqaFamilies[i % 5];
    const Qa v = f == Family::exist ? exist_question(s, vqa_rng, (i / 5) % 2 == 0, static_cast<NegativeKind>((i / 10) % 3), stats)
                                    : make_question(f, s, vqa_rng, stats);
    vqa[i] = json{{"question_id", i}, {"image", rel}, {"text", v.question}, {"answers", json::array({v.answer})},
                  {"category", family_name(f)}, {"hard", v.hard}}.dump() + "\n";
    add_corpus(corpus[i], v);
  });
  io::write_file_atomic(io::join_path(o.out, kPopeFile), join_lines(pope));
  io::write_file_atomic(io::join_path(o.out, kMmbenchFile),
                        "index\tquestion\thint\tA\tB\tC\tD\tanswer\tcategory\tl2-category\timage\n" + join_lines(mmbench));
  io::write_file_atomic(io::join_path(o.out, kVqaFile), join_lines(vqa));
  return corpus;
}

// The tight box [x, y, w, h], in pixels, of the pixels the object's shape covers (bars ignored).
std::array<int, 4> object_box(const Object& ob) {
  // The shape lies within size/2 (+ a fraction) of its centre: scan that window, not the image.
  const int cx = (ob.cell % kGridCols) * kCell + kCell / 2 + ob.dx, cy = (ob.cell / kGridCols) * kCell + kCell / 2 + ob.dy;
  const int r = ob.size / 2 + 2;
  int x0 = kImageSize, y0 = kImageSize, x1 = -1, y1 = -1;
  for (int y = std::max(0, cy - r); y < std::min(kImageSize, cy + r); ++y)
    for (int x = std::max(0, cx - r); x < std::min(kImageSize, cx + r); ++x)
      if (object_covers(ob, x, y)) {
        x0 = std::min(x0, x), y0 = std::min(y0, y), x1 = std::max(x1, x), y1 = std::max(y1, y);
      }
  if (x1 < 0) throw std::logic_error("object_box: an object covers no pixel");
  return {x0, y0, x1 - x0 + 1, y1 - y0 + 1};
}

// objects.txt: the vocabulary in the form of CHAIR's COCO synonyms.txt ("node, synonym, ..."),
// one kind a line in category order, after a header saying what counts as a mention.
std::string chair_objects_text() {
  std::string out =
      "# seva world: the objects of the description benchmark (instances_bench.json, captions_bench.json),\n"
      "# in the form of CHAIR's COCO synonyms.txt: one object a line, \"node, synonym, ...\".\n"
      "# The objects are the 12 kinds, a colour and a shape (colours: red, green, blue, yellow; shapes:\n"
      "# circle, square, triangle). A mention is a colour word followed by a shape word, singular or\n"
      "# plural (the lemmatizer maps \"circles\" to \"circle\"): \"red circle\", \"two blue squares\".\n"
      "# Its node is the kind; a mention of a kind the image does not hold is a hallucination.\n"
      "# A shape without a colour (\"a circle\") and a colour without a shape (\"red\") are not object\n"
      "# mentions, nor are the caption's other words (none, text, the digits).\n";
  for (int k = 0; k < kKinds; ++k) out += kind_name(k) + "\n";
  return out;
}

struct ChairCounts {
  int64_t images = 0, objects = 0;
};

// The description benchmark (chair/, world.h): COCO instances and captions over the first
// `n` bench images, and the vocabulary.
ChairCounts write_chair(const WorldOptions& o, int64_t n) {
  using ojson = nlohmann::ordered_json;
  const std::string dir = io::join_path(o.out, kChairDir);
  io::make_dir(dir);
  ojson images = ojson::array(), objects = ojson::array(), captions = ojson::array(), categories = ojson::array();
  for (int k = 0; k < kKinds; ++k)
    categories.push_back({{"id", k + 1}, {"name", kind_name(k)}, {"supercategory", kShapeNames[kind_shape(k)]}});
  for (int64_t i = 0; i < n; ++i) {
    const Scene s = sample_scene(o.seed, "bench", i);
    const int64_t id = i + 1;
    images.push_back({{"id", id}, {"file_name", image_rel_path("bench", i)}, {"width", kImageSize}, {"height", kImageSize}});
    for (const auto& ob : s.objects) {
      const auto b = object_box(ob);
      objects.push_back({{"id", static_cast<int64_t>(objects.size()) + 1}, {"image_id", id}, {"category_id", ob.kind() + 1},
                         {"bbox", {b[0], b[1], b[2], b[3]}}, {"area", b[2] * b[3]}, {"iscrowd", 0}});
    }
    captions.push_back({{"id", id}, {"image_id", id}, {"caption", caption(s)}});
  }
  const ojson info = {{"description", "seva synthetic world: description benchmark (the first " + std::to_string(n) +
                                          " bench images; captions are the world's descriptions)"},
                      {"url", ""}, {"version", std::to_string(kGeneratorVersion)}, {"contributor", "seva world"},
                      {"seed", o.seed}, {"split", kChairSplit}};
  const ojson instances = {{"info", info}, {"licenses", ojson::array()}, {"images", images},
                           {"annotations", objects}, {"categories", categories}};
  const ojson caps = {{"info", info}, {"licenses", ojson::array()}, {"images", images}, {"annotations", captions}};
  io::write_file_atomic(io::join_path(dir, kChairInstances), instances.dump() + "\n");
  io::write_file_atomic(io::join_path(dir, kChairCaptions), caps.dump() + "\n");
  io::write_file_atomic(io::join_path(dir, kChairObjects), chair_objects_text());
  return {n, static_cast<int64_t>(objects.size())};
}

// The words of the corpus (runs of letters) and the ten digits: the world's vocabulary.
std::set<std::string> vocabulary(const std::string& corpus) {
  std::set<std::string> words;
  for (size_t b = 0; b < corpus.size();) {
    while (b < corpus.size() && !std::isalpha(static_cast<unsigned char>(corpus[b]))) ++b;
    size_t e = b;
    while (e < corpus.size() && std::isalpha(static_cast<unsigned char>(corpus[e]))) ++e;
    if (e > b) words.insert(corpus.substr(b, e - b));
    b = e;
  }
  for (char d = '0'; d <= '9'; ++d) words.insert(std::string(1, d));
  return words;
}

// world.json: what the world holds, its sizes, families, priors and files.
json manifest_of(const WorldOptions& o, const WorldStats& stats, const std::vector<Family>& pool_families,
                 int64_t stage2_turns, const std::set<std::string>& words, const ChairCounts& chair) {
  const int k = o.pool_questions_per_image;
  json families = json::array(), pool_fams = json::array(), frequent = json::array(), preferred = json::object(),
       partner = json::object();
  for (Family f : question_families()) families.push_back(family_name(f));
  for (Family f : pool_families) pool_fams.push_back(family_name(f));
  for (int kind : stats.by_frequency) frequent.push_back(kind_name(kind));
  for (int sh = 0; sh < kShapes; ++sh) {
    preferred[kShapeNames[sh]] = kColorNames[kPreferredColor[sh]];
    partner[kShapeNames[sh]] = kShapeNames[kPartnerShape[sh]];
  }
  json m = {
      {"generator", "seva synth"},
      {"version", kGeneratorVersion},
      {"seed", o.seed},
      {"image_size", kImageSize},
      {"grid", {{"rows", kGridRows}, {"cols", kGridCols}, {"cell", kCell}, {"text_rows", kImageSize - kTextTop}}},
      {"splits", {{"train", o.train}, {"pool", o.pool}, {"bench", o.bench}}},
      {"counts",
       {{"sft_stage1", o.train}, {"sft_stage2", o.train}, {"sft_stage2_turns", stage2_turns},
        {"sft_choice_drill2", o.train}, {"sft_choice_drill", o.train}, {"sft_choice", o.train},
        {"pool_questions", o.pool * k}, {"pope", o.bench}, {"mmbench", o.bench}, {"vqa", o.bench}}},
      {"families", families},
      {"pool_families", pool_fams},
      {"pool_questions_per_image", k},
      {"colors", json(std::vector<std::string>(kColorNames.begin(), kColorNames.end()))},
      {"shapes", json(std::vector<std::string>(kShapeNames.begin(), kShapeNames.end()))},
      {"vocabulary", words},
      {"priors",
       {{"preferred_color", preferred}, {"preferred_color_prob", kPreferredColorProb}, {"partner_shape", partner},
        {"objects_by_frequency", frequent}}},
      {"files",
       {{"images", kImagesDir}, {"sft_stage1", kSftStage1}, {"sft_stage2", kSftStage2},
        {"sft_choice_drill2", kSftChoiceDrill2}, {"sft_choice_drill", kSftChoiceDrill}, {"sft_choice", kSftChoice},
        {"pool", kPoolFile},
        {"pool_labels", kPoolLabels}, {"pope", kPopeFile}, {"mmbench", kMmbenchFile}, {"vqa", kVqaFile},
        {"corpus", kCorpusFile}}},
  };
  // The description benchmark (none when --describe 0): file names relative to its dir.
  if (chair.images > 0)
    m["chair"] = {{"dir", kChairDir}, {"split", kChairSplit}, {"images", chair.images}, {"objects", chair.objects},
                  {"instances", kChairInstances}, {"captions", kChairCaptions}, {"vocabulary", kChairObjects},
                  {"question", kDescribeQuestion}};
  return m;
}

}  // namespace

json write_world(const WorldOptions& o) {
  const auto pool_families = checked_pool_families(o);
  const auto t_start = Clock::now();
  const std::string images = fresh_image_dirs(o);
  const WorldStats stats = compute_stats(o.seed);
  json seconds = json::object();
  auto timed = [&](const char* split, int64_t n, auto&& write) {
    const auto t0 = Clock::now();
    auto result = write();
    seconds[split] = seconds_since(t0);
    progress(o, split, n, seconds[split]);
    return result;
  };
  const auto train = timed("train", o.train, [&] { return write_train_split(o, images, stats); });
  const auto pool = timed("pool", o.pool, [&] { return write_pool_split(o, images, stats, pool_families); });
  const auto bench = timed("bench", o.bench, [&] { return write_bench_split(o, images, stats); });
  const int64_t describe = std::min(o.describe, o.bench);
  const auto chair = describe > 0 ? timed("chair", describe, [&] { return write_chair(o, describe); }) : ChairCounts{};

  // The tokenizer's corpus: the template's words, then every split's questions and answers.
  std::string corpus = std::string(text::kLlavaV1System) + "\nUSER: ASSISTANT:\n";
  for (const auto* part : {&train.corpus, &pool, &bench}) corpus += join_lines(*part);
  io::write_file_atomic(io::join_path(o.out, kCorpusFile), corpus);
  seconds["total"] = seconds_since(t_start);
  json manifest = manifest_of(o, stats, pool_families, train.stage2_turns, vocabulary(corpus), chair);
  // Timings vary run to run: returned, not written, so the same seed gives the same bytes.
  io::write_file_atomic(io::join_path(o.out, kWorldManifest), manifest.dump(2) + "\n");
  std::remove(io::join_path(o.out, kWorldWriting).c_str());
  manifest["seconds"] = seconds;
  return manifest;
}

}  // namespace seva::synth
