#!/usr/bin/env python3
"""truth_check.py - the comparisons of the TCP ground-truth scenarios (truth_*.sh):
what `netdx tcp --json` inferred from a capture against what the kernel itself
knew about the same connection. Prints TAP: with --plan-only the plan, else
one line per check, each naming the two numbers it compares ('#' lines with
the details).

usage: truth_check.py DIR CHECK[,CHECK...] [--lport P] [--port P] [--dir c2s|s2c]
                      [--drops-c2s N] [--drops-s2c N] [--mid] [--rtt-tol X]
                      [--rtt-abs US] [--cwnd-tol X] [--timeline-agree X]
                      [--timeline-expect LABEL,...] [--plan-only | --premise]

--premise evaluates only the "scenario:" lines (kernel-side facts: did the
workload do what the scenario needs?), prints them as '#' lines and exits 1
if one failed: truth_lib.sh's truth_run_checked then runs the workload once
more. They never look at netdx's output, so a retry cannot hide its errors.

CHECK may name the direction it looks at (retrans:s2c); default --dir.

DIR holds what the scenario recorded (truth_lib.sh's truth_run):
  bench.json   `netdx bench CLIENT --json`: TCP_INFO of both sides of the flow,
               at the end and per interval (docs/bench.md)
  netdx.json   `netdx tcp --json` of the capture, cap.pcap
  probe.txt    the tcp:tcp_probe records of a tracefs instance (trace_clock
               mono) filtered on the flow's ports; clocks: CLOCK_REALTIME -
               CLOCK_MONOTONIC when it started (maps them to capture time)
  ss.txt       `ss -tin` samples of the client socket ("@ epoch" lines between)

The flow is flow 0 of the bench run; its client side is local port --lport,
the server's port --port (default: the ports bench.json gives the flow). "c2s" is the bench client's data, "s2c" the
server's (should netdx, without a handshake, name the server the client,
its labels are swapped back and the line says so). The kernel's view of a
direction is the TCP_INFO (and tcp_probe records) of that direction's
SENDER: the client for c2s, the server for s2c. A file that is missing or
a field netdx does not give fails the checks that need it (never a skip).

Checks (TAP lines; the truth on the right). "scenario:" lines check that the
workload did what the scenario says, not netdx:
  ends     netdx's client and server == the bench flow's local and remote
           address:port (IPv6 as [addr]:port), exact.
  mss      c2s.mss and s2c.mss (as advertised in the SYNs) against the peer's
           snd_mss (TCP_INFO) + 12 bytes of timestamp option when both SYNs
           carried it (RFC 7323: the option takes 12 bytes of every segment, and
           Linux's snd_mss is the peer's MSS minus the options), exact.
  mss-mid  handshake not captured: netdx gives no advertised MSS (null, as the
           output contract says: only a SYN carries it).
  segmax   (scenario) the largest segment of the direction in the capture ==
           its sender's snd_mss: frames are MTU-sized where netdx reads them.
  wscale   c2s.wscale == the client's rcv_wscale, s2c.wscale == its snd_wscale
           (`ss -tin` wscale:snd,rcv in the client namespace), exact.
  wscale-mid   no handshake: s2c.wscale_inferred is true and s2c.wscale equals
           the client's snd_wscale (the receiver's own shift), exact.
  wscale-mid-lb   no handshake, flights far below the window: s2c.wscale is
           the client's snd_wscale, or flagged wscale_lower_bound and not
           above it, or null; never a wrong value presented as exact.
  retrans  retrans_pkts + syn_retrans of the direction within max(2, 10%) of
           its sender's total_retrans. With --mid (the capture began after
           the connection did, at its first packet), the kernel's values at
           the last interval sample before that are subtracted, here and in
           the verdict (rtt: only tcp_probe records from the capture's start).
  rtt      rtt_us.p50 of the direction within --rtt-tol (default 15%) of the
           kernel's (plus --rtt-abs microseconds where a scenario says why):
           the median of the RTT samples the sender's kernel took, recovered
           from tcp_probe's srtt before and after each ACK (see
           kernel_rtt_samples). With fewer than 20 of them, the median srtt of
           the records with data in flight; without tcp_probe, the median of
           the per-interval TCP_INFO rtt_us (the line says which).
  verdict  the direction's verdict == the kernel's, from the chrono stats of
           its sender's final TCP_INFO over the transfer D (the bench
           duration plus the drain after the stop, final busy_time - busy at
           the stop; at least busy_time, which also holds the greeting's
           round trip before the start): receiver = rwnd_limited/D, sender =
           (sndbuf_limited + D - busy_time)/D, network = (busy_time -
           rwnd_limited - sndbuf_limited)/D; >= 0.6 names it, else "mixed".
           A scenario line: the kernel's dominant fraction is >= 0.7 (clear
           of the threshold, else the comparison could flip on noise).
  stalls   per direction with --drops-DIR N, two lines. Found: netdx lists
           exactly N stalls with cause "rto" (N > 0 packets dropped by the
           rule; a stall of either direction counts, since a lost request
           also loses the ACK it carried and the other side's timer may fire
           first), each >= 0.2 s (the minimum RTO, also in the tail loss
           probe's timer for one packet in flight), each naming a different
           transaction it delayed ("txn": begun no later than the stall and
           lasting at least as long), and no stall of another cause (a false
           slow-responder or zero-window diagnosis). Direction: all of them
           are stalls of the direction that lost the packets.
  txn      txn.count within 2% of the bench's transactions and txn.latency_us
           max within 5% of the bench's latency max (both measure from the
           request's first byte to the response's last: the bench at the
           client, netdx at the capture point one veth hop away).
  cwnd     cwnd_est_bytes.mean against the time-weighted mean of the sender's
           snd_cwnd x snd_mss (tcp_probe) over the time it had data in flight,
           within --cwnd-tol (the scenario states how it chose it); the
           capture's own flight (snd_nxt - snd_una at the capture point, this
           script's reading of the pcap) is printed next to them.
  timeline per bench interval, the kernel's label from the chrono deltas (as
           in verdict; only where the dominant share is >= 0.7) against the
           netdx --timeline label covering most of the same wall-clock span
           (idle counted as sender): agreement in >= --timeline-agree of
           them; a scenario line: each label of --timeline-expect appears in
           at least two clear intervals.
"""
import argparse
import ipaddress
import json
import math
import os
import re
import statistics
import struct
import sys

