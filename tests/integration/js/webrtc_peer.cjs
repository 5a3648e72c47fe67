// Headless Chromium as a WebRTC peer answering a bridge's SDP offers, for
// chrome_peer.py. Run it inside a network namespace whose only interface is
// lo (see chrome_peer.reexec_in_netns): Chromium's WebRTC gathers loopback
// only with --allow-loopback-in-peer-connection and prefers any other
// interface it can see.
//
// Protocol: one JSON object per line. Requests on stdin carry an optional
// "id" that the reply (one line on stdout) echoes:
//   {"id":1,"cmd":"answer","sdp":OFFER[,"timeout":ms]}
//       -> {"id":1,"sdp":ANSWER}   (first offer and re-offers with more m-lines;
//          getUserMedia({audio,video}) once; the tracks go out on the offer's
//          sendrecv mids "0" (audio) and "1" (video); ICE gathering completes
//          before the reply, so every candidate is in the answer: no trickle)
//   {"id":2,"cmd":"stats"}
//       -> {"id":2,"connectionState":..,"iceConnectionState":..,
//           "inbound":{MID:{kind,framesDecoded,packetsReceived,bytesReceived,ssrc}},
//           "outbound":{MID:{kind,packetsSent,framesEncoded,ssrc}},"transport":{..}}
//   {"id":3,"cmd":"close"}   -> {"id":3,"closed":true}, then the browser closes and
//                               the process exits 0
// Failures are replied as {"id":N,"error":"..."}; every command has a time
// bound (default 20 s for answer, 10 s otherwise). Events that are not replies
// have an "ev" key: {"ev":"ready"} once the page is up, {"ev":"console",..},
// {"ev":"pageerror",..}, {"ev":"fatal",why} before exiting 2.
// stdin closing (the test process died) also closes the browser.
const { chromium } = require('playwright-core');
const http = require('node:http');
const readline = require('node:readline');

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
let browser = null;
let server = null;
let finishing = false;

async function finish(rc) {
  if (finishing) return;
  finishing = true;
  const hard = setTimeout(() => process.exit(rc), 8000);
  hard.unref();
  try { if (browser) await browser.close(); } catch (e) { /* already gone */ }
  try { if (server) server.close(); } catch (e) { /* ignore */ }
  process.exit(rc);
}

