#!/usr/bin/python3
"""What parley's focus and bridges rely on in MUC (docs/muc.md): the focus
component creating and owning conference rooms, IQs between the component
and occupants through occupant JIDs both ways, brewery rooms on the internal
MUC service, and hidden (recorder) occupants."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (NS_MUC, ComponentClient, assert_error, clients, disco_info,  # noqa: E402
                     is_message, is_muc_presence, is_stanza_id, login, main, muc_codes, muc_item,
                     muc_join, muc_join_error, roominfo_occupants, server, uid)

SECRET = 'focus-sec-' + uid()
PW = 'pw-muc-jitsi'
MUC = 'muc.meet.parley'
IMUC = 'internal-muc.meet.parley'
FOCUS = 'focus.meet.parley/focus'
STATS = ("<stats xmlns='http://jitsi.org/protocol/colibri'><stat name='stress_level' value='0.1'/>"
         "<stat name='region' value='eu'/></stats>")


async def focus_component(s):
    return await ComponentClient(s.component_port, 'focus.meet.parley', SECRET, name='focus').connect()


async def focus_join(focus, room, nick='focus', extra=''):
    pid = uid()
    focus.send_raw("<presence id='%s' from='%s' to='%s/%s'><x xmlns='%s'/>%s</presence>"
                   % (pid, FOCUS, room, nick, NS_MUC, extra))
    st = await focus.expect(lambda s: is_muc_presence(room, nick, codes=(110,))(s)
                            or is_stanza_id('presence', pid, 'error')(s), 10, 'the focus self-presence')
    assert st.xml.get('type') != 'error', 'the focus could not join %s: %s' % (room, st)
    return st


async def account(s, jid, resource='r'):
    try:
        s.adduser(jid, PW)
    except AssertionError as e:
        if 'exist' not in str(e).lower():
            raise
    return await login(s, jid, PW, resource=resource, presence=True)


async def test_focus_owns_room_and_relays_iqs_both_ways():
    with server(JICOFO_COMPONENT_SECRET=SECRET) as s:
        focus = await focus_component(s)
        async with clients() as cs:
            alice = await login(s, 'meet.parley', presence=True)
            cs.append(alice)
            room = 'conf%s@%s' % (uid(), MUC)
            # a browser user cannot create the room ...
            err = await muc_join_error(alice, '%s/abcd' % room)
            assert_error(err, 'not-allowed', 'cancel')
            # ... the focus can, and owns it
            me = await focus_join(focus, room)
            assert {110, 201} <= muc_codes(me), me
            it = muc_item(me)
            assert it.get('affiliation') == 'owner' and it.get('role') == 'moderator', me
            assert (it.get('jid') or '').lower() == FOCUS, 'the focus real JID: %s' % me
            assert (me.xml.get('to') or '').lower() == FOCUS, me

            mine = await muc_join(alice, room, 'abcd')
            assert muc_item(mine).get('role') == 'participant', mine
            pf = await alice.expect(is_muc_presence(room, 'focus'), 5, 'the focus presence at alice')
            assert muc_item(pf).get('affiliation') == 'owner', pf
            assert (muc_item(pf).get('jid') or '').lower() == FOCUS, pf
            pa = await focus.expect(is_muc_presence(room, 'abcd'), 5, "alice's join at the focus")
            assert (muc_item(pa).get('jid') or '').lower() == alice.jid.lower(), pa
            assert (pa.xml.get('to') or '').lower() == FOCUS, pa

            # component -> occupant JID -> client
            iid = 'j' + uid()
            focus.send_raw("<iq type='set' id='%s' from='%s' to='%s/abcd'><jingle xmlns='urn:xmpp:jingle:1' "
                           "action='session-initiate' sid='s1'/></iq>" % (iid, FOCUS, room))
            q = await alice.expect(is_stanza_id('iq', iid, 'set'), 5, 'the jingle IQ at alice')
            assert q.xml.get('from') == '%s/focus' % room, 'from must be the focus occupant JID: %s' % q
            assert (q.xml.get('to') or '').lower() == alice.jid.lower(), q
            assert q.xml.find('{urn:xmpp:jingle:1}jingle') is not None, q
            alice.send_raw("<iq type='result' id='%s' to='%s/focus'/>" % (iid, room))
            r = await focus.expect(is_stanza_id('iq', iid), 5, 'the result at the focus')
            assert r.xml.get('type') == 'result', r
            assert r.xml.get('from') == '%s/abcd' % room, r
            assert (r.xml.get('to') or '').lower() == FOCUS, r

            # client -> focus occupant JID -> component, and the answer back
            iid = 'k' + uid()
            alice.send_raw("<iq type='set' id='%s' to='%s/focus'><jingle xmlns='urn:xmpp:jingle:1' "
                           "action='session-accept' sid='s1'/></iq>" % (iid, room))
            q = await focus.expect(is_stanza_id('iq', iid, 'set'), 5, 'the IQ at the focus')
            assert q.xml.get('from') == '%s/abcd' % room, q
            assert (q.xml.get('to') or '').lower() == FOCUS, q
            focus.send_raw("<iq type='result' id='%s' from='%s' to='%s/abcd'/>" % (iid, FOCUS, room))
            r = await alice.expect(is_stanza_id('iq', iid), 5, 'the focus answer at alice')
            assert r.xml.get('type') == 'result' and r.xml.get('from') == '%s/focus' % room, r
            # an error from the component travels back too
            iid = 'e' + uid()
            alice.send_raw("<iq type='get' id='%s' to='%s/focus'><query xmlns='urn:parley:test'/></iq>"
                           % (iid, room))
            q = await focus.expect(is_stanza_id('iq', iid, 'get'), 5, 'the second IQ at the focus')
            focus.send_raw("<iq type='error' id='%s' from='%s' to='%s/abcd'><error type='cancel'>"
                           "<feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
                           % (iid, FOCUS, room))
            r = await alice.expect(is_stanza_id('iq', iid), 5, 'the focus error at alice')
            assert_error(r, 'feature-not-implemented')
            assert r.xml.get('from') == '%s/focus' % room, r

            # groupchat and private messages from the component
            body = 'from focus ' + uid()
            focus.send_raw("<message type='groupchat' from='%s' to='%s'><body>%s</body></message>"
                           % (FOCUS, room, body))
            m = await alice.expect(is_message(body=body, type='groupchat'), 5, 'focus groupchat')
            assert m.xml.get('from') == '%s/focus' % room, m
            await focus.expect(is_message(body=body, type='groupchat'), 5, 'focus groupchat echo')
            body = 'to focus ' + uid()
            alice.send_message('%s/focus' % room, body)
            m = await focus.expect(is_message(body=body), 5, 'the private message at the focus')
            assert m.xml.get('from') == '%s/abcd' % room, m

            # the focus as owner: it can grant moderator rights (what jicofo does)
            await focus.iq("<iq type='set' id='%s' from='%s' to='%s'><query xmlns='%s#admin'>"
                           "<item nick='abcd' role='moderator'/></query></iq>" % (uid(), FOCUS, room, NS_MUC),
                           expect_type='result')
            await alice.expect(lambda st: is_muc_presence(room, 'abcd', codes=(110,))(st)
                               and (muc_item(st) or {}).get('role') == 'moderator', 5, 'alice made moderator')
            # the component configures the room as owner
            await focus.iq("<iq type='set' id='%s' from='%s' to='%s'><query xmlns='%s#owner'><x xmlns='jabber:x:data' "
                           "type='submit'><field var='FORM_TYPE'><value>%s#roomconfig</value></field>"
                           "<field var='muc#roomconfig_roomname'><value>Jitsi call</value></field></x></query></iq>"
                           % (uid(), FOCUS, room, NS_MUC, NS_MUC), expect_type='result')
            # the focus leaving is seen by alice
            focus.send_raw("<presence type='unavailable' from='%s' to='%s/focus'/>" % (FOCUS, room))
            await alice.expect(is_muc_presence(room, 'focus', type='unavailable'), 5, 'the focus leaving')
            # it rejoins; when the component's connection goes away, it leaves every room
            await focus_join(focus, room)
            room2 = 'conf%s@%s' % (uid(), MUC)
            await focus_join(focus, room2)
            await muc_join(alice, room2, 'abcd')
            await focus.close()
            for r in (room, room2):
                await alice.expect(is_muc_presence(r, 'focus', type='unavailable'), 10,
                                   'the focus gone from %s after the component disconnected' % r)


async def test_brewery_rooms_admit_service_accounts_only():
    with server(JICOFO_COMPONENT_SECRET=SECRET) as s:
        focus = await focus_component(s)
        async with clients() as cs:
            jvb = await account(s, 'jvb@auth.meet.parley')
            rec = await account(s, 'recorder@hidden.meet.parley')
            user = await account(s, 'user@meet.parley')
            guest = await login(s, 'meet.parley', presence=True)
            cs += [jvb, rec, user, guest]
            brewery = 'jvbbrewery@' + IMUC
            me = await muc_join(jvb, brewery, 'jvb-1', extra=STATS)
            assert 201 in muc_codes(me), 'an auth account may create a brewery room: %s' % me
            jibri = 'jibribrewery@' + IMUC
            me = await muc_join(rec, jibri, 'jibri-1')
            assert 201 in muc_codes(me), 'a hidden-domain account may create a brewery room: %s' % me
            await muc_join(rec, brewery, 'rec-1')
            # the focus joins and sees the bridge with its stats
            await focus_join(focus, brewery)
            pj = await focus.expect(is_muc_presence(room=brewery, nick='jvb-1'), 5, 'the bridge at the focus')
            st = pj.xml.find('{http://jitsi.org/protocol/colibri}stats')
            assert st is not None and len(st) == 2, 'bridge stats must reach the focus: %s' % pj
            # users are refused, with and without an account, existing room or new
            for c in (user, guest):
                for occ in ('%s/intruder' % brewery, '%s/intruder' % jibri, 'new%s@%s/x' % (uid(), IMUC)):
                    err = await muc_join_error(c, occ)
                    assert_error(err, 'forbidden')
            # the bridge updating its stats reaches the focus
            jvb.send_raw("<presence to='%s/jvb-1'>%s</presence>"
                         % (brewery, STATS.replace("value='0.1'", "value='0.9'")))
            await focus.expect(lambda p: is_muc_presence(brewery, 'jvb-1')(p)
                               and "0.9" in str(p), 5, 'the stats update at the focus')
            jvb.abort()
            await focus.expect(is_muc_presence(brewery, 'jvb-1', type='unavailable'), 10,
                               'the bridge gone from the brewery')
        await focus.close()


async def test_hidden_occupants():
    with server(JICOFO_COMPONENT_SECRET=SECRET) as s:
        focus = await focus_component(s)
        async with clients() as cs:
            alice = await login(s, 'meet.parley', presence=True)
            rec = await account(s, 'recorder@hidden.meet.parley')
            cs += [alice, rec]
            room = 'hid%s@%s' % (uid(), MUC)
            await focus_join(focus, room)
            await muc_join(alice, room, 'alice')
            await focus.expect(is_muc_presence(room, 'alice'), 5)
            me = await muc_join(rec, room, 'rec')
            assert muc_item(me) is not None, me
            # the owner (focus) sees the recorder
            pr = await focus.expect(is_muc_presence(room, 'rec'), 5, 'the recorder at the focus')
            assert (muc_item(pr).get('jid') or '').lower() == rec.jid.lower(), pr
            # a participant joining later sees neither it
            bob = await login(s, 'meet.parley', presence=True)
            cs.append(bob)
            await muc_join(bob, room, 'bob')
            await alice.expect(is_muc_presence(room, 'bob'), 5, 'bob at alice')
            for c in (alice, bob):
                c.assert_none(is_muc_presence(room, 'rec', type='*'), 'the hidden occupant')
            # nor is it counted
            info = await disco_info(bob, room, 'result')
            assert roominfo_occupants(info) == 3, 'focus, alice, bob; not the recorder: %s' % info
            # its groupchat reaches the owner only
            body = 'hidden says ' + uid()
            rec.send_message(room, body, type='groupchat')
            m = await focus.expect(is_message(body=body, type='groupchat'), 5, 'recorder groupchat at the focus')
            assert m.xml.get('from') == '%s/rec' % room, m
            body2 = 'marker ' + uid()
            alice.send_message(room, body2, type='groupchat')
            await bob.expect(is_message(body=body2), 5, 'the marker at bob')
            await alice.expect(is_message(body=body2), 5, 'the marker at alice')
            await rec.expect(is_message(body=body2), 5, 'the recorder hears the room')
            for c in (alice, bob):
                c.assert_none(is_message(body=body), 'the hidden groupchat')
            # presence updates and leaving stay hidden too
            rec.send_raw("<presence to='%s/rec'><show>away</show></presence>" % room)
            await focus.expect(lambda p: is_muc_presence(room, 'rec')(p) and p['show'] == 'away', 5)
            rec.send_raw("<presence to='%s/rec' type='unavailable'/>" % room)
            await focus.expect(is_muc_presence(room, 'rec', type='unavailable'), 5, 'the recorder leaving')
            await rec.expect(is_muc_presence(room, 'rec', type='unavailable', codes=(110,)), 5)
            bob.send_raw("<presence to='%s/bob'><show>dnd</show></presence>" % room)
            await alice.expect(lambda p: is_muc_presence(room, 'bob')(p) and p['show'] == 'dnd', 5)
            for c in (alice, bob):
                c.assert_none(is_muc_presence(room, 'rec', type='*'), 'the hidden occupant')
        await focus.close()


if __name__ == '__main__':
    main(globals())
