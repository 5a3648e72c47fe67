"""A conference participant that talks Jingle with parley's focus, like lib-jitsi-meet.

Two layers:

1. Pure conversion (ElementTree in/out, SDP text in/out, no network):

    session = JingleSession(session_initiate_jingle, 'abcd1234')
    offer = session.offer()                      # unified-plan SDP offer for aiortc
    answer = await peer.answer(offer)            # rtc_peer.Peer
    accept = jingle_accept_from_sdp(answer, session.sid, 'abcd1234',
                                    'room@muc.meet.parley/abcd1234', session.initiator)
    session.apply_source_add(source_add_jingle)  # later: re-offer with session.offer()
    session.apply_source_remove(source_remove_jingle)

   sdp_offer_from_jingle(jingle, own_endpoint_id, remote_sources=None) is the one-shot form.

   Offer layout (every m-line in one BUNDLE group, the bridge's transport on each):
     mid 0  audio sendrecv  this participant's audio; the bridge's jvb-a0 feedback source
     mid 1  video sendrecv  this participant's video; the bridge's jvb-v0 feedback source
     mid 2.. one sendonly m-line per remote source, allocated in order of appearance: a
            new remote endpoint gets an audio and a video m-line (the one without a
            source yet is 'inactive' until a source-add fills it). msid 'EP-a0 EP-a0' /
            'EP-v0 EP-v0' (EP = ssrc-info owner) so rtc_peer maps mid -> endpoint; FID
            groups become a=ssrc-group:FID (primary first, as aiortc wants).
   An m-line is never removed nor re-targeted: a removed source turns its m-line
   'inactive' for good, and a source that comes back (a rejoin, a new SSRC) gets a new
   m-line, because aiortc binds a receiver to its SSRCs only once.
   Codecs and header-extension ids are the focus's (from the session-initiate); the
   sdes:mid extension is left out (a forwarding bridge would deliver packets carrying the
   *sender's* mid, which the receiver would misroute) - pass keep_mid_ext=True to keep it.
   A 'data' content (SCTP) is not offered: aiortc would need the data channel set up and
   parley's bridge has no SCTP yet; the bridge channel URL is kept in transport['websocket'].

2. JingleParticipant: a harness.Client + rtc_peer.Peer that sends the conference IQ,
   joins the room, acks every Jingle IQ from ROOM/focus and acts on it (session-initiate
   -> session-accept, source-add/-remove -> renegotiation, session-terminate -> media
   closed, a later session-initiate -> a fresh Peer).

    p = await JingleParticipant.anonymous(server, name='alice')
    await p.join('room1', 'alice0001')
    await p.wait_session(20)                      # session-accept answered with a result
    await p.wait_connected(20)
    await p.wait_media_from('bob00002', 20)
    m = p.mark(); ... ; await p.wait_jingle('source-remove', after=m)
    await p.leave(); await p.close()

Run with /usr/bin/python3 (Debian's slixmpp 1.8, aiortc 1.4).
"""

import asyncio
import json
import logging
import re
import secrets
import time
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape as xml_escape, quoteattr

try:  # sibling modules, imported as files or from the package
    import colibri_sdp as _cs
    import harness as _h
    import rtc_peer as _rp
except ImportError:  # pragma: no cover
    from . import colibri_sdp as _cs
    from . import harness as _h
    from . import rtc_peer as _rp

NS_JINGLE = 'urn:xmpp:jingle:1'
NS_RTP = 'urn:xmpp:jingle:apps:rtp:1'
NS_RTCP_FB = 'urn:xmpp:jingle:apps:rtp:rtcp-fb:0'
NS_HDREXT = 'urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'
NS_ICE_UDP = 'urn:xmpp:jingle:transports:ice-udp:1'
NS_DTLS = 'urn:xmpp:jingle:apps:dtls:0'
NS_SSMA = 'urn:xmpp:jingle:apps:rtp:ssma:0'
NS_GROUPING = 'urn:xmpp:jingle:apps:grouping:0'
NS_JITMEET = 'http://jitsi.org/jitmeet'
NS_FOCUS = 'http://jitsi.org/protocol/focus'
NS_COLIBRI = 'http://jitsi.org/protocol/colibri'
NS_MUC = 'http://jabber.org/protocol/muc'

URI_SDES_MID = 'urn:ietf:params:rtp-hdrext:sdes:mid'
KINDS = ('audio', 'video')
JVB_OWNER = 'jvb'
FOCUS_JID = 'focus.meet.parley'
MUC_DOMAIN = 'muc.meet.parley'

# disco#info features a participant advertises (lib-jitsi-meet's list, minus the ones
# this client cannot do: SCTP data channels, JSON-encoded sources, ssrc-rewriting...)
CLIENT_FEATURES = (
    'urn:xmpp:jingle:1', 'urn:xmpp:jingle:apps:rtp:1', 'urn:xmpp:jingle:transports:ice-udp:1',
    'urn:xmpp:jingle:apps:dtls:0', 'urn:xmpp:jingle:apps:rtp:audio', 'urn:xmpp:jingle:apps:rtp:video',
    'urn:ietf:rfc:4588', 'http://jitsi.org/remb', 'http://jitsi.org/source-name',
    'http://jitsi.org/receive-multiple-video-streams',
)

log = logging.getLogger('jingle_peer')

_NAME_SUFFIX = re.compile(r'^(.*)-([av])(\d+)$')


def _q(ns, tag):
    return '{%s}%s' % (ns, tag)


def _local(tag):
    return tag.rsplit('}', 1)[-1]


def jingle_of(elem):
    """The <jingle/> element of an <iq> (Element or slixmpp stanza), or elem itself."""
    elem = getattr(elem, 'xml', elem)
    if elem.tag == _q(NS_JINGLE, 'jingle'):
        return elem
    j = elem.find(_q(NS_JINGLE, 'jingle'))
    if j is None:
        raise ValueError('no <jingle xmlns=%r> in %s' % (NS_JINGLE, elem.tag))
    return j


# ---------------------------------------------------------------- reading Jingle

def _owner_of(src, name):
    """Endpoint id of a <source>: <ssrc-info owner> (a full occupant JID counts by its
    resource), else the name's prefix ('EP-v0' -> 'EP'), else None."""
    info = src.find(_q(NS_JITMEET, 'ssrc-info'))
    owner = info.get('owner') if info is not None else None
    if owner:
        return owner.rsplit('/', 1)[-1] if '/' in owner else owner
    m = _NAME_SUFFIX.match(name or '')
    return m.group(1) if m else None


