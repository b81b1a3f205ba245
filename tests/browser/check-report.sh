#!/bin/sh
# Renders report.html and a comparison page in headless Chromium and checks
# that the charts survive parsing: the DOM Chromium dumps must contain the
# SVG charts with their bars, chance markers and error bars. Also saves
# screenshots for a person to look at.
#
# Usage: tests/browser/check-report.sh [OUTPUT_DIR]
# Needs: Debian's chromium package and a built cheval ($CHEVAL_BIN, default
# ./cheval). Not part of `make test`; run it with `make browser-test`.
set -eu

CHEVAL_BIN=${CHEVAL_BIN:-./cheval}
OUT=${1:-build/browser}
CHROMIUM=${CHROMIUM:-chromium}
FIXTURES=tests/fixtures/report

if ! command -v "$CHROMIUM" >/dev/null 2>&1; then
    echo "check-report: $CHROMIUM not found; install it with: apt-get install chromium" >&2
    exit 1
fi
if [ ! -x "$CHEVAL_BIN" ]; then
    echo "check-report: $CHEVAL_BIN not found; run make first" >&2
    exit 1
fi

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
work=$(mktemp -d)
profile=$(mktemp -d)
trap 'rm -rf "$work" "$profile"' EXIT

cp -r "$FIXTURES/base" "$work/run"
"$CHEVAL_BIN" report "$work/run" --format md,csv,html
"$CHEVAL_BIN" compare "$FIXTURES/base" "$FIXTURES/candidate" --html "$work/compare.html" >/dev/null

# Flags that keep Chromium from contacting any server.
chromium_run() {
    "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --disable-extensions \
        --disable-default-apps --hide-scrollbars --user-data-dir="$profile" "$@" 2>/dev/null
}

failures=0
count() { grep -o "$1" "$2" | wc -l; }

expect_at_least() { # what pattern file minimum
    n=$(count "$2" "$3")
    if [ "$n" -ge "$4" ]; then
        echo "ok: $1 ($n)"
    else
        echo "FAIL: $1: found $n, expected at least $4"
        failures=$((failures + 1))
    fi
}

check_page() { # name html min_svgs min_bars
    name=$1
    html=$2
    chromium_run --dump-dom "file://$html" > "$OUT/$name.dom.html"
    expect_at_least "$name: DOM has a body" '<body' "$OUT/$name.dom.html" 1
    expect_at_least "$name: SVG charts" '<svg' "$OUT/$name.dom.html" "$3"
    expect_at_least "$name: bars" '<rect class="bar' "$OUT/$name.dom.html" "$4"
    expect_at_least "$name: error bars" '<line class="err"' "$OUT/$name.dom.html" "$4"
    # Every chart in the source must come out of the parser intact.
    src_svgs=$(count '<svg' "$html")
    dom_svgs=$(count '<svg' "$OUT/$name.dom.html")
    if [ "$src_svgs" -ne "$dom_svgs" ]; then
        echo "FAIL: $name: $src_svgs charts in the file, $dom_svgs in the rendered DOM"
        failures=$((failures + 1))
    fi
    if grep -q '<script' "$OUT/$name.dom.html"; then
        echo "FAIL: $name: the page contains a script"
        failures=$((failures + 1))
    fi

    chromium_run --screenshot="$OUT/$name.png" --window-size=1200,1800 "file://$html" >/dev/null
    if [ -s "$OUT/$name.png" ] && head -c 8 "$OUT/$name.png" | grep -q PNG; then
        echo "ok: $name: screenshot $OUT/$name.png"
    else
        echo "FAIL: $name: no screenshot"
        failures=$((failures + 1))
    fi
}

check_page report "$work/run/report.html" 5 10
expect_at_least "report: chance markers" '<line class="chance"' "$OUT/report.dom.html" 5
check_page compare "$work/compare.html" 2 5

if [ "$failures" -ne 0 ]; then
    echo "browser check: $failures failure(s)"
    exit 1
fi
echo "browser check: all passed"
