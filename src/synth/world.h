// `seva world`: the synthetic visual world written in the real formats every later stage reads —
// images (PNG), SFT sets in LLaVA-665k JSON form, an unlabeled question pool (and its labels), a
// POPE question file, an MMBench TSV with base64 images, a VQA JSONL, a description benchmark in
// COCO annotation form (for CHAIR), a tokenizer corpus and a world.json manifest. Deterministic
// per seed; train, pool and bench images never overlap.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace seva::synth {

struct WorldOptions {
  std::string out;                          // the world directory
  uint64_t seed = 0;
  int64_t train = 30000;                    // SFT images (both stages)
  int64_t pool = 3000;                      // unlabeled pool images
  int64_t bench = 3000;                     // benchmark images: one POPE, one MMBench, one VQA question each
  // Description benchmark (chair/): the first `describe` bench images. 0 = none; a value above
  // `bench` is cut to `bench` (not refused: the default must fit any --bench, --quick included).
  int64_t describe = 300;
  int pool_questions_per_image = 1;         // distinct families per pool image
  // Families asked in the pool; empty = the six question families and caption ("Describe the image.").
  std::vector<std::string> pool_families;
  double stage2_caption_share = 0.15;       // stage-2 entries that are a caption instead of questions
  double choice_binding_share = 0.4;        // sft_choice entries that are binding drill, not the world's questions
  double choice_open_share = 0.5;           // sft_choice questions asked openly (and answered) first
  int threads = 2;
  bool quiet = false;                       // no progress lines on stderr
};

// The file names inside the world directory (the contract with `seva demo` and the studies).
extern const char* const kWorldManifest;   // world.json
extern const char* const kSftStage1;       // sft_stage1.json
extern const char* const kSftStage2;       // sft_stage2.json
extern const char* const kSftChoiceDrill2;  // sft_choice_drill2.json: the binding drill, two options
extern const char* const kSftChoiceDrill;  // sft_choice_drill.json: the binding drill (choice_drill.h)
extern const char* const kSftChoice;       // sft_choice.json: drill and the world's multiple choice
extern const char* const kPoolFile;        // pool.json
extern const char* const kPoolLabels;      // pool_labels.jsonl
extern const char* const kPopeFile;        // pope.jsonl
extern const char* const kMmbenchFile;     // mmbench.tsv
extern const char* const kVqaFile;         // vqa.jsonl
extern const char* const kCorpusFile;      // corpus.txt
extern const char* const kImagesDir;       // images (train/, pool/, bench/ below it)
// The description benchmark, COCO-style, so the reader of real COCO annotations reads it:
//   instances: {"info", "licenses": [], "images": [{"id", "file_name", "width", "height"}],
//               "annotations": [{"id", "image_id", "category_id", "bbox": [x, y, w, h], "area": w*h,
//               "iscrowd": 0}] (one per object), "categories": [{"id", "name", "supercategory"}]}
//   captions:  the same "info", "licenses" and "images"; "annotations": [{"id", "image_id",
//              "caption"}], one per image: caption(scene) (questions.h).
// Image ids are the bench index + 1 (COCO ids start at 1); file_name is image_rel_path("bench",
// index), relative to DIR/images. Category ids are kind + 1 (1..12: red circle, green circle, …),
// named kind_name(kind), supercategory the shape. A bbox is the tight box, in pixels, of the pixels
// the object's shape covers (object_covers: the whole shape, occluder bars ignored). Annotation
// ids count from 1 in image order, then cell order.
extern const char* const kChairDir;        // chair
extern const char* const kChairSplit;      // bench: the COCO split name (--chair-split)
extern const char* const kChairInstances;  // instances_bench.json
extern const char* const kChairCaptions;   // captions_bench.json
extern const char* const kChairObjects;    // objects.txt: the vocabulary, in CHAIR's synonyms.txt form
constexpr int kGeneratorVersion = 3;  // 2: digits aligned to 8-px patches; 3: 2x digits on grey

// "train/train_000123.png": an image's path relative to DIR/images.
std::string image_rel_path(const std::string& split, int64_t index);

// Writes the world; returns the manifest (world.json's content, with "seconds" per phase added).
nlohmann::json write_world(const WorldOptions& opts);

}  // namespace seva::synth
