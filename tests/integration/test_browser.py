"""Headless Chromium (playwright-core) loading the web client from xmppd's
own web root and logging in with strophe.js from the page over WebSocket
(and BOSH), with a message round trip to a slixmpp client on TCP.
Exits 77 (skipped) only when chromium cannot be installed."""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import *  # noqa: E402,F401,F403

CHROMIUM = '/usr/bin/chromium'
STROPHE_DIST = os.path.join(TESTS_DIR, 'node_modules', 'strophe.js', 'dist')


def ensure_chromium():
    if os.access(CHROMIUM, os.X_OK):
        return True
    try:
        subprocess.run(['apt-get', 'install', '-y', 'chromium'], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    except (OSError, subprocess.SubprocessError):
        pass
    return os.access(CHROMIUM, os.X_OK)


def make_webroot(d):
    shutil.copy(os.path.join(JS_DIR, 'browser_index.html'), os.path.join(d, 'index.html'))
    # the UMD build (named strophe.umd.min.js in strophe.js 5's dist)
    src = os.path.join(STROPHE_DIST, 'strophe.umd.min.js')
    if not os.path.exists(src):
        src = os.path.join(STROPHE_DIST, 'strophe.umd.js')
    shutil.copy(src, os.path.join(d, 'strophe.umd.js'))


async def _browser_roundtrip(s, transport, url):
    s.adduser(s.jid('bob'), 'bob-pw')
    bob = await login(s, s.jid('bob'), 'bob-pw', resource='tcp', presence=True)
    page_url = 'http://127.0.0.1:%d/someroom' % s.http_port
    os.environ['PARLEY_PAGE_URL'] = page_url
    br = NodeClient('strophe', transport, url, s.domain, script='browser_client.cjs',
                    name='chromium/%s' % transport)
    try:
        await br.start(timeout=40)
        page = [e for e in br.all if e['ev'] == 'page']
        assert page and page[0]['status'] == 200 and page[0]['strophe'] == 'object', \
            'the page from the web root: %s' % page
        assert page[0]['contentType'].startswith('text/html'), page
        assert not [e for e in br.all if e['ev'] == 'pageerror'], br.all
        assert re.match(r'^[^@/]+@%s/.+$' % re.escape(s.domain), br.jid), br.jid
        body = 'to the browser ' + uid()
        bob.send_message(br.jid, body)
        await br.expect_stanza('message', body=body, **{'from': bob.jid})
        body = 'from the browser ' + uid()
        br.send_message(bob.jid, body)
        await bob.expect(is_message(body=body, frm=br.jid, type='chat'), 10, 'the message from chromium')
        await br.quit(timeout=15)
    finally:
        await br.close()
        await bob.close()


@timeout(60)
async def test_browser_websocket():
    with tempfile.TemporaryDirectory(prefix='parley-web-') as d:
        make_webroot(d)
        with web_server(XMPP_WEB_ROOT=d) as s:
            await _browser_roundtrip(s, 'ws', 'ws://127.0.0.1:%d/xmpp-websocket' % s.http_port)


@timeout(60)
async def test_browser_bosh():
    with tempfile.TemporaryDirectory(prefix='parley-web-') as d:
        make_webroot(d)
        with web_server(XMPP_WEB_ROOT=d) as s:
            await _browser_roundtrip(s, 'bosh', 'http://127.0.0.1:%d/http-bind' % s.http_port)


if __name__ == '__main__':
    if not ensure_chromium():
        print('SKIP: %s is missing and `apt-get install -y chromium` did not provide it' % CHROMIUM)
        sys.stdout.flush()
        sys.exit(77)
    main(globals())