def _kind_of_content(content):
    desc = content.find(_q(NS_RTP, 'description'))
    kind = desc.get('media') if desc is not None else None
    return kind or content.get('name')


def sources_from_jingle(jingle_elem):
    """([source dict], [(semantics, [ssrc])]) from a session-initiate / source-add /
    source-remove: XML <source>/<ssrc-group> in the descriptions, plus a <json-message>
    (jitsi-protocol.md §3.3) if there is one. Source dict: kind, ssrc (int), name, owner,
    msid, video_type."""
    j = jingle_of(jingle_elem)
    sources, groups = [], []
    for content in j.findall(_q(NS_JINGLE, 'content')):
        kind = _kind_of_content(content)
        desc = content.find(_q(NS_RTP, 'description'))
        if desc is None or kind not in KINDS:
            continue
        for src in desc.findall(_q(NS_SSMA, 'source')):
            if src.get('ssrc') is None:
                continue
            name = src.get('name')
            msid = None
            for p in src.findall(_q(NS_SSMA, 'parameter')) + src.findall(_q(NS_RTP, 'parameter')):
                if p.get('name') == 'msid':
                    msid = p.get('value')
            sources.append({'kind': kind, 'ssrc': int(src.get('ssrc')), 'name': name,
                            'owner': _owner_of(src, name), 'msid': msid,
                            'video_type': src.get('videoType')})
        for g in desc.findall(_q(NS_SSMA, 'ssrc-group')):
            ssrcs = [int(s.get('ssrc')) for s in g.findall(_q(NS_SSMA, 'source')) if s.get('ssrc')]
            groups.append((g.get('semantics'), ssrcs))
    jm = j.find(_q(NS_JITMEET, 'json-message'))
    if jm is not None and (jm.text or '').strip():
        data = json.loads(jm.text).get('sources', {})
        for owner, lists in data.items():
            lists = list(lists) + [[]] * (4 - len(lists))
            for kind, srcs, grps in (('video', lists[0], lists[1]), ('audio', lists[2], lists[3])):
                for s in srcs or []:
                    sources.append({'kind': kind, 'ssrc': int(s['s']), 'name': s.get('n'),
                                    'owner': owner.rsplit('/', 1)[-1], 'msid': s.get('m'),
                                    'video_type': ('desktop' if s.get('v') == 'd' else
                                                   'camera' if kind == 'video' else None)})
                for g in grps or []:
                    sem = {'f': 'FID', 's': 'SIM'}.get(g[0], g[0])
                    groups.append((sem, [int(x) for x in g[1:]]))
    return sources, groups


def transport_from_jingle(jingle_elem):
    """dict(ufrag, pwd, fingerprint, hash, setup, candidates=[dict], rtcp_mux, websocket)
    from the first content's ice-udp transport. ValueError when something a client
    needs (ufrag, pwd, fingerprint) is missing."""
    j = jingle_of(jingle_elem)
    ice = None
    for content in j.findall(_q(NS_JINGLE, 'content')):
        ice = content.find(_q(NS_ICE_UDP, 'transport'))
        if ice is not None:
            break
    if ice is None:
        raise ValueError('session-initiate has no ice-udp transport')
    fp = ice.find(_q(NS_DTLS, 'fingerprint'))
    if fp is None or not (fp.text or '').strip():
        raise ValueError('session-initiate transport has no DTLS fingerprint')
    if not ice.get('ufrag') or not ice.get('pwd'):
        raise ValueError('session-initiate transport has no ufrag/pwd')
    ws = ice.find(_q(NS_COLIBRI, 'web-socket'))
    return {
        'ufrag': ice.get('ufrag'), 'pwd': ice.get('pwd'),
        'fingerprint': fp.text.strip(), 'hash': fp.get('hash', 'sha-256'),
        'setup': fp.get('setup', 'actpass'),
        'rtcp_mux': ice.find(_q(NS_ICE_UDP, 'rtcp-mux')) is not None,
        'candidates': [dict(c.attrib) for c in ice.findall(_q(NS_ICE_UDP, 'candidate'))],
        'websocket': ws.get('url') if ws is not None else None,
    }


def media_from_jingle(jingle_elem, keep_mid_ext=False):
    """{kind: {'codecs': [{pt, name, clockrate, channels, params, rtcp_fb}], 'hdrexts':
    [(id, uri)]}} from the audio/video descriptions (the shape of colibri_sdp.CODECS)."""
    j = jingle_of(jingle_elem)
    out = {}
    for content in j.findall(_q(NS_JINGLE, 'content')):
        kind = _kind_of_content(content)
        desc = content.find(_q(NS_RTP, 'description'))
        if desc is None or kind not in KINDS or kind in out:
            continue
        codecs = []
        for pt in desc.findall(_q(NS_RTP, 'payload-type')):
            fbs = pt.findall(_q(NS_RTCP_FB, 'rtcp-fb')) + desc.findall(_q(NS_RTCP_FB, 'rtcp-fb'))
            codecs.append({
                'pt': int(pt.get('id')), 'name': pt.get('name'),
                'clockrate': int(pt.get('clockrate') or (48000 if kind == 'audio' else 90000)),
                'channels': int(pt.get('channels')) if pt.get('channels') and pt.get('channels') != '1' else None,
                'params': [(p.get('name'), p.get('value')) for p in pt.findall(_q(NS_RTP, 'parameter'))
                           if p.get('name')],
                'rtcp_fb': [(f.get('type'), f.get('subtype')) for f in fbs],
            })
        hdrexts = [(int(h.get('id')), h.get('uri')) for h in desc.findall(_q(NS_HDREXT, 'rtp-hdrext'))
                   if keep_mid_ext or h.get('uri') != URI_SDES_MID]
        out[kind] = {'codecs': codecs, 'hdrexts': hdrexts}
    return out


def _primary_and_rtx(ssrcs, groups):
    """Primary SSRC and its RTX partner among ssrcs (listed order), given the groups:
    first of a SIM group (simulcast: only the first layer is received), else the first of
    a FID group, else the first listed."""
    sset = set(ssrcs)
    sim = next((g for s, g in groups if s == 'SIM' and g and g[0] in sset), None)
    fid = next((g for s, g in groups if s == 'FID' and len(g) >= 2 and g[0] in sset), None)
    primary = sim[0] if sim else (fid[0] if fid else ssrcs[0])
    rtx = next((g[1] for s, g in groups if s == 'FID' and len(g) >= 2 and g[0] == primary), None)
    return primary, rtx


