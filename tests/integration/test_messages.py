#!/usr/bin/python3
"""Message routing (RFC 6120 section 8, RFC 6121 section 8): full and bare
JIDs, priorities, offline / unknown recipients, from-stamping, ordering."""

import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (assert_error, clients, error_condition, is_message, login, main,  # noqa: E402
                     server, uid)

PW = 'pw-msg'


def accounts(s, *names):
    for n in names:
        s.adduser(s.jid(n), PW)


async def sync_marker(sender, receiver):
    """Everything the server routed from sender to receiver before this call
    has arrived once the marker has."""
    await receiver.ping()
    body = 'marker ' + uid()
    sender.send_message(receiver.jid, body)
    await receiver.expect(is_message(body=body), 5, 'the marker')


async def test_message_to_full_jid():
    with server() as s:
        accounts(s, 'alice', 'bob')
        async with clients() as cs:
            a = await login(s, s.jid('alice'), PW, resource='a', presence=True)
            b = await login(s, s.jid('bob'), PW, resource='b', presence=True)
            cs += [a, b]
            mid = a.send_message(b.jid, 'hello bob', id='m-1', extra="<thread>t1</thread>")
            m = await b.expect(is_message(body='hello bob'), 5, 'the message')
            assert m.xml.get('from') == a.jid, 'from must be the sender full JID: %s' % m
            assert m.xml.get('to') == b.jid, m
            assert m.xml.get('type') == 'chat' and m.xml.get('id') == mid, m
            assert m['thread'] == 't1', 'child elements must pass through: %s' % m
            # unusual but legal content survives byte for byte
            body = "<&>'\" \u00e9\u4e2d\U0001F600 " + 'x' * 5000
            a.send_message(b.jid, body)
            m = await b.expect(is_message(frm=a.jid, body=body), 5, 'the long unicode message')
            # unknown extension elements pass through untouched
            a.send_raw("<message to='%s' id='ext1'><body>ext</body><x xmlns='urn:example:custom' "
                       "a='1'><y>z</y></x></message>" % b.jid)
            m = await b.expect(is_message(body='ext'), 5, 'the message with an extension')
            x = m.xml.find('{urn:example:custom}x')
            assert x is not None and x.get('a') == '1' and x.find('{urn:example:custom}y').text == 'z', m


async def test_message_ordering():
    with server() as s:
        accounts(s, 'alice', 'bob')
        async with clients() as cs:
            a = await login(s, s.jid('alice'), PW, resource='a')
            b = await login(s, s.jid('bob'), PW, resource='b', presence=True)
            cs += [a, b]
            n = 200
            for i in range(n):
                a.send_message(b.jid, 'seq %d' % i)
            for i in range(n):
                m = await b.expect(is_message(frm=a.jid), 10, 'message %d' % i)
                assert m['body'] == 'seq %d' % i, 'out of order: expected seq %d, got %s' % (i, m['body'])


async def test_bare_jid_goes_to_highest_priority():
    with server() as s:
        accounts(s, 'alice', 'bob')
        async with clients() as cs:
            a = await login(s, s.jid('alice'), PW, resource='a', presence=True)
            hi = await login(s, s.jid('bob'), PW, resource='hi', priority=5)
            lo = await login(s, s.jid('bob'), PW, resource='lo', priority=1)
            cs += [a, hi, lo]
            await hi.ping()
            await lo.ping()
            a.send_message(s.jid('bob'), 'to bare')
            m = await hi.expect(is_message(body='to bare'), 5, 'the bare-JID message at the priority-5 resource')
            assert m.xml.get('from') == a.jid, m
            await sync_marker(a, lo)
            lo.assert_none(is_message(body='to bare'), 'the bare-JID message at the lower-priority resource')

            # priorities change: now lo wins
            lo.send_presence(priority=10)
            await lo.ping()
            a.send_message(s.jid('bob'), 'to bare 2')
            await lo.expect(is_message(body='to bare 2'), 5, 'bare-JID message after the priority change')
            await sync_marker(a, hi)
            hi.assert_none(is_message(body='to bare 2'), 'bare-JID message at the now lower resource')


async def test_negative_priority():
    """A resource with negative priority never gets bare-JID messages
    (RFC 6121 8.5.2.1.1), but does get messages to its full JID."""
    with server() as s:
        accounts(s, 'alice', 'bob')
        async with clients() as cs:
            a = await login(s, s.jid('alice'), PW, resource='a', presence=True)
            neg = await login(s, s.jid('bob'), PW, resource='neg', priority=-1)
            cs += [a, neg]
            await neg.ping()
            a.send_message(neg.jid, 'full to negative')
            await neg.expect(is_message(body='full to negative'), 5, 'full-JID message to a negative-priority resource')
            a.send_message(s.jid('bob'), 'bare with only negative')
            # only a negative-priority resource: as if offline -> error (no offline storage)
            err = await a.expect(is_message(type='error'), 5, 'the error for a bare JID with no eligible resource')
            assert_error(err, 'service-unavailable')
            await sync_marker(a, neg)
            neg.assert_none(is_message(body='bare with only negative'), 'bare-JID message at a negative-priority resource')


