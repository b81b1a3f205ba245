#!/usr/bin/python3
"""The benchmark's PyTorch baseline: log-likelihood scoring the way
lm-evaluation-harness's Hugging Face backend does it, with a Llama forward
pass written here (no transformers package).

    bench-torch.py MODEL_DIR REQUESTS.jsonl [--out RESULTS.jsonl]
        [--batch-size 64] [--threads 2] [--max-length N]

MODEL_DIR is a Hugging Face Llama folder (config.json, model.safetensors in
F32). REQUESTS.jsonl contains one request a line with its token ids already
split lm-eval style:

    {"context_tokens": [1, 4, ...], "continuation_tokens": [9, ...]}

What is measured matches lm-eval's `_loglikelihood_tokens`:
  - every request is its own sequence, context + continuation minus the last
    token, cut from the left to max_length; no prefix is shared between the
    endings of one item;
  - requests are sorted by descending length and run in batches of 64,
    right-padded to the longest row of the batch;
  - the logits of every position go through one float32 log_softmax, and
    each row is sliced back to its continuation positions.

Writes one result a line, in input order, to --out ({"logprob": x,
"is_greedy": b}), and a summary line of JSON to stdout: requests, tokens
(the sequence tokens fed to the model, padding excluded), padded_tokens,
load_s, score_s.
"""

import argparse
import json
import math
import mmap
import os
import struct
import sys
import time

import numpy as np
import torch


def load_safetensors(path):
    """Returns {name: float32 tensor} backed by a read-only mmap of path."""
    f = open(path, "rb")
    mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    (header_len,) = struct.unpack("<Q", mm[:8])
    header = json.loads(mm[8:8 + header_len])
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise SystemExit("bench-torch: %s: tensor %s is %s; only F32 is supported"
                             % (path, name, info["dtype"]))
        begin, end = info["data_offsets"]
        a = np.frombuffer(mm, dtype="<f4", count=(end - begin) // 4, offset=base + begin)
        # torch wants a writable buffer, so each tensor is copied out of the
        # read-only mapping.
        tensors[name] = torch.from_numpy(a.reshape(info["shape"]).copy())
    return tensors


class Llama:
    """The Hugging Face Llama forward pass (eager attention), in float32."""

    def __init__(self, model_dir):
        with open(os.path.join(model_dir, "config.json")) as f:
            cfg = json.load(f)
        self.n_layers = cfg["num_hidden_layers"]
        self.n_heads = cfg["num_attention_heads"]
        self.n_kv_heads = cfg.get("num_key_value_heads", self.n_heads)
        self.head_dim = cfg["hidden_size"] // self.n_heads
        self.eps = cfg.get("rms_norm_eps", 1e-6)
        self.theta = cfg.get("rope_theta", 10000.0)
        self.max_length = cfg.get("max_position_embeddings", 2048)

        w = load_safetensors(os.path.join(model_dir, "model.safetensors"))
        self.w = w
        self.embed = w["model.embed_tokens.weight"]
        self.lm_head = w.get("lm_head.weight", self.embed)

        inv_freq = 1.0 / (self.theta ** (torch.arange(0, self.head_dim, 2).float() / self.head_dim))
        t = torch.arange(self.max_length).float()
        freqs = torch.outer(t, inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.cos, self.sin = emb.cos(), emb.sin()

    def rms_norm(self, x, weight):
        variance = x.pow(2).mean(-1, keepdim=True)
        return weight * (x * torch.rsqrt(variance + self.eps))

    @staticmethod
    def rotate_half(x):
        half = x.shape[-1] // 2
        return torch.cat((-x[..., half:], x[..., :half]), dim=-1)

    def attention(self, x, p, cos, sin, mask):
        B, T, _ = x.shape
        q = torch.nn.functional.linear(x, self.w[p + "q_proj.weight"])
        k = torch.nn.functional.linear(x, self.w[p + "k_proj.weight"])
        v = torch.nn.functional.linear(x, self.w[p + "v_proj.weight"])
        q = q.view(B, T, self.n_heads, self.head_dim).transpose(1, 2)
        k = k.view(B, T, self.n_kv_heads, self.head_dim).transpose(1, 2)
        v = v.view(B, T, self.n_kv_heads, self.head_dim).transpose(1, 2)

        q = q * cos + self.rotate_half(q) * sin
        k = k * cos + self.rotate_half(k) * sin

        group = self.n_heads // self.n_kv_heads
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)

        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_dim)
        scores = scores + mask
        probs = torch.softmax(scores, dim=-1, dtype=torch.float32)
        out = torch.matmul(probs, v).transpose(1, 2).reshape(B, T, -1)
        return torch.nn.functional.linear(out, self.w[p + "o_proj.weight"])

    def mlp(self, x, p):
        gate = torch.nn.functional.linear(x, self.w[p + "gate_proj.weight"])
        up = torch.nn.functional.linear(x, self.w[p + "up_proj.weight"])
        return torch.nn.functional.linear(torch.nn.functional.silu(gate) * up,
                                          self.w[p + "down_proj.weight"])

    def forward(self, ids):
        """ids [B, T] -> logits [B, T, vocab]. Causal mask only: rows are
        right-padded, so padding never reaches a real position."""
        B, T = ids.shape
        x = torch.nn.functional.embedding(ids, self.embed)
        cos = self.cos[:T][None, None]
        sin = self.sin[:T][None, None]
        mask = torch.full((T, T), float("-inf")).triu(1)[None, None]
        for i in range(self.n_layers):
            p = "model.layers.%d." % i
            h = x + self.attention(self.rms_norm(x, self.w[p + "input_layernorm.weight"]),
                                   p + "self_attn.", cos, sin, mask)
            x = h + self.mlp(self.rms_norm(h, self.w[p + "post_attention_layernorm.weight"]),
                             p + "mlp.")
        x = self.rms_norm(x, self.w["model.norm.weight"])
        return torch.nn.functional.linear(x, self.lm_head)


