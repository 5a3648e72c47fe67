#!/usr/bin/env python3
"""Sums meson's testlog.json files into the one closing line
"N passed, N failed[, N skipped]"; exits 1 if anything failed."""
import json
import sys

passed = failed = skipped = 0
failures = []
for path in sys.argv[1:]:
    build = path.split("/")[0]
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError as e:
        print(f"summary: {path}: {e}")
        failed += 1
        continue
    for line in lines:
        if not line.strip():
            continue
        t = json.loads(line)
        r = t.get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
            failures.append(f"{build}: {t.get('name')} ({r})")
for f in failures:
    print("FAILED", f)
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed or passed == 0 else 0)
