"""Integration-test harness for parley's xmppd.

Starts real xmppd processes on 127.0.0.1 (one per Server, in its own temporary
directory), drives them with slixmpp clients, raw sockets and the CLI tools, and
runs the `test_*` functions of a test file with a time bound each.

Everything waits on events (log lines, stanzas, socket reads) with a deadline;
nothing sleeps for synchronisation. Run a test file with /usr/bin/python3:

    /usr/bin/python3 tests/integration/test_messages.py [NAME_SUBSTRING...]

PARLEY_BUILD_DIR points at the meson build directory (default /work/main/build,
or the `build` directory beside the sources).
"""

import asyncio
import base64
import contextlib
import hashlib
import hmac
import inspect
import logging
import os
import re
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from xml.sax.saxutils import escape as xml_escape, quoteattr

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_ROOT = os.path.dirname(os.path.dirname(HERE))


def build_dir():
    d = os.environ.get('PARLEY_BUILD_DIR')
    if d:
        return d
    if os.path.isdir('/work/main/build'):
        return '/work/main/build'
    return os.path.join(SRC_ROOT, 'build')


def xmppd_path():
    return os.path.join(build_dir(), 'xmppd', 'xmppd')


def parleyctl_path():
    return os.path.join(build_dir(), 'xmppd', 'parleyctl')


DEFAULT_DOMAIN = 'meet.parley'
DEFAULTS = {
    'XMPP_DOMAIN': 'meet.parley',
    'XMPP_AUTH_DOMAIN': 'auth.meet.parley',
    'XMPP_GUEST_DOMAIN': 'guest.meet.parley',
    'XMPP_HIDDEN_DOMAIN': 'hidden.meet.parley',
    'XMPP_MUC_DOMAIN': 'muc.meet.parley',
    'XMPP_INTERNAL_MUC_DOMAIN': 'internal-muc.meet.parley',
    'XMPP_BIND_ADDRESS': '127.0.0.1',
    'XMPP_LOGIN_RATE': '100000',
    'LOG_LEVEL': 'info',
}

NS_STREAM = 'http://etherx.jabber.org/streams'
NS_STREAMS_ERR = 'urn:ietf:params:xml:ns:xmpp-streams'
NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas'
NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl'
NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls'
NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind'
NS_SESSION = 'urn:ietf:params:xml:ns:xmpp-session'
NS_ROSTER = 'jabber:iq:roster'

SANITIZER_MARKERS = ('ERROR: AddressSanitizer', 'runtime error:', 'ERROR: LeakSanitizer',
                     'WARNING: ThreadSanitizer', 'ERROR: MemorySanitizer')


def _scrubbed_env(extra=None):
    """The environment for a daemon or tool: without any inherited config key
    (every key can be overridden by an environment variable of its name)."""
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith('XMPP_') or k.startswith('ENABLE_') or k.startswith('C2S_')
                   or k in ('LOG_LEVEL', 'PARLEY_CONFIG', 'JVB_AUTH_USER', 'PUBLIC_URL'))}
    if extra:
        env.update({k: str(v) for k, v in extra.items()})
    return env


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


_cert_lock = threading.Lock()