process.on('SIGTERM', () => finish(143));
process.on('SIGINT', () => finish(130));

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>parley webrtc peer</title></head>
<body><script>
window.peer = (() => {
  let pc = null;
  let media = null;
  const state = { offers: 0 };

  function newPc() {
    pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle',
                                 rtcpMuxPolicy: 'require' });
    pc.addEventListener('connectionstatechange', () =>
      console.log('connectionState ' + pc.connectionState));
    pc.addEventListener('iceconnectionstatechange', () =>
      console.log('iceConnectionState ' + pc.iceConnectionState));
    return pc;
  }

  function gatheringDone(ms) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('ICE gathering not complete after ' + ms +
                                                  ' ms (state ' + pc.iceGatheringState + ')')), ms);
      const check = () => {
        if (pc.iceGatheringState === 'complete') {
          clearTimeout(t);
          pc.removeEventListener('icegatheringstatechange', check);
          pc.removeEventListener('icecandidate', onCand);
          resolve();
        }
      };
      const onCand = (e) => { if (!e.candidate) check(); };
      pc.addEventListener('icegatheringstatechange', check);
      pc.addEventListener('icecandidate', onCand);
      check();
    });
  }

  async function answer(offerSdp, ms) {
    if (!media) {
      media = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    }
    if (!pc) newPc();
    await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    const want = { '0': media.getAudioTracks()[0], '1': media.getVideoTracks()[0] };
    for (const t of pc.getTransceivers()) {
      const track = want[t.mid];
      if (!track) continue;
      if (t.receiver.track.kind !== track.kind) {
        throw new Error('mid ' + t.mid + ' is ' + t.receiver.track.kind + ', not ' + track.kind);
      }
      if (t.sender.track !== track) {
        await t.sender.replaceTrack(track);
        t.sender.setStreams && t.sender.setStreams(media);
      }
      t.direction = 'sendrecv';
    }
    const ans = await pc.createAnswer();
    await pc.setLocalDescription(ans);
    await gatheringDone(ms);
    state.offers++;
    return pc.localDescription.sdp;
  }

  async function stats() {
    const res = { connectionState: pc ? pc.connectionState : 'new',
                  iceConnectionState: pc ? pc.iceConnectionState : 'new',
                  inbound: {}, outbound: {}, transport: null, offers: state.offers };
    if (!pc) return res;
    const report = await pc.getStats();
    const byMid = {};
    for (const t of pc.getTransceivers()) if (t.mid !== null) byMid[t.mid] = t;
    report.forEach((s) => {
      if (s.type === 'inbound-rtp') {
        let mid = s.mid;
        if (mid === undefined) {
          // older Chromium: find the transceiver whose receiver track this is
          for (const [m, t] of Object.entries(byMid)) {
            if (t.receiver.track && t.receiver.track.id === s.trackIdentifier) mid = m;
          }
        }
        const key = mid === undefined ? 'ssrc:' + s.ssrc : mid;
        const cur = res.inbound[key] || { kind: s.kind, framesDecoded: 0, packetsReceived: 0,
                                          bytesReceived: 0, ssrc: s.ssrc };
        cur.framesDecoded += s.framesDecoded || 0;
        cur.packetsReceived += s.packetsReceived || 0;
        cur.bytesReceived += s.bytesReceived || 0;
        res.inbound[key] = cur;
      } else if (s.type === 'outbound-rtp') {
        const key = s.mid === undefined ? 'ssrc:' + s.ssrc : s.mid;
        res.outbound[key] = { kind: s.kind, packetsSent: s.packetsSent || 0,
                              framesEncoded: s.framesEncoded || 0, ssrc: s.ssrc };
      } else if (s.type === 'transport') {
        res.transport = { dtlsState: s.dtlsState, iceState: s.iceState,
                          srtpCipher: s.srtpCipher, dtlsCipher: s.dtlsCipher,
                          tlsVersion: s.tlsVersion, dtlsRole: s.dtlsRole,
                          selectedCandidatePairId: s.selectedCandidatePairId };
      }
    });
    return res;
  }

  function close() {
    if (pc) pc.close();
    if (media) media.getTracks().forEach((t) => t.stop());
    return true;
  }

  return { answer, stats, close };
})();
</script></body></html>`;

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error(what + ' timed out after ' + ms + ' ms')), ms);
    }),
  ]);
}

(async () => {
  // getUserMedia needs a secure context: http://127.0.0.1 is one, about:blank is not
  server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const pageUrl = 'http://127.0.0.1:' + server.address().port + '/';

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
           '--allow-loopback-in-peer-connection',
           '--disable-features=WebRtcHideLocalIpsWithMdns',
           // keep timers and media running in a page nobody looks at
           '--autoplay-policy=no-user-gesture-required',
           '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
           '--disable-backgrounding-occluded-windows'],
    timeout: 30000,
  });
  browser.on('disconnected', () => {
    if (!finishing) { out({ ev: 'fatal', why: 'browser disconnected' }); finish(2); }
  });
  const page = await browser.newPage();
  page.on('console', (m) => out({ ev: 'console', type: m.type(), text: m.text() }));
  page.on('pageerror', (e) => out({ ev: 'pageerror', text: String(e) }));
  page.on('crash', () => { out({ ev: 'fatal', why: 'page crashed' }); finish(2); });
  await page.goto(pageUrl, { waitUntil: 'load', timeout: 15000 });
  out({ ev: 'ready', url: pageUrl, version: browser.version() });

  // one command at a time, in order
  let queue = Promise.resolve();
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (!line.trim()) return;
    queue = queue.then(async () => {
      let c = null;
      try {
        c = JSON.parse(line);
      } catch (e) {
        out({ error: 'bad JSON: ' + String(e) });
        return;
      }
      const id = c.id;
      const reply = (o) => out(Object.assign({ id }, o));
      try {
        if (c.cmd === 'answer') {
          const ms = c.timeout || 20000;
          const sdp = await withTimeout(
            page.evaluate(([o, t]) => window.peer.answer(o, t), [c.sdp, ms]), ms + 1000, 'answer');
          reply({ sdp });
        } else if (c.cmd === 'stats') {
          const st = await withTimeout(page.evaluate(() => window.peer.stats()),
                                       c.timeout || 10000, 'stats');
          reply(st);
        } else if (c.cmd === 'close') {
          try {
            await withTimeout(page.evaluate(() => window.peer.close()), c.timeout || 10000, 'close');
          } catch (e) { /* closing anyway */ }
          reply({ closed: true });
          await finish(0);
        } else {
          reply({ error: 'unknown cmd ' + JSON.stringify(c.cmd) });
        }
      } catch (e) {
        reply({ error: String(e && e.message || e) });
      }
    });
  });
  rl.on('close', () => { queue.then(() => finish(0)); });
})().catch((e) => { out({ ev: 'fatal', why: String(e && e.stack || e) }); finish(2); });
