#!/usr/bin/python3
"""c2s stream negotiation and login (RFC 6120): STARTTLS, SASL (SCRAM-SHA-256,
SCRAM-SHA-1, PLAIN, ANONYMOUS), resource binding, the legacy session IQ, and the
stream / SASL errors of a failed negotiation."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (AuthFailed, Raw, clients, is_message, login, main,  # noqa: E402
                     mechanisms, raw_connect, raw_login, server, uid)

PW = 's3cret-Pw'


async def test_starttls_offered_and_required():
    with server() as s:
        r = await Raw.open(s.port)
        feats = await r.open_stream(s.domain)
        assert re.search(r"from=['\"]%s['\"]" % re.escape(s.domain), r.header), \
            'stream header should come from the served domain: %s' % r.header
        assert re.search(r"\bid=['\"][^'\"]+['\"]", r.header), 'stream header without id: %s' % r.header
        assert re.search(r"version=['\"]1\.0['\"]", r.header), 'stream header without version 1.0: %s' % r.header
        assert 'urn:ietf:params:xml:ns:xmpp-tls' in feats, 'STARTTLS not offered: %s' % feats
        assert re.search(r'<starttls\b[^>]*>\s*<required\s*/>', feats), \
            'STARTTLS is mandatory by default, <required/> expected: %s' % feats
        assert 'PLAIN' not in mechanisms(feats), 'PLAIN offered before TLS: %s' % feats
        await r.starttls()
        feats = await r.open_stream(s.domain)
        mechs = mechanisms(feats)
        for m in ('SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN', 'ANONYMOUS'):
            assert m in mechs, '%s not offered after TLS on %s (ENABLE_AUTH=0): %s' % (m, s.domain, mechs)
        assert 'xmpp-tls' not in feats, 'STARTTLS offered again after TLS: %s' % feats
        await r.aclose()


async def test_auth_before_tls_refused():
    """C2S_REQUIRE_ENCRYPTION (default true): no authentication on a plain stream."""
    with server() as s:
        s.adduser(s.jid('alice'), PW)
        r = await Raw.open(s.port)
        await r.open_stream(s.domain)
        kind, detail = await r.auth('SCRAM-SHA-1', 'alice', PW)
        assert kind in ('failure', 'stream-error'), \
            'authentication before STARTTLS must be refused, got %s %s' % (kind, detail)
        await r.aclose()
        r = await Raw.open(s.port)
        await r.open_stream(s.domain)
        kind, detail = await r.auth('PLAIN', 'alice', PW)
        assert kind in ('failure', 'stream-error'), 'PLAIN before STARTTLS accepted: %s %s' % (kind, detail)
        await r.aclose()


async def test_login_each_mechanism():
    with server() as s:
        s.adduser(s.jid('alice'), PW)
        async with clients() as cs:
            for mech in ('SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'):
                c = await login(s, s.jid('alice'), PW, mech=mech, resource='r-' + mech.lower())
                cs.append(c)
                assert c.jid == '%s/r-%s' % (s.jid('alice'), mech.lower()), \
                    '%s: bound %s' % (mech, c.jid)
            # the same logins by hand, checking the SCRAM server signature
            for mech in ('SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'):
                r = await raw_login(s, 'alice', PW, mechanism=mech, resource='raw-' + mech.lower())
                assert r.jid == '%s/raw-%s' % (s.jid('alice'), mech.lower()), r.jid
                await r.aclose()


async def test_plain_without_tls_when_encryption_optional():
    """With C2S_REQUIRE_ENCRYPTION=false a plain-TCP stream may authenticate
    with SCRAM, but PLAIN is offered (and accepted) only after TLS."""
    with server(C2S_REQUIRE_ENCRYPTION='false') as s:
        s.adduser(s.jid('alice'), PW)
        r = await Raw.open(s.port)
        feats = await r.open_stream(s.domain)
        assert not re.search(r'<starttls\b[^>]*>\s*<required', feats), \
            'STARTTLS must not be required with C2S_REQUIRE_ENCRYPTION=false: %s' % feats
        mechs = mechanisms(feats)
        assert 'SCRAM-SHA-1' in mechs and 'SCRAM-SHA-256' in mechs, mechs
        assert 'PLAIN' not in mechs, 'PLAIN offered on an unencrypted stream: %s' % mechs
        kind, detail = await r.auth('PLAIN', 'alice', PW)
        assert kind in ('failure', 'stream-error'), 'PLAIN accepted without TLS: %s %s' % (kind, detail)
        await r.aclose()
        r = await raw_login(s, 'alice', PW, tls=False, mechanism='SCRAM-SHA-256')
        assert r.jid.startswith(s.jid('alice') + '/'), r.jid
        await r.aclose()
        async with clients() as cs:
            cs.append(await login(s, s.jid('alice'), PW, resource='plain', plain=True))


async def test_wrong_password_then_retry():
    with server() as s:
        s.adduser(s.jid('alice'), PW)
        try:
            c = await login(s, s.jid('alice'), 'wrong', mech='SCRAM-SHA-1')
            await c.close()
            raise AssertionError('login with a wrong password succeeded')
        except AuthFailed as e:
            assert e.condition == 'not-authorized', 'expected <not-authorized/>, got %s' % e.condition
        r = await raw_connect(s)
        for mech in ('PLAIN', 'SCRAM-SHA-1', 'SCRAM-SHA-256'):
            kind, cond = await r.auth(mech, 'alice', 'wrong-' + mech)
            assert (kind, cond) == ('failure', 'not-authorized'), \
                '%s with a wrong password: expected failure/not-authorized, got %s %s' % (mech, kind, cond)
            assert re.search(r"<failure xmlns=['\"]urn:ietf:params:xml:ns:xmpp-sasl['\"]",
                             r.buf), 'SASL failure not in the SASL namespace: %r' % r.buf[-300:]
        # RFC 6120 6.4.5: the client may retry on the same stream
        kind, body = await r.auth('SCRAM-SHA-1', 'alice', PW)
        assert kind == 'success', 'retry with the right password failed: %s %s' % (kind, body)
        feats = await r.open_stream(s.domain)
        assert 'xmpp-bind' in feats, feats
        jid = await r.bind('retry')
        assert jid == s.jid('alice') + '/retry', jid
        await r.aclose()


async def test_unknown_user_not_authorized():
    with server() as s:
        r = await raw_connect(s)
        kind, cond = await r.auth('PLAIN', 'nobody', 'x')
        assert (kind, cond) == ('failure', 'not-authorized'), (kind, cond)
        kind, cond = await r.auth('SCRAM-SHA-256', 'nobody', 'x')
        assert (kind, cond) == ('failure', 'not-authorized'), (kind, cond)
        await r.aclose()


async def test_host_unknown():
    with server() as s:
        r = await Raw.open(s.port)
        await r.send("<?xml version='1.0'?><stream:stream to='not-served.example' version='1.0' "
                     "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")
        await r.expect_stream_error('host-unknown')
        await r.aclose()
        # domain names compare case-insensitively (nameprep)
        r = await Raw.open(s.port)
        feats = await r.open_stream(s.domain.upper())
        assert 'xmpp-tls' in feats and '<stream:error' not in r.buf, r.buf
        await r.aclose()


async def test_service_domains_take_accounts():
    """XMPP_AUTH_DOMAIN and XMPP_HIDDEN_DOMAIN are account domains."""
    with server() as s:
        s.adduser('focus@' + s.auth_domain, PW)
        s.adduser('recorder@' + s.hidden_domain, PW)
        async with clients() as cs:
            cs.append(await login(s, 'focus@' + s.auth_domain, PW, resource='f'))
            cs.append(await login(s, 'recorder@' + s.hidden_domain, PW, resource='r'))
            assert cs[0].jid == 'focus@%s/f' % s.auth_domain, cs[0].jid
            assert cs[1].jid == 'recorder@%s/r' % s.hidden_domain, cs[1].jid
            # accounts are per domain
            try:
                c = await login(s, 'focus@' + s.domain, PW)
                cs.append(c)
                raise AssertionError('focus@%s logged in with the password of focus@%s'
                                     % (s.domain, s.auth_domain))
            except AuthFailed:
                pass


async def test_resource_binding():
    with server() as s:
        s.adduser(s.jid('alice'), PW)
        async with clients() as cs:
            a = await login(s, s.jid('alice'), PW, resource='desk')
            cs.append(a)
            assert a.jid == s.jid('alice') + '/desk', a.jid
            # no resource: the server generates one
            r = await raw_login(s, 'alice', PW, resource=None)
            bare, _, res = r.jid.partition('/')
            assert bare == s.jid('alice') and res, 'generated resource missing: %s' % r.jid
            r2 = await raw_login(s, 'alice', PW, resource=None)
            assert r2.jid != r.jid, 'two generated resources are equal: %s' % r.jid
            # both generated resources are routable
            body = 'to-generated ' + uid()
            a.send_message(r.jid, body)
            await r.read_until(re.escape(body), 5, 'message to the generated resource')
            await r.aclose()
            await r2.aclose()


async def test_resource_conflict():
    """Binding a resource that is already bound (RFC 6120 7.7.2.2): the server
    either refuses the new bind (conflict), ends the old session (conflict
    stream error), or gives the new session another resource. Never two
    sessions with one full JID."""
    with server() as s:
        s.adduser(s.jid('alice'), PW)
        s.adduser(s.jid('bob'), PW)
        async with clients() as cs:
            bob = await login(s, s.jid('bob'), PW, resource='b')
            first = await login(s, s.jid('alice'), PW, resource='same')
            cs += [bob, first]
            r = await raw_connect(s)
            kind, _ = await r.auth('SCRAM-SHA-1', 'alice', PW)
            assert kind == 'success'
            await r.open_stream(s.domain)
            await r.send("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                         "<resource>same</resource></bind></iq>")
            m = await r.read_until(r"<iq\b[^>]*\bid=['\"]b1['\"].*?</iq>", 5, 'the bind answer')
            ans = m.group(0)
            if "type='error'" in ans.replace('"', "'"):
                assert 'conflict' in ans, 'bind refused without <conflict/>: %s' % ans
                await first.ping()
            else:
                jid = re.search(r'<jid>([^<]+)</jid>', ans).group(1)
                if jid == s.jid('alice') + '/same':
                    cond = await first.expect_stream_error(5)
                    assert cond == 'conflict', 'old session ended with %s, expected conflict' % cond
                    body = 'for the new session ' + uid()
                    bob.send_message(jid, body)
                    await r.read_until(re.escape(body), 5, 'message to the new session')
                else:
                    assert jid.startswith(s.jid('alice') + '/'), jid
                    await first.ping()
            await r.aclose()


async def test_legacy_session_iq():
    with server() as s:
        s.adduser(s.jid('alice'), PW)
        async with clients() as cs:
            a = await login(s, s.jid('alice'), PW)
            cs.append(a)
            await a.iq("<iq type='set' id='sess1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>",
                       expect_type='result')


async def test_stanza_before_auth():
    """A stanza before authentication is a stream error (not-authorized or
    unsupported-stanza-type) and is not delivered."""
    with server() as s:
        s.adduser(s.jid('bob'), PW)
        async with clients() as cs:
            bob = await login(s, s.jid('bob'), PW, resource='b', presence=True)
            cs.append(bob)
            for tls in (True, False):
                r = await raw_connect(s, tls=tls)
                body = 'sneaky ' + uid()
                await r.send("<message to='%s' type='chat'><body>%s</body></message>" % (bob.jid, body))
                await r.expect_stream_error(('not-authorized', 'unsupported-stanza-type', 'policy-violation'))
                await r.aclose()
                # an iq too
                r = await raw_connect(s, tls=tls)
                await r.send("<iq type='get' id='x' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % bob.jid)
                await r.expect_stream_error(('not-authorized', 'unsupported-stanza-type', 'policy-violation'))
                await r.aclose()
                # bob is still reachable and got nothing
                marker = 'marker ' + uid()
                a2 = await login(s, s.jid('bob'), PW, resource='probe-%s' % tls)
                cs.append(a2)
                a2.send_message(bob.jid, marker)
                await bob.expect(is_message(body=marker), 5, 'the marker')
                bob.assert_none(is_message(body=body), 'a message sent before authentication')


async def test_client_close_stream():
    """</stream:stream> from the client is answered with the server's close."""
    with server() as s:
        s.adduser(s.jid('alice'), PW)
        r = await raw_login(s, 'alice', PW)
        await r.send('</stream:stream>')
        rest = await r.read_until_closed(5)
        assert '</stream:stream>' in rest, 'server did not close its stream: %r' % rest
        s.check()


async def test_xml_declaration_and_double_quotes_accepted():
    """The XML declaration is not a processing instruction to refuse, and
    attributes may use double quotes."""
    with server(C2S_REQUIRE_ENCRYPTION='false') as s:
        r = await Raw.open(s.port)
        await r.send('<?xml version="1.0" encoding="UTF-8"?>\n<stream:stream to="%s" version="1.0" '
                     'xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams">' % s.domain)
        await r.read_until(r'</stream:features>|<stream:features\s*/>', 5, 'stream features')
        assert '<stream:error' not in r.buf, r.buf
        kind, _ = await r.auth('ANONYMOUS')
        assert kind == 'success', kind
        await r.aclose()


if __name__ == '__main__':
    main(globals())
