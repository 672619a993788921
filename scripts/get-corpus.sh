#!/usr/bin/env bash
# get-corpus.sh — fetch the byte-level text corpus from Debian packages (experiments.md §4).
#
#   scripts/get-corpus.sh [--out DIR] [--force]      (default DIR: data/corpus, git-ignored)
#
# What it does: `apt-get download` (no dependencies, no root needed) of
#   held-out:  r-cran-janeaustenr (six Austen novels), r-cran-tokenizers (Moby Dick)
#   training:  python3.11-doc, perl-doc, vim-runtime, jargon-text
# into a temporary folder, `dpkg-deb -x` of each, then
#   DIR/heldout/NAME.txt   one whole novel per file: emma, mansfieldpark, northangerabbey,
#                          persuasion, prideprejudice, sensesensibility (lines joined by
#                          '\n', pulled from the R .rdb by build/tools/rdb_extract) and
#                          mobydick (Project Gutenberg header, end line and licence stripped,
#                          CRLF -> LF, BOM removed).
#   DIR/train/PKG/FILE     one file per source document, unchanged bytes:
#                          python3.11-doc  html/_sources/**/*.rst.txt  (path '/' -> '__')
#                          perl-doc        pod/*.pod
#                          vim-runtime     doc/*.txt
#                          jargon-text     jargon.txt (gunzipped)
#   DIR/MANIFEST           one line per file: sha256 bytes split package path (path
#                          relative to DIR, no spaces); '#' lines are comments.
# Split rule: held-out = whole novels, never trained on; train = everything else.
#
# Idempotent: when DIR/MANIFEST exists and every file in it matches its sha256 the
# script says so and exits 0 (--force rebuilds). The new corpus is assembled beside DIR
# and swapped in only when complete. Exit 1 with a message naming the package when a
# package cannot be downloaded or lacks the expected files; 2 on usage errors.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=data/corpus
FORCE=0
while [ $# -gt 0 ]; do
    case "$1" in
        --out) [ $# -ge 2 ] || { echo "get-corpus: --out needs a directory" >&2; exit 2; }; OUT=$2; shift 2 ;;
        --out=*) OUT=${1#--out=}; shift ;;
        --force) FORCE=1; shift ;;
        -h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "get-corpus: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case "$OUT" in /*) ;; *) OUT="$ROOT/$OUT" ;; esac

HELDOUT_PKGS="r-cran-janeaustenr r-cran-tokenizers"
TRAIN_PKGS="python3.11-doc perl-doc vim-runtime jargon-text"
NOVELS="emma mansfieldpark northangerabbey persuasion prideprejudice sensesensibility"

die() { echo "get-corpus: $*" >&2; exit 1; }
for tool in apt-get dpkg-deb sha256sum gzip; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (this script needs a Debian-like system)"
done

# ---- idempotence: verify an existing manifest --------------------------------------
verify_manifest() {  # $1 = corpus dir; 0 when every listed file matches
    local dir=$1
    [ -s "$dir/MANIFEST" ] || return 1
    grep -qv '^#' "$dir/MANIFEST" || return 1
    (cd "$dir" && grep -v '^#' MANIFEST | awk '{ print $1 "  " $5 }' | sha256sum --quiet --status -c -) 2>/dev/null
}
if [ "$FORCE" = 0 ] && verify_manifest "$OUT"; then
    n=$(grep -vc '^#' "$OUT/MANIFEST")
    echo "get-corpus: $OUT is up to date ($n files match MANIFEST; --force to rebuild)"
    exit 0
fi

T0=$(date +%s)
# ---- the extractor ------------------------------------------------------------------
EXTRACT="$ROOT/build/tools/rdb_extract"
if [ ! -x "$EXTRACT" ] || [ "$ROOT/scripts/rdb_extract.c" -nt "$EXTRACT" ]; then
    mkdir -p "$ROOT/build/tools"
    (cd "$ROOT" && make -s build/tools/rdb_extract >/dev/null 2>&1) ||
        ${CC:-gcc} -std=c11 -O2 -Wall "$ROOT/scripts/rdb_extract.c" -o "$EXTRACT" -lz ||
        die "cannot build build/tools/rdb_extract (needs a C compiler and zlib: apt-get install zlib1g-dev)"