def make_cert(directory):
    """A self-signed EC P-256 certificate for CN=localhost; returns (cert, key)."""
    cert = os.path.join(directory, 'cert.pem')
    key = os.path.join(directory, 'key.pem')
    with _cert_lock:
        subprocess.run(
            ['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
             '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost',
             '-addext', 'subjectAltName=DNS:localhost,DNS:meet.parley,DNS:*.meet.parley'],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
    return cert, key


_live_servers = set()
_live_lock = threading.Lock()


class ServerError(AssertionError):
    pass


class Server:
    """One xmppd on 127.0.0.1 with its own config, certificate and data dir.

    Config overrides are keyword arguments (value None removes the key from the
    file, so the built-in default applies). `env` adds environment variables for
    the daemon only. Use as a context manager: on exit it stops the daemon,
    fails if it crashed (non-zero exit after SIGTERM, sanitizer report), and
    prints the log when anything failed.
    """

    READY = 'xmppd ready'
    NAME = 'xmppd'

    def __init__(self, tmpdir, start=True, env=None, raw_config=None, **overrides):
        self.dir = tmpdir
        self.config_path = os.path.join(tmpdir, 'xmppd.conf')
        self.data_dir = os.path.join(tmpdir, 'data')
        os.makedirs(self.data_dir, exist_ok=True)
        self.cert, self.key = make_cert(tmpdir)
        self.port = free_port()
        self.component_port = free_port()
        self.http_port = free_port()
        self.config = dict(DEFAULTS)
        self.config.update({
            'XMPP_PORT': str(self.port),
            'XMPP_COMPONENT_PORT': str(self.component_port),
            'XMPP_HTTP_PORT': str(self.http_port),
            'XMPP_DATA_DIR': self.data_dir,
            'XMPP_TLS_CERT': self.cert,
            'XMPP_TLS_KEY': self.key,
        })
        for k, v in overrides.items():
            if v is None:
                self.config.pop(k, None)
            else:
                self.config[k] = str(v)
        self.env = dict(env or {})
        self.raw_config = raw_config
        self.write_config()
        self._init_process_state()
        if start:
            self.start()

    def _init_process_state(self):
        """No process yet, an empty log, no problems recorded."""
        self.proc = None
        self.log_lines = []
        self._log_cond = threading.Condition()
        self._reader = None
        self.exit_codes = []
        self.problems = []
        self.starts = 0

    # -- configuration ----------------------------------------------------
    @property
    def domain(self):
        return self.config.get('XMPP_DOMAIN', DEFAULT_DOMAIN)

    @property
    def auth_domain(self):
        return self.config.get('XMPP_AUTH_DOMAIN', 'auth.meet.parley')

    @property
    def guest_domain(self):
        return self.config.get('XMPP_GUEST_DOMAIN', 'guest.meet.parley')

    @property
    def hidden_domain(self):
        return self.config.get('XMPP_HIDDEN_DOMAIN', 'hidden.meet.parley')

    def write_config(self):
        with open(self.config_path, 'w') as f:
            if self.raw_config is not None:
                f.write(self.raw_config)
            else:
                f.write('# written by tests/integration/harness.py\n')
                for k, v in self.config.items():
                    f.write('%s=%s\n' % (k, v))

    # -- process ----------------------------------------------------------
    def start(self, timeout=15):
        exe = xmppd_path()
        if not os.access(exe, os.X_OK):
            raise ServerError('xmppd binary not found at %s (build first)' % exe)
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
            log = ''.join(self.log_lines[self._start_index:])
            if 'cannot listen' in log and self.starts < 4:
                # another test took one of our "free" ports meanwhile: new ports, again
                self.port, self.component_port, self.http_port = free_port(), free_port(), free_port()
                self.config.update({'XMPP_PORT': str(self.port),
                                    'XMPP_COMPONENT_PORT': str(self.component_port),
                                    'XMPP_HTTP_PORT': str(self.http_port)})
                self.write_config()
                return self.start(timeout)
            raise ServerError('xmppd did not become ready within %ss (exit code %s); log:\n%s'
                              % (timeout, rc, log[-3000:]))

    def _read_log(self, proc):
        for raw in iter(proc.stdout.readline, b''):
            line = raw.decode('utf-8', 'replace').rstrip('\n')
            with self._log_cond:
                self.log_lines.append(line)
                self._log_cond.notify_all()
        proc.stdout.close()
        with self._log_cond:
            self._log_cond.notify_all()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def mark(self):
        """Index of the next log line, for wait_log(since=...)."""
        with self._log_cond:
            return len(self.log_lines)

    def wait_log(self, substring, timeout=10, since=0):
        """Waits for a log line (from index `since`) containing substring (or
        matching it, if it is a compiled regex). Returns the line."""
        deadline = time.monotonic() + timeout
        with self._log_cond:
            i = since
            while True:
                while i < len(self.log_lines):
                    line = self.log_lines[i]
                    i += 1
                    if (substring.search(line) if hasattr(substring, 'search') else substring in line):
                        return line
                if self.proc is not None and self.proc.poll() is not None and \
                        (self._reader is None or not self._reader.is_alive()):
                    raise ServerError('%s exited (code %s) while waiting for log %r'
                                      % (self.NAME, self.proc.returncode, substring))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ServerError('timed out after %ss waiting for log line %r' % (timeout, substring))
                self._log_cond.wait(min(left, 0.5))

    async def await_log(self, substring, timeout=10, since=0):
        """wait_log for async tests (does not block the event loop)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, lambda: self.wait_log(substring, timeout, since))

    def log_text(self):
        with self._log_cond:
            return '\n'.join(self.log_lines)

    def assert_alive(self):
        if not self.running():
            raise ServerError('%s is not running (exit code %s)'
                              % (self.NAME, self.proc and self.proc.returncode))

    def stop(self, timeout=10):
        """SIGTERM, wait (SIGKILL after `timeout`); returns the exit code and
        records a problem if it was not a clean exit."""
        if self.proc is None:
            return None
        proc = self.proc
        if proc.poll() is None:
            already_dead = False
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
                self.problems.append('%s did not exit within %ss of SIGTERM (killed)' % (self.NAME, timeout))
        else:
            already_dead = True
        if self._reader is not None:
            self._reader.join(5)
        rc = proc.returncode
        self.exit_codes.append(rc)
        if already_dead:
            self.problems.append('%s died before it was stopped (exit code %s)' % (self.NAME, rc))
        elif rc != 0 and not any(p.startswith(self.NAME + ' did not exit') for p in self.problems):
            self.problems.append('%s exited with code %s after SIGTERM' % (self.NAME, rc))
        self.proc = None
        with _live_lock:
            _live_servers.discard(self)
        self._check_sanitizers()
        return rc

    def _kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        with _live_lock:
            _live_servers.discard(self)

    def _check_sanitizers(self):
        with self._log_cond:
            bad = [l for l in self.log_lines if any(m in l for m in SANITIZER_MARKERS)]
        if bad and not any(p.startswith('sanitizer') for p in self.problems):
            self.problems.append('sanitizer report in the log: %s' % bad[0])

    def restart(self, timeout=15):
        rc = self.stop()
        if rc != 0:
            raise ServerError('%s exited with %s on SIGTERM before restart' % (self.NAME, rc))
        self.start(timeout)

    def check(self):
        """Raises if the daemon crashed or reported a sanitizer error so far."""
        if self.proc is not None and self.proc.poll() is not None:
            self.problems.append('%s died during the test (exit code %s)' % (self.NAME, self.proc.returncode))
            self.proc = None
        self._check_sanitizers()
        if self.problems:
            raise ServerError('; '.join(self.problems))

    def print_log(self, file=None):
        file = file or sys.stdout
        print('----- %s log (%s) -----' % (self.NAME, self.dir), file=file)
        print(self.log_text(), file=file)
        print('----- end of %s log -----' % self.NAME, file=file)
        file.flush()

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        try:
            self.stop()
        except Exception as e:  # pragma: no cover - reported below
            self.problems.append('stopping failed: %r' % e)
        if et is not None or self.problems:
            self.print_log()
        if et is None and self.problems:
            raise ServerError('; '.join(self.problems))
        return False

    # -- tools ------------------------------------------------------------
    def parleyctl(self, *args, input=None, timeout=20, env=None, config=True):
        """Runs parleyctl --config FILE ARGS; returns (rc, stdout, stderr)."""
        cmd = [parleyctl_path()]
        if config:
            cmd += ['--config', self.config_path]
        cmd += list(args)
        p = subprocess.run(cmd, input=input, stdin=None if input is not None else subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout,
                           env=_scrubbed_env(dict(self.env, **(env or {}))))
        return p.returncode, p.stdout, p.stderr

    def adduser(self, jid, password):
        rc, out, err = self.parleyctl('adduser', jid, input=password + '\n')
        if rc != 0:
            raise AssertionError('parleyctl adduser %s failed (%s): %s%s' % (jid, rc, out, err))

    def jid(self, user, domain=None):
        return '%s@%s' % (user, domain or self.domain)


@contextlib.contextmanager
def server(**kw):
    """A Server in a fresh temporary directory."""
    with tempfile.TemporaryDirectory(prefix='parley-it-') as d:
        with Server(d, **kw) as s:
            yield s


def kill_live_servers():
    with _live_lock:
        servers = list(_live_servers)
    for s in servers:
        s._kill()


# ---------------------------------------------------------------------------
# slixmpp clients

logging.basicConfig(level=os.environ.get('PARLEY_TEST_LOG', 'CRITICAL').upper(),
                    format='%(asctime)s %(name)s %(levelname)s %(message)s')


def _slixmpp():
    import slixmpp  # noqa: imported lazily so a missing module fails one test, not the import
    return slixmpp


class AuthFailed(AssertionError):
    def __init__(self, msg, condition=None):
        super().__init__(msg)
        self.condition = condition


def _make_catch_all(client):
    from slixmpp.xmlstream.handler import Callback
    from slixmpp.xmlstream.matcher.base import MatcherBase

    class MatchStanza(MatcherBase):
        def match(self, xml):
            tag = getattr(getattr(xml, 'xml', None), 'tag', None)
            return tag in ('{jabber:client}message', '{jabber:client}presence', '{jabber:client}iq')

    return Callback('parley-test catch-all', MatchStanza(None), client._on_stanza)



async def await_match(items, new, pred, timeout, on_timeout):
    """Waits (event-driven, bounded) until an element of the list items
    satisfies pred; removes and returns it. new is an asyncio.Event set
    whenever items grows; on_timeout() returns the AssertionError message."""
    deadline = time.monotonic() + timeout
    while True:
        for i, item in enumerate(items):
            try:
                ok = pred(item)
            except Exception:
                ok = False
            if ok:
                del items[i]
                return item
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(on_timeout())
        new.clear()
        try:
            await asyncio.wait_for(new.wait(), left)
        except asyncio.TimeoutError:
            pass

class Client:
    """A slixmpp ClientXMPP plus a buffer of every stanza it received.

    `expect(pred)` returns (and removes) the first buffered stanza matching
    pred, waiting for more up to a timeout. Stanzas are slixmpp stanza objects;
    `.xml` is the ElementTree element, so predicates can check raw attributes.
    """

    def __init__(self, port, jid, password=None, *, mech=None, name=None,
                 plugins=('xep_0030', 'xep_0199', 'xep_0092'), manual_subscriptions=True):
        slixmpp = _slixmpp()
        self.port = port
        self.name = name or jid
        self.xmpp = slixmpp.ClientXMPP(jid, password or '', sasl_mech=mech)
        self.xmpp.ssl_context.check_hostname = False
        self.xmpp.ssl_context.verify_mode = ssl.CERT_NONE
        self.xmpp.whitespace_keepalive = False
        for p in plugins:
            if p == 'xep_0199':
                self.xmpp.register_plugin(p, {'keepalive': False})
            else:
                self.xmpp.register_plugin(p)
        if manual_subscriptions:
            self.xmpp.auto_authorize = None
            self.xmpp.auto_subscribe = False
        self.buf = []
        self.all = []
        self._new = asyncio.Event()
        self.stream_errors = []
        self.auth_failures = []
        self.disconnected = asyncio.Event()
        self.xmpp.register_handler(_make_catch_all(self))
        self.xmpp.add_event_handler('stream_error', self._on_stream_error)
        self.xmpp.add_event_handler('failed_auth', self._on_failed_auth)
        self.xmpp.add_event_handler('disconnected', self._on_disconnected)
        self.session = asyncio.get_running_loop().create_future()

    # events
    def _on_stanza(self, st):
        self.buf.append(st)
        self.all.append(st)
        self._new.set()

    def _on_stream_error(self, err):
        self.stream_errors.append(err)
        self._new.set()
        if not self.session.done():
            self.session.set_exception(AuthFailed('%s: stream error %s before session start'
                                                  % (self.name, err['condition']), err['condition']))

    def _on_failed_auth(self, st):
        cond = st['condition'] if st is not None else None
        self.auth_failures.append(cond)
        if not self.session.done():
            self.session.set_exception(AuthFailed('%s: SASL failure %s' % (self.name, cond), cond))

    def _on_disconnected(self, reason):
        self.disconnected.set()
        self._new.set()
        if not self.session.done():
            self.session.set_exception(AuthFailed('%s: disconnected before session start (%s)'
                                                  % (self.name, reason)))

    @property
    def jid(self):
        """The bound full JID (str)."""
        return str(self.xmpp.boundjid.full)

    @property
    def bare(self):
        return str(self.xmpp.boundjid.bare)

    async def connect(self, timeout=10, presence=None, priority=None, roster=False,
                      plain=False):
        """Connects to 127.0.0.1:port, waits for session_start. Raises
        AuthFailed on SASL failure / stream error / disconnect. With
        presence (a status string or True) sends initial presence."""
        self.xmpp.connect(('127.0.0.1', self.port), disable_starttls=plain, force_starttls=not plain)
        try:
            await asyncio.wait_for(asyncio.shield(self.session), timeout)
        except asyncio.TimeoutError:
            self.abort()
            raise AssertionError('%s: no session within %ss' % (self.name, timeout))
        except AuthFailed:
            self.abort()
            raise
        if roster:
            await self.iq("<iq type='get' id='%s'><query xmlns='jabber:iq:roster'/></iq>" % uid(),
                          timeout=timeout)
        if presence is not None or priority is not None:
            self.send_presence(status=presence if isinstance(presence, str) else None,
                               priority=priority)
        return self

    def session_started(self, *_):
        if not self.session.done():
            self.session.set_result(True)

    def send_presence(self, status=None, priority=None, to=None, type=None, show=None):
        attrs = ''
        if to:
            attrs += ' to=%s' % quoteattr(to)
        if type:
            attrs += ' type=%s' % quoteattr(type)
        inner = ''
        if show:
            inner += '<show>%s</show>' % show
        if status:
            inner += '<status>%s</status>' % xml_escape(status)
        if priority is not None:
            inner += '<priority>%d</priority>' % priority
        self.send_raw('<presence%s>%s</presence>' % (attrs, inner))

    def send_message(self, to, body, type='chat', id=None, extra=''):
        id = id or uid()
        self.send_raw("<message to=%s type=%s id=%s><body>%s</body>%s</message>"
                      % (quoteattr(to), quoteattr(type), quoteattr(id), xml_escape(body), extra))
        return id

    def send_raw(self, data):
        self.xmpp.send_raw(data)

    async def iq(self, xml, timeout=10, expect_type=None):
        """Sends a raw IQ (with an id attribute) and waits for the result or
        error with that id. Returns the response stanza."""
        m = re.search(r"""\bid=['"]([^'"]+)['"]""", xml)
        assert m, 'iq needs an id'
        iq_id = m.group(1)
        self.send_raw(xml)
        resp = await self.expect(lambda s: s.xml.tag == '{jabber:client}iq'
                                 and s.xml.get('id') == iq_id
                                 and s.xml.get('type') in ('result', 'error'),
                                 timeout, 'response to iq %s' % iq_id)
        if expect_type is not None and resp.xml.get('type') != expect_type:
            raise AssertionError('%s: iq %s answered with type %s, expected %s: %s'
                                 % (self.name, iq_id, resp.xml.get('type'), expect_type, resp))
        return resp

    async def ping(self, to=None, timeout=10):
        """XEP-0199 ping; returns the response (asserts it is a result)."""
        to_attr = ' to=%s' % quoteattr(to) if to else ''
        return await self.iq("<iq type='get' id='%s'%s><ping xmlns='urn:xmpp:ping'/></iq>"
                             % (uid(), to_attr), timeout, expect_type='result')

    async def expect(self, pred, timeout=5, what='a matching stanza'):
        def timed_out():
            recent = '\n    '.join(str(s) for s in self.buf[-8:]) or '(nothing)'
            return ('%s: timed out after %ss waiting for %s; unconsumed stanzas:\n    %s'
                    % (self.name, timeout, what, recent))
        return await await_match(self.buf, self._new, pred, timeout, timed_out)

    def pending(self, pred=lambda s: True):
        return [s for s in self.buf if pred(s)]

    def assert_none(self, pred, what='an unexpected stanza'):
        bad = self.pending(pred)
        if bad:
            raise AssertionError('%s: received %s: %s' % (self.name, what, bad[0]))

    async def expect_stream_error(self, timeout=10):
        deadline = time.monotonic() + timeout
        while not self.stream_errors:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError('%s: no stream error within %ss' % (self.name, timeout))
            self._new.clear()
            try:
                await asyncio.wait_for(self._new.wait(), left)
            except asyncio.TimeoutError:
                pass
        return self.stream_errors[0]['condition']

    async def wait_disconnected(self, timeout=10):
        await asyncio.wait_for(self.disconnected.wait(), timeout)

    def abort(self):
        try:
            self.xmpp.cancel_connection_attempt()
            self.xmpp.abort()
        except Exception:  # already half torn down by slixmpp
            pass

    async def close(self, timeout=3):
        """Closes the stream politely (waits for the server's close)."""
        if self.xmpp.transport is None:
            self.xmpp.cancel_connection_attempt()
            return
        try:
            await asyncio.wait_for(self.xmpp.disconnect(wait=timeout), timeout + 1)
        except (asyncio.TimeoutError, Exception):
            self.abort()
        if not self.disconnected.is_set():
            self.abort()


def make_client(port, jid, password=None, **kw):
    c = Client(port, jid, password, **kw)
    c.xmpp.add_event_handler('session_start', c.session_started)
    return c


async def login(server_or_port, jid, password=None, *, resource=None, timeout=10, **kw):
    """A logged-in Client for jid (bare or full; no node = anonymous on that
    domain). Connect kwargs: presence, priority, roster, plain."""
    port = getattr(server_or_port, 'port', server_or_port)
    connect_kw = {k: kw.pop(k) for k in ('presence', 'priority', 'roster', 'plain') if k in kw}
    full = jid + ('/' + resource if resource else '')
    c = make_client(port, full, password, **kw)
    await c.connect(timeout=timeout, **connect_kw)
    return c


async def close_all(*clients):
    await asyncio.gather(*(c.close() for c in clients if c is not None), return_exceptions=True)


@contextlib.asynccontextmanager
async def clients():
    """Collects clients and closes them all at the end."""
    lst = []
    try:
        yield lst
    finally:
        await close_all(*lst)


def uid():
    return uuid.uuid4().hex[:12]


# Predicates over slixmpp stanzas (raw attributes, so nothing is interpreted).

def _tag(st):
    return st.xml.tag.split('}')[-1]


def _jid_eq(actual, expected):
    if expected is None:
        return True
    if actual is None:
        return False
    return actual.lower() == expected.lower()


def is_message(body=None, frm=None, type=None, to=None, frm_bare=None):
    def pred(st):
        if _tag(st) != 'message':
            return False
        if type is not None and (st.xml.get('type') or 'normal') != type:
            return False
        if not _jid_eq(st.xml.get('from'), frm):
            return False
        if frm_bare is not None and not _jid_eq((st.xml.get('from') or '').split('/')[0], frm_bare):
            return False
        if not _jid_eq(st.xml.get('to'), to):
            return False
        if body is not None and st['body'] != body:
            return False
        return True
    return pred


def is_presence(type=None, frm=None, frm_bare=None, status=None):
    """type None means available (no type attribute); '*' means any."""
    def pred(st):
        if _tag(st) != 'presence':
            return False
        t = st.xml.get('type')
        if type != '*' and t != type:
            return False
        if not _jid_eq(st.xml.get('from'), frm):
            return False
        if frm_bare is not None and not _jid_eq((st.xml.get('from') or '').split('/')[0], frm_bare):
            return False
        if status is not None and st['status'] != status:
            return False
        return True
    return pred


def is_iq(type=None, id=None, frm=None, ns=None):
    def pred(st):
        if _tag(st) != 'iq':
            return False
        if type is not None and st.xml.get('type') != type:
            return False
        if id is not None and st.xml.get('id') != id:
            return False
        if not _jid_eq(st.xml.get('from'), frm):
            return False
        if ns is not None and not any(ch.tag.startswith('{%s}' % ns) for ch in st.xml):
            return False
        return True
    return pred


def is_roster_push(jid=None, subscription=None, ask='any'):
    def pred(st):
        if _tag(st) != 'iq' or st.xml.get('type') != 'set':
            return False
        q = st.xml.find('{jabber:iq:roster}query')
        if q is None:
            return False
        for item in q.findall('{jabber:iq:roster}item'):
            if jid is not None and (item.get('jid') or '').lower() != jid.lower():
                continue
            if subscription is not None and (item.get('subscription') or 'none') != subscription:
                continue
            if ask != 'any' and item.get('ask') != ask:
                continue
            return True
        return False
    return pred


def error_condition(st):
    """(type, condition) of a stanza error, or (None, None)."""
    err = st.xml.find('{jabber:client}error')
    if err is None:
        return None, None
    for ch in err:
        if ch.tag.startswith('{%s}' % NS_STANZAS) and not ch.tag.endswith('}text'):
            return err.get('type'), ch.tag.split('}')[-1]
    return err.get('type'), None


def assert_error(st, condition, etype=None):
    t, c = error_condition(st)
    assert st.xml.get('type') == 'error', 'expected an error stanza, got: %s' % st
    assert c == condition, 'expected error condition %s, got %s: %s' % (condition, c, st)
    if etype is not None:
        assert t == etype, 'expected error type %s, got %s: %s' % (etype, t, st)


def roster_items(st):
    q = st.xml.find('{jabber:iq:roster}query')
    if q is None:
        return {}
    out = {}
    for item in q.findall('{jabber:iq:roster}item'):
        out[(item.get('jid') or '').lower()] = {
            'name': item.get('name'),
            'subscription': item.get('subscription') or 'none',
            'ask': item.get('ask'),
            'groups': sorted((g.text or '') for g in item.findall('{jabber:iq:roster}group')),
        }
    return out


# ---------------------------------------------------------------------------
# Raw sockets


def tls_client_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


STREAM_ERROR_RE = re.compile(r'<stream:error\b[^>]*>\s*<([A-Za-z-]+)[\s/>]')
FEATURES_END_RE = re.compile(r'</stream:features>|<stream:features\s*/>')


def stream_header(to, version='1.0', xmlns='jabber:client', stream_ns=NS_STREAM, extra=''):
    to_attr = " to='%s'" % to if to is not None else ''
    ver = " version='%s'" % version if version is not None else ''
    return ("<?xml version='1.0'?><stream:stream%s%s xmlns='%s' xmlns:stream='%s'%s>"
            % (to_attr, ver, xmlns, stream_ns, extra))


class Raw:
    """An asyncio TCP connection for scripted byte-level exchanges."""

    def __init__(self, reader, writer, port):
        self.reader, self.writer, self.port = reader, writer, port
        self.buf = ''
        self.pos = 0
        self.closed = False
        self.tls = False
        self.jid = None

    @classmethod
    async def open(cls, port, timeout=5, source=None):
        """source: a local address to connect from (e.g. '127.0.0.2')."""
        kw = {'local_addr': (source, 0)} if source else {}
        r, w = await asyncio.wait_for(asyncio.open_connection('127.0.0.1', port, **kw), timeout)
        return cls(r, w, port)

    async def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.writer.write(data)
        await self.writer.drain()

    async def try_send(self, data):
        """send() that tolerates the peer having closed (returns False)."""
        try:
            await asyncio.wait_for(self.send(data), 10)
            return True
        except (ConnectionError, OSError, asyncio.TimeoutError):
            return False

    async def _fill(self, left):
        try:
            chunk = await asyncio.wait_for(self.reader.read(65536), left)
        except (ConnectionError, OSError, ssl.SSLError):
            chunk = b''
        if not chunk:
            self.closed = True
            return False
        self.buf += chunk.decode('utf-8', 'replace')
        return True

    async def flood(self, data, chunk=16384, stop=r'<stream:error|</stream:stream>', timeout=30):
        """Writes data in chunks while reading; stops writing once the peer
        answered with `stop` (e.g. a stream error) or closed. Returns the
        number of bytes written."""
        if isinstance(data, str):
            data = data.encode()
        rx = re.compile(stop)
        deadline = time.monotonic() + timeout

        async def reader():
            while not self.closed and not rx.search(self.buf, self.pos) and time.monotonic() < deadline:
                try:
                    await self._fill(max(0.1, deadline - time.monotonic()))
                except asyncio.TimeoutError:
                    pass
        rtask = asyncio.ensure_future(reader())
        sent = 0
        try:
            while sent < len(data) and not rtask.done() and time.monotonic() < deadline:
                self.writer.write(data[sent:sent + chunk])
                sent += chunk
                try:
                    await asyncio.wait_for(self.writer.drain(), max(0.1, deadline - time.monotonic()))
                except (ConnectionError, OSError, asyncio.TimeoutError):
                    break
        finally:
            if not rtask.done():
                try:
                    await asyncio.wait_for(asyncio.shield(rtask), 0.05)
                except (asyncio.TimeoutError, Exception):
                    pass
            if not rtask.done():
                rtask.cancel()
                try:
                    await rtask
                except (asyncio.CancelledError, Exception):
                    pass
        return min(sent, len(data))

    async def read_until(self, pattern, timeout=5, what=None):
        """Reads until regex `pattern` matches the unconsumed input; returns the
        match and consumes through its end. Raises on timeout / close."""
        rx = re.compile(pattern, re.S) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf, self.pos)
            if m:
                self.pos = m.end()
                return m
            if self.closed:
                raise AssertionError('connection closed while waiting for %s; received: %r'
                                     % (what or rx.pattern, self.buf[self.pos:][-600:]))
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError('timed out after %ss waiting for %s; received: %r'
                                     % (timeout, what or rx.pattern, self.buf[self.pos:][-600:]))
            try:
                await self._fill(left)
            except asyncio.TimeoutError:
                pass

    async def read_until_closed(self, timeout=5):
        """Reads everything until the peer closes. Returns the unconsumed text;
        raises if the connection is still open after timeout."""
        deadline = time.monotonic() + timeout
        while not self.closed:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError('connection still open after %ss; received: %r'
                                     % (timeout, self.buf[self.pos:][-600:]))
            try:
                await self._fill(left)
            except asyncio.TimeoutError:
                pass
        return self.buf[self.pos:]

    async def expect_stream_error(self, conditions, timeout=10, closed=True):
        """Waits for <stream:error> with one of `conditions` (str or tuple),
        then (if closed) for </stream:stream> and the TCP close."""
        if isinstance(conditions, str):
            conditions = (conditions,)
        m = await self.read_until(STREAM_ERROR_RE, timeout, 'a stream error %s' % (conditions,))
        cond = m.group(1)
        assert cond in conditions, 'stream error <%s/>, expected one of %s; received: %r' % (
            cond, conditions, self.buf[-1500:])
        if closed:
            await self.read_until_closed(timeout)
            assert '</stream:stream>' in self.buf[m.start():], \
                'the stream was not closed with </stream:stream> after the error: %r' % self.buf[m.start():]
        return cond

    async def open_stream(self, to, timeout=5, **kw):
        """Sends a stream header and reads the server's header + features;
        returns the features text."""
        await self.send(stream_header(to, **kw))
        m = await self.read_until(r'<stream:stream\b[^>]*>', timeout, 'the stream header')
        self.header = m.group(0)
        m = await self.read_until(FEATURES_END_RE, timeout, 'stream features')
        start = self.buf.rfind('<stream:features', 0, m.end())
        self.features = self.buf[start:m.end()]
        return self.features

    async def starttls(self, timeout=5):
        await self.send("<starttls xmlns='%s'/>" % NS_TLS)
        await self.read_until(r'<proceed\b[^>]*/>|<proceed\b[^>]*>\s*</proceed>', timeout, '<proceed/>')
        await asyncio.wait_for(self.writer.start_tls(tls_client_context()), timeout)
        self.tls = True
        self.buf, self.pos = '', 0

    async def auth(self, mechanism, user=None, password=None, domain=None, timeout=5, authzid=''):
        """One SASL exchange; returns ('success', text) or ('failure', condition)."""
        if mechanism == 'PLAIN':
            data = base64.b64encode(('%s\0%s\0%s' % (authzid, user, password)).encode()).decode()
            await self.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>" % (NS_SASL, data))
            return await self._sasl_outcome(timeout)
        if mechanism == 'ANONYMOUS':
            await self.send("<auth xmlns='%s' mechanism='ANONYMOUS'/>" % NS_SASL)
            return await self._sasl_outcome(timeout)
        if mechanism.startswith('SCRAM-'):
            return await self._scram(mechanism, user, password, timeout)
        raise ValueError(mechanism)

    async def _sasl_outcome(self, timeout):
        """('success'|'challenge', data), ('failure', condition) or
        ('stream-error', condition)."""
        m = await self.read_until(
            r'<(success|failure|challenge)\b[^>]*?(?:/>|>(.*?)</\1>)|<stream:error\b[^>]*>\s*<([A-Za-z-]+)',
            timeout, 'a SASL answer')
        if m.group(3):
            return 'stream-error', m.group(3)
        kind, body = m.group(1), m.group(2) or ''
        if kind == 'failure':
            c = re.search(r'<([A-Za-z-]+)\s*/?>', body)
            cond = c.group(1) if c else None
            return 'failure', cond
        return kind, body.strip()

    async def _scram(self, mechanism, user, password, timeout):
        hname = {'SCRAM-SHA-1': 'sha1', 'SCRAM-SHA-256': 'sha256', 'SCRAM-SHA-512': 'sha512'}[mechanism]
        cnonce = base64.b64encode(secrets.token_bytes(18)).decode()
        first_bare = 'n=%s,r=%s' % (user.replace('=', '=3D').replace(',', '=2C'), cnonce)
        gs2 = 'n,,'
        await self.send("<auth xmlns='%s' mechanism='%s'>%s</auth>"
                        % (NS_SASL, mechanism, base64.b64encode((gs2 + first_bare).encode()).decode()))
        kind, body = await self._sasl_outcome(timeout)
        if kind != 'challenge':
            return kind, body
        server_first = base64.b64decode(body).decode()
        attrs = dict(kv.split('=', 1) for kv in server_first.split(','))
        assert attrs['r'].startswith(cnonce), 'server nonce does not extend the client nonce'
        salt = base64.b64decode(attrs['s'])
        iters = int(attrs['i'])
        salted = hashlib.pbkdf2_hmac(hname, password.encode(), salt, iters)
        client_key = hmac.new(salted, b'Client Key', hname).digest()
        stored_key = hashlib.new(hname, client_key).digest()
        final_wo_proof = 'c=%s,r=%s' % (base64.b64encode(gs2.encode()).decode(), attrs['r'])
        auth_msg = ','.join((first_bare, server_first, final_wo_proof))
        sig = hmac.new(stored_key, auth_msg.encode(), hname).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, sig))
        final = final_wo_proof + ',p=' + base64.b64encode(proof).decode()
        await self.send("<response xmlns='%s'>%s</response>" % (NS_SASL, base64.b64encode(final.encode()).decode()))
        kind, body = await self._sasl_outcome(timeout)
        server_key = hmac.new(salted, b'Server Key', hname).digest()
        expected_v = base64.b64encode(hmac.new(server_key, auth_msg.encode(), hname).digest()).decode()
        if kind == 'challenge':  # server-final as a challenge (allowed), answer empty
            got = base64.b64decode(body).decode()
            assert got == 'v=' + expected_v, 'bad SCRAM server signature: %r' % got
            await self.send("<response xmlns='%s'/>" % NS_SASL)
            kind, body = await self._sasl_outcome(timeout)
            return kind, body
        if kind == 'success':
            got = base64.b64decode(body).decode() if body and body != '=' else ''
            assert got == 'v=' + expected_v, 'SCRAM success without a valid server signature: %r' % got
        return kind, body

    async def bind(self, resource=None, timeout=5):
        iq_id = uid()
        inner = '<resource>%s</resource>' % xml_escape(resource) if resource else ''
        await self.send("<iq type='set' id='%s'><bind xmlns='%s'>%s</bind></iq>" % (iq_id, NS_BIND, inner))
        m = await self.read_until(r"<iq\b[^>]*\bid=['\"]%s['\"][^>]*>.*?</iq>|<iq\b[^>]*\bid=['\"]%s['\"][^>]*/>"
                                  % (iq_id, iq_id), timeout, 'the bind result')
        j = re.search(r'<jid>([^<]+)</jid>', m.group(0))
        assert j and "type='result'" in m.group(0).replace('"', "'"), 'bind failed: %s' % m.group(0)
        self.jid = j.group(1)
        return self.jid

    def close(self):
        try:
            self.writer.close()
        except Exception:
            pass

    async def aclose(self):
        self.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), 2)
        except Exception:
            pass


