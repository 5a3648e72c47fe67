#!/usr/bin/python3
"""The bridge (SFU) with real peers: xmppd + bridge on loopback, a focus
stand-in speaking Colibri2 through xmppd (bridge_harness.FocusDriver), and
aiortc peers (rtc_peer.Peer) that answer the SDP offers built from the
bridge's Colibri2 answers. Media must flow between every pair of peers."""

import binascii
import contextlib
import hashlib
import hmac
import json
import os
import urllib.parse
import socket
import struct
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (NS_STANZAS, WSRaw, is_muc_presence, login, main, server,  # noqa: E402
                     timeout, uid)
from bridge_harness import (BREWERY, NS_C2, Call, FocusDriver, add_jvb_account,  # noqa: E402
                            bridge, xmppd_for_bridge)
import colibri_sdp  # noqa: E402
from rtc_peer import Peer, wait_for  # noqa: E402

FRAMES = 20  # decoded frames from each other peer, audio and video


async def expect_media(call, frames=FRAMES, timeout_s=20):
    ids = list(call.peers)

    def state():
        return {a: {b: (call.peers[a].audio_frames_from(b), call.peers[a].video_frames_from(b))
                    for b in ids if b != a} for a in ids}

    def ok():
        return all(au >= frames and vi >= frames
                   for per in state().values() for au, vi in per.values())
    await wait_for(ok, timeout_s, lambda: 'media between every pair: %s' % state())


@timeout(90)
async def test_three_aiortc_peers_hear_and_see_each_other():
    # running_call has each peer decode audio and video from both others
    async with running_call() as (s, b, focus, call):
        st = b.stats()
        assert st['conferences'] == 1 and st['endpoints'] == 3, st
        assert st['endpoints_ice_connected'] == 3, st
        assert st['rtp_forwarded'] > 0 and st['pli_generated'] >= 0, st
        # the time forwarded copies spent in the bridge: a histogram with one
        # count per copy sent, and p50 <= p99 of the last interval
        hist = forward_delay_histogram(b)
        assert hist['count'] > 0 and hist['buckets'][-1] == ('+Inf', hist['count']), hist
        counts = [n for _, n in hist['buckets']]
        assert counts == sorted(counts), 'cumulative buckets: %s' % hist
        assert hist['count'] <= b.stats()['tx_packets'], hist
        assert 0 < st['forward_delay_p50_ms'] <= st['forward_delay_p99_ms'] < 1000, st


def forward_delay_histogram(b):
    """parley_bridge_forward_delay_seconds from the bridge's /metrics."""
    status, body = b.http('/metrics')
    assert status == 200, status
    out = {'buckets': [], 'count': None}
    for line in body.decode().splitlines():
        if line.startswith('parley_bridge_forward_delay_seconds_bucket{le="'):
            le, n = line[len('parley_bridge_forward_delay_seconds_bucket{le="'):].split('"} ')
            out['buckets'].append((le, int(n)))
        elif line.startswith('parley_bridge_forward_delay_seconds_count '):
            out['count'] = int(line.split()[1])
    return out


@contextlib.asynccontextmanager
async def running_call(**bridge_kw):
    """xmppd, a bridge (with bridge_kw settings), the focus stand-in and a
    three-party aiortc call through them; everything is closed afterwards."""
    with server(**xmppd_for_bridge()) as s:
        add_jvb_account(s)
        with bridge(s, **bridge_kw) as b:
            focus = await FocusDriver.connect(s)
            call = None
            try:
                call = await three_party(s, b, focus)
                yield s, b, focus, call
            finally:
                if call is not None:
                    await call.close()
                await focus.close()


async def three_party(s, b, focus):
    call = Call(focus, b)
    for i in range(3):
        await call.join(Peer('ep%d' % i), 'ep%d' % i)
    await call.renegotiate()
    for p in call.peers.values():
        await p.wait_connected(15)
    await expect_media(call)
    return call


def frames(call):
    return {(a, b): (call.peers[a].audio_frames_from(b), call.peers[a].video_frames_from(b))
            for a in call.peers for b in call.peers if a != b}


