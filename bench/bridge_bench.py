#!/usr/bin/env python3
"""Bridge (SFU) forwarding benchmark: parley's bridge under load against the
bare limit of the same work in one C loop.

One command, builds nothing (binaries from $PARLEY_BUILD_DIR, default
/work/main/build: xmppd/xmppd, xmppd/parleyctl, bridge/bridge,
bench/bridge_load, bench/srtp_bare). It starts xmppd (tests/integration
harness.Server, focus component secret JICOFO_COMPONENT_SECRET, the jvb
account made with parleyctl) and, for every round, a fresh bridge
(bridge_harness.BridgeProc) pinned to CPU 1; then it runs

  * bench/bridge_load pinned to CPU 0: the focus stand-in plus N media
    endpoints per load step (Colibri2 allocation, ICE, DTLS-SRTP, Opus-like
    and VP8-like streams with timestamps in the payload); it reports
    offered and forwarded packets/s, forwarded packets per bridge
    CPU-second, loss, p50/p99 one-way latency, bridge RSS per endpoint;
  * bench/srtp_bare (forwarding thread on CPU 1, sender and sinks on CPU 0):
    receive -> SRTP unprotect -> protect per receiver -> sendmmsg, for both
    SRTP profiles with 3 receivers at 20k packets/s in and, for the ratio,
    at each step's offered rate and fan-out (N-1 receivers) in
    AEAD_AES_128_GCM, the profile the bridge negotiates;

alternating A B A B over --rounds rounds, and prints the medians per step and
the ratio bridge / bare (forwarded packets per CPU-second). Loopback only;
every run is bounded in time. See bench/README.md.

  python3 bench/bridge_bench.py [--rounds 3] [--steps 4,8,12,16,20,24,28] [--duration 5]
"""

import argparse
import json
import os
import statistics
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tests', 'integration'))
import harness  # noqa: E402
import bridge_harness  # noqa: E402


# The focus stand-in logs in as a client (no collision with a focus
# component that may be running against the same xmppd).
FOCUS_JID = 'focus@%s'
FOCUS_PASSWORD = 'focus-pw-' + harness.uid()


def log(msg):
    print('[bridge_bench %s] %s' % (time.strftime('%H:%M:%S'), msg), file=sys.stderr, flush=True)


def pin(pid, cpus):
    """taskset -a -p: every thread of pid onto cpus."""
    try:
        for tid in os.listdir('/proc/%d/task' % pid):
            os.sched_setaffinity(int(tid), cpus)
    except OSError as e:
        log('cannot pin %d to %s: %s' % (pid, cpus, e))


def results(text):
    out = []
    for line in text.splitlines():
        if line.startswith('RESULT '):
            out.append(json.loads(line[len('RESULT '):]))
    return out


def run_load(exe, s, b, args, timeout):
    prefix = os.environ.get('BRIDGE_LOAD_PREFIX', '').split()  # e.g. "gdb -batch -ex run -ex bt --args"
    cmd = ['taskset', '-c', '0'] + prefix + [exe,
           '--xmpp-port', str(s.port), '--jid', FOCUS_JID % s.auth_domain,
           '--password', FOCUS_PASSWORD, '--brewery', bridge_harness.BREWERY,
           '--bridge-id', b.id, '--bridge-pid', str(b.proc.pid),
           '--steps', args.steps, '--duration', str(args.duration),
           '--video-pps', str(args.video_pps), '--conf-size', str(args.conf_size),
           '--tick-ms', str(args.tick_ms), '--bridge-http', str(b.http_port)] + \
        (['--aligned'] if args.aligned else [])
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    for line in p.stdout.splitlines():
        if not line.startswith('RESULT ') and (prefix or line.startswith('step')):
            log('  ' + line)
    if p.stderr.strip():
        log('  bridge_load stderr: ' + p.stderr.strip()[-2000:])
    if p.returncode != 0:
        log('  bridge_load exited with %d' % p.returncode)
    return results(p.stdout)


def run_bare(exe, profile, receivers, pps, args):
    cmd = [exe, '--profile', profile, '--receivers', str(receivers),
           '--duration', str(args.bare_duration), '--pps', str(pps),
           '--fwd-cpu', '1', '--load-cpu', '0']
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=args.bare_duration + 30,
                       stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        log('  srtp_bare %s R=%d exited with %d: %s' % (profile, receivers, p.returncode,
                                                        p.stderr.strip()[-1000:]))
    r = results(p.stdout)
    return r[0] if r else None


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


ECHO = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 0))
s.settimeout(30)
print(s.getsockname()[1], flush=True)
while True:
    d, a = s.recvfrom(2048)
    if d == b'quit':
        break
    s.sendto(d, a)
