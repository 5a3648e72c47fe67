#!/usr/bin/python3
"""parleyctl (prosodyctl's verbs: adduser, passwd, deluser, register, list,
check) and the config file format, against stopped and running servers."""

import asyncio
import os
import pty
import select
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (AuthFailed, Raw, Server, _scrubbed_env, clients, login, main, parleyctl_path,  # noqa: E402
                     server, xmppd_path)

PW = 'pw with spaces & symbols <>'


async def can_login(s, jid, password):
    try:
        c = await login(s, jid, password, timeout=10)
    except AuthFailed as e:
        assert e.condition in ('not-authorized', None), 'login failed with %s' % e.condition
        return False
    await c.close()
    return True


def ok(res, what):
    rc, out, err = res
    assert rc == 0, '%s: exit %s\nstdout: %s\nstderr: %s' % (what, rc, out, err)
    return out


def fails(res, what, *words):
    rc, out, err = res
    assert rc != 0, '%s should fail but exited 0: %s %s' % (what, out, err)
    text = (out + err).strip()
    assert text, '%s failed without a message' % what
    if words:
        assert any(w in text.lower() for w in words), '%s: message %r names none of %s' % (what, text, words)
    return text


async def test_adduser_login_survives_restart():
    with server() as s:
        ok(s.parleyctl('adduser', s.jid('alice'), input=PW + '\n'), 'adduser')
        assert os.path.exists(os.path.join(s.data_dir, 'parley.db')), \
            'no parley.db in XMPP_DATA_DIR: %s' % os.listdir(s.data_dir)
        assert await can_login(s, s.jid('alice'), PW)
        s.restart()
        assert await can_login(s, s.jid('alice'), PW), 'account lost across a restart'
        # and with the daemon stopped, the tool still works on the same data
        s.stop()
        ok(s.parleyctl('adduser', s.jid('bob'), input='bobpw\n'), 'adduser while stopped')
        s.start()
        assert await can_login(s, s.jid('bob'), 'bobpw')
        assert await can_login(s, s.jid('alice'), PW)


async def test_adduser_twice_fails():
    with server() as s:
        ok(s.parleyctl('adduser', s.jid('alice'), input='one\n'), 'adduser')
        fails(s.parleyctl('adduser', s.jid('alice'), input='two\n'), 'adduser of an existing user', 'exist')
        assert await can_login(s, s.jid('alice'), 'one'), 'a failed adduser changed the password'
        assert not await can_login(s, s.jid('alice'), 'two')


async def test_passwd():
    with server() as s:
        ok(s.parleyctl('adduser', s.jid('alice'), input='old-pw\n'), 'adduser')
        ok(s.parleyctl('passwd', s.jid('alice'), input='new-pw\n'), 'passwd')
        assert not await can_login(s, s.jid('alice'), 'old-pw'), 'old password still works after passwd'
        assert await can_login(s, s.jid('alice'), 'new-pw'), 'new password does not work'
        fails(s.parleyctl('passwd', s.jid('nobody'), input='x\n'), 'passwd of a missing user',
              'no such', 'not found', 'does not exist', "doesn't exist", 'unknown user')


async def test_deluser():
    with server() as s:
        ok(s.parleyctl('adduser', s.jid('alice'), input='pw\n'), 'adduser')
        ok(s.parleyctl('adduser', s.jid('bob'), input='pw\n'), 'adduser')
        ok(s.parleyctl('deluser', s.jid('alice')), 'deluser')
        assert not await can_login(s, s.jid('alice'), 'pw'), 'deleted user can still log in'
        out = ok(s.parleyctl('list', s.domain), 'list')
        assert s.jid('alice') not in out.split(), 'deleted user still listed: %r' % out
        assert await can_login(s, s.jid('bob'), 'pw'), 'deluser removed another account'
        fails(s.parleyctl('deluser', s.jid('alice')), 'deluser of a missing user',
              'no such', 'not found', 'does not exist', "doesn't exist", 'unknown user')
        # a re-created account starts fresh
        ok(s.parleyctl('adduser', s.jid('alice'), input='pw2\n'), 'adduser again')
        assert await can_login(s, s.jid('alice'), 'pw2')


