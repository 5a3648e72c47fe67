#!/usr/bin/python3
"""The focus with everything real: xmppd, one or two bridges and the focus on
loopback; participants (jingle_peer.JingleParticipant: slixmpp + aiortc) ask
focus.meet.parley for a conference, join the room, answer the focus's Jingle
and carry media through the bridge."""

import os
import signal
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (NS_MUC_USER, NS_STANZAS, assert_error, is_muc_presence, login,  # noqa: E402
                     main, muc_join, server, timeout, uid)
from bridge_harness import add_jvb_account, bridge, xmppd_for_bridge  # noqa: E402
from focus_harness import focus  # noqa: E402
from jingle_peer import JingleParticipant, jingle_source_add_xml  # noqa: E402
from rtc_peer import wait_for  # noqa: E402

MUC = 'muc.meet.parley'
NS_JINGLE = 'urn:xmpp:jingle:1'
NS_JIBRI = 'http://jitsi.org/protocol/jibri'


async def participants(s, room, nicks, **kw):
    out = []
    for n in nicks:
        p = await JingleParticipant.anonymous(s, name=n, **kw)
        await p.join(room, n)
        out.append(p)
    return out


async def in_call(s, room, nicks, frames=10):
    """Participants nicks join room, get their sessions, and each decodes
    `frames` audio and video frames from every other one."""
    ps = await participants(s, room, nicks)
    for p in ps:
        await p.wait_session(20)
    await all_see_all(ps, frames=frames)
    return ps


async def all_see_all(ps, frames=10, timeout_s=25):
    for p in ps:
        for q in ps:
            if p is not q:
                await p.wait_media_from(q.nick, timeout=timeout_s, frames=frames)


def affiliation(presence):
    x = presence.xml.find('{%s}x' % NS_MUC_USER)
    item = x.find('{%s}item' % NS_MUC_USER) if x is not None else None
    return item.get('affiliation') if item is not None else None


async def close_all(ps):
    for p in ps:
        try:
            await p.close()
        except Exception:
            pass


@timeout(150)
async def test_call_join_leave_sources_and_moderator():
    with server(**xmppd_for_bridge()) as s:
        add_jvb_account(s)
        with bridge(s) as b, focus(s) as f:
            room = 'call-%s@%s' % (uid(), MUC)
            ps = []
            try:
                # one participant: owner, no session yet
                ps += await participants(s, room, ['p1'])
                await ps[0].client.expect(lambda st: is_muc_presence(room, 'p1')(st)
                                          and affiliation(st) == 'owner', 10, 'p1 made owner')
                assert ps[0].actions() == [], 'a lone participant gets no session'
                # two, then three: everyone decodes everyone
                ps += await participants(s, room, ['p2'])
                for p in ps:
                    await p.wait_session(20)
                await all_see_all(ps)
                ps += await participants(s, room, ['p3'])
                await ps[2].wait_session(20)
                await all_see_all(ps)
                # a fourth joins late: the others get source-add with exactly its sources
                marks = [p.mark() for p in ps]
                ps += await participants(s, room, ['p4'])
                await ps[3].wait_session(20)
                mine = ps[3].own_ssrcs()
                for p, m in zip(ps[:3], marks):
                    await p.wait_jingle('source-add', after=m, timeout=15)
                    got = p.remote_sources().get('p4')
                    assert got and got['audio_ssrc'] == mine['audio_ssrc'] and \
                        got['video_ssrc'] == mine['video_ssrc'], (p.nick, got, mine)
                await all_see_all(ps)
                # the owner leaves: everyone else gets source-remove of its sources, and p2
                # becomes the owner
                gone = ps[0].own_ssrcs()
                marks = [p.mark() for p in ps[1:]]
                await ps[0].leave()
                for p, m in zip(ps[1:], marks):
                    j = await p.wait_jingle('source-remove', after=m, timeout=15)
                    ssrcs = {int(x.get('ssrc')) for x in j.iter('{urn:xmpp:jingle:apps:rtp:ssma:0}source')
                             if x.get('ssrc')}
                    assert gone['audio_ssrc'] in ssrcs and gone['video_ssrc'] in ssrcs, (p.nick, ssrcs)
                    assert 'p1' not in p.remote_sources(), p.remote_sources()
                await ps[1].client.expect(lambda st: is_muc_presence(room, 'p2')(st)
                                          and affiliation(st) == 'owner', 10, 'p2 made owner')
                await all_see_all(ps[1:])
                st = f.stats()
                conf = [c for c in st['conference_list'] if c['room'] == room][0]
                assert sorted(x['id'] for x in conf['participants']) == ['p2', 'p3', 'p4'], conf
                assert all(x['session'] == 'active' for x in conf['participants']), conf
                assert b.stats()['endpoints'] == 3
                for p in ps:
                    p.check()
                # everyone leaves: the conference ends on the focus and on the bridge
                for p in ps[1:]:
                    await p.leave()
                await wait_for(lambda: f.stats()['conferences'] == 0, 10, 'conference ended')
                await wait_for(lambda: b.stats()['conferences'] == 0, 10, 'bridge conference expired')
            finally:
                await close_all(ps)


