#!/usr/bin/env python3
"""Builds the byte-level BPE tokenizer fixtures and their golden tokenization.

Two small tokenizers are trained with the `tokenizers` library on the text below:
  qwen2/  configured as Qwen2 / Qwen2-VL's tokenizer.json (NFC, the Qwen2 Split regex then
          ByteLevel(use_regex=False), ByteLevel decoder and post-processor, the Qwen2-VL and
          Qwen2.5-VL added tokens after the vocabulary) with Qwen2-VL's tokenizer_config.json;
  gpt2/   GPT-2 style (no normalizer, ByteLevel(use_regex=True)), with a TemplateProcessing
          post-processor that adds a BOS token, ignore_merges, and added tokens that use lstrip,
          rstrip, single_word and normalized.
golden.json holds, per fixture, what Hugging Face gives for every string of CORPUS: ids with and
without special tokens, tokens, and decodes with and without skip_special_tokens.
Run: python3 make_fixture.py   (see requirements.txt; writes next to this file)
"""
import json
import os
import sys

import tokenizers
import transformers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
                r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
               r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

# Qwen2-VL's added tokens (special) and Qwen2.5-VL's extra ones (not special), in id order.
QWEN2_SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>",
                 "<|object_ref_end|>", "<|box_start|>", "<|box_end|>", "<|quad_start|>",
                 "<|quad_end|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>",
                 "<|image_pad|>", "<|video_pad|>"]
QWEN25_EXTRA = ["<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>",
                "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>"]

TRAIN_TEXT = """
The quick brown fox jumps over the lazy dog. A picture is worth a thousand words.
Describe the image in detail. What color is the car on the left? There are 3 people here.
I'll say it's not what they've done; we're sure you'd agree, isn't it? DON'T SHOUT, I'M HERE.
def tokenize(text):\n\treturn [t for t in text.split() if t]\n\nfor i in range(10):\n    print(i * 2)
{"image": "coco/000000123456.jpg", "question": "Is there a cat?", "answer": "Yes"}
Numbers: 0 1 2 3 4 5 6 7 8 9 10 100 1000 2024 3.14159 42 1,000,000 $9.99 50%
这是一张图片。图片中有一只猫和一只狗。请描述这张图片。你好，世界！
هذه صورة لقطة على الأريكة. مرحبا بالعالم
Привет, мир! Это изображение кошки. Καλημέρα κόσμε. こんにちは世界、これは猫です。
Emoji 😀 😃 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 ❤️ 🐱 🐶 café naïve résumé façade Zürich
<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello<|im_end|>
"""


def train(pre_tokenizer, normalizer, vocab_size):
    tok = Tokenizer(models.BPE(dropout=None, unk_token=None, continuing_subword_prefix="",
                               end_of_word_suffix="", fuse_unk=False, byte_fallback=False))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([TRAIN_TEXT] * 20, trainer=trainer)
    return tok


def make_qwen2(out):
    tok = train(pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)]),
        normalizers.NFC(), 800)
    tok.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False,
                                              use_regex=False)
    tok.add_tokens([AddedToken(t, special=True, normalized=False) for t in QWEN2_SPECIAL])
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in QWEN25_EXTRA])
    tok.save(os.path.join(out, "tokenizer.json"))
    decoder = {str(tok.token_to_id(t)): {"content": t, "lstrip": False, "normalized": False,
                                         "rstrip": False, "single_word": False,
                                         "special": t in QWEN2_SPECIAL}
               for t in QWEN2_SPECIAL + QWEN25_EXTRA}
    config = {
        "add_prefix_space": False, "added_tokens_decoder": decoder,
        "additional_special_tokens": QWEN2_SPECIAL[1:], "bos_token": None,
        "chat_template": "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}",
        "clean_up_tokenization_spaces": False, "eos_token": "<|im_end|>", "errors": "replace",
        "model_max_length": 32768, "pad_token": "<|endoftext|>", "padding_side": "left",
        "split_special_tokens": False, "tokenizer_class": "Qwen2Tokenizer", "unk_token": None}
    write_json(os.path.join(out, "tokenizer_config.json"), config)


