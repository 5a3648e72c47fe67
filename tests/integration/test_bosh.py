"""BOSH (XEP-0124 + XEP-0206) at /http-bind: strophe.js and stanza in node
against slixmpp clients on TCP, and the BOSH semantics with raw HTTP."""

import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import *  # noqa: E402,F401,F403

Q = lambda s: s.replace('"', "'")  # noqa: E731


@timeout(45)
async def test_strophe_bosh_anonymous_and_account():
    with web_server() as s:
        await node_logins_roundtrip(s, 'strophe', 'bosh', bosh_url(s))


@timeout(40)
async def test_strophe_bosh_muc_groupchat():
    with web_server(MUC_RESTRICT_ROOM_CREATION='false') as s:
        await node_muc_roundtrip(s, 'strophe', 'bosh', bosh_url(s))


@timeout(45)
async def test_stanza_bosh_login_and_messages():
    with web_server() as s:
        await node_logins_roundtrip(s, 'stanza', 'bosh', bosh_url(s))


@timeout(40)
async def test_bosh_session_creation_and_rids():
    with web_server() as s:
        s.adduser(s.jid('bob'), 'bob-pw')
        bob = await login(s, s.jid('bob'), 'bob-pw', resource='tcp', presence=True)
        try:
            b = BoshRaw(s, wait=2, hold=1)
            hdrs, text, el = await b.create()
            assert el.tag == '{%s}body' % NS_HTTPBIND, text
            for a in ('sid', 'wait', 'requests', 'hold', 'inactivity', 'ver', 'from', 'authid',
                      '{%s}version' % NS_XBOSH):
                assert el.get(a), 'session creation response without %s: %s' % (a, text)
            assert el.get('from') == s.domain and el.get('{%s}version' % NS_XBOSH) == '1.0', text
            assert int(el.get('wait')) <= 2 and int(el.get('hold')) <= 1, text
            assert int(el.get('requests')) >= 2, text
            assert el.get('type') is None, text
            assert 'text/xml' in hdrs.get('content-type', ''), hdrs
            feats = el.find('{%s}features' % NS_STREAM)
            assert feats is not None, 'no stream features in the creation response: %s' % text
            assert {'ANONYMOUS', 'SCRAM-SHA-1'} <= set(mechanisms(text)), text
            assert 'starttls' not in text, text

            # log in over raw BOSH on the same session
            st, h, t, e = await b.post("<auth xmlns='%s' mechanism='ANONYMOUS'/>" % NS_SASL)
            assert '<success' in t, t
            st, h, t, e = await b.post('', attrs=" xmlns:xmpp='%s' xmpp:restart='true'" % NS_XBOSH)
            assert NS_BIND in t, t
            st, h, t, e = await b.post("<iq type='set' id='b1' xmlns='jabber:client'><bind xmlns='%s'/></iq>"
                                       % NS_BIND)
            jid = re.search(r'<jid>([^<]+)</jid>', t).group(1)
            await b.post("<presence xmlns='jabber:client'/>")

            # a stanza for the session while no request waits: on the next request
            body = 'queued ' + uid()
            bob.send_message(jid, body)
            await bob.ping()  # the message has been routed before the ping's answer
            t0 = time.monotonic()
            st, h, t, e = await b.post('')
            assert body in t, 'the queued message was not in the next response: %s' % t
            assert time.monotonic() - t0 < 1.5, 'the queued message waited for `wait`'

            # out-of-order rids within the window are processed in rid order
            r1, r2 = b.rid + 1, b.rid + 2
            b.rid = r2
            m2 = "<message xmlns='jabber:client' to='%s' type='chat'><body>second</body></message>" % bob.jid
            m1 = "<message xmlns='jabber:client' to='%s' type='chat'><body>first</body></message>" % bob.jid
            t2 = asyncio.ensure_future(b.post(m2, rid=r2))
            await bob.ping()
            await bob.ping()
            assert not bob.pending(is_message(body='second')), 'rid+2 was processed before rid+1'
            t1 = asyncio.ensure_future(b.post(m1, rid=r1))
            (s1, _, x1, _), (s2, _, x2, _) = await asyncio.wait_for(asyncio.gather(t1, t2), 10)
            assert s1 == 200 and s2 == 200 and 'terminate' not in x1 + x2, (x1, x2)
            await bob.expect(is_message(body='first'), 10, 'the rid+1 message')
            await bob.expect(is_message(body='second'), 10, 'the rid+2 message')
            got = [m['body'] for m in bob.all if m.xml.tag.endswith('message') and m['body'] in ('first', 'second')]
            assert got == ['first', 'second'], 'messages delivered in the order %s' % got

            # a repeated rid gets the same response again, without re-processing
            pid = uid()
            st, h, t_a, e = await b.post("<iq type='get' id='%s' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>"
                                         % pid)
            if pid not in t_a:
                t_a += (await b.collect(pid, 5, 'the ping result')).group(0)
                raise AssertionError('ping answer not in its own response; cannot test retransmission')
            rid_ping = b.rid
            st, h, t_b, e = await b.post("<iq type='get' id='%s' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>"
                                         % pid, rid=rid_ping)
            assert st == 200 and t_b == t_a, 'retransmitted rid got a different response:\n%s\n%s' % (t_a, t_b)

            # wait is honoured: an empty held request is answered empty after ~wait s
            t0 = time.monotonic()
            st, h, t, e = await b.post('', timeout=10)
            dt = time.monotonic() - t0
            assert st == 200 and e is not None and len(e) == 0 and e.get('type') is None, t
            assert 1.5 <= dt <= 4.5, 'empty request answered after %.1fs with wait=2' % dt
            assert pid not in t, 'the ping was processed twice: %s' % t

            # unknown sid
            st, h, t, e = await b.post('', rid=b.rid + 1, sid='nosuchsid' + uid())
            assert e is not None and e.get('type') == 'terminate' and e.get('condition') == 'item-not-found', t
            # the session is unaffected
            st, h, t, e = await b.post("<iq type='get' id='p2' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>")
            assert "id='p2'" in Q(t), t

            # a rid outside the window ends the session with item-not-found
            st, h, t, e = await b.post('', rid=b.rid + 50)
            assert e is not None and e.get('type') == 'terminate' and e.get('condition') == 'item-not-found', t
            st, h, t, e = await b.post('')
            assert e is not None and e.get('type') == 'terminate', 'request after the session ended: %s' % t
            resp = await bob.iq("<iq type='get' id='%s' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>"
                                % (uid(), jid), 10)
            assert resp.xml.get('type') == 'error', 'the ended BOSH session still answers: %s' % resp
        finally:
            await bob.close()


