#!/usr/bin/env python3
"""make_conn_seeds.py OUTDIR PCAP...: turn captures into seeds for fuzz_conn.

fuzz_conn's input is a run of records [link selector][time step][len LE16][frame].
Each seed takes a window of up to 40 consecutive frames of one capture
(classic pcap, Ethernet), so the tracker sees real handshakes, data and
teardowns to mutate from."""
import hashlib
import os
import struct
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
n = 0
for path in sys.argv[2:]:
    data = open(path, 'rb').read()
    if data[:4] not in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        continue  # little-endian classic pcap only
    if struct.unpack('<I', data[20:24])[0] != 1:
        continue  # Ethernet only (selector 0)
    frames, off = [], 24
    while off + 16 <= len(data):
        sec, sub, incl, orig = struct.unpack('<IIII', data[off:off + 16])
        frames.append((sec * 1000000 + sub, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    for start in range(0, len(frames), 40):
        blob, prev = b'', None
        for ts, fr in frames[start:start + 40]:
            step = 0 if prev is None else min(0xef, max(0, (ts - prev) // 100))
            prev = ts
            fr = fr[:200]
            blob += bytes([0, step]) + struct.pack('<H', len(fr)) + fr
        name = hashlib.sha1(blob).hexdigest()
        open(os.path.join(out, name), 'wb').write(blob)
        n += 1
print('%d seeds written to %s' % (n, out))
