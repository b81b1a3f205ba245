#!/bin/sh
# `make demo`: evaluate the embedded demo model on the bundled samples.
#
# The demo model is written by tools/make-demo-model.c into build/demo-model
# (once, and again whenever the tool is rebuilt). Its weights are random,
# so every score is at chance level: the demo shows the pipeline and the
# report files, not a model's quality.
#
# Environment variables (the tests set them, `make demo` uses the defaults):
#   CHEVAL_DEMO_TOOL    generator binary (default build/tools/make-demo-model)
#   CHEVAL_BIN          cheval binary (default ./cheval)
#   CHEVAL_DEMO_MODEL   model folder to write (default build/demo-model)
#   CHEVAL_DEMO_OUTPUT  run folder (default reports/demo-model)
set -eu
cd "$(dirname "$0")/.."

tool=${CHEVAL_DEMO_TOOL:-build/tools/make-demo-model}
cheval=${CHEVAL_BIN:-./cheval}
model=${CHEVAL_DEMO_MODEL:-build/demo-model}
out=${CHEVAL_DEMO_OUTPUT:-reports/demo-model}

if [ ! -x "$cheval" ]; then
    echo "cheval demo: $cheval not found; build it with 'make'" >&2
    exit 1
fi
if [ ! -x "$tool" ]; then
    make "$tool"
fi
if [ ! -f "$model/model.safetensors" ] || [ "$tool" -nt "$model/model.safetensors" ]; then
    echo "cheval demo: writing the random-weight demo model to $model" >&2
    "$tool" "$model"
fi

# NOTE: while `cheval run` is a placeholder, this build can only write the
# model, so the check below ends the demo there with status 0.
if ! "$cheval" run --help >/dev/null 2>&1; then
    echo "cheval demo: the demo model is ready in $model, but this build of cheval"
    echo "does not implement 'cheval run' yet, so there is nothing to evaluate."
    exit 0
fi

echo "cheval demo: evaluating $model on the bundled samples in data/samples/."
echo "The demo model is untrained (random weights), so it scores at chance;"
echo "the samples are a few documents per task, not the official benchmarks."
echo

"$cheval" run --model "$model" --tasks card --data-dir data/samples --output-dir "$out" --log-samples

echo
echo "cheval demo: wrote $out/: results.json, results.md, report.md,"
echo "report.html, results.csv and samples_<task>.jsonl for each task."
echo "To evaluate a real model on the official benchmarks, fetch them into data/"
echo "with scripts/fetch-data.sh and run cheval run without --data-dir"
echo "(see 'Evaluate a model' in README.md)."
