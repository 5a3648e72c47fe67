#!/usr/bin/python3
"""SASL ANONYMOUS: on XMPP_DOMAIN by default (ENABLE_AUTH=0), on
XMPP_GUEST_DOMAIN with ENABLE_GUESTS=1, never on the account-only domains."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (AuthFailed, Raw, assert_error, clients, is_message, login, main,  # noqa: E402
                     mechanisms, raw_connect, raw_login, server, uid)

PW = 'pw-anon'


def split_jid(j):
    bare, _, res = j.partition('/')
    node, _, dom = bare.rpartition('@')
    return node, dom, res


async def test_anonymous_login_gives_random_jid():
    with server() as s:
        async with clients() as cs:
            seen = set()
            for i in range(3):
                c = await login(s, s.domain, None, presence=True)
                cs.append(c)
                node, dom, res = split_jid(c.jid)
                assert dom == s.domain, 'anonymous JID on the wrong domain: %s' % c.jid
                assert node and res, 'anonymous JID needs a node and a resource: %s' % c.jid
                assert len(node) >= 8, 'anonymous node too guessable: %s' % c.jid
                seen.add(node)
            assert len(seen) == 3, 'anonymous nodes repeat: %s' % seen
            # raw, also over plain TCP when encryption is optional
        with server(C2S_REQUIRE_ENCRYPTION='false') as s2:
            r = await raw_login(s2, tls=False, resource='plain')
            node, dom, res = split_jid(r.jid)
            assert dom == s2.domain and node and res == 'plain', r.jid
            await r.aclose()


async def test_anonymous_users_talk():
    with server() as s:
        async with clients() as cs:
            a = await login(s, s.domain, None, presence=True)
            b = await login(s, s.domain, None, presence=True)
            cs += [a, b]
            a.send_message(b.jid, 'hi anon b')
            m = await b.expect(is_message(body='hi anon b'), 5, 'message between anonymous users')
            assert m.xml.get('from') == a.jid, m
            b.send_message(a.jid, 'hi anon a')
            await a.expect(is_message(body='hi anon a', frm=b.jid), 5, 'the reply')
            # an IQ round trip between them (b's client answers the ping)
            await a.ping(b.jid)
            # an anonymous user and an account can talk too
            s.adduser(s.jid('alice'), PW)
            alice = await login(s, s.jid('alice'), PW, resource='x', presence=True)
            cs.append(alice)
            alice.send_message(a.jid, 'from an account')
            await a.expect(is_message(body='from an account', frm=alice.jid), 5, 'account -> anonymous')
            a.send_message(alice.jid, 'to an account')
            await alice.expect(is_message(body='to an account', frm=a.jid), 5, 'anonymous -> account')


async def test_anonymous_jid_gone_after_logout():
    with server() as s:
        async with clients() as cs:
            a = await login(s, s.domain, None, presence=True)
            b = await login(s, s.domain, None, presence=True)
            cs += [a, b]
            gone_full, gone_bare = a.jid, a.bare
            await a.close()
            for to in (gone_full, gone_bare):
                mid = 'g' + uid()
                b.send_raw("<message to='%s' type='chat' id='%s'><body>still there?</body></message>" % (to, mid))
                e = await b.expect(lambda st, mid=mid: st.xml.get('id') == mid, 5, 'the error for ' + to)
                assert_error(e, 'service-unavailable')
            # anonymous sessions are not accounts
            rc, out, err = s.parleyctl('list', s.domain)
            assert rc == 0, (rc, out, err)
            assert gone_bare.split('@')[0] not in out, 'anonymous user listed as an account: %s' % out


async def _assert_no_anonymous(s, domain):
    r = await raw_connect(s, to=domain)
    mechs = mechanisms(r.features)
    assert mechs, 'no SASL mechanisms on %s: %s' % (domain, r.features)
    assert 'ANONYMOUS' not in mechs, 'ANONYMOUS offered on %s: %s' % (domain, mechs)
    kind, cond = await r.auth('ANONYMOUS')
    assert kind in ('failure', 'stream-error'), \
        'forced ANONYMOUS on %s must fail, got %s %s' % (domain, kind, cond)
    if kind == 'failure':
        assert cond in ('invalid-mechanism', 'not-authorized', 'mechanism-too-weak'), \
            'ANONYMOUS on %s failed with <%s/>' % (domain, cond)
    await r.aclose()


async def test_anonymous_refused_on_account_domains():
    with server() as s:
        await _assert_no_anonymous(s, s.auth_domain)
        await _assert_no_anonymous(s, s.hidden_domain)
        try:
            c = await login(s, s.auth_domain, None, timeout=5)
        except AuthFailed:
            c = None
        if c is not None:
            await c.close()
            raise AssertionError('slixmpp logged in anonymously on %s as %s' % (s.auth_domain, c.jid))
        # accounts work on those domains
        s.adduser('jvb@' + s.auth_domain, PW)
        async with clients() as cs:
            cs.append(await login(s, 'jvb@' + s.auth_domain, PW))


async def test_enable_auth_turns_anonymous_off():
    with server(ENABLE_AUTH=1) as s:
        await _assert_no_anonymous(s, s.domain)
        s.adduser(s.jid('alice'), PW)
        async with clients() as cs:
            cs.append(await login(s, s.jid('alice'), PW))
            # guests are off by default: no anonymous anywhere
            r = await Raw.open(s.port)
            await r.send("<stream:stream to='%s' version='1.0' xmlns='jabber:client' "
                         "xmlns:stream='http://etherx.jabber.org/streams'>" % s.guest_domain)
            m = await r.read_until(r'<stream:error|</stream:features>|<stream:features\s*/>', 5)
            if m.group(0) == '<stream:error':
                r.pos = m.start()
                await r.expect_stream_error('host-unknown')
            else:
                await r.aclose()
                await _assert_no_anonymous(s, s.guest_domain)
            await r.aclose()


async def test_guest_domain():
    with server(ENABLE_AUTH=1, ENABLE_GUESTS=1) as s:
        s.adduser(s.jid('alice'), PW)
        async with clients() as cs:
            g = await login(s, s.guest_domain, None, presence=True)
            alice = await login(s, s.jid('alice'), PW, resource='a', presence=True)
            cs += [g, alice]
            node, dom, res = split_jid(g.jid)
            assert dom == s.guest_domain and node, g.jid
            g.send_message(alice.jid, 'guest says hi')
            await alice.expect(is_message(body='guest says hi', frm=g.jid), 5, 'guest -> user')
            alice.send_message(g.jid, 'user says hi')
            await g.expect(is_message(body='user says hi', frm=alice.jid), 5, 'user -> guest')
            s.check()


if __name__ == '__main__':
    main(globals())