@timeout(150)
async def test_failover_to_another_bridge():
    with server(**xmppd_for_bridge()) as s:
        add_jvb_account(s)
        with bridge(s, bridge_id='jvb-a') as b1, bridge(s, bridge_id='jvb-b') as b2, \
                focus(s, FOCUS_HEALTHCHECK_INTERVAL=2) as f:
            room = 'fail-%s@%s' % (uid(), MUC)
            ps = []
            try:
                ps = await in_call(s, room, ['p1', 'p2', 'p3'])
                conf = f.stats()['conference_list'][0]
                victim, other = (b1, b2) if conf['bridge'].endswith('/' + b1.id) else (b2, b1)
                marks = [p.mark() for p in ps]
                mark = f.mark()
                t0 = time.monotonic()  # the clock starts at the kill, before detection
                victim.proc.send_signal(signal.SIGKILL)
                victim.proc.wait(5)
                victim.proc = None
                await f.await_log('bridge %s left the brewery' % victim.id, timeout=10, since=mark)
                detected = time.monotonic() - t0
                for p, m in zip(ps, marks):
                    await p.wait_jingle('session-terminate', after=m, timeout=10)
                    await p.wait_jingle('session-initiate', after=m, timeout=10)
                for p in ps:
                    await p.wait_session(10, after=0)
                await all_see_all(ps, frames=5, timeout_s=15)
                elapsed = time.monotonic() - t0
                print('bridge presence gone after %.2f s; media again %.2f s after the kill'
                      % (detected, elapsed))
                assert elapsed < 5.0, elapsed
                conf = f.stats()['conference_list'][0]
                assert conf['bridge'].endswith('/' + other.id), conf
                assert f.stats()['conferences_moved'] >= 1
            finally:
                await close_all(ps)


@timeout(150)
async def test_selection_least_stressed_and_not_draining():
    with server(**xmppd_for_bridge()) as s:
        add_jvb_account(s)
        with bridge(s, bridge_id='jvb-a', BRIDGE_CAPACITY_PPS=1000) as ba, \
                bridge(s, bridge_id='jvb-b', BRIDGE_CAPACITY_PPS=1000) as bb, focus(s) as f:
            ps = []
            try:
                # equal stress (idle): the first conference goes to jvb-a (ties by name)
                r1 = 'sel1-%s@%s' % (uid(), MUC)
                ps += await participants(s, r1, ['a1', 'a2'])
                for p in ps:
                    await p.wait_session(20)
                await all_see_all(ps)
                assert f.stats()['conference_list'][0]['bridge'].endswith('/jvb-a')
                # its media makes jvb-a stressed; the focus learns it from the brewery
                await wait_for(lambda: any(x['id'] == 'jvb-a' and x['stress'] > 0.05
                                           for x in f.stats()['bridges']), 15, 'jvb-a stressed')
                r2 = 'sel2-%s@%s' % (uid(), MUC)
                q = await participants(s, r2, ['b1', 'b2'])
                ps += q
                for p in q:
                    await p.wait_session(20)
                rooms = {c['room']: c['bridge'] for c in f.stats()['conference_list']}
                assert rooms[r2].endswith('/jvb-b'), rooms
                # jvb-b drains: a new conference goes to the stressed jvb-a, not to jvb-b
                assert bb.http('/colibri/drain/enable', method='POST')[0] == 200
                await wait_for(lambda: any(x['id'] == 'jvb-b' and x['drain']
                                           for x in f.stats()['bridges']), 10, 'jvb-b draining')
                r3 = 'sel3-%s@%s' % (uid(), MUC)
                q = await participants(s, r3, ['c1', 'c2'])
                ps += q
                for p in q:
                    await p.wait_session(20)
                rooms = {c['room']: c['bridge'] for c in f.stats()['conference_list']}
                assert rooms[r3].endswith('/jvb-a'), rooms
                assert rooms[r2].endswith('/jvb-b'), 'a conference stays on its draining bridge'
            finally:
                await close_all(ps)


