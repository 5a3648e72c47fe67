"""Colibri2 <-> SDP conversion for integration tests that play the focus.

Pure functions, no network: xml.etree.ElementTree Elements in and out, SDP text
in and out. The test (acting as focus) does:

    media = colibri_media_xml()                      # <media> for endpoint create
    ... send conference-modify, get <conference-modified> back ...
    ep = find_endpoint(conference_modified, 'ep1')
    fb = feedback_sources_from_colibri(conference_modified)   # [(type, ssrc, name)]
    offer = offer_from_colibri(ep, fb, remote_eps)   # SDP offer for an aiortc peer
    answer = await peer.answer(offer)
    update = colibri_update_from_answer('ep1', answer)   # <endpoint> for conference-modify
    ssrcs = answer_ssrcs(answer)                     # for the other peers' remote_eps

Offer layout (unified plan, everything in one BUNDLE group):
    mid 0  audio sendrecv  - the peer sends its audio here; carries the bridge's jvb-a0
    mid 1  video sendrecv  - the peer sends its video here; carries the bridge's jvb-v0
    mid 2k+2, 2k+3  audio/video sendonly - media of remote_eps[k] (its SSRCs, msid
                    'EP-a0 EP-a0' / 'EP-v0 EP-v0', FID group when the rtx SSRC is known)
The mids stay stable across re-offers as long as remote_eps only grows at its end
(a departed endpoint keeps its place with 'inactive': True).

No sdes:mid header extension is offered: the bridge forwards packets unchanged, so a
forwarded packet would carry the *sender's* mid and be misrouted by the receiver.
"""

import re
import secrets
import xml.etree.ElementTree as ET

NS_COLIBRI2 = 'jitsi:colibri2'
NS_JINGLE_RTP = 'urn:xmpp:jingle:apps:rtp:1'
NS_RTCP_FB = 'urn:xmpp:jingle:apps:rtp:rtcp-fb:0'
NS_HDREXT = 'urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'
NS_ICE_UDP = 'urn:xmpp:jingle:transports:ice-udp:1'
NS_DTLS = 'urn:xmpp:jingle:apps:dtls:0'
NS_SSMA = 'urn:xmpp:jingle:apps:rtp:ssma:0'
NS_COLIBRI = 'http://jitsi.org/protocol/colibri'

URI_AUDIO_LEVEL = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level'
URI_ABS_SEND_TIME = 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time'

# The codec set the test (focus) offers. Each codec: pt, name, clockrate, channels
# (None for video), params (ordered (name, value) pairs -> a=fmtp), rtcp_fb
# ((type, subtype-or-None) pairs). 'rtx': True marks the RTX entry that rtx=False drops.
CODECS = {
    'audio': {
        'codecs': [
            {'pt': 111, 'name': 'opus', 'clockrate': 48000, 'channels': 2,
             'params': [('minptime', '10'), ('useinbandfec', '1')], 'rtcp_fb': []},
        ],
        'hdrexts': [(1, URI_AUDIO_LEVEL), (3, URI_ABS_SEND_TIME)],
    },
    'video': {
        'codecs': [
            {'pt': 100, 'name': 'VP8', 'clockrate': 90000, 'channels': None, 'params': [],
             'rtcp_fb': [('nack', None), ('nack', 'pli'), ('ccm', 'fir'), ('goog-remb', None)]},
            {'pt': 96, 'name': 'rtx', 'clockrate': 90000, 'channels': None,
             'params': [('apt', '100')], 'rtcp_fb': [], 'rtx': True},
        ],
        'hdrexts': [(3, URI_ABS_SEND_TIME)],
    },
}

KINDS = ('audio', 'video')


def _q(ns, tag):
    return '{%s}%s' % (ns, tag)


def _codecs(kind, rtx=True):
    return [c for c in CODECS[kind]['codecs'] if rtx or not c.get('rtx')]


# ---------------------------------------------------------------- focus -> bridge