def make_gpt2(out):
    tok = train(pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True), None, 600)
    model = json.loads(tok.to_str())
    model["model"]["ignore_merges"] = True
    tok = Tokenizer.from_str(json.dumps(model))
    tok.add_special_tokens([AddedToken("<|bos|>", normalized=False),
                            AddedToken("<|endoftext|>", normalized=False),
                            AddedToken("<mask>", lstrip=True, rstrip=True, normalized=False)])
    tok.add_tokens([AddedToken("[word]", single_word=True, normalized=False),
                    AddedToken("café!", normalized=False),
                    AddedToken("ſtok", normalized=True)])
    bos = tok.token_to_id("<|bos|>")
    tok.post_processor = processors.TemplateProcessing(
        single="<|bos|> $A", pair="<|bos|> $A <|bos|> $B", special_tokens=[("<|bos|>", bos)])
    tok.save(os.path.join(out, "tokenizer.json"))
    config = {"add_bos_token": False, "bos_token": "<|bos|>", "eos_token": "<|endoftext|>",
              "pad_token": "<|endoftext|>", "unk_token": None, "clean_up_tokenization_spaces": False,
              "additional_special_tokens": ["<mask>"], "tokenizer_class": "PreTrainedTokenizerFast"}
    write_json(os.path.join(out, "tokenizer_config.json"), config)


CORPUS = [
    "", "Hello world", "Hello world!", " leading space", "trailing space ", "trailing spaces   ",
    "The quick brown fox jumps over the lazy dog.",
    "Describe the image in detail. What color is the car on the left?",
    "def f(x):\n\treturn x  *  2\n\n\nprint(f(21))\n",
    "if (a<b) {\r\n    c = a; // note\r\n}",
    "12345 67 8.90 1,000,000 2024-12-02 $9.99 50%", "x1y22z333w4444",
    "\u0663\u0664\u0665 \u00b2 \u2167 \u00bd",
    " ", "  ", "\n", " \n", "\n\n  \n", "a  b", "a   b  ", "\t\tx\t", "  !!!\n\n", "!!! ???",
    "line1\nline2\n\nline3   \n  indented", "a \n b", "end \n", "tabs\t \tmixed",
    "I'LL DON'T WE'RE THEY'VE I'M SHE'D IT'S", "I'll don't we're they've i'm she'd it's",
    "'S 's 'sS ''s 'x '", "\u017f 'ſ 'K", "'\u017f", "it'\u017f", "'LL'll'Ll", "'\u212a", "'\u017fx 'llama 'Sx 'DX",
    # Each of these characters between a letter and "!": "!" joins it unless it is \s.
    "x\u0085!x\u180e!x\u200b!x\ufeff!x\u1680!x\u2028!x\u00a0!x\u3000!x\u001c!x\u000b!"
    "x\u000c!x\u2007!x\u202f!x\u205f!x\u0903!x\u00ad!x", "rock'n'roll", "O'Neil's",
    "😀 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 ❤️", "emoji😀inline",
    "这是一张图片。请描述这张图片。", "你好，世界！Hello世界",
    "مرحبا بالعالم هذه صورة", "Привет, мир!", "こんにちは世界",
    "e\u0301 cafe\u0301 caf\u00e9 q\u0303 A\u030a \u212b", "\u1100\u1161\u11a8",
    "no\u00a0break\u3000ideo\u2009thin", "nel\u0085x line\u2028sep para\u2029sep",
    "ogham\u1680x mongol\u180ex zw\u200bsp bom\ufeffx", "\u00a0\u00a0x", "x\u3000\u3000",
    "\u01c5 \u02b0 \u0903 \u2160x", "\u0000\u0001\u007f\u0080\u00ad", "\U0001d400\U0001d7ce",
    "<|im_start|>user\nWhat is in the image?<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
    "<|vision_start|><|image_pad|><|image_pad|><|vision_end|>Describe this image.<|im_end|>\n"
    "<|im_start|>assistant\n",
    "<|endoftext|>", "<|im_end|><|im_end|>", "text<|im_end|>text", " <|im_end|> ",
    "<|im_start|", "<|im_start|><|im_start|", "<tool_call>{\"x\": 1}</tool_call>",
    "<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>",
    "<|bos|>x<|endoftext|>", "a <mask> b", "a<mask>b", "  <mask>  ", "[word] x [word]",
    "a[word]b", "x [word]y", "café! café!x", "\u017ftok ſtok", "\u017ftoken",
]