async def scripted_recorder(s, status='idle', health='healthy'):
    """A recorder stand-in: recorder@HIDDEN in jibribrewery with a jibri-status."""
    jid = 'recorder-%s@%s' % (uid()[:6], s.hidden_domain)
    s.adduser(jid, 'rec-pw')
    c = await login(s, jid, 'rec-pw', resource='r')
    nick = 'rec-' + uid()[:6]
    await muc_join(c, 'jibribrewery@internal-muc.meet.parley', nick, extra=(
        "<jibri-status xmlns='%s'><busy-status xmlns='%s' status='%s'/>"
        "<health-status xmlns='http://jitsi.org/protocol/health' status='%s'/></jibri-status>"
        % (NS_JIBRI, NS_JIBRI, status, health)))
    return c, nick


def jibri_iq(room, action, id=None):
    return ("<iq type='set' id='%s' to='%s/focus'><jibri xmlns='%s' action='%s' "
            "recording_mode='file'/></iq>" % (id or uid(), room, NS_JIBRI, action))


@timeout(120)
async def test_recording_relay_with_a_scripted_recorder():
    with server(**xmppd_for_bridge()) as s:
        add_jvb_account(s)
        with bridge(s) as b, focus(s) as f:
            room = 'rec-%s@%s' % (uid(), MUC)
            ps = []
            rec = None
            try:
                ps = await participants(s, room, ['mod', 'guest'])
                mod, guest = ps
                # no recorder yet: service-unavailable
                r = await mod.client.iq(jibri_iq(room, 'start'))
                assert_error(r, 'service-unavailable')
                rec, nick = await scripted_recorder(s)
                await wait_for(lambda: f.stats()['recorder_count'] == 1, 10, 'recorder known')
                # a non-moderator may not
                r = await guest.client.iq(jibri_iq(room, 'start'))
                assert_error(r, 'not-allowed')
                # the moderator starts: the recorder gets start with a session and the room
                req_id = uid()
                mod.client.send_raw(jibri_iq(room, 'start', req_id))
                start = await rec.expect(lambda st: st.xml.find('{%s}jibri' % NS_JIBRI) is not None
                                         and st.xml.get('type') == 'set', 10, 'start at the recorder')
                j = start.xml.find('{%s}jibri' % NS_JIBRI)
                assert j.get('action') == 'start' and j.get('room') == room, ET.tostring(start.xml)
                sid = j.get('session_id')
                assert sid
                rec.send_raw("<iq type='result' id='%s' to='%s'><jibri xmlns='%s' status='pending'/></iq>"
                             % (start.xml.get('id'), start.xml.get('from'), NS_JIBRI))
                answer = await mod.client.expect(lambda st: st.xml.get('id') == req_id, 10,
                                                 'the answer to start')
                assert answer.xml.get('type') == 'result', answer
                assert answer.xml.find('{%s}jibri' % NS_JIBRI).get('session_id') == sid
                # already recording
                r = await mod.client.iq(jibri_iq(room, 'start'))
                assert_error(r, 'unexpected-request')
                # the recorder reports on: the room sees it in the focus's presence
                r = await rec.iq("<iq type='set' id='%s' to='%s'><jibri xmlns='%s' status='on' "
                                 "session_id='%s'/></iq>" % (uid(), start.xml.get('from'), NS_JIBRI, sid))
                assert r.xml.get('type') == 'result', r

                def rec_status(want):
                    def pred(st):
                        if not is_muc_presence(room, 'focus')(st):
                            return False
                        e = st.xml.find('{%s}jibri-recording-status' % NS_JIBRI)
                        return e is not None and e.get('status') == want
                    return pred
                await guest.client.expect(rec_status('on'), 10, 'recording on in the room')
                # stop: the recorder gets stop, the room sees off
                r = await mod.client.iq(jibri_iq(room, 'stop'))
                assert r.xml.get('type') == 'result', r
                stop = await rec.expect(lambda st: st.xml.find('{%s}jibri' % NS_JIBRI) is not None
                                        and st.xml.get('type') == 'set', 10, 'stop at the recorder')
                assert stop.xml.find('{%s}jibri' % NS_JIBRI).get('action') == 'stop'
                await guest.client.expect(rec_status('off'), 10, 'recording off in the room')
                # a busy recorder: resource-constraint
                rec.send_raw("<presence to='jibribrewery@internal-muc.meet.parley/%s'><jibri-status "
                             "xmlns='%s'><busy-status xmlns='%s' status='busy'/></jibri-status></presence>"
                             % (nick, NS_JIBRI, NS_JIBRI))
                # its own presence coming back means the focus (also an occupant) got it first
                await rec.expect(lambda st: is_muc_presence('jibribrewery@internal-muc.meet.parley',
                                                            nick)(st) and 'busy' in str(st), 10,
                                 'the busy presence reflected')
                r = await mod.client.iq(jibri_iq(room, 'start'))
                assert_error(r, 'resource-constraint')
            finally:
                if rec:
                    await rec.close()
                await close_all(ps)