def colibri_media_xml(rtx=True):
    """[<media type='audio'>, <media type='video'>] (ns jitsi:colibri2) with Jingle
    <payload-type>/<rtp-hdrext> children, as the focus sends them in an endpoint create."""
    out = []
    for kind in KINDS:
        media = ET.Element(_q(NS_COLIBRI2, 'media'), {'type': kind})
        for c in _codecs(kind, rtx):
            attrs = {'id': str(c['pt']), 'name': c['name'], 'clockrate': str(c['clockrate'])}
            if c['channels']:
                attrs['channels'] = str(c['channels'])
            pt = ET.SubElement(media, _q(NS_JINGLE_RTP, 'payload-type'), attrs)
            for name, value in c['params']:
                ET.SubElement(pt, _q(NS_JINGLE_RTP, 'parameter'), {'name': name, 'value': value})
            for fb_type, fb_sub in c['rtcp_fb']:
                fb = {'type': fb_type}
                if fb_sub:
                    fb['subtype'] = fb_sub
                ET.SubElement(pt, _q(NS_RTCP_FB, 'rtcp-fb'), fb)
        for ext_id, uri in CODECS[kind]['hdrexts']:
            ET.SubElement(media, _q(NS_HDREXT, 'rtp-hdrext'), {'id': str(ext_id), 'uri': uri})
        out.append(media)
    return out


# ---------------------------------------------------------------- bridge answer -> SDP

def find_endpoint(conference_modified, endpoint_id):
    """The <endpoint id=...> child of a <conference-modified> (or of an <iq> holding one)."""
    for ep in conference_modified.iter(_q(NS_COLIBRI2, 'endpoint')):
        if ep.get('id') == endpoint_id:
            return ep
    raise ValueError('no endpoint %r in colibri answer' % endpoint_id)


def feedback_sources_from_colibri(conference_modified):
    """[(type, ssrc, name)] from the conference-level <sources> of a <conference-modified>
    (the bridge's feedback sources jvb-a0 / jvb-v0). Endpoint-level <sources> are ignored."""
    out = []
    cm = conference_modified
    if cm.tag != _q(NS_COLIBRI2, 'conference-modified'):
        found = cm.find('.//' + _q(NS_COLIBRI2, 'conference-modified'))
        cm = found if found is not None else cm
    for sources in cm.findall(_q(NS_COLIBRI2, 'sources')):
        for ms in sources.findall(_q(NS_COLIBRI2, 'media-source')):
            for src in ms.findall(_q(NS_SSMA, 'source')):
                out.append((ms.get('type'), int(src.get('ssrc')), src.get('name') or ms.get('id')))
    return out


def transport_from_colibri(ep_elem):
    """dict(ufrag, pwd, fingerprint, hash, setup, candidates=[dict], rtcp_mux, websocket)
    from a colibri2 <endpoint> (its <transport><transport xmlns=ice-udp>)."""
    ice = ep_elem.find('.//' + _q(NS_ICE_UDP, 'transport'))
    if ice is None:
        raise ValueError('colibri endpoint %r has no ice-udp transport' % ep_elem.get('id'))
    fp = ice.find(_q(NS_DTLS, 'fingerprint'))
    if fp is None or not (fp.text or '').strip():
        raise ValueError('colibri transport has no DTLS fingerprint')
    if not ice.get('ufrag') or not ice.get('pwd'):
        raise ValueError('colibri transport has no ufrag/pwd')
    ws = ice.find(_q(NS_COLIBRI, 'web-socket'))
    return {
        'ufrag': ice.get('ufrag'),
        'pwd': ice.get('pwd'),
        'fingerprint': fp.text.strip(),
        'hash': fp.get('hash', 'sha-256'),
        'setup': fp.get('setup', 'actpass'),
        'rtcp_mux': ice.find(_q(NS_ICE_UDP, 'rtcp-mux')) is not None,
        'candidates': [dict(c.attrib) for c in ice.findall(_q(NS_ICE_UDP, 'candidate'))],
        'websocket': ws.get('url') if ws is not None else None,
    }


def _candidate_line(c):
    line = 'a=candidate:%s %s %s %s %s %s typ %s' % (
        c.get('foundation', '1'), c.get('component', '1'), c.get('protocol', 'udp').lower(),
        c['priority'], c['ip'], c['port'], c.get('type', 'host'))
    if c.get('rel-addr') and c.get('rel-port'):
        line += ' raddr %s rport %s' % (c['rel-addr'], c['rel-port'])
    if c.get('tcptype'):
        line += ' tcptype %s' % c['tcptype']
    line += ' generation %s' % c.get('generation', '0')
    return line


def _addr_line(ip):
    return 'c=IN %s %s' % ('IP6' if ':' in ip else 'IP4', ip)


