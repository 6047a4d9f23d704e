#!/usr/bin/env python3
"""tap_totals.py TESTLOG_JSON: print 'PASSED FAILED SKIPPED' counted over the
TAP test points of every test in a meson testlog.json (one JSON per line).
A test whose TAP output has no test points counts as one point, by its
meson result."""
import json
import re
import sys

p = f = s = 0
with open(sys.argv[1]) as fh:
    for line in fh:
        t = json.loads(line)
        out = t.get('stdout') or ''
        points = 0
        for l in out.splitlines():
            m = re.match(r'^(not ok|ok)\b(.*)$', l)
            if not m:
                continue
            points += 1
            if re.search(r'#\s*SKIP', m.group(2), re.I):
                s += 1
            elif m.group(1) == 'ok':
                p += 1
            else:
                f += 1
        if points == 0:
            r = t.get('result', '')
            if r == 'SKIP' or re.search(r'^1\.\.0\s*#\s*SKIP', out, re.M | re.I):
                s += 1
            elif r == 'OK':
                p += 1
            else:
                f += 1
        elif t.get('result') not in ('OK', 'SKIP', 'EXPECTEDFAIL'):
            # the points passed but the program failed (crash, exit code)
            f += 1
print(p, f, s)
