#!/usr/bin/env python3
"""Login benchmark: parley xmppd against Prosody 0.12, side by side.

Logs N clients (SASL ANONYMOUS, or SCRAM-SHA-1 as one account with many
resources) in to each server, alternating parley, Prosody, parley, Prosody ...
for R rounds, and reports per server the medians of

  * memory per idle authenticated session: (VmRSS after all N sessions are
    bound, have sent initial presence (anonymous mode; scram mode only with
    --scram-presence) and the RSS has settled) - (VmRSS after a small warm-up),
    divided by N;
  * server CPU per login: utime+stime from /proc/PID/stat across the login
    phase (up to the settled RSS), divided by N;
  * logins per second of wall time (informational; bounded by the Python
    client as much as by the server);

with the ratios parley/Prosody.  The server under test is pinned to CPU 1 and
this load generator to CPU 0.  Loopback only, no TLS.  Every loop is bounded;
servers are started fresh for every round and killed at the end (also on
failure and Ctrl-C).  See bench/README.md for the method.

Standard library only.  Usage:

  python3 bench/login_bench.py [--sessions 1000] [--rounds 3]
                               [--mode anonymous|scram|both] [--only parley|prosody]
"""

import argparse
import asyncio
import base64
import collections
import ctypes
import hashlib
import hmac
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

SERVER_CPU = 1
CLIENT_CPU = 0
PIN_SERVER = True
HOST = "127.0.0.1"
ACCOUNT_USER = "bench"
ACCOUNT_PASS = "benchpw"
ACCOUNT_DOMAIN = "meet.parley"
CLK_TCK = os.sysconf("SC_CLK_TCK")

NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_SESSION = "urn:ietf:params:xml:ns:xmpp-session"


def log(msg):
    print(msg, flush=True)


# --------------------------------------------------------------------------
# process bookkeeping: every server we start is in LIVE and is killed on exit


LIVE = []
_libc = None


def _child_setup():
    """Runs in the child before exec: own process group, and die with us."""
    os.setsid()
    if _libc is not None:
        _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def spawn(argv, stdout, stderr, env=None):
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                         env=env, preexec_fn=_child_setup, close_fds=True)
    LIVE.append(p)
    return p


def stop_process(p, timeout=10.0):
    """SIGTERM, wait (bounded), then SIGKILL. Returns a note if it had to kill."""
    note = None
    if p.poll() is None:
        try:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            note = f"did not exit {timeout:.0f} s after SIGTERM; killed"
            p.kill()
            p.wait(timeout=5)
    if p in LIVE:
        LIVE.remove(p)
    return note


def kill_all():
    for p in list(LIVE):
        try:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=5)
        except Exception:
            pass
        LIVE.remove(p)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# /proc measurements


def proc_cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)


def proc_sched_ns(pid):
    """Sum of the threads' on-CPU time in ns (finer-grained cross-check)."""
    total = 0
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    except OSError:
        return None
    return total


def proc_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def settle_rss(pid, interval=0.1, stable_samples=4, max_seconds=15.0):
    """Reads VmRSS until it has not changed for stable_samples readings.
    Returns (rss_kib, settled, seconds)."""
    t0 = time.monotonic()
    last, same = None, 0
    while True:
        rss = proc_rss_kib(pid)
        same = same + 1 if rss == last else 0
        last = rss
        waited = time.monotonic() - t0
        if same >= stable_samples - 1:
            return rss, True, waited
        if waited >= max_seconds:
            return rss, False, waited
        await asyncio.sleep(interval)


# --------------------------------------------------------------------------
# minimal raw XMPP client

RX_FEATURES = re.compile(rb"<stream:features\s*/>|<stream:features\b.*?</stream:features>", re.S)
RX_MECH = re.compile(rb"<mechanism>\s*([^<\s]+)\s*</mechanism>")
RX_SASL = re.compile(rb"<(success|failure|challenge)\b[^>]*?(?:/>|>(.*?)</\1>)", re.S)
RX_IQ = re.compile(rb"<iq\b([^>]*?)(?:/>|>(.*?)</iq>)", re.S)
RX_ATTR = re.compile(rb"""\b(id|type)\s*=\s*(['"])(.*?)\2""")
RX_JID = re.compile(rb"<jid>(.*?)</jid>", re.S)
RX_STREAM_ERR = re.compile(rb"<stream:error\b.*?(?:</stream:error>|$)|</stream:stream>", re.S)
RX_SESSION = re.compile(rb"<session\b[^>]*xmlns=['\"]" + NS_SESSION.encode() +
                        rb"['\"][^>]*?(?:/>|>(.*?)</session>)", re.S)