def offer_from_colibri(ep_elem, feedback_sources, remote_eps, rtx=True, session_id=None):
    """SDP offer (str, CRLF lines) for the peer of the colibri <endpoint> ep_elem.

    feedback_sources: [(type, ssrc, name)] - the bridge's jvb-a0/jvb-v0 (first of each
    type goes into mid 0 / mid 1; a missing one is simply left out).
    remote_eps: [{'id', 'audio_ssrc', 'video_ssrc', 'video_rtx_ssrc' (optional),
    'inactive' (optional: endpoint left, m-lines kept as 'inactive' without SSRCs)}];
    an ssrc of None leaves that endpoint's m-line without SSRCs (direction inactive).
    rtx=False leaves RTX out of the codec list and ignores video_rtx_ssrc.
    """
    t = transport_from_colibri(ep_elem)
    cands = [c for c in t['candidates'] if c.get('component', '1') == '1']
    first = cands[0] if cands else None
    port = first['port'] if first else '9'
    ip = first['ip'] if first else '0.0.0.0'

    # (kind, direction, [(ssrc, cname, msid_stream, msid_track)], fid_pair or None)
    sections = []
    fb = {}
    for kind, ssrc, name in feedback_sources:
        fb.setdefault(kind, (int(ssrc), name))
    for kind, label in (('audio', 'mixedlabelaudio0'), ('video', 'mixedlabelvideo0')):
        srcs = []
        if kind in fb:
            srcs.append((fb[kind][0], 'jvb', 'mixedmslabel', label))
        sections.append((kind, 'sendrecv', srcs, None))
    for ep in remote_eps:
        epid = ep['id']
        inactive = bool(ep.get('inactive'))
        a = ep.get('audio_ssrc')
        v = ep.get('video_ssrc')
        r = ep.get('video_rtx_ssrc') if rtx else None
        if inactive or a is None:
            sections.append(('audio', 'inactive', [], None))
        else:
            sections.append(('audio', 'sendonly', [(int(a), epid, epid + '-a0', epid + '-a0')], None))
        if inactive or v is None:
            sections.append(('video', 'inactive', [], None))
        else:
            srcs = [(int(v), epid, epid + '-v0', epid + '-v0')]
            fid = None
            if r is not None:
                srcs.append((int(r), epid, epid + '-v0', epid + '-v0'))
                fid = (int(v), int(r))
            sections.append(('video', 'sendonly', srcs, fid))

    mids = [str(i) for i in range(len(sections))]
    sid = session_id or str(int.from_bytes(secrets.token_bytes(6), 'big'))
    lines = ['v=0', 'o=- %s 2 IN IP4 127.0.0.1' % sid, 's=-', 't=0 0',
             'a=group:BUNDLE ' + ' '.join(mids), 'a=msid-semantic:WMS *']
    for mid, (kind, direction, srcs, fid) in zip(mids, sections):
        codecs = _codecs(kind, rtx)
        lines.append('m=%s %s UDP/TLS/RTP/SAVPF %s' % (kind, port, ' '.join(str(c['pt']) for c in codecs)))
        lines.append(_addr_line(ip))
        lines.append('a=rtcp:%s %s' % (port, _addr_line(ip)[2:]))
        lines.append('a=ice-ufrag:' + t['ufrag'])
        lines.append('a=ice-pwd:' + t['pwd'])
        lines.append('a=fingerprint:%s %s' % (t['hash'], t['fingerprint']))
        lines.append('a=setup:actpass')  # an offer must say actpass (the bridge's is, too)
        lines.append('a=mid:' + mid)
        for ext_id, uri in CODECS[kind]['hdrexts']:
            lines.append('a=extmap:%d %s' % (ext_id, uri))
        lines.append('a=' + direction)
        if srcs:
            lines.append('a=msid:%s %s' % (srcs[0][2], srcs[0][3]))
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
        for ssrc, cname, stream, track in srcs:
            lines.append('a=ssrc:%d cname:%s' % (ssrc, cname))
            lines.append('a=ssrc:%d msid:%s %s' % (ssrc, stream, track))
        for c in cands:
            lines.append(_candidate_line(c))
        lines.append('a=end-of-candidates')
    return '\r\n'.join(lines) + '\r\n'


# ---------------------------------------------------------------- SDP answer -> bridge

