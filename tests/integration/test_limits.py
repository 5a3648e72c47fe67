#!/usr/bin/python3
"""Configured limits: stanza size, depth, attributes, stanza rate, auth
timeout, login rate, connection cap. Each is enforced with the right stream
error (or SASL failure), and clients logged in before keep working."""

import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Bystander, Raw, is_message, is_presence, main, raw_connect, raw_login, server,  # noqa: E402
                     timeout, uid)


def plain_server(**kw):
    kw.setdefault('C2S_REQUIRE_ENCRYPTION', 'false')
    return server(**kw)


@timeout(60)
async def test_stanza_size_limit():
    with plain_server(XMPP_MAX_STANZA_SIZE=65536) as s:
        by = await Bystander(s).start()
        try:
            for tls in (False, True):
                r = await raw_login(s, tls=tls)
                # just under the limit: delivered whole
                body = ('%s-' % tls) + 'b' * 60000
                await r.send("<message to='%s' type='chat'><body>%s</body></message>" % (by.b.jid, body))
                await by.b.expect(is_message(body=body), 10, 'the 60 KB message')
                # 100 KiB: policy-violation and close
                big = "<message to='%s' type='chat'><body>%s</body></message>" % (by.b.jid, 'B' * 102400)
                await r.flood(big)
                await r.expect_stream_error('policy-violation', 10)
                await r.aclose()
                by.b.assert_none(lambda st: st.name == 'message' and len(st['body'] or '') > 65536,
                                 'the oversized message was delivered')
                await by.check()
            # before authentication too
            r = await raw_connect(s, tls=False)
            await r.flood("<iq type='get' id='x'><query xmlns='urn:x'>%s</query></iq>" % ('q' * 102400))
            await r.expect_stream_error(('policy-violation', 'not-authorized', 'unsupported-stanza-type'), 10)
            await r.aclose()
            await by.check()
        finally:
            await by.close()


@timeout(60)
async def test_depth_and_attribute_limits():
    with plain_server(XMPP_MAX_DEPTH=32, XMPP_MAX_ATTRS=64) as s:
        by = await Bystander(s).start()
        try:
            r = await raw_login(s)
            nest = '<x xmlns="urn:example:nest">' + '<x>' * 19 + 'deep' + '</x>' * 20
            await r.send("<message to='%s' id='ok-depth'><body>depth ok</body>%s</message>" % (by.b.jid, nest))
            m = await by.b.expect(is_message(body='depth ok'), 5, 'the message nested 20 deep')
            assert 'deep' in str(m), 'the nested payload was cut: %s' % m
            attrs = ' '.join("a%d='%d'" % (i, i) for i in range(50))
            await r.send("<message to='%s' id='ok-attrs'><body>attrs ok</body><y xmlns='urn:example:y' %s/></message>"
                         % (by.b.jid, attrs))
            m = await by.b.expect(is_message(body='attrs ok'), 5, 'the message with 50 attributes')
            y = m.xml.find('{urn:example:y}y')
            assert y is not None and y.get('a49') == '49', m
            await r.flood("<message to='%s'>%s</message>" % (by.b.jid, '<z>' * 100 + '</z>' * 100))
            await r.expect_stream_error('policy-violation', 10)
            await r.aclose()
            await by.check()
            r = await raw_login(s, tls=True)
            attrs = ' '.join("a%d='%d'" % (i, i) for i in range(100))
            await r.flood("<message to='%s'><y xmlns='urn:example:y' %s/></message>" % (by.b.jid, attrs))
            await r.expect_stream_error('policy-violation', 10)
            await r.aclose()
            await by.check()
        finally:
            await by.close()


