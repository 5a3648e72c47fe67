#!/usr/bin/python3
"""Direct TLS on the HTTP port (XMPP_HTTP_TLS=true): /health over HTTPS, and
a WebSocket session over TLS is secure by itself: SASL is offered although
no proxy is trusted, while the same over plain HTTP gets no mechanisms."""

import base64
import os
import re
import socket
import ssl
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import main, server  # noqa: E402

FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing'


def tls_sock(port):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(('127.0.0.1', port), timeout=10)
    return ctx.wrap_socket(raw, server_hostname='localhost')


def read_http_head(sock):
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = sock.recv(4096)
        assert chunk, 'connection closed before the HTTP head: %r' % data
        data += chunk
    head, _, rest = data.partition(b'\r\n\r\n')
    return head.decode('latin-1'), rest


def ws_send(sock, text):
    payload = text.encode()
    mask = os.urandom(4)
    n = len(payload)
    hdr = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack('>H', n))
    sock.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


def ws_recv(sock, buf):
    """Returns (text, rest) for one unfragmented server text frame."""
    while True:
        if len(buf) >= 2:
            n = buf[1] & 0x7f
            off = 2
            if n == 126:
                if len(buf) < 4:
                    n = None
                else:
                    n = struct.unpack('>H', buf[2:4])[0]
                    off = 4
            if n is not None and len(buf) >= off + n:
                assert buf[0] & 0x0f == 1, 'expected a text frame: %r' % buf[:2]
                return buf[off:off + n].decode(), buf[off + n:]
        chunk = sock.recv(65536)
        assert chunk, 'connection closed while waiting for a frame'
        buf += chunk


def ws_features(port, use_tls):
    sock = tls_sock(port) if use_tls else socket.create_connection(('127.0.0.1', port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(('GET /xmpp-websocket HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n'
                  'Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n'
                  'Sec-WebSocket-Protocol: xmpp\r\n\r\n' % key).encode())
    head, rest = read_http_head(sock)
    assert head.startswith('HTTP/1.1 101'), head
    ws_send(sock, "<open xmlns='%s' to='meet.parley' version='1.0'/>" % FRAMING)
    opened, rest = ws_recv(sock, rest)
    assert opened.startswith('<open') and FRAMING in opened, opened
    features, rest = ws_recv(sock, rest)
    assert features.startswith('<stream:features'), features
    sock.close()
    return features


def test_https_health_and_secure_websocket():
    with server(XMPP_HTTP_TLS='true', XMPP_TRUSTED_PROXIES='') as s:
        sock = tls_sock(s.http_port)
        sock.sendall(b'GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')
        head, rest = read_http_head(sock)
        assert head.startswith('HTTP/1.1 200'), head
        body = rest
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            body += chunk
        assert body.strip() == b'ok', body
        features = ws_features(s.http_port, use_tls=True)
        assert re.search(r'<mechanism>ANONYMOUS</mechanism>', features), features
        assert 'starttls' not in features, 'no STARTTLS on WebSocket: %s' % features


def test_plain_http_from_untrusted_peer_gets_no_sasl():
    with server(XMPP_TRUSTED_PROXIES='') as s:
        features = ws_features(s.http_port, use_tls=False)
        assert '<mechanism>' not in features, 'SASL over unencrypted WebSocket: %s' % features
        assert 'starttls' not in features, 'no STARTTLS on WebSocket: %s' % features


if __name__ == '__main__':
    main(globals())