async def raw_connect(server, to=None, tls=None, timeout=5, source=None):
    """A Raw connection with the stream opened (and STARTTLS done when tls,
    default: when the server requires it). Features are in .features."""
    r = await Raw.open(server.port, timeout, source)
    to = to or server.domain
    await r.open_stream(to, timeout)
    if tls is None:
        tls = server.config.get('C2S_REQUIRE_ENCRYPTION', 'true').lower() not in ('false', '0', 'no')
    if tls:
        await r.starttls(timeout)
        await r.open_stream(to, timeout)
    return r


async def raw_login(server, user=None, password=None, domain=None, tls=None, mechanism=None,
                    resource='raw', timeout=5, source=None):
    """A Raw connection authenticated (anonymous when user is None) and bound."""
    domain = domain or server.domain
    r = await raw_connect(server, domain, tls, timeout, source)
    if user is None:
        kind, body = await r.auth('ANONYMOUS', timeout=timeout)
    else:
        kind, body = await r.auth(mechanism or 'SCRAM-SHA-1', user, password, timeout=timeout)
    assert kind == 'success', 'raw login as %s@%s failed: %s %s' % (user, domain, kind, body)
    feats = await r.open_stream(domain, timeout)
    assert 'urn:ietf:params:xml:ns:xmpp-bind' in feats, 'no bind feature after SASL: %s' % feats
    await r.bind(resource, timeout)
    return r


