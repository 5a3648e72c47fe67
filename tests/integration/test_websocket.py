"""XMPP over WebSocket (RFC 7395) at /xmpp-websocket: strophe.js and stanza
in node against real slixmpp clients on TCP, and byte-level frames."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import *  # noqa: E402,F401,F403
from harness import _tag  # noqa: E402


@timeout(45)
async def test_strophe_ws_anonymous_and_account():
    with web_server() as s:
        await node_logins_roundtrip(s, 'strophe', 'ws', ws_url(s))


@timeout(40)
async def test_strophe_ws_muc_groupchat():
    with web_server(MUC_RESTRICT_ROOM_CREATION='false') as s:
        await node_muc_roundtrip(s, 'strophe', 'ws', ws_url(s))


@timeout(45)
async def test_stanza_ws_login_and_messages():
    with web_server() as s:
        await node_logins_roundtrip(s, 'stanza', 'ws', ws_url(s))


@timeout(30)
async def test_ws_token_query_accepted():
    with web_server() as s:
        s.adduser(s.jid('bob'), 'bob-pw')
        bob = await login(s, s.jid('bob'), 'bob-pw', resource='tcp', presence=True)
        node = await NodeClient('strophe', 'ws', ws_url(s, token='abc'), s.domain).start()
        try:
            await node_chat_roundtrip(node, bob)
            await node.quit()
        finally:
            await node.close()
            await bob.close()


@timeout(30)
async def test_ws_handshake_errors():
    with web_server() as s:
        # no Sec-WebSocket-Protocol: xmpp -> 400 (RFC 7395 3.1: the subprotocol is required)
        ws, status, _ = await WSRaw.connect(s.http_port, protocol=None)
        assert ws is None and status == 400, 'handshake without the xmpp subprotocol: %s' % status
        ws, status, _ = await WSRaw.connect(s.http_port, protocol='chat')
        assert ws is None and status == 400, 'handshake with another subprotocol: %s' % status
        # a plain GET -> 426 Upgrade Required
        status, hdrs, body, head = await http_exchange(
            s.http_port, http_request('GET', '/xmpp-websocket', {'Connection': 'close'}))
        assert status == 426, 'plain GET of /xmpp-websocket: %s' % head
        assert 'websocket' in hdrs.get('upgrade', '').lower(), '426 without Upgrade: websocket: %s' % head
        # a good handshake still works, with xmpp chosen
        ws, status, _ = await WSRaw.connect(s.http_port, protocol='chat, xmpp')
        assert ws is not None, 'handshake offering chat, xmpp failed: %s' % status
        op, feats = await ws.open_stream(s.domain)
        assert NS_FRAMING in op and "from='%s'" % s.domain in op.replace('"', "'"), op
        assert 'stream:features' in feats and 'starttls' not in feats, feats
        assert {'ANONYMOUS', 'SCRAM-SHA-1'} <= set(mechanisms(feats)), feats
        ws.close()


async def _expect_ws_closed(ws, codes, errors=(), timeout=10):
    """The server ends the connection: a close frame with a code in codes or a
    stream error in errors, or at least a TCP close. Returns (frames, code)."""
    frames = await ws.until_closed(timeout)
    code = close_code(frames)
    texts = ' '.join(p.decode('utf-8', 'replace') for op, p in frames if op == WS_TEXT)
    err = STREAM_ERROR_RE.search(texts)
    if code is not None and code not in codes and not (err and err.group(1) in errors):
        raise AssertionError('closed with code %s (expected %s) and stream error %s; frames %r'
                             % (code, codes, err and err.group(1), frames[-4:]))
    if err and errors and err.group(1) not in errors:
        raise AssertionError('stream error <%s/>, expected one of %s' % (err.group(1), errors))
    return frames, code


@timeout(50)
async def test_ws_bad_frames():
    with web_server(XMPP_MAX_STANZA_SIZE='65536') as s:
        by = await Bystander(s).start()
        try:
            # unmasked client frame (RFC 6455 5.1: the server MUST close, 1002)
            ws, _, _ = await WSRaw.connect(s.http_port)
            await ws.send_raw(ws_frame(WS_TEXT, "<open xmlns='%s' to='%s' version='1.0'/>"
                                       % (NS_FRAMING, s.domain), mask=False))
            frames, code = await _expect_ws_closed(ws, (1002,))
            assert not any(op == WS_TEXT and b'<open' in p for op, p in frames), \
                'the server processed an unmasked frame: %r' % frames
            await by.check()

            # binary frame -> 1003 (or a stream error)
            ws, _, _ = await WSRaw.connect(s.http_port)
            await ws.open_stream(s.domain)
            await ws.send_raw(ws_frame(WS_BINARY, b'\x00\x01<message/>'))
            frames, code = await _expect_ws_closed(ws, (1003,), ('unsupported-stanza-type', 'bad-format'))
            assert code == 1003 or any(op == WS_TEXT and b'stream:error' in p for op, p in frames), \
                'binary frame: neither 1003 nor a stream error: %r' % frames
            await by.check()

            # one frame over XMPP_MAX_STANZA_SIZE -> 1009 or policy-violation
            ws, _, _ = await WSRaw.connect(s.http_port)
            await ws.open_stream(s.domain)
            big = "<message to='x@%s'><body>%s</body></message>" % (s.domain, 'A' * 70000)
            await ws.try_send_raw(ws_frame(WS_TEXT, big))
            frames, code = await _expect_ws_closed(ws, (1009, 1008), ('policy-violation',))
            await by.check()

            # a fragmented message over the limit (each fragment under it)
            ws, _, _ = await WSRaw.connect(s.http_port)
            await ws.open_stream(s.domain)
            chunk = 'B' * 30000
            ok = await ws.try_send_raw(ws_frame(WS_TEXT, "<message><body>" + chunk, fin=False))
            ok = ok and await ws.try_send_raw(ws_frame(WS_CONT, chunk, fin=False))
            ok = ok and await ws.try_send_raw(ws_frame(WS_CONT, chunk + '</body></message>', fin=True))
            frames, code = await _expect_ws_closed(ws, (1009, 1008), ('policy-violation',))
            await by.check()
        finally:
            await by.close()


@timeout(30)
async def test_ws_fragments_ping_close():
    with web_server() as s:
        ws, _, _ = await WSRaw.connect(s.http_port)
        # an <open/> split over two frames (FIN on the second) is reassembled
        op = "<open xmlns='%s' to='%s' version='1.0'/>" % (NS_FRAMING, s.domain)
        await ws.send_raw(ws_frame(WS_TEXT, op[:17], fin=False))
        await ws.send_raw(ws_frame(WS_CONT, op[17:], fin=True))
        answer = await ws.recv_text(5, 'the <open/> answer to a fragmented <open/>')
        assert answer.startswith('<open') and NS_FRAMING in answer, answer
        feats = await ws.recv_text(5, 'features')
        assert 'ANONYMOUS' in mechanisms(feats), feats
        # a control frame between fragments is allowed (RFC 6455 5.4)
        auth = "<auth xmlns='%s' mechanism='ANONYMOUS'/>" % NS_SASL
        await ws.send_raw(ws_frame(WS_TEXT, auth[:10], fin=False))
        await ws.send_raw(ws_frame(WS_PING, b'mid'))
        await ws.send_raw(ws_frame(WS_CONT, auth[10:], fin=True))
        got_pong = False
        success = None
        while success is None:
            f = await ws.recv_frame(5)
            assert f is not None, 'closed during SASL'
            if f[1] == WS_PONG:
                assert f[2] == b'mid', 'pong payload %r' % f[2]
                got_pong = True
            elif f[1] == WS_TEXT:
                success = f[2].decode()
        assert got_pong, 'no pong for a ping between fragments'
        assert '<success' in success, success
        await ws.open_stream(s.domain)
        await ws.send_text("<iq type='set' id='b1' xmlns='jabber:client'><bind xmlns='%s'/></iq>" % NS_BIND)
        bound = await ws.recv_text(5, 'the bind result')
        assert "type='result'" in bound.replace('"', "'") and '<jid>' in bound, bound
        # ping -> pong with the same payload
        await ws.send_raw(ws_frame(WS_PING, b'hello-ping'))
        f = await ws.recv_frame(5)
        assert f is not None and f[1] == WS_PONG and f[2] == b'hello-ping', 'ping answered with %r' % (f,)
        # <close/> -> <close/> and the connection closes
        await ws.send_text("<close xmlns='%s'/>" % NS_FRAMING)
        frames = await ws.until_closed(10)
        texts = [p.decode() for op, p in frames if op == WS_TEXT]
        assert any(t.startswith('<close') and NS_FRAMING in t for t in texts), \
            'no <close/> answer: %r' % frames
        s.check()


@timeout(30)
async def test_ws_untrusted_plain_http_offers_no_auth():
    with web_server(XMPP_TRUSTED_PROXIES='') as s:
        ws, _, _ = await WSRaw.connect(s.http_port)
        op, feats = await ws.open_stream(s.domain)
        assert mechanisms(feats) == [], 'SASL offered on an insecure WebSocket: %s' % feats
        assert 'starttls' not in feats, 'STARTTLS offered on a WebSocket: %s' % feats
        await ws.send_text("<auth xmlns='%s' mechanism='ANONYMOUS'/>" % NS_SASL)
        ans = None
        try:
            ans = await ws.recv_text(5, 'the answer to auth')
        except AssertionError as e:
            ans = str(e)
        assert '<success' not in ans, 'ANONYMOUS succeeded on an insecure WebSocket: %s' % ans
        ws.close()


@timeout(40)
async def test_stanza_ws_muc_groupchat():
    with web_server(MUC_RESTRICT_ROOM_CREATION='false') as s:
        await node_muc_roundtrip(s, 'stanza', 'ws', ws_url(s))


if __name__ == '__main__':
    main(globals())
