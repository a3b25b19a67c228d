#!/usr/bin/python3
"""Sums meson's testlog.json files and pytest's junit XML files into the one
closing line CI reads: "N passed, N failed, N skipped"."""

import json
import sys
import xml.etree.ElementTree as ET

passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        if path.endswith(".json"):
            with open(path) as f:
                for line in f:
                    if not line.strip():
                        continue
                    result = json.loads(line)["result"]
                    if result in ("OK", "EXPECTEDFAIL"):
                        passed += 1
                    elif result == "SKIP":
                        skipped += 1
                    else:
                        failed += 1
        else:
            root = ET.parse(path).getroot()
            suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
            for s in suites:
                total = int(s.get("tests", 0))
                f = int(s.get("failures", 0)) + int(s.get("errors", 0))
                sk = int(s.get("skipped", 0))
                failed += f
                skipped += sk
                passed += total - f - sk
    except (OSError, ValueError, ET.ParseError) as e:
        print(f"summarize: cannot read {path}: {e}", file=sys.stderr)
        failed += 1

print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
