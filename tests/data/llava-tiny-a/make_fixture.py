#!/usr/bin/env python3
"""Regenerates the tiny LLaVA-1.5 fixture (config A) with the real Hugging Face code.

    python make_fixture.py [--out DIR] [--tokenizer-model FILE]

Writes into DIR (default: a new temporary directory; the committed fixture is never the default).
Everything runs on CPU in float32.  Versions and the exact commands are in README.md ("Regenerating").

Without --tokenizer-model the tokenizer is trained with spm settings below on tokenizer_corpus.txt
(beside this script).  The committed tokenizer.model was trained on another text that is not kept, so
to reproduce the committed ids (and everything computed from them) pass the committed
tokenizer/tokenizer.model with --tokenizer-model.  Model weights and images do not depend on it.
FX_THREADS (default 2) sets torch's CPU thread count.
"""
import argparse
import contextlib
import importlib.machinery
import importlib.util
import json
import math
import os
import sys
import tempfile
import types

HERE = os.path.dirname(os.path.abspath(__file__))

IMAGE_TOKEN_ID = 512
PAD_TOKEN_ID = 513
VICUNA_PROMPT = ("A chat between a curious human and an artificial intelligence assistant. The assistant gives "
                 "helpful, detailed, and polite answers to the human's questions. USER: <image>\nWhat is shown? "
                 "ASSISTANT:")
IMAGES = ["img0_97x61.png", "img1_40x120.jpg", "img2_64x64.png"]
TOKENIZATION_CASES = [
    VICUNA_PROMPT,
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "  leading spaces and   multiple   spaces ",
    "Numbers: 12345 and 3.14, year 2023!",
    "caf\u00e9 na\u00efve r\u00e9sum\u00e9",
    "emoji \U0001f642 and \u4e2d\u6587",
    "line one\nline two\n\ttabbed",
    "USER: <image> <image>\nTwo images? ASSISTANT: Yes.</s>",
    "<image>",
    "</s> special <s> tokens <pad> in text <unk>",
    "",
]
GENERATE_CASES = [  # (prompt, image index)
    (VICUNA_PROMPT, 0),
    ("USER: <image>\nDescribe the image. ASSISTANT:", 1),
    ("A chat between a curious human and an artificial intelligence assistant. USER: <image>\nWhat color is it? "
     "ASSISTANT:", 2),
]
DPO_CASES = [  # (image index, prompt, chosen, rejected); responses start with the space that separates them
    (0, "USER: <image>\nWhat is shown? ASSISTANT:", " A red circle and a green box.", " A blue car on the road."),
    (1, "A chat between a curious human and an artificial intelligence assistant. USER: <image>\nDescribe the "
        "picture. ASSISTANT:", " There are blue lines on a dark picture.", " The dog is running."),
]
DPO_BETA = 0.1
SPM_FLAGS = ("--input=corpus3.txt --model_prefix=tokenizer --vocab_size=512 --model_type=bpe --byte_fallback=true "
             "--unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 --split_digits=true --allow_whitespace_only_pieces=true "
             "--normalization_rule_name=identity --remove_extra_whitespaces=false --add_dummy_prefix=true "
             "--character_coverage=1.0 --num_threads=2")
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


# ----------------------------------------------------------------------------------------------------------
# Environment: the fixture uses only the slow (SentencePiece) tokenizer, so `tokenizers` is optional.

