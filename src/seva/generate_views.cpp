#include "seva/generate_views.h"

#include "dist/dist.h"
#include "dist/parts.h"
#include "image/decode.h"
#include "io/files.h"
#include "io/jsonl.h"
#include "seva/augment.h"
#include "util/rng.h"
#include "text/conversation.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace seva::views {
namespace {

using nlohmann::json;

struct Item {
  std::string id, image, question;
};

std::vector<Item> read_questions(const std::string& path) {
  std::vector<Item> items;
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
    Item it{id->is_string() ? id->get<std::string>() : id->dump(), image->get<std::string>(), text->get<std::string>()};
    if (auto [pos, fresh] = line_of.emplace(it.id, line); !fresh)
      throw std::runtime_error(where + ": duplicate id \"" + it.id + "\" (first on line " + std::to_string(pos->second) +
                               "); ids must be unique to resume");
    items.push_back(std::move(it));
  });
  return items;
}

std::string format_duration(double s) {
  if (!(s >= 0) || s > 1e8) return "?";
  const long t = static_cast<long>(s + 0.5);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else if (t >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%lds", t);
  return buf;
}

// Answer text as Vlm::answer_pixels makes it: EOS dropped, special tokens skipped, stop string
// cut, stripped.
std::string answer_text(generate::Vlm& vlm, const generate::Generated& g, const generate::SamplingOptions& opts) {
  std::vector<int64_t> body = g.tokens;
  if (g.finish_reason == "eos" && !body.empty()) body.pop_back();
  std::string text = vlm.tokenizer.decode(body, true);
  if (g.finish_reason == "stop") {
    size_t cut = std::string::npos;
    for (const auto& s : opts.stop_strings) cut = std::min(cut, text.find(s));
    if (cut != std::string::npos) text.resize(cut);
  }
  return text::strip_answer(text);
}

}  // namespace

