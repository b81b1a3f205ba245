#!/bin/bash
# Download the official benchmark files that cheval reads, or copy them from
# a local mirror, and check each one against data/MANIFEST.
#
# Usage: scripts/fetch-data.sh [--dest DIR] [--from DIR | --check]
#                              [--manifest FILE] [--strict] [--force]
#
# Run with --help for the options. Each manifest file gets one status line
# on stdout:
#   OK        size, sha256 and record count match the manifest
#   DIFFERS   a 'copy' or 'derived' entry whose bytes differ but whose
#             record count matches (a warning; an error with --strict)
#   MISMATCH  wrong size, sha256 or record count (an error)
#   MISSING   the file could not be downloaded or is not in the mirror
#             (a warning; an error with --strict)
# Exit status: 0 when every file present verifies, 1 on any error, 2 for a
# usage error.
set -u

script_dir=$(cd "$(dirname "$0")" && pwd)

dest=data
from=""
check_only=0
strict=0
force=0
manifest="$script_dir/../data/MANIFEST"

usage() {
    cat <<'EOF'
usage: scripts/fetch-data.sh [OPTIONS]

Downloads the official benchmark files listed in data/MANIFEST into a data
folder and verifies their size, SHA-256 and record count. Run it from the
repository root: the files land in data/<task>/..., where `cheval run` looks
by default and where git ignores them. The bundled samples in data/samples/
are left alone.

options:
  --dest DIR       data folder to fill (default: data, in the current folder)
  --from DIR       copy the files from a local mirror laid out like the data
                   folder instead of downloading them
  --check          download nothing; only verify the files already in --dest
  --manifest FILE  manifest to verify against (default: data/MANIFEST next
                   to this script)
  --strict         treat MISSING files and DIFFERS warnings as errors
  --force          download again even when a file already verifies
  -h, --help       print this help

Exit status: 0 when every file present verifies, 1 on a mismatch (or, with
--strict, on a missing or differing file), 2 for a usage error.
EOF
}

die_usage() {
    echo "fetch-data: $1" >&2
    echo "Run 'scripts/fetch-data.sh --help' for the options." >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
        --dest) [ $# -ge 2 ] || die_usage "--dest needs a folder"; dest=$2; shift 2 ;;
        --from) [ $# -ge 2 ] || die_usage "--from needs a folder"; from=$2; shift 2 ;;
        --manifest) [ $# -ge 2 ] || die_usage "--manifest needs a file"; manifest=$2; shift 2 ;;
        --check) check_only=1; shift ;;
        --strict) strict=1; shift ;;
        --force) force=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die_usage "unknown option '$1'" ;;
    esac
done

if [ -n "$from" ] && [ "$check_only" -eq 1 ]; then
    die_usage "--from and --check cannot be combined"
fi
if [ -n "$from" ] && [ ! -d "$from" ]; then
    die_usage "mirror folder '$from' not found"
fi
if [ ! -r "$manifest" ]; then
    die_usage "manifest '$manifest' not found or not readable"
fi
# The samples folder contains files of the same names. Official files
# written there would replace the samples, and runs on them would still
# be flagged as sample data.
if [ -f "$dest/SAMPLES.md" ] && [ "$check_only" -eq 0 ]; then
    die_usage "'$dest' is the bundled samples folder (it contains SAMPLES.md); fetch into data/ or another folder"
fi

if command -v sha256sum >/dev/null 2>&1; then
    sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then
    sha256_of() { shasum -a 256 "$1" | cut -d' ' -f1; }
else
    echo "fetch-data: neither sha256sum nor shasum was found; install coreutils" >&2
    exit 1
fi

# ---------------------------------------------------------------------------
# Manifest

# Parallel arrays, one element per manifest entry.
m_path=()
m_records=()
m_bytes=()
m_sha=()
m_kind=()