async def test_offline_and_unknown_recipient_errors():
    with server() as s:
        accounts(s, 'alice', 'bob')
        async with clients() as cs:
            a = await login(s, s.jid('alice'), PW, resource='a', presence=True)
            cs.append(a)
            for to, what in ((s.jid('bob'), 'an offline account'),
                             (s.jid('nobody'), 'a nonexistent account'),
                             (s.jid('nobody') + '/res', 'a full JID of a nonexistent account')):
                mid = 'err-' + uid()
                a.send_raw("<message to='%s' type='chat' id='%s'><body>lost?</body></message>" % (to, mid))
                e = await a.expect(lambda st, mid=mid: st.xml.get('id') == mid, 5, 'the error for %s' % what)
                assert_error(e, 'service-unavailable')
                assert e.xml.get('from', '').lower() == to.lower(), \
                    'the error must come from the address the message was sent to: %s' % e
                assert e.xml.get('to') == a.jid, e
                t, _ = error_condition(e)
                assert t == 'cancel', 'service-unavailable is of type cancel: %s' % e
            # normal type (no type attribute) to an offline account: error too
            a.send_raw("<message to='%s' id='n1'><body>normal</body></message>" % s.jid('bob'))
            e = await a.expect(lambda st: st.xml.get('id') == 'n1', 5, 'the error for a normal message')
            assert_error(e, 'service-unavailable')
            # an error message is never answered with an error (no loops)
            a.send_raw("<message to='%s' type='error' id='e1'><error type='cancel'>"
                       "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"
                       % s.jid('nobody'))
            await a.ping()
            assert not a.pending(lambda st: st.xml.get('id') == 'e1'), 'an error was bounced with an error'


async def test_full_jid_of_offline_resource():
    """A chat message to a full JID whose resource is gone: delivered to the
    bare JID's resources or answered with service-unavailable (RFC 6121
    8.5.3.2.1), never dropped silently."""
    with server() as s:
        accounts(s, 'alice', 'bob')
        async with clients() as cs:
            a = await login(s, s.jid('alice'), PW, resource='a', presence=True)
            b = await login(s, s.jid('bob'), PW, resource='b', presence=True)
            cs += [a, b]
            a.send_raw("<message to='%s/gone' type='chat' id='g1'><body>to gone</body></message>" % s.jid('bob'))
            await a.ping()
            await b.ping()
            body = 'after ' + uid()
            a.send_message(b.jid, body)
            await b.expect(is_message(body=body), 5, 'the marker')
            delivered = b.pending(is_message(body='to gone'))
            errors = a.pending(lambda st: st.xml.get('id') == 'g1' and st.xml.get('type') == 'error')
            assert delivered or errors, 'message to an unavailable full JID was dropped silently'
            if errors:
                assert_error(errors[0], 'service-unavailable')


async def test_from_is_stamped():
    """The server stamps the sender's full JID (RFC 6120 8.1.2.1): a forged
    'from' never reaches the recipient."""
    with server() as s:
        accounts(s, 'alice', 'bob', 'mallory')
        async with clients() as cs:
            m = await login(s, s.jid('mallory'), PW, resource='m', presence=True)
            b = await login(s, s.jid('bob'), PW, resource='b', presence=True)
            cs += [m, b]
            for forged in (s.jid('alice') + '/x', s.jid('alice'), s.domain, 'someone@elsewhere.example'):
                body = 'forged ' + uid()
                m.send_raw("<message from='%s' to='%s' type='chat'><body>%s</body></message>" % (forged, b.jid, body))
                # either the recipient gets it with the true from, or the sender's stream ends (invalid-from)
                got_t = asyncio.ensure_future(b.expect(is_message(body=body), 5, 'the message with a forged from'))
                err_t = asyncio.ensure_future(m.expect_stream_error(5))
                done, _ = await asyncio.wait([got_t, err_t], return_when=asyncio.FIRST_COMPLETED)
                for t in (got_t, err_t):
                    if t not in done:
                        t.cancel()
                await asyncio.gather(got_t, err_t, return_exceptions=True)
                if err_t in done and not err_t.cancelled() and err_t.exception() is None:
                    cond = err_t.result()
                    assert cond == 'invalid-from', 'forged from answered with stream error %s' % cond
                    await sync_marker_from_new(s, b)
                    b.assert_none(is_message(body=body), 'the forged message')
                    m = await login(s, s.jid('mallory'), PW, resource='m%s' % uid(), presence=True)
                    cs.append(m)
                    continue
                got = got_t.result()
                assert got.xml.get('from') == m.jid, 'forged from %s reached the recipient as %s' % (
                    forged, got.xml.get('from'))
            # the correct own full JID / bare JID as from is fine
            for own in (m.jid, m.bare):
                m.send_raw("<message from='%s' to='%s' type='chat'><body>own %s</body></message>" % (own, b.jid, own))
                got = await b.expect(is_message(body='own ' + own), 5, 'message with the correct from ' + own)
                assert got.xml.get('from') == m.jid, got


