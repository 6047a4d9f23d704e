#!/usr/bin/env python3
"""Golden test: netdx tcp's inference counters against tshark's per-stream
reference on every capture of the third-party corpus (../shared/corpus).

usage: compare_inference.py NETDX CORPUS_DIR [NAME-SUBSTRING] [--all]

Per stream (matched to tshark's tcp.stream rows as compare_corpus.py does):
  - retransmissions per direction: tshark retransmission_ab/ba against
    netdx retrans_pkts + syn_retrans (tshark counts SYN retransmissions);
  - per stream (tshark gives no direction): fast_retransmission,
    duplicate_ack, zero_window against the sums of both directions;
  - RTT per direction: tshark ack_rtt_for_XX_data_median against netdx
    rtt_us.p50 when both have at least 5 samples, within a factor of 3
    (tshark takes a sample from every ACK that ends exactly on a segment,
    SYNs included, without Karn's rule);
    presence is not compared (tshark needs an ACK that ends exactly on a
    segment, netdx any ACK covering one).
Where they disagree on purpose, KNOWN says who is right and why (checked
against the packets with tcpdump -nn -S). A capture passes when it agrees,
or when its disagreements are exactly the KNOWN ones. --all prints every
disagreement of every capture (to write the table). Prints TAP.
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_corpus import endpoint, load_tshark, run_netdx  # noqa: E402

RTT_FACTOR = 3.0
RTT_MIN_N = 5  # tshark also samples the SYN/ACK and takes mean-of-two medians: few samples differ

# Reasons reused by several captures.
OOO = ('tshark calls a segment that fills a never-captured hole a retransmission; netdx counts it '
       'as out_of_order (the original was lost before the capture point or reordered), '
       'and counts the hole as capture loss when it is ACKed')
DUPFRAME = ('the same frame captured twice (identical, < 1 ms apart, nothing between): netdx counts '
            'it in duplicate_frames and ignores it; tshark counts the copies as retransmissions')
NOOUT = ('tshark counts a pure ACK that repeats the previous ACK and window as a duplicate ACK even when '
         'the other side has nothing outstanding; netdx (RFC 5681) does not')
FASTSACK = ('tshark calls a retransmission fast only after >= 2 dupacks for exactly its sequence number; '
            'netdx also when SACK shows data above it was received (RFC 6675 recovery; Linux counts these '
            'in TCPFastRetrans too)')
FEWRTT = ('RTT from few samples mixing 200 ms delayed ACKs with sub-ms ones: the medians depend on which '
          'ACKs each tool samples (tshark: ACKs ending exactly on a segment, SYN included, no Karn)')

# capture -> dict(expect=[exact disagreement lines], why=...)
KNOWN = {
    'pcpp-sll2.pcap': dict(
        expect=[
            '116.63.66.108:443 <-> 7.249.151.114:57292 s2c retrans: netdx 0 (out_of_order 0, duplicate_frames 1), tshark 1',
        ],
        why=DUPFRAME + " (the FIN, 90 us apart, nothing between)"),
    'suricata-bug-2576-02--temp1.pcap': dict(
        expect=[
            '10.95.48.225:42270 <-> 14.215.177.39:80 dupacks: netdx 0, tshark 1',
        ],
        why=NOOUT + " (the D-SACK answer to a spurious retransmission)"),
    'suricata-bug-3519.pcap': dict(
        expect=[
            '192.168.0.10:21 <-> 192.168.0.13:59898 s2c rtt p50: netdx 8704us, tshark 1467us',
            '192.168.0.10:21 <-> 192.168.0.13:59898 dupacks: netdx 0, tshark 2',
        ],
        why=NOOUT + " (two D-SACK answers to spurious retransmissions); " + FEWRTT),
    'suricata-bug-4376--syn_retransmit_with_ts.pcap': dict(
        expect=[
            '10.38.251.146:33372 <-> 10.38.251.147:80 s2c retrans: netdx 18 (out_of_order 0, duplicate_frames 0), tshark 17',
            '10.38.251.146:33372 <-> 10.38.251.147:80 s2c rtt p50: netdx 0us, tshark 204us',
            '10.38.251.146:33372 <-> 10.38.251.147:80 fast_retrans: netdx 15, tshark 2',
        ],
        why="tshark calls 1 of the 18 resent segments out-of-order (its reordering threshold; tcpdump shows all 18 below the highest sequence, seen before); " + FASTSACK + "; the capture has synthetic timestamps 1 us apart, so RTTs are meaningless"),
    'suricata-bug-4663.pcap': dict(
        expect=[
            '192.168.1.100:49860 <-> 192.168.1.210:80 (summed) s2c retrans: netdx 2 (out_of_order 0, duplicate_frames 0), tshark 3',
        ],
        why="the server's last FIN retransmission comes 2 s after the close, after the tracker's linger time: netdx files it under a new connection (see compare_corpus.py), where it is not a retransmission"),
    'suricata-bug-5867-fp-drop-01.pcap': dict(
        expect=[
            '172.17.1.105:225 <-> 172.17.1.80:1709 s2c retrans: netdx 0 (out_of_order 0, duplicate_frames 7), tshark 7',
            '172.17.1.105:225 <-> 172.17.1.80:1709 dupacks: netdx 0, tshark 68',
        ],
        why=DUPFRAME + "; the pure-ACK copies are " + NOOUT),
    'suricata-bug-6269-01.pcap': dict(
        expect=[
            'fd00:1:1::2:39990 <-> fd00:2:1::2:80 dupacks: netdx 0, tshark 1',
        ],
        why=NOOUT + " (the ACK of a retransmitted SYN/ACK)"),
    'suricata-eve-payload-01-tcp-exact-overlap--tcp-overlap.pcap': dict(
        expect=[
            '1.1.1.1:12345 <-> 2.2.2.2:8080 c2s retrans: netdx 0 (out_of_order 0, duplicate_frames 1), tshark 1',
            '1.1.1.1:12345 <-> 2.2.2.2:8080 dupacks: netdx 0, tshark 1',
        ],
        why="synthetic: the same data segment again 0.4 ms later with nothing between; netdx takes it for the same frame captured twice (no stack retransmits within 1 ms), tshark for a retransmission; and " + NOOUT),
    'suricata-eve-payload-05-tcp-data-gap--tcp-simple-gap2.pcap': dict(
        expect=[
            '1.1.1.1:12345 <-> 2.2.2.2:8080 dupacks: netdx 0, tshark 1',
        ],
        why=NOOUT + " (the server repeats its ACK of the SYN)"),
    'suricata-from_base64-02.pcap': dict(
        expect=[
            '127.0.0.1:8080 <-> 127.0.0.1:33734 c2s retrans: netdx 0 (out_of_order 0, duplicate_frames 3), tshark 3',
            '127.0.0.1:8080 <-> 127.0.0.1:33734 s2c retrans: netdx 0 (out_of_order 0, duplicate_frames 4), tshark 4',
            '127.0.0.1:8080 <-> 127.0.0.1:33734 dupacks: netdx 0, tshark 5',
        ],
        why=DUPFRAME + " (loopback, every frame twice, 2-7 us apart); the pure-ACK copies are " + NOOUT),
    'suricata-http-body-hook-01.pcap': dict(
        expect=[
            '2001:41d0:1:9598::1:80 <-> 2a01:e35:1394:5bd0:da50:e6ff:fe3c:3250:59525 s2c retrans: netdx 0 (out_of_order 3, duplicate_frames 0), tshark 2',
            '2001:41d0:1:9598::1:80 <-> 2a01:e35:1394:5bd0:da50:e6ff:fe3c:3250:59525 fast_retrans: netdx 0, tshark 2',
        ],
        why=OOO + "; here the receiver had asked for them (out_of_order_retrans): lost upstream of the capture point, which sits at the client"),
    'suricata-http-range-multiflows.pcap': dict(
        expect=[
            '127.0.0.1:8000 <-> 127.0.0.1:55232 dupacks: netdx 0, tshark 2',
            '127.0.0.1:8000 <-> 127.0.0.1:55234 dupacks: netdx 0, tshark 2',
            '127.0.0.1:8000 <-> 127.0.0.1:55236 s2c retrans: netdx 1 (out_of_order 0, duplicate_frames 2), tshark 3',
            '127.0.0.1:8000 <-> 127.0.0.1:55236 dupacks: netdx 0, tshark 4',
            '127.0.0.1:8000 <-> 127.0.0.1:55237 dupacks: netdx 0, tshark 2',
            '127.0.0.1:8000 <-> 127.0.0.1:55243 dupacks: netdx 0, tshark 2',
            '127.0.0.1:8000 <-> 127.0.0.1:55244 dupacks: netdx 0, tshark 2',
            '127.0.0.1:8000 <-> 127.0.0.1:55246 s2c retrans: netdx 1 (out_of_order 0, duplicate_frames 2), tshark 3',
            '127.0.0.1:8000 <-> 127.0.0.1:55246 dupacks: netdx 0, tshark 4',
            '127.0.0.1:8000 <-> 127.0.0.1:55247 dupacks: netdx 0, tshark 2',
            '127.0.0.1:8000 <-> 127.0.0.1:55248 dupacks: netdx 0, tshark 2',
            '127.0.0.1:8000 <-> 127.0.0.1:55249 s2c retrans: netdx 2 (out_of_order 0, duplicate_frames 1), tshark 3',
            '127.0.0.1:8000 <-> 127.0.0.1:55249 dupacks: netdx 0, tshark 4',
            '127.0.0.1:8000 <-> 127.0.0.1:55252 dupacks: netdx 0, tshark 2',
            '127.0.0.1:8000 <-> 127.0.0.1:55261 dupacks: netdx 0, tshark 2',
            '127.0.0.1:8000 <-> 127.0.0.1:55268 dupacks: netdx 0, tshark 2',
            '127.0.0.1:8000 <-> 127.0.0.1:55269 dupacks: netdx 0, tshark 2',
        ],
        why=NOOUT + " (ACKs after FINs); and the server sends its FIN up to 3 more times within 20 us, identical: netdx takes them for duplicate frames, but this is a loopback capture, so they were real sends and tshark's retransmission count is right there"),
    'suricata-mac-eve-multiple-disabled--multi_mac.pcap': dict(
        expect=[
            '1.1.1.11:80 <-> 1.1.1.14:1050 c2s retrans: netdx 0 (out_of_order 0, duplicate_frames 3), tshark 3',
            '1.1.1.11:80 <-> 1.1.1.14:1050 s2c retrans: netdx 0 (out_of_order 0, duplicate_frames 30), tshark 30',
            '1.1.1.11:80 <-> 1.1.1.14:1050 dupacks: netdx 0, tshark 33',
        ],
        why=DUPFRAME + " (2-3 copies of every frame with different MACs); the pure-ACK copies are " + NOOUT),
    'suricata-output-eve-ftp-data.pcap': dict(
        expect=[
            '192.168.0.10:21 <-> 192.168.0.13:59898 s2c rtt p50: netdx 8704us, tshark 1467us',
            '192.168.0.10:21 <-> 192.168.0.13:59898 dupacks: netdx 0, tshark 2',
        ],
        why="contains the FTP control stream of suricata-bug-3519.pcap: " + NOOUT + "; " + FEWRTT),
    'suricata-pop3.pcap': dict(
        expect=[
            '10.4.20.103:49860 <-> 74.208.5.11:110 dupacks: netdx 0, tshark 4',
        ],
        why=NOOUT + " (four D-SACK answers to spurious retransmissions)"),
    'suricata-smb2-01--smb2-peter.pcap': dict(
        expect=[
            '10.3.1.1:445 <-> 10.3.1.2:56746 dupacks: netdx 45, tshark 52',
        ],
        why=NOOUT + " (7 of tshark's 52: ACKs after all data was acked)"),
    'suricata-tcp-session-decode-malformed-ipv4.pcap': dict(
        expect=[
            '192.0.2.10:43210 <-> 198.51.100.5:443 c2s retrans: netdx 1 (out_of_order 0, duplicate_frames 0), tshark 0',
        ],
        why="a FIN reuses the sequence number of the 1-byte segment tshark does not dissect (malformed IPv4 option, see compare_corpus.py): netdx counts the FIN as resending it"),
    'suricata-tls-subjectaltname.pcap': dict(
        expect=[
            '138.201.208.22:443 <-> 192.168.100.206:59621 (summed) c2s retrans: netdx 0 (out_of_order 0, duplicate_frames 0), tshark 1',
            '138.201.208.22:443 <-> 192.168.100.206:59622 (summed) c2s retrans: netdx 0 (out_of_order 0, duplicate_frames 0), tshark 1',
            '138.201.208.22:443 <-> 192.168.100.206:59949 (summed) c2s retrans: netdx 0 (out_of_order 0, duplicate_frames 0), tshark 1',
            '138.201.208.22:443 <-> 192.168.100.206:60036 (summed) c2s retrans: netdx 0 (out_of_order 0, duplicate_frames 0), tshark 1',
            '138.201.208.22:443 <-> 192.168.100.206:60038 s2c retrans: netdx 7 (out_of_order 34, duplicate_frames 0), tshark 20',
            '138.201.208.22:443 <-> 192.168.100.206:60038 fast_retrans: netdx 7, tshark 2',
            '192.168.100.206:59690 <-> 204.79.197.200:443 s2c retrans: netdx 0 (out_of_order 0, duplicate_frames 0), tshark 5',
            '192.168.100.206:59691 <-> 204.79.197.200:443 (summed) c2s retrans: netdx 0 (out_of_order 0, duplicate_frames 0), tshark 1',
            '192.168.100.206:59691 <-> 204.79.197.200:443 (summed) s2c retrans: netdx 0 (out_of_order 0, duplicate_frames 0), tshark 8',
            '192.168.100.206:59704 <-> 93.184.220.29:80 dupacks: netdx 0, tshark 2',
            '192.168.100.206:59819 <-> 93.184.221.240:80 (summed) c2s retrans: netdx 0 (out_of_order 0, duplicate_frames 0), tshark 1',
            '192.168.100.206:60040 <-> 46.183.138.100:80 s2c retrans: netdx 0 (out_of_order 2, duplicate_frames 0), tshark 2',
            '192.168.100.206:60040 <-> 46.183.138.100:80 fast_retrans: netdx 0, tshark 1',
            '192.168.100.206:60043 <-> 93.191.156.41:80 s2c retrans: netdx 0 (out_of_order 4, duplicate_frames 0), tshark 1',
            '192.168.100.206:60043 <-> 93.191.156.41:80 fast_retrans: netdx 0, tshark 1',
            '192.168.100.206:60045 <-> 93.191.156.41:80 (summed) c2s retrans: netdx 0 (out_of_order 0, duplicate_frames 0), tshark 1',
            '192.168.100.206:60053 <-> 94.231.103.159:80 s2c retrans: netdx 0 (out_of_order 4, duplicate_frames 0), tshark 1',
            '192.168.100.206:60053 <-> 94.231.103.159:80 fast_retrans: netdx 0, tshark 1',
            '192.168.100.206:60063 <-> 216.58.214.3:80 s2c rtt p50: netdx 204800us, tshark 43928us',
            '192.168.100.206:60063 <-> 216.58.214.3:80 dupacks: netdx 0, tshark 1',
            '192.168.100.206:60064 <-> 212.237.249.17:80 (summed) c2s retrans: netdx 0 (out_of_order 0, duplicate_frames 0), tshark 1',
            '192.168.100.206:60064 <-> 212.237.249.17:80 (summed) s2c retrans: netdx 0 (out_of_order 0, duplicate_frames 0), tshark 3',
            '192.168.100.206:60066 <-> 93.184.220.29:80 dupacks: netdx 0, tshark 1',
            '192.168.100.206:60093 <-> 93.191.156.41:443 (summed) c2s retrans: netdx 0 (out_of_order 0, duplicate_frames 0), tshark 1',
            '192.168.100.206:60144 <-> 216.58.214.3:80 dupacks: netdx 0, tshark 1',
            '192.168.100.206:60145 <-> 216.58.214.3:80 dupacks: netdx 0, tshark 1',
            '192.168.100.206:60172 <-> 216.58.212.161:443 s2c retrans: netdx 0 (out_of_order 0, duplicate_frames 0), tshark 3',
        ],
        why="lossy capture of 68 streams; checked: " + OOO + "; a SYN with the same ISN after a RST is a new connection in netdx, a retransmission in tshark (59621, 59622, 59949, 60036, ...); " + FASTSACK + "; " + NOOUT + ". NOT yet checked packet by packet: the s2c counts of 59690, 59691, 60064, 60172 (tshark 3-8, netdx 0, no segment below the highest sequence in tcpdump) and the RTT of 60063"),
    'tcpdump-kday4.pcap': dict(
        expect=[
            '204.243.53.80:22 <-> 204.9.51.132:50079 dupacks: netdx 0, tshark 1',
            '204.9.40.10:443 <-> 204.9.64.80:55936 dupacks: netdx 0, tshark 1',
            '204.9.51.132:50079 <-> 204.9.54.80:22 dupacks: netdx 0, tshark 1',
        ],
        why=NOOUT),
    'tcpdump-mptcp-v0.pcap': dict(
        expect=[
            '10.1.2.2:22 <-> 10.2.1.2:41221 dupacks: netdx 0, tshark 4',
        ],
        why=NOOUT),
    'tcpdump-ssh.pcap': dict(
        expect=[
            '202.108.87.165:62146 <-> 223.132.53.222:22 fast_retrans: netdx 1, tshark 0',
            '202.108.87.165:62146 <-> 223.132.53.222:22 dupacks: netdx 1, tshark 2',
        ],
        why=FASTSACK + " (the FIN+data resent after one SACK of the FIN); and " + NOOUT + " (a D-SACK answer)"),
}


def fnum(v):
    return None if v in ('', None) else float(v)


def inum(v):
    return int(v or 0)


def compare_pair(c, r, label, problems):
    a = (r['addr_a'], int(r['port_a']))
    if endpoint(c['client']) == a:
        dirs = (('c2s', 'ab'), ('s2c', 'ba'))
    else:
        dirs = (('s2c', 'ab'), ('c2s', 'ba'))
    for ours, theirs in dirs:
        d = c[ours]
        got = d['retrans_pkts'] + d['syn_retrans']
        want = inum(r['retransmission_' + theirs])
        if got != want:
            problems.append('%s %s retrans: netdx %d (out_of_order %d, duplicate_frames %d), tshark %d' % (
                label, ours, got, d.get('out_of_order', 0), d.get('duplicate_frames', 0), want))
        med = fnum(r.get('ack_rtt_for_%s_data_median' % theirs))
        tn = inum(r.get('ack_rtt_for_%s_data_n' % theirs))
        rtt = d['rtt_us']
        if med is not None and rtt is not None and tn >= RTT_MIN_N and rtt['samples'] >= RTT_MIN_N:
            t_us, n_us = med * 1e6, rtt['p50']
            lo, hi = min(t_us, n_us), max(t_us, n_us)
            if hi > RTT_FACTOR * max(lo, 1.0):
                problems.append('%s %s rtt p50: netdx %dus, tshark %.0fus' % (label, ours, n_us, t_us))
    for f, tf in (('fast_retrans', 'fast_retransmission'), ('dupacks', 'duplicate_ack'),
                  ('zero_window', 'zero_window')):
        got = c['c2s'][f] + c['s2c'][f]
        want = inum(r[tf])
        if got != want:
            problems.append('%s %s: netdx %d, tshark %d' % (label, f, got, want))


def merge_ours(cs):
    """Several netdx connections on one tshark stream (or the reverse):
    sum per direction, oriented like the first."""
    m = {'client': cs[0]['client'], 'server': cs[0]['server']}
    a = endpoint(cs[0]['client'])
    keys = ('retrans_pkts', 'syn_retrans', 'fast_retrans', 'dupacks', 'zero_window')
    for d in ('c2s', 's2c'):
        m[d] = {k: 0 for k in keys}
        m[d]['rtt_us'] = None
    for c in cs:
        flip = endpoint(c['client']) != a
        for d, od in (('c2s', 's2c'), ('s2c', 'c2s')):
            src = c[od if flip else d]
            for k in keys:
                m[d][k] += src[k]
    return m


def merge_theirs(rs):
    m = dict(rs[0])
    for f in ('retransmission_ab', 'retransmission_ba', 'fast_retransmission', 'duplicate_ack',
              'zero_window'):
        m[f] = sum(inum(r[f]) for r in rs)
    m['ack_rtt_for_ab_data_median'] = m['ack_rtt_for_ba_data_median'] = ''
    return m


def compare_file(netdx, corpus, name):
    ref = load_tshark(os.path.join(corpus, 'reference', name + '.tshark.csv'))
    rc, conns, summary, err = run_netdx(netdx, os.path.join(corpus, 'pcap', name))
    problems = []
    ours, theirs = {}, {}
    for c in conns:
        ours.setdefault(frozenset([endpoint(c['client']), endpoint(c['server'])]), []).append(c)
    for r in ref:
        k = frozenset([(r['addr_a'], int(r['port_a'])), (r['addr_b'], int(r['port_b']))])
        theirs.setdefault(k, []).append(r)
    n = agree = 0
    for key in sorted(set(ours) & set(theirs), key=lambda k: sorted(map(str, k))):
        o, t = ours[key], theirs[key]
        label = ' <-> '.join('%s:%d' % e for e in sorted(key))
        if len(o) != len(t):
            pairs = [(merge_ours(o), merge_theirs(t), label + ' (summed)')]
        else:
            o = sorted(o, key=lambda c: c['first_ts'])
            t = sorted(t, key=lambda r: float(r['first_time'] or 0))
            pairs = [(oc, tr, label) for oc, tr in zip(o, t)]
        for oc, tr, lb in pairs:
            before = len(problems)
            compare_pair(oc, tr, lb, problems)
            n += 1
            agree += len(problems) == before
    # Streams only one side has are compare_corpus.py's business.
    return problems, '%d of %d stream(s) agree' % (agree, n)


def main():
    args = [a for a in sys.argv[1:] if a != '--all']
    show_all = '--all' in sys.argv
    netdx, corpus = args[0], args[1]
    only = args[2] if len(args) > 2 else ''
    pdir = os.path.join(corpus, 'pcap')
    if not os.path.isdir(pdir):
        print('1..0 # SKIP corpus not found at %s' % corpus)
        return 0
    names = sorted(x for x in os.listdir(pdir) if only in x)
    print('1..%d' % (len(names) + 1))
    failed = 0
    for i, name in enumerate(names, 1):
        problems, info = compare_file(netdx, corpus, name)
        known = KNOWN.get(name)
        seen = problems
        if known:
            want, got = set(known['expect']), set(problems)
            problems = ['unexpected: ' + p for p in sorted(got - want)] + \
                       ['expected but gone: ' + p for p in sorted(want - got)]
            info += '; known difference: ' + known['why']
        ok = not problems
        print('%s %d - %s: %s' % ('ok' if ok else 'not ok', i, name, info))
        for p in (seen if show_all else problems)[:40 if show_all else 20]:
            print('#   ' + p)
        failed += not ok
    stale = [k for k in KNOWN if k not in os.listdir(pdir)]
    print('%s %d - KNOWN table names only existing captures%s' % (
        'not ok' if stale else 'ok', len(names) + 1, (': stale ' + ', '.join(stale)) if stale else ''))
    failed += bool(stale)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