PRESENCE_TAG = b"<presence"


class LoginError(Exception):
    pass


class PresenceTracker:
    """Counts sessions whose received-presence count reached their target."""

    def __init__(self):
        self.pending = 0
        self.event = asyncio.Event()

    def reached(self):
        self.pending -= 1
        if self.pending <= 0:
            self.event.set()


class XmppConn(asyncio.Protocol):
    def __init__(self, loop):
        self.loop = loop
        self.transport = None
        self.buf = b""
        self.waiter = None
        self.closed = False
        self.idle = False
        self.presence = 0
        self.tail = b""
        self.server_error = None
        self.target = None
        self.tracker = None
        self.jid = None

    # asyncio.Protocol
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        if self.idle:
            self._count(data)
            return
        self.buf += data
        self._wake()

    def connection_lost(self, exc):
        self.closed = True
        self._wake()

    def _wake(self):
        w = self.waiter
        if w is not None and not w.done():
            w.set_result(None)

    def _count(self, data):
        chunk = self.tail + data
        self.presence += chunk.count(PRESENCE_TAG)
        self.tail = chunk[-(len(PRESENCE_TAG) - 1):]
        if self.server_error is None and (b"<stream:error" in chunk or b"</stream:stream>" in chunk):
            self.server_error = chunk[-300:].decode(errors="replace")
        if self.target is not None and self.presence >= self.target:
            self.target = None
            self.tracker.reached()

    # login helpers
    def send(self, s):
        self.transport.write(s.encode() if isinstance(s, str) else s)

    async def expect(self, rx, what, deadline):
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            e = RX_STREAM_ERR.search(self.buf)
            if e:
                raise LoginError(f"{what}: stream closed by server: {e.group(0)[:200].decode(errors='replace')}")
            if self.closed:
                raise LoginError(f"{what}: connection closed by server")
            left = deadline - self.loop.time()
            if left <= 0:
                raise LoginError(f"{what}: timeout")
            self.waiter = self.loop.create_future()
            try:
                await asyncio.wait_for(self.waiter, left)
            except asyncio.TimeoutError:
                raise LoginError(f"{what}: timeout") from None
            finally:
                self.waiter = None

    def go_idle(self):
        """From now on only count <presence and watch for stream errors."""
        rest, self.buf = self.buf, b""
        self.idle = True
        if rest:
            self._count(rest)

    def set_target(self, target, tracker):
        if self.presence >= target:
            return
        self.target, self.tracker = target, tracker
        tracker.pending += 1

    def abort(self):
        if self.transport is not None:
            self.transport.abort()


def stream_header(domain):
    return ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
            "xmlns:stream='http://etherx.jabber.org/streams' "
            f"to='{domain}' version='1.0'>")


def b64(b):
    return base64.b64encode(b).decode()


class ScramCache:
    """Salted password (PBKDF2) and derived keys, once per (salt, iterations)."""

    def __init__(self, password):
        self.password = password.encode()
        self.keys = {}
        self.pbkdf2_runs = 0

    def get(self, salt, iterations):
        k = (salt, iterations)
        if k not in self.keys:
            self.pbkdf2_runs += 1
            salted = hashlib.pbkdf2_hmac("sha1", self.password, salt, iterations)
            client_key = hmac.new(salted, b"Client Key", hashlib.sha1).digest()
            stored_key = hashlib.sha1(client_key).digest()
            server_key = hmac.new(salted, b"Server Key", hashlib.sha1).digest()
            self.keys[k] = (client_key, stored_key, server_key)
        return self.keys[k]


def sasl_data(m):
    try:
        return base64.b64decode((m.group(2) or b"").strip(), validate=True).decode()
    except ValueError as e:  # binascii.Error, UnicodeDecodeError
        raise LoginError(f"SASL: undecodable data in {m.group(0)[:200]!r}: {e}") from None


def scram_parse(msg):
    out = {}
    for part in msg.split(","):
        if len(part) >= 2 and part[1] == "=":
            out[part[0]] = part[2:]
    return out