# ---------------------------------------------------------------- the session

class JingleSession:
    """The remote side of one Jingle session as a participant sees it: the bridge
    transport, the offered codecs, the remote sources (kept up to date by source-add /
    source-remove) and the m-line allocation that keeps mids stable across re-offers.

    Attributes: sid, initiator, transport (transport_from_jingle), media
    (media_from_jingle), bridge_session (dict of <bridge-session> attributes or None),
    bundle (content names of the <group semantics='BUNDLE'>, or None if absent),
    sources ({ssrc: source dict}, the remote ones incl. jvb and - if the focus wrongly
    sends them - this participant's own), groups ([(semantics, [ssrcs])]),
    slots ([slot dict] = the m-lines from mid 2 on), version (offers made)."""

    def __init__(self, jingle_elem, own_endpoint_id, keep_mid_ext=False):
        j = jingle_of(jingle_elem)
        self.own = own_endpoint_id
        self.sid = j.get('sid')
        self.initiator = j.get('initiator')
        self.transport = transport_from_jingle(j)
        self.media = media_from_jingle(j, keep_mid_ext)
        for kind in KINDS:
            if kind not in self.media:
                raise ValueError('session-initiate has no %s content' % kind)
            if not self.media[kind]['codecs']:
                raise ValueError('session-initiate %s content has no payload types' % kind)
        bs = j.find(_q(NS_FOCUS, 'bridge-session'))
        self.bridge_session = dict(bs.attrib) if bs is not None else None
        grp = j.find(_q(NS_GROUPING, 'group'))
        self.bundle = ([c.get('name') for c in grp.findall(_q(NS_GROUPING, 'content'))]
                       if grp is not None and grp.get('semantics') == 'BUNDLE' else None)
        self.sources = {}
        self.groups = []
        self.slots = []
        self.version = 0
        self.session_id = str(int.from_bytes(secrets.token_bytes(6), 'big'))
        self._add(*sources_from_jingle(j))

    # -- source bookkeeping
    def _add(self, sources, groups):
        for s in sources:
            self.sources[s['ssrc']] = s
        for g in groups:
            if g not in self.groups:
                self.groups.append(g)
        self._sync_slots()

    def apply_source_add(self, jingle_elem):
        """Merge the sources and groups of a source-add; returns the added source dicts."""
        sources, groups = sources_from_jingle(jingle_elem)
        self._add(sources, groups)
        return sources

    def apply_source_remove(self, jingle_elem):
        """Drop the SSRCs of a source-remove (matched by SSRC, leniently, like jicofo);
        groups that mention a removed SSRC go too. Returns the removed source dicts."""
        sources, _ = sources_from_jingle(jingle_elem)
        removed = [self.sources.pop(s['ssrc']) for s in sources if s['ssrc'] in self.sources]
        gone = {s['ssrc'] for s in sources}
        self.groups = [(sem, g) for sem, g in self.groups if not (set(g) & gone)]
        self._sync_slots()
        return removed

    def streams(self):
        """[(owner, kind, name, primary ssrc, rtx ssrc or None, msid)]: one per remote
        source (name), in order of appearance, jvb and own sources excluded."""
        by_key = {}
        for s in self.sources.values():
            if s['owner'] in (JVB_OWNER, self.own) or s['owner'] is None:
                continue
            name = s['name'] or '%s-%s0' % (s['owner'], s['kind'][0])
            by_key.setdefault((s['owner'], s['kind'], name), []).append(s)
        out = []
        for (owner, kind, name), srcs in by_key.items():
            primary, rtx = _primary_and_rtx([s['ssrc'] for s in srcs], self.groups)
            msid = self.sources[primary]['msid']
            out.append((owner, kind, name, primary, rtx, msid))
        return out

    def _sync_slots(self):
        streams = self.streams()
        live = {(o, k, n, p) for o, k, n, p, _, _ in streams}
        # retire slots whose source went away (never re-used: aiortc keeps the SSRC binding)
        for slot in self.slots:
            if slot['state'] == 'active' and (slot['owner'], slot['kind'], slot['name'], slot['ssrc']) not in live:
                slot['state'] = 'removed'
        present = {o for o, _, _, _, _, _ in streams}
        for slot in self.slots:
            if slot['state'] == 'empty' and slot['owner'] not in present:
                slot['state'] = 'removed'
        for owner, kind, name, primary, rtx, msid in streams:
            slot = next((s for s in self.slots if s['state'] == 'active' and s['ssrc'] == primary
                         and (s['owner'], s['kind'], s['name']) == (owner, kind, name)), None)
            if slot is not None:
                if slot['rtx'] is None and rtx is not None:
                    slot['rtx'] = rtx   # late rtx; aiortc will not route it on this receiver
                continue
            if not any(s['owner'] == owner for s in self.slots if s['state'] != 'removed'):
                for k in KINDS:   # a new endpoint: its audio + video pair
                    self.slots.append({'owner': owner, 'kind': k, 'name': None, 'ssrc': None,
                                       'rtx': None, 'msid': None, 'state': 'empty'})
            slot = next((s for s in self.slots if s['state'] == 'empty'
                         and s['owner'] == owner and s['kind'] == kind), None)
            if slot is None:
                slot = {'owner': owner, 'kind': kind, 'state': 'empty'}
                self.slots.append(slot)
            slot.update(name=name, ssrc=primary, rtx=rtx, msid=msid, state='active')

    # -- views
    def feedback_sources(self):
        """[(kind, ssrc, name)] of the bridge's own (owner jvb) sources."""
        return [(s['kind'], s['ssrc'], s['name']) for s in self.sources.values() if s['owner'] == JVB_OWNER]

    def remote_sources(self):
        """{owner: {'audio_ssrc', 'video_ssrc', 'video_rtx_ssrc', 'ssrcs': sorted list,
        'names': sorted list}} of every non-jvb owner the focus currently signals."""
        out = {}
        for owner, kind, name, primary, rtx, _ in self.streams():
            d = out.setdefault(owner, {'audio_ssrc': None, 'video_ssrc': None, 'video_rtx_ssrc': None,
                                       'ssrcs': [], 'names': []})
            if d[kind + '_ssrc'] is None:
                d[kind + '_ssrc'] = primary
                if kind == 'video':
                    d['video_rtx_ssrc'] = rtx
        for s in self.sources.values():
            if s['owner'] in out:
                out[s['owner']]['ssrcs'].append(s['ssrc'])
                if s['name'] and s['name'] not in out[s['owner']]['names']:
                    out[s['owner']]['names'].append(s['name'])
        for d in out.values():
            d['ssrcs'].sort()
            d['names'].sort()
        # own sources echoed by the focus are a focus bug; report them too
        for s in self.sources.values():
            if s['owner'] == self.own:
                d = out.setdefault(self.own, {'audio_ssrc': None, 'video_ssrc': None,
                                              'video_rtx_ssrc': None, 'ssrcs': [], 'names': []})
                d['ssrcs'] = sorted(set(d['ssrcs']) | {s['ssrc']})
        return out

    def mid_owners(self):
        """{mid: (kind, owner)} for every m-line ever offered (removed ones keep their
        owner, so frame counts stay attributed)."""
        out = {'0': ('audio', JVB_OWNER), '1': ('video', JVB_OWNER)}
        for i, s in enumerate(self.slots):
            out[str(i + 2)] = (s['kind'], s['owner'])
        return out

    def offer(self):
        """The SDP offer (str, CRLF) for the current state; mids are stable."""
        self.version += 1
        t = self.transport
        cands = [c for c in t['candidates'] if c.get('component', '1') == '1'
                 and c.get('protocol', 'udp').lower() == 'udp']
        first = cands[0] if cands else None
        port = first['port'] if first else '9'
        ip = first['ip'] if first else '0.0.0.0'
        fb = {}
        for kind, ssrc, name in self.feedback_sources():
            fb.setdefault(kind, ssrc)
        # (kind, direction, [(ssrc, cname, msid)], fid)
        sections = []
        for kind, label in (('audio', 'mixedlabelaudio0'), ('video', 'mixedlabelvideo0')):
            srcs = [(fb[kind], JVB_OWNER, 'mixedmslabel ' + label)] if kind in fb else []
            sections.append((kind, 'sendrecv', srcs, None))
        for s in self.slots:
            if s['state'] != 'active':
                sections.append((s['kind'], 'inactive', [], None))
                continue
            m = _NAME_SUFFIX.match(s['name'] or '')
            label = '%s-%s%s' % (s['owner'], s['kind'][0], m.group(3) if m else '0')
            msid = '%s %s' % (label, label)
            srcs = [(s['ssrc'], s['owner'], msid)]
            fid = None
            if s['rtx'] is not None:
                srcs.append((s['rtx'], s['owner'], msid))
                fid = (s['ssrc'], s['rtx'])
            sections.append((s['kind'], 'sendonly', srcs, fid))

        mids = [str(i) for i in range(len(sections))]
        lines = ['v=0', 'o=- %s %d IN IP4 127.0.0.1' % (self.session_id, self.version + 1), 's=-', 't=0 0',
                 'a=group:BUNDLE ' + ' '.join(mids), 'a=msid-semantic:WMS *']
        for mid, (kind, direction, srcs, fid) in zip(mids, sections):
            codecs = self.media[kind]['codecs']
            lines.append('m=%s %s UDP/TLS/RTP/SAVPF %s' % (kind, port, ' '.join(str(c['pt']) for c in codecs)))
            lines.append(_cs._addr_line(ip))
            lines.append('a=rtcp:%s %s' % (port, _cs._addr_line(ip)[2:]))
            lines.append('a=ice-ufrag:' + t['ufrag'])
            lines.append('a=ice-pwd:' + t['pwd'])
            lines.append('a=fingerprint:%s %s' % (t['hash'], t['fingerprint']))
            lines.append('a=setup:' + (t['setup'] or 'actpass'))
            lines.append('a=mid:' + mid)
            for ext_id, uri in self.media[kind]['hdrexts']:
                lines.append('a=extmap:%d %s' % (ext_id, uri))
            lines.append('a=' + direction)
            if srcs:
                lines.append('a=msid:' + srcs[0][2])
            lines.append('a=rtcp-mux')
            for c in codecs:
                enc = '%s/%s' % (c['name'], c['clockrate'])
                if c['channels']:
                    enc += '/%s' % c['channels']
                lines.append('a=rtpmap:%d %s' % (c['pt'], enc))
                for fb_type, fb_sub in c['rtcp_fb']:
                    lines.append('a=rtcp-fb:%d %s' % (c['pt'], fb_type + (' ' + fb_sub if fb_sub else '')))
                if c['params']:
                    lines.append('a=fmtp:%d %s' % (c['pt'], ';'.join('%s=%s' % p for p in c['params'])))
            if fid:
                lines.append('a=ssrc-group:FID %d %d' % fid)
            for ssrc, cname, msid in srcs:
                lines.append('a=ssrc:%d cname:%s' % (ssrc, cname))
                lines.append('a=ssrc:%d msid:%s' % (ssrc, msid))
            for c in cands:
                lines.append(_cs._candidate_line(c))
            lines.append('a=end-of-candidates')
        return '\r\n'.join(lines) + '\r\n'


