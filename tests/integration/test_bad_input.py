#!/usr/bin/python3
"""Hostile and broken input on the c2s port: every case gets the right stream
error (or SASL failure) and a close, the daemon never crashes, and a
well-behaved pair of clients logged in before the attacks keeps working
after each one."""

import asyncio
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Bystander, Raw, main, raw_connect, raw_login, server,  # noqa: E402
                     stream_header, timeout)

HDR = stream_header  # stream_header(to) -> the opening tag (with an XML declaration)
# deep nesting before authentication: the limit, or the refusal of a stanza before auth
PRE_AUTH_DEEP = ('policy-violation', 'not-authorized', 'unsupported-stanza-type')


async def run_case(s, by, name, payload, conds, *, tls=False, auth=False, header=True):
    """One attack on a fresh connection: optional stream open (+TLS, +anonymous
    login), then payload; expects a stream error in conds and the close; then
    the bystanders must still work."""
    try:
        if auth:
            r = await raw_login(s, tls=tls)
        elif header:
            r = await raw_connect(s, tls=tls)
        else:
            r = await Raw.open(s.port)
        await r.flood(payload)
        await r.expect_stream_error(conds, timeout=10)
        await r.aclose()
    except AssertionError as e:
        raise AssertionError('case %r (tls=%s auth=%s): %s' % (name, tls, auth, e)) from None
    try:
        await by.check()
    except AssertionError as e:
        raise AssertionError('after case %r the bystanders broke: %s' % (name, e)) from None


def bystanding_server(**kw):
    kw.setdefault('C2S_REQUIRE_ENCRYPTION', 'false')
    return server(**kw)


MALFORMED = [
    ('mismatched tags', "<message to='x@meet.parley'><body>x</message>"),
    ('duplicate attribute', "<message id='1' id='2'><body>x</body></message>"),
    ('broken tag', "<message to='x@meet.parley'<body>x</body></message>"),
    ('attribute without quotes', "<message to=x><body>x</body></message>"),
    ('stray close tag', "</message>"),
    ('lone ampersand', "<message><body>a & b</body></message>"),
    ('invalid utf-8', b"<message><body>\xff\xfe\xc3\x28</body></message>"),
    ('control character', b"<message><body>\x01\x02</body></message>"),
    ('NUL character reference', "<message><body>&#0;</body></message>"),
    ('lt in attribute', "<message to='a<b'><body>x</body></message>"),
]


@timeout(90)
async def test_malformed_xml():
    with bystanding_server() as s:
        by = await Bystander(s).start()
        try:
            for i, (name, payload) in enumerate(MALFORMED):
                # alternate: before auth on plain TCP, after auth on plain TCP, after auth over TLS
                mode = i % 3
                await run_case(s, by, name, payload, ('not-well-formed', 'bad-format'),
                               tls=(mode == 2), auth=(mode >= 1))
            await run_case(s, by, 'unbound prefix', "<foo:bar><body>x</body></foo:bar>",
                           ('not-well-formed', 'bad-namespace-prefix', 'invalid-namespace'), auth=True)
        finally:
            await by.close()


@timeout(90)
async def test_restricted_xml():
    with bystanding_server() as s:
        by = await Bystander(s).start()
        d = s.domain
        try:
            lol = ''.join("<!ENTITY lol%d '%s'>" % (i, ('&lol%d;' % (i - 1)) * 10) for i in range(1, 10))
            cases = [
                ('DOCTYPE before the stream', "<?xml version='1.0'?><!DOCTYPE stream:stream>" + HDR(d)[21:],
                 False),
                ('billion laughs', "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol0 'lol'>%s]>"
                 "<stream:stream to='%s' version='1.0' xmlns='jabber:client' "
                 "xmlns:stream='http://etherx.jabber.org/streams'><message><body>&lol9;</body></message>"
                 % (lol, d), False),
                ('external entity', "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY xxe SYSTEM 'file:///etc/passwd'>]>"
                 "<stream:stream to='%s' version='1.0' xmlns='jabber:client' "
                 "xmlns:stream='http://etherx.jabber.org/streams'><message><body>&xxe;</body></message>" % d,
                 False),
            ]
            for name, payload, _ in cases:
                await run_case(s, by, name, payload, ('restricted-xml',), header=False)
            in_stream = [
                ('comment', "<!-- a comment -->"),
                ('comment inside a stanza', "<message><!-- c --><body>x</body></message>"),
                ('processing instruction', "<?evil instruction?>"),
                ('processing instruction in a stanza', "<message><body>x<?pi x?></body></message>"),
                ('DOCTYPE inside the stream', "<!DOCTYPE foo [<!ENTITY a 'b'>]><message/>"),
            ]
            for i, (name, payload) in enumerate(in_stream):
                await run_case(s, by, name, payload, ('restricted-xml', 'not-well-formed'),
                               tls=(i % 2 == 1), auth=(i % 2 == 1))
            # an undefined entity is an error too (expat: undefined entity)
            await run_case(s, by, 'undefined entity', "<message><body>&undefined;</body></message>",
                           ('restricted-xml', 'not-well-formed'), auth=True)
            # nothing of /etc/passwd ever comes back
            r = await Raw.open(s.port)
            await r.flood(cases[2][1])
            try:
                await r.read_until_closed(10)
            finally:
                await r.aclose()
            assert 'root:' not in r.buf, 'external entity expanded: %r' % r.buf
        finally:
            await by.close()