async def test_list_and_register():
    with server() as s:
        for u in ('carol', 'alice', 'bob'):
            ok(s.parleyctl('adduser', s.jid(u), input='pw\n'), 'adduser ' + u)
        ok(s.parleyctl('adduser', 'jvb@' + s.auth_domain, input='pw\n'), 'adduser jvb')
        ok(s.parleyctl('register', 'dave', s.domain, 'dave pw'), 'register')
        out = ok(s.parleyctl('list', s.domain), 'list')
        lines = [l.strip() for l in out.splitlines() if l.strip()]
        assert sorted(lines) == sorted(s.jid(u) for u in ('alice', 'bob', 'carol', 'dave')), \
            'list %s printed %r' % (s.domain, out)
        out = ok(s.parleyctl('list', s.auth_domain), 'list auth')
        assert [l.strip() for l in out.splitlines() if l.strip()] == ['jvb@' + s.auth_domain], out
        out = ok(s.parleyctl('list', s.hidden_domain), 'list hidden')
        assert out.strip() == '', 'no accounts on the hidden domain yet: %r' % out
        assert await can_login(s, s.jid('dave'), 'dave pw'), 'registered account cannot log in'
        fails(s.parleyctl('list', 'unknown.example'), 'list of an unknown host', 'unknown', 'host', 'domain')
        fails(s.parleyctl('register', 'x', 'unknown.example', 'pw'), 'register on an unknown host',
              'unknown', 'host', 'domain')
        fails(s.parleyctl('register', 'dave', s.domain, 'other'), 'register of an existing user', 'exist')


async def test_invalid_input():
    with server() as s:
        for bad in ('a@b@%s' % s.domain, '@%s' % s.domain, 'alice@', 'bad user@%s' % s.domain,
                    'x' * 1100 + '@' + s.domain, s.domain + '/res', ''):
            fails(s.parleyctl('adduser', bad, input='pw\n'), 'adduser %r' % bad[:40],
                  'invalid', 'jid', 'malformed', 'bad', 'empty')
        fails(s.parleyctl('adduser', 'x@unknown.example', input='pw\n'), 'adduser on an unknown host',
              'unknown', 'host', 'domain', 'not served')
        fails(s.parleyctl('adduser'), 'adduser without a JID')
        fails(s.parleyctl('frobnicate'), 'an unknown verb')
        # no password on stdin
        rc, out, err = s.parleyctl('adduser', s.jid('nopw'), input='')
        assert rc != 0, 'adduser with an empty stdin exited 0'
        out = ok(s.parleyctl('list', s.domain), 'list')
        assert out.strip() == '', 'failed commands created accounts: %r' % out


async def test_jid_normalisation():
    """JIDs are prepared (nodeprep lowercases, nameprep the domain)."""
    with server() as s:
        ok(s.parleyctl('adduser', 'Alice@' + s.domain.upper(), input='pw\n'), 'adduser Alice@DOMAIN')
        out = ok(s.parleyctl('list', s.domain), 'list')
        assert out.split() == [s.jid('alice')], 'list printed %r' % out
        assert await can_login(s, s.jid('alice'), 'pw')
        fails(s.parleyctl('adduser', 'ALICE@' + s.domain, input='x\n'), 'adduser of ALICE after Alice', 'exist')