TS_OPT = 12          # RFC 7323 option, padded, on every segment when negotiated
VERDICT_AT = 0.6     # the output contract's threshold
CLEAR_OF = 0.7       # the scenario must put the kernel's dominant fraction here
RTO_MIN_S = 0.2


# ------------------------------------------------------------------ TAP --
class Tap:
    """TAP lines; with premise=True only the "scenario:" lines, as '#'
    diagnostics, and whether all of them held (self.premise_ok)."""

    def __init__(self, premise=False):
        self.n = 0
        self.premise = premise
        self.premise_ok = True

    def line(self, ok, desc, diag=()):
        if self.premise:
            if desc.startswith('scenario:'):
                self.premise_ok = self.premise_ok and bool(ok)
                print('# premise %s: %s' % ('holds' if ok else 'FAILED', desc[len('scenario: '):]))
            return
        self.n += 1
        print('%s %d - %s' % ('ok' if ok else 'not ok', self.n, desc))
        for d in diag:
            print('#   ' + d)
        sys.stdout.flush()


def diag(s):
    for l in str(s).splitlines():
        print('# ' + l)


def num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def fmt(x):
    if x is None:
        return 'null'
    if isinstance(x, float):
        return '%.4g' % x
    return str(x)


# ---------------------------------------------------------------- input --
def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def load_ndjson(path):
    out = []
    try:
        with open(path) as f:
            for l in f:
                try:
                    out.append(json.loads(l))
                except ValueError:
                    pass
    except OSError:
        pass
    return out


def get(o, path, default=None):
    for k in path.split('.'):
        if isinstance(o, dict) and k in o:
            o = o[k]
        else:
            return default
    return o


def endpoint_port(s):
    """'10.1.2.3:4567' or '[::1]:4567' -> 4567"""
    try:
        return int(str(s).rsplit(':', 1)[1])
    except (IndexError, ValueError):
        return None


PROBE_RE = re.compile(
    r'\s(\d+\.\d+): tcp_probe: family=(\S+) src=(\S+) dest=(\S+) mark=\S+ data_len=(\d+) '
    r'snd_nxt=(0x[0-9a-f]+) snd_una=(0x[0-9a-f]+) snd_cwnd=(\d+) ssthresh=(\d+) snd_wnd=(\d+) '
    r'srtt=(\d+) rcv_wnd=(\d+)')


def load_probe(path, offset):
    """tcp_probe records: dicts with t (capture clock), src, dst, cwnd, srtt, ..."""
    recs = []
    try:
        with open(path) as f:
            for l in f:
                m = PROBE_RE.search(l)
                if not m:
                    continue
                recs.append(dict(t=float(m.group(1)) + offset, src=m.group(3), dst=m.group(4),
                                 data_len=int(m.group(5)), nxt=int(m.group(6), 16),
                                 una=int(m.group(7), 16), cwnd=int(m.group(8)),
                                 ssthresh=int(m.group(9)), snd_wnd=int(m.group(10)),
                                 srtt=int(m.group(11)), rcv_wnd=int(m.group(12))))
    except OSError:
        pass
    recs.sort(key=lambda r: r['t'])
    return recs


