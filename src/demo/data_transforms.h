// Inside `seva demo`: the data files the demo derives from others' (no command writes them).
#pragma once
#include <cstdint>
#include <string>

namespace seva::demo {

// An SFT data set (LLaVA-665k form) from the kept pairs (pairs.jsonl): their chosen answers, or,
// with `use_labels`, the true labels of the same questions from `labels_path` (pool_labels.jsonl;
// the paper's Table 3 controls).
void write_sft_from_pairs(const std::string& pairs_path, const std::string& labels_path, bool use_labels,
                          const std::string& out);

// The VQA file with each question's image replaced by the next question's whose image differs
// (the grounding gate).
void write_swapped_vqa(const std::string& vqa, const std::string& out);

// The lines of a JSONL file; 0 when it is missing.
int64_t count_lines(const std::string& path);

}  // namespace seva::demo