def sdp_offer_from_jingle(jingle_elem, own_endpoint_id, remote_sources=None, keep_mid_ext=False):
    """Unified-plan SDP offer from a session-initiate (see the module docstring).

    remote_sources: optional extra source-add <jingle> elements (or a list of them) to
    apply on top of the session-initiate's sources, in order. For renegotiation keep a
    JingleSession instead (it keeps mids stable and retires removed sources)."""
    session = JingleSession(jingle_elem, own_endpoint_id, keep_mid_ext)
    if remote_sources is not None:
        for add in remote_sources if isinstance(remote_sources, (list, tuple)) else [remote_sources]:
            session.apply_source_add(add)
    return session.offer()


# ---------------------------------------------------------------- SDP answer -> Jingle

def _answer_payload_types(m):
    fmtp = {}
    for v in m['attrs'].get('fmtp', []):
        pt, _, params = v.partition(' ')
        fmtp[pt] = [tuple(p.split('=', 1)) for p in params.split(';') if '=' in p]
    fbs = {}
    for v in m['attrs'].get('rtcp-fb', []):
        pt, _, rest = v.partition(' ')
        bits = rest.split(None, 1)
        if bits:
            fbs.setdefault(pt, []).append((bits[0], bits[1] if len(bits) > 1 else None))
    out = []
    for v in m['attrs'].get('rtpmap', []):
        pt, _, enc = v.partition(' ')
        bits = enc.split('/')
        out.append({'pt': pt, 'name': bits[0], 'clockrate': bits[1] if len(bits) > 1 else None,
                    'channels': bits[2] if len(bits) > 2 else None,
                    'params': [(k.strip(), val.strip()) for k, val in fmtp.get(pt, [])],
                    'rtcp_fb': fbs.get(pt, [])})
    return out