def mechanisms(features):
    return re.findall(r'<mechanism>\s*([A-Z0-9_-]+)\s*</mechanism>', features)


# ---------------------------------------------------------------------------
# Bystander: a well-behaved pair that must keep working during attacks

class Bystander:
    """Two logged-in slixmpp clients; check() does a ping to the server and a
    message round trip between them."""

    def __init__(self, server):
        self.server = server
        self.a = self.b = None

    async def start(self):
        s = self.server
        pw = 'bystander-pw'
        # service accounts on XMPP_AUTH_DOMAIN (an account domain in every config)
        jids = ['watcher1@' + s.auth_domain, 'watcher2@' + s.auth_domain]
        for j in jids:
            rc, out, err = s.parleyctl('adduser', j, input=pw + '\n')
            assert rc == 0 or 'exist' in (out + err).lower(), 'adduser %s: %s %s' % (j, out, err)
        self.a = await login(s, jids[0], pw, resource='w', presence=True)
        self.b = await login(s, jids[1], pw, resource='w', presence=True)
        await self.check()
        return self

    async def check(self, timeout=10):
        await self.a.ping(timeout=timeout)
        body = 'bystander ' + uid()
        self.a.send_message(self.b.jid, body)
        await self.b.expect(is_message(body=body, frm=self.a.jid), timeout, 'the bystander message')
        body = 'bystander reply ' + uid()
        self.b.send_message(self.a.jid, body)
        await self.a.expect(is_message(body=body, frm=self.b.jid), timeout, 'the bystander reply')
        assert not self.a.stream_errors and not self.b.stream_errors, 'bystander got a stream error'
        self.server.check()

    async def close(self):
        await close_all(self.a, self.b)