@timeout(40)
async def test_bosh_cors_and_terminate():
    with web_server(MUC_RESTRICT_ROOM_CREATION='false') as s:
        s.adduser(s.jid('bob'), 'bob-pw')
        origin = 'http://app.example.test'
        st, hdrs, body, head = await http_exchange(s.http_port, http_request('OPTIONS', '/http-bind', {
            'Origin': origin, 'Access-Control-Request-Method': 'POST',
            'Access-Control-Request-Headers': 'content-type', 'Connection': 'close'}))
        assert st in (200, 204), head
        assert hdrs.get('access-control-allow-origin') in ('*', origin), 'preflight without ACAO: %s' % head
        assert 'POST' in hdrs.get('access-control-allow-methods', ''), head
        assert 'content-type' in hdrs.get('access-control-allow-headers', '').lower(), head

        room = 'term-%s@muc.%s' % (uid(), s.domain)
        bob = await login(s, s.jid('bob'), 'bob-pw', resource='tcp', presence=True)
        try:
            b = BoshRaw(s, wait=2, hold=1, origin=origin)
            jid = await b.login_anonymous()
            st, h, t, e = await b.post(muc_join_xml(room + '/boshraw').replace(
                '<presence ', "<presence xmlns='jabber:client' ", 1))
            assert h.get('access-control-allow-origin') in ('*', origin), 'POST without ACAO: %s' % h
            if "code='110'" not in Q(t):
                await b.collect(r"code=.110.", 10, 'the self-presence')
            await muc_join(bob, room, 'bob')
            st, h, t, e = await b.post("<presence xmlns='jabber:client' to='%s' type='unavailable'/>" % room
                                       + '/nothing', attrs=" type='terminate'")
            assert e is not None and e.get('type') == 'terminate', 'terminate answered with %s' % t
            await bob.expect(is_muc_presence(room, 'boshraw', type='unavailable'), 10,
                             'the BOSH occupant leaving when its session terminated')
            st, h, t, e = await b.post('')
            assert e is not None and e.get('type') == 'terminate', 'request after terminate: %s' % t
            assert jid
        finally:
            await bob.close()


@timeout(30)
async def test_bosh_stream_error_then_next_request():
    with web_server() as s:
        b = BoshRaw(s)
        await b.login_anonymous()
        # a stanza not qualified by jabber:client (XEP-0206 8) is a stream error
        st, h, t, e = await b.post("<presence/>")
        assert e is not None and e.get('type') == 'terminate', t
        assert 'stream:error' in t, t
        # the next request on the ended session must still get a well-formed <body/>
        st, h, t, e = await b.post('')
        assert st in (200, 404) and t.lstrip().startswith('<body') and e is not None, \
            'request after the stream error answered with a malformed body: %r' % t
        assert e.tag == '{%s}body' % NS_HTTPBIND and e.get('type') == 'terminate', t
        s.check()


