// The llava_v1 prompt template and answer stripping.
#include <gtest/gtest.h>

#include "io/files.h"
#include "text/conversation.h"

#include <filesystem>

using namespace seva::text;

TEST(TextConversation, LlavaV1Prompt) {
  const ChatTemplate chat;  // llava_v1's system text by default
  EXPECT_EQ(chat.prompt("What is shown?"),
            "A chat between a curious human and an artificial intelligence assistant. The assistant gives "
            "helpful, detailed, and polite answers to the human's questions. USER: <image>\nWhat is shown? "
            "ASSISTANT:");
  EXPECT_EQ(chat.prompt("<image>\nDescribe."), std::string(kLlavaV1System) + " USER: <image>\nDescribe. ASSISTANT:");
  EXPECT_EQ(chat.prefix(), std::string(kLlavaV1System) + " ");
}

TEST(TextConversation, StripAnswer) {
  EXPECT_EQ(strip_answer("  A cat.</s>"), "A cat.");
  EXPECT_EQ(strip_answer("\nA cat. </s>\n"), "A cat.");
  EXPECT_EQ(strip_answer("A cat"), "A cat");
  EXPECT_EQ(strip_answer("  "), "");
}

TEST(TextConversation, SystemPromptComesFromTheCheckpointsSevaJson) {
  const std::string dir = ::testing::TempDir() + "seva_conv_system";
  std::filesystem::create_directories(dir);
  std::filesystem::remove(dir + "/seva.json");
  EXPECT_EQ(ChatTemplate::from_model_dir(dir).system, kLlavaV1System);  // no file: llava_v1's
  seva::io::write_file_atomic(dir + "/seva.json", R"({"system_prompt": ""})");
  const auto none = ChatTemplate::from_model_dir(dir);
  EXPECT_EQ(none.system, "");
  EXPECT_EQ(none.prompt("What is shown?"), "USER: <image>\nWhat is shown? ASSISTANT:");
  EXPECT_EQ(none.prefix(), "");
  seva::io::write_file_atomic(dir + "/seva.json", R"({"system_prompt": "Be brief."})");
  const auto brief = ChatTemplate::from_model_dir(dir);
  EXPECT_EQ(brief.prompt("<image>\nQ"), "Be brief. USER: <image>\nQ ASSISTANT:");
  EXPECT_EQ(ChatTemplate().prompt("Q"), std::string(kLlavaV1System) + " USER: <image>\nQ ASSISTANT:");  // no state kept
  seva::io::write_file_atomic(dir + "/seva.json", R"({"system_prompt": 3})");
  try {
    ChatTemplate::from_model_dir(dir);
    ADD_FAILURE() << "a non-string system_prompt was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(dir + "/seva.json"), std::string::npos) << e.what();
  }
}