# ---------------------------------------------------------------------------
# Runner

DEFAULT_TIMEOUT = 60


def timeout(seconds):
    """Decorator: a per-test time bound other than DEFAULT_TIMEOUT."""
    def deco(fn):
        fn.timeout = seconds
        return fn
    return deco


def _run_one(fn, result):
    try:
        if inspect.iscoroutinefunction(fn):
            asyncio.run(asyncio.wait_for(fn(), getattr(fn, 'timeout', DEFAULT_TIMEOUT)))
        else:
            fn()
        result['ok'] = True
    except BaseException:  # noqa: report everything, including timeouts
        result['tb'] = traceback.format_exc()


def main(namespace):
    """Runs every test_* function of namespace (in definition order), each
    with its own time bound; prints ok/FAIL lines and 'N passed, N failed'."""
    tests = [(n, f) for n, f in namespace.items() if n.startswith('test_') and callable(f)]
    wanted = [a for a in sys.argv[1:] if not a.startswith('-')]
    if wanted:
        tests = [(n, f) for n, f in tests if any(w in n for w in wanted)]
    passed = failed = 0
    if not os.access(xmppd_path(), os.X_OK):
        print('FAIL setup: %s is not built' % xmppd_path())
        print('0 passed, %d failed' % len(tests))
        sys.stdout.flush()
        os._exit(1)
    started = time.monotonic()
    for name, fn in tests:
        t0 = time.monotonic()
        limit = getattr(fn, 'timeout', DEFAULT_TIMEOUT)
        result = {}
        th = threading.Thread(target=_run_one, args=(fn, result), daemon=True, name=name)
        th.start()
        th.join(limit + 15)
        dt = time.monotonic() - t0
        if th.is_alive():
            kill_live_servers()
            th.join(10)
            result.setdefault('tb', 'test did not finish within %ss (hung)\n' % (limit + 15))
        if result.get('ok'):
            passed += 1
            print('ok %s (%.1fs)' % (name, dt))
        else:
            failed += 1
            print('FAIL %s (%.1fs)' % (name, dt))
            print(result.get('tb', '').rstrip())
        sys.stdout.flush()
    kill_live_servers()
    print('# %s: %.1fs' % (os.path.basename(sys.argv[0]), time.monotonic() - started))
    print('%d passed, %d failed' % (passed, failed))
    sys.stdout.flush()
    os._exit(1 if failed or not tests else 0)


# ---------------------------------------------------------------------------
# Multi-user chat (XEP-0045) helpers

NS_MUC = 'http://jabber.org/protocol/muc'
NS_MUC_USER = NS_MUC + '#user'
NS_MUC_ADMIN = NS_MUC + '#admin'
NS_MUC_OWNER = NS_MUC + '#owner'
NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info'
NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items'
NS_DATA = 'jabber:x:data'
NS_DELAY = 'urn:xmpp:delay'


def muc_x(st):
    """The <x xmlns='...muc#user'/> child of a stanza, or None."""
    return st.xml.find('{%s}x' % NS_MUC_USER)


def muc_codes(st):
    """Set of the muc#user status codes (ints) of a stanza."""
    x = muc_x(st)
    if x is None:
        return set()
    out = set()
    for s in x.findall('{%s}status' % NS_MUC_USER):
        try:
            out.add(int(s.get('code')))
        except (TypeError, ValueError):
            pass
    return out


def muc_item(st):
    """The attributes of the first muc#user <item/> (dict, plus 'reason' and
    'actor' texts when present), or None."""
    x = muc_x(st)
    if x is None:
        return None
    item = x.find('{%s}item' % NS_MUC_USER)
    if item is None:
        return None
    d = dict(item.attrib)
    r = item.find('{%s}reason' % NS_MUC_USER)
    if r is not None:
        d['reason'] = r.text or ''
    return d


def is_muc_presence(room, nick=None, type=None, codes=(), without=()):
    """A presence from room/nick (any nick when None) of type (None =
    available, '*' = any) whose muc#user status codes include `codes` and
    exclude `without`."""
    def pred(st):
        if _tag(st) != 'presence':
            return False
        t = st.xml.get('type')
        if type != '*' and t != type:
            return False
        frm = (st.xml.get('from') or '')
        bare, _, res = frm.partition('/')
        if bare.lower() != room.lower() or not _:
            return False
        if nick is not None and res != nick:
            return False
        got = muc_codes(st)
        return set(codes) <= got and not (set(without) & got)
    return pred


def is_stanza_id(kind, id, type=None):
    """A message/presence/iq with this id (and type when given)."""
    def pred(st):
        return (_tag(st) == kind and st.xml.get('id') == id
                and (type is None or st.xml.get('type') == type))
    return pred


def muc_join_xml(occupant, password=None, history=None, extra='', id=None):
    inner = ''
    if password is not None:
        inner += '<password>%s</password>' % xml_escape(password)
    if history is not None:
        inner += '<history %s/>' % ' '.join('%s=%s' % (k, quoteattr(str(v))) for k, v in history.items())
    return "<presence to=%s id=%s><x xmlns='%s'>%s</x>%s</presence>" % (
        quoteattr(occupant), quoteattr(id or uid()), NS_MUC, inner, extra)