def parse_sdp(sdp):
    """Small SDP reader: {'session': {attr: [values]}, 'media': [{'kind', 'port', 'mid',
    'direction', 'attrs': {attr: [values]}, 'ssrcs': [ssrc in order], 'ssrc_attrs':
    {ssrc: {name: value}}, 'groups': [(semantics, [ssrcs])]}]}. Media-level ice/fingerprint/
    setup fall back to session level (Chromium puts them per m-line, others may not)."""
    session = {}
    media = []
    cur = None
    for raw in sdp.splitlines():
        line = raw.strip()
        if len(line) < 2 or line[1] != '=':
            continue
        typ, val = line[0], line[2:]
        if typ == 'm':
            bits = val.split()
            cur = {'kind': bits[0], 'port': int(bits[1]), 'mid': None, 'direction': None,
                   'attrs': {}, 'ssrcs': [], 'ssrc_attrs': {}, 'groups': []}
            media.append(cur)
            continue
        if typ != 'a':
            continue
        name, _, value = val.partition(':')
        target = cur['attrs'] if cur is not None else session
        target.setdefault(name, []).append(value)
        if cur is None:
            continue
        if name == 'mid':
            cur['mid'] = value
        elif name in ('sendrecv', 'sendonly', 'recvonly', 'inactive'):
            cur['direction'] = name
        elif name == 'ssrc':
            s, _, rest = value.partition(' ')
            s = int(s)
            if s not in cur['ssrc_attrs']:
                cur['ssrcs'].append(s)
                cur['ssrc_attrs'][s] = {}
            k, _, v = rest.partition(':')
            cur['ssrc_attrs'][s][k] = v
        elif name == 'ssrc-group':
            bits = value.split()
            cur['groups'].append((bits[0], [int(x) for x in bits[1:]]))
    for m in media:
        for key in ('ice-ufrag', 'ice-pwd', 'fingerprint', 'setup'):
            if key not in m['attrs'] and key in session:
                m['attrs'][key] = session[key]
        if m['direction'] is None:
            m['direction'] = 'sendrecv'
    return {'session': session, 'media': media}


def _first(m, key):
    vals = m['attrs'].get(key)
    if not vals:
        raise ValueError('answer m-line %s has no a=%s' % (m.get('mid'), key))
    return vals[0]


def _sending_mlines(parsed):
    """{'audio': m, 'video': m}: the first m-line of each kind that sends and has SSRCs
    (mid 0 and mid 1 for answers to offer_from_colibri)."""
    out = {}
    for m in parsed['media']:
        if m['kind'] in KINDS and m['kind'] not in out and m['port'] != 0 \
                and m['direction'] in ('sendrecv', 'sendonly') and m['ssrcs']:
            out[m['kind']] = m
    return out


def _primary_and_rtx(m):
    fid = next((g for s, g in m['groups'] if s == 'FID' and len(g) >= 2), None)
    sim = next((g for s, g in m['groups'] if s == 'SIM' and g), None)
    primary = sim[0] if sim else (fid[0] if fid else m['ssrcs'][0])
    rtx = None
    for s, g in m['groups']:
        if s == 'FID' and len(g) >= 2 and g[0] == primary:
            rtx = g[1]
    return primary, rtx


def answer_ssrcs(answer_sdp):
    """{'audio_ssrc', 'video_ssrc', 'video_rtx_ssrc'} the answering peer sends with
    (None where absent) - what the other peers' offers need in remote_eps."""
    sending = _sending_mlines(parse_sdp(answer_sdp))
    out = {'audio_ssrc': None, 'video_ssrc': None, 'video_rtx_ssrc': None}
    if 'audio' in sending:
        out['audio_ssrc'] = _primary_and_rtx(sending['audio'])[0]
    if 'video' in sending:
        out['video_ssrc'], out['video_rtx_ssrc'] = _primary_and_rtx(sending['video'])
    return out


def _parse_candidate(value):
    bits = value.split()
    c = {'foundation': bits[0], 'component': bits[1], 'protocol': bits[2].lower(),
         'priority': bits[3], 'ip': bits[4], 'port': bits[5], 'type': bits[7]}
    for i in range(8, len(bits) - 1, 2):
        k, v = bits[i], bits[i + 1]
        if k == 'raddr':
            c['rel-addr'] = v
        elif k == 'rport':
            c['rel-port'] = v
        elif k == 'generation':
            c['generation'] = v
        elif k == 'tcptype':
            c['tcptype'] = v
    return c


