#!/usr/bin/python3
"""Multi-user chat (XEP-0045, docs/muc.md): joining and leaving as every
occupant sees it, nicks, presence pass-through, groupchat, subject, history,
private messages and IQs through occupant JIDs, invitations, disco, room
creation policy, name checks and temporary rooms."""

import asyncio
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (NS_DELAY, NS_DISCO_INFO, NS_MUC, NS_MUC_USER, assert_error, clients,  # noqa: E402
                     data_form, disco_features, disco_identities, disco_info, disco_items_of,
                     error_condition, is_message, is_muc_presence, is_stanza_id, login, main,
                     muc_codes, muc_configure, muc_item, muc_join, muc_join_error, muc_leave,
                     roominfo_occupants, server, uid)

PW = 'pw-muc'
MUC = 'muc.meet.parley'


def new_room():
    return 'room%s@%s' % (uid(), MUC)


async def owner_client(s, name='alice', resource='a'):
    jid = '%s@auth.meet.parley' % name
    try:
        s.adduser(jid, PW)
    except AssertionError as e:
        if 'exist' not in str(e).lower():
            raise
    return await login(s, jid, PW, resource=resource, presence=True)


async def anon(s):
    return await login(s, 'meet.parley', presence=True)


def groupchat_from(room, nick, body=None, subject=None):
    def pred(st):
        if not is_message(type='groupchat', frm='%s/%s' % (room, nick))(st):
            return False
        if body is not None and st['body'] != body:
            return False
        if subject is not None:
            sub = st.xml.find('{jabber:client}subject')
            if sub is None or (sub.text or '') != subject:
                return False
        return True
    return pred


def has_subject(st):
    return st.xml.find('{jabber:client}subject') is not None


def index_in(client, st):
    for i, x in enumerate(client.all):
        if x is st:
            return i
    raise AssertionError('stanza not in the client log')


async def test_join_and_leave_as_everyone_sees_it():
    with server() as s:
        async with clients() as cs:
            alice = await owner_client(s)
            bob = await anon(s)
            cs += [alice, bob]
            room = new_room()
            me = await muc_join(alice, room, 'alice')
            assert {110, 201, 100} <= muc_codes(me), \
                'the creator must get 110, 201 and 100 (non-anonymous by default): %s' % me
            it = muc_item(me)
            assert it and it.get('affiliation') == 'owner' and it.get('role') == 'moderator', me
            assert (it.get('jid') or '').lower() == alice.jid.lower(), 'own item jid must be the real JID: %s' % me
            assert (me.xml.get('to') or '').lower() == alice.jid.lower(), me

            mb = await muc_join(bob, room, 'bob')
            codes = muc_codes(mb)
            assert 110 in codes and 100 in codes and 201 not in codes, 'joiner codes: %s' % mb
            it = muc_item(mb)
            assert it and it.get('affiliation') == 'none' and it.get('role') == 'participant', mb
            assert (it.get('jid') or '').lower() == bob.jid.lower(), mb
            # the existing occupant's presence came before bob's own
            pa = await bob.expect(is_muc_presence(room, 'alice'), 5, "alice's presence at bob")
            assert index_in(bob, pa) < index_in(bob, mb), \
                'the joiner must get the other occupants before its own presence'
            assert 110 not in muc_codes(pa), pa
            it = muc_item(pa)
            assert it['affiliation'] == 'owner' and it['role'] == 'moderator', pa
            assert (it.get('jid') or '').lower() == alice.jid.lower(), \
                'non-anonymous room: real JID in every item: %s' % pa
            # alice sees bob come in
            pb = await alice.expect(is_muc_presence(room, 'bob'), 5, "bob's join at alice")
            assert 110 not in muc_codes(pb) and 201 not in muc_codes(pb), pb
            it = muc_item(pb)
            assert it['affiliation'] == 'none' and it['role'] == 'participant', pb
            assert (it.get('jid') or '').lower() == bob.jid.lower(), pb
            assert (pb.xml.get('to') or '').lower() == alice.jid.lower(), pb

            # bob leaves: he gets his unavailable with 110, alice without
            left = await muc_leave(bob, room, 'bob')
            it = muc_item(left)
            assert it is None or it.get('role') == 'none', left
            lu = await alice.expect(is_muc_presence(room, 'bob', type='unavailable'), 5,
                                    "bob's unavailable at alice")
            assert 110 not in muc_codes(lu), lu
            it = muc_item(lu)
            assert it is not None and it.get('role') == 'none', 'unavailable item role must be none: %s' % lu
            # the room still works for alice, bob gets no more groupchat
            body = 'after leave ' + uid()
            alice.send_message(room, body, type='groupchat')
            await alice.expect(groupchat_from(room, 'alice', body), 5, 'own groupchat echo')
            await alice.ping()
            await bob.ping()
            bob.assert_none(is_message(body=body), 'a groupchat after leaving')