async def test_running_server_sees_changes():
    with server() as s:
        ok(s.parleyctl('adduser', s.jid('alice'), input='pw\n'), 'adduser')
        async with clients() as cs:
            a = await login(s, s.jid('alice'), 'pw', presence=True)
            cs.append(a)
            ok(s.parleyctl('adduser', s.jid('bob'), input='bob1\n'), 'adduser while running')
            assert await can_login(s, s.jid('bob'), 'bob1'), 'running server does not see the new account'
            ok(s.parleyctl('passwd', s.jid('bob'), input='bob2\n'), 'passwd while running')
            assert not await can_login(s, s.jid('bob'), 'bob1'), 'running server still takes the old password'
            assert await can_login(s, s.jid('bob'), 'bob2')
            ok(s.parleyctl('deluser', s.jid('bob')), 'deluser while running')
            assert not await can_login(s, s.jid('bob'), 'bob2'), 'running server still takes a deleted account'
            await a.ping()


def _run_with_tty(cmd, answers, timeout=15):
    """Runs cmd with a pseudo-terminal as stdin/stdout/stderr. Whenever the
    output since the last answer ends like a prompt (':' or '?'), types the
    next answer. Returns (rc, output, number of answers typed)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=_scrubbed_env(),
                         start_new_session=True)
    os.close(slave)
    out = b''
    since = 0
    answered = 0
    deadline = time.monotonic() + timeout
    last_answer = time.monotonic()
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError('%s: no exit within %ss; output %r' % (cmd, timeout, out))
            if answered < len(answers) and time.monotonic() - last_answer > 5 and p.poll() is None:
                raise AssertionError('%s: waiting for input without showing prompt %d within 5 s '
                                     '(output so far %r; is the prompt flushed?)' % (cmd, answered + 1, out))
            r, _, _ = select.select([master], [], [], min(left, 0.5))
            if r:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    chunk = b''
                if not chunk:
                    break
                out += chunk
                tail = out[since:].rstrip()
                if answered < len(answers) and tail[-1:] in (b':', b'?'):
                    os.write(master, answers[answered].encode() + b'\n')
                    answered += 1
                    since = len(out)
                    last_answer = time.monotonic()
            elif p.poll() is not None:
                break
        p.wait(max(1, deadline - time.monotonic()))
        return p.returncode, out.decode('utf-8', 'replace'), answered
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
        os.close(master)


async def test_adduser_prompts_on_a_tty():
    with server() as s:
        cmd = [parleyctl_path(), '--config', s.config_path, 'adduser', s.jid('tty')]
        rc, out, answered = await asyncio.get_running_loop().run_in_executor(
            None, _run_with_tty, cmd, ['tty-pw', 'tty-pw'])
        assert rc == 0, 'adduser on a tty failed (%s): %r' % (rc, out)
        assert answered == 2, 'expected two password prompts on a tty, saw %d: %r' % (answered, out)
        assert 'tty-pw' not in out, 'the password was echoed: %r' % out
        assert await can_login(s, s.jid('tty'), 'tty-pw')
        # mismatch: refused, nothing created / changed
        cmd = [parleyctl_path(), '--config', s.config_path, 'adduser', s.jid('tty2')]
        rc, out, answered = await asyncio.get_running_loop().run_in_executor(
            None, _run_with_tty, cmd, ['one', 'two'])
        assert rc != 0, 'adduser with mismatching passwords exited 0: %r' % out
        assert not await can_login(s, s.jid('tty2'), 'one') and not await can_login(s, s.jid('tty2'), 'two')
        cmd = [parleyctl_path(), '--config', s.config_path, 'passwd', s.jid('tty')]
        rc, out, answered = await asyncio.get_running_loop().run_in_executor(
            None, _run_with_tty, cmd, ['tty-new', 'tty-new'])
        assert rc == 0, 'passwd on a tty failed (%s): %r' % (rc, out)
        assert await can_login(s, s.jid('tty'), 'tty-new')


def test_check_reports_every_problem():
    with tempfile.TemporaryDirectory(prefix='parley-it-') as d:
        s = Server(d, start=False)
        rc, out, err = s.parleyctl('check')
        assert rc == 0, 'check of a good config failed (%s): %s %s' % (rc, out, err)
        missing = os.path.join(d, 'no-such-cert.pem')
        s.config['XMPP_PORT'] = 'notanumber'
        s.config['XMPP_TLS_CERT'] = missing
        s.write_config()
        rc, out, err = s.parleyctl('check')
        text = out + err
        assert rc == 1, 'check of a broken config: exit %s (expected 1): %s' % (rc, text)
        assert 'XMPP_PORT' in text, 'check does not name XMPP_PORT: %s' % text
        assert missing in text or 'XMPP_TLS_CERT' in text, 'check does not name the missing cert: %s' % text
        # three problems at once
        s.config['XMPP_MAX_STANZA_SIZE'] = '-5'
        s.write_config()
        rc, out, err = s.parleyctl('check')
        text = out + err
        assert rc == 1 and 'XMPP_PORT' in text and 'XMPP_MAX_STANZA_SIZE' in text and \
            (missing in text or 'XMPP_TLS_CERT' in text), 'not every problem reported: %s' % text
        # the daemon refuses the same config with a clear message, quickly
        p = subprocess.run([xmppd_path(), '--config', s.config_path], capture_output=True, text=True,
                           timeout=15, env=_scrubbed_env(), stdin=subprocess.DEVNULL)
        assert p.returncode != 0, 'xmppd started with a broken config'
        assert 'XMPP_PORT' in p.stdout + p.stderr, 'xmppd did not say what is wrong: %s' % (p.stdout + p.stderr)
        # a missing config file is a problem too
        rc, out, err = s.parleyctl('--config', os.path.join(d, 'missing.conf'), 'check', config=False)
        assert rc != 0, 'check of a missing config file exited 0'


async def test_config_format_and_env_override():
    with tempfile.TemporaryDirectory(prefix='parley-it-') as d:
        s = Server(d, start=False)
        c = s.config
        s.raw_config = '\n'.join([
            '# a comment line',
            '',
            'XMPP_DOMAIN = "chat.example.test"',
            'XMPP_AUTH_DOMAIN=auth.example.test',
            'XMPP_GUEST_DOMAIN =guest.example.test',
            'XMPP_HIDDEN_DOMAIN= "hidden.example.test"',
            'XMPP_BIND_ADDRESS = 127.0.0.1',
            'XMPP_PORT = %s' % c['XMPP_PORT'],
            'XMPP_DATA_DIR="%s"' % c['XMPP_DATA_DIR'],
            'XMPP_TLS_CERT = %s' % c['XMPP_TLS_CERT'],
            'XMPP_TLS_KEY = "%s"' % c['XMPP_TLS_KEY'],
            'PARLEY_NO_SUCH_KEY = 1',
            '# XMPP_PORT = 1',
            '',
        ])
        s.config['XMPP_DOMAIN'] = 'chat.example.test'
        s.write_config()
        with s:
            s.start()
            s.wait_log('PARLEY_NO_SUCH_KEY', timeout=1)
            r = await Raw.open(s.port)
            feats = await r.open_stream('chat.example.test')
            assert '<stream:error' not in r.buf and 'xmpp-tls' in feats, r.buf
            await r.aclose()
            ok(s.parleyctl('adduser', 'ann@chat.example.test', input='pw\n'), 'adduser on the quoted domain')
            assert await can_login(s, 'ann@chat.example.test', 'pw')
            s.stop()
            # the environment overrides the file, for the daemon and the tool
            s.env = {'XMPP_DOMAIN': 'env.example.test'}
            s.config['XMPP_DOMAIN'] = 'env.example.test'
            s.start()
            r = await Raw.open(s.port)
            await r.send("<stream:stream to='chat.example.test' version='1.0' xmlns='jabber:client' "
                         "xmlns:stream='http://etherx.jabber.org/streams'>")
            await r.expect_stream_error('host-unknown')
            await r.aclose()
            ok(s.parleyctl('adduser', 'eve@env.example.test', input='pw\n'), 'adduser on the env domain')
            assert await can_login(s, 'eve@env.example.test', 'pw')


if __name__ == '__main__':
    main(globals())