async def sasl_scram(c, user, cache, deadline):
    cnonce = b64(os.urandom(18))
    first_bare = f"n={user},r={cnonce}"
    c.send(f"<auth xmlns='{NS_SASL}' mechanism='SCRAM-SHA-1'>{b64(('n,,' + first_bare).encode())}</auth>")
    m = await c.expect(RX_SASL, "scram server-first", deadline)
    if m.group(1) != b"challenge":
        raise LoginError(f"scram: expected challenge, got {m.group(0)[:200].decode(errors='replace')}")
    server_first = sasl_data(m)
    sf = scram_parse(server_first)
    if not sf.get("r", "").startswith(cnonce) or "s" not in sf or "i" not in sf:
        raise LoginError(f"scram: bad server-first message {server_first!r}")
    client_key, stored_key, server_key = cache.get(base64.b64decode(sf["s"]), int(sf["i"]))
    final_wo_proof = f"c=biws,r={sf['r']}"
    auth_message = f"{first_bare},{server_first},{final_wo_proof}".encode()
    sig = hmac.new(stored_key, auth_message, hashlib.sha1).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, sig))
    c.send(f"<response xmlns='{NS_SASL}'>{b64((final_wo_proof + ',p=' + b64(proof)).encode())}</response>")
    m = await c.expect(RX_SASL, "scram server-final", deadline)
    if m.group(1) == b"failure":
        raise LoginError(f"scram failure: {m.group(0)[:200].decode(errors='replace')}")
    server_final = sasl_data(m)
    if m.group(1) == b"challenge":  # server-final sent as a challenge (RFC 6120 allows)
        c.send(f"<response xmlns='{NS_SASL}'/>")
        m2 = await c.expect(RX_SASL, "scram success", deadline)
        if m2.group(1) != b"success":
            raise LoginError(f"scram: {m2.group(0)[:200].decode(errors='replace')}")
    want = b64(hmac.new(server_key, auth_message, hashlib.sha1).digest())
    if scram_parse(server_final).get("v") != want:
        raise LoginError(f"scram: server signature missing or wrong ({server_final!r})")


async def login(loop, port, domain, mode, resource_name, cache, timeout, sessions, presence):
    """One complete login. Appends the connection to sessions once connected
    so that it is aborted even on failure."""
    deadline = loop.time() + timeout
    try:
        _, c = await asyncio.wait_for(
            loop.create_connection(lambda: XmppConn(loop), HOST, port), timeout)
    except (OSError, asyncio.TimeoutError) as e:
        raise LoginError(f"connect: {e.__class__.__name__}: {e}") from None
    sessions.append(c)
    c.send(stream_header(domain))
    feats = (await c.expect(RX_FEATURES, "features", deadline)).group(0)
    mechs = RX_MECH.findall(feats)
    if mode == "anonymous":
        if b"ANONYMOUS" not in mechs:
            raise LoginError(f"ANONYMOUS not offered (offered: {b' '.join(mechs).decode()})")
        c.send(f"<auth xmlns='{NS_SASL}' mechanism='ANONYMOUS'/>")
        m = await c.expect(RX_SASL, "anonymous auth", deadline)
        if m.group(1) != b"success":
            raise LoginError(f"anonymous auth: {m.group(0)[:200].decode(errors='replace')}")
    else:
        if b"SCRAM-SHA-1" not in mechs:
            raise LoginError(f"SCRAM-SHA-1 not offered (offered: {b' '.join(mechs).decode()})")
        await sasl_scram(c, ACCOUNT_USER, cache, deadline)
    c.send(stream_header(domain))  # stream restart after SASL
    feats = (await c.expect(RX_FEATURES, "post-auth features", deadline)).group(0)
    if NS_BIND.encode() not in feats:
        raise LoginError("no <bind/> offered after authentication")
    c.send(f"<iq type='set' id='bind1'><bind xmlns='{NS_BIND}'><resource>{resource_name}</resource></bind></iq>")
    while True:
        m = await c.expect(RX_IQ, "bind", deadline)
        attrs = {k: v for k, _, v in RX_ATTR.findall(m.group(1))}
        if attrs.get(b"id") == b"bind1":
            break
    if attrs.get(b"type") != b"result":
        raise LoginError(f"bind: {m.group(0)[:200].decode(errors='replace')}")
    j = RX_JID.search(m.group(2) or b"")
    c.jid = j.group(1).decode() if j else None
    if not c.jid:
        raise LoginError("bind: no <jid/> in the result")
    s = RX_SESSION.search(feats)
    if s and b"<optional" not in (s.group(1) or b""):
        c.send(f"<iq type='set' id='sess1'><session xmlns='{NS_SESSION}'/></iq>")
        while True:
            m = await c.expect(RX_IQ, "session", deadline)
            attrs = {k: v for k, _, v in RX_ATTR.findall(m.group(1))}
            if attrs.get(b"id") == b"sess1":
                break
        if attrs.get(b"type") != b"result":
            raise LoginError(f"session: {m.group(0)[:200].decode(errors='replace')}")
    if presence:
        c.send("<presence/>")
    c.go_idle()
    return c