def _answer_msid(m, ssrc):
    if m['attrs'].get('msid'):
        return m['attrs']['msid'][0]
    return m['ssrc_attrs'].get(ssrc, {}).get('msid')


def jingle_accept_from_sdp(answer_sdp, sid, own_endpoint_id, responder_jid, initiator=None,
                           video_type='camera', candidates=True):
    """<jingle action='session-accept'> (Element) from an aiortc answer to a JingleSession
    offer (jitsi-protocol.md §3.4): contents audio and video (creator responder) made from
    the first m-line of each kind (mid 0 / mid 1), each with the answer's payload types and
    header extensions, this endpoint's sources (EP-a0 / EP-v0, msid parameter, FID group)
    and the ice-udp transport (ufrag, pwd, fingerprint with the answer's setup - 'active'
    for aiortc - and, with candidates=True, the candidates, since aiortc does not trickle)."""
    parsed = _cs.parse_sdp(answer_sdp)
    firsts = {}
    for m in parsed['media']:
        if m['kind'] in KINDS and m['kind'] not in firsts and m['port'] != 0:
            firsts[m['kind']] = m
    if not firsts:
        raise ValueError('answer has no audio/video m-line')
    bundle = next((v.split()[1:] for v in parsed['session'].get('group', [])
                   if v.split()[:1] == ['BUNDLE']), None)
    lead = next(iter(firsts.values()))
    if bundle:
        lead = next((m for m in parsed['media'] if m['mid'] == bundle[0]), lead)
    ufrag = _cs._first(lead, 'ice-ufrag')
    pwd = _cs._first(lead, 'ice-pwd')
    fps = [v.split(None, 1) for v in lead['attrs'].get('fingerprint', [])]
    fps = [f for f in fps if len(f) == 2]
    if not fps:
        raise ValueError('answer has no a=fingerprint')
    fp = next((f for f in fps if f[0].lower() == 'sha-256'), fps[0])
    setup = _cs._first(lead, 'setup')
    cands = []
    if candidates:
        src_m = lead if lead['attrs'].get('candidate') else next(
            (m for m in parsed['media'] if m['attrs'].get('candidate')), lead)
        seen = set()
        for i, value in enumerate(src_m['attrs'].get('candidate', [])):
            c = _cs._parse_candidate(value)
            key = (c['component'], c['protocol'], c['ip'], c['port'], c['type'])
            if c['component'] != '1' or key in seen:
                continue
            seen.add(key)
            attrs = {'component': c['component'], 'foundation': c['foundation'],
                     'generation': c.get('generation', '0'), 'id': '%s-c%d' % (own_endpoint_id, i),
                     'ip': c['ip'], 'network': '0', 'port': c['port'], 'priority': c['priority'],
                     'protocol': c['protocol'], 'type': c['type']}
            for k in ('rel-addr', 'rel-port', 'tcptype'):
                if k in c:
                    attrs[k] = c[k]
            cands.append(attrs)

    attrs = {'action': 'session-accept', 'sid': sid, 'responder': responder_jid}
    if initiator:
        attrs['initiator'] = initiator
    j = ET.Element(_q(NS_JINGLE, 'jingle'), attrs)
    grp = ET.SubElement(j, _q(NS_GROUPING, 'group'), {'semantics': 'BUNDLE'})
    for kind in KINDS:
        if kind in firsts:
            ET.SubElement(grp, _q(NS_GROUPING, 'content'), {'name': kind})
    for kind in KINDS:
        m = firsts.get(kind)
        if m is None:
            continue
        senders = {'sendrecv': 'both', 'sendonly': 'responder', 'recvonly': 'initiator',
                   'inactive': 'none'}.get(m['direction'], 'both')
        content = ET.SubElement(j, _q(NS_JINGLE, 'content'),
                                {'creator': 'responder', 'name': kind, 'senders': senders})
        desc = ET.SubElement(content, _q(NS_RTP, 'description'), {'media': kind})
        for c in _answer_payload_types(m):
            a = {'id': c['pt'], 'name': c['name']}
            if c['clockrate']:
                a['clockrate'] = c['clockrate']
            if c['channels']:
                a['channels'] = c['channels']
            pt = ET.SubElement(desc, _q(NS_RTP, 'payload-type'), a)
            for k, v in c['params']:
                ET.SubElement(pt, _q(NS_RTP, 'parameter'), {'name': k, 'value': v})
            for fb_type, fb_sub in c['rtcp_fb']:
                fa = {'type': fb_type}
                if fb_sub:
                    fa['subtype'] = fb_sub
                ET.SubElement(pt, _q(NS_RTCP_FB, 'rtcp-fb'), fa)
        for v in m['attrs'].get('extmap', []):
            ext_id, _, uri = v.partition(' ')
            ET.SubElement(desc, _q(NS_HDREXT, 'rtp-hdrext'), {'id': ext_id.split('/')[0], 'uri': uri.split()[0]})
        if m['direction'] in ('sendrecv', 'sendonly') and m['ssrcs']:
            name = '%s-%s0' % (own_endpoint_id, kind[0])
            for ssrc in m['ssrcs']:
                sa = {'ssrc': str(ssrc), 'name': name}
                if kind == 'video' and video_type:
                    sa['videoType'] = video_type
                src = ET.SubElement(desc, _q(NS_SSMA, 'source'), sa)
                msid = _answer_msid(m, ssrc) or '%s %s' % (name, name)
                ET.SubElement(src, _q(NS_SSMA, 'parameter'), {'name': 'msid', 'value': msid})
            for semantics, group in m['groups']:
                g = ET.SubElement(desc, _q(NS_SSMA, 'ssrc-group'), {'semantics': semantics})
                for ssrc in group:
                    ET.SubElement(g, _q(NS_SSMA, 'source'), {'ssrc': str(ssrc)})
        if 'rtcp-mux' in m['attrs']:
            ET.SubElement(desc, _q(NS_RTP, 'rtcp-mux'))
        tr = ET.SubElement(content, _q(NS_ICE_UDP, 'transport'), {'ufrag': ufrag, 'pwd': pwd})
        ET.SubElement(tr, _q(NS_ICE_UDP, 'rtcp-mux'))
        fpe = ET.SubElement(tr, _q(NS_DTLS, 'fingerprint'), {'hash': fp[0].lower(), 'setup': setup})
        fpe.text = fp[1].strip()
        for c in cands:
            ET.SubElement(tr, _q(NS_ICE_UDP, 'candidate'), dict(c))
    return j


