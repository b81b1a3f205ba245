#!/usr/bin/python3
"""Writes the benchmark's random-weight Llama model in two formats.

    bench-make-model.py OUT_DIR [--preset 91m] [--seed 1234]
        [--tokenizer-dir DIR]

OUT_DIR/hf/ gets a Hugging Face folder: config.json (LlamaForCausalLM),
model.safetensors (F32, tied embeddings), and tokenizer.json plus
tokenizer_config.json linked from --tokenizer-dir.

OUT_DIR/model.bin gets the same weights as a llama2.c checkpoint (a header
of 7 int32, then float32 arrays), which llama.cpp's
llama-convert-llama2c-to-ggml turns into a GGUF file.

Both files compute the same function. llama2.c rotates interleaved pairs
(2i, 2i+1) of each query/key head; Hugging Face rotates half-split pairs
(i, i + head_dim/2). The weights are drawn in llama2.c's order and the
query/key rows of every head are permuted for the Hugging Face file.

The weights depend only on the preset and the seed (numpy's RandomState
stream is fixed across numpy versions), so every run of the benchmark
scores the same model. A stamp file records both; a folder whose stamp
matches is reused.

This is a developer tool; it needs numpy and nothing else.
"""

import argparse
import json
import os
import struct
import sys

import numpy as np

PRESETS = {
    # 91M parameters: hidden 640, 16 layers, 10 query heads and 2 KV heads
    # (head_dim 64), MLP 1792, the Llama-2 vocabulary, tied embeddings.
    "91m": dict(dim=640, hidden_dim=1792, n_layers=16, n_heads=10, n_kv_heads=2,
                vocab_size=32000, seq_len=2048),
    # A tiny model for checking this script quickly.
    "tiny": dict(dim=64, hidden_dim=172, n_layers=2, n_heads=8, n_kv_heads=4,
                 vocab_size=32000, seq_len=512),
}

INIT_STD = 0.02  # the usual Llama initialisation scale for projections
ROPE_THETA = 10000.0
RMS_EPS = 1e-5


def draw_weights(cfg, seed):
    """Returns a dict of float32 arrays in llama2.c order and layout.

    Matrices are [out][in] row-major. Norm weights are 1 plus a little noise,
    so that a bug that swaps two norms still changes the output."""
    rng = np.random.RandomState(seed)
    dim, hid, L = cfg["dim"], cfg["hidden_dim"], cfg["n_layers"]
    head_dim = dim // cfg["n_heads"]
    kv_dim = cfg["n_kv_heads"] * head_dim
    V = cfg["vocab_size"]

    def normal(*shape):
        return (rng.standard_normal(shape) * INIT_STD).astype(np.float32)

    def norm_weight(*shape):
        return (1.0 + 0.1 * rng.standard_normal(shape)).astype(np.float32)

    w = {}
    w["tok_emb"] = normal(V, dim)
    w["rms_att"] = norm_weight(L, dim)
    w["wq"] = normal(L, dim, dim)
    w["wk"] = normal(L, kv_dim, dim)
    w["wv"] = normal(L, kv_dim, dim)
    w["wo"] = normal(L, dim, dim)
    w["rms_ffn"] = norm_weight(L, dim)
    w["w1"] = normal(L, hid, dim)
    w["w2"] = normal(L, dim, hid)
    w["w3"] = normal(L, hid, dim)
    w["rms_final"] = norm_weight(dim)
    return w


