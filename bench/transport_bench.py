#!/usr/bin/env python3
"""Transport benchmark: WebSocket and BOSH on parley xmppd against Prosody 0.12.

Side by side, alternating rounds (fresh server process per measurement,
server pinned to CPU 1, this load generator to CPU 0, loopback only), it
reports per server the medians of

  * WebSocket (RFC 7395): memory per idle logged-in session (dVmRSS / N after
    the RSS settled) and server CPU per login, at N sessions (default 1000 on
    both servers), plus a parley-only measurement at --ws-target sessions
    (default 5000) for the target "5,000 WebSocket sessions on one core with
    less memory than Prosody needs for 1,000";
  * BOSH (XEP-0124/0206): memory per idle session (each holding one pending
    HTTP request on its own keep-alive TCP connection) at N sessions (default
    500), and polling throughput: M sessions (default 50) doing
    request/response cycles for D seconds, every request carrying a message
    to the session's own full JID so that the server answers it at once;
    reported as requests per server CPU-second.

It reuses the server, /proc, pinning and process plumbing of login_bench.py
(same directory).  See bench/README.md for the method.

Standard library only.  Usage:

  python3 bench/transport_bench.py [--rounds 3] [--ws-sessions 1000] [--ws-target 5000]
                                   [--bosh-sessions 500] [--poll-sessions 50] [--poll-duration 5]
"""

import argparse
import asyncio
import base64
import collections
import ctypes
import hashlib
import os
import re
import resource
import shutil
import signal
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import login_bench as lb  # noqa: E402

from login_bench import HOST, NS_SASL, NS_BIND, CLK_TCK, LoginError, log  # noqa: E402

DOMAIN = "meet.parley"
NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
NS_HTTPBIND = "http://jabber.org/protocol/httpbind"
NS_XBOSH = "urn:xmpp:xbosh"
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

RX_FEATURES = re.compile(rb"<(?:stream:)?features\b[^>]*/>|<(?:stream:)?features\b.*?</(?:stream:)?features>", re.S)
RX_OPEN = re.compile(rb"<open\b[^>]*>")
RX_PRESENCE = re.compile(rb"<presence\b")
RX_WS_END = re.compile(rb"<close\b[^>]*>|<stream:error\b.*?(?:</stream:error>|$)|</stream:stream>", re.S)
RX_BODY_OPEN = re.compile(rb"<body\b([^>]*?)(/?)>", re.S)
RX_TERMINATE = re.compile(rb"""type\s*=\s*['"]terminate['"]""")
RX_SID = re.compile(rb"""\bsid\s*=\s*['"]([^'"]+)['"]""")
RX_MESSAGE = re.compile(rb"<message\b")


# --------------------------------------------------------------------------
# servers: login_bench's classes with an HTTP listener (WebSocket + BOSH)


def two_ports():
    a = lb.free_port()
    for _ in range(100):
        b = lb.free_port()
        if b != a:
            return a, b
    raise RuntimeError("no two distinct free ports")


class HttpParley(lb.Parley):
    """self.port is the HTTP port (probed by wait_ready), self.c2s_port the c2s one."""

    def start(self):
        self.c2s_port, _ = two_ports()
        return super().start()

    def write_config(self):
        # the polling test sends hundreds of stanzas/s per session; Prosody
        # has no limit (mod_limits not loaded), parley's default (200/s,
        # burst 1000) would close the session
        self.config(DOMAIN, getattr(self, "c2s_port", None), XMPP_HTTP_PORT=self.port or 5280,
                    XMPP_HTTP_BIND_ADDRESS=HOST, XMPP_STANZA_RATE=1000000,
                    XMPP_STANZA_BURST=1000000)

    def setup(self):
        self.write_config()


class HttpProsody(lb.Prosody):
    def domain(self, mode=None):
        return DOMAIN

    def start(self):
        self.c2s_port, _ = two_ports()
        return super().start()

    def write_config(self):
        self.config(getattr(self, "c2s_port", None), f'''https_interfaces = {{}}
http_default_host = "{DOMAIN}"
consider_websocket_secure = true
consider_bosh_secure = true
cross_domain_websocket = true
cross_domain_bosh = true

VirtualHost "{DOMAIN}"
    authentication = "anonymous"
''', http_port=self.port or 5280, modules=("websocket", "bosh"))

    def setup(self):
        self.write_config()


# --------------------------------------------------------------------------
# WebSocket client (RFC 6455 framing, RFC 7395 XMPP subprotocol)