def jingle_source_add_xml(sid, own_endpoint_id, audio_ssrc=None, video_ssrc=None, video_rtx_ssrc=None,
                          msid=None, action='source-add', names=None, groups=None, video_type='camera'):
    """<jingle action='source-add'> (or any action, e.g. 'source-remove') Element a
    participant sends about its own sources: contents audio/video with <source ssrc
    name='EP-a0'|'EP-v0'><parameter name='msid'/></source> and an FID group for the rtx.
    msid: one string for every source, a {kind: msid} dict, or None ('EP-a0 EP-a0' style;
    pass '' to leave it out). names: {kind: name} overrides. groups: extra/replacement
    [(kind, semantics, [ssrcs])] (None = the FID group derived from video_rtx_ssrc).
    Made for bad-input tests, so nothing is validated."""
    j = ET.Element(_q(NS_JINGLE, 'jingle'), {'action': action, 'sid': sid})
    per_kind = {'audio': [s for s in [audio_ssrc] if s is not None],
                'video': [s for s in [video_ssrc, video_rtx_ssrc] if s is not None]}
    if groups is None:
        groups = [('video', 'FID', [video_ssrc, video_rtx_ssrc])] if (
            video_ssrc is not None and video_rtx_ssrc is not None) else []
    for kind in KINDS:
        kgroups = [g for g in groups if g[0] == kind]
        if not per_kind[kind] and not kgroups:
            continue
        content = ET.SubElement(j, _q(NS_JINGLE, 'content'), {'creator': 'responder', 'name': kind})
        desc = ET.SubElement(content, _q(NS_RTP, 'description'), {'media': kind})
        name = (names or {}).get(kind) or '%s-%s0' % (own_endpoint_id, kind[0])
        m = msid.get(kind) if isinstance(msid, dict) else msid
        if m is None:
            m = '%s %s' % (name, name)
        for ssrc in per_kind[kind]:
            sa = {'ssrc': str(ssrc), 'name': name}
            if kind == 'video' and video_type:
                sa['videoType'] = video_type
            src = ET.SubElement(desc, _q(NS_SSMA, 'source'), sa)
            if m:
                ET.SubElement(src, _q(NS_SSMA, 'parameter'), {'name': 'msid', 'value': m})
        for _, semantics, ssrcs in kgroups:
            g = ET.SubElement(desc, _q(NS_SSMA, 'ssrc-group'), {'semantics': semantics})
            for ssrc in ssrcs:
                ET.SubElement(g, _q(NS_SSMA, 'source'), {'ssrc': str(ssrc)})
    return j


def jingle_terminate_xml(sid, reason='success', text=None, bridge_session_id=None, restart=False):
    """<jingle action='session-terminate'> with <reason><REASON/>[<text/>]</reason> and,
    given a bridge-session id, <bridge-session id= [restart='true']/>."""
    j = ET.Element(_q(NS_JINGLE, 'jingle'), {'action': 'session-terminate', 'sid': sid})
    r = ET.SubElement(j, _q(NS_JINGLE, 'reason'))
    ET.SubElement(r, _q(NS_JINGLE, reason))
    if text:
        ET.SubElement(r, _q(NS_JINGLE, 'text')).text = text
    if bridge_session_id:
        a = {'id': bridge_session_id}
        if restart:
            a['restart'] = 'true'
        ET.SubElement(j, _q(NS_FOCUS, 'bridge-session'), a)
    return j


to_string = _cs.to_string


# ---------------------------------------------------------------- the participant

def _room_jid(room, muc_domain):
    return room if '@' in room else '%s@%s' % (room, muc_domain)


