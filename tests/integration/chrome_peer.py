"""Headless Chromium as a conference participant, for bridge/focus tests.

    peer = ChromePeer('ep0')                  # starts node js/webrtc_peer.cjs lazily
    answer = await peer.answer(offer_sdp)     # first offer, and later re-offers
    await peer.wait_connected(15)
    await peer.refresh()                      # fetch getStats() once, cache it
    peer.video_frames_from('ep1'), peer.audio_frames_from('ep1')   # read the cache
    await peer.close()

The same interface as rtc_peer.Peer for what bridge_harness.Call and the bridge
tests use (answer, wait_connected, audio_frames_from, video_frames_from, close,
name, mid_owner, connection_state), with one difference: Chromium's counters live
in the browser, so the sync getters read the stats cached by the last
`await refresh()`. Poll with an async condition that refreshes first, e.g.

    async def ok():
        await peer.refresh()
        return peer.video_frames_from('ep1') > 20
    await wait_for(ok, 20, 'video from ep1')

What counts as a frame:
  video  inbound-rtp framesDecoded of the m-line(s) owned by that endpoint
  audio  inbound-rtp packetsReceived (Chromium has no framesDecoded for audio;
         one Opus packet is one 20 ms frame)

Chromium sends its fake camera (a 640x480 test pattern with a timer) and fake
microphone (a beep every second) on mids 0 and 1 of the bridge's offer.

Chromium must run where it sees only loopback: run the test process inside its
own network namespace with reexec_in_netns() (xmppd, the bridge, aiortc peers and
Chromium all start inside it then; the host's 127.0.0.1 is not reachable from there).

    if __name__ == '__main__':
        if not in_netns():
            sys.exit(reexec_in_netns())
        main(globals())
"""

import asyncio
import itertools
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from rtc_peer import mid_owners, wait_for  # noqa: E402

JS_DIR = os.path.join(HERE, 'js')
TESTS_DIR = os.path.dirname(HERE)
SCRIPT = os.path.join(JS_DIR, 'webrtc_peer.cjs')
CHROMIUM = '/usr/bin/chromium'
NETNS_ENV = 'PARLEY_IN_NETNS'

# ---------------------------------------------------------------- network namespace


def in_netns():
    """True when this process was started by reexec_in_netns (it runs in a fresh
    network namespace whose only interface is lo, up, with IPv6 off)."""
    return os.environ.get(NETNS_ENV) == '1'


def reexec_in_netns(argv=None, python='/usr/bin/python3'):
    """Run this script again inside a fresh network namespace and return its exit code.

    Runs `unshare -n sh -c 'ip link set lo up && ... && exec python3 SCRIPT ARGS'` with
    PARLEY_IN_NETNS=1 in the environment (PARLEY_BUILD_DIR and everything else is
    inherited), so in_netns() is true in the child. argv defaults to sys.argv (the script
    path made absolute). Inside, lo is the only interface and only 127.0.0.1 is on it
    (IPv6 is switched off in the namespace), so both aiortc (pinned to 127.0.0.1 anyway)
    and Chromium gather 127.0.0.1 host candidates only. The child is the same process
    (unshare and sh exec it); everything it starts lives in the namespace and is gone
    with it. Needs root (or CAP_SYS_ADMIN) and iproute2; if unshare is missing or not
    permitted, the child's failure to start shows in its output and exit code.
    A KeyboardInterrupt/exception here kills the child."""
    argv = list(sys.argv if argv is None else argv)
    if argv:
        argv[0] = os.path.abspath(argv[0])
    inner = ' '.join(_sh_quote(a) for a in [python] + argv)
    script = ('ip link set lo up && '
              '{ sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.lo.disable_ipv6=1 '
              '2>/dev/null || true; } && exec ' + inner)
    env = dict(os.environ)
    env[NETNS_ENV] = '1'
    proc = subprocess.Popen(['unshare', '-n', 'sh', '-c', script], env=env)
    try:
        return proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise


def _sh_quote(s):
    return "'" + s.replace("'", "'\"'\"'") + "'"


def chromium_available():
    return os.access(CHROMIUM, os.X_OK) and shutil.which('node') is not None \
        and os.path.isdir(os.path.join(TESTS_DIR, 'node_modules', 'playwright-core'))


# ---------------------------------------------------------------- the peer


class ChromePeerError(RuntimeError):
    pass


