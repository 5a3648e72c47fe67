#!/usr/bin/python3
"""Roster management and presence subscriptions (RFC 6121 sections 2-4)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (clients, is_message, is_presence, is_roster_push, login, main,  # noqa: E402
                     roster_items, server, uid)

PW = 'pw-roster'


def accounts(s, *names):
    for n in names:
        s.adduser(s.jid(n), PW)


def check_push_from(push, owner_bare):
    frm = push.xml.get('from')
    assert frm is None or frm.lower() == owner_bare.lower(), \
        'roster push must come from the account (or have no from): %s' % push


async def get_roster(c):
    res = await c.iq("<iq type='get' id='%s'><query xmlns='jabber:iq:roster'/></iq>" % uid(),
                     expect_type='result')
    return roster_items(res)


async def roster_set(c, item_xml, expect_type='result'):
    return await c.iq("<iq type='set' id='%s'><query xmlns='jabber:iq:roster'>%s</query></iq>"
                      % (uid(), item_xml), expect_type=expect_type)


async def marker(sender, receiver):
    """Sends a message sender -> receiver (full JIDs) and waits for it; stanzas
    the server routed to receiver before it have arrived by then."""
    await receiver.ping()  # the server has handled what receiver sent before
    await sender.ping()
    body = 'marker ' + uid()
    sender.send_message(receiver.jid, body)
    await receiver.expect(is_message(body=body), 5, 'the marker message')


async def subscribe(a, b):
    """a subscribes to b's presence and b approves (both online)."""
    a.send_presence(to=b.bare, type='subscribe')
    await b.expect(is_presence('subscribe', frm=a.bare), 5, 'subscribe from %s' % a.bare)
    b.send_presence(to=a.bare, type='subscribed')
    await a.expect(is_presence('subscribed', frm=b.bare), 5, 'subscribed from %s' % b.bare)


async def test_roster_get_set_remove_pushes():
    with server() as s:
        accounts(s, 'alice', 'bob')
        async with clients() as cs:
            a1 = await login(s, s.jid('alice'), PW, roster=True, resource='one')
            a2 = await login(s, s.jid('alice'), PW, roster=True, resource='two')
            cs += [a1, a2]
            bob = s.jid('bob')
            assert await get_roster(a1) == {}, 'a new account has an empty roster'

            await roster_set(a1, "<item jid='%s' name='Bob'><group>Friends</group></item>" % bob)
            for c in (a1, a2):
                p = await c.expect(is_roster_push(bob, 'none'), 5, 'roster push (add) on ' + c.name)
                check_push_from(p, s.jid('alice'))
                it = roster_items(p)[bob]
                assert it['name'] == 'Bob' and it['groups'] == ['Friends'], it
            items = await get_roster(a2)
            assert items == {bob: {'name': 'Bob', 'subscription': 'none', 'ask': None, 'groups': ['Friends']}}, items

            # update: name and groups replaced
            await roster_set(a2, "<item jid='%s' name='Robert'><group>Work</group><group>Chess</group></item>" % bob)
            for c in (a1, a2):
                p = await c.expect(is_roster_push(bob), 5, 'roster push (update) on ' + c.name)
                it = roster_items(p)[bob]
                assert it['name'] == 'Robert' and it['groups'] == ['Chess', 'Work'], it
            assert (await get_roster(a1))[bob]['groups'] == ['Chess', 'Work']

            # remove
            await roster_set(a1, "<item jid='%s' subscription='remove'/>" % bob)
            for c in (a1, a2):
                await c.expect(is_roster_push(bob, 'remove'), 5, 'roster push (remove) on ' + c.name)
            assert await get_roster(a2) == {}

            # removing an item that is not there: item-not-found (RFC 6121 2.5.3)
            res = await roster_set(a1, "<item jid='%s' subscription='remove'/>" % bob, expect_type='error')
            assert 'item-not-found' in str(res), res

            # a roster set with two items is refused (bad-request)
            await roster_set(a1, "<item jid='x@%s'/><item jid='y@%s'/>" % (s.domain, s.domain),
                             expect_type='error')
            # a client may not set the subscription state itself
            await roster_set(a1, "<item jid='%s' subscription='both'/>" % bob)
            p = await a1.expect(is_roster_push(bob), 5, 'roster push')
            assert roster_items(p)[bob]['subscription'] == 'none', \
                'client-set subscription must be ignored: %s' % p