@timeout(90)
async def test_bad_stream_headers():
    with bystanding_server() as s:
        by = await Bystander(s).start()
        d = s.domain
        try:
            cases = [
                ('HTTP request', "GET / HTTP/1.1\r\nHost: %s\r\n\r\n" % d,
                 ('not-well-formed', 'invalid-namespace', 'bad-format')),
                ('binary junk', bytes(range(256)) * 4, ('not-well-formed', 'invalid-namespace', 'bad-format')),
                ('TLS ClientHello on the plain port',
                 bytes.fromhex('16030100c4010000c00303') + os.urandom(32) + b'\x00' * 150,
                 ('not-well-formed', 'invalid-namespace', 'bad-format')),
                ('text before the header', 'hello ' + HDR(d), ('not-well-formed', 'invalid-namespace', 'bad-format')),
                ('wrong stream namespace', "<stream:stream to='%s' version='1.0' xmlns='jabber:client' "
                 "xmlns:stream='http://example.com/streams'>" % d, ('invalid-namespace',)),
                ('wrong content namespace', "<stream:stream to='%s' version='1.0' xmlns='urn:example:bad' "
                 "xmlns:stream='http://etherx.jabber.org/streams'>" % d, ('invalid-namespace',)),
                ('server namespace on c2s', "<stream:stream to='%s' version='1.0' xmlns='jabber:server' "
                 "xmlns:stream='http://etherx.jabber.org/streams'>" % d, ('invalid-namespace',)),
                ('root is not a stream', "<message xmlns='jabber:client' to='%s'>" % d,
                 ('invalid-namespace', 'not-well-formed', 'bad-format')),
                ('stream header in no namespace', "<stream to='%s' version='1.0'>" % d,
                 ('invalid-namespace', 'bad-namespace-prefix', 'not-well-formed', 'bad-format')),
                ('a close tag first', '</stream:stream>', ('not-well-formed', 'invalid-namespace', 'bad-format')),
            ]
            for name, payload, conds in cases:
                await run_case(s, by, name, payload, conds, header=False)
            # a higher version is answered with the server's own, lower one (RFC 6120 4.7.5: the
            # receiving entity replies with the lower of the two; unsupported-version is the
            # initiating entity's call)
            r = await Raw.open(s.port)
            await r.open_stream(d, version='2.0')
            assert re.search(r"version=['\"]1\.0['\"]", r.header), 'reply to version 2.0: %s' % r.header
            await r.aclose()
            # the server's reply to a header it refuses starts with its own stream header
            r = await Raw.open(s.port)
            await r.send("<stream:stream to='%s' version='1.0' xmlns='jabber:client' "
                         "xmlns:stream='http://example.com/streams'>" % d)
            await r.expect_stream_error(('invalid-namespace',))
            assert re.search(r"<stream:stream\b[^>]*xmlns:stream=['\"]http://etherx\.jabber\.org/streams['\"]",
                             r.buf), 'stream error without an opening stream header first: %r' % r.buf
            await r.aclose()
        finally:
            await by.close()


