#!/usr/bin/env python3
"""The peer to beat for `seva bench --size 7b`: the same generation and DPO-step shapes through
Hugging Face transformers + PEFT, as a user would run them otherwise (random weights, bf16, CUDA).

Generation: LlavaForConditionalGeneration.generate, greedy, 40 text + 576 image tokens per prompt,
32 new tokens, at batch 1 and 16. DPO step: TRL's DPOTrainer algorithm (concatenated chosen and
rejected batch, the vision tower per sequence, a reference forward with the adapter disabled every
step, float32 logits at every position), PEFT LoRA r 1024 / alpha 2048 on the language model's
linear layers, AdamW. Prints a table and writes JSON (--json).
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F


def sync():
    torch.cuda.synchronize()


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
    args = ap.parse_args()

    import transformers
    import peft
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration

    dev = torch.device("cuda")
    dtype = torch.bfloat16
    V, IMG = 32064, 32000
    text = LlamaConfig(vocab_size=V, hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                       num_attention_heads=32, num_key_value_heads=32, max_position_embeddings=4096)
    vision = CLIPVisionConfig(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24, num_attention_heads=16,
                              image_size=336, patch_size=14, projection_dim=768)
    cfg = LlavaConfig(vision_config=vision, text_config=text, image_token_index=IMG, vision_feature_layer=-2,
                      vision_feature_select_strategy="default")
    t0 = time.perf_counter()
    torch.manual_seed(0)
    prev = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    with torch.device(dev):
        model = LlavaForConditionalGeneration(cfg)
    torch.set_default_dtype(prev)
    model.eval()
    model.requires_grad_(False)
    P = (336 // 14) ** 2
    print(f"peer: transformers {transformers.__version__}, peft {peft.__version__}, torch {torch.__version__}, "
          f"{torch.cuda.get_device_name()}; model built in {time.perf_counter() - t0:.1f} s", flush=True)
    out = {"peer": "transformers+peft", "transformers": transformers.__version__, "peft": peft.__version__,
           "torch": torch.__version__, "device": torch.cuda.get_device_name(), "dtype": "bfloat16"}

    g = torch.Generator().manual_seed(0)

    def prompt(n_text):
        # BOS, 5 text tokens, the 576 image tokens (as newer processors expand <image>), the rest.
        ids = torch.randint(3, IMG, (n_text,), generator=g)
        return torch.cat([torch.tensor([1]), ids[:5], torch.full((P,), IMG), ids[5:n_text - 1]])

    # ---- generation ----
    rates = {}
    for B in (1, args.batch):
        ids = torch.stack([prompt(40) for _ in range(B)]).to(dev)
        px = torch.randn(B, 3, 336, 336, dtype=dtype, device=dev)
        mask = torch.ones_like(ids)
        N = args.new_tokens

        def run():
            with torch.no_grad():
                o = model.generate(input_ids=ids, attention_mask=mask, pixel_values=px, max_new_tokens=N,
                                   min_new_tokens=N, do_sample=False, pad_token_id=0)
            assert o.shape[1] - ids.shape[1] == N, o.shape

        torch.cuda.reset_peak_memory_stats()
        tm = best_time(run, 1, 2)
        rates[B] = B * N / tm
        out[f"generate_b{B}"] = {"tokens_per_s": round(rates[B], 1), "s": round(tm, 3),
                                 "peak_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1)}
        print(f"  generate b={B}: {rates[B]:.1f} tok/s ({tm:.3f} s)", flush=True)
    out["batched_generation_speedup"] = round(rates[args.batch] / rates[1], 2)

    # ---- DPO step (TRL's algorithm) ----
    if not args.skip_dpo:
        from peft import LoraConfig, get_peft_model
        lc = LoraConfig(r=1024, lora_alpha=2048, lora_dropout=0.0, bias="none",
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
        prompts = [prompt(40 + (i % 3) * 2) for i in range(args.pairs)]
        for part, lens in ((0, chosen_len), (1, rejected_len)):  # TRL: all chosen, then all rejected
            for i in range(args.pairs):
                n = lens[i % len(lens)]
                a = torch.cat([torch.randint(3, IMG, (n - 1,), generator=g), torch.tensor([2])])
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
        px = torch.randn(args.pairs, 3, 336, 336, dtype=dtype, device=dev).repeat(2, 1, 1, 1)

        def logps(m):
            logits = m(input_ids=ids, attention_mask=mask, pixel_values=px).logits.float()
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
        torch.cuda.reset_peak_memory_stats()
        tm = best_time(step, 1, 3)
        out["dpo_step"] = {"pairs": args.pairs, "pairs_per_s": round(args.pairs / tm, 3), "s_per_step": round(tm, 4),
                           "peak_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1), "lora_r": 1024}
        print(f"  DPO step (TRL algorithm, PEFT LoRA r 1024): {args.pairs / tm:.3f} pairs/s ({tm:.3f} s), "
              f"peak {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB", flush=True)
    print(json.dumps(out))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