def err_cond(st):
    e = st.xml.find('{jabber:client}error')
    if e is None:
        return None
    for c in e:
        if c.tag.startswith('{%s}' % NS_STANZAS) and not c.tag.endswith('}text'):
            return c.tag.split('}')[1]
    return None


async def media_goes_on(ps, more=10, timeout_s=15):
    """Every participant decodes `more` further frames from every other."""
    base = {(p.nick, q.nick): (p.audio_frames_from(q.nick), p.video_frames_from(q.nick))
            for p in ps for q in ps if p is not q}

    def ok():
        return all(p.audio_frames_from(q.nick) >= base[(p.nick, q.nick)][0] + more
                   and p.video_frames_from(q.nick) >= base[(p.nick, q.nick)][1] + more
                   for p in ps for q in ps if p is not q)
    await wait_for(ok, timeout_s, 'media going on')


@timeout(150)
async def test_bad_input_gets_errors_and_the_conference_goes_on():
    with server(**xmppd_for_bridge()) as s:
        add_jvb_account(s)
        with bridge(s) as b, focus(s) as f:
            room = 'bad-%s@%s' % (uid(), MUC)
            ps = []
            try:
                ps = await in_call(s, room, ['p1', 'p2', 'p3'])
                p1, p2, p3 = ps
                c = p3.client
                # malformed conference requests
                for body, why in [
                    ("<conference xmlns='http://jitsi.org/protocol/focus'/>", 'no room'),
                    ("<conference xmlns='http://jitsi.org/protocol/focus' room='r@example.com'/>",
                     'another domain'),
                    ("<conference xmlns='http://jitsi.org/protocol/focus' room='a/b@%s'/>" % MUC,
                     'not a bare JID'),
                ]:
                    r = await c.iq("<iq type='set' id='%s' to='focus.meet.parley'>%s</iq>" % (uid(), body))
                    assert r.xml.get('type') == 'error' and err_cond(r) == 'bad-request', (why, r)
                r = await c.iq("<iq type='get' id='%s' to='focus.meet.parley'><conference "
                               "xmlns='http://jitsi.org/protocol/focus' room='%s'/></iq>" % (uid(), room))
                assert err_cond(r) == 'bad-request', r
                sid3 = p3.session.sid
                mine = p1.own_ssrcs()
                # sources that conflict with another participant's
                r = await p3.send_jingle(jingle_source_add_xml(sid3, 'p3', audio_ssrc=mine['audio_ssrc']))
                assert err_cond(r) == 'bad-request', r
                # too many sources
                many = "".join("<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='%d' name='p3-v%d'/>"
                               % (900000 + i, i) for i in range(25))
                r = await p3.send_jingle("<jingle xmlns='%s' action='source-add' sid='%s'><content "
                                         "name='video'><description xmlns='urn:xmpp:jingle:apps:rtp:1' "
                                         "media='video'>%s</description></content></jingle>"
                                         % (NS_JINGLE, sid3, many))
                assert err_cond(r) in ('bad-request', 'resource-constraint'), r
                # a session-accept for a session that does not exist; another occupant's sid
                for sid in ('no-such-sid', p1.session.sid):
                    r = await p3.send_jingle("<jingle xmlns='%s' action='session-accept' sid='%s'/>"
                                             % (NS_JINGLE, sid))
                    assert err_cond(r) == 'item-not-found', r
                # claiming to be p1 from another connection: xmppd cuts the liar off (RFC
                # 6120 invalid-from) and nothing reaches the focus
                liar = await login(s, 'meet.parley')
                liar.send_raw("<iq type='set' id='%s' from='%s/p1' to='%s/focus'><jingle xmlns='%s' "
                              "action='source-remove' sid='%s'/></iq>"
                              % (uid(), room, room, NS_JINGLE, p1.session.sid))
                assert await liar.expect_stream_error(10) == 'invalid-from'
                await liar.close()
                # no sid, unknown action
                r = await p3.send_jingle("<jingle xmlns='%s' action='source-add'/>" % NS_JINGLE)
                assert err_cond(r) == 'bad-request', r
                r = await p3.send_jingle("<jingle xmlns='%s' action='content-add' sid='%s'/>"
                                         % (NS_JINGLE, sid3))
                assert err_cond(r) == 'feature-not-implemented', r
                # from someone who is not in the room at all
                out = await login(s, 'meet.parley')
                r = await out.iq("<iq type='set' id='%s' to='%s/focus'><jingle xmlns='%s' "
                                 "action='session-accept' sid='%s'/></iq>" % (uid(), room, NS_JINGLE, sid3))
                assert r.xml.get('type') == 'error', r
                await out.close()
                # a screen share: a valid source-add reaches the others (and the bridge),
                # its source-remove too
                share = 777000 + int(uid()[:4], 16)
                marks = [p.mark() for p in (p1, p2)]
                r = await p3.send_jingle(jingle_source_add_xml(
                    sid3, 'p3', video_ssrc=share, names={'video': 'p3-v1'}, video_type='desktop'))
                assert r.xml.get('type') == 'result', r

                def has_share(j):
                    return any(x.get('ssrc') == str(share) and x.get('name') == 'p3-v1'
                               for x in j.iter('{urn:xmpp:jingle:apps:rtp:ssma:0}source'))
                for p, m in zip((p1, p2), marks):
                    await p.wait_jingle('source-add', after=m, timeout=10, pred=has_share)
                marks = [p.mark() for p in (p1, p2)]
                r = await p3.send_jingle(jingle_source_add_xml(
                    sid3, 'p3', video_ssrc=share, names={'video': 'p3-v1'}, action='source-remove'))
                assert r.xml.get('type') == 'result', r
                for p, m in zip((p1, p2), marks):
                    await p.wait_jingle('source-remove', after=m, timeout=10, pred=has_share)
                await media_goes_on(ps)
                assert 'p1' in p2.remote_sources() and f.stats()['bad_jingle'] >= 5
                for p in ps:
                    p.check()
            finally:
                await close_all(ps)