def read_requests(path):
    requests = []
    with open(path) as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            r = json.loads(line)
            if not r.get("continuation_tokens"):
                raise SystemExit("bench-torch: %s:%d: empty continuation_tokens" % (path, line_no))
            requests.append((r["context_tokens"], r["continuation_tokens"]))
    return requests


def score(model, requests, batch_size, max_length):
    """Returns [(logprob, is_greedy)] in input order, and the token counts."""
    # lm-eval's row: (context + continuation)[-(max_length + 1):][:-1].
    rows = []
    for idx, (ctx, cont) in enumerate(requests):
        whole = (ctx + cont)[-(max_length + 1):]
        rows.append((idx, whole[:-1], cont))
    rows.sort(key=lambda r: (-len(r[1]) - 1, tuple(r[1])))

    results = [None] * len(rows)
    n_tokens = n_padded = 0
    for start in range(0, len(rows), batch_size):
        batch = rows[start:start + batch_size]
        T = max(len(r[1]) for r in batch)
        ids = torch.zeros((len(batch), T), dtype=torch.long)
        for b, (_, inp, _) in enumerate(batch):
            ids[b, :len(inp)] = torch.tensor(inp, dtype=torch.long)
            n_tokens += len(inp)
        n_padded += len(batch) * T

        logprobs = torch.log_softmax(model.forward(ids), dim=-1)

        for b, (idx, inp, cont) in enumerate(batch):
            n = len(cont)
            rows_lp = logprobs[b, len(inp) - n:len(inp)]
            target = torch.tensor(cont, dtype=torch.long)
            greedy = bool((rows_lp.argmax(dim=-1) == target).all())
            lp = float(rows_lp.gather(1, target[:, None]).sum())
            results[idx] = (lp, greedy)
    return results, n_tokens, n_padded


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_dir")
    ap.add_argument("requests")
    ap.add_argument("--out", default=None)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-length", type=int, default=0,
                    help="0: the config's max_position_embeddings")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)

    t0 = time.monotonic()
    model = Llama(args.model_dir)
    requests = read_requests(args.requests)
    t1 = time.monotonic()
    results, n_tokens, n_padded = score(model, requests, args.batch_size,
                                        args.max_length or model.max_length)
    t2 = time.monotonic()

    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            for lp, greedy in results:
                f.write(json.dumps({"logprob": lp, "is_greedy": greedy}) + "\n")
        os.replace(tmp, args.out)

    print(json.dumps({"requests": len(requests), "tokens": n_tokens, "padded_tokens": n_padded,
                      "load_s": round(t1 - t0, 3), "score_s": round(t2 - t1, 3),
                      "threads": torch.get_num_threads(), "torch": torch.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