def colibri_update_from_answer(endpoint_id, answer_sdp, video_type='camera'):
    """The <endpoint id=endpoint_id> Element (ns jitsi:colibri2) the focus sends to the
    bridge after the peer answered: remote ICE-UDP transport (ufrag, pwd, rtcp-mux, the
    answer's fingerprint and setup, its candidates) and the endpoint's complete source set
    (EP-a0 / EP-v0 with every SSRC of the sending m-lines and their FID/SIM groups)."""
    parsed = parse_sdp(answer_sdp)
    if not parsed['media']:
        raise ValueError('answer has no m-lines')
    # the transport: the first m-line of the BUNDLE group (all bundled m-lines share it)
    bundle = next((v.split()[1:] for v in parsed['session'].get('group', [])
                   if v.split()[:1] == ['BUNDLE']), None)
    lead = parsed['media'][0]
    if bundle:
        lead = next((m for m in parsed['media'] if m['mid'] == bundle[0]), lead)

    ep = ET.Element(_q(NS_COLIBRI2, 'endpoint'), {'id': endpoint_id})
    outer = ET.SubElement(ep, _q(NS_COLIBRI2, 'transport'))
    ice = ET.SubElement(outer, _q(NS_ICE_UDP, 'transport'),
                        {'ufrag': _first(lead, 'ice-ufrag'), 'pwd': _first(lead, 'ice-pwd')})
    ET.SubElement(ice, _q(NS_ICE_UDP, 'rtcp-mux'))
    fps = [v.split(None, 1) for v in lead['attrs'].get('fingerprint', [])]
    fps = [f for f in fps if len(f) == 2]
    if not fps:
        raise ValueError('answer has no a=fingerprint')
    fp = next((f for f in fps if f[0].lower() == 'sha-256'), fps[0])
    fpe = ET.SubElement(ice, _q(NS_DTLS, 'fingerprint'),
                        {'hash': fp[0].lower(), 'setup': _first(lead, 'setup')})
    fpe.text = fp[1].strip()
    # candidates: lead m-line's, else the first m-line that has any; de-duplicated
    seen = set()
    cand_src = lead if lead['attrs'].get('candidate') else next(
        (m for m in parsed['media'] if m['attrs'].get('candidate')), lead)
    for i, value in enumerate(cand_src['attrs'].get('candidate', [])):
        c = _parse_candidate(value)
        key = (c['component'], c['protocol'], c['ip'], c['port'], c['type'])
        if c['component'] != '1' or key in seen:
            continue
        seen.add(key)
        attrs = {'component': c['component'], 'foundation': c['foundation'],
                 'generation': c.get('generation', '0'),
                 'id': '%s-c%d' % (endpoint_id, i),
                 'network': '0', 'ip': c['ip'], 'port': c['port'], 'priority': c['priority'],
                 'protocol': c['protocol'], 'type': c['type']}
        for k in ('rel-addr', 'rel-port', 'tcptype'):
            if k in c:
                attrs[k] = c[k]
        ET.SubElement(ice, _q(NS_ICE_UDP, 'candidate'), attrs)

    sources = ET.SubElement(ep, _q(NS_COLIBRI2, 'sources'))
    sending = _sending_mlines(parsed)
    for kind, suffix in (('audio', '-a0'), ('video', '-v0')):
        m = sending.get(kind)
        if m is None:
            continue
        name = endpoint_id + suffix
        ms = ET.SubElement(sources, _q(NS_COLIBRI2, 'media-source'), {'type': kind, 'id': name})
        for ssrc in m['ssrcs']:
            attrs = {'ssrc': str(ssrc), 'name': name}
            if kind == 'video' and video_type:
                attrs['videoType'] = video_type
            ET.SubElement(ms, _q(NS_SSMA, 'source'), attrs)
        for semantics, group in m['groups']:
            g = ET.SubElement(ms, _q(NS_SSMA, 'ssrc-group'), {'semantics': semantics})
            for ssrc in group:
                ET.SubElement(g, _q(NS_SSMA, 'source'), {'ssrc': str(ssrc)})
    return ep


def to_string(elem):
    """Serialise an Element with the namespaces as default xmlns where possible-ish
    (ElementTree uses ns0/ns1 prefixes; fine for XMPP parsers, but this helper gives
    prefix-free output that matches how the docs write stanzas)."""
    return _plain(elem, None)


def _plain(elem, parent_ns):
    from xml.sax.saxutils import escape, quoteattr
    m = re.match(r'\{([^}]*)\}(.*)', elem.tag)
    ns, tag = (m.group(1), m.group(2)) if m else (None, elem.tag)
    out = '<' + tag
    if ns is not None and ns != parent_ns:
        out += ' xmlns=%s' % quoteattr(ns)
    for k, v in elem.attrib.items():
        out += ' %s=%s' % (k, quoteattr(v))
    children = list(elem)
    text = elem.text or ''
    if not children and not text:
        return out + '/>'
    out += '>' + escape(text)
    for ch in children:
        out += _plain(ch, ns if ns is not None else parent_ns) + escape(ch.tail or '')
    return out + '</%s>' % tag
