#!/usr/bin/python3
"""XEP-0114 components: slixmpp's ComponentXMPP attaches with the configured
secret and exchanges stanzas with clients through xmppd; bad handshakes,
unknown domains, a second connection and forged 'from' get their stream
errors, and clients keep working throughout."""

import asyncio
import hashlib
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Bystander, Raw, assert_error, clients, is_iq, is_message, login,  # noqa: E402
                     main, server, uid)

NS_COMP = 'jabber:component:accept'
SECRET = 'focus-secret-' + uid()
OTHER_SECRET = 'other-secret'


def comp_server():
    return server(JICOFO_COMPONENT_SECRET=SECRET,
                  XMPP_COMPONENT_SECRETS='svc.meet.parley=%s' % OTHER_SECRET)


async def slixmpp_component(port, domain, secret):
    import slixmpp
    comp = slixmpp.ComponentXMPP(domain, secret, '127.0.0.1', port)
    comp.register_plugin('xep_0030')
    comp.register_plugin('xep_0199')
    inbox = asyncio.Queue()
    comp.add_event_handler('message', lambda m: inbox.put_nowait(m))
    ready = asyncio.get_event_loop().create_future()
    comp.add_event_handler('session_start', lambda _: ready.done() or ready.set_result(True))
    comp.connect()
    await asyncio.wait_for(ready, 10)
    return comp, inbox


async def raw_component(s, domain):
    r = await Raw.open(s.component_port)
    await r.send("<?xml version='1.0'?><stream:stream xmlns='%s' "
                 "xmlns:stream='http://etherx.jabber.org/streams' to='%s'>" % (NS_COMP, domain))
    m = await r.read_until(r"<stream:stream[^>]*>", what='the component stream header')
    sid = re.search(r"\bid=['\"]([^'\"]+)['\"]", m.group(0)).group(1)
    return r, sid


def handshake(sid, secret):
    return '<handshake>%s</handshake>' % hashlib.sha1((sid + secret).encode()).hexdigest()


async def test_component_exchanges_stanzas_with_clients():
    with comp_server() as s:
        comp, inbox = await slixmpp_component(s.component_port, 'focus.meet.parley', SECRET)
        await asyncio.get_running_loop().run_in_executor(None, s.wait_log, 'component connected')
        async with clients() as cs:
            alice = await login(s, 'meet.parley', presence=True)  # anonymous, like a browser
            cs.append(alice)
            # client -> component: a message to the domain and to a JID under it
            body = 'to focus ' + uid()
            alice.send_message('focus.meet.parley', body)
            alice.send_message('room1@focus.meet.parley/x', body + '-2')
            got = [await asyncio.wait_for(inbox.get(), 10) for _ in range(2)]
            assert {g['body'] for g in got} == {body, body + '-2'}, got
            assert all(str(g['from']) == alice.jid for g in got), [str(g['from']) for g in got]
            # client -> component IQ, answered by the component (slixmpp's disco)
            await alice.iq("<iq type='get' id='d1' to='focus.meet.parley'><query "
                           "xmlns='http://jabber.org/protocol/disco#info'/></iq>",
                           expect_type='result')
            # component -> client, from the domain and from any JID inside it
            for frm in ('focus.meet.parley', 'conf@focus.meet.parley/focus'):
                body = 'from component ' + uid()
                comp.send_message(mto=alice.jid, mbody=body, mfrom=frm)
                await alice.expect(is_message(body=body, frm=frm), 10, 'component message')
            # component -> client IQ (ping), result routed back to the component
            await comp.plugin['xep_0199'].ping(alice.jid, ifrom='focus.meet.parley', timeout=10)
        comp.disconnect()


async def test_bad_handshake_is_not_authorized():
    with comp_server() as s:
        by = await Bystander(s).start()
        r, sid = await raw_component(s, 'focus.meet.parley')
        await r.send(handshake(sid, 'wrong'))
        await r.expect_stream_error('not-authorized')
        # a right secret for another stream id is wrong too
        r, sid = await raw_component(s, 'focus.meet.parley')
        await r.send(handshake('another-id', SECRET))
        await r.expect_stream_error('not-authorized')
        # stanzas before the handshake
        r, sid = await raw_component(s, 'focus.meet.parley')
        await r.send("<message from='focus.meet.parley' to='x@meet.parley'/>")
        await r.expect_stream_error('not-authorized')
        await by.check()
        await by.close()


async def test_unknown_domain_and_wrong_namespace():
    with comp_server() as s:
        r, _ = await raw_component(s, 'nobody.meet.parley')
        await r.expect_stream_error('host-unknown')
        r = await Raw.open(s.component_port)
        await r.send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                     "xmlns:stream='http://etherx.jabber.org/streams' to='focus.meet.parley'>")
        await r.expect_stream_error('invalid-namespace')


async def test_second_connection_conflict_and_reconnect():
    with comp_server() as s:
        r1, sid = await raw_component(s, 'svc.meet.parley')
        await r1.send(handshake(sid, OTHER_SECRET))
        await r1.read_until(r'<handshake\s*/>', what='handshake accepted')
        r2, sid2 = await raw_component(s, 'svc.meet.parley')
        await r2.send(handshake(sid2, OTHER_SECRET))
        await r2.expect_stream_error('conflict')
        # the first one still works: a client IQ reaches it
        async with clients() as cs:
            c = await login(s, 'meet.parley')
            cs.append(c)
            c.send_raw("<iq type='get' id='q1' to='svc.meet.parley'>"
                       "<query xmlns='jabber:iq:version'/></iq>")
            m = await r1.read_until(r"<iq[^>]*id=['\"]q1['\"][^>]*>", what='the IQ at the component')
            assert 'from=' in m.group(0)
            frm = re.search(r"from=['\"]([^'\"]+)['\"]", m.group(0)).group(1)
            await r1.send("<iq type='result' id='q1' from='svc.meet.parley' to='%s'>"
                          "<query xmlns='jabber:iq:version'><name>svc</name></query></iq>" % frm)
            await c.expect(is_iq(type='result', id='q1'), 10, 'the component answer')
            # a component that leaves: stanzas to it bounce with service-unavailable
            await r1.aclose()
            await asyncio.get_running_loop().run_in_executor(
                None, s.wait_log, 'component disconnected')
            c.send_raw("<iq type='get' id='q2' to='svc.meet.parley'>"
                       "<query xmlns='jabber:iq:version'/></iq>")
            err = await c.expect(is_iq(type='error', id='q2'), 10, 'bounce')
            assert_error(err, 'service-unavailable')
            # and it can connect again
            r3, sid3 = await raw_component(s, 'svc.meet.parley')
            await r3.send(handshake(sid3, OTHER_SECRET))
            await r3.read_until(r'<handshake\s*/>', what='handshake accepted again')
            r3.close()


async def test_forged_from_is_invalid_from():
    with comp_server() as s:
        by = await Bystander(s).start()
        r, sid = await raw_component(s, 'svc.meet.parley')
        await r.send(handshake(sid, OTHER_SECRET))
        await r.read_until(r'<handshake\s*/>')
        await r.send("<message from='admin@meet.parley' to='%s'><body>forged</body></message>"
                     % by.b.jid)
        await r.expect_stream_error('invalid-from')
        by.b.assert_none(is_message(body='forged'), 'the forged message')
        await by.check()
        await by.close()


if __name__ == '__main__':
    main(globals())
