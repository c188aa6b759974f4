#include "synth/questions.h"

#include "eval/mmbench.h"

#include <algorithm>
#include <stdexcept>

namespace seva::synth {
namespace {

const std::vector<Family> kQuestionFamilies = {Family::color, Family::count, Family::position,
                                               Family::exist, Family::text, Family::choice};

template <typename T>
const T& pick(util::Rng& rng, const std::vector<T>& v) {
  return v[static_cast<size_t>(rng.randint(0, static_cast<int64_t>(v.size())))];
}

// `truth` and three distinct distractors from `pool` (which holds truth), in random order.
Qa with_options(Qa q, util::Rng& rng, const std::string& truth, std::vector<std::string> distractors) {
  distractors.erase(std::remove(distractors.begin(), distractors.end(), truth), distractors.end());
  std::vector<std::string> opts = {truth};
  for (size_t i : rng.sample(distractors.size(), 3)) opts.push_back(distractors[i]);
  std::vector<std::string> shuffled;
  for (size_t i : rng.permutation(opts.size())) shuffled.push_back(opts[i]);
  q.options = shuffled;
  q.answer_index = static_cast<int>(std::find(shuffled.begin(), shuffled.end(), truth) - shuffled.begin());
  eval::MmbenchQuestion mq;
  mq.question = q.stem;
  mq.options = q.options;
  mq.answer = q.answer_index;
  q.question = eval::mmbench_prompt(mq, 0).substr(std::string("<image>\n").size());
  q.answer = std::string(1, static_cast<char>('A' + q.answer_index));
  return q;
}

}  // namespace

const char* const kDescribeQuestion = "Describe the image.";

const char* family_name(Family f) {
  switch (f) {
    case Family::color: return "color";
    case Family::count: return "count";
    case Family::position: return "position";
    case Family::exist: return "exist";
    case Family::text: return "text";
    case Family::choice: return "choice";
    case Family::caption: return "caption";
  }
  return "";
}

Family family_from_name(const std::string& name) {
  for (Family f : {Family::color, Family::count, Family::position, Family::exist, Family::text, Family::choice,
                   Family::caption})
    if (name == family_name(f)) return f;
  throw std::invalid_argument("unknown question family '" + name +
                              "' (known: color, count, position, exist, text, choice, caption)");
}

const std::vector<Family>& question_families() { return kQuestionFamilies; }

const char* negative_name(NegativeKind k) {
  switch (k) {
    case NegativeKind::random: return "random";
    case NegativeKind::popular: return "popular";
    case NegativeKind::adversarial: return "adversarial";
  }
  return "";
}

std::string caption(const Scene& s) {
  std::string out;
  for (int c = 0; c < kCells; ++c) {
    const Object* o = s.object_in(c);
    if (!out.empty()) out += ' ';
    out += o ? kind_name(o->kind()) : "none";
  }
  out += " text";
  for (char d : s.digits) (out += ' ') += d;
  return out;
}

Qa color_question(const Scene& s, util::Rng& rng) {
  Qa q;
  q.family = Family::color;
  std::vector<int> unique_shapes;
  for (int sh = 0; sh < kShapes; ++sh)
    if (s.count_shape(sh) == 1) unique_shapes.push_back(sh);
  if (!unique_shapes.empty()) {
    const int sh = pick(rng, unique_shapes);
    q.question = std::string("What color is the ") + kShapeNames[sh] + "?";
    for (const auto& o : s.objects)
      if (o.shape == sh) {
        q.answer = kColorNames[o.color];
        q.hard = hard_name(o.hard);
      }
  } else {  // every present shape appears twice: ask by place
    const Object& o = s.objects[static_cast<size_t>(rng.randint(0, static_cast<int64_t>(s.objects.size())))];
    q.question = "What color is the object at the " + cell_name(o.cell) + "?";
    q.answer = kColorNames[o.color];
    q.hard = hard_name(o.hard);
  }
  q.stem = q.question;
  return q;
}

Qa count_question(const Scene& s, util::Rng& rng) {
  Qa q;
  q.family = Family::count;
  if (rng.bernoulli(0.4)) {
    q.question = "How many objects are there?";
    q.answer = std::to_string(s.objects.size());
  } else {
    std::vector<int> present, absent;
    for (int sh = 0; sh < kShapes; ++sh) (s.count_shape(sh) > 0 ? present : absent).push_back(sh);
    const int sh = absent.empty() || rng.bernoulli(0.85) ? pick(rng, present) : pick(rng, absent);
    q.question = std::string("How many ") + kShapePlurals[sh] + " are there?";
    q.answer = std::to_string(s.count_shape(sh));
  }
  q.stem = q.question;
  return q;
}

Qa position_question(const Scene& s, util::Rng& rng) {
  Qa q;
  q.family = Family::position;
  const Object& o = s.objects[static_cast<size_t>(rng.randint(0, static_cast<int64_t>(s.objects.size())))];
  q.question = "Where is the " + kind_name(o.kind()) + "?";
  q.answer = cell_name(o.cell);
  q.hard = hard_name(o.hard);
  q.stem = q.question;
  return q;
}

int absent_kind(const Scene& s, util::Rng& rng, NegativeKind neg, const WorldStats& stats) {
  std::vector<int> absent;
  for (int k = 0; k < kKinds; ++k)
    if (!s.has_kind(k)) absent.push_back(k);
  if (neg == NegativeKind::random) return pick(rng, absent);
  std::vector<int> ranked;
  if (neg == NegativeKind::popular) {
    for (int k : stats.by_frequency)
      if (!s.has_kind(k)) ranked.push_back(k);
  } else {
    std::vector<std::pair<int64_t, int>> score;
    for (int k : absent) {
      int64_t c = 0;
      for (const auto& o : s.objects) c += stats.cooccur[o.kind()][k];
      score.emplace_back(-c, k);
    }
    std::stable_sort(score.begin(), score.end());
    for (const auto& sk : score) ranked.push_back(sk.second);
  }
  ranked.resize(std::min<size_t>(ranked.size(), 3));
  return pick(rng, ranked);
}

Qa exist_question(const Scene& s, util::Rng& rng, bool yes, NegativeKind neg, const WorldStats& stats) {
  Qa q;
  q.family = Family::exist;
  int kind;
  if (yes) {
    const Object& o = s.objects[static_cast<size_t>(rng.randint(0, static_cast<int64_t>(s.objects.size())))];
    kind = o.kind();
    q.hard = hard_name(o.hard);
  } else {
    kind = absent_kind(s, rng, neg, stats);
    q.category = negative_name(neg);
  }
  q.question = "Is there a " + kind_name(kind) + " in the image?";
  q.answer = yes ? "yes" : "no";
  q.stem = q.question;
  return q;
}

Qa text_question(const Scene& s, util::Rng& rng) {
  Qa q;
  q.family = Family::text;
  q.question = "What is the number at the bottom?";
  q.answer = s.digits;
  q.stem = q.question;
  return q;
}

Qa choice_question(const Scene& s, util::Rng& rng, Family asked, const WorldStats& stats) {
  Qa q;
  switch (asked) {
    case Family::color: {
      q = color_question(s, rng);
      q = with_options(q, rng, q.answer, {kColorNames.begin(), kColorNames.end()});
      break;
    }
    case Family::count: {
      q = count_question(s, rng);
      q = with_options(q, rng, q.answer, {"0", "1", "2", "3", "4"});
      break;
    }
    case Family::position: {
      q = position_question(s, rng);
      std::vector<std::string> cells;
      for (int c = 0; c < kCells; ++c) cells.push_back(cell_name(c));
      q = with_options(q, rng, q.answer, cells);
      break;
    }
    case Family::exist: {
      // One present object against one random, one popular and one co-occurring absent one.
      q.stem = "Which of these objects is in the image?";
      const Object& target = s.objects[static_cast<size_t>(rng.randint(0, static_cast<int64_t>(s.objects.size())))];
      const int present = target.kind();
      q.hard = hard_name(target.hard);
      std::vector<std::string> others;
      for (NegativeKind neg : {NegativeKind::random, NegativeKind::popular, NegativeKind::adversarial}) {
        for (int tries = 0; tries < 16; ++tries) {
          const std::string name = kind_name(absent_kind(s, rng, neg, stats));
          if (std::find(others.begin(), others.end(), name) == others.end()) {
            others.push_back(name);
            break;
          }
        }
      }
      for (int k = 0; others.size() < 3; ++k) {  // rare: the ranked lists overlapped
        const std::string name = kind_name(k);
        if (!s.has_kind(k) && std::find(others.begin(), others.end(), name) == others.end()) others.push_back(name);
      }
      q = with_options(q, rng, kind_name(present), others);
      break;
    }
    case Family::text: {
      q = text_question(s, rng);
      std::vector<std::string> others;
      while (others.size() < 3) {  // the same length, one digit changed (no leading zero)
        std::string d = s.digits;
        const size_t at = static_cast<size_t>(rng.randint(0, static_cast<int64_t>(d.size())));
        d[at] = static_cast<char>('0' + rng.randint(at == 0 ? 1 : 0, 10));
        if (d != s.digits && std::find(others.begin(), others.end(), d) == others.end()) others.push_back(d);
      }
      q = with_options(q, rng, q.answer, others);
      break;
    }
    default:
      throw std::invalid_argument(std::string("no multiple-choice form for family ") + family_name(asked));
  }
  q.category = family_name(asked);
  q.family = Family::choice;
  return q;
}

Qa make_question(Family f, const Scene& s, util::Rng& rng, const WorldStats& stats) {
  switch (f) {
    case Family::color: return color_question(s, rng);
    case Family::count: return count_question(s, rng);
    case Family::position: return position_question(s, rng);
    case Family::exist: {
      const bool yes = rng.bernoulli(0.5);
      return exist_question(s, rng, yes, static_cast<NegativeKind>(rng.randint(0, 3)), stats);
    }
    case Family::text: return text_question(s, rng);
    case Family::choice: {
      static const Family asked[] = {Family::color, Family::count, Family::position, Family::exist, Family::text};
      return choice_question(s, rng, asked[rng.randint(0, 5)], stats);
    }
    case Family::caption: {
      Qa q;
      q.family = Family::caption;
      q.question = kDescribeQuestion;
      q.answer = caption(s);
      q.stem = q.question;
      return q;
    }
  }
  throw std::invalid_argument("make_question: bad family");
}

}  // namespace seva::synth
