#!/bin/sh
# matrix.sh - the fault-injection matrix (`make check-faults`; also one of
# `make check`'s TESTS).  Each row script (tests/faults/<row>.sh) injects
# its faults into one peer of gantry, or into gantry's own process and
# state, and checks every cell with cell_check (tests/faults/lib.sh): exit
# code class, one clear error line, a complete journal record, the lock,
# the rollback policy, no secret anywhere.  The table and the totals come
# last; any failing cell makes the exit status 1.
#
#   FAULT_ROWS="process smoke"   runs only these row scripts
#   FAULT_SKIP_NA=1              a cell that cannot run here (n-a: a tool
#                                is missing) makes the run a SKIP (exit
#                                77) unless a cell failed; make check runs
#                                each row so (tests/faults/t-ROW.sh)
#   FAULT_KEEP=1                 keeps the cells' directories (path printed)
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/faults/lib.sh"

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
mkdir -p "$TMP/tmp"
TMPDIR="$TMP/tmp"
export TMPDIR
if [ "${FAULT_KEEP:-0}" = 1 ]; then
	trap 'for p in $BG_PIDS; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; echo "cells kept in $TMP"' EXIT
fi

start=$(date +%s)
for row in ${FAULT_ROWS:-process git builder smoke slack terraform aws}; do
	t0=$(date +%s)
	. "$top_srcdir/tests/faults/$row.sh"
	echo "# $row: $(( $(date +%s) - t0 )) s"
done
secs=$(( $(date +%s) - start ))

python3 - "$RESULTS" "$secs" "${FAULT_SKIP_NA:-0}" <<'PY'
import sys
rows, cols, cells, notes = [], [], {}, []
for line in open(sys.argv[1]):
    row, col, verdict, *why = line.rstrip("\n").split(" ", 3)
    if row not in rows:
        rows.append(row)
    if col not in cols:
        cols.append(col)
    cells[row, col] = verdict
    if verdict != "pass":
        notes.append("%s/%s %s: %s" % (row, col, verdict, why[0] if why else ""))
# One table per group of rows that share their faults.
groups = []
for row in rows:
    mine = [c for c in cols if (row, c) in cells]
    for g in groups:
        if set(mine) & set(g[1]):
            g[0].append(row)
            g[1].extend(c for c in mine if c not in g[1])
            break
    else:
        groups.append(([row], mine))
print("\nFault-injection matrix (pass / FAIL / n-a; - = not a fault of that row)")
for grows, gcols in groups:
    w0 = max(len(r) for r in grows)
    widths = [max(len(c), 4) for c in gcols]
    print()
    print(" ".join([" " * w0] + [c.ljust(w) for c, w in zip(gcols, widths)]))
    for r in grows:
        out = [r.ljust(w0)]
        for c, w in zip(gcols, widths):
            v = cells.get((r, c), "-")
            out.append((v.upper() if v == "fail" else v).ljust(w))
        print(" ".join(out).rstrip())
tot = {v: sum(1 for x in cells.values() if x == v) for v in ("pass", "fail", "n-a")}
print()
for n in notes:
    print("  " + n)
print("\nfault matrix: %d cells: %d pass, %d fail, %d n-a (%s s)" %
      (len(cells), tot["pass"], tot["fail"], tot["n-a"], sys.argv[2]))
if tot["fail"]:
    sys.exit(1)
if tot["n-a"] and sys.argv[3] == "1":
    print("SKIP: %d cell(s) cannot run here: %s" %
          (tot["n-a"], "; ".join(notes)))
    sys.exit(77)
sys.exit(0)
PY