async def test_leave_status_is_broadcast():
    """XEP-0045 7.14: a custom exit message goes out with the unavailable."""
    with server() as s:
        async with clients() as cs:
            alice = await owner_client(s)
            bob = await anon(s)
            cs += [alice, bob]
            room = new_room()
            await muc_join(alice, room, 'alice')
            await muc_join(bob, room, 'bob')
            bob.send_raw("<presence to='%s/bob' type='unavailable'><status>gone fishing</status></presence>" % room)
            own = await bob.expect(is_muc_presence(room, 'bob', type='unavailable', codes=(110,)), 5,
                                   "bob's own unavailable")
            lu = await alice.expect(is_muc_presence(room, 'bob', type='unavailable'), 5,
                                    "bob's unavailable at alice")
            assert lu['status'] == 'gone fishing', 'the exit message must be broadcast: %s' % lu
            assert own['status'] == 'gone fishing', own


async def test_nick_change_conflict_and_same_user_resources():
    with server() as s:
        async with clients() as cs:
            alice = await owner_client(s)
            bob = await anon(s)
            carol = await anon(s)
            cs += [alice, bob, carol]
            room = new_room()
            await muc_join(alice, room, 'alice')
            await muc_join(bob, room, 'bob')
            await alice.expect(is_muc_presence(room, 'bob'), 5)

            bob.send_raw("<presence to='%s/bobby'/>" % room)
            for c, own in ((bob, True), (alice, False)):
                codes = (303, 110) if own else (303,)
                u = await c.expect(is_muc_presence(room, 'bob', type='unavailable', codes=codes), 5,
                                   'unavailable with 303 for the nick change at %s' % c.name)
                it = muc_item(u)
                assert it and it.get('nick') == 'bobby', 'the 303 item must carry the new nick: %s' % u
                if not own:
                    assert 110 not in muc_codes(u), u
                p = await c.expect(is_muc_presence(room, 'bobby'), 5, 'available as bobby at %s' % c.name)
                assert (110 in muc_codes(p)) == own, p
                assert index_in(c, u) < index_in(c, p), 'unavailable (303) must precede the new presence'
            # messages now come from the new nick
            body = 'renamed ' + uid()
            bob.send_message(room, body, type='groupchat')
            await alice.expect(groupchat_from(room, 'bobby', body), 5, 'groupchat from the new nick')

            # another user taking a held nick: conflict (cancel)
            err = await muc_join_error(carol, '%s/alice' % room)
            assert_error(err, 'conflict', 'cancel')
            err = await muc_join_error(carol, '%s/bobby' % room)
            assert_error(err, 'conflict', 'cancel')
            # the old nick is free again
            await muc_join(carol, room, 'bob')
            # the same bare JID may join with another resource under its nick
            alice2 = await login(s, 'alice@auth.meet.parley', PW, resource='b', presence=True)
            cs.append(alice2)
            me2 = await muc_join(alice2, room, 'alice')
            assert muc_item(me2).get('affiliation') == 'owner', me2
            # carol changing to a held nick: conflict, and she keeps hers
            pid = uid()
            carol.send_raw("<presence id='%s' to='%s/bobby'/>" % (pid, room))
            err = await carol.expect(is_stanza_id('presence', pid, 'error'), 5, 'nick change conflict')
            assert_error(err, 'conflict', 'cancel')
            body = 'still bob ' + uid()
            carol.send_message(room, body, type='groupchat')
            await alice.expect(groupchat_from(room, 'bob', body), 5, 'carol still as bob')


async def test_disconnect_makes_occupant_unavailable():
    with server() as s:
        async with clients() as cs:
            alice = await owner_client(s)
            bob = await anon(s)
            carol = await anon(s)
            cs += [alice, bob, carol]
            room = new_room()
            await muc_join(alice, room, 'alice')
            await muc_join(bob, room, 'bob')
            await muc_join(carol, room, 'carol')
            bob.abort()  # TCP drop, no stream close
            for c in (alice, carol):
                u = await c.expect(is_muc_presence(room, 'bob', type='unavailable'), 10,
                                   "bob's unavailable after his connection dropped (at %s)" % c.name)
                assert muc_item(u) is None or muc_item(u).get('role') == 'none', u
            await carol.close()  # polite close
            await alice.expect(is_muc_presence(room, 'carol', type='unavailable'), 10,
                               "carol's unavailable after her stream closed")
            info = await disco_info(alice, room, 'result')
            assert roominfo_occupants(info) == 1, info


