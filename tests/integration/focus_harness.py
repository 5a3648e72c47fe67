"""Focus integration tests: a real focus daemon beside a real xmppd and real
bridges (bridge_harness), driven by participants (jingle_peer) that speak
the conference IQ, MUC and Jingle like lib-jitsi-meet and carry media with
aiortc.

    with server(**xmppd_for_bridge()) as s:
        add_jvb_account(s)
        with bridge(s) as b, focus(s) as f:
            ...
"""

import contextlib
import json
import os
import tempfile
import urllib.error
import urllib.request

from harness import build_dir
from bridge_harness import FOCUS_SECRET, ServiceProc


def focus_path():
    return os.path.join(build_dir(), 'focus', 'focus')


class FocusProc(ServiceProc):
    """One focus daemon."""

    READY = 'focus joined the bridge brewery'
    NAME = 'focus'
    HTTP_PORT_KEY = 'FOCUS_HTTP_PORT'

    def __init__(self, tmpdir, xmppd, start=True, env=None, **overrides):
        self.xmppd = xmppd
        super().__init__(tmpdir, 'focus.conf', {
            'XMPP_DOMAIN': xmppd.domain,
            'XMPP_SERVER': '127.0.0.1',
            'XMPP_COMPONENT_PORT': str(xmppd.component_port),
            'JICOFO_COMPONENT_SECRET': FOCUS_SECRET,
            'FOCUS_HTTP_ADDRESS': '127.0.0.1',
            'LOG_LEVEL': 'info',
        }, overrides, env, start)

    def exe(self):
        return focus_path()

    def http(self, path, timeout=5):
        try:
            with urllib.request.urlopen('http://127.0.0.1:%d%s' % (self.http_port, path),
                                        timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def stats(self):
        status, body = self.http('/stats')
        assert status == 200, (status, body)
        return json.loads(body)


@contextlib.contextmanager
def focus(xmppd, **kw):
    with tempfile.TemporaryDirectory(prefix='parley-focus-') as d:
        with FocusProc(d, xmppd, **kw) as f:
            yield f
