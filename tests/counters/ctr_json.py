#!/usr/bin/env python3
"""ctr_json.py: read `netdx counters ... --json` output (NDJSON) for the
scenario tests. Prints one answer; a missing counter is 0 for sums and
"none" for values.

  ctr_json.py delta FILE NETNS SOURCE NAME [DEVICE]   sum of "delta" of the matching delta lines
  ctr_json.py value FILE NETNS SOURCE NAME [DEVICE]   "value" of the matching counter line
  ctr_json.py corr FILE DROP_NETNS DROP_SOURCE DROP_NAME SYM_NETNS SYM_NAME
                                                      "together intervals score" of the first such
                                                      correlation line, then its text; or "none"
  ctr_json.py check FILE                              every line is JSON with a "type", the first
                                                      is the meta line: prints "ok" or the fault
"""
import json
import sys


def lines(path):
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                yield json.loads(line)


def match(o, ns, src, name, dev):
    return (o.get('netns') == ns and o.get('source') == src and o.get('name') == name
            and (dev is None or o.get('device') == dev))


def main(argv):
    cmd, path = argv[1], argv[2]
    if cmd == 'delta':
        ns, src, name = argv[3:6]
        dev = argv[6] if len(argv) > 6 else None
        print(sum(o['delta'] for o in lines(path) if o['type'] == 'delta' and match(o, ns, src, name, dev)))
    elif cmd == 'value':
        ns, src, name = argv[3:6]
        dev = argv[6] if len(argv) > 6 else None
        vals = [o['value'] for o in lines(path) if o['type'] == 'counter' and match(o, ns, src, name, dev)]
        print(vals[0] if vals else 'none')
    elif cmd == 'corr':
        dns, dsrc, dname, sns, sname = argv[3:8]
        for o in lines(path):
            if o['type'] != 'correlation':
                continue
            d, s = o['drop'], o['symptom']
            if (d.get('netns'), d.get('source'), d.get('name')) == (dns, dsrc, dname) and \
                    (s.get('netns'), s.get('name')) == (sns, sname):
                print(o['together'], o['intervals'], o['score'])
                print(o['text'])
                return
        print('none')
    elif cmd == 'check':
        first = True
        for i, o in enumerate(lines(path)):
            if 'type' not in o:
                print('line %d has no "type"' % (i + 1))
                return
            if first and o['type'] != 'meta':
                print('first line is not the meta line')
                return
            first = False
        print('ok' if not first else 'empty')
    else:
        sys.exit('ctr_json.py: unknown command ' + cmd)


if __name__ == '__main__':
    main(sys.argv)