STATS = ("<stats xmlns='http://jitsi.org/protocol/colibri'><stat name='conference_sizes' "
         "value='[0,1,2]'/><stat name='stress_level' value='0.25'/></stats>")
JITSI = ("<audiomuted xmlns='http://jitsi.org/jitmeet/audio'>true</audiomuted>"
         "<nick xmlns='http://jabber.org/protocol/nick'>Bob &amp; co</nick>"
         "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://jitsi.org' ver='abc='/>")


def child(st, tag):
    return st.xml.find(tag)


async def test_presence_extensions_pass_through():
    with server() as s:
        async with clients() as cs:
            alice = await owner_client(s)
            bob = await anon(s)
            carol = await anon(s)
            cs += [alice, bob, carol]
            room = new_room()
            await muc_join(alice, room, 'alice')
            me = await muc_join(bob, room, 'bob', extra=STATS + JITSI)
            for c in (alice, bob):
                p = me if c is bob else await c.expect(is_muc_presence(room, 'bob'), 5, 'bob at alice')
                st = child(p, '{http://jitsi.org/protocol/colibri}stats')
                assert st is not None, 'the <stats/> extension was dropped: %s' % p
                stats = {e.get('name'): e.get('value') for e in st.findall('{http://jitsi.org/protocol/colibri}stat')}
                assert stats == {'conference_sizes': '[0,1,2]', 'stress_level': '0.25'}, p
                am = child(p, '{http://jitsi.org/jitmeet/audio}audiomuted')
                assert am is not None and am.text == 'true', p
                nk = child(p, '{http://jabber.org/protocol/nick}nick')
                assert nk is not None and nk.text == 'Bob & co', p
                caps = child(p, '{http://jabber.org/protocol/caps}c')
                assert caps is not None and caps.get('ver') == 'abc=' and caps.get('node') == 'https://jitsi.org', p
            # a later presence update (no muc <x/>) is broadcast with its extensions
            bob.send_raw("<presence to='%s/bob'><show>away</show>"
                         "<audiomuted xmlns='http://jitsi.org/jitmeet/audio'>false</audiomuted>%s</presence>"
                         % (room, STATS))
            p = await alice.expect(lambda st: is_muc_presence(room, 'bob')(st)
                                   and child(st, '{http://jitsi.org/jitmeet/audio}audiomuted') is not None
                                   and child(st, '{http://jitsi.org/jitmeet/audio}audiomuted').text == 'false',
                                   5, "bob's presence update at alice")
            assert p['show'] == 'away', p
            assert child(p, '{http://jitsi.org/protocol/colibri}stats') is not None, p
            it = muc_item(p)
            assert it and it.get('role') == 'participant', 'updates carry the muc#user item: %s' % p
            # a new joiner sees bob's latest presence, extensions included
            await muc_join(carol, room, 'carol')
            pb = await carol.expect(is_muc_presence(room, 'bob'), 5, "bob's presence at carol")
            am = child(pb, '{http://jitsi.org/jitmeet/audio}audiomuted')
            assert am is not None and am.text == 'false', 'carol must see the latest presence: %s' % pb