read_manifest() {
    local line_no=0 path records bytes sha kind extra
    while IFS= read -r line || [ -n "$line" ]; do
        line_no=$((line_no + 1))
        case "$line" in
            ''|'#'*) continue ;;
        esac
        read -r path records bytes sha kind extra <<<"$line"
        if [ -z "$kind" ] || [ -n "$extra" ]; then
            echo "fetch-data: $manifest:$line_no: expected 5 fields (path records bytes sha256 kind)" >&2
            exit 1
        fi
        case "$path" in
            /*|*..*)
                echo "fetch-data: $manifest:$line_no: path '$path' must be relative and stay inside the data folder" >&2
                exit 1 ;;
        esac
        case "$kind" in
            official|checksum|copy|derived|published|unpinned) ;;
            *)
                echo "fetch-data: $manifest:$line_no: unknown kind '$kind'" >&2
                exit 1 ;;
        esac
        m_path+=("$path")
        m_records+=("$records")
        m_bytes+=("$bytes")
        m_sha+=("$sha")
        m_kind+=("$kind")
    done <"$manifest"
    if [ ${#m_path[@]} -eq 0 ]; then
        echo "fetch-data: $manifest lists no files" >&2
        exit 1
    fi
}

# Prints the number of documents in a file, counted the way the task counts
# them (see the MANIFEST header).
count_records() {
    case "$1" in
        *hellaswag_val_full.txt)
            # Six lines per item: context, gold label, four endings.
            awk 'END { if (NR % 6) print -1; else print NR / 6 }' "$1" ;;
        *wiki.test.raw)
            # A page starts at a level-1 heading such as " = Robert Boulter = ".
            grep -c '^ = [^=].* = $' "$1" ;;
        *)
            # One record per line. A last line without '\n' still counts.
            awk 'END { print NR }' "$1" ;;
    esac
}

# ---------------------------------------------------------------------------
# Sources
#
# Each manifest path maps to one source: "url URL..." for a file downloaded
# as is, or "zip MEMBER URL..." for a member of a zip archive. Later URLs are
# fallbacks for earlier ones.
#
# NOTE: none of these URLs could be tried where this script was written,
# because that machine had no network access. Two groups differ in how sure
# they are:
# - Used as is by other public download scripts: the ARC, OpenBookQA and
#   WinoGrande archives, BoolQ, rowanz/hellaswag, yonatanbisk.com/piqa and
#   the ggml-org/ci WikiText archive (there at "main", pinned here).
# - Built from a repository, a commit and a path, never seen as a URL: the
#   raw.githubusercontent.com URLs at a commit (HellaSwag text, PIQA, BLiMP)
#   and the Hugging Face URL of ArithMark-2.0.
# Entries marked "Unverified" below have further doubts.

blimp_commit=3e56b06fcabca9b30822fc66435fca6b1aa40bb1
piqa_commit=21edab439af693b961be2f069e8690a88d3b4e37
hellaswag_text_commit=1105d370f8340eac3c63a91fd1fa58e8999f9505
arithmark_revision=5bd986c7305dcccec88432d630aae1ac9280a71f
wikitext_revision=927b3642933080f1b0e811e2f916e14c292992f9

arc_zip="https://ai2-public-datasets.s3.amazonaws.com/arc/ARC-V1-Feb2018.zip \
https://s3-us-west-2.amazonaws.com/ai2-website/data/ARC-V1-Feb2018.zip"
obqa_zip="https://ai2-public-datasets.s3.amazonaws.com/open-book-qa/OpenBookQA-V1-Sep2018.zip \
https://s3-us-west-2.amazonaws.com/ai2-website/data/OpenBookQA-V1-Sep2018.zip"
winogrande_zip="https://storage.googleapis.com/ai2-mosaic/public/winogrande/winogrande_1.1.zip"
# The llama.cpp project's mirror of the Salesforce archive comes first. The
# original S3 bucket is the fallback (unverified: it is reported offline).
wikitext_zip="https://huggingface.co/datasets/ggml-org/ci/resolve/$wikitext_revision/wikitext-2-raw-v1.zip \
https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-raw-v1.zip"

source_of() {
    case "$1" in
        arc/ARC-Easy-Test.jsonl)
            echo "zip ARC-V1-Feb2018-2/ARC-Easy/ARC-Easy-Test.jsonl $arc_zip" ;;
        arc/ARC-Challenge-Test.jsonl)
            echo "zip ARC-V1-Feb2018-2/ARC-Challenge/ARC-Challenge-Test.jsonl $arc_zip" ;;
        hellaswag/hellaswag_val.jsonl)
            echo "url https://raw.githubusercontent.com/rowanz/hellaswag/master/data/hellaswag_val.jsonl" ;;
        hellaswag/hellaswag_val_full.txt)
            echo "url https://raw.githubusercontent.com/klosax/hellaswag_text_data/$hellaswag_text_commit/hellaswag_val_full.txt" ;;
        winogrande/dev.jsonl)
            echo "zip winogrande_1.1/dev.jsonl $winogrande_zip" ;;
        piqa/valid.jsonl|piqa/valid-labels.lst)
            echo "url https://raw.githubusercontent.com/ybisk/ybisk.github.io/$piqa_commit/piqa/data/${1#piqa/} \
https://yonatanbisk.com/piqa/data/${1#piqa/}" ;;
        openbookqa/test.jsonl)
            echo "zip OpenBookQA-V1-Sep2018/Data/Main/test.jsonl $obqa_zip" ;;
        boolq/dev.jsonl)
            # Unverified: this bucket has been reported to return a billing
            # error. SuperGLUE's BoolQ.zip has the same questions in
            # another schema (no title field), so it is not a fallback.
            echo "url https://storage.googleapis.com/boolq/dev.jsonl" ;;
        blimp/*.jsonl)
            echo "url https://raw.githubusercontent.com/alexwarstadt/blimp/$blimp_commit/data/${1#blimp/}" ;;
        arithmark/arithmark_2.0.jsonl)
            # Unverified: the Hugging Face "resolve" URL at the pinned revision.
            echo "url https://huggingface.co/datasets/AxiomicLabs/ArithMark-2.0/resolve/$arithmark_revision/arithmark_2.0.jsonl" ;;
        wikitext2/wiki.test.raw)
            echo "zip wikitext-2-raw/wiki.test.raw $wikitext_zip" ;;
        *)
            echo "" ;;
    esac
}

# Downloads the first URL that works to $1. Returns 1 when all fail.
download() {
    local out=$1 url
    shift
    for url in "$@"; do
        echo "fetch-data: downloading $url" >&2
        if command -v curl >/dev/null 2>&1; then
            curl -fL --retry 3 --connect-timeout 30 -sS -o "$out.part" "$url" && mv -f "$out.part" "$out" && return 0
        elif command -v wget >/dev/null 2>&1; then
            wget -q --tries=3 --timeout=30 -O "$out.part" "$url" && mv -f "$out.part" "$out" && return 0
        else
            echo "fetch-data: neither curl nor wget was found; install one of them" >&2
            return 1
        fi
        echo "fetch-data: download failed: $url" >&2
        rm -f "$out.part"
    done
    return 1
}

# Fetches manifest path $1 into $dest. Archives are cached in $work_dir so
# that ARC's two files need one download.
fetch_one() {
    local path=$1 src type member zip_file
    src=$(source_of "$path")
    if [ -z "$src" ]; then
        echo "fetch-data: no download source is known for $path" >&2
        return 1
    fi
    # Word splitting is wanted here: the source is "type [member] url...".
    # shellcheck disable=SC2086
    set -- $src
    type=$1
    shift
    mkdir -p "$(dirname "$dest/$path")" || return 1
    case "$type" in
        url)
            download "$dest/$path" "$@" ;;
        zip)
            member=$1
            shift
            if ! command -v unzip >/dev/null 2>&1; then
                echo "fetch-data: unzip was not found; install it (apt-get install unzip)" >&2
                return 1
            fi
            zip_file="$work_dir/$(basename "$1")"
            if [ ! -f "$zip_file" ]; then
                download "$zip_file" "$@" || return 1
            fi
            if ! unzip -p "$zip_file" "$member" >"$dest/$path.part" || [ ! -s "$dest/$path.part" ]; then
                echo "fetch-data: $member not found in $(basename "$zip_file")" >&2
                rm -f "$dest/$path.part"
                return 1
            fi
            mv -f "$dest/$path.part" "$dest/$path" ;;
    esac
}

# Copies manifest path $1 from the mirror. Returns 1 when the mirror lacks it.
copy_one() {
    local path=$1
    [ -f "$from/$path" ] || return 1
    mkdir -p "$(dirname "$dest/$path")" || return 1
    cp -f "$from/$path" "$dest/$path.part" && mv -f "$dest/$path.part" "$dest/$path"
}

# ---------------------------------------------------------------------------
# Verification

n_ok=0
n_differs=0
n_mismatch=0
n_missing=0

# Verifies entry $1 of the manifest, prints its status line and updates the
# counters. Sets $last_status to OK, DIFFERS, MISMATCH or MISSING.
verify_one() {
    local i=$1 path file records bytes sha kind
    path=${m_path[$i]}
    file="$dest/$path"
    kind=${m_kind[$i]}

    if [ ! -f "$file" ]; then
        last_status=MISSING
        n_missing=$((n_missing + 1))
        printf 'MISSING   %s\n' "$path"
        return
    fi

    records=$(count_records "$file")
    bytes=$(wc -c <"$file" | tr -d ' ')
    sha=$(sha256_of "$file")

    local problems=""
    if [ "$records" != "${m_records[$i]}" ]; then
        problems="$problems; $records records, expected ${m_records[$i]}"
    fi
    local bytes_bad=0 sha_bad=0
    if [ "${m_bytes[$i]}" != "-" ] && [ "$bytes" != "${m_bytes[$i]}" ]; then
        bytes_bad=1
    fi
    if [ "${m_sha[$i]}" != "-" ] && [ "$sha" != "${m_sha[$i]}" ]; then
        sha_bad=1
    fi

    local checked="size and sha256"
    if [ "${m_sha[$i]}" = "-" ]; then
        checked="record count only; no published sha256"
    elif [ "${m_bytes[$i]}" = "-" ]; then
        checked="sha256; no published size"
    fi

    if [ -z "$problems" ] && [ $bytes_bad -eq 0 ] && [ $sha_bad -eq 0 ]; then
        last_status=OK
        n_ok=$((n_ok + 1))
        printf 'OK        %s (%s records, %s)\n' "$path" "$records" "$checked"
        return
    fi

    [ $bytes_bad -eq 1 ] && problems="$problems; $bytes bytes, expected ${m_bytes[$i]}"
    [ $sha_bad -eq 1 ] && problems="$problems; sha256 $sha, expected ${m_sha[$i]}"
    problems=${problems#; }

    # A rebuilt or third-party manifest entry may differ from the official
    # bytes while holding the same documents.
    if [ $records = "${m_records[$i]}" ] && { [ "$kind" = copy ] || [ "$kind" = derived ]; }; then
        last_status=DIFFERS
        n_differs=$((n_differs + 1))
        printf 'DIFFERS   %s (%s; the manifest hash is of a %s file, so the content may still be right)\n' \
            "$path" "$problems" "$kind"
        return
    fi

    last_status=MISMATCH
    n_mismatch=$((n_mismatch + 1))
    printf 'MISMATCH  %s (%s)\n' "$path" "$problems"
}

# ---------------------------------------------------------------------------
# Main

read_manifest

if ! mkdir -p "$dest"; then
    echo "fetch-data: cannot create the data folder '$dest'" >&2
    exit 1
fi

# When --from names the destination itself, there is nothing to copy, so
# the files are only verified.
if [ -n "$from" ] && [ "$(cd "$from" && pwd -P)" = "$(cd "$dest" && pwd -P)" ]; then
    from=""
    check_only=1
fi

work_dir=""
if [ -z "$from" ] && [ "$check_only" -eq 0 ]; then
    work_dir=$(mktemp -d "${TMPDIR:-/tmp}/cheval-fetch.XXXXXX") || exit 1
    trap 'rm -rf "$work_dir"' EXIT
fi

for i in "${!m_path[@]}"; do
    path=${m_path[$i]}
    if [ -n "$from" ]; then
        copy_one "$path"
    elif [ "$check_only" -eq 0 ]; then
        # Files that already verify are not downloaded again. A failed
        # download leaves no empty folder behind.
        if [ "$force" -eq 0 ] && [ -f "$dest/$path" ]; then
            verify_one "$i" >/dev/null
            case "$last_status" in
                OK|DIFFERS) ;;
                *) fetch_one "$path" || rmdir "$(dirname "$dest/$path")" 2>/dev/null ;;
            esac
        else
            fetch_one "$path" || rmdir "$(dirname "$dest/$path")" 2>/dev/null
        fi
    fi
done

# Count again from zero so that the pre-check above does not count twice.
n_ok=0
n_differs=0
n_mismatch=0
n_missing=0
hellaswag_jsonl=""
hellaswag_text=""
arithmark=""
for i in "${!m_path[@]}"; do
    verify_one "$i"
    case "${m_path[$i]}" in
        hellaswag/hellaswag_val.jsonl) hellaswag_jsonl=$last_status ;;
        hellaswag/hellaswag_val_full.txt) hellaswag_text=$last_status ;;
        arithmark/arithmark_2.0.jsonl) arithmark=$last_status ;;
    esac
done

echo "fetch-data: $n_ok OK, $n_differs DIFFERS, $n_mismatch MISMATCH, $n_missing MISSING in $dest"

if [ $n_mismatch -gt 0 ]; then
    echo "fetch-data: some files do not match the manifest; delete them and fetch again" >&2
    exit 1
fi
if [ $strict -eq 1 ] && [ $((n_missing + n_differs)) -gt 0 ]; then
    echo "fetch-data: --strict: some files are missing or differ from the manifest" >&2
    exit 1
fi
# HellaSwag runs from either of its two files, so one of them missing
# stops no task.
n_blocking=$n_missing
if [ "$hellaswag_jsonl" = MISSING ] && { [ "$hellaswag_text" = OK ] || [ "$hellaswag_text" = DIFFERS ]; }; then
    echo "fetch-data: hellaswag/hellaswag_val.jsonl is missing, but hellaswag/hellaswag_val_full.txt verifies, so HellaSwag can still run (from the text file)" >&2
    n_blocking=$((n_blocking - 1))
elif [ "$hellaswag_text" = MISSING ] && { [ "$hellaswag_jsonl" = OK ] || [ "$hellaswag_jsonl" = DIFFERS ]; }; then
    n_blocking=$((n_blocking - 1))
fi
if [ "$arithmark" = MISSING ]; then
    echo "fetch-data: arithmark/arithmark_2.0.jsonl is missing, so '--tasks card' needs --task-file arithmark=PATH (a file in the ArithMark-2.0 schema) or a task list without arithmark" >&2
fi
if [ $n_blocking -gt 0 ]; then
    echo "fetch-data: $n_blocking file(s) marked MISSING above are absent; the tasks that read them cannot run from this folder" >&2
fi
exit 0
