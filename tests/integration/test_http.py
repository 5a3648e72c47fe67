"""xmppd's HTTP surface: /health, /metrics, static files from XMPP_WEB_ROOT."""

import email.utils
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import *  # noqa: E402,F401,F403

INDEX = b'<!doctype html><title>parley index</title>'


def _webroot(d):
    with open(os.path.join(d, 'index.html'), 'wb') as f:
        f.write(INDEX)
    with open(os.path.join(d, 'app.js'), 'w') as f:
        f.write('console.log("app");\n')
    with open(os.path.join(d, 'style.css'), 'w') as f:
        f.write('body { color: black; }\n')
    return d


async def _get(s, path, headers=None):
    h = {'Connection': 'close'}
    h.update(headers or {})
    return await http_exchange(s.http_port, http_request('GET', path, h))


def _metric(text, name, labels=None):
    rx = re.escape(name) + (re.escape('{%s}' % labels) if labels else '') + r' (\d+(?:\.\d+)?)\n'
    m = re.search(r'(?m)^' + rx, text)
    assert m, 'metric %s%s missing in:\n%s' % (name, '{%s}' % labels if labels else '', text)
    return float(m.group(1))


async def _metrics(s):
    st, h, body, head = await _get(s, '/metrics')
    assert st == 200, head
    assert h.get('content-type', '').startswith('text/plain'), head
    return body.decode()


@timeout(20)
async def test_health():
    with web_server() as s:
        st, h, body, head = await _get(s, '/health')
        assert st == 200 and body.strip() == b'ok', (head, body)


@timeout(50)
async def test_metrics_counts_sessions_stanzas_rooms():
    with web_server(MUC_RESTRICT_ROOM_CREATION='false') as s:
        m0 = await _metrics(s)
        assert '# TYPE parley_xmppd_sessions gauge' in m0, m0
        assert _metric(m0, 'parley_xmppd_sessions', 'transport="websocket"') == 0
        assert _metric(m0, 'parley_xmppd_sessions', 'transport="bosh"') == 0
        in0 = _metric(m0, 'parley_xmppd_stanzas_in_total')
        out0 = _metric(m0, 'parley_xmppd_stanzas_out_total')
        s.adduser(s.jid('bob'), 'bob-pw')
        bob = await login(s, s.jid('bob'), 'bob-pw', resource='tcp', presence=True)
        ws = await NodeClient('strophe', 'ws', ws_url(s), s.domain).start()
        try:
            b = BoshRaw(s)
            bosh_jid = await b.login_anonymous()
            m1 = await _metrics(s)
            assert _metric(m1, 'parley_xmppd_sessions', 'transport="websocket"') == 1, m1
            assert _metric(m1, 'parley_xmppd_sessions', 'transport="bosh"') == 1, m1
            assert _metric(m1, 'parley_xmppd_sessions', 'transport="tcp"') >= 1, m1
            for i in range(5):
                bob.send_message(ws.jid, 'm%d' % i)
            for i in range(5):
                await ws.expect_stanza('message', body='m%d' % i)
            room = 'metrics-%s@muc.%s' % (uid(), s.domain)
            await muc_join(bob, room, 'bob')
            m2 = await _metrics(s)
            assert _metric(m2, 'parley_xmppd_stanzas_in_total') >= in0 + 6, m2
            assert _metric(m2, 'parley_xmppd_stanzas_out_total') >= out0 + 6, m2
            assert _metric(m2, 'parley_xmppd_rooms') >= 1, m2
            assert _metric(m2, 'parley_xmppd_occupants') >= 1, m2
            await ws.quit()
            await muc_leave(bob, room, 'bob')
            m3 = await _metrics(s)
            assert _metric(m3, 'parley_xmppd_sessions', 'transport="websocket"') == 0, m3
            assert _metric(m3, 'parley_xmppd_occupants') == 0, m3
            assert _metric(m3, 'parley_xmppd_rooms') == 0, m3
            assert bosh_jid
        finally:
            await ws.close()
            await bob.close()


@timeout(30)
async def test_static_files():
    with tempfile.TemporaryDirectory(prefix='parley-web-') as d:
        _webroot(d)
        with web_server(XMPP_WEB_ROOT=d) as s:
            for p in ('/', '/someroom', '/another-room'):
                st, h, body, head = await _get(s, p)
                assert st == 200 and body == INDEX, 'GET %s: %s %r' % (p, head, body[:100])
                assert h.get('content-type', '').startswith('text/html'), head
                assert 'no-cache' in h.get('cache-control', ''), head
            st, h, body, head = await _get(s, '/app.js')
            assert st == 200 and body == b'console.log("app");\n', head
            assert re.match(r'(application|text)/javascript', h.get('content-type', '')), head
            st, h, body, head = await _get(s, '/style.css')
            assert st == 200 and h.get('content-type', '').startswith('text/css'), head
            st, h, body, head = await _get(s, '/x.js')
            assert st == 404, 'missing /x.js: %s' % head
            # HEAD: headers, no body
            st, h, body, head = await http_exchange(s.http_port, http_request(
                'HEAD', '/app.js', {'Connection': 'close'}), read_body=False)
            assert st == 200 and h.get('content-length') == str(len('console.log("app");\n')), head

            # If-Modified-Since
            st, h, body, head = await _get(s, '/app.js')
            lm = h.get('last-modified')
            assert lm, 'no Last-Modified: %s' % head
            st, h, body, head = await _get(s, '/app.js', {'If-Modified-Since': lm})
            assert st == 304 and body == b'', 'If-Modified-Since = Last-Modified: %s' % head
            later = email.utils.formatdate(email.utils.parsedate_to_datetime(lm).timestamp() + 3600,
                                           usegmt=True)
            st, h, body, head = await _get(s, '/app.js', {'If-Modified-Since': later})
            assert st == 304, 'If-Modified-Since later than the file: %s' % head
            earlier = email.utils.formatdate(email.utils.parsedate_to_datetime(lm).timestamp() - 3600,
                                             usegmt=True)
            st, h, body, head = await _get(s, '/app.js', {'If-Modified-Since': earlier})
            assert st == 200 and body, 'If-Modified-Since before the file: %s' % head

            # keep-alive: two requests on one connection
            r, w = await asyncio.open_connection('127.0.0.1', s.http_port)
            try:
                w.write(http_request('GET', '/app.js'))
                await w.drain()
                st1, h1, b1, head1 = await http_read_response(r, 5)
                w.write(http_request('GET', '/health'))
                await w.drain()
                st2, h2, b2, head2 = await http_read_response(r, 5)
                assert st1 == 200 and b1.startswith(b'console') and st2 == 200 and b2.strip() == b'ok', \
                    (head1, head2)
                assert 'close' not in h1.get('connection', '').lower(), head1
            finally:
                w.close()
            s.check()


if __name__ == '__main__':
    main(globals())