async def test_groupchat_delivery_and_subject():
    with server() as s:
        async with clients() as cs:
            alice = await owner_client(s)
            bob = await anon(s)
            outsider = await anon(s)
            cs += [alice, bob, outsider]
            room = new_room()
            await muc_join(alice, room, 'alice')
            await muc_join(bob, room, 'bob')
            for sender, nick in ((alice, 'alice'), (bob, 'bob')):
                body = 'hello from %s %s' % (nick, uid())
                sender.send_message(room, body, type='groupchat')
                for c in (alice, bob):
                    m = await c.expect(groupchat_from(room, nick, body), 5, 'groupchat at %s' % c.name)
                    assert (m.xml.get('to') or '').lower() == c.jid.lower(), m
            # a non-occupant cannot send groupchat
            mid = outsider.send_message(room, 'intruder', type='groupchat')
            err = await outsider.expect(is_stanza_id('message', mid, 'error'), 5, 'the error for a non-occupant')
            assert_error(err, 'not-acceptable')
            # subject by the moderator, sent to everyone
            alice.send_raw("<message to='%s' type='groupchat'><subject>Planning &amp; more</subject></message>"
                           % room)
            for c in (alice, bob):
                await c.expect(groupchat_from(room, 'alice', subject='Planning & more'), 5,
                               'the subject at %s' % c.name)
            await alice.ping()
            assert not bob.pending(is_message(body='intruder')) and not alice.pending(is_message(body='intruder'))
            # a new joiner gets the subject after its own presence and the history
            carol = await anon(s)
            cs.append(carol)
            me = await muc_join(carol, room, 'carol')
            subj = await carol.expect(lambda st: is_message(type='groupchat')(st) and has_subject(st), 5,
                                      'the subject on join')
            assert subj.xml.find('{jabber:client}subject').text == 'Planning & more', subj
            assert (subj.xml.get('from') or '').lower().startswith(room.lower()), subj
            hist = [st for st in carol.all[index_in(carol, me):index_in(carol, subj)]
                    if is_message(type='groupchat')(st)]
            assert len(hist) == 2, 'the two earlier messages come as history before the subject: %s' % hist
            assert index_in(carol, me) < index_in(carol, subj)


def history_bodies(client, me, subj):
    out = []
    for st in client.all[index_in(client, me) + 1:index_in(client, subj)]:
        if is_message(type='groupchat')(st) and st['body']:
            out.append(st)
    return out


async def join_and_history(client, room, nick, history=None):
    me = await muc_join(client, room, nick, history=history)
    subj = await client.expect(lambda st: is_message(type='groupchat')(st) and has_subject(st), 5,
                               'the subject after the history (%s)' % client.name)
    return history_bodies(client, me, subj)


async def test_history_on_join():
    with server() as s:
        async with clients() as cs:
            alice = await owner_client(s)
            cs.append(alice)
            room = new_room()
            await muc_join(alice, room, 'alice')
            alice.send_raw("<message to='%s' type='groupchat'><subject>history test</subject></message>" % room)
            await alice.expect(lambda st: has_subject(st), 5, 'subject echo')
            for i in range(25):
                alice.send_message(room, 'm%02d' % i, type='groupchat')
            await alice.expect(groupchat_from(room, 'alice', 'm24'), 10, 'the last echo')
            t_first_batch = time.monotonic()

            bob = await anon(s)
            cs.append(bob)
            hist = await join_and_history(bob, room, 'bob')
            bodies = [h['body'] for h in hist]
            assert bodies == ['m%02d' % i for i in range(5, 25)], \
                'default history must be the last 20 messages in order, got %s' % bodies
            for h in hist:
                assert (h.xml.get('from') or '') == '%s/alice' % room, h
                assert (h.xml.get('to') or '').lower() == bob.jid.lower(), h
                d = h.xml.find('{%s}delay' % NS_DELAY)
                assert d is not None and d.get('stamp'), 'history needs <delay/> with a stamp: %s' % h
                assert (d.get('from') or '').lower() == room.lower(), 'delay from must be the room: %s' % h
                assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$', d.get('stamp')), \
                    'XEP-0082 stamp: %s' % h

            carol = await anon(s)
            cs.append(carol)
            hist = await join_and_history(carol, room, 'carol', {'maxstanzas': 3})
            assert [h['body'] for h in hist] == ['m22', 'm23', 'm24'], [h['body'] for h in hist]

            dave = await anon(s)
            cs.append(dave)
            hist = await join_and_history(dave, room, 'dave', {'maxchars': 0})
            assert hist == [], 'maxchars=0: no history, got %s' % [h['body'] for h in hist]

            zed = await anon(s)
            cs.append(zed)
            hist = await join_and_history(zed, room, 'zed', {'maxstanzas': 0})
            assert hist == [], 'maxstanzas=0: no history, got %s' % [h['body'] for h in hist]

            # seconds: the first batch gets old on the test's clock, a second one is fresh
            await asyncio.sleep(max(0, 4.2 - (time.monotonic() - t_first_batch)))
            for i in range(2):
                alice.send_message(room, 'n%d' % i, type='groupchat')
            await alice.expect(groupchat_from(room, 'alice', 'n1'), 5, 'the last echo')
            eve = await anon(s)
            cs.append(eve)
            hist = await join_and_history(eve, room, 'eve', {'seconds': 2})
            assert [h['body'] for h in hist] == ['n0', 'n1'], \
                'seconds=2 must give only the fresh messages, got %s' % [h['body'] for h in hist]


