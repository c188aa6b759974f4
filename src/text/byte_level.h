// GPT-2's byte-level alphabet: every byte is shown as a printable character (bytes that are
// printable Latin-1 as themselves, the rest as U+0100 onwards), so BPE works on text with no
// control characters or spaces in it; "Ġ" (U+0120) is the space byte.
#pragma once
#include <string>
#include <string_view>

namespace seva::text {

// Each byte of `bytes` replaced by its alphabet character (UTF-8 encoded).
std::string to_byte_level(std::string_view bytes);

// What the ByteLevel decoder makes of one token, appended to `out`: the bytes its characters stand
// for; a token with any character outside the alphabet (an added token such as "<|im_end|>" is
// inside it, one with a space is not) is appended as it is, as tokenizers does.
void append_byte_level_decoded(std::string_view token, std::string& out);

}  // namespace seva::text