async def test_roster_persists_across_restart():
    with server() as s:
        accounts(s, 'alice')
        async with clients() as cs:
            a = await login(s, s.jid('alice'), PW, roster=True)
            cs.append(a)
            await roster_set(a, "<item jid='zed@%s' name='Zed'><group>G</group></item>" % s.domain)
            await a.close()
        s.restart()
        async with clients() as cs:
            a = await login(s, s.jid('alice'), PW)
            cs.append(a)
            items = await get_roster(a)
            assert items == {'zed@' + s.domain: {'name': 'Zed', 'subscription': 'none', 'ask': None,
                                                 'groups': ['G']}}, items


async def test_subscription_handshake():
    with server() as s:
        accounts(s, 'alice', 'bob')
        A, B = s.jid('alice'), s.jid('bob')
        async with clients() as cs:
            a = await login(s, A, PW, roster=True, resource='a', presence='alice here')
            b = await login(s, B, PW, roster=True, resource='b', presence='bob here')
            cs += [a, b]

            # alice asks
            a.send_presence(to=B, type='subscribe')
            p = await a.expect(is_roster_push(B, 'none', ask='subscribe'), 5, 'push none+ask')
            check_push_from(p, A)
            sub = await b.expect(is_presence('subscribe'), 5, 'the subscription request')
            assert sub.xml.get('from') == A, 'subscribe must be stamped with the bare JID: %s' % sub
            # bob approves
            b.send_presence(to=A, type='subscribed')
            p = await b.expect(is_roster_push(A, 'from'), 5, 'push from on bob')
            check_push_from(p, B)
            await a.expect(is_presence('subscribed', frm=B), 5, 'subscribed from bob')
            await a.expect(is_roster_push(B, 'to'), 5, 'push to on alice')
            # alice now gets bob's current presence (RFC 6121 3.1.6 / 4.3.2)
            await a.expect(is_presence(None, frm=b.jid, status='bob here'), 5, "bob's presence")
            # and every later change
            b.send_presence(status='bob busy')
            await a.expect(is_presence(None, frm=b.jid, status='bob busy'), 5, "bob's new presence")

            # the other way round: both
            b.send_presence(to=A, type='subscribe')
            await a.expect(is_presence('subscribe', frm=B), 5, 'subscribe from bob')
            a.send_presence(to=B, type='subscribed')
            await a.expect(is_roster_push(B, 'both'), 5, 'push both on alice')
            await b.expect(is_roster_push(A, 'both'), 5, 'push both on bob')
            await b.expect(is_presence(None, frm=a.jid, status='alice here'), 5, "alice's presence")
            assert (await get_roster(a))[B]['subscription'] == 'both'
            assert (await get_roster(b))[A]['subscription'] == 'both'

            # alice unsubscribes from bob's presence (RFC 6121 3.3)
            a.send_presence(to=B, type='unsubscribe')
            await a.expect(is_roster_push(B, 'from'), 5, 'push from on alice')
            await b.expect(is_presence('unsubscribe', frm=A), 5, 'unsubscribe at bob')
            await b.expect(is_roster_push(A, 'to'), 5, 'push to on bob')
            # RFC 6121 3.3.3: unavailable from bob's available resources (a bare
            # 'from' is accepted too: it tells the client the same)
            await a.expect(is_presence('unavailable', frm_bare=B), 5, "bob's unavailable to alice")
            # bob's changes no longer reach alice; alice's still reach bob
            b.send_presence(status='bob again')
            a.send_presence(status='alice again')
            await b.expect(is_presence(None, frm=a.jid, status='alice again'), 5, "alice's presence at bob")
            await marker(b, a)
            a.assert_none(is_presence(None, frm=b.jid, status='bob again'), 'presence after unsubscribe')

            # alice cancels bob's subscription (RFC 6121 3.2)
            a.send_presence(to=B, type='unsubscribed')
            await a.expect(is_roster_push(B, 'none'), 5, 'push none on alice')
            await b.expect(is_presence('unsubscribed', frm=A), 5, 'unsubscribed at bob')
            await b.expect(is_roster_push(A, 'none'), 5, 'push none on bob')
            await b.expect(is_presence('unavailable', frm_bare=A), 5, "alice's unavailable to bob")
            assert (await get_roster(a))[B]['subscription'] == 'none'
            assert (await get_roster(b))[A]['subscription'] == 'none'