async def muc_join(client, room, nick, password=None, history=None, extra='', timeout=10):
    """Joins room as nick; returns the self-presence (status 110). Raises
    with the error condition if the join fails."""
    jid = '%s/%s' % (room, nick)
    jid_id = uid()
    client.send_raw(muc_join_xml(jid, password, history, extra, jid_id))
    st = await client.expect(
        lambda s: (is_muc_presence(room, nick, codes=(110,))(s)
                   or (_tag(s) == 'presence' and s.xml.get('type') == 'error' and s.xml.get('id') == jid_id)),
        timeout, 'the self-presence of %s' % jid)
    if st.xml.get('type') == 'error':
        raise AssertionError('%s: joining %s failed: %s %s' % (client.name, jid, error_condition(st), st))
    return st


async def muc_join_error(client, occupant, password=None, history=None, extra='', timeout=10):
    """Sends a join that must fail; returns the error presence (matched by id)."""
    pid = uid()
    client.send_raw(muc_join_xml(occupant, password, history, extra, pid))
    st = await client.expect(
        lambda s: _tag(s) == 'presence' and s.xml.get('id') == pid
        or (_tag(s) == 'presence' and (s.xml.get('from') or '').lower() == occupant.lower()
            and s.xml.get('type') != 'error' and 110 in muc_codes(s)),
        timeout, 'the error answer to joining %s' % occupant)
    assert st.xml.get('type') == 'error', '%s: join of %s was expected to fail but got: %s' % (
        client.name, occupant, st)
    return st


async def muc_leave(client, room, nick, timeout=10):
    client.send_raw("<presence to=%s type='unavailable'/>" % quoteattr('%s/%s' % (room, nick)))
    return await client.expect(is_muc_presence(room, nick, type='unavailable', codes=(110,)),
                               timeout, 'own unavailable from %s/%s' % (room, nick))


def data_form(st, ns=None):
    """{var: [values]} of the first jabber:x:data form under the stanza's
    query (any namespace when ns is None), plus '_type' and '_fields' (the
    list of field elements); None if there is none."""
    for q in st.xml:
        if ns is not None and q.tag != '{%s}query' % ns:
            continue
        x = q.find('{%s}x' % NS_DATA)
        if x is None:
            continue
        out = {'_type': x.get('type'), '_fields': x.findall('{%s}field' % NS_DATA)}
        for f in out['_fields']:
            out[f.get('var')] = [v.text or '' for v in f.findall('{%s}value' % NS_DATA)]
        return out
    return None


def disco_features(st):
    q = st.xml.find('{%s}query' % NS_DISCO_INFO)
    return set() if q is None else {f.get('var') for f in q.findall('{%s}feature' % NS_DISCO_INFO)}


def disco_identities(st):
    q = st.xml.find('{%s}query' % NS_DISCO_INFO)
    return [] if q is None else [dict(i.attrib) for i in q.findall('{%s}identity' % NS_DISCO_INFO)]


def disco_items(st):
    q = st.xml.find('{%s}query' % NS_DISCO_ITEMS)
    return [] if q is None else [dict(i.attrib) for i in q.findall('{%s}item' % NS_DISCO_ITEMS)]


def submit_form_xml(ns, form_type, fields):
    """<query xmlns=ns><x type='submit'> with FORM_TYPE and fields ({var: value
    or list of values})."""
    parts = ["<field var='FORM_TYPE' type='hidden'><value>%s</value></field>" % xml_escape(form_type)]
    for var, val in fields.items():
        vals = val if isinstance(val, (list, tuple)) else [val]
        parts.append('<field var=%s>%s</field>' % (
            quoteattr(var), ''.join('<value>%s</value>' % xml_escape(str(v)) for v in vals)))
    return "<query xmlns='%s'><x xmlns='%s' type='submit'>%s</x></query>" % (ns, NS_DATA, ''.join(parts))


async def muc_configure(client, room, fields, expect_type='result', timeout=10):
    """Submits the muc#roomconfig form with fields (short names get the
    'muc#roomconfig_' prefix). Returns the response."""
    full = {(k if '#' in k or k == 'FORM_TYPE' else 'muc#roomconfig_' + k): v for k, v in fields.items()}
    return await client.iq("<iq type='set' id='%s' to=%s>%s</iq>" % (
        uid(), quoteattr(room), submit_form_xml(NS_MUC_OWNER, NS_MUC + '#roomconfig', full)),
        timeout, expect_type)


async def muc_admin(client, room, item_attrs, reason=None, expect_type='result', timeout=10):
    """One muc#admin set with a single <item/>. Returns the response."""
    attrs = ''.join(' %s=%s' % (k, quoteattr(v)) for k, v in item_attrs.items())
    inner = '<reason>%s</reason>' % xml_escape(reason) if reason is not None else ''
    return await client.iq("<iq type='set' id='%s' to=%s><query xmlns='%s'><item%s>%s</item></query></iq>"
                           % (uid(), quoteattr(room), NS_MUC_ADMIN, attrs, inner), timeout, expect_type)


async def disco_info(client, to, expect_type=None, timeout=10):
    return await client.iq("<iq type='get' id='%s' to=%s><query xmlns='%s'/></iq>"
                           % (uid(), quoteattr(to), NS_DISCO_INFO), timeout, expect_type)


async def disco_items_of(client, to, expect_type='result', timeout=10):
    return await client.iq("<iq type='get' id='%s' to=%s><query xmlns='%s'/></iq>"
                           % (uid(), quoteattr(to), NS_DISCO_ITEMS), timeout, expect_type)


def roominfo_occupants(st):
    f = data_form(st, NS_DISCO_INFO)
    assert f is not None, 'no muc#roominfo form in the room disco#info: %s' % st
    v = f.get('muc#roominfo_occupants')
    assert v, 'no muc#roominfo_occupants in the room disco#info: %s' % st
    return int(v[0])


class ComponentClient:
    """A slixmpp ComponentXMPP with the same stanza buffer / expect() as
    Client (so the predicates above work on what it receives)."""

    expect = Client.expect
    pending = Client.pending
    assert_none = Client.assert_none

    def __init__(self, port, domain, secret, name=None):
        slixmpp = _slixmpp()
        from slixmpp.xmlstream.handler import Callback
        from slixmpp.xmlstream.matcher.base import MatcherBase
        self.name = name or domain
        self.domain = domain
        self.xmpp = slixmpp.ComponentXMPP(domain, secret, '127.0.0.1', port)
        self.buf = []
        self.all = []
        self._new = asyncio.Event()
        self.session = asyncio.get_running_loop().create_future()

        class MatchStanza(MatcherBase):
            def match(self, xml):
                tag = getattr(getattr(xml, 'xml', None), 'tag', None) or ''
                return tag.split('}')[-1] in ('message', 'presence', 'iq')

        self.xmpp.register_handler(Callback('parley-test comp catch-all', MatchStanza(None), self._on_stanza))
        self.xmpp.add_event_handler('session_start',
                                    lambda _: self.session.done() or self.session.set_result(True))

    def _on_stanza(self, st):
        self.buf.append(st)
        self.all.append(st)
        self._new.set()

    async def connect(self, timeout=10):
        self.xmpp.connect()
        await asyncio.wait_for(asyncio.shield(self.session), timeout)
        return self

    def send_raw(self, data):
        self.xmpp.send_raw(data)

    async def iq(self, xml, timeout=10, expect_type=None):
        iq_id = re.search(r"""\bid=['"]([^'"]+)['"]""", xml).group(1)
        self.send_raw(xml)
        resp = await self.expect(lambda s: _tag(s) == 'iq' and s.xml.get('id') == iq_id
                                 and s.xml.get('type') in ('result', 'error'),
                                 timeout, 'response to iq %s' % iq_id)
        if expect_type is not None and resp.xml.get('type') != expect_type:
            raise AssertionError('%s: iq %s answered with type %s, expected %s: %s'
                                 % (self.name, iq_id, resp.xml.get('type'), expect_type, resp))
        return resp

    async def close(self, timeout=3):
        try:
            await asyncio.wait_for(self.xmpp.disconnect(wait=timeout), timeout + 1)
        except (asyncio.TimeoutError, Exception):
            try:
                self.xmpp.abort()
            except Exception:
                pass


# ---------------------------------------------------------------------------
# Browser transports: node clients (tests/integration/js) and raw HTTP

TESTS_DIR = os.path.dirname(HERE)
JS_DIR = os.path.join(HERE, 'js')