@timeout(120)
async def test_mute_restart_lone_participant_and_http():
    with server(**xmppd_for_bridge()) as s:
        add_jvb_account(s)
        with bridge(s) as b, focus(s, FOCUS_SINGLE_PARTICIPANT_TIMEOUT=1) as f:
            room = 'mute-%s@%s' % (uid(), MUC)
            ps = []
            try:
                assert f.http('/about/health')[0] == 200
                status, body = f.http('/about/version')
                assert status == 200 and b'parley-focus' in body
                status, body = f.http('/metrics')
                assert status == 200 and b'parley_focus_conferences' in body
                ps = await participants(s, room, ['mod', 'guest'])
                mod, guest = ps
                for p in ps:
                    await p.wait_session(20)
                await all_see_all(ps)
                # a moderator mutes the guest: the guest gets the mute with the actor
                r = await mod.client.iq("<iq type='set' id='%s' to='%s/focus'><mute "
                                        "xmlns='http://jitsi.org/jitmeet/audio' jid='%s/guest'>true"
                                        "</mute></iq>" % (uid(), room, room))
                assert r.xml.get('type') == 'result', r
                m = await guest.client.expect(
                    lambda st: st.xml.find('{http://jitsi.org/jitmeet/audio}mute') is not None, 10,
                    'the mute at the guest')
                mu = m.xml.find('{http://jitsi.org/jitmeet/audio}mute')
                assert mu.text == 'true' and mu.get('actor') == '%s/mod' % room, m
                # the guest may not mute the moderator
                r = await guest.client.iq("<iq type='set' id='%s' to='%s/focus'><mute "
                                          "xmlns='http://jitsi.org/jitmeet/video' jid='%s/mod'>true"
                                          "</mute></iq>" % (uid(), room, room))
                assert err_cond(r) == 'not-allowed', r
                # session-terminate with restart: a new session follows
                mark = guest.mark()
                await guest.terminate(restart=True)
                await guest.wait_jingle('session-initiate', after=mark, timeout=10)
                await guest.wait_session(10, after=mark)
                await all_see_all(ps, frames=5)
                # the guest leaves: the moderator is alone and loses its session
                mark = mod.mark()
                await guest.leave()
                await mod.wait_jingle('session-terminate', after=mark, timeout=10)
                await wait_for(lambda: b.stats()['endpoints'] == 0, 10, 'endpoints expired')
                # without a bridge the focus is not healthy
                b.stop()
                await wait_for(lambda: f.http('/about/health')[0] == 503, 10, 'health 503')
                assert b'no usable bridge' in f.http('/about/health')[1]
            finally:
                await close_all(ps)