def install_tokenizers_stub():
    """transformers 4.40 imports `tokenizers` unconditionally in convert_slow_tokenizer; an import-only module
    without package metadata lets it import while transformers still reports `tokenizers` unavailable."""
    if importlib.util.find_spec("tokenizers") is not None:
        return False

    def missing(name):
        return type(name, (), {"__init__": lambda self, *a, **k: (_ for _ in ()).throw(
            ImportError("tokenizers is not installed"))})

    root = types.ModuleType("tokenizers")
    root.__spec__ = importlib.machinery.ModuleSpec("tokenizers", None, is_package=True)
    root.__path__ = []
    for name in ("AddedToken", "Regex", "Tokenizer", "Encoding"):
        setattr(root, name, missing(name))
    sys.modules["tokenizers"] = root
    for sub in ("decoders", "normalizers", "pre_tokenizers", "processors", "models", "trainers"):
        mod = types.ModuleType("tokenizers." + sub)
        mod.__spec__ = importlib.machinery.ModuleSpec("tokenizers." + sub, None)
        mod.__getattr__ = lambda name, _m=sub: missing(name)
        sys.modules["tokenizers." + sub] = mod
        setattr(root, sub, mod)
    return True


def patch_fallback_added_token():
    """Without `tokenizers`, transformers 4.40 uses a dataclass AddedToken that is unhashable, has no
    __setstate__ and whose __getstate__ returns the live __dict__; give it the Rust class's behaviour."""
    import transformers.tokenization_utils_base as tub
    if not tub.AddedToken.__module__.startswith("transformers"):
        return
    fields = ("content", "single_word", "lstrip", "rstrip", "special", "normalized")

    def getstate(self):
        return {f: getattr(self, f) for f in fields}

    def setstate(self, state):  # like the Rust class, a partial state updates only the fields it names
        for f in fields:
            if f in state:
                setattr(self, f, state[f])

    tub.AddedToken.__hash__ = lambda self: hash(self.content)
    tub.AddedToken.__getstate__ = getstate
    tub.AddedToken.__setstate__ = setstate


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write("\n")


def save_tensors(path, tensors):
    from safetensors.torch import save_file
    save_file({k: v.contiguous() for k, v in tensors.items()}, path, metadata={"format": "pt"})


# ----------------------------------------------------------------------------------------------------------
# Images: drawn from closed formulas / a seeded RNG; re-encoding with Pillow gives the committed bytes.

