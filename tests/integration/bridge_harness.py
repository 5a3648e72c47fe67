"""Bridge integration tests: a real bridge daemon beside a real xmppd, and a
small focus stand-in that speaks Colibri2 to it through xmppd.

    with server(...) as s, bridge(s) as b:
        focus = await FocusDriver.connect(s, b)
        cm = await focus.allocate(meeting, 'ep1', create=True)

The focus stand-in is the XEP-0114 component focus.DOMAIN (slixmpp) in the
bridge brewery, exactly where the real focus sits; Colibri2 IQs go to the
bridge's brewery occupant JID. Colibri2 answers become SDP offers for aiortc
peers with colibri_sdp.py, and their answers go back as Colibri2 updates.
"""

import contextlib
import json
import os
import subprocess
import tempfile
import threading
import urllib.request
import xml.etree.ElementTree as ET

from harness import (ComponentClient, Server, ServerError, _live_lock, _live_servers,
                     _scrubbed_env, build_dir, free_port, is_muc_presence, uid)
import colibri_sdp

NS_C2 = 'jitsi:colibri2'
IMUC = 'internal-muc.meet.parley'
BREWERY = 'jvbbrewery@' + IMUC
FOCUS_DOMAIN = 'focus.meet.parley'
FOCUS_SECRET = 'focus-secret-' + uid()
JVB_PASSWORD = 'jvb-pw-' + uid()


def bridge_path():
    return os.path.join(build_dir(), 'bridge', 'bridge')


def xmppd_for_bridge(**kw):
    """Keyword arguments for harness.server() so that a bridge and the focus
    stand-in can use it."""
    kw.setdefault('JICOFO_COMPONENT_SECRET', FOCUS_SECRET)
    return kw


class ServiceProc(Server):
    """A parley daemon beside xmppd (bridge, focus, ...): its own config file with
    a free HTTP port, started and waited for like xmppd; reuses Server's
    process, log and shutdown handling. Subclasses set NAME, READY (the log line
    that means "ready"), HTTP_PORT_KEY and exe(), and may override started()."""

    HTTP_PORT_KEY = None

    def __init__(self, tmpdir, config_name, config, overrides, env=None, start=True):
        self.dir = tmpdir
        self.http_port = free_port()
        self.config_path = os.path.join(tmpdir, config_name)
        self.config = dict(config)
        self.config[self.HTTP_PORT_KEY] = str(self.http_port)
        for k, v in overrides.items():
            if v is None:
                self.config.pop(k, None)
            else:
                self.config[k] = str(v)
        self.env = dict(env or {})
        self.raw_config = None
        self.write_config()
        self._init_process_state()
        if start:
            self.start()

    def exe(self):
        raise NotImplementedError

    def started(self):
        """Called once READY was logged."""

    def start(self, timeout=20):
        exe = self.exe()
        if not os.access(exe, os.X_OK):
            raise ServerError('%s binary not found at %s (build first)' % (self.NAME, exe))
        with self._log_cond:
            self._start_index = len(self.log_lines)
        self.proc = subprocess.Popen(
            [exe, '--config', self.config_path], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=_scrubbed_env(self.env),
            cwd=self.dir)
        self.starts += 1
        with _live_lock:
            _live_servers.add(self)
        self._reader = threading.Thread(target=self._read_log, args=(self.proc,), daemon=True)
        self._reader.start()
        try:
            self.wait_log(self.READY, timeout=timeout, since=self._start_index)
        except ServerError:
            rc = self.proc.poll()
            self._kill()
            log = ''.join(l + '\n' for l in self.log_lines[self._start_index:])
            if 'cannot listen' in log and self.starts < 4:
                self.http_port = free_port()
                self.config[self.HTTP_PORT_KEY] = str(self.http_port)
                self.write_config()
                return self.start(timeout)
            raise ServerError('%s did not log %r within %ss (exit code %s); log:\n%s'
                              % (self.NAME, self.READY, timeout, rc, log[-3000:]))
        self.started()


class BridgeProc(ServiceProc):
    """One bridge daemon."""

    READY = 'joined the brewery'
    NAME = 'bridge'
    HTTP_PORT_KEY = 'BRIDGE_HTTP_PORT'

    def __init__(self, tmpdir, xmppd, bridge_id=None, start=True, env=None, **overrides):
        self.xmppd = xmppd
        self.id = bridge_id or 'jvb-' + uid()[:8]
        super().__init__(tmpdir, 'bridge-%s.conf' % self.id, {
            'BRIDGE_ID': self.id,
            'XMPP_SERVER': '127.0.0.1',
            'XMPP_PORT': str(xmppd.port),
            'JVB_AUTH_PASSWORD': JVB_PASSWORD,
            'JVB_BIND_ADDRESS': '127.0.0.1',
            'JVB_PORT': '0',
            'JVB_ADVERTISE_IPS': '127.0.0.1',
            'BRIDGE_HTTP_ADDRESS': '127.0.0.1',
            'BRIDGE_STATS_INTERVAL': '1',
            'LOG_LEVEL': 'info',
        }, overrides, env, start)

    @property
    def occupant(self):
        return '%s/%s' % (BREWERY, self.id)

    def exe(self):
        return bridge_path()

    def started(self):
        line = self.wait_log('ready: media udp', timeout=1, since=self._start_index)
        self.media_port = int(line.split('ready: media udp ')[1].split(',')[0].rsplit(':', 1)[1])

    # -- HTTP ---------------------------------------------------------------
    def http(self, path, method='GET', timeout=5):
        """(status, body bytes) of a request to the bridge's HTTP port."""
        req = urllib.request.Request('http://127.0.0.1:%d%s' % (self.http_port, path),
                                     method=method, data=b'' if method == 'POST' else None)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def stats(self):
        status, body = self.http('/colibri/stats')
        assert status == 200, 'GET /colibri/stats: %s %s' % (status, body)
        return json.loads(body)