async def expect_more_media(call, pairs=None, more=15, timeout_s=15):
    """Every (receiver, sender) pair in pairs decodes `more` further audio and
    video frames: media is still flowing."""
    base = frames(call)
    pairs = pairs or list(base)

    def ok():
        now = frames(call)
        return all(now[p][0] >= base[p][0] + more and now[p][1] >= base[p][1] + more for p in pairs)
    await wait_for(ok, timeout_s, lambda: 'more media on %s: before %s now %s'
                   % (pairs, base, frames(call)))


@timeout(90)
async def test_pli_from_a_receiver_reaches_the_sender():
    async with running_call() as (s, b, focus, call):
        sender, receiver = call.peers['ep0'], call.peers['ep1']
        vs, me = call.ssrcs['ep0']['video_ssrc'], call.ssrcs['ep1']['video_ssrc']

        async def until(send, cond, what):
            # key frame requests are limited to one per source every 200 ms (the
            # bridge may just have asked itself): retry a few times, each waiting
            # for the event
            for _ in range(6):
                await send()
                try:
                    await wait_for(cond, 1.0, what)
                    return
                except TimeoutError:
                    pass
            raise AssertionError('no ' + what)
        # (the bridge's own PLIs for new receivers reach the sender too: wait for
        # a forwarded one)
        before, fwd = sender.pli_received, b.stats()['pli_forwarded']
        await until(lambda: receiver.send_pli(vs),
                    lambda: b.stats()['pli_forwarded'] > fwd and sender.pli_received > before,
                    'PLI forwarded to ep0')
        # a NACK (RFC 4585 generic NACK, PID 7 + BLP) goes to the sender too
        nacks = sender.nack_received
        await receiver.send_rtcp(struct.pack('!BBHIIHH', 0x81, 205, 3, me, vs, 7, 0x0003))
        await wait_for(lambda: sender.nack_received > nacks, 10, 'the NACK at ep0')
        # a FIR (RFC 5104: media SSRC 0, the target in the FCI) is counted as forwarded
        firs = b.stats()['fir_forwarded']
        await until(lambda: receiver.send_rtcp(struct.pack('!BBHIIIB3x', 0x84, 206, 4, me,
                                                           0, vs, 1)),
                    lambda: b.stats()['fir_forwarded'] > firs, 'FIR forwarded')
        assert b.stats()['nack_forwarded'] >= 1
        # a PLI flood reaches the sender at most once per 200 ms
        before = sender.pli_received
        t0 = time.monotonic()
        for _ in range(30):
            await receiver.send_pli(vs)
        await wait_for(lambda: b.stats()['keyframe_requests_limited'] > 0, 5, 'limiting')
        await expect_more_media(call, [('ep1', 'ep0')], more=5)
        allowed = (time.monotonic() - t0) / 0.2 + 2
        assert sender.pli_received - before <= allowed, (sender.pli_received - before, allowed)


@timeout(90)
async def test_expired_endpoint_stops_receiving_and_the_rest_goes_on():
    async with running_call() as (s, b, focus, call):
        iq = await focus.expire(b, call.meeting, 'ep2')
        assert iq.get('type') == 'result', ET.tostring(iq)
        gone = frames(call)[('ep2', 'ep0')]
        # ep0 and ep1 keep talking; while they exchange 30 more frames, ep2 gets
        # at most what was already in flight
        await expect_more_media(call, [('ep0', 'ep1'), ('ep1', 'ep0')], more=30)
        now = frames(call)[('ep2', 'ep0')]
        assert now[0] - gone[0] <= 5 and now[1] - gone[1] <= 5, (gone, now)
        st = b.stats()
        assert st['endpoints'] == 2 and st['endpoints_expired'] == 1, st
        # an update for the expired endpoint: unknown_endpoint
        iq = await focus.update(b, call.meeting, ET.fromstring(
            "<endpoint xmlns='%s' id='ep2'/>" % NS_C2), expect_type='error')
        assert iq.find('.//{%s}error' % NS_C2).get('reason') == 'unknown_endpoint'
        # expiring the conference ends everything
        iq = await focus.expire(b, call.meeting)
        assert iq.get('type') == 'result'
        assert b.stats()['conferences'] == 0


@timeout(90)
async def test_vanished_peer_loses_consent_and_shows_in_stats():
    async with running_call(BRIDGE_CONSENT_TIMEOUT=2) as (s, b, focus, call):
        peer = call.peers.pop('ep2')
        await peer.close()
        await wait_for(lambda: b.stats()['consent_lost'] == 1, 15, 'consent lost')
        st = b.stats()
        assert st['endpoints_without_consent'] == 1, st
        await b.await_log('ICE consent lost', timeout=1)
        await expect_more_media(call)


