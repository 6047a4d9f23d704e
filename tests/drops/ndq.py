#!/usr/bin/env python3
"""ndq.py: query `netdx drops --json` output (NDJSON) in the scenario tests.

    ndq.py FILE validate                 every line a JSON object with "type",
                                         the first a meta line, one summary last
    ndq.py FILE sum FIELD [COND...]      sum of FIELD over the matching lines
    ndq.py FILE count [COND...]          number of matching lines
    ndq.py FILE field FIELD [COND...]    FIELD of the first matching line
    ndq.py FILE values FIELD [COND...]   distinct values of FIELD, one per line

FIELD and the keys of COND are dotted paths (flow.dst). A COND is KEY=VALUE
(string comparison; null for a missing or null value), KEY!=VALUE, or
KEY~TEXT (TEXT is a substring). Exit 1 with a message on a bad file.
"""
import json
import sys


def load(path):
    rows = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as e:
                sys.exit(f"ndq: {path}:{n}: not JSON: {e}")
            if not isinstance(obj, dict) or "type" not in obj:
                sys.exit(f"ndq: {path}:{n}: no \"type\"")
            rows.append(obj)
    return rows


def get(obj, path):
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def text(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def match(obj, conds):
    for c in conds:
        if "!=" in c:
            k, v = c.split("!=", 1)
            if text(get(obj, k)) == v:
                return False
        elif "=" in c:
            k, v = c.split("=", 1)
            if text(get(obj, k)) != v:
                return False
        elif "~" in c:
            k, v = c.split("~", 1)
            if v not in text(get(obj, k)):
                return False
        else:
            sys.exit(f"ndq: bad condition '{c}'")
    return True


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    rows = load(argv[1])
    cmd = argv[2]
    if cmd == "validate":
        if not rows or rows[0]["type"] != "meta":
            sys.exit("ndq: the first line is not a meta line")
        if [r["type"] for r in rows].count("summary") != 1 or rows[-1]["type"] != "summary":
            sys.exit("ndq: not exactly one summary, last")
        print("ok")
        return
    if cmd == "count":
        print(sum(1 for r in rows if match(r, argv[3:])))
        return
    if len(argv) < 4:
        sys.exit(__doc__)
    field, conds = argv[3], argv[4:]
    hits = [r for r in rows if match(r, conds)]
    if cmd == "sum":
        print(sum(get(r, field) or 0 for r in hits))
    elif cmd == "field":
        print(text(get(hits[0], field)) if hits else "none")
    elif cmd == "values":
        seen = []
        for r in hits:
            v = text(get(r, field))
            if v not in seen:
                seen.append(v)
        print("\n".join(seen))
    else:
        sys.exit(f"ndq: unknown command '{cmd}'")


if __name__ == "__main__":
    main(sys.argv)
