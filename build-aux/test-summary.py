#!/usr/bin/python3
"""Adds up meson's test logs and prints the closing line: `N passed, N failed, N skipped`.

Exits non-zero when a test failed or a log is missing, so a suite that did not run is not green.
"""
import json
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        with open(path, encoding="utf-8") as log:
            for line in log:
                result = json.loads(line)["result"]
                if result in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif result == "SKIP":
                    skipped += 1
                else:
                    failed += 1
                    print(f"failed: {json.loads(line)['name']} ({result})", file=sys.stderr)
    except FileNotFoundError:
        print(f"missing test log: {path}", file=sys.stderr)
        failed += 1

print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