class NodeClient:
    """js/xmpp_client.mjs (strophe.js or stanza over WebSocket or BOSH) as a
    subprocess: commands as JSON lines on stdin, events as JSON lines on
    stdout. expect(pred) works like Client.expect on the event dicts."""

    def __init__(self, lib, transport, url, jid, password=None, name=None, script='xmpp_client.mjs'):
        self.args = [lib, transport, url, jid] + ([password] if password else [])
        self.script = script
        self.name = name or '%s/%s %s' % (lib, transport, jid)
        self.events = []
        self.all = []
        self.stderr = b''
        self._new = asyncio.Event()
        self.proc = None
        self.jid = None
        self.exited = False

    async def start(self, timeout=15):
        self.proc = await asyncio.create_subprocess_exec(
            'node', os.path.join(JS_DIR, self.script), *self.args, cwd=TESTS_DIR,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        self._rtask = asyncio.ensure_future(self._read())
        self._etask = asyncio.ensure_future(self._read_err())
        ev = await self.expect(lambda e: e['ev'] in ('connected', 'failed', 'exit'), timeout,
                               'the session to start')
        if ev['ev'] != 'connected':
            raise AuthFailed('%s: no session: %s %s' % (self.name, ev, self.stderr[-2000:]))
        self.jid = ev['jid']
        return self

    async def _read(self):
        import json
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                break
            try:
                ev = json.loads(line)
            except ValueError:
                ev = {'ev': 'junk', 'line': line.decode('utf-8', 'replace')}
            self.events.append(ev)
            self.all.append(ev)
            self._new.set()
        rc = await self.proc.wait()
        self.exited = True
        self.events.append({'ev': 'exit', 'rc': rc})
        self._new.set()

    async def _read_err(self):
        while True:
            chunk = await self.proc.stderr.read(65536)
            if not chunk:
                break
            self.stderr = (self.stderr + chunk)[-20000:]

    def cmd(self, op, **kw):
        import json
        kw['op'] = op
        self.proc.stdin.write((json.dumps(kw) + '\n').encode())

    def send_message(self, to, body, type='chat', id=None):
        self.cmd('message', to=to, body=body, type=type, id=id or uid())

    def send_presence(self, to=None, type=None, muc=False):
        self.cmd('presence', to=to, type=type, muc=muc)

    async def expect(self, pred, timeout=10, what='a matching event'):
        return await await_match(
            self.events, self._new, pred, timeout,
            lambda: '%s: timed out after %ss waiting for %s; recent events: %s; stderr: %s'
            % (self.name, timeout, what, self.events[-8:],
               self.stderr[-1500:].decode('utf-8', 'replace')))

    async def expect_stanza(self, kind, timeout=10, what=None, **attrs):
        """A stanza event of kind whose fields equal attrs (JIDs compared
        case-insensitively; type None means the attribute is absent)."""
        def pred(ev):
            if ev['ev'] != 'stanza' or ev['kind'] != kind:
                return False
            for k, v in attrs.items():
                got = ev.get(k)
                if k in ('from', 'to') and v is not None:
                    if (got or '').lower() != v.lower():
                        return False
                elif got != v:
                    return False
            return True
        return await self.expect(pred, timeout, what or '%s %s' % (kind, attrs))

    async def quit(self, timeout=10):
        """Disconnects politely and waits for the process to exit (rc 0)."""
        if self.proc is None or self.exited:
            return
        self.cmd('quit')
        ev = await self.expect(lambda e: e['ev'] == 'exit', timeout, 'the client to exit')
        assert ev['rc'] == 0, '%s exited with %s: %s' % (self.name, ev['rc'],
                                                        self.stderr[-1500:].decode('utf-8', 'replace'))

    async def close(self):
        if self.proc is not None and self.proc.returncode is None:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except asyncio.TimeoutError:
                pass
        for t in (getattr(self, '_rtask', None), getattr(self, '_etask', None)):
            if t is not None and not t.done():
                t.cancel()


def ws_url(server, token=None):
    return 'ws://127.0.0.1:%d/xmpp-websocket%s' % (server.http_port, '?token=' + token if token else '')


def bosh_url(server):
    return 'http://127.0.0.1:%d/http-bind' % server.http_port


async def http_exchange(port, request, timeout=10, read_body=True):
    """Sends raw request bytes on a new connection to 127.0.0.1:port and
    reads one response. Returns (status, {lower-name: value}, body bytes,
    raw head). Raises on timeout."""
    r, w = await asyncio.wait_for(asyncio.open_connection('127.0.0.1', port), timeout)
    try:
        if isinstance(request, str):
            request = request.encode()
        w.write(request)
        await w.drain()
        return await http_read_response(r, timeout, read_body)
    finally:
        w.close()


async def http_read_response(reader, timeout=10, read_body=True):
    """Reads one HTTP/1.1 response (Content-Length bodies) from reader."""
    head = await asyncio.wait_for(reader.readuntil(b'\r\n\r\n'), timeout)
    lines = head.decode('latin-1').split('\r\n')
    m = re.match(r'HTTP/1\.[01] (\d{3})', lines[0])
    assert m, 'not an HTTP response: %r' % head[:200]
    headers = {}
    for l in lines[1:]:
        if ':' in l:
            k, v = l.split(':', 1)
            headers[k.strip().lower()] = v.strip()
    body = b''
    if read_body and 'content-length' in headers:
        body = await asyncio.wait_for(reader.readexactly(int(headers['content-length'])), timeout)
    return int(m.group(1)), headers, body, head.decode('latin-1')


def http_request(method, path, headers=None, body=b'', host='127.0.0.1'):
    """Raw request bytes (Content-Length added when there is a body)."""
    if isinstance(body, str):
        body = body.encode()
    h = {'Host': host}
    h.update(headers or {})
    if body and 'Content-Length' not in h:
        h['Content-Length'] = str(len(body))
    return ('%s %s HTTP/1.1\r\n%s\r\n' % (method, path, ''.join(
        '%s: %s\r\n' % (k, v) for k, v in h.items()))).encode() + body


def web_server(**kw):
    """server() with the HTTP listener on loopback only."""
    kw.setdefault('XMPP_HTTP_BIND_ADDRESS', '127.0.0.1')
    return server(**kw)


WS_TEXT, WS_BINARY, WS_CLOSE, WS_PING, WS_PONG, WS_CONT = 1, 2, 8, 9, 10, 0
NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing'


def ws_frame(opcode, payload=b'', fin=True, mask=True, rsv=0):
    """One WebSocket frame (RFC 6455 5.2); masked unless mask=False."""
    if isinstance(payload, str):
        payload = payload.encode()
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head = bytes([b0, mbit | n])
    elif n < 65536:
        head = bytes([b0, mbit | 126]) + n.to_bytes(2, 'big')
    else:
        head = bytes([b0, mbit | 127]) + n.to_bytes(8, 'big')
    if not mask:
        return head + payload
    key = secrets.token_bytes(4)
    return head + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))