async def test_private_messages_and_iqs_through_occupant_jids():
    with server() as s:
        async with clients() as cs:
            a1 = await owner_client(s, resource='one')
            a2 = await login(s, 'alice@auth.meet.parley', PW, resource='two', presence=True)
            bob = await anon(s)
            outsider = await anon(s)
            cs += [a1, a2, bob, outsider]
            room = new_room()
            await muc_join(a1, room, 'alice')
            await muc_join(a2, room, 'alice')
            await muc_join(bob, room, 'bob')

            body = 'private ' + uid()
            a1.send_message('%s/bob' % room, body)
            m = await bob.expect(is_message(body=body), 5, 'the private message at bob')
            assert m.xml.get('from') == '%s/alice' % room, 'from must be rewritten to the occupant JID: %s' % m
            assert (m.xml.get('to') or '').lower() == bob.jid.lower(), m
            assert m.xml.get('type') == 'chat', m
            # to a nick held by two resources: each gets it
            body = 'reply ' + uid()
            bob.send_message('%s/alice' % room, body)
            for c in (a1, a2):
                m = await c.expect(is_message(body=body), 5, 'the reply at %s' % c.name)
                assert m.xml.get('from') == '%s/bob' % room, m
                assert (m.xml.get('to') or '').lower() == c.jid.lower(), m

            # IQ a1 -> bob through the room, result back
            iid = 'pq' + uid()
            a1.send_raw("<iq type='get' id='%s' to='%s/bob'><query xmlns='urn:parley:test'/></iq>" % (iid, room))
            q = await bob.expect(is_stanza_id('iq', iid, 'get'), 5, 'the IQ at bob')
            assert q.xml.get('from') == '%s/alice' % room, 'IQ from must be the occupant JID: %s' % q
            assert (q.xml.get('to') or '').lower() == bob.jid.lower(), q
            assert q.xml.find('{urn:parley:test}query') is not None, q
            bob.send_raw("<iq type='result' id='%s' to='%s/alice'><query xmlns='urn:parley:test'>"
                         "<answer>42</answer></query></iq>" % (iid, room))
            r = await a1.expect(is_stanza_id('iq', iid), 5, 'the IQ result at alice')
            assert r.xml.get('type') == 'result', r
            assert r.xml.get('from') == '%s/bob' % room, r
            assert r.xml.find('{urn:parley:test}query/{urn:parley:test}answer') is not None, r
            a2.assert_none(is_stanza_id('iq', iid), 'the result meant for the other resource')
            # an error result travels back too
            iid = 'pe' + uid()
            a2.send_raw("<iq type='set' id='%s' to='%s/bob'><query xmlns='urn:parley:test'/></iq>" % (iid, room))
            q = await bob.expect(is_stanza_id('iq', iid, 'set'), 5, 'the second IQ at bob')
            assert q.xml.get('from') == '%s/alice' % room, q
            bob.send_raw("<iq type='error' id='%s' to='%s/alice'><error type='cancel'><item-not-found "
                         "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>" % (iid, room))
            r = await a2.expect(is_stanza_id('iq', iid), 5, 'the IQ error at alice/two')
            assert_error(r, 'item-not-found')
            assert r.xml.get('from') == '%s/bob' % room, r
            # an IQ to a nick with two resources goes to one of them only
            iid = 'pb' + uid()
            bob.send_raw("<iq type='get' id='%s' to='%s/alice'><query xmlns='urn:parley:test'/></iq>" % (iid, room))
            q = await asyncio.wait_for(_first_of(a1, a2, is_stanza_id('iq', iid, 'get')), 5)
            await a1.ping()
            await a2.ping()
            assert len(a1.pending(is_stanza_id('iq', iid)) + a2.pending(is_stanza_id('iq', iid))) == 0, \
                'the IQ must reach one resource only'
            assert q.xml.get('from') == '%s/bob' % room, q

            # non-occupants: not-acceptable; groupchat type to an occupant: bad-request
            mid = outsider.send_message('%s/bob' % room, 'sneaky')
            err = await outsider.expect(is_stanza_id('message', mid, 'error'), 5, 'error for a non-occupant PM')
            assert_error(err, 'not-acceptable')
            iid = 'px' + uid()
            outsider.send_raw("<iq type='get' id='%s' to='%s/bob'><query xmlns='urn:parley:test'/></iq>"
                              % (iid, room))
            err = await outsider.expect(is_stanza_id('iq', iid, 'error'), 5, 'error for a non-occupant IQ')
            assert_error(err, 'not-acceptable')
            mid = a1.send_message('%s/bob' % room, 'gc to occupant', type='groupchat')
            err = await a1.expect(is_stanza_id('message', mid, 'error'), 5, 'error for groupchat to an occupant')
            assert_error(err, 'bad-request')
            await bob.ping()
            bob.assert_none(lambda st: st['body'] in ('sneaky', 'gc to occupant'), 'a refused message')


