#!/usr/bin/python3
"""The three-party bridge call with headless Chromium (fake camera and microphone) as
ep0 and two aiortc peers as ep1 and ep2, run inside its own network namespace.

Started by test_bridge.py's test_chromium_and_two_aiortc_peers (which checks for
"1 passed, 0 failed"); can also run on its own:

    PARLEY_BUILD_DIR=build /usr/bin/python3 tests/integration/test_bridge_chromium_child.py

When not yet inside a namespace it re-executes itself with chrome_peer.reexec_in_netns()
(unshare -n, lo up): xmppd, the bridge, the aiortc peers and Chromium all run inside it
and see only 127.0.0.1. PARLEY_BRIDGE_LOG_LEVEL=debug runs the bridge at debug level.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import main, server, timeout  # noqa: E402
from bridge_harness import Call, FocusDriver, add_jvb_account, bridge, xmppd_for_bridge  # noqa: E402
from chrome_peer import ChromePeer, in_netns, reexec_in_netns  # noqa: E402
from rtc_peer import Peer, wait_for  # noqa: E402

FRAMES = 20  # frames from each other peer, audio and video (Chromium audio: packets)


async def refresh_chrome(call):
    for p in call.peers.values():
        if isinstance(p, ChromePeer):
            await p.refresh()


async def expect_media(call, frames=FRAMES, timeout_s=30):
    ids = list(call.peers)

    def state():
        return {a: {b: (call.peers[a].audio_frames_from(b), call.peers[a].video_frames_from(b))
                    for b in ids if b != a} for a in ids}

    async def ok():
        await refresh_chrome(call)
        return all(au >= frames and vi >= frames
                   for per in state().values() for au, vi in per.values())
    await wait_for(ok, timeout_s, lambda: 'media between every pair: %s' % state(), interval=0.25)


@timeout(120)
async def test_chromium_and_two_aiortc_peers():
    assert in_netns(), 'run through reexec_in_netns()'
    with server(**xmppd_for_bridge()) as s:
        add_jvb_account(s)
        with bridge(s, LOG_LEVEL=os.environ.get('PARLEY_BRIDGE_LOG_LEVEL', 'info')) as b:
            focus = await FocusDriver.connect(s)
            call = Call(focus, b)
            chrome = ChromePeer('ep0')
            try:
                await chrome.start()
                print('# chromium %s' % chrome.version)
                await call.join(chrome, 'ep0')
                await call.join(Peer('ep1'), 'ep1')
                await call.join(Peer('ep2'), 'ep2')
                await call.renegotiate()
                for p in call.peers.values():
                    await p.wait_connected(20)
                await expect_media(call)
                # the SRTP profile, as the bridge and Chromium see it
                b.wait_log('DTLS-SRTP established', timeout=1)
                for l in b.log_lines:
                    if 'DTLS-SRTP established' in l:
                        print('# bridge: %s' % l.strip())
                await chrome.refresh()
                t = chrome.last_stats.get('transport') or {}
                print('# chromium transport: %s' % t)
                st = b.stats()
                assert st['conferences'] == 1 and st['endpoints'] == 3, st
                assert st['endpoints_ice_connected'] == 3, st
                assert st['rtp_forwarded'] > 0, st
                print('# bridge stats: %s' % {k: v for k, v in sorted(st.items())
                                             if isinstance(v, (int, float)) and v})
                print('# chromium inbound: %s' % chrome.last_stats.get('inbound'))
                print('# frames: %s' % {a: {o: (p.audio_frames_from(o), p.video_frames_from(o))
                                             for o in call.peers if o != a}
                                         for a, p in call.peers.items()})
            finally:
                await call.close()
                await chrome.close()
                await focus.close()


if __name__ == '__main__':
    if not in_netns():
        sys.exit(reexec_in_netns())
    main(globals())
