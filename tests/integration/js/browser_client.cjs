// Headless Chromium (playwright-core) opening PAGE (served by xmppd from its
// web root) and logging in with strophe.js from the page. Same protocol as
// xmpp_client.mjs: args LIB(unused: strophe) TRANSPORT URL JID [PASSWORD],
// plus env PARLEY_PAGE_URL. JSON commands on stdin, JSON events on stdout.
const { chromium } = require('playwright-core');
const readline = require('node:readline');

const [, , lib, transport, url, jid, password] = process.argv;
const pageUrl = process.env.PARLEY_PAGE_URL;
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
let browser = null;
let quitting = false;

async function finish(rc) {
  try { if (browser) await browser.close(); } catch (e) { /* already gone */ }
  process.exit(rc);
}

(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 30000,
  });
  const page = await browser.newPage();
  page.on('console', (m) => out({ ev: 'console', type: m.type(), text: m.text() }));
  page.on('pageerror', (e) => out({ ev: 'pageerror', text: String(e) }));
  await page.exposeFunction('onXmppEvent', (ev) => {
    out(ev);
    if (ev.ev === 'failed') finish(2);
    if (ev.ev === 'disconnected' && quitting) finish(0);
  });
  const resp = await page.goto(pageUrl, { waitUntil: 'load', timeout: 15000 });
  out({ ev: 'page', status: resp.status(), url: page.url(),
        contentType: resp.headers()['content-type'] || null,
        title: await page.title(),
        strophe: await page.evaluate(() => typeof window.Strophe) });
  await page.evaluate(([u, j, p]) => window.startXmpp(u, j, p), [url, jid, password || null]);
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', async (line) => {
    if (!line.trim()) return;
    const c = JSON.parse(line);
    if (c.op === 'quit') {
      quitting = true;
      setTimeout(() => { out({ ev: 'disconnected', forced: true }); finish(0); }, 5000).unref();
    }
    try {
      await page.evaluate((cmd) => window.xmppCmd(cmd), c);
    } catch (e) {
      out({ ev: 'log', what: 'command failed', e: String(e) });
    }
  });
  rl.on('close', () => finish(quitting ? 0 : 3));
})().catch((e) => { out({ ev: 'failed', why: String(e && e.stack || e) }); finish(2); });