async def _first_of(a, b, pred):
    while True:
        for c in (a, b):
            got = c.pending(pred)
            if got:
                return await c.expect(pred, 1)
        await asyncio.sleep(0.02)


async def test_mediated_invitation():
    with server() as s:
        async with clients() as cs:
            alice = await owner_client(s)
            carol = await anon(s)
            cs += [alice, carol]
            room = new_room()
            await muc_join(alice, room, 'alice')
            alice.send_raw("<message to='%s'><x xmlns='%s'><invite to='%s'><reason>join us</reason></invite>"
                           "</x></message>" % (room, NS_MUC_USER, carol.jid))
            inv = await carol.expect(lambda st: is_message()(st) and st.xml.find(
                '{%s}x/{%s}invite' % (NS_MUC_USER, NS_MUC_USER)) is not None, 5, 'the invitation')
            assert (inv.xml.get('from') or '').lower() == room.lower(), 'the invitation comes from the room: %s' % inv
            i = inv.xml.find('{%s}x/{%s}invite' % (NS_MUC_USER, NS_MUC_USER))
            frm = (i.get('from') or '').lower()
            assert frm.split('/')[0] == 'alice@auth.meet.parley', 'the inviter JID must be given: %s' % inv
            r = i.find('{%s}reason' % NS_MUC_USER)
            assert r is not None and r.text == 'join us', inv
            # the invitee can follow it
            await muc_join(carol, room, 'carol')


async def test_disco_service_and_room():
    with server() as s:
        async with clients() as cs:
            alice = await owner_client(s)
            bob = await anon(s)
            cs += [alice, bob]
            info = await disco_info(bob, MUC, 'result')
            ids = disco_identities(info)
            assert any(i.get('category') == 'conference' and i.get('type') == 'text' for i in ids), info
            assert NS_MUC in disco_features(info), info

            room = new_room()
            hidden_room = new_room()
            await muc_join(alice, room, 'alice')
            await muc_join(alice, hidden_room, 'alice')
            await muc_configure(alice, room, {'roomname': 'Nice Room', 'publicroom': 1,
                                              'roomdesc': 'a description'})
            await muc_configure(alice, hidden_room, {'publicroom': 0})
            items = await disco_items_of(bob, MUC)
            jids = [i.get('jid', '').lower() for i in items.xml.findall(
                '{http://jabber.org/protocol/disco#items}query/{http://jabber.org/protocol/disco#items}item')]
            assert room.lower() in jids, 'a public room must be listed: %s' % items
            assert hidden_room.lower() not in jids, 'a hidden room must not be listed: %s' % items

            await muc_join(bob, room, 'bob')
            info = await disco_info(bob, room, 'result')
            ids = disco_identities(info)
            assert any(i.get('category') == 'conference' and i.get('type') == 'text'
                       and i.get('name') == 'Nice Room' for i in ids), 'room identity with its name: %s' % info
            feats = disco_features(info)
            assert NS_MUC in feats, info
            for a, b in (('muc_persistent', 'muc_temporary'), ('muc_open', 'muc_membersonly'),
                         ('muc_moderated', 'muc_unmoderated'), ('muc_nonanonymous', 'muc_semianonymous'),
                         ('muc_passwordprotected', 'muc_unsecured'), ('muc_public', 'muc_hidden')):
                assert (a in feats) != (b in feats), 'exactly one of %s/%s: %s' % (a, b, sorted(feats))
            assert {'muc_nonanonymous', 'muc_unsecured', 'muc_public', 'muc_open'} <= feats, sorted(feats)
            form = data_form(info, NS_DISCO_INFO)
            assert form is not None, info
            assert form.get('FORM_TYPE') == ['http://jabber.org/protocol/muc#roominfo'], info
            assert roominfo_occupants(info) == 2, info
            assert form.get('muc#roominfo_description') == ['a description'], info
            assert 'muc#roominfo_meetingId' in form, 'the room info needs muc#roominfo_meetingId: %s' % info
            info = await disco_info(bob, hidden_room, 'result')
            assert 'muc_hidden' in disco_features(info), info
            await muc_leave(bob, room, 'bob')
            info = await disco_info(alice, room, 'result')
            assert roominfo_occupants(info) == 1, info