async def test_initial_presence_probe_and_unavailable():
    with server() as s:
        accounts(s, 'alice', 'bob', 'carol')
        A, B = s.jid('alice'), s.jid('bob')
        async with clients() as cs:
            a = await login(s, A, PW, roster=True, resource='a', presence='a1')
            b = await login(s, B, PW, roster=True, resource='b', presence='b1')
            cs += [a, b]
            await subscribe(a, b)
            await subscribe(b, a)
            await a.close()

            # bob is online; alice comes back: her initial presence reaches bob,
            # and the server's probe brings bob's presence to her
            a = await login(s, A, PW, roster=True, resource='a2', presence='back')
            cs.append(a)
            await a.expect(is_presence(None, frm=b.jid, status='b1'), 5, "bob's presence (probe)")
            await b.expect(is_presence(None, frm=a.jid, status='back'), 5, "alice's initial presence")

            # a second resource of bob appears, alice sees it
            b2 = await login(s, B, PW, roster=True, resource='b2', presence='second')
            cs.append(b2)
            await a.expect(is_presence(None, frm=b2.jid, status='second'), 5, 'presence of b2')
            # b2 also learns alice is online (probe on initial presence)
            await b2.expect(is_presence(None, frm=a.jid, status='back'), 5, "alice's presence at b2")
            # and bob's other resource sees b2 arrive (RFC 6121 4.2.2: broadcast to own resources)
            await b.expect(is_presence(None, frm=b2.jid, status='second'), 5, 'b2 presence at b')

            # carol is not subscribed: she sees nothing
            c = await login(s, s.jid('carol'), PW, roster=True, resource='c', presence='carol')
            cs.append(c)
            b.send_presence(status='b-changed')
            await a.expect(is_presence(None, frm=b.jid, status='b-changed'), 5, 'broadcast')
            await marker(b, c)
            await marker(c, b)
            c.assert_none(is_presence('*', frm_bare=B), "bob's presence at a non-subscriber")
            b.assert_none(is_presence('*', frm_bare=s.jid('carol')), "carol's presence at bob")

            # graceful close: unavailable
            await b2.close()
            await a.expect(is_presence('unavailable', frm=b2.jid), 5, 'unavailable of b2 (stream close)')
            await b.expect(is_presence('unavailable', frm=b2.jid), 5, 'unavailable of b2 at b (own resource)')
            # abrupt TCP close: unavailable too
            b.abort()
            await a.expect(is_presence('unavailable', frm=b.jid), 10, 'unavailable of b (connection lost)')
            # explicit unavailable
            a.send_presence(type='unavailable')
            b3 = await login(s, B, PW, roster=True, resource='b3', presence='three')
            cs.append(b3)
            await marker(a, b3)  # (marker pings b3 first: its initial presence was handled)
            b3.assert_none(is_presence(None, frm=a.jid), 'presence of an unavailable resource')


