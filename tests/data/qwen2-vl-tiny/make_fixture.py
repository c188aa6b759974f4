#!/usr/bin/env python3
"""Regenerates the tiny Qwen2-VL / Qwen2.5-VL fixture with the real Hugging Face code.

    python make_fixture.py [--out DIR] [--tokenizer FILE]

Writes into DIR (default: a new temporary directory; the committed fixture is never the default).
Everything runs on CPU in float32 with eager attention.  Versions are in requirements.txt / README.md.

Without --tokenizer the BPE tokenizer is trained on CORPUS below.  The `tokenizers` BPE trainer is
deterministic in practice, but to be sure of reproducing the committed ids pass the committed
qwen2-vl/tokenizer.json with --tokenizer.  FX_THREADS (default 2) sets torch's CPU thread count.
"""
import argparse
import json
import math
import os
import random
import re
import shutil
import tempfile

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is downloaded; PEFT would otherwise look the base model up
import torch
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))

# The pre-tokenizer pattern of Qwen2's tokenizer.json (and of the slow Qwen2Tokenizer).
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")
# Added tokens in Qwen2-VL's order (there: ids 151643..151656; here: right after the BPE vocabulary).
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
                  "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
                  "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>"]
BPE_VOCAB = 500  # byte alphabet (256) + merges; len(tokenizer) = 500 + 14 = 514

# The chat template of Qwen/Qwen2-VL-7B-Instruct (chat_template.json); Qwen2.5-VL-Instruct uses the same.
CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}"
    "<|im_end|>\n{% else %}{% for content in message['content'] %}{% if content['type'] == 'image' or 'image' in "
    "content or 'image_url' in content %}{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}"
    "Picture {{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>{% elif content['type'] "
    "== 'video' or 'video' in content %}{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}"
    "Video {{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>{% elif 'text' in content "
    "%}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}{% endfor %}{% if add_generation_prompt %}"
    "<|im_start|>assistant\n{% endif %}")

CORPUS = """\
The assistant looks at the picture and describes what it sees. A red square sits in the corner of the image,
next to a blue circle and a green triangle. The sky is bright and the grass is green. There is a small dog on
the left side of the picture, and a tall tree on the right side. What is in the picture? What color is the big
shape? Describe this image in one sentence. The picture shows a house with a red roof and two windows.
A cat is sleeping on the chair near the window. The man is reading a book while the woman is writing a letter.
Children are playing in the park; some of them are running, others are sitting on the bench and talking.
The weather is cold today, so everyone wears a coat. In the evening the sun goes down and the light becomes
orange, then purple, then dark blue. The numbers on the sign are 12, 34 and 2024. You are a helpful assistant.
Please answer the question about the image. I can see three shapes: a square, a circle and a triangle.
The square is red, the circle is blue, and the triangle is green. The lines are straight and the corners are
sharp. There are stripes across the middle of the image, and the colors change slowly from left to right.
It's a simple drawing; it doesn't show any people. They're standing near the door and we've been waiting.
I'll tell you what I'd do: look closely, count the objects, and name their colors. The answer is short.
A photograph of a city street at night, with cars, lights and people walking on the wet road. The building
on the corner is very old and has a large clock. A boat is sailing on the river under the bridge.
The table holds a cup of coffee, a plate of bread and an apple. Birds are flying over the water.
Question: how many circles are there? Answer: there is one circle. Question: where is the dog?
Answer: the dog is on the grass, under the tree. The image is blurry at the edges but clear in the center.
This is a test of the tokenizer. It should learn common English words such as the, and, is, of, to, in.
"""

IMAGES = [  # (file, width, height): smart_resize goes through the min_pixels, plain and max_pixels branches
    ("img0_64x40.png", 64, 40),
    ("img1_90x120.png", 90, 120),
    ("img2_190x125.png", 190, 125),
]
MIN_PIXELS = 56 * 56
MAX_PIXELS = 28 * 28 * 24
SINGLE = (2, "What is in the picture?")  # (image index, question)
BATCH = [(1, "Describe this image."), (0, "What is it?")]  # left-padded batch of 2
TEXT_ONLY = "Tell me about the weather."
DPO = dict(image=0, question="What is in the picture?",
           chosen="A red square and a blue circle.", rejected="A dog on the grass.")
DPO_BETA = 0.1
MAX_NEW_TOKENS = 8
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
# Qwen2.5-VL's vision blocks also have gate_proj/up_proj/down_proj, so the plain list would put LoRA on the
# vision tower too; this regex (PEFT matches it with re.fullmatch) keeps LoRA in the language model.
LORA_REGEX = r".*language_model\.layers\.\d+\.(self_attn|mlp)\.(" + "|".join(LORA_TARGETS) + ")"

