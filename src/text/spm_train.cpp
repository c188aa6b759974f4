// Forwards a training request to the shim's seva_spm_train.
#include "text/spm_train.h"

#include <stdexcept>

#include "text/spm_library.h"

namespace seva::text {

void train_sentencepiece(const std::string& args) {
  char err[1024] = {0};
  if (spm_api().train(args.c_str(), err, static_cast<int>(sizeof(err))) != 0)
    throw std::runtime_error("sentencepiece training failed (" + args + "): " + err);
}

}  // namespace seva::text
