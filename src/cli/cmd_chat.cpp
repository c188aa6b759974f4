// `seva chat`: answer a question about an image once, or in an interactive loop.
#include "cli/commands.h"

#include "text/conversation.h"

#include <iostream>
#include <unistd.h>

namespace seva::cli {
namespace {

struct ChatOptions {
  generate::ModelOptions model;
  generate::SamplingOptions sampling;
  std::string image;
  std::string question;
  std::string prompt;
  bool json = false;
};

void print_answer(const generate::Answer& a, bool json) {
  if (json) {
    nlohmann::json j = {{"text", a.text}, {"tokens", a.tokens}, {"finish_reason", a.finish_reason}};
    std::cout << j.dump() << std::endl;
  } else {
    std::cout << a.text << std::endl;
  }
}

int run_chat(ChatOptions o) {
  auto vlm = generate::Vlm::load(o.model);
  if (!o.question.empty() || !o.prompt.empty()) {
    if (o.image.empty()) throw std::runtime_error("--image is required with --question or --prompt");
    std::string prompt = o.prompt.empty() ? vlm.chat.prompt(o.question) : o.prompt;
    if (prompt.find(vlm.chat.image_marker()) == std::string::npos)
      throw std::runtime_error("--prompt must contain the image marker " + vlm.chat.image_marker());
    print_answer(vlm.answer({{o.image, prompt}}, o.sampling)[0], o.json);
    return 0;
  }
  // Interactive: each line is a question about the current image; "/image PATH" changes it.
  bool tty = ::isatty(STDIN_FILENO);
  if (tty)
    std::cerr << "seva chat: ask about " << (o.image.empty() ? "an image (set one with /image PATH)" : o.image)
              << "; /image PATH switches images, /quit or Ctrl-D ends.\n";
  std::string line;
  while (true) {
    if (tty) std::cerr << "> " << std::flush;
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    if (line == "/quit" || line == "/exit") break;
    if (line.rfind("/image ", 0) == 0) {
      o.image = line.substr(7);
      vlm.pixels(o.image);  // fail now, with the file's name, not at the next question
      continue;
    }
    if (o.image.empty()) {
      std::cerr << "no image yet: /image PATH\n";
      continue;
    }
    try {
      print_answer(vlm.answer({{o.image, vlm.chat.prompt(line)}}, o.sampling)[0], o.json);
    } catch (const std::exception& e) {
      std::cerr << "seva: error: " << e.what() << "\n";
    }
  }
  return 0;
}

}  // namespace

Action register_chat(CLI::App& app) {
  auto opts = std::make_shared<ChatOptions>();
  auto* cmd = app.add_subcommand("chat", "Answer questions about an image (once, or interactively)");
  add_model_options(*cmd, opts->model);
  add_sampling_options(*cmd, opts->sampling);
  cmd->add_option("--image", opts->image, "image file (JPEG or PNG)")->check(CLI::ExistingFile);
  auto* q = cmd->add_option("--question", opts->question, "question; the llava_v1 template is applied");
  auto* p = cmd->add_option("--prompt", opts->prompt, "raw prompt used verbatim; must contain the image marker (<image>, or Qwen2-VL's <|vision_start|><|image_pad|><|vision_end|>)");
  q->excludes(p);
  cmd->add_flag("--json", opts->json, "print {\"text\", \"tokens\", \"finish_reason\"} as JSON");
  return [opts] { return run_chat(*opts); };
}

}  // namespace seva::cli