class ChromePeer:
    """One Chromium tab with one RTCPeerConnection, driven through js/webrtc_peer.cjs.

    Attributes:
      name          the endpoint id (for messages)
      mid_owner     {mid: (kind, endpoint id)} from the latest offer (rtc_peer.mid_owners)
      last_stats    the latest stats reply: connectionState, iceConnectionState,
                    inbound {mid: {kind, framesDecoded, packetsReceived, bytesReceived, ssrc}},
                    outbound {mid: {...}}, transport {dtlsState, srtpCipher, tlsVersion, ...}
      events        console/pageerror/fatal events from the page, in order
      offers        offers answered
    """

    def __init__(self, name):
        self.name = name
        self.mid_owner = {}
        self.last_stats = {'connectionState': 'new', 'inbound': {}, 'outbound': {},
                           'transport': None}
        self.events = []
        self.offers = 0
        self.proc = None
        self.stderr = b''
        self.version = None
        self._ids = itertools.count(1)
        self._pending = {}
        self._ready = None
        self._tasks = []
        self._closed = False
        self._start_lock = asyncio.Lock()

    # -- process
    async def start(self, timeout=40):
        async with self._start_lock:
            if self.proc is not None:
                return self
            loop = asyncio.get_running_loop()
            self._ready = loop.create_future()
            self.proc = await asyncio.create_subprocess_exec(
                'node', SCRIPT, cwd=TESTS_DIR, stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                limit=16 * 1024 * 1024)
            self._tasks = [asyncio.ensure_future(self._read()),
                           asyncio.ensure_future(self._read_err())]
            try:
                ev = await asyncio.wait_for(asyncio.shield(self._ready), timeout)
            except asyncio.TimeoutError:
                raise ChromePeerError('%s: chromium not ready within %ss; %s'
                                      % (self.name, timeout, self._diag()))
            if ev.get('ev') != 'ready':
                raise ChromePeerError('%s: chromium did not start: %s; %s'
                                      % (self.name, ev, self._diag()))
            self.version = ev.get('version')
            return self

    def _diag(self):
        return 'recent events: %s; stderr: %s' % (
            self.events[-8:], self.stderr[-1500:].decode('utf-8', 'replace'))

    async def _read(self):
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                break
            try:
                msg = json.loads(line)
            except ValueError:
                self.events.append({'ev': 'junk', 'line': line.decode('utf-8', 'replace')})
                continue
            if 'ev' in msg:
                self.events.append(msg)
                if msg['ev'] in ('ready', 'fatal') and self._ready and not self._ready.done():
                    self._ready.set_result(msg)
                continue
            fut = self._pending.pop(msg.get('id'), None)
            if fut is not None and not fut.done():
                fut.set_result(msg)
        rc = await self.proc.wait()
        ev = {'ev': 'exit', 'rc': rc}
        self.events.append(ev)
        if self._ready and not self._ready.done():
            self._ready.set_result(ev)
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(ChromePeerError('%s: webrtc_peer.cjs exited (%s); %s'
                                                  % (self.name, rc, self._diag())))
        self._pending.clear()

    async def _read_err(self):
        while True:
            chunk = await self.proc.stderr.read(65536)
            if not chunk:
                break
            self.stderr = (self.stderr + chunk)[-20000:]

    async def _call(self, cmd, timeout, **kw):
        await self.start()
        if self.proc.returncode is not None:
            raise ChromePeerError('%s: webrtc_peer.cjs is not running; %s' % (self.name, self._diag()))
        req_id = next(self._ids)
        fut = asyncio.get_running_loop().create_future()
        self._pending[req_id] = fut
        kw.update(id=req_id, cmd=cmd, timeout=int(timeout * 1000))
        self.proc.stdin.write((json.dumps(kw) + '\n').encode())
        await self.proc.stdin.drain()
        try:
            reply = await asyncio.wait_for(fut, timeout + 5)
        except asyncio.TimeoutError:
            self._pending.pop(req_id, None)
            raise ChromePeerError('%s: no reply to %s within %ss; %s'
                                  % (self.name, cmd, timeout + 5, self._diag()))
        if 'error' in reply:
            raise ChromePeerError('%s: %s failed: %s; %s' % (self.name, cmd, reply['error'],
                                                             self._diag()))
        return reply

    # -- the Peer interface
    async def answer(self, offer_sdp, timeout=20):
        """Apply an offer (first one or a re-offer adding m-lines) and return Chromium's
        SDP answer with every candidate in it (gathering completes first)."""
        reply = await self._call('answer', timeout, sdp=offer_sdp)
        self.mid_owner.update(mid_owners(offer_sdp))
        self.offers += 1
        return reply['sdp']

    async def refresh(self, timeout=10):
        """Fetch getStats() from the page and cache it for the sync getters."""
        self.last_stats = await self._call('stats', timeout)
        return self.last_stats

    @property
    def connection_state(self):
        """RTCPeerConnection.connectionState as of the last refresh()."""
        return self.last_stats.get('connectionState')

    async def wait_connected(self, timeout=10):
        async def ok():
            st = await self.refresh()
            if st.get('connectionState') == 'failed':
                raise ConnectionError('%s: connection failed: %s' % (self.name, st))
            return st.get('connectionState') == 'connected'
        await wait_for(ok, timeout, lambda: '%s connectionState connected (last stats %s)'
                       % (self.name, self.last_stats), interval=0.2)

    def _count_from(self, kind, remote_ep, field):
        n = 0
        for mid, s in self.last_stats.get('inbound', {}).items():
            if s.get('kind') == kind and self.mid_owner.get(mid, (None, None))[1] == remote_ep:
                n += s.get(field) or 0
        return n

    def audio_frames_from(self, remote_ep):
        """Audio packets (= 20 ms Opus frames) received from remote_ep, as of refresh()."""
        return self._count_from('audio', remote_ep, 'packetsReceived')

    def video_frames_from(self, remote_ep):
        """Video frames decoded from remote_ep, as of refresh()."""
        return self._count_from('video', remote_ep, 'framesDecoded')

    @property
    def srtp_cipher(self):
        t = self.last_stats.get('transport') or {}
        return t.get('srtpCipher')

    async def close(self, timeout=10):
        if self._closed:
            return
        self._closed = True
        if self.proc is None:
            return
        if self.proc.returncode is None:
            try:
                await self._call('close', timeout)
            except (ChromePeerError, ConnectionError, OSError):
                pass
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except asyncio.TimeoutError:
                pass
        if self.proc.returncode is None:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except asyncio.TimeoutError:
                pass
        for t in self._tasks:
            if not t.done():
                t.cancel()
