// Training a sentencepiece model through the shim (SentencePieceTrainer::Train).
#pragma once
#include <string>

namespace seva::text {

// `args` as spm_train takes them, e.g. "--input=a.txt --model_prefix=/tmp/m --vocab_size=100
// --model_type=bpe --byte_fallback=true". Throws std::runtime_error with the trainer's message.
void train_sentencepiece(const std::string& args);

}  // namespace seva::text