def load_ss(path, lport):
    """Last `ss -tin` sample of the socket with local port lport: dict of its fields."""
    best = None
    try:
        txt = open(path).read()
    except OSError:
        return None
    lines = txt.split('\n')
    for i, l in enumerate(lines):
        f = l.split()
        if len(f) >= 4 and endpoint_port(f[2]) == lport:
            info = lines[i + 1] if i + 1 < len(lines) else ''
            m = re.search(r'wscale:(\d+),(\d+)', info)
            if not m:
                continue
            d = dict(snd_wscale=int(m.group(1)), rcv_wscale=int(m.group(2)))
            for k in ('mss', 'advmss', 'rcvmss'):
                mm = re.search(r'\b%s:(\d+)' % k, info)
                if mm:
                    d[k] = int(mm.group(1))
            best = d
    return best


# --------------------------------------------------------- pcap reading --
def read_pcap(path):
    """(ts, src, sport, dst, dport, seq, ack, flags, payload_len) of the TCP
    segments of a pcap (Ethernet, IPv4/IPv6); enough for flight and segment
    sizes, independent of netdx."""
    out = []
    try:
        f = open(path, 'rb')
    except OSError:
        return out
    with f:
        gh = f.read(24)
        if len(gh) < 24:
            return out
        magic = struct.unpack('<I', gh[:4])[0]
        if magic in (0xa1b2c3d4, 0xa1b23c4d):
            e = '<'
        else:
            e = '>'
            magic = struct.unpack('>I', gh[:4])[0]
        nano = magic == 0xa1b23c4d
        linktype = struct.unpack(e + 'I', gh[20:24])[0]
        while True:
            h = f.read(16)
            if len(h) < 16:
                break
            sec, frac, incl, _orig = struct.unpack(e + 'IIII', h)
            data = f.read(incl)
            ts = sec + frac / (1e9 if nano else 1e6)
            if linktype == 1:
                if len(data) < 14:
                    continue
                et = struct.unpack('>H', data[12:14])[0]
                p = data[14:]
            elif linktype == 113:
                et = struct.unpack('>H', data[14:16])[0]
                p = data[16:]
            else:
                continue
            if et == 0x0800 and len(p) >= 20:
                ihl = (p[0] & 15) * 4
                tot = struct.unpack('>H', p[2:4])[0]
                if p[9] != 6:
                    continue
                src = '.'.join(str(b) for b in p[12:16])
                dst = '.'.join(str(b) for b in p[16:20])
                t = p[ihl:]
                iplen = tot - ihl
            elif et == 0x86dd and len(p) >= 40:
                if p[6] != 6:
                    continue
                src = '[%s]' % ipaddress.IPv6Address(bytes(p[8:24]))
                dst = '[%s]' % ipaddress.IPv6Address(bytes(p[24:40]))
                t = p[40:]
                iplen = struct.unpack('>H', p[4:6])[0]
            else:
                continue
            if len(t) < 20:
                continue
            sport, dport, seq, ack = struct.unpack('>HHII', t[:12])
            doff = (t[12] >> 4) * 4
            flags = t[13]
            out.append((ts, src, sport, dst, dport, seq, ack, flags, iplen - doff))
    return out


def capture_flight(pkts, sport, dport):
    """Time-weighted mean and max of snd_nxt - snd_una (bytes) of the data
    sport -> dport as the capture saw it, over the time data was outstanding;
    and the largest payload."""
    nxt = una = None
    last_t = None
    area = tot = 0.0
    fmax = 0
    seg_max = 0
    for ts, _s, sp, _d, dp, seq, ack, flags, plen in pkts:
        if last_t is not None and nxt is not None and una is not None:
            fl = (nxt - una) % (1 << 32)
            if 0 < fl < (1 << 31):
                area += fl * (ts - last_t)
                tot += ts - last_t
        last_t = ts
        if sp == sport and dp == dport:
            end = (seq + plen + (1 if flags & 0x03 else 0)) % (1 << 32)
            if plen > seg_max:
                seg_max = plen
            if nxt is None or ((end - nxt) % (1 << 32)) < (1 << 31):
                nxt = end
            if una is None:
                una = seq
        elif sp == dport and dp == sport and flags & 0x10:
            if una is None or ((ack - una) % (1 << 32)) < (1 << 31):
                una = ack
        if nxt is not None and una is not None:
            fl = (nxt - una) % (1 << 32)
            if fl < (1 << 31):
                fmax = max(fmax, fl)
    return (area / tot if tot > 0 else None), fmax, seg_max, tot