async def test_room_creation_policy():
    with server() as s:
        s.adduser('carol@meet.parley', PW)
        async with clients() as cs:
            anon1 = await anon(s)
            carol = await login(s, 'carol@meet.parley', PW, presence=True)
            alice = await owner_client(s)
            cs += [anon1, carol, alice]
            room = new_room()
            for c in (anon1, carol):
                err = await muc_join_error(c, '%s/x%s' % (room, uid()))
                assert_error(err, 'not-allowed', 'cancel')
            err = await disco_info(alice, room, 'error')
            assert_error(err, 'item-not-found')
            me = await muc_join(alice, room, 'alice')
            assert 201 in muc_codes(me) and muc_item(me)['affiliation'] == 'owner', me
            # once it exists, anyone may join
            me = await muc_join(anon1, room, 'anon')
            assert 201 not in muc_codes(me) and muc_item(me)['affiliation'] == 'none', me
            await muc_join(carol, room, 'carol')
    with server(MUC_RESTRICT_ROOM_CREATION='false') as s:
        async with clients() as cs:
            anon1 = await anon(s)
            cs.append(anon1)
            room = new_room()
            me = await muc_join(anon1, room, 'creator')
            assert 201 in muc_codes(me) and muc_item(me)['affiliation'] == 'owner', me


async def test_invalid_room_names_and_nicks():
    with server() as s:
        async with clients() as cs:
            alice = await owner_client(s)
            cs.append(alice)
            for bad in ('a' * 257 + '@' + MUC + '/alice', 'bad room@' + MUC + '/alice'):
                err = await muc_join_error(alice, bad)
                assert_error(err, 'jid-malformed', 'modify')
            # 256 bytes is fine
            me = await muc_join(alice, 'b' * 256 + '@' + MUC, 'alice')
            assert 201 in muc_codes(me), me
            room = new_room()
            await muc_join(alice, room, 'alice')
            bob = await anon(s)
            cs.append(bob)
            for bad in (room, room + '/', room + '/' + 'n' * 1024):
                err = await muc_join_error(bob, bad)
                assert_error(err, 'jid-malformed', 'modify')
            await alice.ping()
            alice.assert_none(is_muc_presence(room, None), 'a presence for a refused join')
            me = await muc_join(bob, room, 'n' * 1023)
            assert muc_item(me)['role'] == 'participant', me


async def test_temporary_room_vanishes_when_empty():
    with server() as s:
        async with clients() as cs:
            alice = await owner_client(s)
            bob = await anon(s)
            cs += [alice, bob]
            room = new_room()
            await muc_join(alice, room, 'alice')
            info = await disco_info(alice, room, 'result')
            if 'muc_persistent' in disco_features(info):
                await muc_configure(alice, room, {'persistentroom': 0})
            info = await disco_info(alice, room, 'result')
            assert 'muc_temporary' in disco_features(info), info
            await muc_join(bob, room, 'bob')
            await muc_leave(alice, room, 'alice')
            info = await disco_info(bob, room, 'result')
            assert roominfo_occupants(info) == 1, 'the room lives while bob is in it: %s' % info
            await muc_leave(bob, room, 'bob')
            err = await disco_info(bob, room, 'error')
            assert_error(err, 'item-not-found')
            # groupchat to the vanished room: not an occupant any more
            mid = bob.send_message(room, 'anyone?', type='groupchat')
            err = await bob.expect(is_stanza_id('message', mid, 'error'), 5, 'error for the gone room')
            assert error_condition(err)[1] in ('not-acceptable', 'item-not-found'), err
            # it can be created afresh
            me = await muc_join(alice, room, 'alice')
            assert 201 in muc_codes(me), me
            # affiliations belong to the bare JID: bob made member, leaves, comes back as member;
            # the owner leaving and coming back while bob keeps the room alive is still owner
            carol = await owner_client(s, 'carol')
            cs.append(carol)
            await muc_join(carol, room, 'carol')
            await alice.iq("<iq type='set' id='%s' to='%s'><query xmlns='http://jabber.org/protocol/muc#admin'>"
                           "<item jid='carol@auth.meet.parley' affiliation='member'/></query></iq>" % (uid(), room),
                           expect_type='result')
            await muc_leave(alice, room, 'alice')
            me = await muc_join(alice, room, 'alice2')
            assert muc_item(me)['affiliation'] == 'owner' and 201 not in muc_codes(me), me
            await muc_leave(carol, room, 'carol')
            me = await muc_join(carol, room, 'carol')
            assert muc_item(me)['affiliation'] == 'member', me

            # a user alone in several temporary rooms disconnects: they all go
            rooms = [new_room() for _ in range(3)]
            for r in rooms:
                await muc_join(carol, r, 'carol')
            carol.abort()
            await alice.expect(is_muc_presence(room, 'carol', type='unavailable'), 10, 'carol gone')
            for r in rooms:
                err = await disco_info(alice, r, 'error')
                assert_error(err, 'item-not-found')
            info = await disco_info(alice, room, 'result')
            assert roominfo_occupants(info) == 1, info


