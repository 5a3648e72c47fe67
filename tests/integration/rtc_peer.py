"""An aiortc (Debian python3-aiortc 1.4) peer for bridge/focus integration tests.

    peer = Peer('ep1')
    answer = await peer.answer(offer_sdp)          # first offer, and later re-offers
    await peer.wait_connected(10)
    await wait_for(lambda: peer.video_frames_from('ep2') > 30, 10, 'video from ep2')
    await peer.send_pli(ssrc_of_ep2_video)         # PLI from this peer, through the bridge
    await wait_for(lambda: other.pli_received > 0, 5, 'PLI at ep2')
    await peer.close()

Import side effects: host candidates are pinned to 127.0.0.1 (aioice 0.8
`aioice.ice.get_host_addresses(use_ipv4, use_ipv6)`), and peers are built with no ICE
servers (aiortc's default would query stun.l.google.com).

Run with /usr/bin/python3 (Debian's aiortc, aioice, av, numpy).
"""

import asyncio
import collections
import fractions
import inspect
import logging
import math
import re
import time

import aioice.ice
import numpy
from av import AudioFrame, VideoFrame

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtp import (RTCP_PSFB_APP, RTCP_PSFB_PLI, RTCP_RTPFB_NACK, RtcpPsfbPacket,
                        RtcpRtpfbPacket)

try:  # the same module, imported either as a sibling file or from the package
    from colibri_sdp import parse_sdp
except ImportError:  # pragma: no cover
    from .colibri_sdp import parse_sdp

LOOPBACK = '127.0.0.1'


def _loopback_only(use_ipv4=True, use_ipv6=False):
    return [LOOPBACK] if use_ipv4 else []


aioice.ice.get_host_addresses = _loopback_only


def _patch_rtx_routing():
    """aiortc 1.4 bug: RTCDtlsTransport._register_rtp_receiver registers only the primary
    SSRC of each encoding, never encoding.rtx.ssrc. RtpRouter.route_rtp then finds an RTX
    packet's SSRC unknown and its payload type (96) shared by every video receiver on the
    bundle (mid 1 and each remote endpoint's video m-line), so it drops every RTX packet.
    Register the RTX SSRC with the same receiver (which already maps it back to the
    primary SSRC in RTCRtpReceiver.__rtx_ssrc)."""
    from aiortc.rtcdtlstransport import RTCDtlsTransport
    orig = RTCDtlsTransport._register_rtp_receiver
    if getattr(orig, '_parley_rtx_patch', False):
        return

    def register(self, receiver, parameters):
        orig(self, receiver, parameters)
        for enc in parameters.encodings:
            if enc.rtx is not None and enc.rtx.ssrc is not None:
                self._rtp_router.ssrc_table[enc.rtx.ssrc] = receiver

    register._parley_rtx_patch = True
    RTCDtlsTransport._register_rtp_receiver = register


_patch_rtx_routing()

log = logging.getLogger('rtc_peer')