async def sync_marker_from_new(s, receiver):
    """A marker from a fresh session of a third account."""
    try:
        s.adduser(s.jid('marker'), PW)
    except AssertionError:
        pass
    mk = await login(s, s.jid('marker'), PW, resource=uid())
    try:
        await sync_marker(mk, receiver)
    finally:
        await mk.close()


async def test_message_without_to_and_to_self():
    with server() as s:
        accounts(s, 'alice')
        async with clients() as cs:
            a1 = await login(s, s.jid('alice'), PW, resource='one', presence=True)
            a2 = await login(s, s.jid('alice'), PW, resource='two', presence=True)
            cs += [a1, a2]
            a1.send_message(a2.jid, 'to my other resource')
            m = await a2.expect(is_message(body='to my other resource'), 5, 'message between own resources')
            assert m.xml.get('from') == a1.jid, m
            a1.send_message(a1.jid, 'to myself')
            await a1.expect(is_message(body='to myself', frm=a1.jid), 5, 'message to own full JID')


async def test_message_to_unserved_domain():
    """No s2s yet: a message to another domain gets an error back (e.g.
    remote-server-not-found, service-unavailable, not-allowed), never silence."""
    with server() as s:
        accounts(s, 'alice')
        async with clients() as cs:
            a = await login(s, s.jid('alice'), PW, resource='a', presence=True)
            cs.append(a)
            a.send_raw("<message to='someone@remote.example' type='chat' id='r1'><body>far</body></message>")
            e = await a.expect(lambda st: st.xml.get('id') == 'r1', 5, 'the error for a remote domain')
            t, c = error_condition(e)
            assert e.xml.get('type') == 'error' and c is not None, e


async def test_jid_malformed_to():
    """A stanza to a malformed JID gets jid-malformed (RFC 6120 8.3.3.8) and
    the stream stays up."""
    with server() as s:
        accounts(s, 'alice')
        async with clients() as cs:
            a = await login(s, s.jid('alice'), PW, resource='a', presence=True)
            cs.append(a)
            for i, bad in enumerate(('a@b@%s' % s.domain, '@%s' % s.domain, 'user@', 'x' * 1100 + '@' + s.domain)):
                mid = 'bad%d' % i
                a.send_raw("<message to='%s' type='chat' id='%s'><body>x</body></message>" % (bad, mid))
                e = await a.expect(lambda st, mid=mid: st.xml.get('id') == mid, 5, 'the error for to=%s' % bad[:40])
                t, c = error_condition(e)
                assert c == 'jid-malformed', 'to=%r: expected jid-malformed, got %s: %s' % (bad[:40], c, e)
            await a.ping()
            assert not a.stream_errors


async def test_bare_jid_without_available_resource():
    """A connected resource that never sent presence is not available: a
    bare-JID message is handled as for an offline user (RFC 6121 8.5.2.2)."""
    with server() as s:
        accounts(s, 'alice', 'bob')
        async with clients() as cs:
            a = await login(s, s.jid('alice'), PW, resource='a', presence=True)
            b = await login(s, s.jid('bob'), PW, resource='quiet')     # no initial presence
            cs += [a, b]
            await b.ping()
            a.send_raw("<message to='%s' type='chat' id='q1'><body>anyone?</body></message>" % s.jid('bob'))
            e = await a.expect(lambda st: st.xml.get('id') == 'q1', 5, 'the answer to a bare-JID message')
            assert_error(e, 'service-unavailable')
            await sync_marker(a, b)
            b.assert_none(is_message(body='anyone?'), 'a bare-JID message at a resource that is not available')


async def test_many_sessions():
    """40 concurrent sessions each message the next one; then all drop at once."""
    import asyncio as aio
    from harness import raw_login
    with server(C2S_REQUIRE_ENCRYPTION='false') as s:
        rs = await aio.gather(*(raw_login(s, tls=(i % 4 == 0), resource='m%d' % i) for i in range(40)))
        for i, r in enumerate(rs):
            await r.send("<presence/><message to='%s' type='chat'><body>from %d</body></message>"
                         % (rs[(i + 1) % len(rs)].jid, i))
        await aio.gather(*(r.read_until(r'<body>from %d</body>' % ((i - 1) % len(rs)), 10, 'message from the previous session')
                           for i, r in enumerate(rs)))
        for r in rs:
            r.close()
        accounts(s, 'alice')
        async with clients() as cs:
            a = await login(s, s.jid('alice'), PW, resource='after', presence=True)
            cs.append(a)
            await a.ping()
            a.send_raw("<message to='%s' type='chat' id='gone1'><body>x</body></message>" % rs[0].jid)
            e = await a.expect(lambda st: st.xml.get('id') == 'gone1', 5, 'the error for a dropped session')
            assert_error(e, 'service-unavailable')


if __name__ == '__main__':
    main(globals())