async def test_history_length_setting_and_since():
    with server(MUC_HISTORY_LENGTH=5) as s:
        async with clients() as cs:
            alice = await owner_client(s)
            cs.append(alice)
            room = new_room()
            await muc_join(alice, room, 'alice')
            for i in range(8):
                alice.send_message(room, 'h%d' % i, type='groupchat')
            await alice.expect(groupchat_from(room, 'alice', 'h7'), 10, 'the last echo')
            bob = await anon(s)
            cs.append(bob)
            hist = await join_and_history(bob, room, 'bob')
            assert [h['body'] for h in hist] == ['h%d' % i for i in range(3, 8)], \
                'MUC_HISTORY_LENGTH=5 keeps the last 5, got %s' % [h['body'] for h in hist]
            carol = await anon(s)
            cs.append(carol)
            hist = await join_and_history(carol, room, 'carol', {'since': '2099-01-01T00:00:00Z'})
            assert hist == [], 'since in the future: no history, got %s' % [h['body'] for h in hist]
            dave = await anon(s)
            cs.append(dave)
            hist = await join_and_history(dave, room, 'dave', {'since': '1970-01-01T00:00:00Z'})
            assert [h['body'] for h in hist] == ['h%d' % i for i in range(3, 8)], [h['body'] for h in hist]
            eve = await anon(s)
            cs.append(eve)
            hist = await join_and_history(eve, room, 'eve', {'since': '1970-01-01T00:00:00Z', 'maxstanzas': 2})
            assert [h['body'] for h in hist] == ['h6', 'h7'], [h['body'] for h in hist]


async def test_jid_normalisation_and_global_unavailable():
    with server() as s:
        async with clients() as cs:
            alice = await owner_client(s)
            bob = await anon(s)
            carol = await anon(s)
            cs += [alice, bob, carol]
            node = 'norm' + uid()
            room = '%s@%s' % (node, MUC)
            await muc_join(alice, room, 'alice')
            # the room node is case-folded (nodeprep): ROOM is the same room
            me = await muc_join(bob, '%s@%s' % (node.upper(), MUC.upper()), 'bob')
            assert 201 not in muc_codes(me), 'the upper-case JID must name the existing room: %s' % me
            await alice.expect(is_muc_presence(room, 'bob'), 5, 'bob (joined via upper case) at alice')
            # nicks go through resourceprep (NFKC): fullwidth 'ｂｏｂ' is 'bob'; case is kept
            err = await muc_join_error(carol, room + '/\uff42\uff4f\uff42')
            assert_error(err, 'conflict', 'cancel')
            me = await muc_join(carol, room, 'Bob')
            assert me.xml.get('from') == room + '/Bob', me
            # groupchat keeps its extensions
            extra = ("<json-message xmlns='http://jitsi.org/jitmeet'>{&quot;type&quot;:&quot;x&quot;}</json-message>"
                     "<custom xmlns='urn:parley:test' a='1'><inner>t</inner></custom>")
            body = 'with ext ' + uid()
            alice.send_message(room, body, type='groupchat', extra=extra)
            m = await bob.expect(groupchat_from(room, 'alice', body), 5, 'groupchat with extensions')
            jm = m.xml.find('{http://jitsi.org/jitmeet}json-message')
            assert jm is not None and jm.text == '{"type":"x"}', 'extensions must pass: %s' % m
            c = m.xml.find('{urn:parley:test}custom')
            assert c is not None and c.get('a') == '1' and c.find('{urn:parley:test}inner').text == 't', m
            # a broadcast unavailable (no 'to') ends bob's directed presence: he leaves the room
            bob.send_raw("<presence type='unavailable'/>")
            await alice.expect(is_muc_presence(room, 'bob', type='unavailable'), 5,
                               "bob's unavailable after his broadcast unavailable (RFC 6121 4.6.3)")
            info = await disco_info(alice, room, 'result')
            assert roominfo_occupants(info) == 2, info


if __name__ == '__main__':
    main(globals())
