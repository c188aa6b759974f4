// The llava_v1 prompt template and answer stripping.
#include <gtest/gtest.h>

#include "text/conversation.h"

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
