#!/usr/bin/python3
"""Multi-user chat administration (XEP-0045 sections 8-10, docs/muc.md):
kick, ban, voice, affiliations, rank checks, the owner configuration form
(password, members-only, maxusers, whois), destroy, malformed requests, an
oversized subject, and persistent rooms across a restart."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (NS_DATA, NS_DISCO_INFO, NS_MUC, NS_MUC_ADMIN, NS_MUC_OWNER, NS_MUC_USER,  # noqa: E402
                     Bystander, assert_error, clients, data_form, disco_features, disco_info,
                     error_condition, is_message, is_muc_presence, is_stanza_id, login, main,
                     muc_admin, muc_codes, muc_configure, muc_item, muc_join, muc_join_error,
                     raw_login, roominfo_occupants, server, timeout, uid)

PW = 'pw-muc-admin'
MUC = 'muc.meet.parley'


def new_room():
    return 'adm%s@%s' % (uid(), MUC)


async def account(s, name, resource='r'):
    jid = '%s@auth.meet.parley' % name
    try:
        s.adduser(jid, PW)
    except AssertionError as e:
        if 'exist' not in str(e).lower():
            raise
    return await login(s, jid, PW, resource=resource, presence=True)


async def anon(s):
    return await login(s, 'meet.parley', presence=True)


def groupchat_from(room, nick, body):
    return lambda st: is_message(type='groupchat', frm='%s/%s' % (room, nick), body=body)(st)


async def admin_list(client, room, **attrs):
    a = ''.join(' %s=%r' % kv for kv in attrs.items())
    res = await client.iq("<iq type='get' id='%s' to='%s'><query xmlns='%s'><item%s/></query></iq>"
                          % (uid(), room, NS_MUC_ADMIN, a), expect_type='result')
    q = res.xml.find('{%s}query' % NS_MUC_ADMIN)
    return [dict(i.attrib) for i in q.findall('{%s}item' % NS_MUC_ADMIN)] if q is not None else []


async def test_kick_and_ban():
    with server() as s:
        async with clients() as cs:
            alice = await account(s, 'alice')
            bob = await anon(s)
            carol = await account(s, 'carol')
            cs += [alice, bob, carol]
            room = new_room()
            await muc_join(alice, room, 'alice')
            await muc_join(bob, room, 'bob')
            await muc_join(carol, room, 'carol')
            # kick bob (moderator -> participant): 307 to everyone, 110 to bob
            await muc_admin(alice, room, {'nick': 'bob', 'role': 'none'}, reason='be gone')
            u = await bob.expect(is_muc_presence(room, 'bob', type='unavailable', codes=(307, 110)), 5,
                                 'the kick at bob')
            it = muc_item(u)
            assert it and it.get('role') == 'none' and it.get('reason') == 'be gone', u
            for c in (alice, carol):
                u = await c.expect(is_muc_presence(room, 'bob', type='unavailable', codes=(307,)), 5,
                                   'the kick at %s' % c.name)
                assert 110 not in muc_codes(u), u
            mid = bob.send_message(room, 'still here?', type='groupchat')
            err = await bob.expect(is_stanza_id('message', mid, 'error'), 5, 'kicked user sending groupchat')
            assert_error(err, 'not-acceptable')
            # a kicked user may come back
            await muc_join(bob, room, 'bob')

            # ban carol by JID (admin/owner): 301, and she cannot rejoin
            await muc_admin(alice, room, {'jid': 'carol@auth.meet.parley', 'affiliation': 'outcast'},
                            reason='spam')
            u = await carol.expect(is_muc_presence(room, 'carol', type='unavailable', codes=(301, 110)), 5,
                                   'the ban at carol')
            assert muc_item(u).get('affiliation') == 'outcast', u
            for c in (alice, bob):
                await c.expect(is_muc_presence(room, 'carol', type='unavailable', codes=(301,)), 5,
                               'the ban at %s' % c.name)
            err = await muc_join_error(carol, '%s/carol2' % room)
            assert_error(err, 'forbidden', 'auth')
            carol2 = await account(s, 'carol', resource='other')
            cs.append(carol2)
            err = await muc_join_error(carol2, '%s/carol3' % room)
            assert_error(err, 'forbidden', 'auth')
            outcasts = await admin_list(alice, room, affiliation='outcast')
            assert [o.get('jid', '').lower() for o in outcasts] == ['carol@auth.meet.parley'], outcasts
            # a ban removes every session of the user: dave is in with two resources
            d1 = await account(s, 'dave', resource='one')
            d2 = await account(s, 'dave', resource='two')
            cs += [d1, d2]
            await muc_join(d1, room, 'dave')
            await muc_join(d2, room, 'dave')
            await muc_admin(alice, room, {'jid': 'dave@auth.meet.parley', 'affiliation': 'outcast'})
            for c in (d1, d2):
                await c.expect(is_muc_presence(room, 'dave', type='unavailable', codes=(301, 110)), 5,
                               'the ban at %s' % c.name)
            mid = d2.send_message(room, 'banned but talking', type='groupchat')
            err = await d2.expect(is_stanza_id('message', mid, 'error'), 5, 'groupchat after the ban')
            assert error_condition(err)[1] in ('not-acceptable', 'forbidden'), err
            await alice.ping()
            alice.assert_none(is_message(body='banned but talking'), 'a banned user message')
            # lift the ban: she may join again
            await muc_admin(alice, room, {'jid': 'carol@auth.meet.parley', 'affiliation': 'none'})
            await muc_join(carol, room, 'carol')


async def test_voice_in_moderated_room():
    with server() as s:
        async with clients() as cs:
            alice = await account(s, 'alice')
            bob = await anon(s)
            cs += [alice, bob]
            room = new_room()
            await muc_join(alice, room, 'alice')
            await muc_configure(alice, room, {'moderatedroom': 1})
            assert 'muc_moderated' in disco_features(await disco_info(alice, room, 'result'))
            me = await muc_join(bob, room, 'bob')
            assert muc_item(me).get('role') == 'visitor', 'non-members are visitors in a moderated room: %s' % me
            mid = bob.send_message(room, 'can I talk?', type='groupchat')
            err = await bob.expect(is_stanza_id('message', mid, 'error'), 5, 'visitor groupchat refused')
            assert_error(err, 'forbidden')
            # grant voice
            await muc_admin(alice, room, {'nick': 'bob', 'role': 'participant'})
            for c in (alice, bob):
                await c.expect(lambda st: is_muc_presence(room, 'bob')(st)
                               and (muc_item(st) or {}).get('role') == 'participant', 5,
                                   'voice granted at %s' % c.name)
            body = 'now I can ' + uid()
            bob.send_message(room, body, type='groupchat')
            await alice.expect(groupchat_from(room, 'bob', body), 5, 'voiced groupchat')
            # revoke it
            await muc_admin(alice, room, {'nick': 'bob', 'role': 'visitor'})
            await bob.expect(lambda st: is_muc_presence(room, 'bob')(st)
                             and (muc_item(st) or {}).get('role') == 'visitor', 5, 'voice revoked')
            mid = bob.send_message(room, 'again?', type='groupchat')
            err = await bob.expect(is_stanza_id('message', mid, 'error'), 5, 'visitor again')
            assert_error(err, 'forbidden')
            await alice.ping()
            alice.assert_none(is_message(body='again?'), 'a visitor message')
            # a participant cannot grant voice (not a moderator)
            carol = await anon(s)
            cs.append(carol)
            await muc_admin(alice, room, {'nick': 'bob', 'role': 'participant'})
            await muc_join(carol, room, 'carol')
            res = await muc_admin(bob, room, {'nick': 'carol', 'role': 'participant'}, expect_type='error')
            assert_error(res, 'not-allowed')
            # role list
            visitors = await admin_list(alice, room, role='visitor')
            assert [v.get('nick') for v in visitors] == ['carol'], visitors


async def test_affiliations_and_rank_checks():
    with server() as s:
        async with clients() as cs:
            alice = await account(s, 'alice')
            bob = await account(s, 'bob')
            carol = await account(s, 'carol')
            dave = await anon(s)
            cs += [alice, bob, carol, dave]
            room = new_room()
            await muc_join(alice, room, 'alice')
            for c, n in ((bob, 'bob'), (carol, 'carol'), (dave, 'dave')):
                await muc_join(c, room, n)

            # member
            await muc_admin(alice, room, {'jid': 'bob@auth.meet.parley', 'affiliation': 'member'})
            for c in (alice, bob, carol, dave):
                await c.expect(lambda st: is_muc_presence(room, 'bob')(st)
                               and (muc_item(st) or {}).get('affiliation') == 'member', 5,
                               'bob as member at %s' % c.name)
            # admin -> moderator
            await muc_admin(alice, room, {'jid': 'bob@auth.meet.parley', 'affiliation': 'admin'})
            p = await dave.expect(lambda st: is_muc_presence(room, 'bob')(st)
                                  and (muc_item(st) or {}).get('affiliation') == 'admin', 5, 'bob as admin')
            assert muc_item(p).get('role') == 'moderator', 'admins are moderators: %s' % p
            admins = await admin_list(alice, room, affiliation='admin')
            assert [a.get('jid', '').lower() for a in admins] == ['bob@auth.meet.parley'], admins

            # what an admin may not do: grant owner/admin, touch the owner, configure, destroy
            res = await muc_admin(bob, room, {'jid': 'carol@auth.meet.parley', 'affiliation': 'owner'},
                                  expect_type='error')
            assert_error(res, 'not-allowed')
            res = await muc_admin(bob, room, {'jid': 'carol@auth.meet.parley', 'affiliation': 'admin'},
                                  expect_type='error')
            assert_error(res, 'not-allowed')
            res = await muc_admin(bob, room, {'nick': 'alice', 'role': 'none'}, expect_type='error')
            assert_error(res, 'not-allowed')
            res = await muc_admin(bob, room, {'jid': 'alice@auth.meet.parley', 'affiliation': 'outcast'},
                                  expect_type='error')
            assert_error(res, 'not-allowed')
            res = await bob.iq("<iq type='get' id='%s' to='%s'><query xmlns='%s'/></iq>"
                               % (uid(), room, NS_MUC_OWNER), expect_type='error')
            assert_error(res, 'forbidden')
            res = await muc_configure(bob, room, {'roomname': 'hijacked'}, expect_type='error')
            assert_error(res, 'forbidden')
            res = await bob.iq("<iq type='set' id='%s' to='%s'><query xmlns='%s'><destroy/></query></iq>"
                               % (uid(), room, NS_MUC_OWNER), expect_type='error')
            assert_error(res, 'forbidden')
            # but an admin may grant membership and kick a participant
            await muc_admin(bob, room, {'jid': 'carol@auth.meet.parley', 'affiliation': 'member'})
            await muc_admin(bob, room, {'nick': 'dave', 'role': 'none'})
            await dave.expect(is_muc_presence(room, 'dave', type='unavailable', codes=(307, 110)), 5, 'dave kicked')
            # a participant (member) may do none of it
            res = await muc_admin(carol, room, {'nick': 'bob', 'role': 'none'}, expect_type='error')
            assert_error(res, 'not-allowed')
            res = await muc_admin(carol, room, {'jid': 'x@meet.parley', 'affiliation': 'outcast'},
                                  expect_type='error')
            assert_error(res, 'not-allowed')

            # owner grants owner; the new owner can configure
            await muc_admin(alice, room, {'jid': 'carol@auth.meet.parley', 'affiliation': 'owner'})
            p = await carol.expect(lambda st: is_muc_presence(room, 'carol', codes=(110,))(st)
                                   and (muc_item(st) or {}).get('affiliation') == 'owner', 5, 'carol as owner')
            assert muc_item(p).get('role') == 'moderator', p
            await muc_configure(carol, room, {'roomname': 'carol was here'})
            owners = await admin_list(alice, room, affiliation='owner')
            assert sorted(o.get('jid', '').lower() for o in owners) == \
                ['alice@auth.meet.parley', 'carol@auth.meet.parley'], owners
            # revoke admin -> back to none: participant
            await muc_admin(carol, room, {'jid': 'bob@auth.meet.parley', 'affiliation': 'none'})
            p = await bob.expect(lambda st: is_muc_presence(room, 'bob', codes=(110,))(st)
                                 and (muc_item(st) or {}).get('affiliation') == 'none', 5, 'bob demoted')
            assert muc_item(p).get('role') == 'participant', p


async def config_form(owner, room):
    res = await owner.iq("<iq type='get' id='%s' to='%s'><query xmlns='%s'/></iq>"
                         % (uid(), room, NS_MUC_OWNER), expect_type='result')
    f = data_form(res, NS_MUC_OWNER)
    assert f is not None and f['_type'] == 'form', 'the owner get must return a form: %s' % res
    return f, res


async def test_owner_config_form_password_membersonly_maxusers():
    with server() as s:
        async with clients() as cs:
            alice = await account(s, 'alice')
            bob = await account(s, 'bob')
            carol = await anon(s)
            dave = await anon(s)
            cs += [alice, bob, carol, dave]
            room = new_room()
            await muc_join(alice, room, 'alice')
            f, res = await config_form(alice, room)
            assert f.get('FORM_TYPE') == ['http://jabber.org/protocol/muc#roomconfig'], res
            for short in ('roomname', 'roomdesc', 'persistentroom', 'publicroom', 'membersonly',
                          'moderatedroom', 'passwordprotectedroom', 'roomsecret', 'maxusers', 'whois',
                          'changesubject', 'allowinvites'):
                assert 'muc#roomconfig_' + short in f, 'the form lacks muc#roomconfig_%s: %s' % (short, res)
            assert f.get('muc#roomconfig_whois') == ['anyone'], res
            # cancel does nothing
            await alice.iq("<iq type='set' id='%s' to='%s'><query xmlns='%s'><x xmlns='%s' type='cancel'/>"
                           "</query></iq>" % (uid(), room, NS_MUC_OWNER, NS_DATA), expect_type='result')

            # password
            await muc_configure(alice, room, {'passwordprotectedroom': 1, 'roomsecret': 's3cret'})
            f, res = await config_form(alice, room)
            assert f.get('muc#roomconfig_passwordprotectedroom') in (['1'], ['true']), res
            assert 'muc_passwordprotected' in disco_features(await disco_info(alice, room, 'result'))
            err = await muc_join_error(carol, '%s/carol' % room)
            assert_error(err, 'not-authorized', 'auth')
            err = await muc_join_error(carol, '%s/carol' % room, password='wrong')
            assert_error(err, 'not-authorized', 'auth')
            await muc_join(carol, room, 'carol', password='s3cret')
            # an invitation carries the password
            alice.send_raw("<message to='%s'><x xmlns='%s'><invite to='%s'/></x></message>"
                           % (room, NS_MUC_USER, dave.jid))
            inv = await dave.expect(lambda st: st.xml.find('{%s}x/{%s}invite' % (NS_MUC_USER, NS_MUC_USER))
                                    is not None, 5, 'the invitation')
            pw = inv.xml.find('{%s}x/{%s}password' % (NS_MUC_USER, NS_MUC_USER))
            assert pw is not None and pw.text == 's3cret', 'the invitation must carry the password: %s' % inv
            await muc_configure(alice, room, {'passwordprotectedroom': 0})

            # members-only
            await muc_configure(alice, room, {'membersonly': 1})
            assert 'muc_membersonly' in disco_features(await disco_info(alice, room, 'result'))
            err = await muc_join_error(dave, '%s/dave' % room)
            assert_error(err, 'registration-required', 'auth')
            err = await muc_join_error(bob, '%s/bob' % room)
            assert_error(err, 'registration-required', 'auth')
            await muc_admin(alice, room, {'jid': 'bob@auth.meet.parley', 'affiliation': 'member'})
            await muc_join(bob, room, 'bob')
            await muc_configure(alice, room, {'membersonly': 0})

            # maxusers: a limit of the present occupant count keeps dave out
            n = roominfo_occupants(await disco_info(alice, room, 'result'))
            assert n in (2, 3), n  # alice, bob (and carol unless members-only removed her)
            await muc_configure(alice, room, {'maxusers': n})
            f, res = await config_form(alice, room)
            assert f.get('muc#roomconfig_maxusers') == [str(n)], res
            err = await muc_join_error(dave, '%s/dave' % room)
            assert_error(err, 'service-unavailable')
            await alice.iq("<iq type='set' id='%s' to='%s'><query xmlns='%s'><item nick='bob' role='none'/>"
                           "</query></iq>" % (uid(), room, NS_MUC_ADMIN), expect_type='result')
            await muc_join(dave, room, 'dave')


async def test_whois_moderators_hides_real_jids():
    with server() as s:
        async with clients() as cs:
            alice = await account(s, 'alice')
            bob = await anon(s)
            carol = await anon(s)
            cs += [alice, bob, carol]
            room = new_room()
            await muc_join(alice, room, 'alice')
            await muc_configure(alice, room, {'whois': 'moderators'})
            assert 'muc_semianonymous' in disco_features(await disco_info(alice, room, 'result'))
            me = await muc_join(bob, room, 'bob')
            assert 100 not in muc_codes(me), 'no status 100 in a semi-anonymous room: %s' % me
            pa = await bob.expect(is_muc_presence(room, 'alice'), 5, 'alice at bob')
            assert 'jid' not in muc_item(pa), 'a participant must not see real JIDs: %s' % pa
            pb = await alice.expect(is_muc_presence(room, 'bob'), 5, 'bob at alice')
            assert (muc_item(pb).get('jid') or '').lower() == bob.jid.lower(), \
                'a moderator sees real JIDs: %s' % pb
            await muc_join(carol, room, 'carol')
            pc = await bob.expect(is_muc_presence(room, 'carol'), 5, 'carol at bob')
            assert 'jid' not in muc_item(pc), pc
            # presence updates do not leak either
            carol.send_raw("<presence to='%s/carol'><show>dnd</show></presence>" % room)
            pc = await bob.expect(lambda st: is_muc_presence(room, 'carol')(st) and st['show'] == 'dnd', 5,
                                  'carol update at bob')
            assert 'jid' not in muc_item(pc), pc
            pc = await alice.expect(lambda st: is_muc_presence(room, 'carol')(st) and st['show'] == 'dnd', 5,
                                    'carol update at alice')
            assert (muc_item(pc).get('jid') or '').lower() == carol.jid.lower(), pc


async def test_destroy_with_reason():
    with server() as s:
        async with clients() as cs:
            alice = await account(s, 'alice')
            bob = await anon(s)
            carol = await anon(s)
            cs += [alice, bob, carol]
            room = new_room()
            await muc_join(alice, room, 'alice')
            await muc_join(bob, room, 'bob')
            await muc_join(carol, room, 'carol')
            res = await bob.iq("<iq type='set' id='%s' to='%s'><query xmlns='%s'><destroy/></query></iq>"
                               % (uid(), room, NS_MUC_OWNER), expect_type='error')
            assert_error(res, 'forbidden')
            alt = 'elsewhere@' + MUC
            await alice.iq("<iq type='set' id='%s' to='%s'><query xmlns='%s'><destroy jid='%s'>"
                           "<reason>meeting over</reason></destroy></query></iq>"
                           % (uid(), room, NS_MUC_OWNER, alt), expect_type='result')
            for c, nick in ((alice, 'alice'), (bob, 'bob'), (carol, 'carol')):
                u = await c.expect(lambda st: is_muc_presence(room, nick, type='unavailable')(st)
                                   and st.xml.find('{%s}x/{%s}destroy' % (NS_MUC_USER, NS_MUC_USER)) is not None,
                                   5, 'the destroy presence at %s' % c.name)
                d = u.xml.find('{%s}x/{%s}destroy' % (NS_MUC_USER, NS_MUC_USER))
                r = d.find('{%s}reason' % NS_MUC_USER)
                assert r is not None and r.text == 'meeting over', u
                assert (d.get('jid') or '').lower() == alt, 'the alternate venue: %s' % u
            err = await disco_info(alice, room, 'error')
            assert_error(err, 'item-not-found')


async def test_malformed_admin_and_owner_requests():
    with server() as s:
        async with clients() as cs:
            alice = await account(s, 'alice')
            bob = await anon(s)
            cs += [alice, bob]
            room = new_room()
            await muc_join(alice, room, 'alice')
            await muc_join(bob, room, 'bob')

            async def admin_set(inner):
                return await alice.iq("<iq type='set' id='%s' to='%s'><query xmlns='%s'>%s</query></iq>"
                                      % (uid(), room, NS_MUC_ADMIN, inner), expect_type='error')
            for inner in ('', "<item/>", "<item role='none'/>", "<item nick='bob'/>",
                          "<item nick='bob' role='emperor'/>", "<item jid='bob@meet.parley' affiliation='king'/>",
                          "<item affiliation='member'/>"):
                res = await admin_set(inner)
                t, c = error_condition(res)
                assert c == 'bad-request', 'muc#admin set %r: expected bad-request, got %s: %s' % (inner, c, res)
            res = await alice.iq("<iq type='get' id='%s' to='%s'><query xmlns='%s'/></iq>"
                                 % (uid(), room, NS_MUC_ADMIN), expect_type='error')
            assert_error(res, 'bad-request')
            res = await alice.iq("<iq type='get' id='%s' to='%s'><query xmlns='%s'><item role='king'/></query></iq>"
                                 % (uid(), room, NS_MUC_ADMIN), expect_type='error')
            assert_error(res, 'bad-request')
            # owner: an empty set, a form of the wrong type
            res = await alice.iq("<iq type='set' id='%s' to='%s'><query xmlns='%s'/></iq>"
                                 % (uid(), room, NS_MUC_OWNER), expect_type='error')
            assert_error(res, 'bad-request')
            # unknown field: not-acceptable naming it; bad values: not-acceptable
            res = await muc_configure(alice, room, {'muc#roomconfig_frobnicate': 1}, expect_type='error')
            assert_error(res, 'not-acceptable')
            assert 'muc#roomconfig_frobnicate' in str(res), 'the error must name the field: %s' % res
            for field, val in (('maxusers', 'lots'), ('persistentroom', 'maybe'), ('whois', 'everybody')):
                res = await muc_configure(alice, room, {field: val}, expect_type='error')
                assert_error(res, 'not-acceptable')
            # a refused form changed nothing
            f, _ = await config_form(alice, room)
            assert f.get('muc#roomconfig_whois') == ['anyone'], f
            # the read-only meetingId cannot be changed (not-acceptable), and stays
            info = await disco_info(alice, room, 'result')
            mid = data_form(info, NS_DISCO_INFO).get('muc#roominfo_meetingId')
            assert mid and mid[0], 'a room has a meetingId: %s' % info
            res = await muc_configure(alice, room, {'muc#roominfo_meetingId': 'forged'}, expect_type='error')
            assert_error(res, 'not-acceptable')
            info = await disco_info(alice, room, 'result')
            assert data_form(info, NS_DISCO_INFO).get('muc#roominfo_meetingId') == mid, info
            # the room still works
            body = 'alive ' + uid()
            alice.send_message(room, body, type='groupchat')
            await bob.expect(groupchat_from(room, 'alice', body), 5, 'groupchat after the bad requests')


async def test_subject_permissions():
    with server() as s:
        async with clients() as cs:
            alice = await account(s, 'alice')
            bob = await anon(s)
            cs += [alice, bob]
            room = new_room()
            await muc_join(alice, room, 'alice')
            await muc_configure(alice, room, {'changesubject': 0})
            await muc_join(bob, room, 'bob')
            mid = uid()
            bob.send_raw("<message id='%s' to='%s' type='groupchat'><subject>mine</subject></message>" % (mid, room))
            err = await bob.expect(is_stanza_id('message', mid, 'error'), 5, 'subject change refused')
            assert_error(err, 'forbidden')
            await muc_configure(alice, room, {'changesubject': 1})
            bob.send_raw("<message to='%s' type='groupchat'><subject>ours</subject></message>" % room)
            await alice.expect(lambda st: is_message(type='groupchat', frm=room + '/bob')(st)
                               and st.xml.find('{jabber:client}subject') is not None, 5, 'subject by bob')


@timeout(90)
async def test_huge_subject_closes_only_the_sender():
    with server(XMPP_MAX_STANZA_SIZE=262144) as s:
        by = await Bystander(s).start()
        async with clients() as cs:
            alice = await account(s, 'alice')
            bob = await anon(s)
            cs += [alice, bob]
            room = new_room()
            await muc_join(alice, room, 'alice')
            s.adduser('mallory@auth.meet.parley', PW)
            r = await raw_login(s, 'mallory', PW, domain='auth.meet.parley', resource='m')
            await r.send("<presence/><presence to='%s/mallory'><x xmlns='%s'/></presence>" % (room, NS_MUC))
            await r.read_until(r"<presence[^>]*from=['\"]%s/mallory['\"].*?110" % re.escape(room), 10,
                               'mallory in the room')
            await muc_admin(alice, room, {'jid': 'mallory@auth.meet.parley', 'affiliation': 'admin'})
            await muc_join(bob, room, 'bob')
            big = 'x' * (2 * 1024 * 1024)
            await r.flood("<message to='%s' type='groupchat'><subject>%s</subject></message>" % (room, big))
            await r.expect_stream_error('policy-violation', timeout=20)
            for c in (alice, bob):
                await c.expect(is_muc_presence(room, 'mallory', type='unavailable'), 10,
                               "mallory's unavailable at %s" % c.name)
                c.assert_none(lambda st: st.xml.find('{jabber:client}subject') is not None
                              and len(st.xml.find('{jabber:client}subject').text or '') > 1000,
                              'the oversized subject')
            body = 'after the flood ' + uid()
            bob.send_message(room, body, type='groupchat')
            await alice.expect(groupchat_from(room, 'bob', body), 10, 'groupchat after the flood')
            await by.check()
            s.check()
        await by.close()


@timeout(90)
async def test_persistent_room_survives_restart():
    with server() as s:
        s.adduser('alice@auth.meet.parley', PW)
        s.adduser('bob@auth.meet.parley', PW)
        room = new_room()
        temp = new_room()
        async with clients() as cs:
            alice = await account(s, 'alice')
            cs.append(alice)
            await muc_join(alice, room, 'alice')
            await muc_configure(alice, room, {'persistentroom': 1, 'roomname': 'Standing Meeting',
                                              'membersonly': 1, 'roomdesc': 'every monday'})
            await muc_admin(alice, room, {'jid': 'bob@auth.meet.parley', 'affiliation': 'member'})
            await muc_admin(alice, room, {'jid': 'eve@meet.parley', 'affiliation': 'outcast'})
            await muc_join(alice, temp, 'alice')
            # a second persistent room, destroyed before the restart: must stay gone
            gone = new_room()
            await muc_join(alice, gone, 'alice')
            await muc_configure(alice, gone, {'persistentroom': 1})
            await alice.iq("<iq type='set' id='%s' to='%s'><query xmlns='%s'><destroy/></query></iq>"
                           % (uid(), gone, NS_MUC_OWNER), expect_type='result')
            await alice.expect(is_muc_presence(gone, 'alice', type='unavailable'), 5, 'destroyed')
            info = await disco_info(alice, room, 'result')
            mid = data_form(info, NS_DISCO_INFO).get('muc#roominfo_meetingId')
        s.restart()
        async with clients() as cs:
            bob = await account(s, 'bob')
            carol = await anon(s)
            cs += [bob, carol]
            info = await disco_info(bob, room, 'result')
            feats = disco_features(info)
            assert {'muc_persistent', 'muc_membersonly'} <= feats, 'configuration lost: %s' % sorted(feats)
            assert roominfo_occupants(info) == 0, 'a restored room is empty: %s' % info
            names = [i.get('name') for i in info.xml.findall('{%s}query/{%s}identity' % (NS_DISCO_INFO, NS_DISCO_INFO))]
            assert 'Standing Meeting' in names, info
            form = data_form(info, NS_DISCO_INFO)
            assert form.get('muc#roominfo_description') == ['every monday'], info
            assert form.get('muc#roominfo_meetingId') == mid, 'the meetingId must persist: %s' % info
            err = await disco_info(bob, temp, 'error')
            assert_error(err, 'item-not-found')
            err = await disco_info(bob, gone, 'error')
            assert_error(err, 'item-not-found')
            # affiliations are back: member bob may join, carol not (members-only)
            me = await muc_join(bob, room, 'bob')
            assert 201 not in muc_codes(me), 'the room exists already: %s' % me
            assert muc_item(me).get('affiliation') == 'member', me
            err = await muc_join_error(carol, '%s/carol' % room)
            assert_error(err, 'registration-required', 'auth')
            alice = await account(s, 'alice')
            cs.append(alice)
            me = await muc_join(alice, room, 'alice')
            assert muc_item(me).get('affiliation') == 'owner', me
            outcasts = await admin_list(alice, room, affiliation='outcast')
            assert [o.get('jid', '').lower() for o in outcasts] == ['eve@meet.parley'], outcasts
            # an empty persistent room stays
            for c, n in ((alice, 'alice'), (bob, 'bob')):
                c.send_raw("<presence to='%s/%s' type='unavailable'/>" % (room, n))
                await c.expect(is_muc_presence(room, n, type='unavailable', codes=(110,)), 5)
            info = await disco_info(carol, room, 'result')
            assert roominfo_occupants(info) == 0, info


async def test_service_limits_max_occupants_and_rooms():
    with server(MUC_MAX_OCCUPANTS=3, MUC_MAX_ROOMS=2) as s:
        async with clients() as cs:
            alice = await account(s, 'alice')
            users = [await anon(s) for _ in range(3)]
            cs += [alice] + users
            room = new_room()
            await muc_join(alice, room, 'alice')
            await muc_join(users[0], room, 'u0')
            await muc_join(users[1], room, 'u1')
            err = await muc_join_error(users[2], '%s/u2' % room)
            assert_error(err, 'service-unavailable')
            # a room's own maxusers overrides the service default
            await muc_configure(alice, room, {'maxusers': 4})
            await muc_join(users[2], room, 'u2')
            # rooms per service
            second = new_room()
            await muc_join(alice, second, 'alice')
            third = new_room()
            err = await muc_join_error(alice, '%s/alice' % third)
            assert err.xml.get('type') == 'error', err
            err = await disco_info(alice, third, 'error')
            assert_error(err, 'item-not-found')
            # existing rooms keep working
            body = 'still fine ' + uid()
            users[0].send_message(room, body, type='groupchat')
            await users[2].expect(groupchat_from(room, 'u0', body), 5, 'groupchat in the first room')


if __name__ == '__main__':
    main(globals())
