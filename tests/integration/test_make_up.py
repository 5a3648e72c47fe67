#!/usr/bin/python3
"""`make up` as a new user runs it: first run creates the local deployment
(state directory, config, certificate, database; secrets 0600), xmppd serves
it, `./parleyctl adduser` in another terminal creates an account that can
log in at once, Ctrl-C stops it cleanly; a second run installs nothing and
keeps the generated files."""

import asyncio
import os
import signal
import stat
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import free_port, login, main, timeout  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


async def run_up(state, port):
    env = dict(os.environ, PARLEY_STATE_DIR=state, XMPP_PORT=str(port),
               XMPP_COMPONENT_PORT=str(free_port()), XMPP_HTTP_PORT=str(free_port()),
               XMPP_BIND_ADDRESS='127.0.0.1', XMPP_LOGIN_RATE='1000',
               JVB_PORT=str(free_port()), BRIDGE_HTTP_PORT=str(free_port()),
               JVB_ADVERTISE_IPS='127.0.0.1', FOCUS_HTTP_PORT=str(free_port()))
    # make up = scripts/up.sh; run it in its own process group like a terminal would
    proc = await asyncio.create_subprocess_exec(
        'make', '-s', '-C', ROOT, 'up', stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, env=env, start_new_session=True)
    lines = []

    async def until(substring, limit):
        # the daemons start side by side, so their lines come in any order:
        # a line read while waiting for an earlier one still counts
        if any(substring in line for line in lines):
            return

        async def read():
            while True:
                line = await proc.stdout.readline()
                if not line:
                    raise AssertionError('make up ended before %r:\n%s' % (substring, ''.join(lines)))
                lines.append(line.decode('utf-8', 'replace'))
                if substring in lines[-1]:
                    return
        await asyncio.wait_for(read(), limit)
    return proc, lines, until


async def stop(proc, lines):
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in the terminal
    rest, _ = await asyncio.wait_for(proc.communicate(), 20)
    lines.append(rest.decode('utf-8', 'replace'))
    return proc.returncode


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@timeout(300)
async def test_make_up_first_run_account_and_restart():
    with tempfile.TemporaryDirectory(prefix='parley-up-') as tmp:
        state = os.path.join(tmp, 'state')
        port = free_port()
        proc, lines, until = await run_up(state, port)
        try:
            await until('xmppd ready', 240)
            await until('joined the brewery', 60)  # the bridge is part of the stack
            await until('focus joined the bridge brewery', 60)  # and the focus
            out = ''.join(lines)
            assert 'creating the local deployment' in out, out
            assert 'c2s   %d' % port in out, 'make up should print the port it serves'
            assert 'parleyctl adduser' in out, 'make up should say how to add an account'
            for f in ('xmppd.conf', 'bridge.conf', 'focus.conf', 'tls.key', 'tls.crt', 'parley.db'):
                assert os.path.exists(os.path.join(state, f)), f + ' missing'
            assert mode(state) == 0o700, oct(mode(state))
            for f in ('xmppd.conf', 'bridge.conf', 'focus.conf', 'tls.key', 'tls.crt'):
                assert mode(os.path.join(state, f)) == 0o600, f + ' ' + oct(mode(os.path.join(state, f)))

            # another terminal: ./parleyctl with no flags acts on this deployment
            env = dict(os.environ, PARLEY_STATE_DIR=state)
            p = await asyncio.create_subprocess_exec(
                os.path.join(ROOT, 'parleyctl'), 'adduser', 'alice@meet.parley',
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT, env=env)
            pout, _ = await asyncio.wait_for(p.communicate(b'up-secret\n'), 30)
            assert p.returncode == 0, pout

            c = await login(port, 'alice@meet.parley', 'up-secret', resource='up')
            await c.ping()
            anon = await login(port, 'meet.parley')  # the default domain is anonymous too
            await anon.ping()
            await c.close()
            await anon.close()
        finally:
            rc = await stop(proc, lines)
        # make itself reports an interrupt on Ctrl-C (-SIGINT); the stack must stop cleanly
        assert rc in (0, -signal.SIGINT), 'make up failed (rc %s):\n%s' % (rc, ''.join(lines))
        assert 'xmppd: stopped' in ''.join(lines), ''.join(lines)

        # second run: nothing to install, same certificate, the account is still there
        cert_before = open(os.path.join(state, 'tls.crt')).read()
        proc, lines, until = await run_up(state, port)
        try:
            await until('xmppd ready', 240)
            await until('joined the brewery', 60)
            out = ''.join(lines)
            assert 'nothing to install' in out, out
            assert 'creating the local deployment' not in out
            assert open(os.path.join(state, 'tls.crt')).read() == cert_before
            c = await login(port, 'alice@meet.parley', 'up-secret', resource='again')
            await c.ping()
            await c.close()
        finally:
            rc = await stop(proc, lines)
        assert rc in (0, -signal.SIGINT) and 'xmppd: stopped' in ''.join(lines), ''.join(lines)


if __name__ == '__main__':
    main(globals())