class WSRaw:
    """A raw WebSocket client connection for byte-level tests."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.closed = False

    @classmethod
    async def connect(cls, port, path='/xmpp-websocket', protocol='xmpp', timeout=5, headers=None):
        """Handshakes; returns (ws, status, headers). ws is None unless 101."""
        r, w = await asyncio.wait_for(asyncio.open_connection('127.0.0.1', port), timeout)
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        h = {'Upgrade': 'websocket', 'Connection': 'Upgrade', 'Sec-WebSocket-Key': key,
             'Sec-WebSocket-Version': '13'}
        if protocol is not None:
            h['Sec-WebSocket-Protocol'] = protocol
        h.update(headers or {})
        w.write(http_request('GET', path, h))
        await w.drain()
        status, hdrs, body, head = await http_read_response(r, timeout)
        if status != 101:
            w.close()
            return None, status, hdrs
        accept = base64.b64encode(hashlib.sha1(
            (key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').encode()).digest()).decode()
        assert hdrs.get('sec-websocket-accept') == accept, 'bad Sec-WebSocket-Accept: %r' % head
        if protocol is not None:  # xmppd's endpoint (the bridge channel has none)
            assert hdrs.get('sec-websocket-protocol') == 'xmpp', 'no xmpp subprotocol in %r' % head
        return cls(r, w), status, hdrs

    async def send_raw(self, data):
        self.writer.write(data)
        await self.writer.drain()

    async def try_send_raw(self, data, timeout=10):
        try:
            await asyncio.wait_for(self.send_raw(data), timeout)
            return True
        except (ConnectionError, OSError, asyncio.TimeoutError):
            return False

    async def send_text(self, text):
        await self.send_raw(ws_frame(WS_TEXT, text))

    async def recv_frame(self, timeout=5):
        """(fin, opcode, payload) or None when the TCP connection closed."""
        try:
            h = await asyncio.wait_for(self.reader.readexactly(2), timeout)
            n = h[1] & 0x7f
            assert not (h[1] & 0x80), 'the server sent a masked frame'
            if n == 126:
                n = int.from_bytes(await asyncio.wait_for(self.reader.readexactly(2), timeout), 'big')
            elif n == 127:
                n = int.from_bytes(await asyncio.wait_for(self.reader.readexactly(8), timeout), 'big')
            payload = await asyncio.wait_for(self.reader.readexactly(n), timeout)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            self.closed = True
            return None
        return bool(h[0] & 0x80), h[0] & 0x0f, payload

    async def recv_text(self, timeout=5, what='a text message'):
        """The next complete text message (control frames other than close
        are skipped; pings answered). Raises on close / timeout."""
        deadline = time.monotonic() + timeout
        parts = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError('timed out waiting for %s' % what)
            try:
                f = await self.recv_frame(left)
            except asyncio.TimeoutError:
                raise AssertionError('timed out waiting for %s' % what)
            if f is None:
                raise AssertionError('connection closed while waiting for %s' % what)
            fin, op, payload = f
            if op == WS_CLOSE:
                raise AssertionError('close frame %r while waiting for %s' % (payload, what))
            if op == WS_PING:
                await self.send_raw(ws_frame(WS_PONG, payload))
                continue
            if op == WS_PONG:
                continue
            parts.append(payload)
            if fin:
                return b''.join(parts).decode('utf-8')

    async def until_closed(self, timeout=10):
        """Reads frames until the TCP close; returns the list of (opcode,
        payload) received. Answers a close frame with a close frame."""
        deadline = time.monotonic() + timeout
        got = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError('WebSocket still open after %ss; got %r' % (timeout, got[-5:]))
            try:
                f = await self.recv_frame(left)
            except asyncio.TimeoutError:
                continue
            if f is None:
                return got
            got.append((f[1], f[2]))
            if f[1] == WS_CLOSE:
                await self.try_send_raw(ws_frame(WS_CLOSE, f[2][:2]), 2)

    async def open_stream(self, to, timeout=5):
        """<open/>; returns (open text, features text)."""
        await self.send_text("<open xmlns='%s' to='%s' version='1.0'/>" % (NS_FRAMING, to))
        op = await self.recv_text(timeout, 'the <open/> answer')
        feats = await self.recv_text(timeout, 'stream features')
        return op, feats

    def close(self):
        try:
            self.writer.close()
        except Exception:
            pass


def close_code(frames):
    """The status code of the first close frame in frames, or None."""
    for op, payload in frames:
        if op == WS_CLOSE:
            return int.from_bytes(payload[:2], 'big') if len(payload) >= 2 else 1005
    return None


NS_HTTPBIND = 'http://jabber.org/protocol/httpbind'
NS_XBOSH = 'urn:xmpp:xbosh'


class BoshRaw:
    """A raw BOSH session: each post() is one HTTP request on its own
    connection; rid counts up from a random start."""

    def __init__(self, server, wait=2, hold=1, origin=None):
        self.server = server
        self.wait, self.hold, self.origin = wait, hold, origin
        self.rid = secrets.randbelow(1 << 30) + 1000
        self.sid = None
        self.jid = None

    def next_rid(self):
        self.rid += 1
        return self.rid

    async def post_raw(self, body, timeout=10, headers=None):
        h = {'Content-Type': 'text/xml; charset=utf-8', 'Connection': 'close'}
        if self.origin:
            h['Origin'] = self.origin
        h.update(headers or {})
        return await http_exchange(self.server.http_port, http_request('POST', '/http-bind', h, body),
                                   timeout)

    async def post(self, inner='', rid=None, attrs='', timeout=10, sid=None):
        """Posts <body rid sid attrs>inner</body>; returns (status, headers,
        text, element)."""
        import xml.etree.ElementTree as ET
        rid = self.next_rid() if rid is None else rid
        body = "<body xmlns='%s' rid='%d' sid='%s'%s>%s</body>" % (
            NS_HTTPBIND, rid, sid or self.sid, attrs, inner)
        status, hdrs, data, head = await self.post_raw(body.encode(), timeout)
        text = data.decode('utf-8')
        el = ET.fromstring(text) if text.strip().startswith('<') else None
        return status, hdrs, text, el

    async def create(self, to=None, timeout=10):
        import xml.etree.ElementTree as ET
        rid = self.rid
        body = ("<body xmlns='%s' xmlns:xmpp='%s' rid='%d' to='%s' wait='%d' hold='%d' "
                "xml:lang='en' ver='1.6' xmpp:version='1.0' content='text/xml; charset=utf-8'/>"
                % (NS_HTTPBIND, NS_XBOSH, rid, to or self.server.domain, self.wait, self.hold))
        status, hdrs, data, head = await self.post_raw(body.encode(), timeout)
        assert status == 200, 'session creation: %s %r' % (status, data[:300])
        text = data.decode('utf-8')
        el = ET.fromstring(text)
        self.sid = el.get('sid')
        assert self.sid, 'no sid in %s' % text
        return hdrs, text, el

    async def collect(self, pattern, timeout=10, what=None):
        """Polls (empty requests, sequentially) until the concatenated
        response text matches pattern; returns the match."""
        rx = re.compile(pattern, re.S)
        deadline = time.monotonic() + timeout
        acc = ''
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError('BOSH: no %s within %ss; got %r' % (what or pattern, timeout, acc[-800:]))
            status, hdrs, text, el = await self.post('', timeout=left + 1)
            assert status == 200, 'BOSH poll: %s %s' % (status, text)
            assert el is None or el.get('type') != 'terminate', 'BOSH session terminated: %s' % text
            acc += text
            m = rx.search(acc)
            if m:
                return m

    async def login_anonymous(self, timeout=10):
        hdrs, text, el = await self.create()
        if 'ANONYMOUS' not in text:
            await self.collect(r'</stream:features>|</features>', timeout, 'features')
        status, hdrs, text, el = await self.post("<auth xmlns='%s' mechanism='ANONYMOUS'/>" % NS_SASL)
        if '<success' not in text:
            await self.collect(r'<success', timeout, 'SASL success')
        status, hdrs, text, el = await self.post('', attrs=" xmlns:xmpp='%s' xmpp:restart='true'" % NS_XBOSH)
        if 'bind' not in text:
            await self.collect(NS_BIND, timeout, 'the bind feature')
        status, hdrs, text, el = await self.post(
            "<iq type='set' id='bind1' xmlns='jabber:client'><bind xmlns='%s'/></iq>" % NS_BIND)
        if '<jid>' not in text:
            text = (await self.collect(r'<jid>[^<]+</jid>', timeout, 'the bind result')).group(0)
        self.jid = re.search(r'<jid>([^<]+)</jid>', text).group(1)
        return self.jid


async def node_muc_roundtrip(s, lib, transport, url):
    """lib over transport, anonymous: joins a room, exchanges groupchat both
    ways with a slixmpp client on TCP, leaves (the slixmpp client sees it)."""
    s.adduser(s.jid('bob'), 'bob-pw')
    room = '%s-%s-%s@muc.%s' % (lib, transport, uid(), s.domain)
    node = await NodeClient(lib, transport, url, s.domain).start()
    bob = await login(s, s.jid('bob'), 'bob-pw', resource='tcp', presence=True)
    try:
        node.send_presence(to=room + '/web', muc=True)
        self_pres = await node.expect_stanza('presence', type=None, **{'from': room + '/web'})
        if 'xml' in self_pres:  # strophe reports the raw XML: check the status codes too
            x = self_pres['xml'].replace('"', "'")
            assert "code='110'" in x and "code='201'" in x, 'self-presence of a new room: %s' % x
        await muc_join(bob, room, 'bob')
        await node.expect_stanza('presence', type=None, **{'from': room + '/bob'})
        body = 'groupchat from %s/%s %s' % (lib, transport, uid())
        node.send_message(room, body, type='groupchat')
        await bob.expect(is_message(body=body, frm=room + '/web', type='groupchat'), 10,
                         'the groupchat from the %s client' % lib)
        body = 'groupchat from tcp ' + uid()
        bob.send_message(room, body, type='groupchat')
        await node.expect_stanza('message', body=body, type='groupchat', **{'from': room + '/bob'})
        node.send_presence(to=room + '/web', type='unavailable')
        await node.expect_stanza('presence', type='unavailable', **{'from': room + '/web'})
        await bob.expect(is_muc_presence(room, 'web', type='unavailable'), 10,
                         'the %s occupant leaving' % lib)
        await node.quit()
    finally:
        await node.close()
        await bob.close()


async def node_chat_roundtrip(node, tcp):
    """node <-> tcp chat messages both ways."""
    body = 'from tcp ' + uid()
    tcp.send_message(node.jid, body)
    await node.expect_stanza('message', body=body, **{'from': tcp.jid})
    body = 'from node ' + uid()
    node.send_message(tcp.jid, body)
    await tcp.expect(is_message(body=body, frm=node.jid, type='chat'), 10, 'the message from node')


async def node_logins_roundtrip(s, lib, transport, url):
    """lib over transport: an anonymous login and an account login (SCRAM),
    each exchanging chat messages both ways with a slixmpp client on TCP."""
    s.adduser(s.jid('alice'), 'alice-pw')
    s.adduser(s.jid('bob'), 'bob-pw')
    bob = await login(s, s.jid('bob'), 'bob-pw', resource='tcp', presence=True)
    nodes = []
    try:
        anon = await NodeClient(lib, transport, url, s.domain).start()
        nodes.append(anon)
        assert re.match(r'^[^@/]+@%s/.+$' % re.escape(s.domain), anon.jid), anon.jid
        await node_chat_roundtrip(anon, bob)
        alice = await NodeClient(lib, transport, url, s.jid('alice'), 'alice-pw').start()
        nodes.append(alice)
        assert alice.jid.lower().startswith(s.jid('alice') + '/'), alice.jid
        await node_chat_roundtrip(alice, bob)
        for n in nodes:
            await n.quit()
    finally:
        for n in nodes:
            await n.close()
        await bob.close()
