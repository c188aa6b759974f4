#include "method/pairs.h"

#include "io/files.h"
#include "io/jsonl.h"
#include "util/rng.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

namespace seva::method {

using nlohmann::json;

std::string clean_answer(const std::string& answer) {
  std::string s = answer;
  for (size_t p = s.find("</s>"); p != std::string::npos; p = s.find("</s>", p)) s.erase(p, 4);
  s.erase(std::remove(s.begin(), s.end(), '\n'), s.end());
  return s;
}

std::vector<AnswerRow> read_answers(const std::string& path) {
  std::vector<AnswerRow> rows;
  io::for_each_jsonl(
      path,
      [&](const json& j, size_t line) {
        auto str = [&](const char* k) {
          auto it = j.find(k);
          if (it == j.end()) throw std::runtime_error(path + ":" + std::to_string(line) + ": missing \"" + k + "\"");
          return it->is_string() ? it->get<std::string>() : it->dump();
        };
        AnswerRow r{str("id"), j.value("image", ""), j.value("question", ""), str("view"), str("answer"), 0.0};
        if (auto it = j.find("logprob"); it != j.end() && it->is_number()) r.logprob = it->get<double>();
        rows.push_back(std::move(r));
      },
      /*tolerate_torn_tail=*/true);
  return rows;
}

namespace {

// PairOptions::balance: drops negatives of over-rejected answers until every answer is rejected in
// at most max(balance x its chosen count, balance_min) pairs.
void balance_answers(PairResult& res, const PairOptions& opts) {
  util::Rng rng(util::hash_key(opts.seed, "balance"));
  while (true) {
    bool changed = false;
    std::map<std::string, int64_t> chosen;
    std::map<std::string, std::vector<std::pair<size_t, size_t>>> rejected;  // answer -> (pair, negative)
    for (size_t i = 0; i < res.pairs.size(); ++i) {
      const train::PreferencePair& p = res.pairs[i];
      ++chosen[p.chosen];
      for (size_t k = 0; k < p.rejected.size(); ++k) rejected[p.rejected[k]].emplace_back(i, k);
    }
    std::vector<std::vector<bool>> drop(res.pairs.size());
    for (size_t i = 0; i < res.pairs.size(); ++i) drop[i].assign(res.pairs[i].rejected.size(), false);
    for (const auto& [answer, where] : rejected) {
      auto it = chosen.find(answer);
      const double up = it == chosen.end() ? 0.0 : static_cast<double>(it->second);
      const auto cap = std::max(static_cast<int64_t>(opts.balance * up), opts.balance_min);
      const auto n = static_cast<int64_t>(where.size());
      if (n <= cap) continue;
      for (size_t j : rng.sample(where.size(), static_cast<size_t>(n - cap))) drop[where[j].first][where[j].second] = true;
      res.unbalanced_negatives += n - cap;
      changed = true;
    }
    if (!changed) break;
    std::vector<train::PreferencePair> kept;
    for (size_t i = 0; i < res.pairs.size(); ++i) {
      train::PreferencePair& p = res.pairs[i];
      train::PreferencePair q = p;
      q.rejected.clear();
      q.augs.clear();
      for (size_t k = 0; k < p.rejected.size(); ++k) {
        if (drop[i][k]) continue;
        q.rejected.push_back(std::move(p.rejected[k]));
        q.augs.push_back(std::move(p.augs[k]));
      }
      if (q.rejected.empty())
        ++res.unbalanced;
      else
        kept.push_back(std::move(q));
    }
    res.pairs = std::move(kept);
  }
}

}  // namespace

PairResult make_pairs(const std::vector<AnswerRow>& rows, const PairOptions& opts) {
  // Group by id in order of first appearance; the last answer for an (id, view) wins.
  std::vector<std::string> order;
  std::map<std::string, std::map<std::string, const AnswerRow*>> by_id;
  std::vector<std::string> views = opts.views;
  const bool all_views = views.empty();
  for (const auto& r : rows) {
    if (!by_id.count(r.id)) order.push_back(r.id);
    by_id[r.id][r.view] = &r;
    if (all_views && r.view != "original" && std::find(views.begin(), views.end(), r.view) == views.end())
      views.push_back(r.view);
  }
  PairResult res;
  for (const auto& v : views) {
    if (v == "original") throw std::invalid_argument("--view original: the original view is the chosen answer, not a negative");
    res.per_view.push_back({v, 0, 0});
  }
  for (const auto& id : order) {
    const auto& answers = by_id[id];
    auto orig = answers.find("original");
    if (orig == answers.end()) {
      ++res.no_original;
      continue;
    }
    ++res.items;
    const AnswerRow& o = *orig->second;
    train::PreferencePair p;
    p.id = id;
    p.image = o.image;
    p.question = o.question;
    p.chosen = clean_answer(o.answer);
    p.chosen_ref_logp = o.logprob;
    for (size_t k = 0; k < views.size(); ++k) {
      auto it = answers.find(views[k]);
      if (it == answers.end()) continue;
      ++res.per_view[k].items;
      std::string rej = clean_answer(it->second->answer);
      if (rej == p.chosen) continue;
      ++res.per_view[k].differ;
      p.rejected.push_back(std::move(rej));
      p.augs.push_back(views[k]);
    }
    if (p.rejected.empty()) continue;
    if (opts.min_chosen_prob > 0 && std::exp(o.logprob) < opts.min_chosen_prob) {
      ++res.low_confidence;
      continue;
    }
    if (opts.max_chosen_prob < 1 && std::exp(o.logprob) > opts.max_chosen_prob) {
      ++res.high_confidence;
      continue;
    }
    res.pairs.push_back(std::move(p));
  }
  if (opts.balance > 0) balance_answers(res, opts);
  res.filtered = static_cast<int64_t>(res.pairs.size());
  if (opts.max_pairs > 0 && res.filtered > opts.max_pairs) {
    util::Rng rng(util::hash_key(opts.seed, "max-pairs"));
    auto keep = rng.sample(res.pairs.size(), static_cast<size_t>(opts.max_pairs));
    std::sort(keep.begin(), keep.end());
    std::vector<train::PreferencePair> kept;
    for (size_t i : keep) kept.push_back(std::move(res.pairs[i]));
    res.pairs = std::move(kept);
  }
  return res;
}

}  // namespace seva::method