@timeout(90)
async def test_parser_limits_with_default_config():
    """Default limits (stanza 256 KiB, depth 32, 64 attributes)."""
    with bystanding_server() as s:
        by = await Bystander(s).start()
        try:
            deep = '<a>' * 10000 + '</a>' * 10000
            await run_case(s, by, '10000 nested elements', "<message><body>x</body>%s</message>" % deep,
                           ('policy-violation',), auth=True)
            await run_case(s, by, '10000 nested elements before auth', deep, PRE_AUTH_DEEP, auth=False)
            await run_case(s, by, '10000 nested elements over TLS', "<message>%s</message>" % deep,
                           ('policy-violation',), auth=True, tls=True)
            attrs = ' '.join("a%d='%d'" % (i, i) for i in range(200))
            await run_case(s, by, '200 attributes', "<message %s><body>x</body></message>" % attrs,
                           ('policy-violation',), auth=True)
            await run_case(s, by, '200 namespace declarations',
                           "<message %s/>" % ' '.join("xmlns:p%d='urn:x:%d'" % (i, i) for i in range(200)),
                           ('policy-violation',), auth=True)
            await run_case(s, by, 'huge element name', '<' + 'n' * 400000 + '/>', ('policy-violation',), auth=True)
            await run_case(s, by, 'huge attribute value', "<message to='%s'/>" % ('v' * 400000),
                           ('policy-violation',), auth=True)
            await run_case(s, by, 'huge text', "<message><body>%s</body></message>" % ('t' * 400000),
                           ('policy-violation',), auth=True, tls=True)
            await run_case(s, by, 'huge stream header', "<stream:stream to='%s' xmlns='jabber:client' "
                           "xmlns:stream='http://etherx.jabber.org/streams' x='%s'>" % (s.domain, 'h' * 400000),
                           ('policy-violation',), header=False)
            await run_case(s, by, 'endless stanza', "<message><body>" + 'x' * 1000000,
                           ('policy-violation',), auth=True)
        finally:
            await by.close()


@timeout(90)
async def test_sasl_garbage():
    with bystanding_server() as s:
        by = await Bystander(s).start()
        s.adduser(s.jid('alice'), 'alice-pw')
        s.adduser(s.jid('bob'), 'bob-pw')
        sasl = "urn:ietf:params:xml:ns:xmpp-sasl"
        try:
            cases = [
                ('bad base64', "<auth xmlns='%s' mechanism='PLAIN'>!!!not base64!!!</auth>" % sasl),
                ('PLAIN without NULs', "<auth xmlns='%s' mechanism='PLAIN'>YWJj</auth>" % sasl),
                ('unknown mechanism', "<auth xmlns='%s' mechanism='X-NOPE'>YWJj</auth>" % sasl),
                ('no mechanism', "<auth xmlns='%s'>YWJj</auth>" % sasl),
                ('SCRAM garbage', "<auth xmlns='%s' mechanism='SCRAM-SHA-1'>eHl6</auth>" % sasl),
                ('SCRAM bad gs2 header', "<auth xmlns='%s' mechanism='SCRAM-SHA-1'>%s</auth>"
                 % (sasl, __import__('base64').b64encode(b'y,a=bob,n=alice,r=abc').decode())),
                ('SCRAM channel binding demanded', "<auth xmlns='%s' mechanism='SCRAM-SHA-256'>%s</auth>"
                 % (sasl, __import__('base64').b64encode(b'p=tls-unique,,n=alice,r=abc').decode())),
                ('response without auth', "<response xmlns='%s'>YWJj</response>" % sasl),
                ('huge auth', "<auth xmlns='%s' mechanism='PLAIN'>%s</auth>" % (sasl, 'QUFB' * 50000)),
                ('abort without auth', "<abort xmlns='%s'/>" % sasl),
            ]
            for i, (name, payload) in enumerate(cases):
                tls = i % 2 == 0
                r = await raw_connect(s, tls=tls)
                await r.send(payload)
                kind, cond = await r._sasl_outcome(10)
                assert kind in ('failure', 'stream-error'), '%s: got %s %s' % (name, kind, cond)
                if kind == 'failure':
                    # the stream survives a SASL failure: a good login still works
                    kind2, _ = await r.auth('SCRAM-SHA-1', 'alice', 'alice-pw')
                    assert kind2 == 'success', '%s: a correct login after the failure: %s' % (name, kind2)
                await r.aclose()
                await by.check()

            # SCRAM with a tampered final message (nonce / proof) is refused
            for tamper in ('nonce', 'proof', 'binding'):
                r = await raw_connect(s, tls=True)
                kind, cond = await scram_tampered(r, 'alice', 'alice-pw', tamper)
                assert kind in ('failure', 'stream-error'), 'SCRAM with a tampered %s: %s %s' % (tamper, kind, cond)
                await r.aclose()
            # PLAIN with someone else's identity as authzid: never logged in as bob
            r = await raw_connect(s, tls=True)
            kind, cond = await r.auth('PLAIN', 'alice', 'alice-pw', authzid=s.jid('bob'))
            if kind == 'success':
                await r.open_stream(s.domain)
                jid = await r.bind('x')
                assert not jid.startswith(s.jid('bob')), 'alice became bob through the authzid: %s' % jid
            else:
                assert kind == 'failure' and cond in ('invalid-authzid', 'not-authorized'), (kind, cond)
            await r.aclose()
            # PLAIN with her own bare JID as authzid (what sendxmpp sends) is fine
            r = await raw_connect(s, tls=True)
            kind, cond = await r.auth('PLAIN', 'alice', 'alice-pw', authzid=s.jid('alice'))
            assert kind == 'success', 'PLAIN with the own bare JID as authzid refused: %s %s' % (kind, cond)
            await r.aclose()
            await by.check()
        finally:
            await by.close()


