#!/usr/bin/python3
"""MUC fan-out: 50 raw clients in one room each send 20 groupchat messages;
every client receives every message exactly once, in each sender's order,
from the sender's occupant JID."""

import asyncio
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import NS_MUC, main, raw_login, server, timeout, uid  # noqa: E402

N_CLIENTS = 50
N_MESSAGES = 20
STANZA_RE = re.compile(r'<(message|presence|iq)\b([^>]*?)(?:/>|>(.*?)</\1>)', re.S)
ATTR_RE = re.compile(r"""\b([a-z]+)=(?:'([^']*)'|"([^"]*)")""")
BODY_RE = re.compile(r'<body>([^<]*)</body>')


def attrs(text):
    return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3) for m in ATTR_RE.finditer(text)}


class FanClient:
    def __init__(self, raw, index, room):
        self.raw = raw
        self.i = index
        self.nick = 'u%02d' % index
        self.room = room
        self.buf = raw.buf[raw.pos:]
        self.joined = asyncio.Event()
        self.errors = []
        self.got = {}          # sender nick -> [seq, ...]
        self.bad = []          # messages that do not fit
        self.count = 0
        self.done = asyncio.Event()
        self.finished = asyncio.Event()
        self.closed = False
        self.task = None

    def start(self):
        self.task = asyncio.ensure_future(self._read())

    async def _read(self):
        try:
            while True:
                self._parse()
                chunk = await self.raw.reader.read(65536)
                if not chunk:
                    self.closed = True
                    self.joined.set()
                    self.done.set()
                    return
                self.buf += chunk.decode('utf-8', 'replace')
        except (ConnectionError, OSError):
            self.closed = True
            self.joined.set()
            self.done.set()

    def _parse(self):
        pos = 0
        for m in STANZA_RE.finditer(self.buf):
            pos = m.end()
            kind, a, inner = m.group(1), attrs(m.group(2)), m.group(3) or ''
            if a.get('type') == 'error' or '<stream:error' in inner:
                self.errors.append(m.group(0))
                continue
            if kind == 'presence':
                if a.get('from') == '%s/%s' % (self.room, self.nick) and "code='110'" in inner.replace('"', "'"):
                    self.joined.set()
                continue
            if kind != 'message' or a.get('type') != 'groupchat':
                continue
            b = BODY_RE.search(inner)
            if not b:
                continue
            body = b.group(1)
            if body == 'finish':
                self.finished.set()
                continue
            try:
                sender, seq = body.split(':')
                seq = int(seq)
            except ValueError:
                self.bad.append(m.group(0))
                continue
            if a.get('from') != '%s/%s' % (self.room, sender):
                self.bad.append(m.group(0))
            self.got.setdefault(sender, []).append(seq)
            self.count += 1
            if self.count >= N_CLIENTS * N_MESSAGES:
                self.done.set()
        self.buf = self.buf[pos:]
        if '<stream:error' in self.buf:
            self.errors.append(self.buf[self.buf.index('<stream:error'):][:300])


async def join(c):
    await c.raw.send("<presence to='%s/%s'><x xmlns='%s'><history maxstanzas='0'/></x></presence>"
                     % (c.room, c.nick, NS_MUC))
    await asyncio.wait_for(c.joined.wait(), 20)
    assert not c.closed and not c.errors, '%s could not join: %s' % (c.nick, c.errors[:1])


@timeout(100)
async def test_fifty_clients_twenty_messages_each():
    with server(C2S_REQUIRE_ENCRYPTION='false', MUC_RESTRICT_ROOM_CREATION='false',
                XMPP_STANZA_RATE=100000, XMPP_STANZA_BURST=100000) as s:
        room = 'fan%s@muc.meet.parley' % uid()
        raws = await asyncio.gather(*(raw_login(s, tls=False, resource='f%d' % i, timeout=20)
                                      for i in range(N_CLIENTS)))
        cs = [FanClient(r, i, room) for i, r in enumerate(raws)]
        try:
            for c in cs:
                c.start()
            await join(cs[0])
            await asyncio.gather(*(join(c) for c in cs[1:]))
            t0 = time.monotonic()

            async def send_all(c):
                data = ''.join("<message to='%s' type='groupchat' id='%s-%d'><body>%s:%d</body></message>"
                               % (room, c.nick, k, c.nick, k) for k in range(N_MESSAGES))
                await c.raw.send(data)
            await asyncio.gather(*(send_all(c) for c in cs))
            try:
                await asyncio.wait_for(asyncio.gather(*(c.done.wait() for c in cs)), 60)
            except asyncio.TimeoutError:
                short = [(c.nick, c.count) for c in cs if c.count < N_CLIENTS * N_MESSAGES]
                raise AssertionError('not every client got all %d messages within 60s: %s'
                                     % (N_CLIENTS * N_MESSAGES, short[:10]))
            elapsed = time.monotonic() - t0
            # a last message from u00: anything duplicated was sent before it
            await cs[0].raw.send("<message to='%s' type='groupchat'><body>finish</body></message>" % room)
            await asyncio.wait_for(asyncio.gather(*(c.finished.wait() for c in cs)), 20)
            for c in cs:
                assert not c.closed, '%s was disconnected' % c.nick
                assert not c.errors, '%s got errors: %s' % (c.nick, c.errors[:2])
                assert not c.bad, '%s got malformed or misattributed messages: %s' % (c.nick, c.bad[:2])
                assert sorted(c.got) == sorted(x.nick for x in cs), \
                    '%s heard from %d senders, expected %d' % (c.nick, len(c.got), N_CLIENTS)
                for sender, seqs in c.got.items():
                    assert seqs == list(range(N_MESSAGES)), \
                        '%s got %s\'s messages as %s (expected each once, in order)' % (c.nick, sender, seqs)
            print('# fan-out: %d deliveries in %.2fs' % (N_CLIENTS * N_CLIENTS * N_MESSAGES, elapsed))
            s.check()
        finally:
            for c in cs:
                if c.task:
                    c.task.cancel()
                c.raw.close()


if __name__ == '__main__':
    main(globals())