@timeout(120)
async def test_focus_reconnects_when_xmppd_restarts():
    with server(**xmppd_for_bridge()) as s:
        add_jvb_account(s)
        with bridge(s) as b, focus(s) as f:
            # a call is running when xmppd goes away: its participants are gone with it,
            # so after the rejoin the conference ends (no ghosts)
            ps = await participants(s, 'before-%s@%s' % (uid(), MUC), ['g1', 'g2'])
            for p in ps:
                await p.wait_session(20)
            mark = f.mark()
            s.restart()
            await close_all(ps)
            await f.await_log('focus joined the bridge brewery', timeout=30, since=mark)
            await wait_for(lambda: f.stats()['conferences'] == 0, 15, 'the old conference ended')
            await b.await_log('joined the brewery', timeout=30, since=b.mark() - 1)
            await wait_for(lambda: f.http('/about/health')[0] == 200, 30, 'focus healthy again')
            room = 'again-%s@%s' % (uid(), MUC)
            ps = []
            try:
                ps = await in_call(s, room, ['x1', 'x2'])
            finally:
                await close_all(ps)


@timeout(150)
async def test_failover_when_healthchecks_fail():
    """A bridge that stays in the brewery but stops answering (SIGSTOP) fails two
    healthchecks and its conference moves to the other bridge."""
    with server(**xmppd_for_bridge()) as s:
        add_jvb_account(s)
        with bridge(s, bridge_id='jvb-a') as b1, bridge(s, bridge_id='jvb-b') as b2, \
                focus(s, FOCUS_HEALTHCHECK_INTERVAL=1, FOCUS_IQ_TIMEOUT_MS=800) as f:
            room = 'hc-%s@%s' % (uid(), MUC)
            ps = []
            stopped = None
            try:
                ps = await in_call(s, room, ['p1', 'p2'])
                conf = f.stats()['conference_list'][0]
                stopped, other = (b1, b2) if conf['bridge'].endswith('/jvb-a') else (b2, b1)
                marks = [p.mark() for p in ps]
                mark = f.mark()
                stopped.proc.send_signal(signal.SIGSTOP)
                await f.await_log('failed two healthchecks', timeout=15, since=mark)
                t0 = time.monotonic()
                for p, m in zip(ps, marks):
                    await p.wait_jingle('session-initiate', after=m, timeout=10)
                for p in ps:
                    await p.wait_session(10, after=0)
                await all_see_all(ps, frames=5, timeout_s=15)
                elapsed = time.monotonic() - t0
                print('media again %.2f s after the second failed healthcheck' % elapsed)
                assert elapsed < 5.0, elapsed
                assert f.stats()['conference_list'][0]['bridge'].endswith('/' + other.id)
            finally:
                if stopped is not None and stopped.proc is not None:
                    stopped.proc.send_signal(signal.SIGCONT)
                await close_all(ps)


