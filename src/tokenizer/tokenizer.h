/* A tokenizer.json tokenizer with the encoding semantics of Hugging Face
 * `tokenizers`: added tokens, normalizer, pre-tokenizer, BPE model and
 * post-processor.
 *
 * Ownership: chv_tokenizer_load returns a tokenizer that the caller frees
 * with chv_tokenizer_free. Encoding keeps a cache of pre-token results
 * inside the tokenizer, so one tokenizer must not be used by two threads at
 * once. Separate tokenizers may run in separate threads.
 *
 * Invalid UTF-8 in input text: each invalid sequence is replaced with
 * U+FFFD before encoding, as Python's bytes.decode(errors="replace") does,
 * and chv_tokenizer_encode reports that through *replaced (if not NULL).
 */
#ifndef CHEVAL_TOKENIZER_TOKENIZER_H
#define CHEVAL_TOKENIZER_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef struct chv_tokenizer chv_tokenizer;

/* Loads `path`, which is a tokenizer.json file or a folder holding one
 * (tokenizer_config.json beside it is read when present). Returns NULL and
 * fills err on failure; the message names the file and the component. */
chv_tokenizer *chv_tokenizer_load(const char *path, chv_error *err);

void chv_tokenizer_free(chv_tokenizer *tok);

/* Encodes text[0..len) into *ids (malloc'd, caller frees) and *n_ids.
 * add_special_tokens applies the post-processor (BOS/EOS and the like), as
 * `tokenizer.encode(text, add_special_tokens=True)` does. On success *ids
 * is a valid pointer even when *n_ids is 0. Returns 0, or -1 with err
 * filled (only when an unknown character needs an unk_token missing from
 * the vocabulary, a pattern match fails or memory runs out). */
int chv_tokenizer_encode(chv_tokenizer *tok, const char *text, size_t len, int add_special_tokens,
                         int32_t **ids, size_t *n_ids, int *replaced, chv_error *err);

/* Number of ids (the largest id plus one, counting added tokens). */
size_t chv_tokenizer_vocab_size(const chv_tokenizer *tok);

/* Returns the token string for id (as stored in the vocabulary), or NULL.
 * The string belongs to the tokenizer and lives until chv_tokenizer_free. */
const char *chv_tokenizer_id_to_token(const chv_tokenizer *tok, int32_t id);

/* Returns the id of a token string, or -1. */
int32_t chv_tokenizer_token_to_id(const chv_tokenizer *tok, const char *token);

/* BOS and EOS ids from tokenizer_config.json (bos_token, eos_token), else
 * the post-processor's first leading (BOS) or last trailing (EOS) special
 * token, else -1. */
int32_t chv_tokenizer_bos_id(const chv_tokenizer *tok);
int32_t chv_tokenizer_eos_id(const chv_tokenizer *tok);

/* Number of special tokens the post-processor puts before and after a
 * single sequence (for Llama-2: 1 and 0; for GPT-2: 0 and 0). For
 * LlamaTokenizerFast, CodeLlamaTokenizerFast and GemmaTokenizerFast the
 * post-processor follows add_bos_token and add_eos_token of
 * tokenizer_config.json, as transformers rebuilds it (docs/tokenizer.md). */
int chv_tokenizer_special_prefix(const chv_tokenizer *tok);
int chv_tokenizer_special_suffix(const chv_tokenizer *tok);

/* model_max_length from tokenizer_config.json, or 0 when absent or huge. */
long chv_tokenizer_model_max_length(const chv_tokenizer *tok);

/* Decodes ids back to UTF-8 text the way the tokenizer's decoder does,
 * for display only (logs, reports). Returns a malloc'd string or NULL. */
char *chv_tokenizer_decode(const chv_tokenizer *tok, const int32_t *ids, size_t n_ids);

#endif
