#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""dx_json.py FILE EXPR - one value of `netdx doctor --json` output.

EXPR is a path: `summary.worst`, `finding[1].mechanism` (rank 1 = the top),
`finding[1].place.dev`, `finding[1].numbers.drops.drops` (the numbers are
keyed "SOURCE.KEY"), `source[tcp].conns`, `findings_above[info]` (how many
findings are worse than that severity), `finding[mechanism=rto-stalls].agree`, `finding[place.dev=lo].severity` (the
first finding whose field, dotted for nested ones, has that value).
A missing value prints "none". `--text` prints every finding in short.
"""
import json
import sys

SEV = {"info": 0, "warning": 1, "critical": 2}


def load(path):
    out = {"meta": None, "source": {}, "finding": [], "note": [], "summary": None}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            o = json.loads(line)
            t = o.get("type")
            if t == "source":
                out["source"][o["name"]] = o
            elif t in ("finding", "note"):
                out[t].append(o)
            else:
                out[t] = o
    return out


def dig(o, dotted):
    for part in dotted.split("."):
        o = o.get(part) if isinstance(o, dict) else None
    return o


def walk(d, path):
    if path.startswith(("finding[", "source[", "findings_above[")) and "]" in path:
        end = path.index("]") + 1
        head, rest = path[:end], path[end + 1:]
    else:
        head, _, rest = path.partition(".")
    if head.startswith("finding[") and head.endswith("]"):
        sel = head[8:-1]
        if "=" in sel:
            k, v = sel.split("=", 1)
            cur = next((f for f in d["finding"] if str(dig(f, k)) == v), None)
        else:
            i = int(sel) - 1
            cur = d["finding"][i] if 0 <= i < len(d["finding"]) else None
    elif head.startswith("source[") and head.endswith("]"):
        cur = d["source"].get(head[7:-1])
    elif head.startswith("findings_above[") and head.endswith("]"):
        lim = SEV[head[15:-1]]
        return sum(1 for f in d["finding"] if SEV[f["severity"]] > lim)
    else:
        cur = d.get(head)
    if rest.startswith("numbers.") and cur is not None:
        return cur.get("numbers", {}).get(rest[8:])
    for part in rest.split(".") if rest else []:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def main():
    d = load(sys.argv[1])
    if sys.argv[2] == "--text":
        for f in d["finding"]:
            print(f"{f['rank']}. {f['severity']} {f['mechanism']} at {f['place']['text']}")
            for e in f["evidence"]:
                print(f"   {e['source']}{'' if e['agrees'] else ' (-)'}: {e['text']}")
        for n in d["note"]:
            print(f"note: {n['text']}")
        return
    v = walk(d, sys.argv[2])
    if v is None:
        print("none")
    elif isinstance(v, float) and v.is_integer():
        print(int(v))
    elif isinstance(v, bool):
        print("true" if v else "false")
    else:
        print(v)


if __name__ == "__main__":
    main()