"""


def wake_floor(count=2000, gap_s=0.001):
    """The machine's floor for 'added latency': a trivial UDP echo (Python)
    pinned to CPU 1, pinged from CPU 0 every gap_s (so it sleeps between
    pings, as an idle bridge does); returns round-trip (p50, p99) in us."""
    echo = subprocess.Popen(['taskset', '-c', '1', sys.executable, '-c', ECHO],
                            stdout=subprocess.PIPE, text=True)
    try:
        port = int(echo.stdout.readline())
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2)
        rtts = []
        for _ in range(count):
            t = time.perf_counter()
            s.sendto(b'x' * 100, ('127.0.0.1', port))
            s.recvfrom(2048)
            rtts.append((time.perf_counter() - t) * 1e6)
            until = time.perf_counter() + gap_s
            while time.perf_counter() < until:  # busy: this side stays awake
                pass
        s.sendto(b'quit', ('127.0.0.1', port))
        s.close()
    finally:
        try:
            echo.wait(5)
        except subprocess.TimeoutExpired:
            echo.kill()
    rtts.sort()
    return rtts[len(rtts) // 2], rtts[len(rtts) * 99 // 100]


def ms_to_us(v):
    return None if v is None or v < 0 else v * 1000


def fmt(v, spec):
    return '-' if v is None else format(v, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--steps', default='4,8,12,16,20,24,28',
                    help='endpoints per step (comma separated)')
    ap.add_argument('--conf-size', type=int, default=0,
                    help='endpoints per conference (0: all of a step in one conference)')
    ap.add_argument('--duration', type=float, default=5, help='measured seconds per step')
    ap.add_argument('--video-pps', type=int, default=150)
    ap.add_argument('--tick-ms', type=int, default=1, help='load generator pacing tick')
    ap.add_argument('--bare-duration', type=float, default=2)
    ap.add_argument('--bare-pps', type=int, default=20000,
                    help='packets/s into srtp_bare for the profile comparison (R=3)')
    ap.add_argument('--no-bare', action='store_true')
    ap.add_argument('--aligned', action='store_true',
                    help='every endpoint starts its streams in the same tick (bursts of N packets)')
    args = ap.parse_args()
    steps = [int(x) for x in args.steps.split(',')]
    bdir = harness.build_dir()
    load_exe = os.path.join(bdir, 'bench', 'bridge_load')
    bare_exe = os.path.join(bdir, 'bench', 'srtp_bare')
    for exe in (load_exe, bare_exe, harness.xmppd_path(), bridge_harness.bridge_path()):
        if not os.access(exe, os.X_OK):
            sys.exit('missing %s (build first; PARLEY_BUILD_DIR=%s)' % (exe, bdir))
    if os.cpu_count() < 2:
        sys.exit('needs two CPUs')
    os.sched_setaffinity(0, {0})
    per_step_time = 4 + 1 + args.duration + 1
    load_timeout = 30 + len(steps) * (per_step_time + 25)
    log('build dir %s; steps %s; %d rounds of %.0f s per step' % (bdir, steps, args.rounds,
                                                                   args.duration))
    bridge_rows = {n: [] for n in steps}
    bare_rows = {}
    floors = []
    with tempfile.TemporaryDirectory(prefix='parley-bridge-bench-') as d:
        with harness.Server(d, **bridge_harness.xmppd_for_bridge()) as s:
            pin(s.proc.pid, {0})
            bridge_harness.add_jvb_account(s)
            s.adduser(FOCUS_JID % s.auth_domain, FOCUS_PASSWORD)
            for rnd in range(args.rounds):
                log('round %d/%d: bridge' % (rnd + 1, args.rounds))
                floors.append(wake_floor())
                with bridge_harness.BridgeProc(d, s, BRIDGE_STATS_INTERVAL=5) as b:
                    pin(b.proc.pid, {1})
                    time.sleep(0.5)
                    for r in run_load(load_exe, s, b, args, load_timeout):
                        bridge_rows[r['n']].append(r)
                    b.check()
                if args.no_bare:
                    continue
                log('round %d/%d: srtp_bare' % (rnd + 1, args.rounds))
                step_pps = 50 + args.video_pps
                configs = ([('cm', 3, args.bare_pps), ('gcm', 3, args.bare_pps)] +
                           [('gcm', n - 1, n * step_pps) for n in steps])
                for prof, rcv, pps in configs:
                    r = run_bare(bare_exe, prof, rcv, pps, args)
                    if r:
                        bare_rows.setdefault((prof, rcv, pps), []).append(r)
    # ---- report ----
    print()
    print('Bridge forwarding, %d rounds, medians (bridge on CPU 1, load generator on CPU 0; '
          'audio 50 pps x 150 B + video %d pps x 1100 B per endpoint, %s)'
          % (args.rounds, args.video_pps,
             'one conference per step' if args.conf_size == 0 else
             'conferences of %d' % args.conf_size))
    hdr = ('%4s %9s %10s %10s %10s %9s %6s %8s %8s %8s %9s %9s %8s %8s %7s'
           % ('N', 'offered', 'expected', 'forwarded', 'fwd/CPU-s', 'bridgeCPU', 'wait',
              'loss%', 'p50 us', 'p99 us', 'added p50', 'added p99', 'RSS MiB', 'KiB/ep',
              'ratio'))
    print(hdr)
    print('-' * len(hdr))
    for n in steps:
        rows = bridge_rows[n]
        if not rows:
            print('%4d  (no valid run)' % n)
            continue
        m = {k: med([r[k] for r in rows]) for k in
             ('offered_pps', 'forwarded_pps', 'fwd_per_cpu_s', 'loss_pct', 'p50_us', 'p99_us',
              'rss_kib', 'kib_per_ep', 'bridge_cpu_s', 'window_s', 'expected',
              'bridge_delay_p50_ms', 'bridge_delay_p99_ms')}
        m['expected_pps'] = med([r['expected'] / r['window_s'] for r in rows])
        cpu_pct = med([100 * r['bridge_cpu_s'] / r['window_s'] for r in rows])
        wait_pct = med([100 * r['bridge_wait_s'] / r['window_s'] for r in rows])
        bare = med([r['out_per_cpu_s']
                    for r in bare_rows.get(('gcm', n - 1, n * (50 + args.video_pps)), [])])
        ratio = m['fwd_per_cpu_s'] / bare if bare and m['fwd_per_cpu_s'] else None
        print('%4d %9s %10s %10s %10s %8s%% %5s%% %8s %8s %8s %9s %9s %8s %8s %7s'
              % (n, fmt(m['offered_pps'], '.0f'), fmt(m['expected_pps'], '.0f'),
                 fmt(m['forwarded_pps'], '.0f'), fmt(m['fwd_per_cpu_s'], '.0f'),
                 fmt(cpu_pct, '.0f'), fmt(wait_pct, '.0f'), fmt(m['loss_pct'], '.3f'),
                 fmt(m['p50_us'], '.0f'),
                 fmt(m['p99_us'], '.0f'),
                 fmt(ms_to_us(m['bridge_delay_p50_ms']), '.0f'),
                 fmt(ms_to_us(m['bridge_delay_p99_ms']), '.0f'),
                 fmt(m['rss_kib'] / 1024, '.1f'),
                 fmt(m['kib_per_ep'], '.1f'), fmt(ratio, '.2f')))
    print('wait = time the bridge was runnable but not running (/proc/PID/schedstat), in % of '
          'the window: another process on its CPU; p50/p99 of 200000 mean >= 200 ms;\n'
          'p50/p99 us: one way through bridge and load generator; added p50/p99 us: what the '
          'bridge added (kernel receive timestamp -> sendmmsg of each copy, its /metrics histogram)')
    if floors:
        print('wake-up floor of this machine: a trivial UDP echo on CPU 1 pinged every 1 ms from '
              'CPU 0, round trip p50 %.0f us, p99 %.0f us (medians of %d rounds)'
              % (med([f[0] for f in floors]), med([f[1] for f in floors]), len(floors)))
    if bare_rows:
        print()
        print('Bare loop (srtp_bare: recvmmsg -> unprotect -> protect x R -> sendmmsg, one '
              'thread on CPU 1), %d rounds, medians' % args.rounds)
        hdr = '%-24s %3s %9s %10s %12s %10s %8s' % ('profile', 'R', 'in pps', 'out pps',
                                                     'out/CPU-s', 'us/out pkt', 'loss%')
        print(hdr)
        print('-' * len(hdr))
        for (prof, rcv, pps), rows in sorted(bare_rows.items()):
            name = 'AEAD_AES_128_GCM' if prof == 'gcm' else 'AES_CM_128_HMAC_SHA1_80'
            print('%-24s %3d %9s %10s %12s %10s %8s'
                  % (name, rcv, fmt(med([r['in_pps'] for r in rows]), '.0f'),
                     fmt(med([r['out_pps'] for r in rows]), '.0f'),
                     fmt(med([r['out_per_cpu_s'] for r in rows]), '.0f'),
                     fmt(med([r['us_per_out'] for r in rows]), '.2f'),
                     fmt(med([r['loss_pct'] for r in rows]), '.3f')))
        print()
        print('ratio = bridge forwarded packets per bridge CPU-second / srtp_bare packets out '
              'per CPU-second (AEAD_AES_128_GCM, R = N-1, same packets/s in as the step)')
    print()
    print('raw: ' + json.dumps({'wake_floor_us': floors, 'bridge': bridge_rows,
                                'bare': {'%s/R%d/%dpps' % k: v for k, v in bare_rows.items()}}))


if __name__ == '__main__':
    main()