async def wait_for(cond, timeout, what=None, interval=0.05):
    """Poll cond() (plain or async callable) every `interval` s until it is truthy;
    return its value. Raise TimeoutError naming `what` (a string, or a callable giving
    one, evaluated at the timeout so it can show the final state) after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() >= deadline:
            desc = what() if callable(what) else what
            raise TimeoutError('timed out after %.1fs waiting for %s'
                               % (timeout, desc or getattr(cond, '__name__', repr(cond))))
        await asyncio.sleep(interval)


# ---------------------------------------------------------------- synthetic media

AUDIO_RATE = 48000
AUDIO_PTIME = 0.020
VIDEO_RATE = 90000
VIDEO_FPS = 30


class SineAudioTrack(MediaStreamTrack):
    """48 kHz mono s16 sine, 20 ms frames, paced in real time."""
    kind = 'audio'

    def __init__(self, freq=440.0, amplitude=8000):
        super().__init__()
        self.freq = freq
        self.amplitude = amplitude
        self._start = None
        self._pts = 0
        self.frames_sent = 0

    async def recv(self):
        if self.readyState != 'live':
            raise MediaStreamError
        samples = int(AUDIO_RATE * AUDIO_PTIME)
        if self._start is None:
            self._start = time.time()
        else:
            self._pts += samples
            await asyncio.sleep(max(0.0, self._start + self._pts / AUDIO_RATE - time.time()))
        t = (numpy.arange(samples) + self._pts) / AUDIO_RATE
        pcm = (self.amplitude * numpy.sin(2 * math.pi * self.freq * t)).astype(numpy.int16)
        frame = AudioFrame.from_ndarray(pcm.reshape(1, -1), format='s16', layout='mono')
        frame.sample_rate = AUDIO_RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        self.frames_sent += 1
        return frame


class MovingVideoTrack(MediaStreamTrack):
    """320x240 at 30 fps: a gradient with a moving bar, different in every frame."""
    kind = 'video'

    def __init__(self, width=320, height=240, fps=VIDEO_FPS):
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self._start = None
        self._n = 0
        self.frames_sent = 0
        yy, xx = numpy.mgrid[0:height, 0:width]
        self._base = ((xx + yy) % 256).astype(numpy.uint8)

    async def recv(self):
        if self.readyState != 'live':
            raise MediaStreamError
        if self._start is None:
            self._start = time.time()
        else:
            self._n += 1
            await asyncio.sleep(max(0.0, self._start + self._n / self.fps - time.time()))
        img = numpy.repeat(self._base[:, :, None], 3, axis=2)
        img[:, :, 1] = (img[:, :, 1] + 4 * self._n) % 256
        x = (8 * self._n) % self.width
        img[:, x:x + 16, :] = 255
        frame = VideoFrame.from_ndarray(img, format='rgb24')
        frame.pts = int(self._n * VIDEO_RATE / self.fps)
        frame.time_base = fractions.Fraction(1, VIDEO_RATE)
        self.frames_sent += 1
        return frame


# ---------------------------------------------------------------- the peer

_MSID_SUFFIX = re.compile(r'-[av]\d+$')


def _owner_from_msid(msid):
    """'EP-a0 EP-a0' -> 'EP'; 'mixedmslabel mixedlabelaudio0' -> 'jvb'."""
    if not msid:
        return None
    stream = msid.split()[0]
    if stream == 'mixedmslabel':
        return 'jvb'
    return _MSID_SUFFIX.sub('', stream)


def mid_owners(offer_sdp):
    """{mid: (kind, owner endpoint id or None)} from an offer's m-lines (media-level
    a=msid, else the first a=ssrc msid, else the cname)."""
    out = {}
    for m in parse_sdp(offer_sdp)['media']:
        owner = None
        if m['attrs'].get('msid'):
            owner = _owner_from_msid(m['attrs']['msid'][0])
        elif m['ssrcs']:
            a = m['ssrc_attrs'][m['ssrcs'][0]]
            owner = _owner_from_msid(a.get('msid')) or a.get('cname')
        out[m['mid']] = (m['kind'], owner)
    return out


class Peer:
    """One conference participant: an RTCPeerConnection answering the focus's offers.

    Attributes:
      pc                         the RTCPeerConnection
      audio_track, video_track   the synthetic tracks it sends (mid 0 / mid 1)
      frames                     Counter {(kind, mid): decoded frames received}
      mid_owner                  {mid: (kind, endpoint id)} from the latest offer
      pli_received / nack_received / remb_received   RTCP feedback that reached this
                                 peer's video sender (counted before aiortc handles it)
      rtcp_received              Counter {(kind, packet class name/fmt): n} at the senders
    """

    def __init__(self, name, audio=True, video=True):
        self.name = name
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.frames = collections.Counter()
        self.last_video_size = {}
        self.mid_owner = {}
        self.pli_received = 0
        self.nack_received = 0
        self.remb_received = 0
        self.rtcp_received = collections.Counter()
        self.offers = 0
        self._tasks = []
        self._closed = False
        self.audio_track = SineAudioTrack() if audio else None
        self.video_track = MovingVideoTrack() if video else None
        self.audio_sender = self.pc.addTrack(self.audio_track) if audio else None
        self.video_sender = self.pc.addTrack(self.video_track) if video else None
        for sender in (self.audio_sender, self.video_sender):
            if sender is not None:
                self._wrap_sender_rtcp(sender)
        self.pc.on('track', self._on_track)

    # -- ssrcs this peer sends with (what its answer advertises for mid 0 / mid 1)
    @property
    def audio_ssrc(self):
        return self.audio_sender._ssrc if self.audio_sender else None

    @property
    def video_ssrc(self):
        return self.video_sender._ssrc if self.video_sender else None

    @property
    def video_rtx_ssrc(self):
        return self.video_sender._rtx_ssrc if self.video_sender else None

    @property
    def connection_state(self):
        return self.pc.connectionState

    def _wrap_sender_rtcp(self, sender):
        # RtpRouter calls recipient._handle_rtcp_packet(packet) for RTCP whose media
        # SSRC is this sender's; an instance attribute shadows the method.
        orig = sender._handle_rtcp_packet
        kind = sender.kind

        async def counting(packet):
            if isinstance(packet, RtcpPsfbPacket):
                if packet.fmt == RTCP_PSFB_PLI:
                    self.rtcp_received[(kind, 'pli')] += 1
                    if kind == 'video':
                        self.pli_received += 1
                elif packet.fmt == RTCP_PSFB_APP:
                    self.rtcp_received[(kind, 'remb')] += 1
                    if kind == 'video':
                        self.remb_received += 1
                else:
                    self.rtcp_received[(kind, 'psfb%d' % packet.fmt)] += 1
            elif isinstance(packet, RtcpRtpfbPacket):
                if packet.fmt == RTCP_RTPFB_NACK:
                    self.rtcp_received[(kind, 'nack')] += 1
                    if kind == 'video':
                        self.nack_received += 1
                else:
                    self.rtcp_received[(kind, 'rtpfb%d' % packet.fmt)] += 1
            else:
                self.rtcp_received[(kind, type(packet).__name__)] += 1
            await orig(packet)

        sender._handle_rtcp_packet = counting

    def _transceiver_for_track(self, track):
        for t in self.pc.getTransceivers():
            if t.receiver.track is track:
                return t
        return None

    def _on_track(self, track):
        t = self._transceiver_for_track(track)
        mid = t.mid if t is not None else None
        log.debug('%s: track %s mid=%s', self.name, track.kind, mid)
        self._tasks.append(asyncio.ensure_future(self._consume(track, mid)))

    async def _consume(self, track, mid):
        key = (track.kind, mid)
        self.frames[key] += 0
        try:
            while True:
                frame = await track.recv()
                self.frames[key] += 1
                if track.kind == 'video':
                    self.last_video_size[mid] = (frame.width, frame.height)
        except (MediaStreamError, asyncio.CancelledError):
            pass

    async def answer(self, offer_sdp, timeout=10):
        """Apply an offer (first one or a re-offer adding m-lines) and return the SDP
        answer text. Candidates are all in the answer (aiortc gathers before answering)."""
        async def run():
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type='offer'))
            self._fix_receiver_rtcp_ssrcs()
            answer = await self.pc.createAnswer()
            await self.pc.setLocalDescription(answer)
            return self.pc.localDescription.sdp
        self.mid_owner.update(mid_owners(offer_sdp))
        self.offers += 1
        return await asyncio.wait_for(run(), timeout)

    def _fix_receiver_rtcp_ssrcs(self):
        # aiortc sends a receiver's RTCP (RR, NACK, PLI, REMB) from its transceiver's own
        # sender SSRC; for the recvonly transceivers of remote endpoints that SSRC is
        # random and never signalled. Use this peer's signalled audio/video SSRC instead,
        # as browsers do, so the bridge only ever sees known sender SSRCs.
        own = {'audio': self.audio_ssrc, 'video': self.video_ssrc}
        for t in self.pc.getTransceivers():
            if t.sender not in (self.audio_sender, self.video_sender):
                ssrc = own.get(t.kind) or own.get('video') or own.get('audio')
                if ssrc is not None:
                    t.receiver._set_rtcp_ssrc(ssrc)

    async def wait_connected(self, timeout=10):
        def ok():
            if self.pc.connectionState == 'failed':
                raise ConnectionError('%s: connection failed' % self.name)
            return self.pc.connectionState == 'connected'
        await wait_for(ok, timeout, '%s connectionState connected' % self.name)

    # -- received media
    def _frames_from(self, kind, remote_ep):
        return sum(n for (k, mid), n in self.frames.items()
                   if k == kind and self.mid_owner.get(mid, (None, None))[1] == remote_ep)

    def audio_frames_from(self, remote_ep):
        return self._frames_from('audio', remote_ep)

    def video_frames_from(self, remote_ep):
        return self._frames_from('video', remote_ep)

    def receiver_for_ssrc(self, ssrc):
        """The RTCRtpReceiver whose m-line (remote description) carries `ssrc`, or None."""
        remote = self.pc.remoteDescription
        if remote is None:
            return None
        for m in parse_sdp(remote.sdp)['media']:
            if ssrc in m['ssrcs']:
                for t in self.pc.getTransceivers():
                    if t.mid == m['mid']:
                        return t.receiver
        return None

    async def send_pli(self, media_ssrc):
        """Send one RTCP PLI for media_ssrc (a remote endpoint's video SSRC) from this
        peer. Sender SSRC: this peer's video SSRC. Needs the connection up."""
        receiver = self.receiver_for_ssrc(media_ssrc)
        if receiver is None:
            receiver = next((t.receiver for t in self.pc.getTransceivers() if t.kind == 'video'), None)
        if receiver is None or self.pc.connectionState != 'connected':
            raise ConnectionError('%s: cannot send PLI (state %s)' % (self.name, self.pc.connectionState))
        sender_ssrc = self.video_ssrc or self.audio_ssrc
        # receiver._send_rtcp_pli(media_ssrc) would do the same but silently skips when
        # the receiver has no RTCP SSRC; build the packet so the sender SSRC is explicit.
        await receiver.transport._send_rtp(bytes(RtcpPsfbPacket(fmt=RTCP_PSFB_PLI, ssrc=sender_ssrc,
                                                                media_ssrc=media_ssrc)))

    async def send_rtcp(self, data):
        """Send raw RTCP bytes (built by the caller) over this peer's transport, SRTCP
        protected like any other RTCP of the connection."""
        t = next((t.receiver for t in self.pc.getTransceivers() if t.kind == 'video'), None)
        if t is None or self.pc.connectionState != 'connected':
            raise ConnectionError('%s: cannot send RTCP (state %s)' % (self.name, self.pc.connectionState))
        await t.transport._send_rtp(bytes(data))

    async def stats(self):
        """{(type, ssrc): RTCStats} from pc.getStats() (inbound-rtp, outbound-rtp, ...)."""
        report = await self.pc.getStats()
        return {(s.type, getattr(s, 'ssrc', None)): s for s in report.values()}

    async def close(self, timeout=10):
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.wait_for(self.pc.close(), timeout)
        except asyncio.TimeoutError:
            log.warning('%s: pc.close() timed out', self.name)
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2)