def stun_request(username, pwd, txid=None):
    """An RFC 5389 binding request with USERNAME, MESSAGE-INTEGRITY and
    FINGERPRINT, written here independently of the bridge's code."""
    txid = txid or os.urandom(12)
    u = username.encode()
    attrs = struct.pack('!HH', 0x0006, len(u)) + u + b'\0' * ((4 - len(u) % 4) % 4)
    attrs += struct.pack('!HHI', 0x0024, 4, 0x6E0001FF)  # PRIORITY
    head = struct.pack('!HHI', 0x0001, len(attrs) + 24, 0x2112A442) + txid
    mac = hmac.new(pwd.encode(), head + attrs, hashlib.sha1).digest()
    attrs += struct.pack('!HH', 0x0008, 20) + mac
    head = struct.pack('!HHI', 0x0001, len(attrs) + 8, 0x2112A442) + txid
    crc = (binascii.crc32(head + attrs) ^ 0x5354554E) & 0xffffffff
    return head + attrs + struct.pack('!HHI', 0x8028, 4, crc)


def stun_error_code(data):
    """The ERROR-CODE of a STUN error response, or None."""
    if len(data) < 20 or struct.unpack('!H', data[:2])[0] != 0x0111:
        return None
    off = 20
    while off + 4 <= len(data):
        t, n = struct.unpack('!HH', data[off:off + 4])
        if t == 0x0009:
            v = data[off + 4:off + 4 + n]
            return (v[2] & 7) * 100 + v[3]
        off += 4 + n + ((4 - n % 4) % 4)
    return None


@timeout(120)
async def test_bad_input_is_refused_and_the_call_goes_on():
    async with running_call() as (s, b, focus, call):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(5)
        try:
            dst = ('127.0.0.1', b.media_port)
            ufrag = colibri_sdp.transport_from_colibri(
                colibri_sdp.find_endpoint(call.cm['ep0'], 'ep0'))['ufrag']
            # unknown ufrag, and a known one with the wrong password: 401
            for user in ('nosuchufrag:x', ufrag + ':x'):
                sock.sendto(stun_request(user, 'wrong-password'), dst)
                assert stun_error_code(sock.recvfrom(2048)[0]) == 401, user
            st = b.stats()
            assert st['stun_unknown_ufrag'] >= 1 and st['stun_bad'] >= 1, st
            # random datagrams over every first-byte range, DTLS garbage, RTP and RTCP
            # from an address no endpoint uses, truncated STUN
            rnd = [bytes([first]) + os.urandom(n) for first in (0, 1, 3, 17, 22, 64, 127, 128,
                                                               191, 200, 255)
                   for n in (0, 3, 11, 99, 1199)]
            rnd += [b'\x16\xfe\xfd' + os.urandom(60), b'\x80\x60' + os.urandom(200),
                    b'\x81\xc8\x00\x06' + os.urandom(24), stun_request('a:b', 'c')[:30]]
            for d in rnd * 3:
                sock.sendto(d, dst)
            await expect_more_media(call)
            assert b.stats()['malformed'] > 0
            # Colibri2 requests with missing or contradictory fields
            bad = [
                ("<conference-modify xmlns='%s'/>" % NS_C2, 'bad-request', None),
                ("<conference-modify xmlns='%s' meeting-id='nope'><endpoint id='x'/>"
                 "</conference-modify>" % NS_C2, 'item-not-found', 'conference_not_found'),
                ("<conference-modify xmlns='%s' meeting-id='%s' create='true'/>"
                 % (NS_C2, call.meeting), 'conflict', 'conference_already_exists'),
                ("<conference-modify xmlns='%s' meeting-id='%s'><endpoint id='new' create='true'/>"
                 "</conference-modify>" % (NS_C2, call.meeting), 'bad-request', None),
                ("<conference-modify xmlns='%s' meeting-id='%s'><endpoint id='ep9'/>"
                 "</conference-modify>" % (NS_C2, call.meeting), 'item-not-found',
                 'unknown_endpoint'),
                ("<conference-modify xmlns='%s' meeting-id='%s'><endpoint id='ep1'><sources>"
                 "<media-source type='audio' id='ep1-a0'><source xmlns='urn:xmpp:jingle:apps:rtp:"
                 "ssma:0' ssrc='%d'/></media-source></sources></endpoint></conference-modify>"
                 % (NS_C2, call.meeting, call.ssrcs['ep0']['audio_ssrc']), 'bad-request', None),
                ("<conference-modify xmlns='%s' meeting-id='%s' create='true' expire='true'/>"
                 % (NS_C2, 'm' + uid()), 'bad-request', None),
            ]
            # Colibri2 from anyone but the brewery's focus: forbidden
            stranger = await login(s, 'meet.parley')
            r = await stranger.iq("<iq type='set' id='%s' to='jvb@auth.meet.parley/%s'>"
                                  "<conference-modify xmlns='%s' meeting-id='%s' create='true'/>"
                                  "</iq>" % (uid(), b.id, NS_C2, 'x' + uid()))
            assert r.xml.get('type') == 'error' and r.xml.find(
                '{jabber:client}error/{%s}forbidden' % NS_STANZAS) is not None, r
            await stranger.close()
            for body, cond, reason in bad:
                iq = await focus.request(b.occupant, body)
                assert iq.get('type') == 'error', (body, ET.tostring(iq))
                err = iq.find('{jabber:component:accept}error')
                assert err is not None and err.find('{%s}%s' % (NS_STANZAS, cond)) is not None, \
                    (body, ET.tostring(iq))
                if reason:
                    assert err.find('{%s}error' % NS_C2).get('reason') == reason, ET.tostring(iq)
            await expect_more_media(call)
            assert b.stats()['endpoints'] == 3
        finally:
            sock.close()