async def login_many(port, domain, mode, n, concurrency, tag, cache, timeout, proc, presence):
    """Logs in n sessions with at most `concurrency` in flight.
    Returns (bound connections, all connections, failure Counter)."""
    loop = asyncio.get_running_loop()
    bound, conns = [], []
    failures = collections.Counter()
    indices = iter(range(n))

    async def worker():
        for i in indices:
            if proc.poll() is not None:
                failures["server process exited"] += 1
                continue
            try:
                c = await login(loop, port, domain, mode, f"{tag}-{i}", cache, timeout, conns, presence)
                bound.append(c)
            except LoginError as e:
                failures[str(e)] += 1
            except Exception as e:  # a client bug must show up as a failure, not vanish
                failures[f"client exception {e.__class__.__name__}: {e}"] += 1

    await asyncio.gather(*(worker() for _ in range(min(concurrency, n))))
    return bound, conns, failures


# --------------------------------------------------------------------------
# servers


class Server:
    name = "?"

    def __init__(self, root):
        self.dir = tempfile.mkdtemp(prefix=f"{self.name}-", dir=root)
        self.port = None
        self.proc = None
        self.out_path = os.path.join(self.dir, "console.log")

    def domain(self, mode):
        raise NotImplementedError

    def wait_ready(self, timeout=30.0):
        """Waits until the c2s port accepts connections (bounded), failing early
        if the process exits."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with status {self.proc.returncode} during start-up:\n"
                                   + self.diagnostics())
            try:
                with socket.create_connection((HOST, self.port), timeout=1.0):
                    return time.monotonic() - t0
            except OSError:
                time.sleep(0.02)  # poll interval of a bounded readiness probe
        raise RuntimeError(f"{self.name} did not open port {self.port} within {timeout:.0f} s:\n"
                           + self.diagnostics())

    def start(self):
        self.port = free_port()
        self.write_config()
        self.offsets = {p: (os.path.getsize(p) if os.path.exists(p) else 0) for p in self.log_paths()}
        self.out = open(self.out_path, "ab")
        self.out.write(f"---- start on port {self.port}\n".encode())
        self.out.flush()
        pin = ["taskset", "-c", str(SERVER_CPU)] if PIN_SERVER else []
        self.proc = spawn(pin + self.argv(),
                          stdout=self.out, stderr=subprocess.STDOUT)
        return self.wait_ready()

    def stop(self):
        note = stop_process(self.proc) if self.proc else None
        rc = self.proc.returncode if self.proc else None
        if getattr(self, "out", None):
            self.out.close()
            self.out = None
        return note, rc

    def log_paths(self):
        return [self.out_path]

    def round_log(self):
        """What the server logged since the last start."""
        out = []
        for p in self.log_paths():
            try:
                with open(p, "rb") as f:
                    f.seek(getattr(self, "offsets", {}).get(p, 0))
                    out += f.read().decode(errors="replace").splitlines()
            except OSError:
                pass
        return out

    def diagnostics(self):
        return "\n".join(self.round_log()[-15:])

    BENIGN = ("---- start on port",)

    def problems(self):
        """Logged lines of this round that are not expected noise."""
        return [l for l in self.round_log() if l.strip() and not any(b in l for b in self.BENIGN)]


class Parley(Server):
    name = "parley"

    def __init__(self, root, build_dir):
        self.xmppd = os.path.join(build_dir, "xmppd", "xmppd")
        self.ctl = os.path.join(build_dir, "xmppd", "parleyctl")
        super().__init__(root)
        self.conf = os.path.join(self.dir, "parley.conf")
        self.data = os.path.join(self.dir, "data")

    def domain(self, mode):
        return ACCOUNT_DOMAIN

    def config(self, domain, c2s_port, **extra):
        """xmppd's benchmark config (no TLS, no limits in the way) plus extra
        KEY=value settings; the other benchmarks build on it."""
        keys = {"XMPP_DOMAIN": domain, "XMPP_BIND_ADDRESS": HOST, "XMPP_PORT": c2s_port or 5222,
                "XMPP_COMPONENT_PORT": 0, "XMPP_HTTP_PORT": 0, "XMPP_DATA_DIR": self.data,
                "C2S_REQUIRE_ENCRYPTION": "false", "XMPP_LOGIN_RATE": 100000000,
                "XMPP_MAX_CONNECTIONS": 100000, "LOG_LEVEL": "warn"}
        keys.update(extra)
        with open(self.conf, "w") as f:
            f.write("".join(f"{k}={v}\n" for k, v in keys.items()))

    def write_config(self):
        self.config(ACCOUNT_DOMAIN, self.port)

    def argv(self):
        return [self.xmppd, "--config", self.conf]

    def setup(self):
        self.write_config()
        r = subprocess.run([self.ctl, "--config", self.conf, "register", ACCOUNT_USER,
                            ACCOUNT_DOMAIN, ACCOUNT_PASS], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"parleyctl register failed ({r.returncode}): {r.stdout}{r.stderr}")

    def version(self):
        r = subprocess.run([self.xmppd, "--version"], capture_output=True, text=True, timeout=10)
        return (r.stdout + r.stderr).strip().splitlines()[0] if (r.stdout + r.stderr).strip() else "?"


class Prosody(Server):
    name = "prosody"
    ANON_DOMAIN = "anon.parley"

    def __init__(self, root):
        super().__init__(root)
        self.conf = os.path.join(self.dir, "prosody.cfg.lua")
        self.data = os.path.join(self.dir, "data")
        os.makedirs(self.data, exist_ok=True)
        os.makedirs(os.path.join(self.dir, "certs"), exist_ok=True)  # keeps certmanager quiet

    def domain(self, mode):
        return self.ANON_DOMAIN if mode == "anonymous" else ACCOUNT_DOMAIN

    def config(self, c2s_port, tail, http_port=None, modules=()):
        """Prosody 0.12's benchmark config: loopback, no TLS, no s2s, the
        given extra modules and HTTP port, then tail (hosts, components)."""
        d = self.dir
        mods = ", ".join(f'"{m}"' for m in ("roster", "saslauth", "disco", "ping") + tuple(modules))
        http = (f"http_ports = {{ {http_port} }}\nhttp_interfaces = {{ \"{HOST}\" }}\n"
                if http_port else "http_ports = {}\n")
        with open(self.conf, "w") as f:
            f.write(f'''-- throwaway config written by bench/
run_as_root = true
pidfile = "{d}/prosody.pid"
data_path = "{self.data}"
interfaces = {{ "{HOST}" }}
local_interfaces = {{ "{HOST}" }}
c2s_ports = {{ {c2s_port or 5222} }}
c2s_direct_tls_ports = {{}}
s2s_ports = {{}}
s2s_direct_tls_ports = {{}}
{http}https_ports = {{}}
component_ports = {{}}
c2s_require_encryption = false
s2s_require_encryption = false
allow_unencrypted_plain_auth = true
storage = "internal"
certificates = "{d}/certs"
log = {{ warn = "{d}/prosody.log" }}
modules_enabled = {{ {mods} }}
modules_disabled = {{ "s2s", "s2s_auth_certs" }}
-- mod_limits is not loaded, so c2s reads are not rate limited
''' + tail)

    def write_config(self):
        self.config(self.port, f'''
VirtualHost "{ACCOUNT_DOMAIN}"
    authentication = "internal_hashed"

VirtualHost "{self.ANON_DOMAIN}"
    authentication = "anonymous"
''')

    def argv(self):
        return ["prosody", "-F", "--config", self.conf]

    def setup(self):
        self.write_config()
        r = subprocess.run(["prosodyctl", "--config", self.conf, "register", ACCOUNT_USER,
                            ACCOUNT_DOMAIN, ACCOUNT_PASS], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"prosodyctl register failed ({r.returncode}): {r.stdout}{r.stderr}")

    def version(self):
        r = subprocess.run(["prosodyctl", "--config", self.conf, "about"],
                           capture_output=True, text=True, timeout=30)
        for line in r.stdout.splitlines():
            if line.startswith("Prosody"):
                return line.strip()
        return "Prosody ?"

    def log_paths(self):
        return [self.out_path, os.path.join(self.dir, "prosody.log")]

    BENIGN = ("---- start on port", "Received SIGTERM")


# --------------------------------------------------------------------------
# one round against one server


async def run_round(server, mode, args, cache, rnd):
    res = {"server": server.name, "mode": mode, "round": rnd, "ok": 0, "failures": {},
           "notes": []}
    startup = server.start()
    pid = server.proc.pid
    domain = server.domain(mode)
    presence = mode == "anonymous" or args.scram_presence
    all_conns = []
    try:
        # warm-up: a few complete sessions, then the baseline
        wbound, wconns, wfail = await login_many(server.port, domain, mode, args.warmup,
                                                 min(args.concurrency, args.warmup),
                                                 f"w{rnd}", cache, args.login_timeout, server.proc,
                                                 presence)
        all_conns += wconns
        if wfail:
            raise RuntimeError(f"{server.name}: warm-up logins failed: {dict(wfail)}\n" + server.diagnostics())
        rss0, settled0, _ = await settle_rss(pid)
        cpu0, ns0 = proc_cpu_ticks(pid), proc_sched_ns(pid)

        # login phase
        t0 = time.monotonic()
        bound, conns, fail = await login_many(server.port, domain, mode, args.sessions,
                                              args.concurrency, f"r{rnd}", cache,
                                              args.login_timeout, server.proc, presence)
        wall = time.monotonic() - t0
        all_conns += conns

        # wait (bounded) until every session has received the presence the
        # server owes it: its own echo (anonymous: one user per session), or
        # one per available resource (scram: all sessions are one account)
        tracker = PresenceTracker()
        everyone = wbound + bound
        target = 0 if not presence else 1 if mode == "anonymous" else len(everyone)
        for c in everyone:
            if target:
                c.set_target(target, tracker)
        if tracker.pending > 0:
            try:
                await asyncio.wait_for(tracker.event.wait(), args.presence_timeout)
            except asyncio.TimeoutError:
                res["notes"].append(f"presence wait timed out: {tracker.pending} sessions short of {target}")
        presence_wait = time.monotonic() - t0 - wall

        rss1, settled1, settle_s = await settle_rss(pid)
        cpu1, ns1 = proc_cpu_ticks(pid), proc_sched_ns(pid)
        alive = server.proc.poll() is None

        lost = sum(1 for c in everyone if c.closed)
        errs = [c.server_error for c in everyone if c.server_error]
        ok = len(bound)
        res.update(ok=ok, failures=dict(fail), wall=wall, startup=startup,
                   rss0=rss0, rss1=rss1, cpu_ticks=cpu1 - cpu0,
                   sched_ms=(ns1 - ns0) / 1e6 if ns0 is not None and ns1 is not None else None,
                   presence_wait=presence_wait, settle_s=settle_s,
                   presence_per_session=sum(c.presence for c in bound) / ok if ok else 0.0,
                   lost=lost)
        if not (settled0 and settled1):
            res["notes"].append("RSS did not settle within the bound")
        if lost:
            res["notes"].append(f"{lost} sessions closed by the server while idle")
        if errs:
            res["notes"].append(f"stream error while idle: {errs[0][:200]!r}")
        if not alive:
            res["notes"].append(f"server exited (status {server.proc.returncode}) during the round")
        if ok:
            res["kib_per_session"] = (rss1 - rss0) / ok
            res["ms_per_login"] = (cpu1 - cpu0) / CLK_TCK * 1000.0 / ok
            res["sched_ms_per_login"] = res["sched_ms"] / ok if res["sched_ms"] is not None else None
            res["logins_per_s"] = ok / wall if wall > 0 else 0.0
        res["valid"] = ok == args.sessions and not fail and alive and not lost
    finally:
        note, rc = server.stop()  # before closing clients: no logout storm to wait for
        for c in all_conns:
            c.abort()
        if note:
            res["notes"].append(f"{server.name} {note}")
        elif rc not in (0, None, -signal.SIGTERM):
            res["notes"].append(f"{server.name} exit status {rc} after SIGTERM")
        probs = server.problems()
        if probs:
            res["notes"].append(f"server logged {len(probs)} line(s), last ones:\n        "
                                + "\n        ".join(probs[-8:]))
        # the client sockets closed above: let the loop process it
        await asyncio.sleep(0)
    return res


def fmt_round(r):
    if "kib_per_session" not in r:
        s = f"  round {r['round']} {r['server']:8s} ok {r['ok']}  (no result)"
    else:
        sched = f", sched {r['sched_ms_per_login']:.3f}" if r.get("sched_ms_per_login") is not None else ""
        s = (f"  round {r['round']} {r['server']:8s} bound {r['ok']:5d}  "
             f"RSS {r['rss0'] / 1024:7.1f} -> {r['rss1'] / 1024:7.1f} MiB = {r['kib_per_session']:6.2f} KiB/session  "
             f"CPU {r['cpu_ticks']:4d} ticks = {r['ms_per_login']:.3f} ms/login{sched}  "
             f"wall {r['wall']:.2f} s = {r['logins_per_s']:6.0f} logins/s  "
             f"presence rx/session {r['presence_per_session']:.1f} (+{r['presence_wait']:.2f} s)")
    if r["failures"]:
        s += "\n      LOGIN FAILURES: " + "; ".join(f"{v} x {k}" for k, v in
                                                   sorted(r["failures"].items(), key=lambda kv: -kv[1])[:5])
    for n in r["notes"]:
        s += "\n      note: " + n
    if not r.get("valid", False):
        s += "\n      ROUND INVALID: excluded from the medians"
    return s


def median_of(rounds, key):
    vals = [r[key] for r in rounds if r.get("valid") and r.get(key) is not None]
    return (statistics.median(vals), len(vals)) if vals else (None, 0)


def report_mode(mode, results, servers, args):
    log("")
    log(f"== mode {mode}: medians over rounds ({args.sessions} sessions per round)")
    log(f"  {'server':8s} {'KiB/idle session':>17s} {'ms CPU/login':>13s} {'(sched ms)':>11s} "
        f"{'logins/s wall':>14s} {'valid rounds':>13s}")
    med = {}
    for s in servers:
        rs = [r for r in results if r["server"] == s.name]
        kib, n = median_of(rs, "kib_per_session")
        ms, _ = median_of(rs, "ms_per_login")
        sms, _ = median_of(rs, "sched_ms_per_login")
        lps, _ = median_of(rs, "logins_per_s")
        med[s.name] = (kib, ms)
        f = lambda v, p: f"{v:.{p}f}" if v is not None else "-"
        log(f"  {s.name:8s} {f(kib, 2):>17s} {f(ms, 3):>13s} {f(sms, 3):>11s} {f(lps, 0):>14s} "
            f"{n:>9d}/{len(rs)}")
    pk, pm = med.get("parley", (None, None))
    qk, qm = med.get("prosody", (None, None))
    if pk is not None:
        met = "met" if pk <= 8.0 else "NOT met"
        ratio = f"{pk / qk:.3f}" if qk else "-"
        log(f"  parley/prosody memory per session: {ratio} "
            f"(parley {pk:.2f} KiB, prosody {f'{qk:.2f}' if qk is not None else '-'} KiB; "
            f"target <= 8 KiB absolute: {met})")
    if pm is not None and qm is not None:
        if pm > 0:
            x = qm / pm
            log(f"  prosody CPU per login / parley CPU per login: {x:.2f}x "
                f"(parley {pm:.3f} ms, prosody {qm:.3f} ms; target >= 5x: {'met' if x >= 5 else 'NOT met'})")
        else:
            log("  prosody CPU per login / parley CPU per login: parley used 0 ticks (raise --sessions)")
    elif pm is not None:
        log(f"  parley CPU per login: {pm:.3f} ms (no prosody result to compare)")
    return med


# --------------------------------------------------------------------------


def pin_self():
    global PIN_SERVER
    cpus = os.sched_getaffinity(0)
    if not {CLIENT_CPU, SERVER_CPU} <= cpus or not shutil.which("taskset"):
        PIN_SERVER = False
        return f"WARNING: CPUs {CLIENT_CPU} and {SERVER_CPU} not both available ({sorted(cpus)}) or no taskset: NOT pinned"
    os.sched_setaffinity(0, {CLIENT_CPU})
    return f"load generator pinned to CPU {CLIENT_CPU}, servers to CPU {SERVER_CPU} (taskset -c {SERVER_CPU})"


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, need)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        sys.exit(f"RLIMIT_NOFILE hard limit {hard} is too low for {need} descriptors; "
                 "lower --sessions or raise the limit (ulimit -Hn)")
    return soft


async def amain(args, servers):
    cache = ScramCache(ACCOUNT_PASS)
    modes = ["anonymous", "scram"] if args.mode == "both" else [args.mode]
    summary = {}
    all_valid = True
    for mode in modes:
        log("")
        pres = mode == "anonymous" or args.scram_presence
        what = ("SASL ANONYMOUS, one user per session" if mode == "anonymous" else
                f"SCRAM-SHA-1 as {ACCOUNT_USER}@{ACCOUNT_DOMAIN}, one resource per session")
        log(f"== mode {mode}: {what}; initial presence {'sent' if pres else 'NOT sent (see --scram-presence)'}")
        log(f"   {args.sessions} sessions x {args.rounds} rounds, warm-up {args.warmup}, "
            f"{args.concurrency} logins in flight; order " + " ".join(s.name for s in servers) + " ...")
        results = []
        for rnd in range(1, args.rounds + 1):
            for s in servers:
                r = await run_round(s, mode, args, cache, rnd)
                results.append(r)
                log(fmt_round(r))
                all_valid &= r.get("valid", False)
        summary[mode] = report_mode(mode, results, servers, args)
    log("")
    log(f"client PBKDF2 computations (cached per salt/iterations): {cache.pbkdf2_runs}")
    return all_valid


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=1000, help="sessions per round (default 1000)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds, each server once per round (default 3)")
    ap.add_argument("--mode", choices=["anonymous", "scram", "both"], default="both")
    ap.add_argument("--only", choices=["parley", "prosody"], help="benchmark one server (debugging)")
    ap.add_argument("--concurrency", type=int, default=50, help="logins in flight (default 50)")
    ap.add_argument("--warmup", type=int, default=10, help="sessions logged in before the baseline (default 10)")
    ap.add_argument("--login-timeout", type=float, default=30.0, help="seconds per login (default 30)")
    ap.add_argument("--presence-timeout", type=float, default=120.0,
                    help="seconds to wait for the presence the server owes the sessions (default 120)")
    ap.add_argument("--scram-presence", action="store_true",
                    help="scram mode: send initial presence too. All sessions are resources of one "
                         "account, so this makes the server fan out N*N presence stanzas (off by default)")
    ap.add_argument("--build-dir", default=os.environ.get("PARLEY_BUILD_DIR", "/work/main/build"),
                    help="parley build directory (default $PARLEY_BUILD_DIR or /work/main/build)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (configs, logs)")
    args = ap.parse_args()
    if args.sessions < 1 or args.rounds < 1 or args.concurrency < 1 or args.warmup < 1:
        ap.error("--sessions, --rounds, --concurrency and --warmup must be >= 1")

    global _libc
    try:
        _libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        _libc = None

    # Ctrl-C and SIGTERM both end up in the finally below
    def on_term(signum, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored

    pin_note = pin_self()
    nofile = raise_nofile(args.sessions + args.warmup + 200)
    root = tempfile.mkdtemp(prefix="parley-login-bench-")
    ok = False
    t_start = time.monotonic()
    try:
        servers = []
        if args.only in (None, "parley"):
            p = Parley(root, args.build_dir)
            for f in (p.xmppd, p.ctl):
                if not os.access(f, os.X_OK):
                    sys.exit(f"{f} not found: build parley (see bench/README.md) or set PARLEY_BUILD_DIR")
            servers.append(p)
        if args.only in (None, "prosody"):
            if not shutil.which("prosody"):
                sys.exit("prosody not found (apt install prosody)")
            servers.append(Prosody(root))
        for s in servers:
            s.setup()
        log("parley/Prosody login benchmark")
        log(f"  {pin_note}; RLIMIT_NOFILE {nofile}; clock ticks {CLK_TCK}/s; loopback {HOST}, no TLS")
        for s in servers:
            log(f"  {s.name}: {s.version()}  ({s.argv()[0]})")
        log("  per round and server: fresh server process, warm-up sessions, RSS/CPU baseline, N logins,")
        log("  wait for owed presence, RSS settle, RSS/CPU again; KiB = dRSS/N, ms = d(utime+stime)/N")
        if args.rounds < 3:
            log(f"  WARNING: {args.rounds} round(s); the method asks for at least 3")
        ok = asyncio.run(amain(args, servers))
        log(f"total run time {time.monotonic() - t_start:.0f} s")
        if not ok:
            log("SOME ROUNDS WERE INVALID (login failures, lost sessions or a server exit) - see above")
    except KeyboardInterrupt:
        log("interrupted")
    finally:
        kill_all()
        if args.keep:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