# ------------------------------------------------------- kernel's view --
def kernel_fractions(ti_final, ti_stop, dur, base=None, t_base=0.0):
    """chrono stats -> (fractions dict, D used). With base (TCP_INFO sampled
    at t_base seconds after the start), only what came after it."""
    busy = ti_final['busy_time_us'] / 1e6
    rwnd = ti_final['rwnd_limited_us'] / 1e6
    sndbuf = ti_final['sndbuf_limited_us'] / 1e6
    drain = 0.0
    if ti_stop is not None:
        drain = max(0.0, busy - ti_stop['busy_time_us'] / 1e6)
    if base:
        busy -= base['busy_time_us'] / 1e6
        rwnd -= base['rwnd_limited_us'] / 1e6
        sndbuf -= base['sndbuf_limited_us'] / 1e6
    # busy also counts the bench's own greeting before the common start (one
    # round trip) and is kept in jiffies: never let it exceed the span
    d = max(dur + drain - t_base, busy)
    fr = dict(receiver=rwnd / d, sender=(sndbuf + max(0.0, d - busy)) / d,
              network=max(0.0, busy - rwnd - sndbuf) / d)
    return fr, d


def verdict_of(fr):
    k = max(fr, key=fr.get)
    return (k + '-limited') if fr[k] >= VERDICT_AT else 'mixed'


def kernel_rtt_samples(recs):
    """The sender's own RTT samples, recovered from the srtt of consecutive
    tcp_probe records: the tracepoint fires as each incoming segment arrives,
    before it is processed, and Linux's estimator does srtt += (m - srtt) / 8
    for a sample m (RFC 6298), so m = 8 x srtt_after - 7 x srtt_before. Only
    pairs where the ACK advanced snd_una and srtt changed (an ACK without a
    sample leaves it alone); the printed srtt is whole microseconds, so each
    sample is +/- 8 us."""
    out = []
    for r0, r1 in zip(recs, recs[1:]):
        if r1['una'] != r0['una'] and r1['srtt'] != r0['srtt']:
            m = 8 * r1['srtt'] - 7 * r0['srtt']
            if m > 0:
                out.append(m)
    return out


def tw_mean(recs, key, t_end=None):
    """time-weighted mean of key over records while data is outstanding."""
    area = tot = 0.0
    for a, b in zip(recs, recs[1:] + [None]):
        t1 = b['t'] if b is not None else t_end
        if t1 is None:
            break
        if a['nxt'] == a['una']:
            continue
        area += a[key] * (t1 - a['t'])
        tot += t1 - a['t']
    return (area / tot if tot > 0 else None), tot


