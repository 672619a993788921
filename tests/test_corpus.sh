#!/usr/bin/env bash
# test_corpus.sh — rdb_extract (scripts/rdb_extract.c) on a synthetic R lazy-load
# database: correct extraction with and without the .rdx, and a clean error (exit 1,
# never a crash or sanitizer report) on truncated and corrupted inputs.
# Needs python3 (to write the synthetic .rdb); skips otherwise. Network not needed.
#   bash tests/test_corpus.sh          (uses $GRIFFIN_BUILD/tools/rdb_extract, default build/)
set -u
TOOL=${GRIFFIN_BUILD:-build}/tools/rdb_extract
. tests/lib.sh rdb
if [ ! -x "$TOOL" ]; then echo "FAIL: $TOOL not built"; fail=1; finish; fi
if ! command -v python3 >/dev/null; then
    # the fixture is written with python3 (scripts/deps.sh installs it): a loud skip, never a pass
    skipped "python3 not found, rdb_extract not tested"; finish
fi

W=$D
# Sanitizer findings get their own exit code so they cannot pass as "clean error".
export ASAN_OPTIONS=exitcode=86:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:exitcode=86

python3 - "$W" <<'EOF'
import gzip, struct, sys, zlib, random
w = sys.argv[1]
i32 = lambda v: struct.pack('>i', v)
def chars(s, flags=0x00040009):
    if s is None: return i32(flags) + i32(-1)
    b = s.encode(); return i32(flags) + i32(len(b)) + b
hdr = b'X\n' + i32(3) + i32(0x040201) + i32(0x030500) + i32(5) + b'UTF-8'
def strsxp(items, names_attr=None):
    flags = 16 | (0x200 if names_attr else 0)
    out = i32(flags) + i32(len(items)) + b''.join(chars(s) for s in items)
    if names_attr:  # pairlist: tag = symbol "names", value = STRSXP
        out += i32(0x402) + i32(1) + chars('names') + i32(16) + i32(1) + chars(names_attr) + i32(254)
    return out
objs = [('alpha', strsxp(['line one', '', None, 'line four'])),
        ('beta', strsxp(['single\r\nstring with CRLF'], names_attr='beta')),
        ('gamma', i32(13) + i32(3) + i32(1) + i32(2) + i32(3))]  # integer vector: skipped
rdb, index = b'', []
for name, body in objs:
    ser = hdr + body
    entry = struct.pack('>I', len(ser)) + zlib.compress(ser)
    index.append((name, len(rdb), len(entry)))
    rdb += entry
# .rdx: list(variables = list(name = c(off, len)), references = list(), compressed = TRUE)
v = i32(0x213) + i32(len(index))
for _, off, ln in index: v += i32(13) + i32(2) + i32(off) + i32(ln)
v += i32(0x402) + i32(1) + chars('names') + i32(16) + i32(len(index)) + b''.join(chars(n) for n, _, _ in index) + i32(254)
refs = i32(0x13) + i32(0)
comp = i32(10) + i32(1) + i32(1)
top = i32(0x213) + i32(3) + v + refs + comp
top += i32(0x402) + i32(0x1ff) + i32(16) + i32(3) + chars('variables') + chars('references') + chars('compressed') + i32(254)
open(f'{w}/t.rdb', 'wb').write(rdb)
open(f'{w}/t.rdx', 'wb').write(gzip.compress(hdr + top))
# corrupted payloads: random byte changes inside the serialization, re-compressed
rnd = random.Random(1)
ser = hdr + objs[0][1]
for k in range(150):
    b = bytearray(ser)
    for _ in range(rnd.randint(1, 4)):
        b[rnd.randrange(len(b))] = rnd.choice([0, 0xff, 0x7f, rnd.randrange(256)])
    open(f'{w}/bad{k}.rdb', 'wb').write(struct.pack('>I', len(b)) + zlib.compress(bytes(b)))
EOF
check "python wrote the fixture" "[ -s '$W/t.rdb' ] && [ -s '$W/t.rdx' ]"

mkdir -p "$W/o1" "$W/o2"
"$TOOL" "$W/t.rdb" "$W/t.rdx" "$W/o1" >/dev/null 2>"$W/err"; rc=$?
check "extract with .rdx exits 0 (rc=$rc)" "[ $rc = 0 ]"
check "alpha.txt: elements joined by newlines, NA as empty line" "[ \"\$(cat '$W/o1/alpha.txt' | od -c | head -2 | tr -s ' ')\" = \"\$(printf 'line one\n\n\nline four\n' | od -c | head -2 | tr -s ' ')\" ]"
check "beta.txt keeps the string's bytes" "printf 'single\r\nstring with CRLF\n' | cmp -s - '$W/o1/beta.txt'"
check "integer vector skipped with a note" "[ ! -e '$W/o1/gamma.txt' ] && grep -q 'not a character vector' '$W/err'"
"$TOOL" "$W/t.rdb" "$W/o2" >/dev/null 2>&1; rc=$?
check "extract without .rdx exits 0" "[ $rc = 0 ]"
check "without .rdx: obj1 == alpha, obj2 == beta" "cmp -s '$W/o1/alpha.txt' '$W/o2/obj1.txt' && cmp -s '$W/o1/beta.txt' '$W/o2/obj2.txt'"
"$TOOL" >/dev/null 2>&1; check "no arguments: usage, exit 2" "[ $? = 2 ]"
"$TOOL" "$W/missing.rdb" "$W/o2" >/dev/null 2>&1; check "missing file: exit 1" "[ $? = 1 ]"

# Truncations of the .rdb and .rdx at many points: exit 1 (or 0 when nothing needed was cut).
n=$(stat -c %s "$W/t.rdb"); bad=0
for cut in $(seq 0 7 "$((n - 1))"); do
    head -c "$cut" "$W/t.rdb" >"$W/cut.rdb"
    "$TOOL" "$W/cut.rdb" "$W/t.rdx" "$W/o2" >/dev/null 2>&1; rc=$?
    [ $rc = 1 ] || { bad=$((bad + 1)); echo "  rdb cut at $cut: rc=$rc"; }
    "$TOOL" "$W/cut.rdb" "$W/o2" >/dev/null 2>&1; rc=$?
    [ $rc = 1 ] || [ $rc = 0 ] || { bad=$((bad + 1)); echo "  rdb (no rdx) cut at $cut: rc=$rc"; }
done
check "truncated .rdb: clean errors" "[ $bad = 0 ]"
n=$(stat -c %s "$W/t.rdx"); bad=0
for cut in $(seq 0 3 "$((n - 1))"); do
    head -c "$cut" "$W/t.rdx" >"$W/cut.rdx"
    "$TOOL" "$W/t.rdb" "$W/cut.rdx" "$W/o2" >/dev/null 2>&1; rc=$?
    [ $rc = 1 ] || { bad=$((bad + 1)); echo "  rdx cut at $cut: rc=$rc"; }
done
check "truncated .rdx: clean errors" "[ $bad = 0 ]"
bad=0
for f in "$W"/bad*.rdb; do
    "$TOOL" "$f" "$W/o2" >/dev/null 2>&1; rc=$?
    [ $rc = 0 ] || [ $rc = 1 ] || { bad=$((bad + 1)); echo "  $(basename "$f"): rc=$rc"; }
done
check "corrupted serializations: exit 0 or 1, never a crash" "[ $bad = 0 ]"
finish
