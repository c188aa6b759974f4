// tokenizer.json's normalizer, pre_tokenizer, decoder and post_processor, in the forms byte-level
// BPE tokenizers use; any other component is refused by its type name.
#include "text/bpe_json.h"

namespace seva::text::detail {
namespace {

using jsonf::At;
using jsonf::json;

std::string type_of(const json& v, const At& at) {
  jsonf::object(v, at);
  return jsonf::string(jsonf::member(v, "type", at), at["type"]);
}

void read_split(const json& v, const At& at, ByteLevelBpeSpec& spec) {
  const json& pattern = jsonf::object(jsonf::member(v, "pattern", at), at["pattern"]);
  if (!pattern.contains("Regex")) at["pattern"].fail("only a Regex pattern is supported");
  const std::string regex = jsonf::string(pattern["Regex"], at["pattern"]["Regex"]);
  const auto p = recognise_split_pattern(regex);
  if (!p)
    at["pattern"]["Regex"].fail("unsupported pre-tokenizer regex " + jsonf::quoted(regex, 4096) +
                                " (seva knows GPT-2's, Qwen2's and Llama 3's)");
  const std::string behavior = jsonf::string(jsonf::member(v, "behavior", at), at["behavior"]);
  if (behavior != "Isolated") at["behavior"].fail("Split behavior " + jsonf::quoted(behavior) + " is not supported (only Isolated)");
  if (jsonf::flag(v, "invert", at, false)) at["invert"].fail("an inverted Split is not supported");
  spec.splits.push_back(*p);
}

}  // namespace

void read_normalizer(const json& v, const At& at, ByteLevelBpeSpec& spec) {
  if (v.is_null()) return;
  const std::string type = type_of(v, at);
  if (type == "NFC") {
    spec.nfc = true;
    return;
  }
  if (type == "Sequence") {  // accepted when it is NFC alone (or empty)
    const json& list = jsonf::array(jsonf::member(v, "normalizers", at), at["normalizers"]);
    for (size_t i = 0; i < list.size(); ++i) read_normalizer(list[i], at["normalizers"][i], spec);
    return;
  }
  at["type"].fail("normalizer " + jsonf::quoted(type) + " is not supported (only NFC or none)");
}

// Split(Regex, Isolated) steps, then ByteLevel last: the byte-level alphabet is what the
// vocabulary is written in, so ByteLevel must come and must come last.
void read_pre_tokenizer(const json& v, const At& at, ByteLevelBpeSpec& spec) {
  if (v.is_null()) at.fail("missing: a byte-level BPE needs a ByteLevel pre-tokenizer");
  const std::string type = type_of(v, at);
  const bool sequence = type == "Sequence";
  const json& steps = sequence ? jsonf::array(jsonf::member(v, "pretokenizers", at), at["pretokenizers"]) : v;
  const size_t count = sequence ? steps.size() : 1;
  bool byte_level = false;
  for (size_t i = 0; i < count; ++i) {
    const json& s = sequence ? steps[i] : v;
    const At here = sequence ? at["pretokenizers"][i] : at;
    const std::string step = type_of(s, here);
    if (byte_level) here.fail("nothing may follow the ByteLevel pre-tokenizer");
    if (step == "Split") {
      read_split(s, here, spec);
    } else if (step == "ByteLevel") {
      byte_level = true;
      spec.add_prefix_space = jsonf::flag(s, "add_prefix_space", here, false);
      spec.byte_level_regex = jsonf::flag(s, "use_regex", here, true);
    } else {
      here["type"].fail("pre-tokenizer " + jsonf::quoted(step) + " is not supported (only Split and ByteLevel)");
    }
  }
  if (!byte_level) at.fail("a byte-level BPE needs a ByteLevel pre-tokenizer");
}

void read_decoder(const json& v, const At& at) {
  if (v.is_null()) at.fail("missing: a byte-level BPE needs the ByteLevel decoder");
  const std::string type = type_of(v, at);
  if (type != "ByteLevel") at["type"].fail("decoder " + jsonf::quoted(type) + " is not supported (only ByteLevel)");
}

// ByteLevel (offsets only), TemplateProcessing (its "single" template) or a Sequence of them.
void read_post_processor(const json& v, const At& at, int64_t id_limit, ByteLevelBpeSpec& spec) {
  if (v.is_null()) return;
  const std::string type = type_of(v, at);
  if (type == "ByteLevel") return;
  if (type == "Sequence") {
    const json& list = jsonf::array(jsonf::member(v, "processors", at), at["processors"]);
    for (size_t i = 0; i < list.size(); ++i) read_post_processor(list[i], at["processors"][i], id_limit, spec);
    return;
  }
  if (type != "TemplateProcessing")
    at["type"].fail("post-processor " + jsonf::quoted(type) + " is not supported (only ByteLevel and TemplateProcessing)");
  const json& single = jsonf::array(jsonf::member(v, "single", at), at["single"]);
  const json& specials = jsonf::object(jsonf::member(v, "special_tokens", at), at["special_tokens"]);
  bool seen_text = false;
  for (size_t i = 0; i < single.size(); ++i) {
    const At here = at["single"][i];
    const json& item = jsonf::object(single[i], here);
    if (item.contains("Sequence")) {
      const std::string seq = jsonf::string(jsonf::member(jsonf::object(item["Sequence"], here["Sequence"]), "id", here["Sequence"]), here["Sequence"]["id"]);
      if (seq != "A" || seen_text) here.fail("the single template must hold the sequence A once");
      seen_text = true;
      continue;
    }
    const json& tok = jsonf::object(jsonf::member(item, "SpecialToken", here), here["SpecialToken"]);
    const std::string name = jsonf::string(jsonf::member(tok, "id", here["SpecialToken"]), here["SpecialToken"]["id"]);
    const At sat = at["special_tokens"][jsonf::quoted(name)];
    const json& entry = jsonf::object(jsonf::member(specials, name.c_str(), at["special_tokens"]), sat);
    const json& ids = jsonf::array(jsonf::member(entry, "ids", sat), sat["ids"]);
    for (size_t k = 0; k < ids.size(); ++k)
      (seen_text ? spec.suffix_ids : spec.prefix_ids).push_back(jsonf::integer(ids[k], sat["ids"][k], 0, id_limit));
  }
  if (!seen_text) at["single"].fail("the single template must hold the sequence A once");
}

}  // namespace seva::text::detail