# ---------------------------------------------------------------- main --
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('dir')
    ap.add_argument('checks')
    ap.add_argument('--dir', dest='d', default='c2s', choices=('c2s', 's2c'))
    ap.add_argument('--lport', type=int, default=None)
    ap.add_argument('--port', type=int, default=None)
    ap.add_argument('--drops-c2s', type=int, default=None)
    ap.add_argument('--drops-s2c', type=int, default=None)
    ap.add_argument('--mid', action='store_true')
    ap.add_argument('--rtt-tol', type=float, default=0.15)
    ap.add_argument('--rtt-abs', type=float, default=0.0)
    ap.add_argument('--cwnd-tol', type=float, default=None)
    ap.add_argument('--timeline-agree', type=float, default=0.8)
    ap.add_argument('--timeline-expect', default='')
    ap.add_argument('--plan-only', action='store_true')
    ap.add_argument('--premise', action='store_true')
    a = ap.parse_args()

    checks = [c for c in a.checks.split(',') if c]
    plan = 0
    for c in checks:
        plan += {'wscale-mid-lb': 1, 'ends': 1, 'timeline': 2, 'mss': 2, 'mss-mid': 1, 'segmax': 1, 'wscale': 2, 'wscale-mid': 1, 'retrans': 1, 'rtt': 1,
                 'verdict': 2, 'txn': 2, 'cwnd': 1,
                 'stalls': 2 * ((a.drops_c2s is not None) + (a.drops_s2c is not None))}[c.split(':')[0]]
    if a.plan_only:        # the scenario prints the plan before it starts
        print('1..%d' % plan)
        return 0
    tap = Tap(a.premise)
    D = a.dir
    bench = load_json(os.path.join(D, 'bench.json')) or {}
    flow = (get(bench, 'flows') or [{}])[0]
    # the flow's ports, unless given: the bench's own record of them
    if a.lport is None:
        a.lport = endpoint_port(flow.get('local'))
    if a.port is None:
        a.port = endpoint_port(flow.get('remote'))
    if a.premise:
        sys.stdout = _Quiet(sys.stdout)
    conns = [o for o in load_ndjson(os.path.join(D, 'netdx.json')) if o.get('type') == 'conn']
    conn = None
    for o in conns:
        if endpoint_port(o.get('client')) == a.lport or endpoint_port(o.get('server')) == a.lport:
            conn = o
    if conn is None:
        diag('netdx reported no connection with port %d (%d connections); bench flow local %s' %
             (a.lport, len(conns), flow.get('local')))
        conn = {}
    else:
        diag('connection %s -> %s, first_ts %s last_ts %s, state %s' %
             (conn.get('client'), conn.get('server'), conn.get('first_ts'), conn.get('last_ts'),
              conn.get('state')))
    dirs = {'c2s': conn.get('c2s') or {}, 's2c': conn.get('s2c') or {}}
    if conn and endpoint_port(conn.get('client')) == a.port:
        # no handshake and both ports below 32768: netdx's documented
        # heuristic (the first packet's sender) may name the bench server the
        # client. Compare by the bench's roles: its client sends "c2s" here.
        diag("netdx names the bench server the client (client_by %s): its s2c is the bench "
             "client's data, compared as c2s here" % conn.get('client_by'))
        dirs = {'c2s': dirs['s2c'], 's2c': dirs['c2s']}
        for st in conn.get('stalls') or []:
            if isinstance(st, dict) and st.get('dir') in ('c2s', 's2c'):
                st['dir'] = 's2c' if st['dir'] == 'c2s' else 'c2s'
    side_of = {'c2s': 'client', 's2c': 'server'}     # the direction's sender
    ti = {s: get(flow, s + '.tcp_info') or {} for s in ('client', 'server')}
    ivals = flow.get('intervals') or []
    ti_stop = {'client': get(ivals[-1], 'tcp_info') if ivals else None,
               'server': get(ivals[-1], 'server.tcp_info') if ivals else None}
    dur = get(bench, 'totals.duration_s') or get(bench, 'meta.options.duration_s') or 0
    try:
        offset = float(open(os.path.join(D, 'clocks')).read())
    except (OSError, ValueError):
        offset = 0.0
    probe = load_probe(os.path.join(D, 'probe.txt'), offset)
    ss = load_ss(os.path.join(D, 'ss.txt'), a.lport)
    pk = read_pcap(os.path.join(D, 'cap.pcap'))
    base = {'client': None, 'server': None}
    t_base = 0.0
    cap_t0 = None
    if a.mid and pk:
        cap_t0 = pk[0][0]
        t0 = cap_t0 - (get(bench, 'meta.start_wall') or 0)
        for iv in ivals:
            if num(iv.get('t')) and iv['t'] <= t0:
                base = {'client': iv.get('tcp_info'), 'server': get(iv, 'server.tcp_info')}
                t_base = iv['t']
        diag('capture began %.3f s after the bench start; kernel baseline: the interval sample '
             'at t=%.3f s' % (t0, t_base))
    ts_both = bool(dirs['c2s'].get('ts_opt')) and bool(dirs['s2c'].get('ts_opt'))
    opt = TS_OPT if ts_both else 0
    diag('bench: duration %s s, flow %s -> %s, cc %s, goodput %s bit/s; capture: %d TCP segments; '
         'tcp_probe: %d records' % (dur, flow.get('local'), flow.get('remote'), flow.get('cc'),
                                    flow.get('goodput_bps'), len(pk), len(probe)))
    for s in ('client', 'server'):
        diag('%s TCP_INFO (final): %s' % (s, json.dumps(ti[s], sort_keys=True)))
    for d in ('c2s', 's2c'):
        x = dirs[d]
        keys = ('pkts', 'payload_bytes', 'mss', 'wscale', 'wscale_inferred', 'retrans_pkts',
                'fast_retrans', 'rto_retrans', 'spurious_retrans', 'syn_retrans', 'dupacks',
                'rtt_us', 'transfer_s', 'limits', 'verdict', 'flight_bytes', 'cwnd_est_bytes')
        diag('netdx %s: %s' % (d, json.dumps({k: x.get(k) for k in keys})))

    def sender_ports(d):
        cp, sp = a.lport, a.port
        return (cp, sp) if d == 'c2s' else (sp, cp)

    def seg_max(d):
        sp, dp = sender_ports(d)
        return capture_flight(pk, sp, dp)[2]

    def probe_of(d):
        sp, dp = sender_ports(d)
        return [r for r in probe if endpoint_port(r['src']) == sp and endpoint_port(r['dst']) == dp]

    for c in checks:
        c, _, cd = c.partition(':')
        d = cd or a.d
        if c == 'mss':
            for d, peer in (('c2s', 'server'), ('s2c', 'client')):
                m = dirs[d].get('mss')
                k = ti[peer].get('snd_mss')
                ok = num(m) and num(k) and m == k + opt
                tap.line(ok, '%s mss: netdx %s == kernel %s snd_mss %s + %d (timestamps)' %
                         (d, fmt(m), peer, fmt(k), opt))
        elif c == 'mss-mid':
            m = dirs[a.d].get('mss')
            tap.line(m is None, '%s mss without the handshake: netdx %s (contract: null, '
                     'only a SYN advertises it)' % (a.d, fmt(m)))
        elif c == 'segmax':
            k = ti[side_of[a.d]].get('snd_mss')
            sm = seg_max(a.d)
            tap.line(num(k) and sm == k, 'scenario: %s largest segment in the capture %s == %s '
                     'snd_mss %s (MTU-sized frames at the capture point)' % (a.d, sm, side_of[a.d], fmt(k)))
        elif c == 'wscale':
            for d, key in (('c2s', 'rcv_wscale'), ('s2c', 'snd_wscale')):
                w = dirs[d].get('wscale')
                k = (ss or {}).get(key)
                tap.line(num(w) and num(k) and w == k and not dirs[d].get('wscale_inferred'),
                         '%s wscale: netdx %s (inferred %s) == kernel client %s %s (ss -tin)' %
                         (d, fmt(w), fmt(dirs[d].get('wscale_inferred')), key, fmt(k)))
        elif c == 'wscale-mid':
            w = dirs['s2c'].get('wscale')
            inf = dirs['s2c'].get('wscale_inferred')
            k = (ss or {}).get('snd_wscale')
            tap.line(num(w) and num(k) and w == k and inf is True,
                     's2c wscale without the handshake: netdx %s (inferred %s, lower bound %s) == '
                     'kernel client snd_wscale %s (ss -tin)' %
                     (fmt(w), fmt(inf), fmt(dirs['s2c'].get('wscale_lower_bound', False)), fmt(k)))
        elif c == 'ends':
            want = (flow.get('local'), flow.get('remote'))
            got = (conn.get('client'), conn.get('server'))
            tap.line(bool(conn) and got == want,
                     'client/server: netdx %s -> %s == bench flow %s -> %s (client_by %s)' %
                     (got + want + (conn.get('client_by'),)))
        elif c == 'timeline':
            s_ = side_of[d]
            tl = dirs[d].get('timeline')
            t_start = get(bench, 'meta.start_wall')
            rows = []
            prev = None
            for iv in ivals:
                tinfo = iv.get('tcp_info') if s_ == 'client' else get(iv, 'server.tcp_info')
                if prev is not None and tinfo and num(iv.get('t')) and num(t_start):
                    t0, ti0 = prev
                    span = iv['t'] - t0
                    busy = (tinfo['busy_time_us'] - ti0['busy_time_us']) / 1e6
                    rwnd = (tinfo['rwnd_limited_us'] - ti0['rwnd_limited_us']) / 1e6
                    snb = (tinfo['sndbuf_limited_us'] - ti0['sndbuf_limited_us']) / 1e6
                    fr = dict(receiver=rwnd / span, sender=(snb + max(0.0, span - busy)) / span,
                              network=max(0.0, busy - rwnd - snb) / span)
                    top = max(fr, key=fr.get)
                    kl = top if fr[top] >= CLEAR_OF else None
                    w0, w1 = t_start + t0, t_start + iv['t']
                    ov = {}
                    for st, en, lab in (tl if isinstance(tl, list) else []):
                        lab = 'sender' if lab == 'idle' else lab
                        o = min(en, w1) - max(st, w0)
                        if o > 0:
                            ov[lab] = ov.get(lab, 0.0) + o
                    nl = max(ov, key=ov.get) if ov and sum(ov.values()) >= 0.5 * span else None
                    rows.append((t0, iv['t'], kl, fr[top], nl))
                if tinfo:
                    prev = (iv.get('t'), tinfo)
            clear = [r for r in rows if r[2] is not None]
            agree = [r for r in clear if r[4] == r[2]]
            frac = len(agree) / len(clear) if clear else 0.0
            tap.line(isinstance(tl, list) and clear and frac >= a.timeline_agree,
                     '%s timeline: netdx\'s label == the kernel\'s in %d of %d intervals where the '
                     'kernel\'s is clear (%.0f%% >= %.0f%%)' %
                     (d, len(agree), len(clear), 100 * frac, 100 * a.timeline_agree),
                     ['t %.2f-%.2f kernel %s (%.2f) netdx %s' % r for r in rows] +
                     ['netdx timeline: %s' % json.dumps(tl)[:1500]])
            kinds = {}
            for r in clear:
                kinds[r[2]] = kinds.get(r[2], 0) + 1
            need = [k for k in a.timeline_expect.split(',') if k]
            tap.line(all(kinds.get(k, 0) >= 2 for k in need),
                     'scenario: the kernel\'s clear intervals show each of %s at least twice: %s' %
                     (','.join(need), json.dumps(kinds, sort_keys=True)))
        elif c == 'wscale-mid-lb':
            w = dirs['s2c'].get('wscale')
            inf = dirs['s2c'].get('wscale_inferred')
            lb = dirs['s2c'].get('wscale_lower_bound', False)
            k = (ss or {}).get('snd_wscale')
            ok = num(k) and (w is None or (num(w) and (w == k or (lb is True and w <= k))))
            tap.line(ok, 's2c wscale without the handshake, flight far below the window: netdx %s '
                     '(inferred %s, lower bound %s) is kernel client snd_wscale %s, or a lower bound '
                     'of it, or null (never a wrong exact value)' % (fmt(w), fmt(inf), fmt(lb), fmt(k)))
        elif c == 'retrans':
            x = dirs[d]
            r = (x.get('retrans_pkts') or 0) + (x.get('syn_retrans') or 0) \
                if num(x.get('retrans_pkts')) else None
            k = ti[side_of[d]].get('total_retrans')
            note = ''
            b = base[side_of[d]]
            if b and num(k):
                note = ' (%s at the end minus %s at t=%.2f s, before the capture began)' % (
                    k, b['total_retrans'], t_base)
                k = k - b['total_retrans']
            tol = max(2, 0.1 * k) if num(k) else 0
            tap.line(num(r) and num(k) and abs(r - k) <= tol,
                     '%s retransmissions: netdx retrans_pkts+syn_retrans %s within max(2, 10%%) of '
                     'kernel %s total_retrans %s%s' % (d, fmt(r), side_of[d], fmt(k), note),
                     ['fast %s rto %s spurious %s syn %s' % tuple(fmt(x.get(q)) for q in
                                                             ('fast_retrans', 'rto_retrans',
                                                              'spurious_retrans', 'syn_retrans'))])
        elif c == 'rtt':
            p = get(dirs[d], 'rtt_us.p50')
            recs = [r for r in probe_of(d) if cap_t0 is None or r['t'] >= cap_t0]
            samples = kernel_rtt_samples(recs)
            srtts = [r['srtt'] for r in recs if r['nxt'] != r['una']]
            if len(samples) >= 20:
                k = statistics.median(samples)
                src = ('median of the %d RTT samples the sender took (tcp_probe srtt before and '
                       'after each ACK: 8 x new - 7 x old)' % len(samples))
            elif srtts:
                k = statistics.median(srtts)
                src = 'median srtt of %d tcp_probe records with data in flight' % len(srtts)
            else:
                vals = [get(iv, 'tcp_info.rtt_us' if d == 'c2s' else 'server.tcp_info.rtt_us')
                        for iv in ivals]
                vals = [v for v in vals if num(v)]
                k = statistics.median(vals) if vals else None
                src = 'median TCP_INFO rtt_us of %d interval samples (no tcp_probe)' % len(vals)
            tol = (a.rtt_tol * k + a.rtt_abs) if num(k) else 0
            ok = num(p) and num(k) and k > 0 and abs(p - k) <= tol
            dd = ['netdx rtt_us %s; kernel srtt median %s us' %
                  (json.dumps(dirs[d].get('rtt_us')),
                   fmt(statistics.median(srtts)) if srtts else 'null')]
            tap.line(ok, '%s RTT p50: netdx %s us within %g%%%s of kernel %s us (%s)' %
                     (d, fmt(p), a.rtt_tol * 100, ' + %g us' % a.rtt_abs if a.rtt_abs else '',
                      fmt(k), src), dd)
        elif c == 'verdict':
            s = side_of[d]
            v = dirs[d].get('verdict')
            if ti[s].get('busy_time_us') is None or not dur:
                tap.line(False, '%s verdict: netdx %s, no kernel chrono stats' % (d, fmt(v)))
                tap.line(False, 'scenario: no kernel chrono stats')
                continue
            fr, dd = kernel_fractions(ti[s], ti_stop[s], dur, base[s], t_base)
            kv = verdict_of(fr)
            lim = dirs[d].get('limits')
            tap.line(v == kv, '%s verdict: netdx %s == kernel %s' % (d, fmt(v), kv),
                     ['kernel fractions over D=%.3f s%s: %s (busy %s rwnd %s sndbuf %s us at the end)' %
                      (dd, ' from t=%.3f s' % t_base if base[s] else '',
                       ' '.join('%s=%.3f' % kv_ for kv_ in sorted(fr.items())),
                       ti[s]['busy_time_us'], ti[s]['rwnd_limited_us'], ti[s]['sndbuf_limited_us']),
                      'netdx limits %s over transfer_s %s' % (json.dumps(lim),
                                                             fmt(dirs[d].get('transfer_s')))])
            top = max(fr.values())
            tap.line(top >= CLEAR_OF, 'scenario: kernel dominant fraction %.3f >= %.1f '
                     '(clear of the %.1f threshold)' % (top, CLEAR_OF, VERDICT_AT))
        elif c == 'stalls':
            stalls = conn.get('stalls')
            for d, n in (('c2s', a.drops_c2s), ('s2c', a.drops_s2c)):
                if n is None:
                    continue
                if not isinstance(stalls, list):
                    tap.line(False, '%s stalls: netdx gives no "stalls" list (%s); %d packets dropped' %
                             (d, fmt(stalls), n))
                    tap.line(False, '%s stalls: direction' % d)
                    continue
                # every drop stalls its transaction; a stall of either direction
                # with cause rto counts as found (a lost request also loses the
                # ACK it carried, and the server's timer may fire first)
                rto = [s for s in stalls if s.get('cause') == 'rto']
                durs = [s.get('duration_s') for s in rto]
                long_ = all(num(x) and x >= RTO_MIN_S for x in durs)
                # the transaction each delayed: it began no later than the
                # stall and lasted at least as long as the stall did
                linked = [isinstance(s.get('txn'), dict) and num(get(s, 'txn.latency_us')) and
                          num(s.get('duration_s')) and
                          get(s, 'txn.latency_us') >= s['duration_s'] * 1e6 * 0.99 and
                          num(get(s, 'txn.start')) and num(s.get('start')) and
                          get(s, 'txn.start') <= s['start'] + 1e-6
                          for s in rto]
                txns = set(get(s, 'txn.start') for s in rto if isinstance(s.get('txn'), dict))
                # nothing else stalled this connection: any other stall is a
                # false diagnosis (a slow responder, a zero window, ...)
                others = [s.get('cause') for s in stalls if s.get('cause') != 'rto']
                ok = (len(rto) == n and n > 0 and long_ and all(linked) and len(txns) == len(rto)
                      and not others)
                tap.line(ok, 'every dropped %s packet\'s stall found: netdx %d stalls with cause rto '
                         '(%d distinct transactions) == %d packets the rule dropped; all >= %.1f s: %s '
                         '(%s); each tied to the transaction it delayed: %d of %d; other stalls: %s' %
                         (d, len(rto), len(txns), n, RTO_MIN_S, long_,
                          ' '.join('%.3f' % x if num(x) else fmt(x) for x in durs),
                          sum(linked), len(rto), ','.join(others) or 'none'),
                         ['stalls: %s' % json.dumps(stalls)[:2500],
                          'stalls_dropped %s; txn.slow: %s' % (fmt(conn.get('stalls_dropped')),
                                                              json.dumps(get(conn, 'txn.slow'))[:1000])])
                other = [s.get('dir') for s in rto if s.get('dir') != d]
                tap.line(len(rto) > 0 and not other,
                         'those stalls are in the direction that lost the packets (%s): %d of %d%s' %
                         (d, len(rto) - len(other), len(rto),
                          '' if not other else ' (the others say %s)' % ','.join(sorted(set(other)))))
        elif c == 'txn':
            t = conn.get('txn')
            bt = get(flow, 'client.transactions')
            nc = get(t, 'count')
            tap.line(num(nc) and num(bt) and abs(nc - bt) <= 0.02 * bt,
                     'txn count: netdx %s within 2%% of bench %s' % (fmt(nc), fmt(bt)))
            bm = get(bench, 'latency_uncorrected_us.max') or get(bench, 'latency_us.max')
            nm = get(t, 'latency_us.max')
            tap.line(num(nm) and num(bm) and abs(nm - bm) <= 0.05 * bm,
                     'txn latency max: netdx %s us within 5%% of bench %s us' % (fmt(nm), fmt(bm)),
                     ['netdx txn latency %s; bench %s' % (json.dumps(get(t, 'latency_us')),
                                                          json.dumps(get(bench, 'latency_us')))])
        elif c == 'cwnd':
            s = side_of[d]
            recs = probe_of(d)
            mss = ti[s].get('snd_mss') or 0
            last = dirs[d].get('cwnd_est_bytes')
            km, kt = tw_mean(recs, 'cwnd')
            sp, dp = sender_ports(d)
            fm, fmax, _, ft = capture_flight(pk, sp, dp)
            n = get(last, 'mean')
            kb = km * mss if num(km) else None
            tol = a.cwnd_tol
            ok = num(n) and num(kb) and tol is not None and abs(n - kb) <= tol * kb
            tap.line(ok, '%s cwnd: netdx cwnd_est_bytes.mean %s within %s%% of kernel time-weighted '
                     'snd_cwnd x snd_mss %s (tcp_probe, %d records, %.2f s in flight)' %
                     (d, fmt(n), fmt(tol * 100 if tol else None), fmt(kb), len(recs), kt),
                     ['capture flight (this script): time-weighted mean %s bytes over %.2f s, max %s; '
                      'netdx flight_bytes %s cwnd_est_bytes %s' %
                      (fmt(fm), ft, fmax, json.dumps(dirs[d].get('flight_bytes')), json.dumps(last))])
        else:
            tap.line(False, 'unknown check %s' % c)
    if a.premise:
        return 0 if tap.premise_ok else 1
    return 0


class _Quiet:
    """stdout in --premise mode: only the premise lines get through."""

    def __init__(self, out):
        self.out = out
        self.passing = False

    def write(self, s):
        if s.startswith('# premise '):
            self.passing = True
        if self.passing:
            self.out.write(s)
        if s.endswith('\n'):
            self.passing = False
        return len(s)

    def flush(self):
        self.out.flush()


if __name__ == '__main__':
    sys.exit(main())
