// A scriptable XMPP client for parley's integration tests (run from tests/ so
// node_modules resolves):
//   node integration/js/xmpp_client.mjs LIB TRANSPORT URL JID [PASSWORD]
// LIB: strophe | stanza; TRANSPORT: ws | bosh. JID without a node: anonymous.
// Reads JSON commands on stdin, one a line:
//   {"op":"message","to":..,"type":..,"body":..,"id":..}
//   {"op":"presence","to":..,"type":..,"muc":true}
//   {"op":"raw","xml":".."}               (strophe only)
//   {"op":"quit"}                         disconnect, then exit 0
// Prints JSON lines: {"ev":"connected","jid":..}, {"ev":"stanza","kind":..,
// "from":..,"to":..,"type":..,"id":..,"body":..,"xml":..},
// {"ev":"failed","why":..}, {"ev":"disconnected"}, {"ev":"log",..}.
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [lib, transport, url, jid, password] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
let quitting = false;

function fail(why) {
    out({ ev: 'failed', why: String(why) });
    process.exit(2);
}
process.on('uncaughtException', (e) => fail('uncaught: ' + (e && e.stack || e)));
process.on('unhandledRejection', (e) => fail('unhandled rejection: ' + (e && e.stack || e)));

async function strophe() {
    const { DOMParser } = require('@xmldom/xmldom');
    if (transport === 'bosh') {
        // xhr2 has no responseXML; strophe.js 5 stalls without it.
        const XHR2 = require('xhr2');
        class XHR extends XHR2 {
            get responseXML() {
                if (!this.responseText) return null;
                try {
                    return new DOMParser().parseFromString(this.responseText, 'text/xml');
                } catch (e) {
                    return null;
                }
            }
        }
        globalThis.XMLHttpRequest = XHR;
    } else {
        globalThis.WebSocket = require('ws');
    }
    globalThis.DOMParser = globalThis.DOMParser || DOMParser;
    globalThis.XMLSerializer = globalThis.XMLSerializer || require('@xmldom/xmldom').XMLSerializer;
    const { Strophe, $msg, $pres } = await import('strophe.js');
    const conn = new Strophe.Connection(url, transport === 'ws' ? { protocol: 'ws' } : {});
    const S = Strophe.Status;
    const names = Object.fromEntries(Object.entries(S).map(([k, v]) => [v, k]));
    conn.addHandler((el) => {
        const kind = el.tagName;
        if (['message', 'presence', 'iq'].includes(kind)) {
            const b = el.getElementsByTagName('body')[0];
            out({
                ev: 'stanza', kind, from: el.getAttribute('from'), to: el.getAttribute('to'),
                type: el.getAttribute('type'), id: el.getAttribute('id'),
                body: b ? b.textContent : null, xml: Strophe.serialize(el),
            });
        }
        return true;
    }, null, null, null, null, null);
    let connected = false;
    conn.connect(jid, password || null, (status, cond) => {
        out({ ev: 'status', status: names[status] || status, cond: cond || null });
        if (status === S.CONNECTED) {
            connected = true;
            out({ ev: 'connected', jid: conn.jid });
        } else if (status === S.AUTHFAIL || status === S.CONNFAIL || status === S.ERROR) {
            if (!connected && !quitting) fail(names[status] + ' ' + (cond || ''));
        } else if (status === S.DISCONNECTED) {
            out({ ev: 'disconnected' });
            if (quitting || !connected) process.exit(connected || quitting ? 0 : 2);
        }
    });
    return {
        message(c) {
            const m = $msg({ to: c.to, type: c.type || 'chat', id: c.id || undefined });
            m.c('body').t(c.body);
            conn.send(m.tree());
        },
        presence(c) {
            const attrs = {};
            if (c.to) attrs.to = c.to;
            if (c.type) attrs.type = c.type;
            const p = $pres(attrs);
            if (c.muc) p.c('x', { xmlns: 'http://jabber.org/protocol/muc' });
            conn.send(p.tree());
        },
        raw(c) {
            const doc = new DOMParser().parseFromString(c.xml, 'text/xml');
            conn.send(doc.documentElement);
        },
        quit() {
            quitting = true;
            conn.flush();
            conn.disconnect('bye');
            setTimeout(() => { out({ ev: 'disconnected', forced: true }); process.exit(0); }, 5000).unref();
        },
    };
}

async function stanzaLib() {
    const XMPP = require('stanza');
    const transports = transport === 'ws' ? { websocket: url, bosh: false } : { websocket: false, bosh: url };
    const opts = { jid, transports, useStreamManagement: false };
    if (password) opts.password = password;
    const client = XMPP.createClient(opts);
    if (!password) // anonymous: stanza picks by priority alone, so offer only ANONYMOUS
        for (const m of [...client.sasl.mechanisms])
            if (m.name !== 'ANONYMOUS') client.sasl.disable(m.name);
    let connected = false;
    client.on('session:started', () => {
        connected = true;
        out({ ev: 'connected', jid: client.jid });
    });
    client.on('auth:failed', () => fail('auth failed'));
    client.on('stream:error', (e) => out({ ev: 'log', what: 'stream error', e: JSON.stringify(e) }));
    client.on('disconnected', () => {
        out({ ev: 'disconnected' });
        if (quitting || !connected) process.exit(connected || quitting ? 0 : 2);
    });
    client.on('message', (m) => out({ ev: 'stanza', kind: 'message', from: m.from, to: m.to, type: m.type || null, id: m.id || null, body: m.body ?? null }));
    client.on('presence', (p) => out({ ev: 'stanza', kind: 'presence', from: p.from, to: p.to, type: p.type || null, id: p.id || null, body: null }));
    client.connect();
    return {
        message(c) { client.sendMessage({ to: c.to, type: c.type || 'chat', body: c.body, id: c.id }); },
        presence(c) {
            const p = {};
            if (c.to) p.to = c.to;
            if (c.type) p.type = c.type;
            if (c.muc) p.muc = { type: 'join' };
            client.sendPresence(p);
        },
        raw() { fail('raw is not supported with stanza'); },
        quit() {
            quitting = true;
            client.disconnect();
            setTimeout(() => { out({ ev: 'disconnected', forced: true }); process.exit(0); }, 5000).unref();
        },
    };
}

const api = lib === 'strophe' ? await strophe() : await stanzaLib();
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
    if (!line.trim()) return;
    const c = JSON.parse(line);
    api[c.op](c);
});
rl.on('close', () => { if (!quitting) api.quit({}); });
