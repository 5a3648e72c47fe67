#!/usr/bin/python3
"""sendxmpp (Perl Net::XMPP, STARTTLS + SASL PLAIN with an authzid) against
xmppd: a real third-party client."""

import asyncio
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import clients, is_message, login, main, server  # noqa: E402

PW = 'pw-sendxmpp'


async def sendxmpp(s, user, password, *args, stdin='hi\n', timeout=30):
    """Runs sendxmpp with TLS (no certificate check) against s; returns
    (rc, output)."""
    exe = shutil.which('sendxmpp')
    assert exe, 'sendxmpp is not installed (apt-get install sendxmpp)'
    with tempfile.TemporaryDirectory(prefix='sendxmpp-home-') as home:
        env = dict(os.environ, HOME=home)
        cmd = [exe, '-u', user, '-p', password, '-j', '127.0.0.1:%d' % s.port, '-o', s.domain,
               '-t', '-n'] + list(args)
        p = await asyncio.create_subprocess_exec(*cmd, stdin=asyncio.subprocess.PIPE,
                                                 stdout=asyncio.subprocess.PIPE,
                                                 stderr=asyncio.subprocess.STDOUT, env=env)
        try:
            out, _ = await asyncio.wait_for(p.communicate(stdin.encode()), timeout)
        except asyncio.TimeoutError:
            p.kill()
            await p.wait()
            raise AssertionError('sendxmpp %s did not finish within %ss' % (' '.join(args), timeout))
        return p.returncode, out.decode('utf-8', 'replace')


async def test_sendxmpp_delivers_message():
    with server() as s:
        s.adduser(s.jid('alice'), PW)
        s.adduser(s.jid('bob'), PW)
        async with clients() as cs:
            bob = await login(s, s.jid('bob'), PW, resource='b', presence=True)
            cs.append(bob)
            rc, out = await sendxmpp(s, 'alice', PW, s.jid('bob'), stdin='hi\n')
            assert rc == 0, 'sendxmpp failed (%s): %s' % (rc, out)
            m = await bob.expect(is_message(frm_bare=s.jid('alice')), 10, 'the message from sendxmpp')
            assert m['body'].strip() == 'hi', 'body %r' % m['body']
            assert m.xml.get('from').startswith(s.jid('alice') + '/'), m


async def test_sendxmpp_several_recipients_and_lines():
    with server() as s:
        for u in ('alice', 'bob', 'carol'):
            s.adduser(s.jid(u), PW)
        async with clients() as cs:
            bob = await login(s, s.jid('bob'), PW, resource='b', presence=True)
            carol = await login(s, s.jid('carol'), PW, resource='c', presence=True)
            cs += [bob, carol]
            text = 'line one\nline two <&> \u00e9\n'
            rc, out = await sendxmpp(s, 'alice', PW, '-s', 'subject here', s.jid('bob'), s.jid('carol'),
                                     stdin=text)
            assert rc == 0, 'sendxmpp failed (%s): %s' % (rc, out)
            for c in (bob, carol):
                m = await c.expect(is_message(frm_bare=s.jid('alice')), 10, 'the message at ' + c.name)
                assert m['body'].strip() == text.strip(), 'body %r' % m['body']
            # interactive mode: one message per line
            rc, out = await sendxmpp(s, 'alice', PW, '-i', s.jid('bob'), stdin='first\nsecond\nthird\n')
            assert rc == 0, 'sendxmpp -i failed (%s): %s' % (rc, out)
            for want in ('first', 'second', 'third'):
                m = await bob.expect(is_message(frm_bare=s.jid('alice')), 10, 'line %r' % want)
                assert m['body'].strip() == want, 'expected %r, got %r' % (want, m['body'])


async def test_sendxmpp_wrong_password_fails():
    with server() as s:
        s.adduser(s.jid('alice'), PW)
        s.adduser(s.jid('bob'), PW)
        async with clients() as cs:
            bob = await login(s, s.jid('bob'), PW, resource='b', presence=True)
            cs.append(bob)
            rc, out = await sendxmpp(s, 'alice', 'wrong-password', s.jid('bob'), stdin='must not arrive\n')
            assert rc != 0, 'sendxmpp with a wrong password exited 0: %s' % out
            await bob.ping()
            rc, out = await sendxmpp(s, 'alice', PW, s.jid('bob'), stdin='this one arrives\n')
            assert rc == 0, out
            m = await bob.expect(is_message(frm_bare=s.jid('alice')), 10, 'the message after the failed run')
            assert m['body'].strip() == 'this one arrives', 'the failed login delivered: %r' % m['body']
            s.check()


if __name__ == '__main__':
    main(globals())