@contextlib.contextmanager
def bridge(xmppd, **kw):
    """A BridgeProc (the xmppd must have the jvb account: see add_jvb_account)."""
    with tempfile.TemporaryDirectory(prefix='parley-bridge-') as d:
        with BridgeProc(d, xmppd, **kw) as b:
            yield b


def add_jvb_account(s):
    s.adduser('jvb@' + s.auth_domain, JVB_PASSWORD)


def c2(xml):
    return '{%s}%s' % (NS_C2, xml)


class FocusDriver:
    """The focus stand-in: component focus.DOMAIN in the bridge brewery."""

    def __init__(self, comp):
        self.comp = comp

    @classmethod
    async def connect(cls, s, bridges=()):
        comp = await ComponentClient(s.component_port, FOCUS_DOMAIN, FOCUS_SECRET,
                                     name='focus').connect()
        pid = uid()
        comp.send_raw("<presence id='%s' from='%s/focus' to='%s/focus'>"
                      "<x xmlns='http://jabber.org/protocol/muc'/></presence>"
                      % (pid, FOCUS_DOMAIN, BREWERY))
        await comp.expect(is_muc_presence(BREWERY, 'focus', codes=(110,)), 10,
                          'the focus in the brewery')
        return cls(comp)

    async def close(self):
        await self.comp.close()

    async def request(self, bridge_occupant, body, timeout=10):
        """Sends <conference-modify ...>body</conference-modify> (body is the
        whole element as a string); returns the IQ response element."""
        iq_id = uid()
        resp = await self.comp.iq("<iq type='set' id='%s' from='%s/focus' to='%s'>%s</iq>"
                                  % (iq_id, FOCUS_DOMAIN, bridge_occupant, body), timeout)
        return resp.xml

    async def allocate(self, b, meeting, ep_id, create=False, expect_type='result'):
        media = ''.join(colibri_sdp.to_string(m) for m in colibri_sdp.colibri_media_xml())
        body = ("<conference-modify xmlns='%s' meeting-id='%s'%s>"
                "<endpoint id='%s' create='true' stats-id='%s-stats'>%s"
                "<transport ice-controlling='true'/><capability name='source-names'/>"
                "</endpoint></conference-modify>"
                % (NS_C2, meeting, " name='room@muc.meet.parley' create='true'" if create else '',
                   ep_id, ep_id, media))
        iq = await self.request(b.occupant, body)
        assert iq.get('type') == expect_type, 'allocate %s: %s' % (ep_id, ET.tostring(iq).decode())
        return iq.find(c2('conference-modified'))

    async def update(self, b, meeting, endpoint_elem, expect_type='result'):
        body = ("<conference-modify xmlns='%s' meeting-id='%s'>%s</conference-modify>"
                % (NS_C2, meeting, colibri_sdp.to_string(endpoint_elem)))
        iq = await self.request(b.occupant, body)
        assert iq.get('type') == expect_type, 'update: %s' % ET.tostring(iq).decode()
        return iq

    async def expire(self, b, meeting, ep_id=None):
        if ep_id:
            body = ("<conference-modify xmlns='%s' meeting-id='%s'><endpoint id='%s' expire='true'/>"
                    "</conference-modify>" % (NS_C2, meeting, ep_id))
        else:
            body = ("<conference-modify xmlns='%s' meeting-id='%s' expire='true'/>"
                    % (NS_C2, meeting))
        return await self.request(b.occupant, body)


class Call:
    """A conference on one bridge with aiortc peers: allocation, offer/answer,
    transport + sources to the bridge, then re-offers so that every peer
    receives every other peer's media (as the focus does with source-add)."""

    def __init__(self, focus, b, meeting=None):
        self.focus = focus
        self.b = b
        self.meeting = meeting or 'meeting-' + uid()
        self.peers = {}      # ep id -> Peer
        self.cm = {}         # ep id -> conference-modified element
        self.ssrcs = {}      # ep id -> answer_ssrcs()
        self.created = False

    def _offer(self, ep_id):
        others = [dict(id=o, **self.ssrcs[o]) for o in self.peers if o != ep_id and o in self.ssrcs]
        cm = self.cm[ep_id]
        return colibri_sdp.offer_from_colibri(colibri_sdp.find_endpoint(cm, ep_id),
                                              colibri_sdp.feedback_sources_from_colibri(self.cm_first),
                                              others)

    async def join(self, peer, ep_id):
        cm = await self.focus.allocate(self.b, self.meeting, ep_id, create=not self.created)
        if not self.created:
            self.cm_first = cm
        self.created = True
        self.cm[ep_id] = cm
        self.peers[ep_id] = peer
        answer = await peer.answer(self._offer(ep_id))
        self.ssrcs[ep_id] = colibri_sdp.answer_ssrcs(answer)
        await self.focus.update(self.b, self.meeting,
                                colibri_sdp.colibri_update_from_answer(ep_id, answer))
        return cm

    async def renegotiate(self):
        """Every peer gets an offer with everyone else's sources."""
        for ep_id, peer in self.peers.items():
            await peer.answer(self._offer(ep_id))

    def ws_url(self, ep_id):
        return colibri_sdp.transport_from_colibri(
            colibri_sdp.find_endpoint(self.cm[ep_id], ep_id))['websocket']

    async def close(self):
        for p in self.peers.values():
            await p.close()