class JingleParticipant:
    """A conference participant: harness.Client (XMPP) + rtc_peer.Peer (media).

    Attributes:
      client              the harness Client (buffer/expect still usable for other stanzas;
                          Jingle IQs from ROOM/focus are taken out of its buffer)
      room, nick          bare room JID and MUC nick (= endpoint id) after join()
      endpoint_id         the nick
      conference_result   the focus's answer to the conference IQ (slixmpp stanza)
      session             current JingleSession (None before session-initiate / after
                          session-terminate)
      peer                current rtc_peer.Peer (None without a session)
      old_peers           peers of ended sessions (closed)
      jingle_log          [(action, jingle Element)] of every Jingle IQ from the focus, in
                          order of arrival (each was answered with a result)
      processed           how many jingle_log entries have been acted on
      accepts             [(sid, response stanza)] for every session-accept sent
      errors              [str] problems while acting (bad offer, error reply...);
                          check() raises if there are any
    """

    def __init__(self, client, *, audio=True, video=True, focus_jid=FOCUS_JID, muc_domain=MUC_DOMAIN,
                 keep_mid_ext=False, features=CLIENT_FEATURES):
        self.client = client
        self.audio = audio
        self.video = video
        self.focus_jid = focus_jid
        self.muc_domain = muc_domain
        self.keep_mid_ext = keep_mid_ext
        self.features = features
        self.room = None
        self.nick = None
        self.conference_result = None
        self.session = None
        self.peer = None
        self.old_peers = []
        self.jingle_log = []
        self.processed = 0
        self.accepts = []
        self.errors = []
        self.machine_uid = secrets.token_hex(16)
        self._queue = asyncio.Queue()
        self._tasks = []
        self._progress = asyncio.Event()
        self._closed = False

    @classmethod
    async def anonymous(cls, server_or_port, domain='meet.parley', name=None, **kw):
        """An anonymous login on domain wrapped in a JingleParticipant."""
        client = await _h.login(server_or_port, domain, name=name)
        return cls(client, **kw)

    @classmethod
    async def account(cls, server_or_port, jid, password, name=None, resource=None, **kw):
        client = await _h.login(server_or_port, jid, password, resource=resource, name=name)
        return cls(client, **kw)

    @property
    def endpoint_id(self):
        return self.nick

    @property
    def occupant_jid(self):
        return '%s/%s' % (self.room, self.nick)

    @property
    def focus_occupant(self):
        return '%s/focus' % self.room

    @property
    def name(self):
        return self.client.name

    # -- joining
    async def join(self, room, nick, timeout=15, properties=None, extra_presence=None,
                   conference_attrs=None, expect_ready=True):
        """Conference IQ to the focus (retried like lib-jitsi-meet while ready='false',
        until timeout), then the MUC join as nick. Returns the conference result stanza.
        properties: {name: value} -> <property/> children; conference_attrs: extra
        attributes of <conference> (token, session-id...). extra_presence: XML for the
        join presence (default: a SourceInfo announcing the tracks this peer sends)."""
        self.room = _room_jid(room, self.muc_domain)
        self.nick = nick
        self._start_loops()
        self._advertise_features()
        deadline = time.monotonic() + timeout
        delay = 0.25
        while True:
            resp = await self.conference_iq(properties=properties, attrs=conference_attrs,
                                            timeout=max(1.0, deadline - time.monotonic()))
            conf = resp.xml.find(_q(NS_FOCUS, 'conference'))
            if resp.xml.get('type') != 'result' or conf is None:
                raise AssertionError('%s: conference IQ for %s failed: %s' % (self.name, self.room, resp))
            self.conference_result = resp
            if conf.get('ready') == 'true' or not expect_ready:
                break
            if time.monotonic() + delay > deadline:
                raise AssertionError('%s: focus never became ready for %s: %s' % (self.name, self.room, resp))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
        if extra_presence is None:
            extra_presence = self.source_info_xml()
        await _h.muc_join(self.client, self.room, nick, extra=extra_presence,
                       timeout=max(1.0, deadline - time.monotonic()))
        return self.conference_result

    async def conference_iq(self, properties=None, attrs=None, timeout=10, room=None):
        """Send the conference IQ (§1.2) and return the response (result or error)."""
        a = {'room': room or self.room, 'machine-uid': self.machine_uid}
        a.update(attrs or {})
        inner = ''.join("<property name=%s value=%s/>" % (quoteattr(k), quoteattr(str(v)))
                        for k, v in (properties or {}).items())
        xml = "<iq type='set' id=%s to=%s><conference xmlns='%s' %s>%s</conference></iq>" % (
            quoteattr('conf-' + _h.uid()), quoteattr(self.focus_jid), NS_FOCUS,
            ' '.join('%s=%s' % (k, quoteattr(v)) for k, v in a.items()), inner)
        return await self.client.iq(xml, timeout=timeout)

    def source_info_xml(self):
        info = {}
        if self.audio:
            info['%s-a0' % self.nick] = {'muted': False}
        if self.video:
            info['%s-v0' % self.nick] = {'muted': False, 'videoType': 'camera'}
        return '<SourceInfo>%s</SourceInfo>' % xml_escape(json.dumps(info, separators=(',', ':')))

    def focus_presence(self):
        """The latest presence this client got from ROOM/focus (slixmpp stanza) or None;
        its muc#user item jid should start with focus.DOMAIN/."""
        for st in reversed(self.client.all):
            if st.xml.tag == '{jabber:client}presence' and (st.xml.get('from') or '').lower() == \
                    self.focus_occupant.lower():
                return st
        return None

    def _advertise_features(self):
        try:
            disco = self.client.xmpp['xep_0030']
        except Exception:   # plugin not loaded
            return
        for f in self.features or ():
            try:
                disco.add_feature(f, jid=self.client.xmpp.boundjid)
            except Exception as e:  # pragma: no cover
                log.debug('add_feature %s: %s', f, e)

    # -- the Jingle loops
    def _start_loops(self):
        if not self._tasks:
            self._tasks = [asyncio.ensure_future(self._receive_loop()),
                           asyncio.ensure_future(self._work_loop())]

    def _is_focus_jingle(self, st):
        x = st.xml
        return (x.tag == '{jabber:client}iq' and x.get('type') == 'set'
                and self.room is not None
                and (x.get('from') or '').lower() == self.focus_occupant.lower()
                and x.find(_q(NS_JINGLE, 'jingle')) is not None)

    async def _receive_loop(self):
        while not self._closed:
            try:
                st = await self.client.expect(self._is_focus_jingle, timeout=30, what='jingle')
            except AssertionError:
                continue
            except asyncio.CancelledError:
                return
            # ack first, as lib-jitsi-meet does; then act on it in order
            self.client.send_raw("<iq type='result' to=%s id=%s/>"
                                 % (quoteattr(st.xml.get('from')), quoteattr(st.xml.get('id') or '')))
            j = st.xml.find(_q(NS_JINGLE, 'jingle'))
            action = j.get('action')
            log.debug('%s: jingle %s sid=%s', self.name, action, j.get('sid'))
            self.jingle_log.append((action, j))
            self._progress.set()
            self._queue.put_nowait((len(self.jingle_log) - 1, action, j))

    async def _work_loop(self):
        while True:
            try:
                idx, action, j = await self._queue.get()
            except asyncio.CancelledError:
                return
            try:
                await self._handle(action, j)
            except asyncio.CancelledError:
                return
            except Exception as e:
                log.exception('%s: handling %s', self.name, action)
                self.errors.append('%s: %s: %s: %s' % (self.name, action, type(e).__name__, e))
            finally:
                self.processed = max(self.processed, idx + 1)
                self._progress.set()

    async def _handle(self, action, j):
        sid = j.get('sid')
        if action == 'session-initiate':
            await self._end_media()
            self.session = JingleSession(j, self.nick, self.keep_mid_ext)
            self.peer = _rp.Peer(self.nick, audio=self.audio, video=self.video)
            await self._renegotiate()
            accept = jingle_accept_from_sdp(self.peer.pc.localDescription.sdp, sid, self.nick,
                                            self.occupant_jid, self.session.initiator)
            resp = await self.send_jingle(accept, timeout=15)
            self.accepts.append((sid, resp))
            if resp.xml.get('type') != 'result':
                self.errors.append('%s: session-accept answered with an error: %s' % (self.name, resp))
        elif action in ('source-add', 'addsource', 'source-remove', 'removesource'):
            if self.session is None or sid != self.session.sid:
                self.errors.append('%s: %s for sid %s without that session (current %s)'
                                   % (self.name, action, sid, self.session and self.session.sid))
                return
            if action in ('source-add', 'addsource'):
                self.session.apply_source_add(j)
            else:
                self.session.apply_source_remove(j)
            await self._renegotiate()
        elif action == 'session-terminate':
            if self.session is not None and sid != self.session.sid:
                self.errors.append('%s: session-terminate for sid %s, current %s'
                                   % (self.name, sid, self.session.sid))
                return
            await self._end_media()
        # transport-info / transport-replace / anything else: acked and logged only

    async def _renegotiate(self):
        if self.peer is None:
            return
        await self.peer.answer(self.session.offer())
        # keep removed m-lines attributed to their endpoint (the offer drops their msid)
        self.peer.mid_owner.update(self.session.mid_owners())

    async def _end_media(self):
        peer, self.peer, self.session = self.peer, None, None
        if peer is not None:
            self.old_peers.append(peer)
            await peer.close()

    async def send_jingle(self, jingle_elem, timeout=10, expect_type=None):
        """Send a Jingle IQ set (Element or XML text) to ROOM/focus; returns the response."""
        body = jingle_elem if isinstance(jingle_elem, str) else to_string(jingle_elem)
        xml = "<iq type='set' id=%s to=%s>%s</iq>" % (quoteattr('jingle-' + _h.uid()),
                                                      quoteattr(self.focus_occupant), body)
        return await self.client.iq(xml, timeout=timeout, expect_type=expect_type)

    async def terminate(self, reason='success', restart=False, timeout=10, close_media=True):
        """Send session-terminate for the current session (echoing the bridge-session id);
        returns the response, or None without a session."""
        if self.session is None:
            return None
        bs = (self.session.bridge_session or {}).get('id')
        resp = await self.send_jingle(jingle_terminate_xml(self.session.sid, reason, None, bs, restart),
                                      timeout=timeout)
        if close_media:
            await self._end_media()
        return resp

    # -- waiting
    def mark(self):
        """Position in jingle_log, for wait_jingle(after=...)."""
        return len(self.jingle_log)

    async def wait_jingle(self, action, after=0, timeout=15, pred=None):
        """Wait until a Jingle IQ with this action (and pred(jingle) true) arrived at
        position >= after AND has been acted on; returns its <jingle> Element."""
        deadline = time.monotonic() + timeout
        while True:
            for i in range(after, min(self.processed, len(self.jingle_log))):
                a, j = self.jingle_log[i]
                if a == action and (pred is None or pred(j)):
                    return j
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError('%s: no %s from the focus within %ss (got %s; errors %s)'
                                     % (self.name, action, timeout,
                                        [a for a, _ in self.jingle_log[after:]], self.errors))
            self._progress.clear()
            try:
                await asyncio.wait_for(self._progress.wait(), min(left, 0.5))
            except asyncio.TimeoutError:
                pass

    async def wait_session(self, timeout=20, after=0):
        """Wait until a session-initiate (at >= after) was answered and the focus
        answered the session-accept with a result. Returns the session."""
        await self.wait_jingle('session-initiate', after=after, timeout=timeout)
        deadline = time.monotonic() + timeout
        while True:
            if self.errors:
                raise AssertionError('%s: %s' % (self.name, '; '.join(self.errors)))
            if self.session is not None and any(s == self.session.sid and r.xml.get('type') == 'result'
                                                for s, r in self.accepts):
                return self.session
            if time.monotonic() >= deadline:
                raise AssertionError('%s: no accepted session within %ss (accepts %s)'
                                     % (self.name, timeout, [(s, r.xml.get('type')) for s, r in self.accepts]))
            await asyncio.sleep(0.05)

    async def wait_connected(self, timeout=20):
        deadline = time.monotonic() + timeout
        while self.peer is None:
            if time.monotonic() >= deadline:
                raise AssertionError('%s: no media session within %ss' % (self.name, timeout))
            await asyncio.sleep(0.05)
        await self.peer.wait_connected(max(0.1, deadline - time.monotonic()))

    async def wait_media_from(self, ep, timeout=20, audio=True, video=True, frames=5):
        """Wait until at least `frames` decoded audio and/or video frames from endpoint ep."""
        def ok():
            return ((not audio or self.audio_frames_from(ep) >= frames)
                    and (not video or self.video_frames_from(ep) >= frames))
        await _rp.wait_for(ok, timeout, lambda: '%s: media from %s (audio %d, video %d frames)' % (
            self.name, ep, self.audio_frames_from(ep), self.video_frames_from(ep)))

    # -- media views
    def audio_frames_from(self, ep):
        return self.peer.audio_frames_from(ep) if self.peer is not None else 0

    def video_frames_from(self, ep):
        return self.peer.video_frames_from(ep) if self.peer is not None else 0

    def remote_sources(self):
        """{owner: {'audio_ssrc', 'video_ssrc', 'video_rtx_ssrc', 'ssrcs', 'names'}} of the
        current session ({} without one)."""
        return self.session.remote_sources() if self.session is not None else {}

    def own_ssrcs(self):
        """{'audio_ssrc', 'video_ssrc', 'video_rtx_ssrc'} of the current peer."""
        p = self.peer
        return {'audio_ssrc': p and p.audio_ssrc, 'video_ssrc': p and p.video_ssrc,
                'video_rtx_ssrc': p and p.video_rtx_ssrc}

    def actions(self):
        return [a for a, _ in self.jingle_log]

    def check(self):
        if self.errors:
            raise AssertionError('; '.join(self.errors))

    # -- leaving
    async def leave(self, terminate=True, timeout=10):
        """Optionally session-terminate (if a session is up; errors tolerated), then leave
        the room (waits for the own unavailable presence). The client stays connected."""
        if terminate and self.session is not None:
            try:
                await self.terminate(timeout=timeout)
            except AssertionError as e:
                log.debug('%s: session-terminate: %s', self.name, e)
        await self._end_media()
        if self.room is not None:
            await _h.muc_leave(self.client, self.room, self.nick, timeout=timeout)

    async def close(self):
        """Stop the loops, close the media and the XMPP connection (no room leave)."""
        if self._closed:
            return
        self._closed = True
        for t in self._tasks:
            t.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2)
        try:
            await self._end_media()
        finally:
            await self.client.close()