async def test_directed_presence():
    with server() as s:
        accounts(s, 'alice', 'carol')
        async with clients() as cs:
            a = await login(s, s.jid('alice'), PW, roster=True, resource='a', presence='here')
            c = await login(s, s.jid('carol'), PW, roster=True, resource='c', presence='there')
            cs += [a, c]
            a.send_presence(to=c.jid, status='just for you')
            await c.expect(is_presence(None, frm=a.jid, status='just for you'), 5, 'directed presence')
            # broadcast presence does not go to carol (not a subscriber)
            a.send_presence(status='everyone')
            await marker(a, c)
            c.assert_none(is_presence(None, frm=a.jid, status='everyone'), 'broadcast to a non-subscriber')
            # alice goes offline: carol gets unavailable (RFC 6121 4.6.3)
            await a.close()
            await c.expect(is_presence('unavailable', frm=a.jid), 5, 'unavailable after directed presence')

            # the same with an abrupt disconnect, to a bare JID
            a = await login(s, s.jid('alice'), PW, roster=True, resource='a2', presence='again')
            cs.append(a)
            a.send_presence(to=c.bare, status='to bare')
            await c.expect(is_presence(None, frm=a.jid, status='to bare'), 5, 'directed presence to bare JID')
            a.abort()
            await c.expect(is_presence('unavailable', frm=a.jid), 10, 'unavailable after abrupt close')


async def test_subscription_request_to_offline_user():
    with server() as s:
        accounts(s, 'alice', 'bob')
        A, B = s.jid('alice'), s.jid('bob')
        async with clients() as cs:
            a = await login(s, A, PW, roster=True, resource='a', presence='a')
            cs.append(a)
            a.send_presence(to=B, type='subscribe')
            await a.expect(is_roster_push(B, 'none', ask='subscribe'), 5, 'push ask=subscribe')
            # bob comes online later
            b = await login(s, B, PW, roster=True, resource='b', presence='b')
            cs.append(b)
            await b.expect(is_presence('subscribe', frm=A), 5, 'the stored subscription request')
            b.send_presence(to=A, type='subscribed')
            await a.expect(is_presence('subscribed', frm=B), 5, 'subscribed')
            await a.expect(is_presence(None, frm=b.jid, status='b'), 5, "bob's presence after approval")
            # bob logs in again: the request is not delivered twice (it was answered)
            await b.close()
            b = await login(s, B, PW, roster=True, resource='b2', presence='b2')
            cs.append(b)
            await marker(a, b)
            b.assert_none(is_presence('subscribe'), 'an answered subscription request again')


async def test_roster_push_on_remove_with_subscription():
    """Removing a contact with a subscription cancels both directions
    (RFC 6121 2.5.2): the contact gets unsubscribe + unsubscribed."""
    with server() as s:
        accounts(s, 'alice', 'bob')
        A, B = s.jid('alice'), s.jid('bob')
        async with clients() as cs:
            a = await login(s, A, PW, roster=True, resource='a', presence='a')
            b = await login(s, B, PW, roster=True, resource='b', presence='b')
            cs += [a, b]
            await subscribe(a, b)
            await subscribe(b, a)
            await a.expect(is_roster_push(B, 'both'), 5, 'both on alice')
            await b.expect(is_roster_push(A, 'both'), 5, 'both on bob')
            await roster_set(a, "<item jid='%s' subscription='remove'/>" % B)
            await a.expect(is_roster_push(B, 'remove'), 5, 'remove push')
            await b.expect(is_presence('unsubscribe', frm=A), 5, 'unsubscribe at bob')
            await b.expect(is_presence('unsubscribed', frm=A), 5, 'unsubscribed at bob')
            await b.expect(is_roster_push(A, 'none'), 5, 'bob: subscription none')
            await b.expect(is_presence('unavailable', frm_bare=A), 5, "alice's unavailable at bob")


if __name__ == '__main__':
    main(globals())
