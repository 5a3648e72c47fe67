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
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request

from harness import (Server, ServerError, _live_lock, _live_servers, _scrubbed_env, build_dir,
                     free_port)
from bridge_harness import FOCUS_SECRET


def focus_path():
    return os.path.join(build_dir(), 'focus', 'focus')


class FocusProc(Server):
    """One focus daemon; reuses Server's process, log and shutdown handling."""

    READY = 'focus joined the bridge brewery'
    NAME = 'focus'

    def __init__(self, tmpdir, xmppd, start=True, env=None, **overrides):
        self.dir = tmpdir
        self.xmppd = xmppd
        self.http_port = free_port()
        self.config_path = os.path.join(tmpdir, 'focus.conf')
        self.config = {
            'XMPP_DOMAIN': xmppd.domain,
            'XMPP_SERVER': '127.0.0.1',
            'XMPP_COMPONENT_PORT': str(xmppd.component_port),
            'JICOFO_COMPONENT_SECRET': FOCUS_SECRET,
            'FOCUS_HTTP_ADDRESS': '127.0.0.1',
            'FOCUS_HTTP_PORT': str(self.http_port),
            'LOG_LEVEL': 'info',
        }
        for k, v in overrides.items():
            if v is None:
                self.config.pop(k, None)
            else:
                self.config[k] = str(v)
        self.env = dict(env or {})
        self.raw_config = None
        self.write_config()
        self.proc = None
        self.log_lines = []
        self._log_cond = threading.Condition()
        self._reader = None
        self.exit_codes = []
        self.problems = []
        self.starts = 0
        if start:
            self.start()

    def start(self, timeout=20):
        exe = focus_path()
        if not os.access(exe, os.X_OK):
            raise ServerError('focus binary not found at %s (build first)' % exe)
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
                self.config['FOCUS_HTTP_PORT'] = str(self.http_port)
                self.write_config()
                return self.start(timeout)
            raise ServerError('focus did not join the brewery within %ss (exit code %s); log:\n%s'
                              % (timeout, rc, log[-3000:]))

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
