#!/usr/bin/env python3
"""Diffs a regenerated fixture directory against the committed one.

    python compare_fixture.py NEW_DIR [--ref DIR] [--tol 1e-4]

For every committed file prints one line: OK / NOT OK, and how it compares:
  * identical bytes -> "OK  identical";
  * .safetensors: same keys, dtypes and shapes; integer tensors exactly equal; float tensors within --tol
    (the max abs difference is printed);
  * .json: same structure; ints, strings and booleans exactly equal; floats within --tol, relative to the
    committed value where that is above 1 (sums over many logits); the max abs diff is printed.
    adapter_config.json's target_modules is compared as a set (PEFT writes a Python set, whose order
    depends on PYTHONHASHSEED);
  * any other file: bytes.
Exit status 0 when everything is OK.  Needs torch and safetensors (numpy for nothing else).
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
NOT_FIXTURE = {"README.md", "make_fixture.py", "compare_fixture.py", "tokenizer_corpus.txt", "requirements.txt"}
SET_VALUED = {("adapter_config.json", "target_modules")}


class Diff:
    """Accumulates the outcome of one file's comparison."""

    def __init__(self):
        self.max_float = 0.0
        self.max_where = ""
        self.max_scaled = 0.0
        self.problems = []

    def bad(self, where, what):
        if len(self.problems) < 5:
            self.problems.append(f"{where}: {what}")
        else:
            self.problems.append(None)

    def floats(self, where, value, scale=1.0):
        """value: an absolute difference; scale: the size of the reference value (>= 1 counts relatively)."""
        if value > self.max_float:
            self.max_float, self.max_where = value, where
        self.max_scaled = max(self.max_scaled, value / max(1.0, scale))


def committed_files(ref):
    out = []
    for root, _, files in os.walk(ref):
        for name in files:
            rel = os.path.relpath(os.path.join(root, name), ref)
            if rel not in NOT_FIXTURE and "__pycache__" not in rel:
                out.append(rel)
    return sorted(out)


def compare_json(a, b, where, diff, fname):
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        if a != b:
            diff.bad(where, f"{a!r} != {b!r}")
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, int) and isinstance(b, int):
            if a != b:
                diff.bad(where, f"{a} != {b}")
        else:
            diff.floats(where, abs(float(a) - float(b)), abs(float(b)))
    elif isinstance(a, str) or isinstance(b, str):
        if a != b:
            diff.bad(where, f"{a!r} != {b!r}")
    elif isinstance(a, dict) and isinstance(b, dict):
        if sorted(a) != sorted(b):
            diff.bad(where, f"keys differ: {sorted(set(a) ^ set(b))}")
        for k in a:
            if k in b:
                if (fname, k) in SET_VALUED and isinstance(a[k], list):
                    if sorted(a[k]) != sorted(b[k]):
                        diff.bad(f"{where}.{k}", "sets differ")
                else:
                    compare_json(a[k], b[k], f"{where}.{k}", diff, fname)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            diff.bad(where, f"length {len(a)} != {len(b)}")
            return
        for i, (x, y) in enumerate(zip(a, b)):
            compare_json(x, y, f"{where}[{i}]", diff, fname)
    elif type(a) != type(b):
        diff.bad(where, f"type {type(a).__name__} != {type(b).__name__}")


def compare_safetensors(new_path, ref_path, diff):
    import torch
    from safetensors.torch import load_file
    a, b = load_file(new_path), load_file(ref_path)
    if sorted(a) != sorted(b):
        diff.bad("keys", f"differ: {sorted(set(a) ^ set(b))}")
    for k in sorted(set(a) & set(b)):
        x, y = a[k], b[k]
        if x.dtype != y.dtype or x.shape != y.shape:
            diff.bad(k, f"{x.dtype}{list(x.shape)} != {y.dtype}{list(y.shape)}")
        elif x.is_floating_point():
            if x.numel():
                diff.floats(k, (x.double() - y.double()).abs().max().item())
        elif not torch.equal(x, y):
            diff.bad(k, f"{int((x != y).sum())} of {x.numel()} values differ")


def compare_file(rel, new_dir, ref_dir, tol):
    new_path, ref_path = os.path.join(new_dir, rel), os.path.join(ref_dir, rel)
    if not os.path.exists(new_path):
        return False, "missing"
    with open(new_path, "rb") as f1, open(ref_path, "rb") as f2:
        if f1.read() == f2.read():
            return True, "identical"
    diff = Diff()
    if rel.endswith(".safetensors"):
        compare_safetensors(new_path, ref_path, diff)
    elif rel.endswith(".json"):
        with open(new_path) as f1, open(ref_path) as f2:
            compare_json(json.load(f1), json.load(f2), "$", diff, os.path.basename(rel))
    else:
        return False, "bytes differ"
    ok = not diff.problems and diff.max_scaled <= tol
    shown = [p for p in diff.problems if p is not None]
    more = len(diff.problems) - len(shown)
    text = f"max abs float diff {diff.max_float:.3g}" + (f" (at {diff.max_where})" if diff.max_where else "")
    if shown:
        text += "; " + "; ".join(shown) + (f"; ... {more} more" if more else "")
    return ok, text


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("new_dir")
    ap.add_argument("--ref", default=HERE, help="committed fixture (default: this script's directory)")
    ap.add_argument("--tol", type=float, default=1e-4, help="max abs difference allowed for floats")
    args = ap.parse_args()
    all_ok = True
    for rel in committed_files(args.ref):
        ok, text = compare_file(rel, args.new_dir, args.ref, args.tol)
        all_ok &= ok
        print(f"{'OK    ' if ok else 'NOT OK'} {rel:45s} {text}")
    print("ALL OK" if all_ok else "NOT OK: some files differ")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