@timeout(90)
async def test_stanza_flood():
    with plain_server(XMPP_STANZA_RATE=100, XMPP_STANZA_BURST=200) as s:
        by = await Bystander(s).start()
        try:
            # 150 stanzas at once fit in the burst: no disconnect
            r = await raw_login(s, resource='burst')
            payload = ''.join("<message to='%s' type='chat'><body>burst %d</body></message>" % (by.b.jid, i)
                              for i in range(150))
            await r.send(payload)
            for i in range(150):
                await by.b.expect(is_message(body='burst %d' % i), 10, 'burst message %d' % i)
            await r.send("<iq type='get' id='alive' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % s.domain)
            await r.read_until(r"id=['\"]alive['\"]", 5, 'ping after the burst')
            assert '<stream:error' not in r.buf, r.buf[-500:]
            await r.aclose()

            # 5000 as fast as possible: policy-violation and disconnect
            for tls in (False, True):
                r = await raw_login(s, resource='flood-%s' % tls, tls=tls)
                # directed presence first: when the server ends the session, b must learn it
                await r.send("<presence to='%s'/>" % by.b.jid)
                await by.b.expect(is_presence(None, frm=r.jid), 5, "the flooder's directed presence")
                flood = ''.join("<message to='%s' type='chat'><body>flood %d</body></message>" % (r.jid, i)
                                for i in range(5000))
                t0 = time.monotonic()
                await r.flood(flood)
                try:
                    await r.expect_stream_error('policy-violation', 15)
                except AssertionError as e:
                    raise AssertionError('flood (tls=%s): the policy-violation stream error did not reach the '
                                         'client before the connection ended (%d bytes received): %s'
                                         % (tls, len(r.buf), e)) from None
                await r.aclose()
                assert time.monotonic() - t0 < 20
                await by.b.expect(is_presence('unavailable', frm=r.jid), 5,
                                  'unavailable after the server ended the flooding session')
                await by.check()
            # the limit is per connection: a new one works at once
            r = await raw_login(s, resource='after-flood')
            await r.send("<iq type='get' id='alive2' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % s.domain)
            await r.read_until(r"id=['\"]alive2['\"]", 5, 'ping on a new connection after the flood')
            await r.aclose()
        finally:
            await by.close()


@timeout(60)
async def test_auth_timeout():
    with plain_server(XMPP_AUTH_TIMEOUT=2) as s:
        by = await Bystander(s).start()
        try:
            t0 = time.monotonic()
            silent = await Raw.open(s.port)                     # says nothing at all
            header_only = await Raw.open(s.port)
            await header_only.open_stream(s.domain)              # stream, no auth
            tls_only = await raw_connect(s, tls=True)            # STARTTLS, no auth
            half_sasl = await raw_connect(s, tls=True)           # SASL started, never finished
            await half_sasl.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>"
                                 "biwsbj13YXRjaGVyMSxyPWFiY2RlZmdoaWprbA==</auth>")
            for name, r in (('silent', silent), ('header only', header_only), ('tls only', tls_only),
                            ('half SASL', half_sasl)):
                try:
                    await r.expect_stream_error('connection-timeout', 10)
                except AssertionError as e:
                    raise AssertionError('%s: %s' % (name, e)) from None
                await r.aclose()
            elapsed = time.monotonic() - t0
            assert elapsed >= 1.5, 'connections closed after %.1fs, before the 2 s auth timeout' % elapsed
            assert elapsed < 12, 'auth timeout took %.1fs' % elapsed
            # the bystanders logged in before and are older than the timeout now: not affected
            await by.check()
            # an authenticated raw connection is not timed out either
            r = await raw_login(s)
            t1 = time.monotonic()
            while time.monotonic() - t1 < 3:      # outlive the 2 s timeout, one ping every 0.5 s
                await r.send("<iq type='get' id='p%s' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % (uid(), s.domain))
                await r.read_until(r"<iq\b[^>]*type=['\"]result['\"]", 5, 'ping result')
                await asyncio.wait_for(by.a.ping(), 5)
                await asyncio.sleep(0.5)          # pacing, not synchronisation
            assert '<stream:error' not in r.buf, r.buf[-500:]
            await r.aclose()
        finally:
            await by.close()


@timeout(60)
async def test_login_rate():
    with plain_server(XMPP_LOGIN_RATE=5) as s:
        s.adduser(s.jid('alice'), 'alice-pw')
        by = await Bystander(s).start()          # logins 1 and 2 from 127.0.0.1
        try:
            outcomes = []
            for i in range(3, 7):
                r = await Raw.open(s.port)
                await r.send("<stream:stream to='%s' version='1.0' xmlns='jabber:client' "
                             "xmlns:stream='http://etherx.jabber.org/streams'>" % s.domain)
                m = await r.read_until(r'</stream:features>|<stream:features\s*/>|<stream:error\b[^>]*>\s*<([a-z-]+)', 5)
                if m.group(1):   # refused at connect time
                    kind, cond = 'stream-error', m.group(1)
                else:
                    kind, cond = await r.auth('SCRAM-SHA-1', 'alice', 'alice-pw')
                outcomes.append((i, kind, cond))
                if kind != 'success':
                    if kind == 'failure':
                        assert cond == 'temporary-auth-failure', 'login %d: failure <%s/>' % (i, cond)
                    else:
                        assert cond == 'policy-violation', 'login %d: stream error <%s/>' % (i, cond)
                await r.aclose()
            assert [k for _, k, _ in outcomes] == ['success', 'success', 'success', outcomes[3][1]] and \
                outcomes[3][1] in ('failure', 'stream-error'), \
                'with XMPP_LOGIN_RATE=5 logins 3-5 must succeed and the 6th fail: %s' % outcomes
            # anonymous logins count too
            r = await raw_connect(s, tls=False)
            kind, cond = await r.auth('ANONYMOUS')
            assert kind != 'success', 'an anonymous login beyond the rate succeeded'
            await r.aclose()
            # the already logged-in clients keep working
            await by.check()
            # the limit is per IP: another loopback address may still log in
            try:
                r = await raw_connect(s, tls=False, source='127.0.0.2')
            except OSError as e:
                print('note: cannot connect from 127.0.0.2 (%s); per-IP part skipped' % e)
            else:
                kind, cond = await r.auth('SCRAM-SHA-1', 'alice', 'alice-pw')
                assert kind == 'success', 'login from 127.0.0.2 refused by the rate of 127.0.0.1: %s %s' % (kind, cond)
                await r.aclose()
        finally:
            await by.close()


@timeout(60)
async def test_connection_cap():
    with plain_server(XMPP_MAX_CONNECTIONS=5) as s:
        by = await Bystander(s).start()          # connections 1 and 2
        extra = []
        try:
            for i in range(3):                   # connections 3, 4, 5
                r = await Raw.open(s.port)
                await r.open_stream(s.domain)
                extra.append(r)
            sixth = await Raw.open(s.port)
            await sixth.try_send("<stream:stream to='%s' version='1.0' xmlns='jabber:client' "
                                 "xmlns:stream='http://etherx.jabber.org/streams'>" % s.domain)
            await sixth.expect_stream_error(('policy-violation', 'resource-constraint', 'connection-timeout'), 10)
            await sixth.aclose()
            # the others are untouched
            await by.check()
            for r in extra:
                await r.send(' ')                        # whitespace keepalive: still open, no error
                assert not r.closed and '<stream:error' not in r.buf, r.buf[-300:]
            # freeing a slot lets a new connection in (bounded retry while the server notices the close)
            await extra.pop().aclose()
            deadline = time.monotonic() + 10
            while True:
                r = await Raw.open(s.port)
                await r.try_send("<stream:stream to='%s' version='1.0' xmlns='jabber:client' "
                                 "xmlns:stream='http://etherx.jabber.org/streams'>" % s.domain)
                m = await r.read_until(r'</stream:features>|<stream:features\s*/>|<stream:error', 5)
                if m.group(0) != '<stream:error':
                    extra.append(r)
                    break
                await r.aclose()
                assert time.monotonic() < deadline, 'a freed connection slot was never reused'
                await asyncio.sleep(0.1)  # retry pacing only; the exit condition is the server's answer
            await by.check()
        finally:
            for r in extra:
                await r.aclose()
            await by.close()


if __name__ == '__main__':
    main(globals())