async def scram_tampered(r, user, password, tamper):
    import base64
    import secrets
    cnonce = base64.b64encode(secrets.token_bytes(12)).decode()
    first_bare = 'n=%s,r=%s' % (user, cnonce)
    await r.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>%s</auth>"
                 % base64.b64encode(('n,,' + first_bare).encode()).decode())
    kind, body = await r._sasl_outcome(5)
    assert kind == 'challenge', (kind, body)
    server_first = base64.b64decode(body).decode()
    attrs = dict(kv.split('=', 1) for kv in server_first.split(','))
    nonce = attrs['r']
    import hashlib
    import hmac
    salted = hashlib.pbkdf2_hmac('sha1', password.encode(), base64.b64decode(attrs['s']), int(attrs['i']))
    ck = hmac.new(salted, b'Client Key', 'sha1').digest()
    sk = hashlib.sha1(ck).digest()
    cbind = 'biws'
    if tamper == 'nonce':
        nonce = nonce[:-2] + ('AA' if nonce[-2:] != 'AA' else 'BB')
    if tamper == 'binding':
        cbind = base64.b64encode(b'y,,').decode()
    wo = 'c=%s,r=%s' % (cbind, nonce)
    am = ','.join((first_bare, server_first, wo))
    sig = hmac.new(sk, am.encode(), 'sha1').digest()
    proof = bytes(a ^ b for a, b in zip(ck, sig))
    if tamper == 'proof':
        proof = bytes([proof[0] ^ 1]) + proof[1:]
    final = wo + ',p=' + base64.b64encode(proof).decode()
    await r.send("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>%s</response>"
                 % base64.b64encode(final.encode()).decode())
    return await r._sasl_outcome(5)