def interleaved_to_half_split(m, n_heads):
    """Permutes the rows of a query or key projection [n_heads*head_dim, in]
    from interleaved rotary pairs to half-split pairs: within each head,
    row a*head_dim/2 + i of the result is row 2i + a of the input."""
    rows, cols = m.shape
    head_dim = rows // n_heads
    return m.reshape(n_heads, head_dim // 2, 2, cols).transpose(0, 2, 1, 3).reshape(rows, cols)


def write_llama2c(path, cfg, w):
    """llama2.c "version 0" checkpoint: a positive vocab_size means the
    classifier is the token embedding."""
    head_dim = cfg["dim"] // cfg["n_heads"]
    header = struct.pack("<7i", cfg["dim"], cfg["hidden_dim"], cfg["n_layers"], cfg["n_heads"],
                         cfg["n_kv_heads"], cfg["vocab_size"], cfg["seq_len"])

    # The rotary tables llama2.c stores after the weights: cos and sin of
    # pos * theta^(-2i/head_dim), each [seq_len][head_dim/2].
    inv_freq = ROPE_THETA ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    angles = np.outer(np.arange(cfg["seq_len"], dtype=np.float64), inv_freq)

    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(header)
        for name in ("tok_emb", "rms_att", "wq", "wk", "wv", "wo", "rms_ffn", "w1", "w2", "w3",
                     "rms_final"):
            f.write(np.ascontiguousarray(w[name], dtype="<f4").tobytes())
        f.write(np.cos(angles).astype("<f4").tobytes())
        f.write(np.sin(angles).astype("<f4").tobytes())
    os.replace(tmp, path)


def hf_tensors(cfg, w):
    """Yields (name, array) in the Hugging Face layout."""
    yield "model.embed_tokens.weight", w["tok_emb"]
    for i in range(cfg["n_layers"]):
        p = "model.layers.%d." % i
        yield p + "input_layernorm.weight", w["rms_att"][i]
        yield p + "self_attn.q_proj.weight", interleaved_to_half_split(w["wq"][i], cfg["n_heads"])
        yield p + "self_attn.k_proj.weight", interleaved_to_half_split(w["wk"][i], cfg["n_kv_heads"])
        yield p + "self_attn.v_proj.weight", w["wv"][i]
        yield p + "self_attn.o_proj.weight", w["wo"][i]
        yield p + "post_attention_layernorm.weight", w["rms_ffn"][i]
        yield p + "mlp.gate_proj.weight", w["w1"][i]
        yield p + "mlp.up_proj.weight", w["w3"][i]
        yield p + "mlp.down_proj.weight", w["w2"][i]
    yield "model.norm.weight", w["rms_final"]


def write_safetensors(path, tensors):
    """Writes tensors as safetensors: an 8-byte little-endian header length,
    a JSON header padded with spaces to a multiple of 8 bytes, then the raw
    little-endian tensor bytes in header order."""
    header = {"__metadata__": {"format": "pt"}}
    offset = 0
    arrays = []
    for name, a in tensors:
        a = np.ascontiguousarray(a, dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        arrays.append(a)
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)

    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for a in arrays:
            f.write(a.tobytes())
    os.replace(tmp, path)


def write_config(path, cfg):
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": cfg["dim"],
        "intermediate_size": cfg["hidden_dim"],
        "num_hidden_layers": cfg["n_layers"],
        "num_attention_heads": cfg["n_heads"],
        "num_key_value_heads": cfg["n_kv_heads"],
        "vocab_size": cfg["vocab_size"],
        "max_position_embeddings": cfg["seq_len"],
        "rms_norm_eps": RMS_EPS,
        "rope_theta": ROPE_THETA,
        "hidden_act": "silu",
        "tie_word_embeddings": True,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "torch_dtype": "float32",
    }
    with open(path, "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")


def link_tokenizer(hf_dir, tokenizer_dir):
    """Links tokenizer.json and tokenizer_config.json from tokenizer_dir, so
    that the tokenizer is referenced, never copied."""
    for name in ("tokenizer.json", "tokenizer_config.json"):
        src = os.path.join(tokenizer_dir, name)
        dst = os.path.join(hf_dir, name)
        if not os.path.exists(src):
            continue
        if os.path.lexists(dst):
            os.remove(dst)
        os.symlink(os.path.abspath(src), dst)


def count_params(cfg):
    dim, hid, L, V = cfg["dim"], cfg["hidden_dim"], cfg["n_layers"], cfg["vocab_size"]
    kv_dim = cfg["n_kv_heads"] * (dim // cfg["n_heads"])
    per_layer = 2 * dim * dim + 2 * kv_dim * dim + 3 * dim * hid + 2 * dim
    return V * dim + L * per_layer + dim


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--preset", default="91m", choices=sorted(PRESETS))
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--tokenizer-dir", default=None,
                    help="folder with tokenizer.json (default: $CHEVAL_MODELS_DIR/llama2-tokenizer-hf)")
    args = ap.parse_args()

    cfg = PRESETS[args.preset]
    tokenizer_dir = args.tokenizer_dir
    if tokenizer_dir is None and os.environ.get("CHEVAL_MODELS_DIR"):
        tokenizer_dir = os.path.join(os.environ["CHEVAL_MODELS_DIR"], "llama2-tokenizer-hf")

    hf_dir = os.path.join(args.out_dir, "hf")
    os.makedirs(hf_dir, exist_ok=True)
    stamp_path = os.path.join(args.out_dir, "stamp.json")
    stamp = {"preset": args.preset, "seed": args.seed, "config": cfg, "writer": 1}

    if os.path.exists(stamp_path):
        with open(stamp_path) as f:
            if json.load(f) == stamp:
                if tokenizer_dir:
                    link_tokenizer(hf_dir, tokenizer_dir)
                print("reusing %s (%s, seed %d)" % (args.out_dir, args.preset, args.seed),
                      file=sys.stderr)
                return 0
        os.remove(stamp_path)

    w = draw_weights(cfg, args.seed)
    write_llama2c(os.path.join(args.out_dir, "model.bin"), cfg, w)
    write_safetensors(os.path.join(hf_dir, "model.safetensors"), hf_tensors(cfg, w))
    write_config(os.path.join(hf_dir, "config.json"), cfg)
    if tokenizer_dir:
        link_tokenizer(hf_dir, tokenizer_dir)

    with open(stamp_path, "w") as f:
        json.dump(stamp, f)
    print("wrote %s: %s, %d parameters, seed %d" % (args.out_dir, args.preset, count_params(cfg),
                                                     args.seed), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
