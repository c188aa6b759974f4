// The llava_v1 prompt template and answer stripping.
#include <gtest/gtest.h>

#include "io/files.h"
#include "text/conversation.h"

#include <filesystem>

using namespace seva::text;

TEST(TextConversation, LlavaV1Prompt) {
  EXPECT_EQ(llava_v1_prompt("What is shown?"),
            "A chat between a curious human and an artificial intelligence assistant. The assistant gives "
            "helpful, detailed, and polite answers to the human's questions. USER: <image>\nWhat is shown? "
            "ASSISTANT:");
  EXPECT_EQ(llava_v1_prompt("<image>\nDescribe."),
            std::string(kLlavaV1System) + " USER: <image>\nDescribe. ASSISTANT:");
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
  EXPECT_EQ(read_system_prompt(dir), kLlavaV1System);  // no file: llava_v1's
  seva::io::write_file_atomic(dir + "/seva.json", R"({"system_prompt": ""})");
  EXPECT_EQ(read_system_prompt(dir), "");
  set_system_prompt("");
  EXPECT_EQ(llava_v1_prompt("What is shown?"), "USER: <image>\nWhat is shown? ASSISTANT:");
  EXPECT_EQ(conversation_prefix(), "");
  set_system_prompt("Be brief.");
  EXPECT_EQ(llava_v1_prompt("<image>\nQ"), "Be brief. USER: <image>\nQ ASSISTANT:");
  seva::io::write_file_atomic(dir + "/seva.json", R"({"system_prompt": 3})");
  try {
    read_system_prompt(dir);
    ADD_FAILURE() << "a non-string system_prompt was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(dir + "/seva.json"), std::string::npos) << e.what();
  }
  set_system_prompt(kLlavaV1System);  // other tests expect the default
  EXPECT_EQ(conversation_prefix(), std::string(kLlavaV1System) + " ");
}