@timeout(90)
async def test_unsignalled_ssrc_is_not_forwarded():
    with server(**xmppd_for_bridge()) as s:
        add_jvb_account(s)
        with bridge(s) as b:
            focus = await FocusDriver.connect(s)
            call = Call(focus, b)
            try:
                await call.join(Peer('ep0'), 'ep0')
                # ep1 connects but the focus never tells the bridge its sources
                cm = await focus.allocate(b, call.meeting, 'ep1')
                call.cm['ep1'] = cm
                p1 = Peer('ep1')
                call.peers['ep1'] = p1
                answer = await p1.answer(call._offer('ep1'))
                upd = colibri_sdp.colibri_update_from_answer('ep1', answer)
                for src in upd.findall('{%s}sources' % NS_C2):
                    upd.remove(src)
                await focus.update(b, call.meeting, upd)
                call.ssrcs['ep1'] = colibri_sdp.answer_ssrcs(answer)
                await call.renegotiate()
                await wait_for(lambda: b.stats()['unknown_ssrc'] > 20, 15, 'unknown SSRCs dropped')
                await wait_for(lambda: call.peers['ep1'].video_frames_from('ep0') > 10, 15,
                               'ep1 still receives ep0')
                assert call.peers['ep0'].audio_frames_from('ep1') == 0
                assert call.peers['ep0'].video_frames_from('ep1') == 0
            finally:
                await call.close()
                await focus.close()