fi

# Work beside DIR (same filesystem, and safe from /tmp cleaners); removed on exit.
mkdir -p "$(dirname "$OUT")"
TMP=$(mktemp -d "$(dirname "$OUT")/.get-corpus.XXXXXX")
STAGE="$OUT.partial.$$"
cleanup() { rm -rf "$TMP" "$STAGE"; }
trap cleanup EXIT

# ---- download -----------------------------------------------------------------------
download() {  # $1 = package; leaves exactly one $TMP/deb/$1_*.deb
    local pkg=$1 log="$TMP/apt-$1.log"
    mkdir -p "$TMP/deb"
    if (cd "$TMP/deb" && apt-get download "$pkg") >"$log" 2>&1; then return 0; fi
    # A missing or stale package list is the usual cause: refresh once, then retry.
    if [ ! -e "$TMP/updated" ]; then
        touch "$TMP/updated"
        echo "get-corpus: apt-get download $pkg failed; running apt-get update and retrying" >&2
        apt-get update >"$TMP/apt-update.log" 2>&1 || echo "get-corpus: apt-get update failed (not root? no network?)" >&2
        if (cd "$TMP/deb" && apt-get download "$pkg") >"$log" 2>&1; then return 0; fi
    fi
    sed 's/^/    /' "$log" >&2
    die "cannot fetch Debian package '$pkg' (apt-get download failed; see above)"
}
for pkg in $HELDOUT_PKGS $TRAIN_PKGS; do
    download "$pkg"
    deb=$(ls "$TMP/deb/${pkg}_"*.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || die "package '$pkg': apt-get download produced no .deb"
    mkdir -p "$TMP/x/$pkg"
    dpkg-deb -x "$deb" "$TMP/x/$pkg" || die "package '$pkg': dpkg-deb -x failed on $(basename "$deb")"
    echo "$pkg $(basename "$deb")" >>"$TMP/versions"
done

mkdir -p "$STAGE/heldout" "$STAGE/train"
first_dir() { for d in "$@"; do [ -d "$d" ] && { echo "$d"; return 0; }; done; return 1; }

# ---- held-out: the novels -------------------------------------------------------------
R=$TMP/x/r-cran-janeaustenr/usr/lib/R/site-library/janeaustenr/data
[ -f "$R/Rdata.rdb" ] && [ -f "$R/Rdata.rdx" ] || die "package 'r-cran-janeaustenr': no janeaustenr/data/Rdata.rdb/.rdx"
mkdir -p "$TMP/austen"
"$EXTRACT" "$R/Rdata.rdb" "$R/Rdata.rdx" "$TMP/austen" >/dev/null || die "package 'r-cran-janeaustenr': rdb_extract failed"
for n in $NOVELS; do
    [ -s "$TMP/austen/$n.txt" ] || die "package 'r-cran-janeaustenr': novel '$n' missing from Rdata.rdb"
    mv "$TMP/austen/$n.txt" "$STAGE/heldout/$n.txt"
done

R=$TMP/x/r-cran-tokenizers/usr/lib/R/site-library/tokenizers/data
[ -f "$R/Rdata.rdb" ] && [ -f "$R/Rdata.rdx" ] || die "package 'r-cran-tokenizers': no tokenizers/data/Rdata.rdb/.rdx"
mkdir -p "$TMP/moby"
"$EXTRACT" "$R/Rdata.rdb" "$R/Rdata.rdx" "$TMP/moby" >/dev/null || die "package 'r-cran-tokenizers': rdb_extract failed"
[ -s "$TMP/moby/mobydick.txt" ] || die "package 'r-cran-tokenizers': no 'mobydick' object in Rdata.rdb"
# Keep the lines strictly between "*** START OF ..." and "*** END OF ..." (Gutenberg markers).
tr -d '\r' <"$TMP/moby/mobydick.txt" | sed '1s/^\xEF\xBB\xBF//' |
    awk '/^\*\*\* ?START OF (THIS|THE) PROJECT GUTENBERG/ { on = 1; next }
         /^\*\*\* ?END OF (THIS|THE) PROJECT GUTENBERG/ || /^End of (the )?Project Gutenberg/ { exit }
         on' >"$STAGE/heldout/mobydick.txt"
moby_bytes=$(stat -c %s "$STAGE/heldout/mobydick.txt")
[ "$moby_bytes" -gt 1000000 ] || die "package 'r-cran-tokenizers': Gutenberg markers not found in Moby Dick (got $moby_bytes bytes)"

# ---- training documents -----------------------------------------------------------------
copy_docs() {  # $1 = package, $2 = source dir, $3 = find -name pattern
    local pkg=$1 src=$2 pat=$3 n=0 rel dst
    mkdir -p "$STAGE/train/$pkg"
    while IFS= read -r -d '' f; do
        rel=${f#"$src"/}
        dst=${rel//\//__}
        dst=${dst//[^A-Za-z0-9._+-]/_}
        cp "$f" "$STAGE/train/$pkg/$dst"
        n=$((n + 1))
    done < <(find "$src" -type f -name "$pat" -size +0 -print0 | sort -z)
    [ "$n" -gt 0 ] || die "package '$pkg': no $pat files under ${src#"$TMP"/x/}"
}
X=$TMP/x
src=$(first_dir "$X"/python3.11-doc/usr/share/doc/python3*/html/_sources) || die "package 'python3.11-doc': no html/_sources"
copy_docs python3.11-doc "$src" '*.rst.txt'
src=$(first_dir "$X"/perl-doc/usr/share/perl/5*/pod) || die "package 'perl-doc': no usr/share/perl/5*/pod"
copy_docs perl-doc "$src" '*.pod'
src=$(first_dir "$X"/vim-runtime/usr/share/vim/vim*/doc) || die "package 'vim-runtime': no usr/share/vim/vim*/doc"
copy_docs vim-runtime "$src" '*.txt'
j=$X/jargon-text/usr/share/doc/jargon-text
mkdir -p "$STAGE/train/jargon-text"
if [ -f "$j/jargon.txt.gz" ]; then gzip -dc "$j/jargon.txt.gz" >"$STAGE/train/jargon-text/jargon.txt"
elif [ -f "$j/jargon.txt" ]; then cp "$j/jargon.txt" "$STAGE/train/jargon-text/jargon.txt"
else die "package 'jargon-text': no usr/share/doc/jargon-text/jargon.txt(.gz)"; fi

# ---- manifest -----------------------------------------------------------------------------
{
    echo "# griffin text corpus (scripts/get-corpus.sh), built $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    sed 's/^/# package /' "$TMP/versions"
    echo "# columns: sha256 bytes split package path"
    (cd "$STAGE" && find heldout train -type f -print0 | sort -z | xargs -0 sha256sum) |
    while read -r sum path; do
        bytes=$(stat -c %s "$STAGE/$path")
        case "$path" in
            heldout/mobydick.txt) split=heldout; pkg=r-cran-tokenizers ;;
            heldout/*) split=heldout; pkg=r-cran-janeaustenr ;;
            train/*) split=train; pkg=${path#train/}; pkg=${pkg%%/*} ;;
        esac
        echo "$sum $bytes $split $pkg $path"
    done
} >"$STAGE/MANIFEST"

# ---- swap in --------------------------------------------------------------------------------
mkdir -p "$OUT"
rm -rf "$OUT/heldout" "$OUT/train" "$OUT/MANIFEST"
mv "$STAGE/heldout" "$STAGE/train" "$OUT/"
mv "$STAGE/MANIFEST" "$OUT/MANIFEST"
verify_manifest "$OUT" || die "verification of $OUT/MANIFEST failed after writing"

summ() { awk -v s="$1" '!/^#/ && $3 == s { n++; b += $2 } END { printf "%d files, %.1f MB", n, b / 1e6 }' "$OUT/MANIFEST"; }
echo "get-corpus: wrote $OUT in $(( $(date +%s) - T0 )) s: train $(summ train); heldout $(summ heldout)"