def golden(dir_):
    fast = Tokenizer.from_file(os.path.join(dir_, "tokenizer.json"))
    hf = AutoTokenizer.from_pretrained(dir_)
    llama3 = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    cases = []
    for text in CORPUS:
        # What the pre-tokenizer alone gives on the normalized text (added tokens not split out),
        # byte-level mapped; and the Llama-3 pattern on the same text.
        normalized = fast.normalizer.normalize_str(text) if fast.normalizer else text
        pretokens = [p for p, _ in fast.pre_tokenizer.pre_tokenize_str(normalized)]
        llama3_pretokens = [p for p, _ in llama3.pre_tokenize_str(normalized)]
        ids = hf(text)["input_ids"]
        plain = hf(text, add_special_tokens=False)["input_ids"]
        assert ids == fast.encode(text).ids, (dir_, text)
        assert plain == fast.encode(text, add_special_tokens=False).ids, (dir_, text)
        decoded = hf.decode(ids)
        skipped = hf.decode(ids, skip_special_tokens=True)
        assert decoded == fast.decode(ids, skip_special_tokens=False), (dir_, text)
        assert skipped == fast.decode(ids, skip_special_tokens=True), (dir_, text)
        cases.append({"text": text, "ids": ids, "ids_plain": plain,
                      "tokens": hf.convert_ids_to_tokens(plain),
                      "pretokens": pretokens, "llama3_pretokens": llama3_pretokens,
                      "decoded": decoded, "decoded_skip": skipped})
    batch = hf(["Hello world", "<|im_start|>user\nHi<|im_end|>", ""], padding=True)
    return {
        "len": len(hf), "vocab_size": hf.vocab_size,
        "bos_id": hf.bos_token_id, "eos_id": hf.eos_token_id, "pad_id": hf.pad_token_id,
        "unk_id": hf.unk_token_id, "all_special_ids": hf.all_special_ids,
        "padding_side": hf.padding_side,
        "batch": {"texts": ["Hello world", "<|im_start|>user\nHi<|im_end|>", ""],
                  "input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]},
        "token_to_id": {t: hf.convert_tokens_to_ids(t) for t in
                        ["<|image_pad|>", "<|vision_start|>", "<|im_start|>", "<tool_call>",
                         "<|bos|>", "<mask>", "Hello", "\u0120the"] if t in hf.get_vocab()},
        "decode_ids": {"unknown_and_bytes": fast.decode([10**6, 200, 201]),
                       "lone_continuation": hf.decode([hf.convert_tokens_to_ids("\u0122")])
                       if "\u0122" in hf.get_vocab() else None},
        "cases": cases,
    }


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")


def write_golden(path, obj):
    """golden.json compactly: one line per tokenized string, the rest indented."""
    lines = ["{"]
    for i, (key, value) in enumerate(sorted(obj.items())):
        comma = "," if i + 1 < len(obj) else ""
        if isinstance(value, dict) and "cases" in value:
            lines.append(f" {json.dumps(key)}: {{")
            rest = {k: v for k, v in value.items() if k != "cases"}
            for k, v in sorted(rest.items()):
                lines.append(f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False, sort_keys=True)},")
            lines.append('  "cases": [')
            cases = value["cases"]
            for j, case in enumerate(cases):
                sep = "," if j + 1 < len(cases) else ""
                lines.append("   " + json.dumps(case, ensure_ascii=False, sort_keys=True) + sep)
            lines.append("  ]")
            lines.append(" }" + comma)
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False, sort_keys=True)}{comma}")
    lines.append("}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def main():
    qwen2, gpt2 = os.path.join(HERE, "qwen2"), os.path.join(HERE, "gpt2")
    os.makedirs(qwen2, exist_ok=True)
    os.makedirs(gpt2, exist_ok=True)
    make_qwen2(qwen2)
    make_gpt2(gpt2)
    write_golden(os.path.join(HERE, "golden.json"), {
        "versions": {"tokenizers": tokenizers.__version__, "transformers": transformers.__version__,
                     "python": sys.version.split()[0]},
        "qwen2": golden(qwen2), "gpt2": golden(gpt2)})


if __name__ == "__main__":
    main()
