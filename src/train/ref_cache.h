// The reference log-probability cache: one JSONL file next to the pairs file, named by a hash of
// the pairs' content and the model's identity, so any run on the same pairs and model reuses it
// and a changed pairs file, model, adapter, image aspect or dtype never does.
#pragma once
#include "generate/vlm.h"
#include "train/image_features.h"
#include "train/pairs.h"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace seva::train {

// What the reference values depend on: the pairs file's content (hash and size), the model
// directory (config.json's content; each weight file's name, size and mtime), the adapter
// (config content, weights size and mtime), the image aspect, the images directory and the
// compute dtype. `format` versions the file layout.
nlohmann::json ref_cache_key(const std::string& pairs_path, const generate::ModelOptions& model,
                             torch::ScalarType dtype, const std::string& images_dir);

// The model directory's part of the key: config.json's content; each weight file's name, size
// and mtime.
nlohmann::json model_identity(const generate::ModelOptions& model);

// A key without its files' modification times: what a resumed run must match (a copied model
// directory is the same model; a rewritten weight file of another size is not).
nlohmann::json run_identity_of(nlohmann::json key);

// "<dir>/<name of pairs>.ref_logps.<16 hex digits of the key's hash>.jsonl", with dir the pairs
// file's directory (or `dir_override` when given: a run directory when the pairs' is read-only).
std::string ref_cache_path(const std::string& pairs_path, const nlohmann::json& key,
                           const std::string& dir_override = "");

// Reads a cache file: its first row {"seva_ref_logps": 1, "key": {...}} must equal `key`, every
// other row {"index", "id", "logps": [...]} must name a pair of `pairs` by index and id.
// Fills ref[index] (ref is resized to pairs.size(); missing entries stay undefined) and returns
// true; returns false, filling nothing, for an absent, foreign or stale file (a torn last line, a
// write cut short, is ignored).
bool read_ref_cache(const std::string& path, const nlohmann::json& key, const std::vector<PreferencePair>& pairs,
                    std::vector<torch::Tensor>& ref);

// Where a run's reference cache lives and what it is keyed by.
struct RefCacheSpec {
  std::string pairs_path;  // the cache goes next to it ...
  std::string run_dir;     // ... or here when that directory is not writable
  nlohmann::json key;      // ref_cache_key(...)
  int64_t chunk = 4;       // pairs per forward pass
  bool quiet = false;
};

// The reference log-probabilities of every pair (out[i]: (1 + negatives,) float32 on the CPU),
// computed by `model` as it is (the base model: no adapter yet). Pairs the cache holds are read;
// the rest run in chunks, chunk c on rank c % world, each row appended to the cache as it comes
// (one process), or gathered and written by rank 0 (several), so a killed run keeps them.
std::vector<torch::Tensor> reference_logps(model::VisionLanguageModelImpl& model,
                                           const std::vector<PreferencePair>& pairs,
                                           const std::vector<PackedExample>& examples, ImageFeatures& features,
                                           const RefCacheSpec& spec);

// 64-bit FNV-1a of bytes, as 16 lower-case hex digits.
std::string fnv1a_hex(const std::string& bytes);

}  // namespace seva::train