@timeout(50)
async def test_bosh_bad_input():
    with tempfile.TemporaryDirectory(prefix='parley-web-') as web:
        with open(os.path.join(web, 'index.html'), 'w') as f:
            f.write('<!doctype html><title>parley</title>')
        with web_server(XMPP_WEB_ROOT=web) as s:
            by = await Bystander(s).start()
            try:
                b = BoshRaw(s)
                st, h, data, head = await b.post_raw(
                    b"<body xmlns='http://jabber.org/protocol/httpbind' rid='1' <oops")
                assert st == 400, 'malformed body: %s' % head
                assert "type='terminate'" in Q(data.decode()) and "condition='bad-request'" in Q(data.decode()), data
                st, h, data, head = await b.post_raw(b"<notbody rid='1'/>")
                assert st == 400 and b'bad-request' in data, head
                await by.check()

                # 100 MiB announced: 413 without reading it all
                r, w = await asyncio.open_connection('127.0.0.1', s.http_port)
                total = 100 * 1024 * 1024
                w.write(('POST /http-bind HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n'
                         'Content-Length: %d\r\n\r\n' % total).encode())
                resp = asyncio.ensure_future(http_read_response(r, 20))
                sent = 0
                chunk = b'<' * 65536
                while not resp.done() and sent < 16 * 1024 * 1024:
                    try:
                        w.write(chunk)
                        await asyncio.wait_for(w.drain(), 5)
                    except (ConnectionError, OSError, asyncio.TimeoutError):
                        break
                    sent += len(chunk)
                st, h, data, head = await asyncio.wait_for(resp, 20)
                w.close()
                assert st == 413, 'oversized body: %s' % head
                assert sent < 16 * 1024 * 1024, 'the server read %d bytes before answering' % sent
                await by.check()

                # headers beyond limits: 431
                st, h, data, head = await http_exchange(s.http_port, http_request(
                    'GET', '/health', {'X-Big': 'a' * 9000, 'Connection': 'close'}))
                assert st == 431, 'a 9000-byte header: %s' % head
                many = {'X-H%d' % i: 'v' for i in range(100)}
                many['Connection'] = 'close'
                st, h, data, head = await http_exchange(s.http_port, http_request('GET', '/health', many))
                assert st == 431, '100 headers: %s' % head
                await by.check()

                # garbage request line: 400
                st, h, data, head = await http_exchange(s.http_port, b'\x01\x02 garbage \xff\r\n\r\n')
                assert st == 400, 'garbage request line: %s' % head
                await by.check()

                # path traversal: 404
                for p in ('/../etc/passwd', '/%2e%2e/etc/passwd', '/x/../../etc/passwd',
                          '/%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/..%5c..%5cetc%5cpasswd'):
                    st, h, data, head = await http_exchange(s.http_port, http_request(
                        'GET', p, {'Connection': 'close'}))
                    assert st == 404, 'GET %s: %s %r' % (p, head, data[:200])
                    assert b'root:' not in data
                await by.check()
            finally:
                await by.close()


@timeout(40)
async def test_bosh_inactivity_ends_session_and_room_presence():
    """A BOSH session that stops sending requests is ended after its
    inactivity period; the room it was in sees it leave, and its sid is gone."""
    with web_server(MUC_RESTRICT_ROOM_CREATION='false', XMPP_BOSH_INACTIVITY='2') as s:
        s.adduser(s.jid('bob'), 'bob-pw')
        room = 'idle-%s@muc.%s' % (uid(), s.domain)
        bob = await login(s, s.jid('bob'), 'bob-pw', resource='tcp', presence=True)
        try:
            b = BoshRaw(s, wait=1, hold=1)
            await b.login_anonymous()
            st, h, t, e = await b.post(muc_join_xml(room + '/sleeper').replace(
                '<presence ', "<presence xmlns='jabber:client' ", 1))
            if "code='110'" not in Q(t):
                await b.collect(r"code=.110.", 10, 'the self-presence')
            await muc_join(bob, room, 'bob')
            await bob.expect(is_presence(frm=room + '/sleeper'), 10, 'the BOSH occupant')
            # now the BOSH client goes silent: no request for more than 2 s
            u = await bob.expect(is_presence(type='unavailable', frm=room + '/sleeper'), 15,
                                 'the unavailable of the inactive BOSH occupant')
            assert u is not None
            st, h, t, e = await b.post('')
            assert e is not None and e.get('type') == 'terminate', 'the session should be gone: %s' % t
        finally:
            await bob.close()


@timeout(40)
async def test_stanza_bosh_muc_groupchat():
    with web_server(MUC_RESTRICT_ROOM_CREATION='false') as s:
        await node_muc_roundtrip(s, 'stanza', 'bosh', bosh_url(s))


if __name__ == '__main__':
    main(globals())
