#!/usr/bin/python3
"""Server IQs (disco#info, disco#items, ping, version) and IQ routing between
clients (RFC 6120 8.2, RFC 6121 8.5)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (assert_error, clients, error_condition, is_iq, login, main, server,  # noqa: E402
                     uid)

PW = 'pw-iq'


async def setup(s, *names, **kw):
    cs = []
    for n in names:
        s.adduser(s.jid(n), PW)
    for n in names:
        cs.append(await login(s, s.jid(n), PW, resource='r', presence=True, **kw))
    return cs


async def test_disco_info_and_items():
    with server() as s:
        async with clients() as cs:
            cs += await setup(s, 'alice')
            a = cs[0]
            res = await a.iq("<iq type='get' id='d1' to='%s'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>"
                             % s.domain, expect_type='result')
            assert res.xml.get('from') == s.domain, res
            q = res.xml.find('{http://jabber.org/protocol/disco#info}query')
            assert q is not None, res
            ids = [(i.get('category'), i.get('type')) for i in q.findall('{http://jabber.org/protocol/disco#info}identity')]
            assert ('server', 'im') in ids, 'identity server/im missing: %s' % ids
            feats = {f.get('var') for f in q.findall('{http://jabber.org/protocol/disco#info}feature')}
            for f in ('urn:xmpp:ping', 'jabber:iq:version', 'jabber:iq:roster',
                      'http://jabber.org/protocol/disco#info', 'http://jabber.org/protocol/disco#items'):
                assert f in feats, 'feature %s missing: %s' % (f, sorted(feats))
            # without a 'to' the IQ goes to the account; to the bare domain of another vhost works too
            res = await a.iq("<iq type='get' id='d2' to='%s'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>"
                             % s.domain, expect_type='result')
            q = res.xml.find('{http://jabber.org/protocol/disco#items}query')
            assert q is not None, 'disco#items result without a query: %s' % res
            for item in q.findall('{http://jabber.org/protocol/disco#items}item'):
                assert item.get('jid'), 'disco#items item without a jid: %s' % res
            # also through slixmpp's plugin
            info = await a.xmpp['xep_0030'].get_info(jid=s.domain, timeout=5)
            assert 'urn:xmpp:ping' in info['disco_info']['features'], info


async def test_ping_server_and_bare_jid():
    with server() as s:
        async with clients() as cs:
            cs += await setup(s, 'alice', 'bob')
            a, b = cs
            res = await a.ping(s.domain)
            assert res.xml.get('from') == s.domain, res
            assert len(res.xml) == 0, 'ping result must be empty: %s' % res
            # no 'to': the account itself (the server answers for it)
            await a.ping()
            # bare JID of the sender and of another account: the server answers on their behalf
            res = await a.ping(a.bare)
            assert res.xml.get('from') in (a.bare, None), res
            res = await a.ping(b.bare)
            assert res.xml.get('from') == b.bare, 'ping to a bare JID answered from %s' % res.xml.get('from')
            b.assert_none(is_iq('get', ns='urn:xmpp:ping'), 'a ping to the bare JID delivered to the client')
            # slixmpp's plugin
            await a.xmpp['xep_0199'].ping(s.domain, timeout=5)


async def test_version():
    with server() as s:
        async with clients() as cs:
            cs += await setup(s, 'alice')
            a = cs[0]
            res = await a.iq("<iq type='get' id='v1' to='%s'><query xmlns='jabber:iq:version'/></iq>" % s.domain,
                             expect_type='result')
            q = res.xml.find('{jabber:iq:version}query')
            assert q is not None, res
            name = q.findtext('{jabber:iq:version}name')
            version = q.findtext('{jabber:iq:version}version')
            assert name == 'parley xmppd', 'version name %r' % name
            assert version and version.strip(), 'empty version: %s' % res


async def test_unknown_namespace_errors():
    with server() as s:
        async with clients() as cs:
            cs += await setup(s, 'alice', 'bob')
            a, b = cs
            for to in (s.domain, None, b.bare):
                for typ in ('get', 'set'):
                    iq_id = uid()
                    to_attr = " to='%s'" % to if to else ''
                    res = await a.iq("<iq type='%s' id='%s'%s><query xmlns='urn:example:unknown'/></iq>"
                                     % (typ, iq_id, to_attr), expect_type='error')
                    assert_error(res, 'service-unavailable', 'cancel')
                    # the original payload may be included; the id must match
                    assert res.xml.get('id') == iq_id
            b.assert_none(is_iq(ns='urn:example:unknown'), 'an IQ to the bare JID was delivered to a resource')
            # a set of a known get-only namespace is not a success
            res = await a.iq("<iq type='set' id='vset' to='%s'><query xmlns='jabber:iq:version'/></iq>" % s.domain)
            assert res.xml.get('type') == 'error', 'iq set of jabber:iq:version succeeded: %s' % res


async def test_iq_routing_between_clients():
    with server() as s:
        async with clients() as cs:
            cs += await setup(s, 'alice', 'bob')
            a, b = cs
            a.send_raw("<iq type='get' id='q1' to='%s'><query xmlns='urn:example:custom'><x>1</x></query></iq>" % b.jid)
            got = await b.expect(is_iq('get', 'q1', ns='urn:example:custom'), 5, 'the routed iq')
            assert got.xml.get('from') == a.jid, 'routed iq from %s, expected %s' % (got.xml.get('from'), a.jid)
            b.send_raw("<iq type='result' id='q1' to='%s'><query xmlns='urn:example:custom'><y>2</y></query></iq>" % a.jid)
            res = await a.expect(is_iq('result', 'q1'), 5, 'the result')
            assert res.xml.get('from') == b.jid, res
            assert res.xml.find('{urn:example:custom}query/{urn:example:custom}y') is not None, res
            # errors route back too
            a.send_raw("<iq type='set' id='q2' to='%s'><query xmlns='urn:example:custom'/></iq>" % b.jid)
            await b.expect(is_iq('set', 'q2'), 5, 'the routed set')
            b.send_raw("<iq type='error' id='q2' to='%s'><query xmlns='urn:example:custom'/><error type='cancel'>"
                       "<feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>" % a.jid)
            res = await a.expect(is_iq('error', 'q2'), 5, 'the routed error')
            assert error_condition(res) == ('cancel', 'feature-not-implemented'), res
            # slixmpp answers pings addressed to its full JID
            res = await a.ping(b.jid)
            assert res.xml.get('from') == b.jid, res


async def test_iq_to_offline_full_jid():
    with server() as s:
        async with clients() as cs:
            cs += await setup(s, 'alice', 'bob')
            a, b = cs
            gone = b.jid
            await b.close()
            for to in (gone, s.jid('bob') + '/never', s.jid('nobody') + '/x'):
                for typ in ('get', 'set'):
                    res = await a.iq("<iq type='%s' id='%s' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>"
                                     % (typ, uid(), to), expect_type='error')
                    assert_error(res, 'service-unavailable')
                    assert res.xml.get('from') == to, 'error from %s for an iq to %s' % (res.xml.get('from'), to)
            # a result/error to an offline full JID is dropped silently (no error loop)
            a.send_raw("<iq type='result' id='late' to='%s'/>" % gone)
            await a.ping()
            a.assert_none(lambda st: st.xml.get('id') == 'late', 'an answer to an iq result')


async def test_iq_from_anonymous_and_service_domain():
    with server() as s:
        s.adduser('jvb@' + s.auth_domain, PW)
        async with clients() as cs:
            anon = await login(s, s.domain, None, presence=True)
            jvb = await login(s, 'jvb@' + s.auth_domain, PW, resource='bridge1', presence=True)
            cs += [anon, jvb]
            # the focus/bridge pattern: IQs between accounts on different vhosts
            anon.send_raw("<iq type='get' id='x1' to='%s'><stats xmlns='urn:example:stats'/></iq>" % jvb.jid)
            got = await jvb.expect(is_iq('get', 'x1'), 5, 'the cross-domain iq')
            assert got.xml.get('from') == anon.jid
            jvb.send_raw("<iq type='result' id='x1' to='%s'/>" % anon.jid)
            await anon.expect(is_iq('result', 'x1', frm=jvb.jid), 5, 'the result')
            await jvb.ping(s.auth_domain)


if __name__ == '__main__':
    main(globals())