def make_images(out_dir):
    import numpy as np
    from PIL import Image, ImageDraw
    os.makedirs(out_dir, exist_ok=True)
    h, w = 61, 97  # landscape: colour gradients, a red ellipse and a green rectangle
    x = np.arange(w)[None, :].repeat(h, 0)
    y = np.arange(h)[:, None].repeat(w, 1)
    grad = np.stack([(x * 255 / (w - 1)).astype(int), (y * 255 / (h - 1)).astype(int),
                     (255 - x * 255 / (w - 1)).astype(int)], -1).astype(np.uint8)
    img0 = Image.fromarray(grad)
    draw = ImageDraw.Draw(img0)
    draw.ellipse([10, 8, 45, 50], fill=(250, 30, 30))
    draw.rectangle([55, 20, 90, 40], fill=(20, 200, 40))
    img0.save(os.path.join(out_dir, IMAGES[0]))
    # portrait JPEG: uniform noise, a red vertical band and blue horizontal lines every 10 rows
    noise = (np.random.RandomState(7).rand(120, 40, 3) * 80).astype(np.uint8)
    noise[:, 15:25, 0] = 200
    noise[::10, :, 2] = 230
    Image.fromarray(noise).save(os.path.join(out_dir, IMAGES[1]), "JPEG", quality=90)
    # square: 8x8 red checkerboard over green/blue ramps
    x = np.arange(64)[None, :].repeat(64, 0)
    y = np.arange(64)[:, None].repeat(64, 1)
    sq = np.stack([((x // 8 + y // 8) % 2) * 255, x * 4, y * 4], -1).astype(np.uint8)
    Image.fromarray(sq).save(os.path.join(out_dir, IMAGES[2]))


def load_images(img_dir):
    from PIL import Image
    return [Image.open(os.path.join(img_dir, n)).convert("RGB") for n in IMAGES]


# ----------------------------------------------------------------------------------------------------------
# Tokenizer

def train_tokenizer_model(work_dir):
    """spm training with the LLaMA-like settings; run inside work_dir so the relative names recorded in
    the model's trainer_spec are those of the committed model."""
    import sentencepiece as spm
    with open(os.path.join(HERE, "tokenizer_corpus.txt")) as f:
        text = f.read()
    with open(os.path.join(work_dir, "corpus3.txt"), "w") as f:
        f.write(text * 3)
    cwd = os.getcwd()
    os.chdir(work_dir)
    try:
        spm.SentencePieceTrainer.train(SPM_FLAGS)
    finally:
        os.chdir(cwd)
    return os.path.join(work_dir, "tokenizer.model")


def build_tokenizer(spm_model, out_dir):
    from transformers import AddedToken, LlamaTokenizer
    tok = LlamaTokenizer(vocab_file=spm_model, legacy=False, add_bos_token=True, add_eos_token=False,
                         padding_side="left", clean_up_tokenization_spaces=False)
    # the same two steps as transformers/models/llava/convert_llava_weights_to_hf.py
    tok.add_tokens(AddedToken("<image>", special=True, normalized=False), special_tokens=True)
    tok.add_special_tokens({"pad_token": "<pad>"})
    assert tok.convert_tokens_to_ids("<image>") == IMAGE_TOKEN_ID and tok.pad_token_id == PAD_TOKEN_ID
    tok.save_pretrained(os.path.join(out_dir, "tokenizer"))
    # use the tokenizer as saved (model_A's special_tokens_map.json is written from the reloaded one)
    return LlamaTokenizer.from_pretrained(os.path.join(out_dir, "tokenizer"))


def tokenization_reference(tok, spm_model, out_dir):
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=spm_model)
    cases = []
    for text in TOKENIZATION_CASES:
        ids = tok(text)["input_ids"]
        cases.append({"text": text, "input_ids": ids,
                      "input_ids_no_special": tok(text, add_special_tokens=False)["input_ids"],
                      "tokens": tok.convert_ids_to_tokens(ids),
                      "decode": tok.decode(ids, skip_special_tokens=False),
                      "decode_skip_special": tok.decode(ids, skip_special_tokens=True),
                      "sentencepiece_raw_encode": sp.encode(text)})
    batch = tok(TOKENIZATION_CASES[:3], padding=True)
    write_json(os.path.join(out_dir, "tokenization.json"), {
        "tokenizer": "LlamaTokenizer (slow, use_fast=False), legacy=False, add_bos_token=True, add_eos_token=False",
        "len_tokenizer": len(tok), "sp_vocab_size": sp.get_piece_size(),
        "special": {"unk": tok.unk_token_id, "bos": tok.bos_token_id, "eos": tok.eos_token_id,
                    "pad": tok.pad_token_id, "image": tok.convert_tokens_to_ids("<image>")},
        "cases": cases,
        "batch_left_padded_first3": {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}})


# ----------------------------------------------------------------------------------------------------------
# Image preprocessing

def clip_processor(size):
    from transformers import CLIPImageProcessor
    return CLIPImageProcessor(size={"shortest_edge": size}, crop_size={"height": size, "width": size})


def expand2square(img, background):
    """LLaVA-1.5's image_aspect_ratio="pad": paste onto a square of the mean colour, centred on the long axis."""
    from PIL import Image
    w, h = img.size
    if w == h:
        return img
    side = max(w, h)
    result = Image.new(img.mode, (side, side), background)
    result.paste(img, (0, (side - h) // 2) if w > h else ((side - w) // 2, 0))
    return result


def preprocess_reference(images, out_dir):
    import numpy as np
    import torch
    mean = clip_processor(56).image_mean
    background = tuple(int(x * 255) for x in mean)
    tensors, cases = {}, []
    squares = [expand2square(im, background) for im in images]
    for i, (im, sq) in enumerate(zip(images, squares)):
        tensors[f"rgb.img{i}"] = torch.from_numpy(np.asarray(im).copy())
        tensors[f"square.img{i}"] = torch.from_numpy(np.asarray(sq).copy())
    for size in (56, 84):
        proc = clip_processor(size)
        for i, (im, sq) in enumerate(zip(images, squares)):
            plain = proc(im, return_tensors="pt")["pixel_values"]
            pad = proc(sq, return_tensors="pt")["pixel_values"]
            tensors[f"s{size}.plain.img{i}"], tensors[f"s{size}.pad.img{i}"] = plain, pad
            cases.append({"size": size, "image": IMAGES[i], "orig_wh": list(im.size), "square_wh": list(sq.size),
                          "plain_key": f"s{size}.plain.img{i}", "pad_key": f"s{size}.pad.img{i}",
                          "shape": list(plain.shape), "plain_sum": plain.double().sum().item(),
                          "pad_sum": pad.double().sum().item()})
    save_tensors(os.path.join(out_dir, "preprocess.safetensors"), tensors)
    write_json(os.path.join(out_dir, "preprocess.json"), {
        "image_mean": mean, "image_std": clip_processor(56).image_std, "pad_background_rgb": list(background),
        "cases": cases})


# ----------------------------------------------------------------------------------------------------------
# Model

def config_a():
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig
    text = LlamaConfig(vocab_size=PAD_TOKEN_ID + 1, hidden_size=64, intermediate_size=176, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=512, rms_norm_eps=1e-5,
                       rope_theta=10000.0, hidden_act="silu", tie_word_embeddings=True)
    vision = CLIPVisionConfig(hidden_size=48, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                              image_size=56, patch_size=14, projection_dim=64, hidden_act="quick_gelu")
    return LlavaConfig(vision_config=vision.to_dict(), text_config=text.to_dict(), image_token_index=IMAGE_TOKEN_ID,
                       pad_token_id=PAD_TOKEN_ID, projector_hidden_act="gelu", vision_feature_layer=-2,
                       vision_feature_select_strategy="default")


def redraw_parameters(model, seed):
    """HF's std-0.02 init gives near-uniform logits; draw O(1) activations instead, in sorted-name order.
    named_parameters() lists the tied lm_head once (as embed_tokens)."""
    import torch
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            z = torch.randn(p.shape, generator=gen)
            leaf = name.rsplit(".", 1)[-1]
            if "norm" in name and leaf == "weight":
                v = 1 + 0.1 * z
            elif leaf == "bias":
                v = 0.05 * z
            elif "embed_tokens" in name or "lm_head" in name:
                v = 0.1 * z
            elif "class_embedding" in name or "position_embedding" in name:
                v = 0.5 * z
            else:
                v = z / math.sqrt(p[0].numel())  # linear / conv weight: fan_in
            p.copy_(v)


def build_and_save(seed, out_dir, processor=None):
    """Builds config A with the seeded re-draw, saves it, and returns the model reloaded from disk."""
    import torch
    from transformers import LlavaForConditionalGeneration
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(config_a())
    redraw_parameters(model, seed)
    model.save_pretrained(out_dir, safe_serialization=True)
    if processor is not None:
        processor.save_pretrained(out_dir)
    return load_model(out_dir)


def load_model(path):
    from transformers import LlavaForConditionalGeneration
    # eager is what transformers 4.40 picks on torch 1.13 (no SDPA); name it so newer torch uses the same path
    return LlavaForConditionalGeneration.from_pretrained(path, attn_implementation="eager").eval()


# ----------------------------------------------------------------------------------------------------------
# Forward, generation

def forward_reference(model, tok, images):
    import torch
    ids = tok(VICUNA_PROMPT, return_tensors="pt")["input_ids"]
    pix = clip_processor(56)(images[0], return_tensors="pt")["pixel_values"]
    captured = {}
    hooks = [model.multi_modal_projector.register_forward_hook(
                 lambda m, inp, out: captured.update(projector_input=inp[0], image_features=out)),
             model.vision_tower.register_forward_hook(
                 lambda m, inp, out: captured.update(vision_last_hidden_state=out.last_hidden_state))]
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=torch.ones_like(ids), pixel_values=pix).logits
    for h in hooks:
        h.remove()
    tensors = {"forward.input_ids": ids, "forward.pixel_values": pix, "forward.logits": logits,
               "forward.image_features": captured["image_features"],
               "forward.projector_input": captured["projector_input"],
               "forward.vision_last_hidden_state": captured["vision_last_hidden_state"]}
    info = {"prompt": VICUNA_PROMPT, "image": "images/img0_97x61.png (plain CLIPImageProcessor)",
            "input_ids": ids[0].tolist(), "logits_shape": list(logits.shape),
            "image_features_shape": list(captured["image_features"].shape),
            "image_token_position_in_input_ids": ids[0].tolist().index(IMAGE_TOKEN_ID),
            "argmax_last": int(logits[0, -1].argmax()), "logits_last_first8": logits[0, -1, :8].tolist(),
            "logits_sum": logits.sum().item(), "logits_abs_mean": logits.double().abs().mean().item()}
    return info, tensors


def generate_reference(model, tok, images):
    import torch
    proc = clip_processor(56)
    single, tensors, pixels = [], {}, []
    for i, (prompt, img) in enumerate(GENERATE_CASES):
        ids = tok(prompt, return_tensors="pt")["input_ids"]
        pix = proc(images[img], return_tensors="pt")["pixel_values"]
        pixels.append(pix)
        tensors[f"generate.{i}.pixel_values"] = pix
        with torch.no_grad():
            out = model.generate(input_ids=ids, pixel_values=pix, do_sample=False, max_new_tokens=20,
                                 output_scores=True, return_dict_in_generate=True)
        seq = out.sequences[0].tolist()
        new = seq[ids.shape[1]:]
        margins = [(lambda t: (t[0] - t[1]).item())(s[0].topk(2).values) for s in out.scores]
        single.append({"prompt": prompt, "image": IMAGES[img], "input_ids": ids[0].tolist(), "new_token_ids": new,
                       "full_sequence": seq, "decoded_new": tok.decode(new),
                       "top1_minus_top2_logit_margin_per_step": margins})
    batch = tok([p for p, _ in GENERATE_CASES], padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                             pixel_values=torch.cat(pixels), do_sample=False, max_new_tokens=20)
    new = out[:, batch["input_ids"].shape[1]:].tolist()
    batch_info = {"padding_side": tok.padding_side, "pad_token_id": tok.pad_token_id,
                  "input_ids": batch["input_ids"].tolist(), "attention_mask": batch["attention_mask"].tolist(),
                  "new_token_ids": new,
                  "equals_single_runs": [new[i] == s["new_token_ids"] for i, s in enumerate(single)]}
    return single, batch_info, tensors


# ----------------------------------------------------------------------------------------------------------
# DPO log-probs (TRL's sequence layout and get_batch_logps)

def dpo_sequence(tok, prompt, response):
    prompt_ids = tok(prompt)["input_ids"]
    full = tok(prompt + response)["input_ids"]
    assert full[:len(prompt_ids)] == prompt_ids, "prompt ids are not a prefix of prompt+response ids"
    full = full + [tok.eos_token_id]
    labels = [-100] * len(prompt_ids) + full[len(prompt_ids):]
    return full, labels


def sequence_logps(model, ids, labels, pix):
    import torch
    ids_t, labels_t = torch.tensor([ids]), torch.tensor([labels])
    with torch.no_grad():
        out = model(input_ids=ids_t, attention_mask=torch.ones_like(ids_t), pixel_values=pix, labels=labels_t)
    logits = out.logits[:, -labels_t.shape[1]:]  # image features merged in: keep the last len(labels)
    shifted_labels = labels_t[:, 1:].clone()
    logits = logits[:, :-1]
    mask = shifted_labels != -100
    shifted_labels[~mask] = 0
    per_token = torch.gather(logits.log_softmax(-1), 2, shifted_labels.unsqueeze(2)).squeeze(2)
    return {"sum_logp": (per_token * mask).sum().item(), "n_tokens": int(mask.sum()),
            "per_token_logp": per_token[mask].tolist(), "hf_model_loss_mean_nll": out.loss.item()}


def dpo_loss(pc, pr, rc, rr):
    """Sigmoid DPO loss, label_smoothing 0, in double precision."""
    z = DPO_BETA * ((pc - pr) - (rc - rr))
    return -math.log(1.0 / (1.0 + math.exp(-z)))


def dpo_reference(policy, reference, tok, images):
    proc = clip_processor(56)
    examples, tensors = [], {}
    for k, (img, prompt, chosen, rejected) in enumerate(DPO_CASES):
        pix = proc(images[img], return_tensors="pt")["pixel_values"]
        tensors[f"dpo.{k}.pixel_values"] = pix
        ex = {"image": IMAGES[img], "prompt": prompt}
        for key, response in (("chosen", chosen), ("rejected", rejected)):
            ids, labels = dpo_sequence(tok, prompt, response)
            ex[key] = {"input_ids": ids, "labels": labels, "policy": sequence_logps(policy, ids, labels, pix),
                       "reference": sequence_logps(reference, ids, labels, pix)}
        pc, pr = ex["chosen"]["policy"]["sum_logp"], ex["rejected"]["policy"]["sum_logp"]
        rc, rr = ex["chosen"]["reference"]["sum_logp"], ex["rejected"]["reference"]["sum_logp"]
        ex["loss_ref_is_policy"] = dpo_loss(pc, pr, pc, pr)
        ex["loss_ref_is_seed_model"] = dpo_loss(pc, pr, rc, rr)
        ex["chosen_reward_ref_seed"] = DPO_BETA * (pc - rc)
        ex["rejected_reward_ref_seed"] = DPO_BETA * (pr - rr)
        examples.append(ex)
    info = {"beta": DPO_BETA, "loss_type": "sigmoid", "label_smoothing": 0.0,
            "reference_model": "same config, seed 1000 (build_model); checkpoint in dpo_ref_A/ "
                               "(config.json + model.safetensors)",
            "examples": examples,
            "mean_loss_ref_is_policy": sum(e["loss_ref_is_policy"] for e in examples) / len(examples),
            "mean_loss_ref_is_seed_model": sum(e["loss_ref_is_seed_model"] for e in examples) / len(examples),
            "log2": math.log(2.0)}
    return info, tensors


# ----------------------------------------------------------------------------------------------------------
# LoRA (PEFT) on the language model inside LLaVA

def lora_reference(model_dir, tok, images, out_dir):
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from safetensors import safe_open
    model = load_model(model_dir)
    ids = tok(VICUNA_PROMPT, return_tensors="pt")["input_ids"]
    pix = clip_processor(56)(images[0], return_tensors="pt")["pixel_values"]

    def logits(m):
        with torch.no_grad():
            return m(input_ids=ids, attention_mask=torch.ones_like(ids), pixel_values=pix).logits

    base = logits(model)
    cfg = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, bias="none", task_type="CAUSAL_LM",
                     target_modules=list(LORA_TARGETS))
    torch.manual_seed(1234)
    peft_model = get_peft_model(model.language_model, cfg)  # injects LoRA layers in place
    gen = torch.Generator().manual_seed(4321)
    with torch.no_grad():
        for name, p in sorted(peft_model.named_parameters()):
            if "lora_B" in name:
                p.copy_(0.2 * torch.randn(p.shape, generator=gen))
    with_adapter = logits(model)
    adapter_dir = os.path.join(out_dir, "lora_A_adapter")
    peft_model.save_pretrained(adapter_dir)
    fresh = load_model(model_dir)
    PeftModel.from_pretrained(fresh.language_model, adapter_dir)
    reloaded = logits(fresh)
    peft_model.merge_and_unload()
    merged = logits(model)
    with safe_open(os.path.join(adapter_dir, "adapter_model.safetensors"), "pt") as f:
        adapter_keys = sorted(f.keys())
    save_tensors(os.path.join(out_dir, "lora_A.safetensors"), {
        "lora.input_ids": ids, "lora.pixel_values": pix, "lora.logits_base": base,
        "lora.logits_with_adapter": with_adapter, "lora.logits_merged": merged})
    write_json(os.path.join(out_dir, "lora_A.json"), {
        "base_checkpoint": "model_A", "adapter_dir": "lora_A_adapter",
        "wrapped_module": "LlavaForConditionalGeneration.language_model (LlamaForCausalLM) via "
                          "get_peft_model(model.language_model, cfg)",
        "lora_config": {"r": 8, "lora_alpha": 16, "lora_dropout": 0.0, "bias": "none", "task_type": "CAUSAL_LM",
                        "target_modules": list(LORA_TARGETS)},
        "scaling": 16 / 8,
        "lora_B_init": "0.2 * randn (torch.Generator seed 4321, params in sorted-name order); lora_A = PEFT default "
                       "kaiming_uniform after torch.manual_seed(1234)",
        "adapter_keys": adapter_keys, "prompt": VICUNA_PROMPT, "image": "img0_97x61.png (plain)",
        "max_abs_diff_adapter_vs_merged": (with_adapter - merged).abs().max().item(),
        "max_abs_diff_adapter_vs_reloaded_adapter": (with_adapter - reloaded).abs().max().item(),
        "max_abs_diff_adapter_vs_base": (with_adapter - base).abs().max().item()})


# ----------------------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="output directory (default: a new temporary directory)")
    ap.add_argument("--tokenizer-model", help="use this SentencePiece model instead of training one")
    args = ap.parse_args()
    out = os.path.abspath(args.out or tempfile.mkdtemp(prefix="llava-tiny-a-"))
    if os.path.realpath(out) == os.path.realpath(HERE):
        sys.exit("make_fixture.py: --out must not be the committed fixture directory " + HERE)
    os.makedirs(out, exist_ok=True)
    stubbed = install_tokenizers_stub()
    import torch
    import transformers
    patch_fallback_added_token()
    transformers.logging.set_verbosity_error()
    torch.set_num_threads(int(os.environ.get("FX_THREADS", "2")))
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, tokenizers "
          f"{'stubbed' if stubbed else 'installed'}; writing {out}")

    make_images(os.path.join(out, "images"))
    images = load_images(os.path.join(out, "images"))
    with tempfile.TemporaryDirectory() as work:
        spm_model = args.tokenizer_model or train_tokenizer_model(work)
        tok = build_tokenizer(spm_model, out)
        tokenization_reference(tok, spm_model, out)
    preprocess_reference(images, out)

    from transformers import LlavaProcessor
    processor = LlavaProcessor(image_processor=clip_processor(56), tokenizer=tok)
    model = build_and_save(0, os.path.join(out, "model_A"), processor)
    reference = build_and_save(1000, os.path.join(out, "dpo_ref_A"))

    from safetensors import safe_open
    with safe_open(os.path.join(out, "model_A", "model.safetensors"), "pt") as f:
        keys = sorted(f.keys())
    fwd, t_fwd = forward_reference(model, tok, images)
    single, batch, t_gen = generate_reference(model, tok, images)
    dpo, t_dpo = dpo_reference(model, reference, tok, images)
    save_tensors(os.path.join(out, "reference_A.safetensors"), {**t_fwd, **t_gen, **t_dpo})
    write_json(os.path.join(out, "reference_A.json"), {
        "config": "A", "vocab_size": model.config.text_config.vocab_size,
        "num_image_tokens": fwd["image_features_shape"][1], "safetensors_keys": keys, "forward": fwd,
        "generate_single": single, "generate_batch": batch, "dpo": dpo})
    lora_reference(os.path.join(out, "model_A"), tok, images, out)
    print("done:", out)


if __name__ == "__main__":
    main()
