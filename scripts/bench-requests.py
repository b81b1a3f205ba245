#!/usr/bin/python3
"""Turns llama.cpp's HellaSwag text file into lm-eval log-likelihood
requests, for the benchmark.

    bench-requests.py HELLASWAG.txt OUT.jsonl [--limit N]
        [--cheval BIN --model DIR | --spm-model tokenizer.model]

The input has 6 lines an item: the context, the index of the gold ending,
then the 4 endings (lm-eval's preprocessing is already applied). Each
ending becomes one request, as lm-eval's hellaswag task makes it:

    {"doc": 0, "choice": 2, "gold": 3,
     "context": "<context>", "continuation": " <ending>"}

With --cheval and --model (`cheval tokenize --add-special-tokens` on the
model's tokenizer.json) or --spm-model (SentencePiece, for a Llama
tokenizer without cheval) the request also gets token ids. They are split
the way lm-eval's Hugging Face backend splits them. Trailing whitespace of
the context moves to the continuation, the whole string is encoded once
with the tokenizer's special tokens, and the continuation is what follows
the encoded context:

    "context_tokens": [...], "continuation_tokens": [...]

The PyTorch baseline reads those ids.
"""

import argparse
import json
import os
import subprocess
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


def cheval_encoder(cheval, model_dir):
    """Returns encode(list of str) -> list of id lists through one
    `cheval tokenize` process."""
    def encode(texts):
        stdin = "".join(json.dumps(t) + "\n" for t in texts)
        out = subprocess.run([cheval, "tokenize", "--model", model_dir, "--add-special-tokens"],
                             input=stdin, capture_output=True, text=True, check=True).stdout
        ids = [json.loads(line) for line in out.splitlines() if line.strip()]
        if len(ids) != len(texts):
            raise SystemExit("bench-requests: cheval tokenize gave %d lines for %d strings"
                             % (len(ids), len(texts)))
        return ids
    return encode


def spm_encoder(model_file):
    import sentencepiece  # Debian: python3-sentencepiece
    sp = sentencepiece.SentencePieceProcessor(model_file=model_file)
    return lambda texts: [[sp.bos_id()] + sp.encode(t) for t in texts]


def lm_eval_split(context, continuation):
    """Moves trailing whitespace of the context to the continuation."""
    stripped = context.rstrip()
    return stripped, context[len(stripped):] + continuation


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("hellaswag")
    ap.add_argument("out")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--cheval", default=None)
    ap.add_argument("--model", default=None)
    ap.add_argument("--spm-model", default=None)
    args = ap.parse_args()

    encode = None
    if args.cheval and args.model:
        encode = cheval_encoder(args.cheval, args.model)
    elif args.spm_model:
        encode = spm_encoder(args.spm_model)

    requests = []
    for doc, (context, gold, endings) in enumerate(read_items(args.hellaswag, args.limit)):
        for choice, ending in enumerate(endings):
            requests.append({"doc": doc, "choice": choice, "gold": gold,
                             "context": context, "continuation": " " + ending})

    if encode is not None:
        pairs = [lm_eval_split(r["context"], r["continuation"]) for r in requests]
        ids = encode([c for c, _ in pairs] + [c + x for c, x in pairs])
        n = len(pairs)
        for i, r in enumerate(requests):
            context_ids, whole = ids[i], ids[n + i]
            r["context_tokens"] = context_ids
            r["continuation_tokens"] = whole[len(context_ids):]

    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for r in requests:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
