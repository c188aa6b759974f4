#!/usr/bin/env python3
"""The peer to beat for `seva bench --size 7b [--family F]`: the same generation and DPO-step shapes
through Hugging Face transformers + PEFT, as a user would run them otherwise (random weights, bf16,
CUDA).

Generation: LlavaForConditionalGeneration.generate (--family llava: 40 text + 576 image tokens per
prompt) or Qwen2VL/Qwen2_5_VLForConditionalGeneration.generate (--family qwen2-vl / qwen2.5-vl: 40
text tokens and an image per prompt, its size cycling through seva bench's 448x448, 336x504,
364x644, 560x560; prompts left-padded), greedy, 32 new tokens, at batch 1 and 16. DPO step: TRL's DPOTrainer algorithm (concatenated chosen and
rejected batch, the vision tower per sequence, a reference forward with the adapter disabled every
step, float32 logits at every position), PEFT LoRA r 1024 / alpha 2048 on the language model's
linear layers, AdamW. Prints a table and writes JSON (--json). `--size tiny --device cpu` runs
seva bench's tiny shapes on the CPU in float32: a dry run of this script on a machine without a GPU.
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


# seva bench's Qwen2-VL / Qwen2.5-VL shapes (src/bench/bench.cpp, set_qwen_shape): image sizes per size.
QWEN_IMAGES = {"7b": [(448, 448), (336, 504), (364, 644), (560, 560)],
               "tiny": [(112, 112), (84, 140), (140, 84), (168, 112)]}


def build_llava(size, dev, dtype):
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration
    big = size == "7b"
    V = 32064 if big else 8000
    IMG = V - 64 if big else V - 1
    text = LlamaConfig(vocab_size=V, hidden_size=4096 if big else 256, intermediate_size=11008 if big else 688,
                       num_hidden_layers=32 if big else 4, num_attention_heads=32 if big else 4,
                       num_key_value_heads=32 if big else 4, max_position_embeddings=4096)
    vision = CLIPVisionConfig(hidden_size=1024 if big else 128, intermediate_size=4096 if big else 512,
                              num_hidden_layers=24 if big else 2, num_attention_heads=16 if big else 4,
                              image_size=336 if big else 112, patch_size=14, projection_dim=768 if big else 128)
    cfg = LlavaConfig(vision_config=vision, text_config=text, image_token_index=IMG, vision_feature_layer=-2,
                      vision_feature_select_strategy="default")
    model = make(LlavaForConditionalGeneration, cfg, dev, dtype)
    side, P = vision.image_size, (vision.image_size // 14) ** 2
    g = torch.Generator().manual_seed(0)

    def prompt(i, n_text):
        # BOS, 5 text tokens, the image's tokens (as newer processors expand <image>), the rest.
        ids = torch.randint(3, IMG, (n_text,), generator=g)
        return torch.cat([torch.tensor([1]), ids[:5], torch.full((P,), IMG), ids[5:n_text - 1]])

    def images(idx):
        return {"pixel_values": torch.randn(len(idx), 3, side, side, generator=g).to(dev, dtype)}

    return model, prompt, images, IMG  # answers draw tokens below the image token


def build_qwen(family, size, dev, dtype):
    import transformers
    big = size == "7b"
    windowed = family == "qwen2.5-vl"
    V = 152064 if big else 8000
    text = dict(vocab_size=V, hidden_size=3584 if big else 256, intermediate_size=18944 if big else 688,
                num_hidden_layers=28 if big else 4, num_attention_heads=28 if big else 4,
                num_key_value_heads=4 if big else 2, max_position_embeddings=32768, rope_theta=1e6,
                rope_scaling={"type": "mrope", "mrope_section": [16, 24, 24] if big else [8, 12, 12]})
    vision = dict(depth=32 if big else 3, hidden_size=1280 if big else 192, num_heads=16 if big else 3,
                  intermediate_size=(3420 if windowed else 5120) if big else 768, patch_size=14,
                  spatial_merge_size=2, temporal_patch_size=2, out_hidden_size=text["hidden_size"])
    if windowed:
        vision.update(hidden_act="silu", fullatt_block_indexes=[7, 15, 23, 31] if big else [2])
        Cfg, Model = transformers.Qwen2_5_VLConfig, transformers.Qwen2_5_VLForConditionalGeneration
    else:
        vision.update(hidden_act="quick_gelu", embed_dim=vision.pop("hidden_size"),
                      mlp_ratio=vision.pop("intermediate_size") / (1280 if big else 192), hidden_size=text["hidden_size"])
        Cfg, Model = transformers.Qwen2VLConfig, transformers.Qwen2VLForConditionalGeneration
    IMG, START, END = V - 2, V - 4, V - 3
    cfg = Cfg(text_config=text, vision_config=vision, image_token_id=IMG, video_token_id=V - 1,
              vision_start_token_id=START, vision_end_token_id=END)
    model = make(Model, cfg, dev, dtype)
    sizes = QWEN_IMAGES[size]
    g = torch.Generator().manual_seed(0)

    def prompt(i, n_text):
        h, w = sizes[i % len(sizes)]
        ids = torch.randint(3, START, (n_text,), generator=g)
        n_img = (h // 28) * (w // 28)
        return torch.cat([ids[:5], torch.tensor([START]), torch.full((n_img,), IMG), torch.tensor([END]), ids[5:]])

    def images(idx):
        grids = [(1, sizes[i % len(sizes)][0] // 14, sizes[i % len(sizes)][1] // 14) for i in idx]
        rows = sum(t * h * w for t, h, w in grids)
        return {"pixel_values": torch.randn(rows, 3 * 2 * 14 * 14, generator=g).to(dev, dtype),
                "image_grid_thw": torch.tensor(grids, device=dev)}

    return model, prompt, images, START  # answers draw plain tokens below the vision markers


def make(cls, cfg, dev, dtype):
    torch.manual_seed(0)
    prev = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    with torch.device(dev):
        model = cls(cfg)
    torch.set_default_dtype(prev)
    model.eval()
    model.requires_grad_(False)
    return model


def pad_left(seqs, dev):
    T = max(len(q) for q in seqs)
    ids = torch.zeros(len(seqs), T, dtype=torch.long)
    mask = torch.zeros(len(seqs), T, dtype=torch.long)
    for s, q in enumerate(seqs):
        ids[s, T - len(q):] = q
        mask[s, T - len(q):] = 1
    return ids.to(dev), mask.to(dev)


def best_time(f, warmup, reps):
    for _ in range(warmup):
        f()
    sync()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        sync()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", default="")
    ap.add_argument("--pairs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--new-tokens", type=int, default=32)
    ap.add_argument("--skip-dpo", action="store_true")
    ap.add_argument("--family", default="llava", choices=["llava", "qwen2-vl", "qwen2.5-vl"])
    ap.add_argument("--size", default="7b", choices=["7b", "tiny"])
    ap.add_argument("--device", default="cuda")
    args = ap.parse_args()

    import transformers
    import peft

    dev = torch.device(args.device)
    dtype = torch.bfloat16 if dev.type == "cuda" else torch.float32
    t0 = time.perf_counter()
    if args.family == "llava":
        model, prompt, images, top = build_llava(args.size, dev, dtype)
    else:
        model, prompt, images, top = build_qwen(args.family, args.size, dev, dtype)
    device_name = torch.cuda.get_device_name() if dev.type == "cuda" else "cpu"
    print(f"peer: {args.family} {args.size}, transformers {transformers.__version__}, peft {peft.__version__}, "
          f"torch {torch.__version__}, {device_name}; model built in {time.perf_counter() - t0:.1f} s", flush=True)
    out = {"peer": "transformers+peft", "family": args.family, "size": args.size,
           "transformers": transformers.__version__, "peft": peft.__version__, "torch": torch.__version__,
           "device": device_name, "dtype": str(dtype).replace("torch.", "")}
    g = torch.Generator().manual_seed(1)
    max_mem = (lambda: torch.cuda.max_memory_allocated()) if dev.type == "cuda" else (lambda: 0)
    reset_mem = torch.cuda.reset_peak_memory_stats if dev.type == "cuda" else (lambda: None)

    # ---- generation ----
    rates = {}
    for B in (1, args.batch):
        ids, mask = pad_left([prompt(i, 40) for i in range(B)], dev)
        px = images(range(B))
        N = args.new_tokens

        def run():
            with torch.no_grad():
                o = model.generate(input_ids=ids, attention_mask=mask, **px, max_new_tokens=N,
                                   min_new_tokens=N, do_sample=False, pad_token_id=0)
            assert o.shape[1] - ids.shape[1] == N, o.shape

        reset_mem()
        tm = best_time(run, 1, 2)
        rates[B] = B * N / tm
        out[f"generate_b{B}"] = {"tokens_per_s": round(rates[B], 1), "s": round(tm, 3),
                                 "peak_mb": round(max_mem() / 2**20, 1)}
        print(f"  generate b={B}: {rates[B]:.1f} tok/s ({tm:.3f} s)", flush=True)
    out["batched_generation_speedup"] = round(rates[args.batch] / rates[1], 2)

    # ---- DPO step (TRL's algorithm) ----
    if not args.skip_dpo:
        from peft import LoraConfig, get_peft_model
        lora_r = 1024 if args.size == "7b" else 8
        lc = LoraConfig(r=lora_r, lora_alpha=2 * lora_r, lora_dropout=0.0, bias="none",
                        target_modules=r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)")
        try:
            pm = get_peft_model(model, lc, autocast_adapter_dtype=False)  # adapters in bf16, as seva's
        except TypeError:
            pm = get_peft_model(model, lc)
        for n, p in pm.named_parameters():
            if p.requires_grad:
                with torch.no_grad():
                    p.normal_(0, 0.02)
        params = [p for p in pm.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=1e-6)
        chosen_len, rejected_len = [24, 12, 30, 8], [20, 28, 5, 16]
        seqs, ans = [], []
        prompts = [prompt(i, 40 + (i % 3) * 2) for i in range(args.pairs)]
        for part, lens in ((0, chosen_len), (1, rejected_len)):  # TRL: all chosen, then all rejected
            for i in range(args.pairs):
                n = lens[i % len(lens)]
                a = torch.cat([torch.randint(3, top, (n - 1,), generator=g), torch.tensor([2])])
                seqs.append(torch.cat([prompts[i], a]))
                ans.append(n)
        S, T = len(seqs), max(len(s) for s in seqs)
        ids = torch.zeros(S, T, dtype=torch.long)
        mask = torch.zeros(S, T, dtype=torch.long)
        labels = torch.full((S, T), -100, dtype=torch.long)
        for s, (q, n) in enumerate(zip(seqs, ans)):
            ids[s, :len(q)] = q
            mask[s, :len(q)] = 1
            labels[s, len(q) - n:len(q)] = q[len(q) - n:]
        ids, mask, labels = ids.to(dev), mask.to(dev), labels.to(dev)
        px = images(list(range(args.pairs)) * 2)  # the chosen half's images, then the rejected half's

        def logps(m):
            logits = m(input_ids=ids, attention_mask=mask, **px).logits.float()
            lab = labels[:, 1:].clone()
            lg = logits[:, :-1]
            keep = lab != -100
            lab[~keep] = 0
            tok = torch.gather(lg.log_softmax(-1), 2, lab.unsqueeze(2)).squeeze(2)
            return (tok * keep).sum(-1)

        def step():
            opt.zero_grad()
            with torch.no_grad(), pm.disable_adapter():
                ref = logps(pm)
            pol = logps(pm)
            B = args.pairs
            logits = 0.1 * ((pol[:B] - ref[:B]) - (pol[B:] - ref[B:]))
            loss = -F.logsigmoid(logits).mean()
            loss.backward()
            opt.step()

        pm.train()
        reset_mem()
        tm = best_time(step, 1, 3)
        out["dpo_step"] = {"pairs": args.pairs, "pairs_per_s": round(args.pairs / tm, 3), "s_per_step": round(tm, 4),
                           "peak_mb": round(max_mem() / 2**20, 1), "lora_r": lora_r}
        print(f"  DPO step (TRL algorithm, PEFT LoRA r {lora_r}): {args.pairs / tm:.3f} pairs/s ({tm:.3f} s), "
              f"peak {max_mem() / 2**30:.1f} GiB", flush=True)
    print(json.dumps(out))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