@timeout(90)
async def test_bad_stanzas_after_auth():
    with bystanding_server() as s:
        by = await Bystander(s).start()
        try:
            await run_case(s, by, 'unknown top-level element', "<foo xmlns='jabber:client'/>",
                           ('unsupported-stanza-type',), auth=True)
            await run_case(s, by, 'top-level element in another namespace', "<bar xmlns='urn:example:x'/>",
                           ('unsupported-stanza-type', 'invalid-namespace'), auth=True, tls=True)
            await run_case(s, by, 'second stream header mid-stream', HDR(s.domain),
                           ('not-well-formed', 'policy-violation', 'unsupported-stanza-type', 'invalid-namespace',
                            'bad-format'), auth=True)

            # stanza-level errors keep the stream up
            r = await raw_login(s, tls=False)
            checks = [
                ("<iq type='get' id='nochild' to='%s'/>" % s.domain, 'nochild', 'bad-request'),
                ("<iq type='get' id='twochild' to='%s'><ping xmlns='urn:xmpp:ping'/>"
                 "<query xmlns='jabber:iq:version'/></iq>" % s.domain, 'twochild', 'bad-request'),
                ("<message type='chat' id='badto' to='a@@b'><body>x</body></message>", 'badto', 'jid-malformed'),
            ]
            for xml, iq_id, cond in checks:
                await r.send(xml)
                m = await r.read_until(r"<(iq|message)\b[^>]*\bid=['\"]%s['\"].*?</\1>" % iq_id, 5,
                                       'the error for %s' % iq_id)
                conds = (cond, 'service-unavailable') if cond == 'bad-request' else (cond,)
                assert any(c in m.group(0) for c in conds) and re.search(r"type=['\"]error['\"]", m.group(0)), \
                    '%s: expected a %s error, got %s' % (iq_id, cond, m.group(0))
            # an iq without an id and an unsolicited result: no crash, stream stays up
            await r.send("<iq type='get' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % s.domain)
            await r.send("<iq type='result' id='unsolicited' to='%s'/>" % s.domain)
            await r.send("<iq type='get' id='alive' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % s.domain)
            await r.read_until(r"<iq\b[^>]*\bid=['\"]alive['\"]", 5, 'the ping result')
            # auth and starttls again after login: refused, the identity does not change
            await r.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>")
            await r.send("<iq type='get' id='alive2' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % s.domain)
            m = await r.read_until(r"<iq\b[^>]*\bid=['\"]alive2['\"]|<stream:error", 5, 'reaction to a second auth')
            assert '<success' not in r.buf[r.buf.find('alive'):], 'a second SASL exchange succeeded: %r' % r.buf
            await r.aclose()
            await by.check()

            # connections dropped at every stage
            for stage in range(8):
                r = await Raw.open(s.port)
                if stage >= 1:
                    await r.send(HDR(s.domain)[:30])
                if stage >= 2:
                    await r.send(HDR(s.domain)[30:])
                    await r.read_until(r'</stream:features>', 5)
                if stage == 3:
                    await r.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
                    await r.read_until(r'<proceed', 5)
                    await r.send(b'\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03')  # half a ClientHello
                if stage == 4:
                    await r.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
                    await r.read_until(r'<proceed', 5)
                    await r.send(b'this is not TLS at all\r\n' * 10)
                if stage == 5:
                    await r.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>"
                                 "%s</auth>" % __import__('base64').b64encode(b'n,,n=alice,r=abcdef').decode())
                if stage >= 6:
                    r.close()
                    r = await raw_login(s, tls=(stage == 7))
                    await r.send("<message to='%s'><body>half a stan" % by.b.jid)
                r.close()
            await by.check()
            # TLS: after <proceed/> the server gets garbage instead of a ClientHello, and answers by closing
            r = await Raw.open(s.port)
            await r.open_stream(s.domain)
            await r.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            await r.read_until(r'<proceed', 5)
            await r.send(b'GET / HTTP/1.0\r\n\r\n' * 20)
            await r.read_until_closed(10)
            await by.check()
        finally:
            await by.close()


@timeout(90)
async def test_bad_input_with_required_tls():
    """The same kinds of attack against the default config (STARTTLS
    required), all after STARTTLS."""
    with server() as s:
        by = await Bystander(s).start()
        try:
            await run_case(s, by, 'malformed after TLS', "<message><body>x</message>", ('not-well-formed',),
                           tls=True)
            await run_case(s, by, 'comment after TLS', "<!-- x -->", ('restricted-xml',), tls=True)
            await run_case(s, by, 'deep nesting after TLS', '<a>' * 10000, PRE_AUTH_DEEP, tls=True)
            await run_case(s, by, 'deep nesting after TLS and auth', '<message>' + '<a>' * 10000,
                           ('policy-violation',), tls=True, auth=True)
            await run_case(s, by, 'unknown stanza after TLS and auth', "<foo/>", ('unsupported-stanza-type',),
                           tls=True, auth=True)
            # many concurrent garbage connections, then the bystanders
            async def one(i):
                r = await raw_connect(s, tls=True)
                await r.flood("<message><body>%d</body></mess>" % i)
                await r.expect_stream_error(('not-well-formed',), timeout=15)
                await r.aclose()
            await asyncio.gather(*(one(i) for i in range(30)))
            await by.check()
        finally:
            await by.close()


if __name__ == '__main__':
    main(globals())