GenerateSummary run_generate(generate::Vlm& vlm, const GenerateOptions& opts, std::ostream& log) {
  if (opts.batch_size < 1) throw std::invalid_argument("--batch-size must be at least 1");
  if (opts.out_dir.empty()) throw std::invalid_argument("no --out directory given");
  // Views: the original, then each augmentation by the name it was given.
  std::vector<aug::Spec> specs;
  std::vector<std::string> view_names = {"original"};
  for (const auto& a : opts.augs) {
    specs.push_back(aug::parse_spec(a));
    const auto& name = specs.back().text;
    if (std::find(view_names.begin(), view_names.end(), name) != view_names.end())
      throw std::invalid_argument("--aug '" + name + "' given twice (or named 'original')");
    view_names.push_back(name);
  }
  const size_t V = view_names.size();

  auto items = read_questions(opts.questions);
  std::filesystem::create_directories(opts.out_dir);
  const auto answers_path = io::join_path(opts.out_dir, "answers.jsonl");
  const auto skipped_path = io::join_path(opts.out_dir, "skipped.jsonl");

  // What earlier runs finished. With several ranks (dist/dist.h), batch k is rank k % world's;
  // each rank appends to its own part files (answers.part-R.jsonl), reads everyone's to resume,
  // and rank 0 merges them in question order into the file one process writes.
  const bool parts = dist::active();
  // Parts left by an earlier multi-process run are merged at the end even by a single process.
  const bool merge = parts || !dist::existing_parts(answers_path).empty() || !dist::existing_parts(skipped_path).empty();
  auto id_of = [](const json& j) { return j["id"].is_string() ? j["id"].get<std::string>() : j["id"].dump(); };
  std::set<std::pair<std::string, std::string>> done;
  std::set<std::string> skipped_before;
  for (const auto& l : dist::read_with_parts(answers_path))
    if (l.row.contains("id") && l.row.contains("view")) done.emplace(id_of(l.row), l.row["view"].get<std::string>());
  for (const auto& l : dist::read_with_parts(skipped_path)) skipped_before.insert(l.row.value("id", ""));
  dist::barrier();  // every rank has read before any writes
  io::JsonlWriter answers(parts ? dist::part_path(answers_path, dist::rank()) : answers_path, /*append=*/true);
  io::JsonlWriter skipped(parts ? dist::part_path(skipped_path, dist::rank()) : skipped_path, /*append=*/true);

  GenerateSummary sum;
  sum.items = static_cast<int64_t>(items.size());
  // An item is finished when every view is answered, or when its image was recorded as
  // unreadable (delete skipped.jsonl to try those again).
  auto item_done = [&](const Item& it) {
    if (skipped_before.count(it.id)) return true;
    for (const auto& v : view_names)
      if (!done.count({it.id, v})) return false;
    return true;
  };
  int64_t todo = 0;
  for (const auto& it : items) item_done(it) ? ++sum.already_done : ++todo;
  if (sum.already_done > 0)
    log << "seva generate: resuming: " << sum.already_done << " of " << items.size()
        << " questions already answered on all " << V << " views (or skipped)\n";

  const bool tty = ::isatty(STDERR_FILENO) == 1;
  const auto start = std::chrono::steady_clock::now();
  auto last_report = start;
  int64_t progressed = 0;  // items of `todo` handled (answered or skipped)
  auto report = [&](bool final) {
    const auto now = std::chrono::steady_clock::now();
    const double el = std::chrono::duration<double>(now - start).count();
    if (!final && !tty && std::chrono::duration<double>(now - last_report).count() < 5.0) return;
    last_report = now;
    const double rate = el > 0 ? progressed / el : 0, tok_rate = el > 0 ? sum.tokens / el : 0;
    char buf[256];
    std::snprintf(buf, sizeof buf, "seva generate: %lld/%lld questions, %.2f items/s, %.1f tokens/s, %s %s",
                  static_cast<long long>(progressed), static_cast<long long>(todo), rate, tok_rate,
                  final ? "elapsed" : "ETA", format_duration(final ? el : (rate > 0 ? (todo - progressed) / rate : -1)).c_str());
    log << (tty && !final ? "\r" : "") << buf << (tty && !final ? "" : "\n") << std::flush;
  };

  const int64_t eos = vlm.tokenizer.eos_id();
  generate::DecodeFn decode = [&vlm](const std::vector<int64_t>& t) { return vlm.tokenizer.decode(t, true); };
  const size_t B = static_cast<size_t>(opts.batch_size);
  for (size_t b0 = 0; b0 < items.size(); b0 += B) {
    if (!dist::mine(b0 / B)) continue;
    const size_t b1 = std::min(items.size(), b0 + B);
    bool any_missing = false;
    for (size_t i = b0; i < b1; ++i) any_missing = any_missing || !item_done(items[i]);
    if (!any_missing) continue;

    // Rows: every view of every readable item of the batch (the whole batch, so that a resumed
    // batch computes exactly what the uninterrupted run did).
    std::vector<size_t> row_item;
    std::vector<size_t> row_view;
    std::vector<std::vector<int64_t>> prompts;
    std::vector<torch::Tensor> pixels;
    std::vector<uint64_t> seeds;
    std::vector<bool> done_before;
    for (size_t i = b0; i < b1; ++i) done_before.push_back(item_done(items[i]));
    for (size_t i = b0; i < b1; ++i) {
      const auto& it = items[i];
      const bool was_done = done_before[i - b0];
      const std::string path = io::join_path(opts.images_dir, it.image);
      image::Image img;
      try {
        if (!io::file_exists(path)) throw std::runtime_error("image file not found: " + path);
        img = image::decode_image(path);
      } catch (const std::exception& e) {
        if (opts.strict) throw std::runtime_error(std::string(e.what()) + " (question id " + it.id + "; --strict)");
        if (!skipped_before.count(it.id)) {
          skipped.write({{"id", it.id}, {"image", it.image}, {"reason", e.what()}});
          skipped_before.insert(it.id);
        }
        if (!was_done) ++progressed;
        continue;
      }
      const auto ids = vlm.tokenizer.encode(text::llava_v1_prompt(it.question));
      pixels.push_back(image::preprocess(img, vlm.preprocess, vlm.aspect));
      for (size_t v = 0; v < V; ++v) {
        if (v > 0)
          pixels.push_back(aug::make_view(specs[v - 1], img, vlm.preprocess, vlm.aspect, opts.sampling.seed, it.id));
        row_item.push_back(i);
        row_view.push_back(v);
        prompts.push_back(ids);
        seeds.push_back(util::hash_key(opts.sampling.seed, it.id, v == 0 ? "original" : specs[v - 1].canonical()));
      }
    }
    if (prompts.empty()) {
      report(false);
      continue;
    }

    const auto t0 = std::chrono::steady_clock::now();
    std::vector<generate::Generated> gen;
    auto px = torch::stack(pixels);  // (rows, 3, S, S)
    if (opts.sequential) {
      for (size_t r = 0; r < prompts.size(); ++r) {
        auto one = generate::generate(*vlm.model, {prompts[r]}, px.narrow(0, static_cast<int64_t>(r), 1), opts.sampling, eos,
                                      decode, {seeds[r]});
        gen.push_back(std::move(one[0]));
      }
    } else {
      gen = generate::generate(*vlm.model, prompts, px, opts.sampling, eos, decode, seeds);
    }
    sum.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    for (size_t r = 0; r < gen.size(); ++r) {
      const auto& it = items[row_item[r]];
      const auto& view = view_names[row_view[r]];
      sum.tokens += static_cast<int64_t>(gen[r].tokens.size());
      ++sum.rows;
      if (done.count({it.id, view})) continue;
      answers.write({{"id", it.id},
                     {"image", it.image},
                     {"question", it.question},
                     {"view", view},
                     {"answer", answer_text(vlm, gen[r], opts.sampling)},
                     {"tokens", gen[r].tokens},
                     {"logprob", gen[r].logprob},
                     {"finish_reason", gen[r].finish_reason}});
      done.emplace(it.id, view);
      ++sum.written;
    }
    // Progress counts the items this run had to answer, not the recomputed complete ones.
    for (size_t i : std::set<size_t>(row_item.begin(), row_item.end()))
      if (!done_before[i - b0]) {
        ++sum.answered_items;
        ++progressed;
      }
    report(false);
  }
  if (merge) {
    // Totals over the ranks, then rank 0 merges the parts.
    auto t = torch::tensor({sum.already_done, sum.answered_items, sum.rows, sum.written, sum.tokens}, torch::kInt64);
    auto secs = torch::tensor({sum.seconds}, torch::kFloat64);
    dist::all_reduce_sum({t, secs});
    sum.answered_items = t[1].item<int64_t>();
    sum.rows = t[2].item<int64_t>();
    sum.written = t[3].item<int64_t>();
    sum.tokens = t[4].item<int64_t>();
    sum.seconds = secs.item<double>() / dist::world_size();  // mean wall time per rank
    std::vector<std::string> gathered = dist::all_gather_bytes(json(std::vector<std::string>(skipped_before.begin(), skipped_before.end())).dump());
    for (const auto& g : gathered)
      for (const auto& id : json::parse(g)) skipped_before.insert(id.get<std::string>());
    if (dist::is_main()) {
      std::map<std::string, int64_t> item_index;
      for (size_t i = 0; i < items.size(); ++i) item_index[items[i].id] = static_cast<int64_t>(i);
      auto position = [&](const json& j, int64_t per_item, int64_t sub) -> int64_t {
        auto it = j.contains("id") ? item_index.find(id_of(j)) : item_index.end();
        return it == item_index.end() ? INT64_MAX : it->second * per_item + sub;
      };
      dist::merge_parts(
          answers_path, [&](const json& j) { return id_of(j) + "\n" + j.value("view", ""); },
          [&](const json& j) {
            auto v = std::find(view_names.begin(), view_names.end(), j.value("view", ""));
            return v == view_names.end() ? INT64_MAX : position(j, static_cast<int64_t>(V), v - view_names.begin());
          });
      dist::merge_parts(skipped_path, [&](const json& j) { return j.value("id", ""); },
                        [&](const json& j) { return position(j, 1, 0); });
    }
    dist::barrier();
  }
  for (const auto& it : items) sum.skipped += skipped_before.count(it.id) ? 1 : 0;
  if (tty) log << "\n";
  report(true);
  return sum;
}

}  // namespace seva::views
