#!/usr/bin/python3
"""Focus benchmark: conference setup time and signalling throughput.

1. Setup time (loopback, real xmppd + bridge + focus, aiortc participants):
   for each run, two participants join a new room; the clock starts when the
   second participant's session-initiate has been answered (its session-accept
   sent) and stops when both have received their first media from the other.
   Median and p99 over --runs runs (default 50). Target: under 500 ms.
2. Signalling throughput: --confs conferences of 3 scripted participants
   (slixmpp, no media: their session-accept carries a transport and sources
   but no ICE follows), --parallel at a time. Reported: conferences per
   second of wall time, focus CPU per conference, and the bridge's CPU for
   the same load (Colibri2 only) and, from part 1, with media.

The focus and the bridge are pinned to CPU 1, the clients to CPU 0; CPU
figures are utime+stime from /proc/PID/stat. Nothing here asserts a time.

    python3 bench/focus_bench.py [--runs 50] [--confs 60] [--parallel 6]
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'integration'))

import harness as h  # noqa: E402
from bridge_harness import BridgeProc, add_jvb_account, xmppd_for_bridge  # noqa: E402
from focus_harness import FocusProc  # noqa: E402
from jingle_peer import JingleParticipant  # noqa: E402

NS_JINGLE = 'urn:xmpp:jingle:1'
MUC = 'muc.meet.parley'


def cpu_seconds(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    tick = os.sysconf('SC_CLK_TCK')
    return (int(fields[11]) + int(fields[12])) / tick


def pin(pid, cpu):
    try:
        os.sched_setaffinity(pid, {cpu})
    except OSError:
        pass


def pct(values, p):
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * (len(s) - 1)))))
    return s[k]


async def first_media(p, other, deadline):
    while time.monotonic() < deadline:
        if p.audio_frames_from(other) > 0 or p.video_frames_from(other) > 0:
            return time.monotonic()
        await asyncio.sleep(0.002)
    raise AssertionError('%s: no media from %s' % (p.nick, other))


async def setup_run(s, i):
    room = 'bench-%d-%s@%s' % (i, h.uid(), MUC)
    p1 = await JingleParticipant.anonymous(s, name='a%d' % i)
    p2 = await JingleParticipant.anonymous(s, name='b%d' % i)
    try:
        await p1.join(room, 'a')
        mark = len(p2.accepts)
        await p2.join(room, 'b')
        # the clock: p2's session-accept sent (its session-initiate answered)
        while len(p2.accepts) <= mark:
            await asyncio.sleep(0.001)
        t0 = time.monotonic()
        deadline = t0 + 10
        t1, t2 = await asyncio.gather(first_media(p1, 'b', deadline), first_media(p2, 'a', deadline))
        return max(t1, t2) - t0
    finally:
        await p1.close()
        await p2.close()


class Scripted:
    """A signalling-only participant: answers Jingle, accepts with fixed sources."""

    def __init__(self, client, room, nick, base_ssrc):
        self.c, self.room, self.nick, self.base = client, room, nick, base_ssrc

    async def run(self):
        r = await self.c.iq("<iq type='set' id='%s' to='focus.meet.parley'><conference "
                            "xmlns='http://jitsi.org/protocol/focus' room='%s'/></iq>"
                            % (h.uid(), self.room), 20)
        assert r.xml.get('type') == 'result', r
        await h.muc_join(self.c, self.room, self.nick, timeout=20)
        init = await self.c.expect(lambda st: st.xml.find('{%s}jingle' % NS_JINGLE) is not None
                                   and st.xml.find('{%s}jingle' % NS_JINGLE).get('action')
                                   == 'session-initiate', 30, 'session-initiate')
        self.c.send_raw("<iq type='result' id='%s' to='%s'/>" % (init.xml.get('id'), init.xml.get('from')))
        sid = init.xml.find('{%s}jingle' % NS_JINGLE).get('sid')
        a, v = self.base, self.base + 1
        acc = ("<iq type='set' id='%s' to='%s/focus'><jingle xmlns='%s' action='session-accept' sid='%s'>"
               "<content name='audio' creator='responder'><description xmlns='urn:xmpp:jingle:apps:rtp:1' "
               "media='audio'><source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='%d' name='%s-a0'>"
               "<parameter name='msid' value='m%d a%d'/></source></description>"
               "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='uf%d' pwd='pwdpwdpwdpwdpwdpwdpwd%d'>"
               "<fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='active'>"
               "%s</fingerprint></transport></content>"
               "<content name='video' creator='responder'><description xmlns='urn:xmpp:jingle:apps:rtp:1' "
               "media='video'><source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='%d' name='%s-v0'>"
               "<parameter name='msid' value='m%d v%d'/></source></description></content></jingle></iq>"
               % (h.uid(), self.room, NS_JINGLE, sid, a, self.nick, a, a, a, a,
                  ':'.join(['AB'] * 32), v, self.nick, v, v))
        r = await self.c.iq(acc, 20)
        assert r.xml.get('type') == 'result', r


async def signalling(s, confs, parallel):
    sem = asyncio.Semaphore(parallel)
    clients = []

    async def one(i):
        async with sem:
            room = 'sig-%d-%s@%s' % (i, h.uid(), MUC)
            cs = [await h.login(s, 'meet.parley') for _ in range(3)]
            clients.extend(cs)
            await asyncio.gather(*(Scripted(c, room, 'n%d' % k, 1000000 + i * 100 + k * 10).run()
                                   for k, c in enumerate(cs)))
            for c in cs:
                await c.close()

    await asyncio.gather(*(one(i) for i in range(confs)))


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--runs', type=int, default=50)
    ap.add_argument('--confs', type=int, default=60)
    ap.add_argument('--parallel', type=int, default=6)
    args = ap.parse_args()
    pin(0, 0)
    with tempfile.TemporaryDirectory(prefix='parley-fbench-') as d:
        with h.Server(d, **xmppd_for_bridge(XMPP_LOGIN_RATE=100000, XMPP_MAX_CONNECTIONS=100000)) as s:
            add_jvb_account(s)
            with BridgeProc(d, s) as b, FocusProc(d, s) as f:
                pin(f.proc.pid, 1)
                pin(b.proc.pid, 1)
                # 1. setup time
                fc0, bc0 = cpu_seconds(f.proc.pid), cpu_seconds(b.proc.pid)
                times = []
                t_start = time.monotonic()
                for i in range(args.runs):
                    times.append(await setup_run(s, i))
                wall = time.monotonic() - t_start
                fc1, bc1 = cpu_seconds(f.proc.pid), cpu_seconds(b.proc.pid)
                print('setup time (second participant accepted -> first media at both), %d runs:'
                      % len(times))
                print('  median %.0f ms, p99 %.0f ms, min %.0f ms, max %.0f ms (target < 500 ms)'
                      % (statistics.median(times) * 1000, pct(times, 99) * 1000, min(times) * 1000,
                         max(times) * 1000))
                print('  CPU over those %.1f s: focus %.3f s, bridge %.3f s (bridge/focus %.1fx)'
                      % (wall, fc1 - fc0, bc1 - bc0, (bc1 - bc0) / max(fc1 - fc0, 1e-6)))
                # 2. signalling throughput
                fc0, bc0 = cpu_seconds(f.proc.pid), cpu_seconds(b.proc.pid)
                t0 = time.monotonic()
                await signalling(s, args.confs, args.parallel)
                wall = time.monotonic() - t0
                fc1, bc1 = cpu_seconds(f.proc.pid), cpu_seconds(b.proc.pid)
                fcpu = fc1 - fc0
                print('signalling only: %d conferences of 3 scripted participants, %d at a time'
                      % (args.confs, args.parallel))
                print('  %.1f conferences/s wall (the Python clients are the limit), focus CPU %.2f ms'
                      ' per conference = %.0f conferences per focus CPU-second; bridge CPU %.2f ms'
                      ' per conference' % (args.confs / wall, fcpu / args.confs * 1000,
                                           args.confs / max(fcpu, 1e-6),
                                           (bc1 - bc0) / args.confs * 1000))


if __name__ == '__main__':
    asyncio.run(main())