async def silent_participant(s, room, nick):
    """Joins like a client but never answers Jingle (a UDP-blocked user's browser)."""
    c = await login(s, 'meet.parley')
    r = await c.iq("<iq type='set' id='%s' to='focus.meet.parley'><conference "
                   "xmlns='http://jitsi.org/protocol/focus' room='%s'/></iq>" % (uid(), room))
    assert r.xml.get('type') == 'result', r
    await muc_join(c, room, nick)
    return c


@timeout(120)
async def test_idle_expiry_on_the_bridge_is_not_a_bridge_failure():
    with server(**xmppd_for_bridge()) as s:
        add_jvb_account(s)
        with bridge(s, BRIDGE_EXPIRE_SECONDS=2) as b, focus(s) as f:
            ps = []
            quiet = []
            try:
                good = 'good-%s@%s' % (uid(), MUC)
                ps = await in_call(s, good, ['p1', 'p2'])
                idle = 'idle-%s@%s' % (uid(), MUC)
                quiet = [await silent_participant(s, idle, n) for n in ('q1', 'q2')]
                await b.await_log('endpoint expired (idle)', timeout=15)
                mark = f.mark()
                await muc_leave_quiet(quiet.pop(0), idle, 'q1')
                await f.await_log('q1 left', timeout=10, since=mark)
                await media_goes_on(ps)
                st = f.stats()
                assert st['bridges_failed'] == 0, st
                assert all(x['operational'] for x in st['bridges']), st['bridges']
                rooms = {c['room']: c['bridge'] for c in st['conference_list']}
                assert rooms[good].endswith('/' + b.id), rooms
            finally:
                for c in quiet:
                    await c.close()
                await close_all(ps)


async def muc_leave_quiet(c, room, nick):
    c.send_raw("<presence to='%s/%s' type='unavailable'/>" % (room, nick))
    await c.close()


@timeout(120)
async def test_nicks_that_are_not_endpoint_ids():
    """Two nicks that sanitize to the same Colibri2 endpoint id, and a third
    participant: everyone gets a session and media."""
    with server(**xmppd_for_bridge()) as s:
        add_jvb_account(s)
        with bridge(s) as b, focus(s) as f:
            room = 'nicks-%s@%s' % (uid(), MUC)
            ps = []
            try:
                ps = await in_call(s, room, ['ab_', 'ab!', 'c3'], frames=5)
                ids = sorted(x['id'] for x in f.stats()['conference_list'][0]['participants'])
                assert len(set(ids)) == 3, ids
            finally:
                await close_all(ps)


if __name__ == '__main__':
    main(globals())