FAMILIES = {
    "qwen2-vl": dict(
        tie=True, seed=0,
        vision=dict(depth=2, embed_dim=32, num_heads=2, mlp_ratio=4, hidden_size=64, patch_size=14,
                    spatial_merge_size=2, temporal_patch_size=2, hidden_act="quick_gelu", in_channels=3)),
    "qwen2.5-vl": dict(
        tie=False, seed=1,
        vision=dict(depth=4, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64, patch_size=14,
                    spatial_merge_size=2, temporal_patch_size=2, window_size=56, fullatt_block_indexes=[1, 3],
                    hidden_act="silu", tokens_per_second=2, in_channels=3)),
}


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write("\n")


def dir_size(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


# ----------------------------------------------------------------------------------------------------------
# Tokenizer

def train_tokenizer(work):
    """Byte-level BPE with Qwen2's normalizer / pre-tokenizer / decoder, then Qwen2-VL's added tokens."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from tokenizers import trainers
    tok = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    trainer = trainers.BpeTrainer(vocab_size=BPE_VOCAB, min_frequency=2, show_progress=False, special_tokens=[],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([CORPUS] * 3, trainer)
    assert tok.get_vocab_size() == BPE_VOCAB, tok.get_vocab_size()
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
    path = os.path.join(work, "tokenizer.json")
    tok.save(path)
    # decoders.ByteLevel() takes no options and serialises its defaults; write Qwen2's (decoding is the same)
    with open(path, encoding="utf-8") as f:
        js = json.load(f)
    js["decoder"] = dict(type="ByteLevel", add_prefix_space=False, trim_offsets=False, use_regex=False)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(js, f, ensure_ascii=False)
    return path


def make_tokenizer(tokenizer_json, work):
    """A Qwen2TokenizerFast with Qwen2-VL-Instruct's options.  vocab.json/merges.txt are written from the
    same BPE model so that save_pretrained also writes them (as the Hub repos have them) and the slow
    Qwen2Tokenizer can be checked against the fast one."""
    from tokenizers import Tokenizer
    from transformers import Qwen2TokenizerFast
    raw = Tokenizer.from_file(tokenizer_json)
    bpe_dir = os.path.join(work, "bpe")
    os.makedirs(bpe_dir, exist_ok=True)
    raw.model.save(bpe_dir)
    return Qwen2TokenizerFast(
        vocab_file=os.path.join(bpe_dir, "vocab.json"), merges_file=os.path.join(bpe_dir, "merges.txt"),
        tokenizer_file=tokenizer_json, errors="replace", unk_token=None, bos_token=None,
        eos_token="<|im_end|>", pad_token="<|endoftext|>", additional_special_tokens=SPECIAL_TOKENS[1:],
        clean_up_tokenization_spaces=False, split_special_tokens=False, model_max_length=32768,
        padding_side="left")


TOKENIZATION_CASES = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "  leading spaces and   multiple   spaces ",
    "Numbers: 12345 and 3.14, year 2024!",
    "It's what I'd say; they're here, we've gone, I'm done, you'll see.",
    "caf\u00e9 na\u00efve re\u0301sume\u0301",  # the last two use combining accents: NFC composes them
    "emoji \U0001f642 and \u4e2d\u6587",
    "line one\nline two\n\n\ttabbed   \n",
    "<|im_start|>user\n<|vision_start|><|image_pad|><|image_pad|><|vision_end|>Hi<|im_end|>\n",
    "<|endoftext|><|im_end|>",
    "",
]


def tokenization_reference(tok, model_dir):
    from transformers import Qwen2Tokenizer
    slow = Qwen2Tokenizer.from_pretrained(model_dir)
    cases = []
    for text in TOKENIZATION_CASES:
        ids = tok(text)["input_ids"]
        assert ids == slow(text)["input_ids"], text
        cases.append(dict(text=text, input_ids=ids, tokens=tok.convert_ids_to_tokens(ids),
                          decode=tok.decode(ids), decode_skip_special=tok.decode(ids, skip_special_tokens=True)))
    return dict(
        len_tokenizer=len(tok), bpe_vocab_size=BPE_VOCAB,
        special_tokens={t: tok.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS},
        eos_token=tok.eos_token, eos_token_id=tok.eos_token_id, pad_token=tok.pad_token,
        pad_token_id=tok.pad_token_id, bos_token=tok.bos_token, padding_side=tok.padding_side,
        slow_tokenizer_agrees=True, cases=cases)


# ----------------------------------------------------------------------------------------------------------
# Images

def make_image(w, h, k):
    """Deterministic picture with structure: a colour gradient, stripes and two filled shapes."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), np.float32)
    img[..., 0] = 255 * x / max(w - 1, 1)
    img[..., 1] = 255 * y / max(h - 1, 1)
    img[..., 2] = 128 + 100 * np.sin((x + 2 * y) / (3.0 + k))
    img[(x.astype(int) // (5 + k)) % 3 == 0] *= 0.6
    cx, cy, r = 0.3 * w, 0.6 * h, 0.2 * min(w, h)
    img[(x - cx) ** 2 + (y - cy) ** 2 < r * r] = (20, 40, 230)
    img[int(0.1 * h):int(0.4 * h), int(0.55 * w):int(0.85 * w)] = (230, 30, 30)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


# ----------------------------------------------------------------------------------------------------------
# Models

def build_config(family, tok):
    from transformers import Qwen2VLConfig, Qwen2_5_VLConfig
    spec = FAMILIES[family]
    ids = {t: tok.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    text = dict(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, hidden_act="silu", max_position_embeddings=2048,
                rms_norm_eps=1e-6, rope_theta=1e6, rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]},
                tie_word_embeddings=spec["tie"], use_sliding_window=False, max_window_layers=2,
                attention_dropout=0.0, initializer_range=0.02, bos_token_id=ids["<|endoftext|>"],
                eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"])
    cls = Qwen2VLConfig if family == "qwen2-vl" else Qwen2_5_VLConfig
    return cls(text_config=text, vision_config=dict(spec["vision"]), image_token_id=ids["<|image_pad|>"],
               video_token_id=ids["<|video_pad|>"], vision_start_token_id=ids["<|vision_start|>"],
               vision_end_token_id=ids["<|vision_end|>"], tie_word_embeddings=spec["tie"],
               bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"],
               pad_token_id=ids["<|endoftext|>"], architectures=[model_class(family).__name__])


def model_class(family):
    from transformers import Qwen2VLForConditionalGeneration, Qwen2_5_VLForConditionalGeneration
    return Qwen2VLForConditionalGeneration if family == "qwen2-vl" else Qwen2_5_VLForConditionalGeneration


def randomize(model, seed):
    """HF's std-0.02 init gives near-uniform logits and unit norms; re-draw every parameter so that a wrong
    weight, norm or bias shows: norm gains 1+0.1N, biases 0.05N, token embeddings / lm_head 0.1N,
    other matrices (and the patch Conv3d) N/sqrt(fan_in).  Sorted names, one seeded generator."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):  # a tied lm_head is not listed separately
            n = torch.randn(p.shape, generator=g)
            if name.endswith(".bias"):
                p.copy_(0.05 * n)
            elif p.ndim == 1:
                p.copy_(1 + 0.1 * n)
            elif "embed_tokens" in name or name.startswith("lm_head"):
                p.copy_(0.1 * n)
            else:
                p.copy_(n / math.sqrt(p[0].numel()))


def make_processor(family, tok):
    from transformers import Qwen2VLImageProcessor, Qwen2VLProcessor, Qwen2_5_VLProcessor, Qwen2VLVideoProcessor
    # The slow (PIL/numpy) image processor is the reference implementation; the fast one is compared below.
    ip = Qwen2VLImageProcessor(min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS, patch_size=14, temporal_patch_size=2,
                               merge_size=2, do_convert_rgb=True, do_rescale=True, rescale_factor=1 / 255,
                               do_normalize=True, resample=3)  # 3 = PIL bicubic; mean/std default = OpenAI CLIP
    vp = Qwen2VLVideoProcessor(min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS)  # unused; the processor needs one
    cls = Qwen2VLProcessor if family == "qwen2-vl" else Qwen2_5_VLProcessor
    return cls(image_processor=ip, tokenizer=tok, video_processor=vp, chat_template=CHAT_TEMPLATE)


# ----------------------------------------------------------------------------------------------------------
# Reference computations

def chat_prompt(processor, question, image=True):
    content = ([{"type": "image"}] if image else []) + [{"type": "text", "text": question}]
    return processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True)


def processor_reference(processor, images, out_t):
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize
    info = []
    for i, ((fname, w, h), img) in enumerate(zip(IMAGES, images)):
        r = processor.image_processor(images=[img], return_tensors="pt")
        rh, rw = smart_resize(h, w, factor=28, min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS)
        grid = r["image_grid_thw"][0].tolist()
        assert grid == [1, rh // 14, rw // 14]
        rounded = (round(h / 28) * 28) * (round(w / 28) * 28)
        branch = "max_pixels" if rounded > MAX_PIXELS else "min_pixels" if rounded < MIN_PIXELS else "none"
        out_t[f"img{i}.pixel_values"] = r["pixel_values"].float().contiguous()
        out_t[f"img{i}.image_grid_thw"] = r["image_grid_thw"].long()
        # what the resize produced, before rescale/normalize (PIL bicubic on uint8, as the slow processor does)
        out_t[f"img{i}.resized_rgb"] = torch.from_numpy(np.asarray(img.convert("RGB").resize((rw, rh), 3))).clone()
        info.append(dict(file=fname, width=w, height=h, resized_height=rh, resized_width=rw,
                         smart_resize_branch=branch, image_grid_thw=grid,
                         num_patches=int(r["pixel_values"].shape[0]), num_image_tokens=int(np.prod(grid) // 4),
                         pixel_values_shape=list(r["pixel_values"].shape),
                         pixel_values_sum=float(r["pixel_values"].double().sum())))
    return info


def fast_processor_diff(processor, images):
    from transformers import Qwen2VLImageProcessorFast
    fast = Qwen2VLImageProcessorFast(**{k: v for k, v in processor.image_processor.to_dict().items()
                                        if k not in ("image_processor_type", "processor_class")})
    diffs = []
    for img in images:
        a = processor.image_processor(images=[img], return_tensors="pt")
        b = fast(images=[img], return_tensors="pt")
        assert torch.equal(a["image_grid_thw"], b["image_grid_thw"])
        diffs.append(float((a["pixel_values"] - b["pixel_values"]).abs().max()))
    return diffs


def rope_index(model, inputs):
    return model.model.get_rope_index(inputs["input_ids"], image_grid_thw=inputs.get("image_grid_thw"),
                                      attention_mask=inputs["attention_mask"])


def greedy(model, inputs):
    out = model.generate(**inputs, do_sample=False, max_new_tokens=MAX_NEW_TOKENS, output_scores=True,
                         return_dict_in_generate=True)
    margins = []
    for s in out.scores:  # per step, per row: top1 - top2 of the processed logits
        top = s.float().topk(2, dim=-1).values
        margins.append((top[:, 0] - top[:, 1]).tolist())
    return out.sequences, [list(m) for m in zip(*margins)]


def flat_config(fam_dir):
    """config.json as the Hub checkpoints (Qwen/Qwen2-VL-*-Instruct, Qwen/Qwen2.5-VL-*-Instruct) have it: text
    settings at the top level, rope_scaling {"type": "mrope", ...}; transformers 4.57 nests them under text_config."""
    with open(os.path.join(fam_dir, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    text = cfg.pop("text_config")
    for k in ("architectures", "model_type", "layer_types"):
        text.pop(k, None)
    text["rope_scaling"] = {"type": "mrope", "mrope_section": text["rope_scaling"]["mrope_section"]}
    return dict(sorted({**cfg, **text}.items()))


def answer_logps(model, prompt_inputs, answer_ids):
    """TRL DPOTrainer: completion = answer tokens + eos; log p(token_t | tokens_<t) summed over the completion,
    read from the logits at position t-1.  Returns (sum, per-token tensor, full input_ids)."""
    p = prompt_inputs["input_ids"]
    ids = torch.cat([p, torch.tensor([answer_ids], dtype=p.dtype)], dim=1)
    logits = model(input_ids=ids, attention_mask=torch.ones_like(ids), pixel_values=prompt_inputs["pixel_values"],
                   image_grid_thw=prompt_inputs["image_grid_thw"]).logits.float()
    P = p.shape[1]
    lp = torch.log_softmax(logits[0, P - 1:-1], dim=-1).gather(-1, ids[0, P:, None])[:, 0]
    return lp.sum(), lp, ids


def run_family(family, tok, images, out, tmp, args):
    from safetensors.torch import load_file, save_file
    cls = model_class(family)
    fam_dir = os.path.join(out, family)
    R, T = {}, {}  # json, tensors

    # --- build, randomise, save, reload (everything below uses the reloaded model) ---
    seed_all(FAMILIES[family]["seed"])
    config = build_config(family, tok)
    model = cls(config).float().eval()
    randomize(model, FAMILIES[family]["seed"])
    model.generation_config.do_sample = False
    model.save_pretrained(fam_dir, safe_serialization=True)
    processor = make_processor(family, tok)
    processor.save_pretrained(fam_dir)
    model = cls.from_pretrained(fam_dir, dtype=torch.float32, attn_implementation="eager").eval()
    processor = type(processor).from_pretrained(fam_dir, use_fast=False)  # 4.57 would pick the fast one
    assert type(processor.image_processor).__name__ == "Qwen2VLImageProcessor", type(processor.image_processor)

    saved = load_file(os.path.join(fam_dir, "model.safetensors"))
    R["safetensors_keys"] = {k: list(v.shape) for k, v in sorted(saved.items())}
    R["module_state_dict_keys_sample"] = sorted(model.state_dict())[:3]
    R["config"] = dict(tie_word_embeddings=FAMILIES[family]["tie"], vision=FAMILIES[family]["vision"],
                       seed=FAMILIES[family]["seed"], image_token_id=config.image_token_id,
                       video_token_id=config.video_token_id, vision_start_token_id=config.vision_start_token_id,
                       vision_end_token_id=config.vision_end_token_id, vocab_size=len(tok))

    # --- the other key layout: the module tree's names (model.visual.*, model.language_model.*, lm_head.*) ---
    if family == "qwen2-vl":
        lay_dir = os.path.join(out, family + "-module-layout")
        os.makedirs(lay_dir, exist_ok=True)
        sd = {k: v.contiguous() for k, v in model.state_dict().items()}
        if FAMILIES[family]["tie"]:
            sd.pop("lm_head.weight")  # tied: save_pretrained does not write it either
        save_file(sd, os.path.join(lay_dir, "model.safetensors"), metadata={"format": "pt"})
        shutil.copy(os.path.join(fam_dir, "config.json"), lay_dir)
        other = cls.from_pretrained(lay_dir, dtype=torch.float32, attn_implementation="eager").eval()
        R["module_layout_keys"] = sorted(sd)
        R["module_layout_reload_equal"] = all(torch.equal(a, b) for a, b in
                                              zip(model.state_dict().values(), other.state_dict().values()))
        assert R["module_layout_reload_equal"]
        del other

    # --- processor ---
    pre = {}
    R["images"] = processor_reference(processor, images, pre)

    # --- vision encoder: each image alone, and images 0+1 in one call ---
    with torch.no_grad():
        for i in range(len(IMAGES)):
            emb = model.model.get_image_features(pre[f"img{i}.pixel_values"], pre[f"img{i}.image_grid_thw"])[0]
            direct = model.model.visual(pre[f"img{i}.pixel_values"], grid_thw=pre[f"img{i}.image_grid_thw"])
            assert torch.equal(emb, direct)
            T[f"vision.img{i}.embeds"] = emb.contiguous()
        pv = torch.cat([pre["img0.pixel_values"], pre["img1.pixel_values"]])
        thw = torch.cat([pre["img0.image_grid_thw"], pre["img1.image_grid_thw"]])
        both = model.model.visual(pv, grid_thw=thw)
        T["vision.batch01.embeds"] = both.contiguous()
        alone = torch.cat([T["vision.img0.embeds"], T["vision.img1.embeds"]])
        R["vision_batch01_vs_alone_max_abs_diff"] = float((both - alone).abs().max())

    # --- prompts ---
    def encode(texts, imgs):
        return processor(text=texts, images=imgs, padding=True, return_tensors="pt")

    single_text = chat_prompt(processor, SINGLE[1])
    single = encode([single_text], [images[SINGLE[0]]])
    batch_texts = [chat_prompt(processor, q) for _, q in BATCH]
    batch = encode(batch_texts, [images[i] for i, _ in BATCH])
    text_only_text = chat_prompt(processor, TEXT_ONLY, image=False)
    text_only = processor(text=[text_only_text], return_tensors="pt")
    for name, text, enc in (("single", [single_text], single), ("batch", batch_texts, batch),
                            ("text_only", [text_only_text], text_only)):
        T[f"{name}.input_ids"] = enc["input_ids"]
        T[f"{name}.attention_mask"] = enc["attention_mask"]
        if "image_grid_thw" in enc:
            T[f"{name}.image_grid_thw"] = enc["image_grid_thw"]
            assert torch.equal(enc["pixel_values"], torch.cat(
                [pre[f"img{i}.pixel_values"] for i in ([SINGLE[0]] if name == "single" else [b[0] for b in BATCH])]))
        R[name] = dict(prompt_text=text, input_ids=enc["input_ids"].tolist(),
                       attention_mask=enc["attention_mask"].tolist(),
                       image_index=[SINGLE[0]] if name == "single" else [b[0] for b in BATCH] if name == "batch"
                       else [], num_pad_left=(enc["attention_mask"] == 0).sum(1).tolist(),
                       prompt_text_unexpanded_tokens=[tok.convert_ids_to_tokens(tok(t)["input_ids"]) for t in text])

    # --- M-RoPE positions, logits ---
    with torch.no_grad():
        for name, enc in (("single", single), ("batch", batch), ("text_only", text_only)):
            pos, deltas = rope_index(model, enc)
            T[f"{name}.position_ids"] = pos
            T[f"{name}.rope_deltas"] = deltas.reshape(-1, 1).long()
            R[name]["rope_deltas"] = deltas.reshape(-1).tolist()
            model.model.rope_deltas = None
            logits = model(**enc).logits.float()
            T[f"{name}.logits"] = logits.contiguous()
            m = enc["attention_mask"].bool()
            R[name]["argmax_last"] = logits[:, -1].argmax(-1).tolist()
            R[name]["logits_sum_unpadded"] = float(logits[m].double().sum())
            R[name]["logits_shape"] = list(logits.shape)
        # each row of the padded batch against the same prompt alone
        diffs = []
        for r, (i, q) in enumerate(BATCH):
            one = encode([batch_texts[r]], [images[i]])
            model.model.rope_deltas = None
            lo = model(**one).logits
            m = batch["attention_mask"][r].bool()
            diffs.append(float((T["batch.logits"][r][m] - lo[0]).abs().max()))
        R["batch"]["row_vs_alone_logits_max_abs_diff"] = diffs

    # --- sdpa against eager ---
    sd_model = cls.from_pretrained(fam_dir, dtype=torch.float32, attn_implementation="sdpa").eval()
    with torch.no_grad():
        R["sdpa_vs_eager_max_abs_diff"] = {}
        for name, enc in (("single", single), ("batch", batch), ("text_only", text_only)):
            sd_model.model.rope_deltas = None
            lo = sd_model(**enc).logits
            m = enc["attention_mask"].bool()
            R["sdpa_vs_eager_max_abs_diff"][name + ".logits"] = float((lo[m] - T[f"{name}.logits"][m]).abs().max())
        v = sd_model.model.visual(pv, grid_thw=thw)
        R["sdpa_vs_eager_max_abs_diff"]["vision.batch01.embeds"] = float((v - T["vision.batch01.embeds"]).abs().max())
    del sd_model

    # --- the Hub's flat config.json loads to the same model ---
    flat = flat_config(fam_dir)
    write_json(os.path.join(out, f"flat_config_{family}.json"), flat)
    fdir = os.path.join(tmp, family + "-flat")
    os.makedirs(fdir)
    write_json(os.path.join(fdir, "config.json"), flat)
    shutil.copy(os.path.join(fam_dir, "model.safetensors"), fdir)
    fm = cls.from_pretrained(fdir, dtype=torch.float32, attn_implementation="eager").eval()
    with torch.no_grad():
        fm.model.rope_deltas = None
        R["flat_config_single_logits_equal"] = bool(torch.equal(fm(**single).logits, T["single.logits"]))
    assert R["flat_config_single_logits_equal"]
    del fm

    # --- greedy generation ---
    R["generate"] = {}
    for name, enc in (("single", single), ("batch", batch), ("text_only", text_only)):
        model.model.rope_deltas = None
        seqs, margins = greedy(model, enc)
        T[f"generate.{name}.sequences"] = seqs
        new = seqs[:, enc["input_ids"].shape[1]:]
        R["generate"][name] = dict(new_token_ids=new.tolist(), new_tokens=[tok.convert_ids_to_tokens(r) for r in
                                                                              new.tolist()],
                                   top1_minus_top2_margin_per_step=margins,
                                   eos_generated=[bool(((r == tok.eos_token_id) | (r == tok.pad_token_id)).any())
                                                  for r in new])
    # batch rows against batch-1 generation of the same prompt
    same = []
    for r, (i, q) in enumerate(BATCH):
        one = encode([batch_texts[r]], [images[i]])
        model.model.rope_deltas = None
        s, _ = greedy(model, one)
        same.append(s[0, one["input_ids"].shape[1]:].tolist() == R["generate"]["batch"]["new_token_ids"][r])
    R["generate"]["batch_rows_equal_single_runs"] = same

    # --- DPO with a LoRA adapter ---
    R["dpo"], T_dpo = dpo_reference(family, model, processor, tok, images, out, tmp)
    T.update(T_dpo)

    # --- bf16 copy ---
    if family == "qwen2.5-vl":
        bf_dir = os.path.join(out, family + "-bf16")
        bf = cls.from_pretrained(fam_dir, dtype=torch.bfloat16, attn_implementation="eager")
        bf.save_pretrained(bf_dir, safe_serialization=True)
        for f in ("generation_config.json",):
            os.remove(os.path.join(bf_dir, f))
        # the bf16 weights upcast to float32 and run in float32: what a loader that upcasts should produce
        up = cls.from_pretrained(bf_dir, dtype=torch.float32, attn_implementation="eager").eval()
        with torch.no_grad():
            up.model.rope_deltas = None
            lo = up(**single).logits.float()
        T["bf16_upcast.single.logits_last"] = lo[:, -1].contiguous()
        R["bf16_upcast"] = dict(single_logits_max_abs_diff_vs_float32=float((lo - T["single.logits"]).abs().max()),
                                argmax_last=lo[:, -1].argmax(-1).tolist())
        del up, bf

    T = {k: v.contiguous() for k, v in T.items()}
    save_file(T, os.path.join(out, f"reference_{family}.safetensors"), metadata={"format": "pt"})
    R["tensors"] = {k: dict(shape=list(v.shape), dtype=str(v.dtype).replace("torch.", "")) for k, v in sorted(T.items())}
    write_json(os.path.join(out, f"reference_{family}.json"), R)
    return pre


def dpo_reference(family, model, processor, tok, images, out, tmp):
    from peft import LoraConfig, PeftModel, get_peft_model
    R, T = {}, {}
    img = images[DPO["image"]]
    prompt_text = chat_prompt(processor, DPO["question"])
    prompt = processor(text=[prompt_text], images=[img], return_tensors="pt")
    eos = tok.eos_token_id
    seqs = {}
    for which in ("chosen", "rejected"):
        ids = tok(DPO[which], add_special_tokens=False)["input_ids"] + [eos]
        seqs[which] = ids
        R[which] = dict(text=DPO[which], completion_ids=ids, completion_tokens=tok.convert_ids_to_tokens(ids))
    R["prompt_text"] = prompt_text
    R["prompt_len"] = int(prompt["input_ids"].shape[1])

    # plain target names would also hit Qwen2.5-VL's vision MLP: record which modules each choice selects
    names = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]
    R["plain_target_list_matches_vision"] = sorted(n for n in names if n.split(".")[-1] in LORA_TARGETS
                                                   and "visual" in n)

    seed_all(1234)
    cfg = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, bias="none", target_modules=LORA_REGEX,
                     task_type="CAUSAL_LM")
    pm = get_peft_model(model, cfg)
    g = torch.Generator().manual_seed(4321)
    with torch.no_grad():
        for n, p in sorted(pm.named_parameters()):
            if "lora_B" in n:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
    lora_modules = sorted({n.rsplit(".lora_", 1)[0] for n, _ in pm.named_parameters() if "lora_" in n})
    assert all("visual" not in n for n in lora_modules) and len(lora_modules) == 14, lora_modules
    R["lora"] = dict(r=4, lora_alpha=8, scaling=2.0, dropout=0.0, target_modules=LORA_REGEX,
                     lora_A_init="PEFT default (kaiming-uniform) after torch.manual_seed(1234)",
                     lora_B_init="0.1*N(0,1), torch.Generator seed 4321, sorted parameter names",
                     modules=lora_modules)

    pm.eval()
    res = {}
    with torch.no_grad(), pm.disable_adapter():
        for which in ("chosen", "rejected"):
            pm.base_model.model.model.rope_deltas = None
            s, lp, ids = answer_logps(pm, prompt, seqs[which])
            res["ref_" + which] = s
            T[f"dpo.{which}.input_ids"] = ids
            T[f"dpo.{which}.per_token_logps.base"] = lp
    pm.zero_grad()
    for which in ("chosen", "rejected"):
        pm.base_model.model.model.rope_deltas = None
        s, lp, _ = answer_logps(pm, prompt, seqs[which])
        res["policy_" + which] = s
        T[f"dpo.{which}.per_token_logps.policy"] = lp.detach()
    logits = (res["policy_chosen"] - res["policy_rejected"]) - (res["ref_chosen"] - res["ref_rejected"])
    loss = -F.logsigmoid(DPO_BETA * logits)
    loss.backward()
    T["dpo.pixel_values"] = prompt["pixel_values"]
    T["dpo.image_grid_thw"] = prompt["image_grid_thw"]
    T["dpo.loss"] = loss.detach().reshape(1)
    for k in ("ref_chosen", "ref_rejected", "policy_chosen", "policy_rejected"):
        T[f"dpo.logps.{k}"] = res[k].detach().reshape(1)
    R["logps"] = {k: float(v) for k, v in res.items()}
    R["loss"] = float(loss)
    R["rewards"] = dict(chosen=float(DPO_BETA * (res["policy_chosen"] - res["ref_chosen"])),
                        rejected=float(DPO_BETA * (res["policy_rejected"] - res["ref_rejected"])))
    # gradients, named like the adapter file's keys (PEFT's ".default" adapter name removed)
    grads = {}
    for n, p in sorted(pm.named_parameters()):
        if p.requires_grad:
            assert "lora_" in n, n
            key = n.replace(".default.", ".")
            grads[key] = p.grad.detach().clone()
            T["dpo.grad." + key] = grads[key]
            T["dpo.lora_value." + key] = p.detach().clone()
    R["grad_norms"] = {k: float(v.norm()) for k, v in grads.items()}

    ad_dir = os.path.join(out, f"lora_{family}_adapter")
    pm.peft_config["default"].base_model_name_or_path = family  # else the temporary path it was loaded from
    pm.save_pretrained(ad_dir)
    if os.path.exists(os.path.join(ad_dir, "README.md")):
        os.remove(os.path.join(ad_dir, "README.md"))  # PEFT's empty model card
    from safetensors.torch import load_file
    saved = load_file(os.path.join(ad_dir, "adapter_model.safetensors"))
    R["adapter_keys"] = {k: list(v.shape) for k, v in sorted(saved.items())}
    assert set(saved) == set(grads), (sorted(saved)[:3], sorted(grads)[:3])
    assert all(torch.equal(saved[k], T["dpo.lora_value." + k]) for k in saved)
    for k in list(T):
        if k.startswith("dpo.lora_value."):
            del T[k]  # identical to the adapter file

    # the key names merge_and_unload would write (not saved: it is the plain layout again)
    with torch.no_grad():
        merged = pm.merge_and_unload()
        R["merge_and_unload_state_dict_sample"] = [k for k in sorted(merged.state_dict()) if "layers.0.self_attn"
                                                   in k and "language_model" in k]
    # unload restored the plain modules in `model`; a fresh reload keeps later steps independent of PEFT
    return R, T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=None)
    ap.add_argument("--tokenizer", default=None, help="reuse this tokenizer.json instead of training one")
    args = ap.parse_args()
    out = args.out or tempfile.mkdtemp(prefix="qwen2-vl-tiny.")
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(int(os.environ.get("FX_THREADS", "2")))
    torch.use_deterministic_algorithms(True)
    tmp = tempfile.mkdtemp(prefix="qwen2-vl-tiny-work.")

    import transformers
    import peft
    import tokenizers
    import safetensors
    import PIL
    versions = dict(torch=torch.__version__, transformers=transformers.__version__, peft=peft.__version__,
                    tokenizers=tokenizers.__version__, safetensors=safetensors.__version__,
                    numpy=np.__version__, pillow=PIL.__version__)
    print("versions", versions)

    seed_all(0)
    tj = args.tokenizer or train_tokenizer(tmp)
    tok = make_tokenizer(tj, tmp)

    img_dir = os.path.join(out, "images")
    os.makedirs(img_dir, exist_ok=True)
    images = []
    for k, (fname, w, h) in enumerate(IMAGES):
        make_image(w, h, k).save(os.path.join(img_dir, fname))
        images.append(Image.open(os.path.join(img_dir, fname)).convert("RGB"))

    pres = {}
    for family in FAMILIES:
        print("family", family)
        pres[family] = run_family(family, tok, images, out, tmp, args)
    # both processors are the same image processor: one shared file holds the pixels
    a, b = pres["qwen2-vl"], pres["qwen2.5-vl"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    from safetensors.torch import save_file
    save_file({k: v.contiguous() for k, v in a.items()}, os.path.join(out, "reference_processor.safetensors"),
              metadata={"format": "pt"})
    proc = make_processor("qwen2-vl", tok)
    write_json(os.path.join(out, "reference_processor.json"), dict(
        images=json.load(open(os.path.join(out, "reference_qwen2-vl.json")))["images"],
        fast_image_processor_max_abs_diff=fast_processor_diff(proc, images),
        tensors={k: dict(shape=list(v.shape), dtype=str(v.dtype).replace("torch.", "")) for k, v in sorted(a.items())}))
    write_json(os.path.join(out, "tokenization.json"),
               tokenization_reference(tok, os.path.join(out, "qwen2-vl")))
    write_json(os.path.join(out, "versions.json"), versions)
    shutil.rmtree(tmp)
    print("wrote", out, dir_size(out), "bytes")


if __name__ == "__main__":
    main()