@timeout(90)
async def test_control_http_stats_drain_and_xmppd_restart():
    with server(**xmppd_for_bridge()) as s:
        add_jvb_account(s)
        with bridge(s, BRIDGE_REGION='eu-test') as b:
            focus = await FocusDriver.connect(s)
            try:
                # stats presence in the brewery with the fields focus uses
                def stats_of(p):
                    st = p.xml.find('{http://jitsi.org/protocol/colibri}stats')
                    return {x.get('name'): x.get('value') for x in st} if st is not None else {}
                p = await focus.comp.expect(lambda p: is_muc_presence(BREWERY, b.id)(p)
                                            and stats_of(p), 10, 'bridge stats presence')
                st = stats_of(p)
                for k in ('stress_level', 'average_participant_stress', 'healthy', 'region',
                          'relay_id', 'version', 'drain', 'graceful_shutdown', 'conferences',
                          'endpoints'):
                    assert k in st, (k, st)
                assert st['region'] == 'eu-test' and st['healthy'] == 'true' and st['drain'] == 'false'
                # healthcheck IQ
                iq = await focus.request(b.occupant,
                                         "<healthcheck xmlns='http://jitsi.org/protocol/healthcheck'/>")
                assert iq.get('type') == 'result', ET.tostring(iq)
                # HTTP surfaces
                assert b.http('/about/health')[0] == 200
                status, body = b.http('/about/version')
                assert status == 200 and b'version' in body
                status, body = b.http('/metrics')
                assert status == 200 and b'parley_bridge_rtp_forwarded_total' in body
                assert b.http('/nope')[0] == 404
                assert b.http('/colibri/drain/enable', method='GET')[0] == 405
                assert b.http('/colibri/drain/enable', method='POST')[0] == 200
                await focus.comp.expect(lambda p: is_muc_presence(BREWERY, b.id)(p)
                                        and stats_of(p).get('drain') == 'true', 10, 'drain=true')
                assert b.stats()['drain'] is True
                assert b.http('/colibri/drain/disable', method='POST')[0] == 200
                # a call, then xmppd restarts: media keeps flowing, the bridge comes back
                call = await three_party(s, b, focus)
                await focus.close()
                mark = b.mark()
                s.restart()
                await expect_more_media(call)
                await b.await_log('joined the brewery', timeout=30, since=mark)
                assert b.http('/about/health')[0] == 200
                focus = await FocusDriver.connect(s)
                iq = await focus.request(b.occupant,
                                         "<healthcheck xmlns='http://jitsi.org/protocol/healthcheck'/>")
                assert iq.get('type') == 'result'
                await call.close()
            finally:
                await focus.close()


@timeout(60)
async def test_idle_endpoints_and_conferences_expire_and_addresses_are_logged():
    with server(**xmppd_for_bridge()) as s:
        add_jvb_account(s)
        with bridge(s, BRIDGE_EXPIRE_SECONDS=2,
                    JVB_ADVERTISE_IPS='127.0.0.1, 198.18.0.7#4443') as b:
            await b.await_log('advertising 127.0.0.1 port %d (from JVB_ADVERTISE_IPS)' % b.media_port, 1)
            await b.await_log('advertising 198.18.0.7 port 4443 (from JVB_ADVERTISE_IPS)', 1)
            focus = await FocusDriver.connect(s)
            try:
                meeting = 'idle-' + uid()
                cm = await focus.allocate(b, meeting, 'lonely', create=True)
                t = colibri_sdp.transport_from_colibri(colibri_sdp.find_endpoint(cm, 'lonely'))
                got = sorted((c['ip'], int(c['port'])) for c in t['candidates'])
                assert got == sorted([('127.0.0.1', b.media_port), ('198.18.0.7', 4443)]), got
                assert t['setup'] == 'actpass' and t['rtcp_mux'] and len(t['fingerprint']) == 95, t
                # no media, no updates: the endpoint and then the conference go away
                await b.await_log('endpoint expired (idle)', timeout=10)
                await b.await_log('conference expired (idle)', timeout=10)
                assert b.stats()['conferences'] == 0
                iq = await focus.update(b, meeting, ET.fromstring(
                    "<endpoint xmlns='%s' id='lonely'/>" % NS_C2), expect_type='error')
                assert iq.find('.//{%s}error' % NS_C2).get('reason') == 'conference_not_found'
            finally:
                await focus.close()


async def ws_channel(b, url):
    """Opens the bridge channel at url (from Colibri2); returns (ws, status)."""
    u = urllib.parse.urlsplit(url)
    assert u.port == b.http_port, url
    ws, status, _ = await WSRaw.connect(b.http_port, u.path + '?' + u.query, protocol=None)
    return ws, status


async def ws_json(ws, what):
    return json.loads(await ws.recv_text(5, what))


