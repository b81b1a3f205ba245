#!/usr/bin/python3
"""Turns llama.cpp's HellaSwag text file into lm-eval log-likelihood
requests, for the benchmark.

    bench-requests.py HELLASWAG.txt OUT.jsonl [--limit N]
        [--spm-model tokenizer.model]

The input has 6 lines an item: the context, the index of the gold ending,
then the 4 endings (lm-eval's preprocessing is already applied). Each
ending becomes one request, as lm-eval's hellaswag task makes it:

    {"doc": 0, "choice": 2, "gold": 3,
     "context": "<context>", "continuation": " <ending>"}

With --spm-model the request also gets token ids, split the way lm-eval's
Hugging Face backend splits them for a Llama tokenizer (BOS first; the
context + continuation string encoded once, then cut at the length of the
encoded context):

    "context_tokens": [...], "continuation_tokens": [...]

That is only a fallback for the PyTorch baseline when cheval cannot print
its own token ids; token counts, which is all a speed benchmark needs, agree
either way.
"""

import argparse
import json
import os
import sys


def read_items(path, limit):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) % 6 != 0:
        raise SystemExit("bench-requests: %s: %d lines, not a multiple of 6" % (path, len(lines)))
    items = []
    for i in range(0, len(lines), 6):
        if limit and len(items) == limit:
            break
        items.append((lines[i], int(lines[i + 1]), lines[i + 2:i + 6]))
    return items


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("hellaswag")
    ap.add_argument("out")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--spm-model", default=None)
    args = ap.parse_args()

    sp = None
    if args.spm_model:
        import sentencepiece  # Debian: python3-sentencepiece
        sp = sentencepiece.SentencePieceProcessor(model_file=args.spm_model)

    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for doc, (context, gold, endings) in enumerate(read_items(args.hellaswag, args.limit)):
            for choice, ending in enumerate(endings):
                r = {"doc": doc, "choice": choice, "gold": gold,
                     "context": context, "continuation": " " + ending}
                if sp is not None:
                    bos = [sp.bos_id()]
                    context_ids = bos + sp.encode(context)
                    whole = bos + sp.encode(context + " " + ending)
                    r["context_tokens"] = context_ids
                    r["continuation_tokens"] = whole[len(context_ids):]
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