def ws_frame(opcode, payload):
    """A masked client frame."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    mask = os.urandom(4)
    key = (mask * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")
    return head + mask + masked


class WsConn(asyncio.Protocol):
    def __init__(self, loop, port):
        self.loop = loop
        self.port = port
        self.transport = None
        self.raw = bytearray()
        self.handshaken = False
        self.hs_error = None
        self.key = base64.b64encode(os.urandom(16))
        self.frag = b""
        self.buf = b""
        self.waiter = None
        self.closed = False
        self.idle = False
        self.presence = 0
        self.server_error = None
        self.jid = None

    def connection_made(self, transport):
        self.transport = transport
        transport.write(b"GET /xmpp-websocket HTTP/1.1\r\n"
                        b"Host: " + f"{HOST}:{self.port}".encode() + b"\r\n"
                        b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                        b"Sec-WebSocket-Key: " + self.key + b"\r\n"
                        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xmpp\r\n\r\n")

    def connection_lost(self, exc):
        self.closed = True
        if self.idle and self.server_error is None:
            self.server_error = "TCP connection closed by the server"
        self._wake()

    def _wake(self):
        w = self.waiter
        if w is not None and not w.done():
            w.set_result(None)

    def data_received(self, data):
        self.raw += data
        if not self.handshaken:
            end = self.raw.find(b"\r\n\r\n")
            if end < 0:
                if len(self.raw) > 16384:
                    self.hs_error = "oversized handshake response"
                    self._wake()
                return
            head = bytes(self.raw[:end]).decode(errors="replace")
            del self.raw[:end + 4]
            lines = head.split("\r\n")
            hdrs = {}
            for l in lines[1:]:
                k, _, v = l.partition(":")
                hdrs[k.strip().lower()] = v.strip()
            want = base64.b64encode(hashlib.sha1(self.key + WS_GUID).digest()).decode()
            if not lines[0].startswith("HTTP/1.1 101"):
                self.hs_error = f"handshake: {lines[0]!r}"
            elif hdrs.get("sec-websocket-accept") != want:
                self.hs_error = f"handshake: bad Sec-WebSocket-Accept {hdrs.get('sec-websocket-accept')!r}"
            elif hdrs.get("sec-websocket-protocol", "").lower() != "xmpp":
                self.hs_error = f"handshake: subprotocol {hdrs.get('sec-websocket-protocol')!r}"
            self.handshaken = True
            self._wake()
        self._frames()

    def _frames(self):
        r = self.raw
        i = 0
        while len(r) - i >= 2:
            b0, b1 = r[i], r[i + 1]
            n = b1 & 0x7F
            p = i + 2
            if n == 126:
                if len(r) - p < 2:
                    break
                n = int.from_bytes(r[p:p + 2], "big")
                p += 2
            elif n == 127:
                if len(r) - p < 8:
                    break
                n = int.from_bytes(r[p:p + 8], "big")
                p += 8
            mask = None
            if b1 & 0x80:  # a server must not mask; unmask anyway, and note it
                if len(r) - p < 4:
                    break
                mask = bytes(r[p:p + 4])
                p += 4
            if len(r) - p < n:
                break
            payload = bytes(r[p:p + n])
            i = p + n
            if mask:
                key = (mask * (n // 4 + 1))[:n]
                payload = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")
                self._note("server sent a masked frame")
            op = b0 & 0x0F
            if op in (0, 1):
                self.frag += payload
                if b0 & 0x80:
                    msg, self.frag = self.frag, b""
                    self._message(msg)
            elif op == 9:  # ping
                self.transport.write(ws_frame(10, payload))
            elif op == 8:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
                self._note(f"WebSocket close frame from the server (code {code}, {payload[2:100]!r})")
                self.closed = True
                self._wake()
            elif op == 2:
                self._note("binary frame from the server")
        del r[:i]

    def _note(self, what):
        if self.server_error is None:
            self.server_error = what

    def _message(self, msg):
        if self.idle:
            self.presence += msg.count(b"<presence")
            if RX_WS_END.search(msg):
                self._note(msg[:300].decode(errors="replace"))
            return
        self.buf += msg
        self._wake()

    def send(self, s):
        self.transport.write(ws_frame(1, s.encode() if isinstance(s, str) else s))

    async def _wait(self, what, deadline):
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

    async def handshake(self, deadline):
        while not self.handshaken:
            if self.hs_error or self.closed:
                break
            await self._wait("WebSocket handshake", deadline)
        if self.hs_error:
            raise LoginError(self.hs_error)
        if not self.handshaken:
            raise LoginError("WebSocket handshake: connection closed by server")

    async def expect(self, rx, what, deadline):
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            e = RX_WS_END.search(self.buf)
            if e:
                raise LoginError(f"{what}: stream closed by server: {e.group(0)[:200].decode(errors='replace')}")
            if self.closed:
                raise LoginError(f"{what}: connection closed by server"
                                 + (f" ({self.server_error})" if self.server_error else ""))
            await self._wait(what, deadline)

    def go_idle(self):
        rest, self.buf = self.buf, b""
        self.idle = True
        if rest:
            self._message(rest)

    def stop(self):
        if self.transport is not None:
            self.transport.abort()


def ws_open():
    return f"<open xmlns='{NS_FRAMING}' to='{DOMAIN}' version='1.0'/>"


async def bind(c, resource_name, deadline):
    c.send(f"<iq xmlns='jabber:client' type='set' id='bind1'><bind xmlns='{NS_BIND}'><resource>{resource_name}</resource></bind></iq>")
    while True:
        m = await c.expect(lb.RX_IQ, "bind", deadline)
        attrs = {k: v for k, _, v in lb.RX_ATTR.findall(m.group(1))}
        if attrs.get(b"id") == b"bind1":
            break
    if attrs.get(b"type") != b"result":
        raise LoginError(f"bind: {m.group(0)[:200].decode(errors='replace')}")
    j = lb.RX_JID.search(m.group(2) or b"")
    c.jid = j.group(1).decode() if j else None
    if not c.jid:
        raise LoginError("bind: no <jid/> in the result")


def check_anonymous(feats):
    mechs = lb.RX_MECH.findall(feats)
    if b"ANONYMOUS" not in mechs:
        raise LoginError(f"ANONYMOUS not offered (offered: {b' '.join(mechs).decode()})")


async def ws_login(loop, port, resource_name, timeout, conns):
    """Handshake, <open/>, SASL ANONYMOUS, <open/> again, bind, <presence/>,
    and the echo of that presence; then the connection is left idle."""
    deadline = loop.time() + timeout
    try:
        _, c = await asyncio.wait_for(loop.create_connection(lambda: WsConn(loop, port), HOST, port), timeout)
    except (OSError, asyncio.TimeoutError) as e:
        raise LoginError(f"connect: {e.__class__.__name__}: {e}") from None
    conns.append(c)
    await c.handshake(deadline)
    c.send(ws_open())
    await c.expect(RX_OPEN, "open", deadline)
    feats = (await c.expect(RX_FEATURES, "features", deadline)).group(0)
    check_anonymous(feats)
    c.send(f"<auth xmlns='{NS_SASL}' mechanism='ANONYMOUS'/>")
    m = await c.expect(lb.RX_SASL, "anonymous auth", deadline)
    if m.group(1) != b"success":
        raise LoginError(f"anonymous auth: {m.group(0)[:200].decode(errors='replace')}")
    c.send(ws_open())
    await c.expect(RX_OPEN, "open after auth", deadline)
    feats = (await c.expect(RX_FEATURES, "post-auth features", deadline)).group(0)
    if NS_BIND.encode() not in feats:
        raise LoginError("no <bind/> offered after authentication")
    await bind(c, resource_name, deadline)
    c.send("<presence xmlns='jabber:client'/>")
    await c.expect(RX_PRESENCE, "own presence echo", deadline)
    c.go_idle()
    return c


# --------------------------------------------------------------------------
# BOSH client: one HTTP/1.1 keep-alive connection per session, one request
# in flight at a time (hold=1)


class HttpConn(asyncio.Protocol):
    def __init__(self, loop):
        self.loop = loop
        self.transport = None
        self.buf = bytearray()
        self.fut = None
        self.closed = False

    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, exc):
        self.closed = True
        if self.fut is not None and not self.fut.done():
            self.fut.set_exception(ConnectionError("HTTP connection closed by the server"))

    def request(self, path, host, body):
        if self.closed:
            raise ConnectionError("HTTP connection closed by the server")
        self.fut = self.loop.create_future()
        self.transport.write(b"POST " + path + b" HTTP/1.1\r\nHost: " + host +
                             b"\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: " +
                             str(len(body)).encode() + b"\r\n\r\n" + body)
        return self.fut

    def data_received(self, data):
        self.buf += data
        self._parse()

    def _parse(self):
        f = self.fut
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buf[:end]).decode(errors="replace").split("\r\n")
        hdrs = {}
        for l in head[1:]:
            k, _, v = l.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        try:
            status = int(head[0].split()[1])
        except (IndexError, ValueError):
            status = 0
        p = end + 4
        if "chunked" in hdrs.get("transfer-encoding", "").lower():
            body = b""
            while True:
                e = self.buf.find(b"\r\n", p)
                if e < 0:
                    return
                size = int(bytes(self.buf[p:e]).split(b";")[0], 16)
                if len(self.buf) < e + 2 + size + 2:
                    return
                body += bytes(self.buf[e + 2:e + 2 + size])
                p = e + 2 + size + 2
                if size == 0:
                    break
        else:
            n = int(hdrs.get("content-length", "0"))
            if len(self.buf) - p < n:
                return
            body = bytes(self.buf[p:p + n])
            p += n
        del self.buf[:p]
        if f is not None and not f.done():
            f.set_result((status, hdrs, body))
        elif self.buf or body:
            pass  # unsolicited response: ignored (cannot happen with one request in flight)


class BoshSession:
    def __init__(self, loop, port, wait):
        self.loop = loop
        self.port = port
        self.wait = wait
        self.http = None
        self.sid = None
        self.rid = int.from_bytes(os.urandom(4), "big") + 1000
        self.buf = b""
        self.jid = None
        self.presence = 0
        self.messages = 0
        self.server_error = None
        self.closed = False
        self.host = DOMAIN.encode()

    async def connect(self, timeout):
        _, self.http = await asyncio.wait_for(
            self.loop.create_connection(lambda: HttpConn(self.loop), HOST, self.port), timeout)

    async def post(self, inner, attrs, what, deadline):
        """One request/response cycle; the response's children go to buf.
        Returns the children."""
        self.rid += 1
        sid = f" sid='{self.sid}'" if self.sid else ""
        head = f"<body rid='{self.rid}'{sid} xmlns='{NS_HTTPBIND}'{attrs}"
        body = (head + ">" + inner + "</body>") if inner else head + "/>"
        left = deadline - self.loop.time()
        if left <= 0:
            raise LoginError(f"{what}: timeout")
        try:
            status, _, resp = await asyncio.wait_for(self.http.request(b"/http-bind", self.host, body.encode()),
                                                     left)
        except asyncio.TimeoutError:
            raise LoginError(f"{what}: timeout") from None
        except ConnectionError as e:
            self.closed = True
            raise LoginError(f"{what}: {e}") from None
        if status != 200:
            raise LoginError(f"{what}: HTTP {status}: {resp[:200].decode(errors='replace')}")
        m = RX_BODY_OPEN.search(resp)
        if not m:
            raise LoginError(f"{what}: response without <body>: {resp[:200].decode(errors='replace')}")
        if RX_TERMINATE.search(m.group(1)):
            self.closed = True
            raise LoginError(f"{what}: session terminated by server: {resp[:300].decode(errors='replace')}")
        if self.sid is None:
            s = RX_SID.search(m.group(1))
            if not s:
                raise LoginError(f"session creation: no sid in {resp[:200].decode(errors='replace')}")
            self.sid = s.group(1).decode()
        kids = b"" if m.group(2) else resp[m.end():resp.rfind(b"</body>")]
        self.buf += kids
        return kids

    async def expect(self, rx, what, deadline):
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            e = lb.RX_STREAM_ERR.search(self.buf)
            if e:
                raise LoginError(f"{what}: stream error: {e.group(0)[:200].decode(errors='replace')}")
            await self.post("", "", what, deadline)  # empty poll: held until the server has data

    def send(self, s):
        raise RuntimeError("use post()")

    def stop(self):
        if self.http is not None and self.http.transport is not None:
            self.http.transport.abort()


async def bosh_login(loop, port, wait, resource_name, timeout, conns):
    deadline = loop.time() + timeout
    s = BoshSession(loop, port, wait)
    try:
        await s.connect(timeout)
    except (OSError, asyncio.TimeoutError) as e:
        raise LoginError(f"connect: {e.__class__.__name__}: {e}") from None
    conns.append(s)
    await s.post("", f" content='text/xml; charset=utf-8' hold='1' to='{DOMAIN}' ver='1.6' wait='{wait}' "
                 f"xml:lang='en' xmpp:version='1.0' xmlns:xmpp='{NS_XBOSH}'", "session creation", deadline)
    feats = (await s.expect(RX_FEATURES, "features", deadline)).group(0)
    check_anonymous(feats)
    await s.post(f"<auth xmlns='{NS_SASL}' mechanism='ANONYMOUS'/>", "", "anonymous auth", deadline)
    m = await s.expect(lb.RX_SASL, "anonymous auth", deadline)
    if m.group(1) != b"success":
        raise LoginError(f"anonymous auth: {m.group(0)[:200].decode(errors='replace')}")
    await s.post("", f" to='{DOMAIN}' xml:lang='en' xmpp:restart='true' xmlns:xmpp='{NS_XBOSH}'",
                 "restart", deadline)
    feats = (await s.expect(RX_FEATURES, "post-auth features", deadline)).group(0)
    if NS_BIND.encode() not in feats:
        raise LoginError("no <bind/> offered after authentication")
    # bind() sends with c.send; BOSH posts instead
    await s.post(f"<iq xmlns='jabber:client' type='set' id='bind1'><bind xmlns='{NS_BIND}'><resource>{resource_name}</resource>"
                 "</bind></iq>", "", "bind", deadline)
    while True:
        m = await s.expect(lb.RX_IQ, "bind", deadline)
        attrs = {k: v for k, _, v in lb.RX_ATTR.findall(m.group(1))}
        if attrs.get(b"id") == b"bind1":
            break
    if attrs.get(b"type") != b"result":
        raise LoginError(f"bind: {m.group(0)[:200].decode(errors='replace')}")
    j = lb.RX_JID.search(m.group(2) or b"")
    s.jid = j.group(1).decode() if j else None
    if not s.jid:
        raise LoginError("bind: no <jid/> in the result")
    await s.post("<presence xmlns='jabber:client'/>", "", "presence", deadline)
    await s.expect(RX_PRESENCE, "own presence echo", deadline)
    s.buf = b""
    return s


async def bosh_idle_loop(s, stop):
    """Keeps exactly one request pending on the session until stop is set;
    when the server answers it (wait expired, or data), sends the next."""
    while not stop.is_set():
        try:
            kids = await s.post("", "", "idle poll", s.loop.time() + s.wait + 20)
        except LoginError as e:
            s.server_error = s.server_error or str(e)
            return
        s.presence += kids.count(b"<presence")
        e = lb.RX_STREAM_ERR.search(kids)
        if e:
            s.server_error = s.server_error or e.group(0)[:200].decode(errors="replace")
            return


# --------------------------------------------------------------------------
# generic login fan-out


async def login_many(login_fn, n, concurrency, tag, proc):
    bound, conns = [], []
    failures = collections.Counter()
    indices = iter(range(n))

    async def worker():
        for i in indices:
            if proc.poll() is not None:
                failures["server process exited"] += 1
                continue
            try:
                bound.append(await login_fn(f"{tag}-{i}", conns))
            except LoginError as e:
                failures[str(e)] += 1
            except Exception as e:  # a client bug must show up as a failure, not vanish
                failures[f"client exception {e.__class__.__name__}: {e}"] += 1

    await asyncio.gather(*(worker() for _ in range(min(concurrency, n))))
    return bound, conns, failures


def client_cpu():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def finish(server, conns, res):
    note, rc = server.stop()  # before closing clients: no logout storm to wait for
    for c in conns:
        c.stop()
    if note:
        res["notes"].append(f"{server.name} {note}")
    elif rc not in (0, None, -signal.SIGTERM):
        res["notes"].append(f"{server.name} exit status {rc} after SIGTERM")
    probs = server.problems()
    if probs:
        res["notes"].append(f"server logged {len(probs)} line(s), last ones:\n        "
                            + "\n        ".join(l[:300] for l in probs[-8:]))


# --------------------------------------------------------------------------
# scenarios


async def idle_round(server, transport, n, args, rnd):
    """N idle sessions over WebSocket or BOSH: KiB per session, CPU per login."""
    res = {"server": server.name, "scenario": f"{transport}-idle", "n": n, "round": rnd, "ok": 0,
           "failures": {}, "notes": [], "valid": False}
    loop = asyncio.get_running_loop()
    server.start()
    pid = server.proc.pid
    port = server.port
    stop = asyncio.Event()
    idlers = []
    all_conns = []
    if transport == "ws":
        def fn(name, conns):
            return ws_login(loop, port, name, args.login_timeout, conns)
    else:
        def fn(name, conns):
            return bosh_login(loop, port, args.bosh_wait, name, args.login_timeout, conns)

    def go_idle(sessions):
        if transport == "bosh":
            idlers.extend(asyncio.ensure_future(bosh_idle_loop(s, stop)) for s in sessions)

    try:
        wb, wc, wf = await login_many(fn, args.warmup, min(args.concurrency, args.warmup), f"w{rnd}", server.proc)
        all_conns += wc
        go_idle(wb)
        if wf:
            raise RuntimeError(f"{server.name}: warm-up logins failed: {dict(wf)}\n" + server.diagnostics())
        rss0, settled0, _ = await lb.settle_rss(pid)
        cpu0, ns0 = lb.proc_cpu_ticks(pid), lb.proc_sched_ns(pid)
        t0 = time.monotonic()
        bound, conns, fail = await login_many(fn, n, args.concurrency, f"{transport}{rnd}", server.proc)
        wall = time.monotonic() - t0
        all_conns += conns
        go_idle(bound)
        rss1, settled1, settle_s = await lb.settle_rss(pid)
        cpu1, ns1 = lb.proc_cpu_ticks(pid), lb.proc_sched_ns(pid)
        alive = server.proc.poll() is None
        everyone = wb + bound
        lost = [c for c in everyone if c.closed or c.server_error]
        ok = len(bound)
        res.update(ok=ok, failures=dict(fail), wall=wall, rss0=rss0, rss1=rss1, cpu_ticks=cpu1 - cpu0,
                   sched_ms=(ns1 - ns0) / 1e6 if ns0 is not None and ns1 is not None else None,
                   settle_s=settle_s, lost=len(lost))
        if not (settled0 and settled1):
            res["notes"].append("RSS did not settle within the bound")
        if lost:
            res["notes"].append(f"{len(lost)} sessions closed/errored by the server while idle, first: "
                                f"{(lost[0].server_error or 'closed')[:200]!r}")
        if not alive:
            res["notes"].append(f"server exited (status {server.proc.returncode}) during the round")
        if ok:
            res["kib_per_session"] = (rss1 - rss0) / ok
            res["ms_per_login"] = (cpu1 - cpu0) / CLK_TCK * 1000.0 / ok
            res["sched_ms_per_login"] = res["sched_ms"] / ok if res["sched_ms"] is not None else None
            res["logins_per_s"] = ok / wall if wall > 0 else 0.0
            res["rss_mib"] = rss1 / 1024
        res["valid"] = ok == n and not fail and alive and not lost
    except RuntimeError as e:
        res["notes"].append(str(e))
    finally:
        stop.set()
        finish(server, all_conns, res)
        for t in idlers:
            t.cancel()
        await asyncio.gather(*idlers, return_exceptions=True)
    return res


async def poll_round(server, args, rnd):
    """M BOSH sessions, each: request with a message to itself, response, repeat."""
    res = {"server": server.name, "scenario": "bosh-poll", "n": args.poll_sessions, "round": rnd, "ok": 0,
           "failures": {}, "notes": [], "valid": False}
    loop = asyncio.get_running_loop()
    server.start()
    pid = server.proc.pid
    port = server.port
    all_conns = []
    try:
        bound, conns, fail = await login_many(
            lambda name, cs: bosh_login(loop, port, args.bosh_wait, name, args.login_timeout, cs),
            args.poll_sessions, args.concurrency, f"p{rnd}", server.proc)
        all_conns += conns
        res["ok"] = len(bound)
        res["failures"] = dict(fail)
        if fail or len(bound) != args.poll_sessions:
            raise RuntimeError(f"{server.name}: polling logins failed: {dict(fail)}")
        errors = collections.Counter()
        counts = {"req": 0, "msg_sent": 0, "msg_rx": 0, "empty": 0}
        lat = []
        await lb.settle_rss(pid, max_seconds=3.0)
        cpu0, ns0, ccpu0 = lb.proc_cpu_ticks(pid), lb.proc_sched_ns(pid), client_cpu()
        t0 = loop.time()
        t_end = t0 + args.poll_duration

        async def poller(s):
            k = 0
            while loop.time() < t_end:
                k += 1
                ts = loop.time()
                try:
                    kids = await s.post(f"<message xmlns='jabber:client' to='{s.jid}' type='chat' id='m{k}'><body>poll {k}</body>"
                                        "</message>", "", "poll", ts + args.request_timeout)
                except LoginError as e:
                    errors[str(e)] += 1
                    return
                counts["req"] += 1
                counts["msg_sent"] += 1
                got = kids.count(b"<message")
                counts["msg_rx"] += got
                if not got:
                    counts["empty"] += 1
                lat.append(loop.time() - ts)
                if lb.RX_STREAM_ERR.search(kids):
                    errors["stream error: " + kids[:200].decode(errors="replace")] += 1
                    return

        await asyncio.gather(*(poller(s) for s in bound))
        t1 = loop.time()
        cpu1, ns1, ccpu1 = lb.proc_cpu_ticks(pid), lb.proc_sched_ns(pid), client_cpu()
        # messages still queued (answered in an earlier response's absence): one last poll each, bounded
        missing = counts["msg_sent"] - counts["msg_rx"]
        if missing > 0:
            async def drain(s):
                try:
                    kids = await s.post("", "", "drain", loop.time() + 2.0)
                    counts["msg_rx"] += kids.count(b"<message")
                except LoginError:
                    pass
            await asyncio.gather(*(drain(s) for s in bound))
        alive = server.proc.poll() is None
        wall = t1 - t0
        ticks = cpu1 - cpu0
        lat.sort()
        res.update(wall=wall, requests=counts["req"], cpu_ticks=ticks,
                   sched_ms=(ns1 - ns0) / 1e6 if ns0 is not None and ns1 is not None else None,
                   req_per_s=counts["req"] / wall if wall > 0 else 0.0,
                   client_busy=(ccpu1 - ccpu0) / wall if wall > 0 else 0.0,
                   empty=counts["empty"], msg_sent=counts["msg_sent"], msg_rx=counts["msg_rx"],
                   p50_ms=lat[len(lat) // 2] * 1000 if lat else None,
                   p99_ms=lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else None,
                   errors=dict(errors))
        if ticks > 0:
            res["req_per_cpu_s"] = counts["req"] / (ticks / CLK_TCK)
            res["server_cpu_share"] = ticks / CLK_TCK / wall
        if res["sched_ms"]:
            res["req_per_sched_s"] = counts["req"] / (res["sched_ms"] / 1000)
        if errors:
            res["notes"].append("request errors: " + "; ".join(f"{v} x {k}" for k, v in errors.most_common(3)))
        if counts["msg_rx"] < counts["msg_sent"]:
            res["notes"].append(f"{counts['msg_sent'] - counts['msg_rx']} of {counts['msg_sent']} "
                                "messages to self never came back")
        if not alive:
            res["notes"].append(f"server exited (status {server.proc.returncode}) during the round")
        res["valid"] = alive and not errors and ticks > 0 and counts["msg_rx"] == counts["msg_sent"]
    except RuntimeError as e:
        res["notes"].append(str(e))
    finally:
        finish(server, all_conns, res)
    return res


# --------------------------------------------------------------------------
# reporting


def f(v, p=0):
    return "-" if v is None else f"{v:.{p}f}"


def fmt_round(r):
    if r["scenario"] == "bosh-poll":
        if "requests" not in r:
            s = f"  round {r['round']} {r['server']:8s} {r['scenario']:9s} (no result)"
        else:
            s = (f"  round {r['round']} {r['server']:8s} bosh-poll M={r['n']:<5d} {r['requests']:7d} requests "
                 f"in {r['wall']:.2f} s = {r['req_per_s']:7.0f} req/s  server CPU {r['cpu_ticks']:4d} ticks "
                 f"({f(r.get('server_cpu_share', 0) * 100, 0)}% of a core) = {f(r.get('req_per_cpu_s'), 0)} req/CPU-s "
                 f"(sched {f(r.get('req_per_sched_s'), 0)})  latency p50 {f(r['p50_ms'], 2)} ms p99 "
                 f"{f(r['p99_ms'], 2)} ms  client busy {r['client_busy'] * 100:.0f}%  "
                 f"responses without the echo {r['empty']}")
    elif "kib_per_session" not in r:
        s = f"  round {r['round']} {r['server']:8s} {r['scenario']:9s} N={r['n']:<5d} bound {r['ok']}  (no result)"
    else:
        sched = f", sched {r['sched_ms_per_login']:.3f}" if r.get("sched_ms_per_login") is not None else ""
        s = (f"  round {r['round']} {r['server']:8s} {r['scenario']:9s} N={r['n']:<5d} bound {r['ok']:5d}  "
             f"RSS {r['rss0'] / 1024:7.1f} -> {r['rss1'] / 1024:7.1f} MiB = {r['kib_per_session']:6.2f} KiB/session  "
             f"CPU {r['cpu_ticks']:4d} ticks = {r['ms_per_login']:.3f} ms/login{sched}  "
             f"wall {r['wall']:.2f} s = {r['logins_per_s']:5.0f} logins/s")
    if r["failures"]:
        s += "\n      LOGIN FAILURES: " + "; ".join(f"{v} x {k}" for k, v in
                                                   sorted(r["failures"].items(), key=lambda kv: -kv[1])[:5])
    for n in r["notes"]:
        s += "\n      note: " + n
    if not r.get("valid", False):
        s += "\n      ROUND INVALID: excluded from the medians"
    return s


def med(rs, key):
    vals = [r[key] for r in rs if r.get("valid") and r.get(key) is not None]
    return (statistics.median(vals) if vals else None), len(vals)


def report(results, names, args):
    def pick(name, scen, n=None):
        return [r for r in results if r["server"] == name and r["scenario"] == scen and (n is None or r["n"] == n)]

    for scen, n, title in (("ws-idle", args.ws_sessions, "WebSocket idle sessions"),
                           ("bosh-idle", args.bosh_sessions, "BOSH idle sessions (one pending request each)")):
        log("")
        log(f"== {title}: medians over valid rounds, N={n}")
        log(f"  {'server':8s} {'KiB/idle session':>17s} {'RSS after MiB':>14s} {'ms CPU/login':>13s} "
            f"{'(sched ms)':>11s} {'logins/s wall':>14s} {'valid rounds':>13s}")
        m = {}
        for name in names:
            rs = pick(name, scen, n)
            kib, k = med(rs, "kib_per_session")
            rss, _ = med(rs, "rss_mib")
            ms, _ = med(rs, "ms_per_login")
            sms, _ = med(rs, "sched_ms_per_login")
            lps, _ = med(rs, "logins_per_s")
            m[name] = (kib, rss, ms)
            log(f"  {name:8s} {f(kib, 2):>17s} {f(rss, 1):>14s} {f(ms, 3):>13s} {f(sms, 3):>11s} {f(lps):>14s} "
                f"{k:>9d}/{len(rs)}")
        pk, pr, pm = m.get("parley", (None, None, None))
        qk, qr, qm = m.get("prosody", (None, None, None))
        if pk is not None and qk:
            log(f"  parley/prosody memory per idle session: {pk / qk:.3f} (prosody needs {qk / pk:.1f}x parley's)")
        if pm and qm:
            log(f"  prosody CPU per login / parley CPU per login: {qm / pm:.2f}x")
        elif pm == 0 and qm:
            log("  prosody CPU per login / parley CPU per login: parley used 0 ticks (raise N)")
        if scen == "ws-idle" and args.ws_target:
            rs = pick("parley", scen, args.ws_target)
            tk, k = med(rs, "kib_per_session")
            tr, _ = med(rs, "rss_mib")
            tms, _ = med(rs, "ms_per_login")
            t0 = [r["rss0"] / 1024 for r in rs if r.get("valid")]
            log(f"  parley at N={args.ws_target}: {f(tk, 2)} KiB/idle session, RSS {f(tr, 1)} MiB, "
                f"{f(tms, 3)} ms CPU/login ({k}/{len(rs)} valid rounds)")
            if tr is not None and qr is not None:
                prs = pick("prosody", scen, n)
                q0 = statistics.median([r["rss0"] / 1024 for r in prs if r.get("valid")])
                p0 = statistics.median(t0)
                pdelta = tr - p0
                qdelta = qr - q0
                log(f"  TARGET {args.ws_target} parley WebSocket sessions on one core with less memory than "
                    f"Prosody for {n}:")
                log(f"    whole process RSS:  parley {tr:.1f} MiB at {args.ws_target} vs prosody {qr:.1f} MiB "
                    f"at {n}: {'met' if tr < qr else 'NOT met'} ({tr / qr:.2f}x)")
                log(f"    sessions only (RSS after - RSS after warm-up): parley {pdelta:.1f} MiB vs prosody "
                    f"{qdelta:.1f} MiB: {'met' if pdelta < qdelta else 'NOT met'} ({pdelta / qdelta:.2f}x)")
            elif tr is not None:
                log("  TARGET: no prosody WebSocket result to compare with")

    log("")
    log(f"== BOSH polling: medians over valid rounds, M={args.poll_sessions} sessions, "
        f"{args.poll_duration:g} s, every request carries a message to self")
    log(f"  {'server':8s} {'req/server CPU-s':>17s} {'(sched)':>9s} {'req/s wall':>11s} {'server CPU %':>13s} "
        f"{'p50 ms':>7s} {'p99 ms':>7s} {'client busy %':>14s} {'valid rounds':>13s}")
    m = {}
    for name in names:
        rs = pick(name, "bosh-poll")
        rc, k = med(rs, "req_per_cpu_s")
        rsd, _ = med(rs, "req_per_sched_s")
        rps, _ = med(rs, "req_per_s")
        share, _ = med(rs, "server_cpu_share")
        p50, _ = med(rs, "p50_ms")
        p99, _ = med(rs, "p99_ms")
        cb, _ = med(rs, "client_busy")
        m[name] = rc
        log(f"  {name:8s} {f(rc):>17s} {f(rsd):>9s} {f(rps):>11s} {f(share * 100 if share else None):>13s} "
            f"{f(p50, 2):>7s} {f(p99, 2):>7s} {f(cb * 100 if cb else None):>14s} {k:>9d}/{len(rs)}")
    if m.get("parley") and m.get("prosody"):
        log(f"  parley/prosody requests per server CPU-second: {m['parley'] / m['prosody']:.2f}x")


# --------------------------------------------------------------------------


async def amain(args, servers):
    results = []
    for rnd in range(1, args.rounds + 1):
        plan = []
        if args.ws_sessions:
            plan += [(s, "ws", args.ws_sessions) for s in servers]
            if args.ws_target:
                plan += [(s, "ws", args.ws_target) for s in servers if s.name == "parley"]
        if args.bosh_sessions:
            plan += [(s, "bosh", args.bosh_sessions) for s in servers]
        if args.poll_sessions:
            plan += [(s, "poll", None) for s in servers]
        for s, what, n in plan:
            if what == "poll":
                r = await poll_round(s, args, rnd)
            else:
                r = await idle_round(s, what, n, args, rnd)
            results.append(r)
            log(fmt_round(r))
    report(results, [s.name for s in servers], args)
    return all(r.get("valid") for r in results)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3, help="rounds, each server once per scenario (default 3)")
    ap.add_argument("--ws-sessions", type=int, default=1000, help="idle WebSocket sessions, both servers (0 = skip)")
    ap.add_argument("--ws-target", type=int, default=5000,
                    help="extra parley-only WebSocket measurement at this N (default 5000; 0 = skip)")
    ap.add_argument("--bosh-sessions", type=int, default=500, help="idle BOSH sessions (default 500; 0 = skip)")
    ap.add_argument("--bosh-wait", type=int, default=60, help="BOSH wait attribute in seconds (default 60)")
    ap.add_argument("--poll-sessions", type=int, default=50, help="BOSH polling sessions (default 50; 0 = skip)")
    ap.add_argument("--poll-duration", type=float, default=5.0, help="seconds of polling (default 5)")
    ap.add_argument("--request-timeout", type=float, default=10.0, help="bound per polling request (default 10 s)")
    ap.add_argument("--only", choices=["parley", "prosody"], help="benchmark one server (debugging)")
    ap.add_argument("--concurrency", type=int, default=50, help="logins in flight (default 50)")
    ap.add_argument("--warmup", type=int, default=10, help="sessions logged in before the baseline (default 10)")
    ap.add_argument("--login-timeout", type=float, default=30.0, help="seconds per login (default 30)")
    ap.add_argument("--build-dir", default=os.environ.get("PARLEY_BUILD_DIR", "/work/main/build"),
                    help="parley build directory (default $PARLEY_BUILD_DIR or /work/main/build)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (configs, logs)")
    args = ap.parse_args()
    if (args.rounds < 1 or args.concurrency < 1 or args.warmup < 1 or min(args.ws_sessions, args.ws_target,
            args.bosh_sessions, args.poll_sessions) < 0 or args.poll_duration <= 0 or not 1 <= args.bosh_wait <= 60
            or not (args.ws_sessions or args.bosh_sessions or args.poll_sessions)):
        ap.error("need --rounds/--concurrency/--warmup >= 1, sizes >= 0 (not all 0), --poll-duration > 0, "
                 "1 <= --bosh-wait <= 60")

    try:
        lb._libc = ctypes.CDLL("libc.so.6", use_errno=True)  # PR_SET_PDEATHSIG in spawn()
    except OSError:
        lb._libc = None

    def on_term(signum, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.default_int_handler)

    pin_note = lb.pin_self()
    nofile = lb.raise_nofile(max(args.ws_sessions, args.ws_target, args.bosh_sessions, args.poll_sessions)
                             + args.warmup + 200)
    root = tempfile.mkdtemp(prefix="parley-transport-bench-")
    ok = False
    t_start = time.monotonic()
    snap_note = ""
    try:
        servers = []
        if args.only in (None, "parley"):
            p = HttpParley(root, args.build_dir)
            if not os.access(p.xmppd, os.X_OK):
                sys.exit(f"{p.xmppd} not found: build parley (see bench/README.md) or set PARLEY_BUILD_DIR")
            # run a private copy: a rebuild of the build tree during the run
            # must not mix two binaries within one benchmark
            st = os.stat(p.xmppd)
            snap = os.path.join(root, "xmppd-snapshot")
            shutil.copy2(p.xmppd, snap)
            with open(snap, "rb") as fh:
                digest = hashlib.sha256(fh.read()).hexdigest()[:12]
            snap_note = (f"{p.xmppd} (mtime {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(st.st_mtime))}, "
                         f"sha256 {digest}), run from a copy")
            p.xmppd = snap
            servers.append(p)
        if args.only in (None, "prosody"):
            if not shutil.which("prosody"):
                sys.exit("prosody not found (apt install prosody)")
            servers.append(HttpProsody(root))
        for s in servers:
            s.setup()
        log("parley/Prosody WebSocket and BOSH benchmark")
        log(f"  {pin_note}; RLIMIT_NOFILE {nofile}; clock ticks {CLK_TCK}/s; loopback {HOST}, no TLS")
        for s in servers:
            log(f"  {s.name}: {s.version()}  ({snap_note if s.name == 'parley' else s.argv()[0]})")
        log(f"  WebSocket idle N={args.ws_sessions}" + (f" (+ parley alone at {args.ws_target})" if args.ws_target else "")
            + f"; BOSH idle N={args.bosh_sessions} (wait={args.bosh_wait}, hold=1); BOSH polling "
            f"M={args.poll_sessions} for {args.poll_duration:g} s; warm-up {args.warmup}, "
            f"{args.concurrency} logins in flight; fresh server process per measurement")
        if args.rounds < 3:
            log(f"  WARNING: {args.rounds} round(s); the method asks for at least 3")
        ok = asyncio.run(amain(args, servers))
        log(f"total run time {time.monotonic() - t_start:.0f} s")
        if not ok:
            log("SOME ROUNDS WERE INVALID (login failures, dropped sessions, lost messages or a server exit) - see above")
    except KeyboardInterrupt:
        log("interrupted")
    finally:
        lb.kill_all()
        if args.keep:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