@timeout(90)
async def test_colibri_ws_endpoint_messages():
    async with running_call() as (s, b, focus, call):
        chans = {}
        try:
            url0 = call.ws_url('ep0')
            assert '/colibri-ws/%s/' % b.id in url0 and '?pwd=' in url0, url0
            # refused: wrong password, unknown endpoint, another endpoint's password
            bad_pwd = url0.split('?pwd=')[0] + '?pwd=wrong'
            ws, status = await ws_channel(b, bad_pwd)
            assert ws is None and status == 403, status
            ws, status = await ws_channel(b, url0.replace('/ep0?', '/ep7?'))
            assert ws is None and status == 404, status
            other = call.ws_url('ep1').split('?pwd=')[1]
            ws, status = await ws_channel(b, url0.split('?pwd=')[0] + '?pwd=' + other)
            assert ws is None and status == 403, status
            assert b.stats()['ws_rejected'] >= 2
            for ep in call.peers:
                ws, status = await ws_channel(b, call.ws_url(ep))
                assert status == 101, status
                chans[ep] = ws
                hello = await ws_json(ws, 'ServerHello')
                assert hello['colibriClass'] == 'ServerHello', hello
            # broadcast from ep0: ep1 and ep2 get it, from set by the bridge
            msg = {'colibriClass': 'EndpointMessage', 'to': '', 'from': 'spoofed',
                   'msgPayload': {'type': 'e2e-ping-request', 'id': 1}}
            await chans['ep0'].send_text(json.dumps(msg))
            for ep in ('ep1', 'ep2'):
                got = await ws_json(chans[ep], 'the broadcast at ' + ep)
                assert got['colibriClass'] == 'EndpointMessage' and got['from'] == 'ep0', got
                assert got['msgPayload'] == msg['msgPayload'], got
            # unicast ep1 -> ep2, then a broadcast from ep2: ep0's next message is
            # ep2's broadcast (it never saw the unicast, nor its own broadcast)
            await chans['ep1'].send_text(json.dumps({'colibriClass': 'EndpointMessage',
                                                     'to': 'ep2', 'msgPayload': {'n': 2}}))
            got = await ws_json(chans['ep2'], 'the unicast at ep2')
            assert got['from'] == 'ep1' and got['msgPayload'] == {'n': 2}, got
            await chans['ep2'].send_text(json.dumps({'colibriClass': 'EndpointMessage',
                                                     'to': '', 'msgPayload': {'n': 3}}))
            got = await ws_json(chans['ep0'], 'the broadcast from ep2 at ep0')
            assert got['from'] == 'ep2' and got['msgPayload'] == {'n': 3}, got
            got = await ws_json(chans['ep1'], 'the broadcast from ep2 at ep1')
            assert got['from'] == 'ep2', got
            # junk on the channel is ignored, the channel and the call go on
            await chans['ep0'].send_text('not json')
            await chans['ep0'].send_text('{"colibriClass": 5}')
            await chans['ep0'].send_text(json.dumps({'colibriClass': 'ClientHello'}))
            got = await ws_json(chans['ep0'], 'ServerHello again')
            assert got['colibriClass'] == 'ServerHello', got
            assert b.stats()['ws_messages'] >= 3
            # expiring an endpoint closes its channel
            await focus.expire(b, call.meeting, 'ep2')
            frames = await chans['ep2'].until_closed(10)
            assert any(op == 8 for op, _ in frames), frames
            await expect_more_media(call, [('ep0', 'ep1'), ('ep1', 'ep0')])
        finally:
            for ws in chans.values():
                ws.close()


@timeout(150)
def test_chromium_and_two_aiortc_peers():
    """The three-party call with headless Chromium (fake camera and microphone) as ep0
    and two aiortc peers: test_bridge_chromium_child.py, which re-executes itself in a
    fresh network namespace (chrome_peer.reexec_in_netns) where it starts its own xmppd
    and bridge. It runs in a process group of its own, killed afterwards."""
    import signal
    import subprocess
    from chrome_peer import chromium_available
    from harness import build_dir
    assert chromium_available(), 'needs /usr/bin/chromium, node and tests/node_modules/playwright-core'
    child = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'test_bridge_chromium_child.py')
    env = dict(os.environ, PARLEY_BUILD_DIR=build_dir())
    env.pop('PARLEY_IN_NETNS', None)
    proc = subprocess.Popen(['/usr/bin/python3', child], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=140)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        raise AssertionError('the chromium call did not finish within 140s:\n'
                             + out.decode('utf-8', 'replace')[-6000:])
    finally:
        # anything of the child's group that outlived it (node; chromium runs in its own
        # group, as playwright starts it, and quits when node's pipe to it closes)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    text = out.decode('utf-8', 'replace')
    assert proc.returncode == 0 and '1 passed, 0 failed' in text, \
        'child exited %s:\n%s' % (proc.returncode, text[-6000:])
    for line in text.splitlines():
        if line.startswith('# bridge: ') or line.startswith('# chromium'):
            print(line)


if __name__ == '__main__':
    main(globals())
