// An ESME built on node smpp 0.5.1, driven by the interop tests and the benchmark.
// Usage: node esme.js '<json>'; prints one JSON object per line, the last one {"event":"summary"}.
// JSON: host, port, system_id, password, bind (transmitter|receiver|transceiver), window,
//   messages (submit_sm params; short_message as {hex} or {text} or {udh_hex, text}) or
//   count + template, expect_receipts (default: messages asking for one), timeout_ms, quiet.
'use strict';
const smpp = require('smpp');

const args = JSON.parse(process.argv[2]);
const quiet = !!args.quiet;
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

function build(params) {
  const p = Object.assign({}, params);
  const sm = p.short_message;
  if (sm && typeof sm === 'object') {
    if (sm.hex !== undefined) p.short_message = Buffer.from(sm.hex, 'hex');
    else if (sm.udh_hex !== undefined) p.short_message = { udh: Buffer.from(sm.udh_hex, 'hex'), message: sm.text };
    else p.short_message = sm.text;
  }
  for (const key of ['message_payload']) {
    if (p[key] && p[key].hex !== undefined) p[key] = Buffer.from(p[key].hex, 'hex');
  }
  return p;
}

let messages = args.messages;
if (!messages) {
  messages = [];
  for (let i = 0; i < (args.count || 0); i++) {
    const m = Object.assign({}, args.template || {});
    m.destination_addr = '38050' + String(i % 10000000).padStart(7, '0').slice(0, 6) + '8';
    messages.push(m);
  }
}
const wantsReceipt = (m) => ((m.registered_delivery || 0) & 3) === 1;
const expectReceipts = args.expect_receipts !== undefined
  ? args.expect_receipts
  : messages.filter(wantsReceipt).length;
const window = args.window || 1;

let next = 0, inFlight = 0, acked = 0, failed = 0, receipts = 0, maxInFlight = 0;
let started = 0, ackedAt = 0, finished = false;
const session = smpp.connect({ host: args.host || '127.0.0.1', port: args.port });

function finish(extra) {
  if (finished) return;
  finished = true;
  const now = Date.now();
  out(Object.assign({
    event: 'summary', acked, failed, receipts, max_in_flight: maxInFlight,
    elapsed: (now - started) / 1000, acked_elapsed: ((ackedAt || now) - started) / 1000,
  }, extra || {}));
  const bye = setTimeout(() => process.exit(extra && extra.timeout ? 3 : 0), 1000);
  session.unbind(() => { clearTimeout(bye); session.close(); process.exit(extra && extra.timeout ? 3 : 0); });
}

function maybeDone() {
  if (next >= messages.length && inFlight === 0) {
    if (!ackedAt) ackedAt = Date.now();
    if (receipts >= expectReceipts) finish();
  }
}

function pump() {
  while (inFlight < window && next < messages.length) {
    const index = next++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    session.submit_sm(build(messages[index]), (resp) => {
      inFlight--;
      if (resp.command_status === 0) acked++; else failed++;
      if (!quiet) out({ event: 'submit_resp', index, command_status: resp.command_status, message_id: resp.message_id });
      pump();
      maybeDone();
    });
  }
}

function onDeliver(pdu) {
  session.send(pdu.response());
  receipts++;
  if (!quiet) {
    const sm = pdu.short_message || {};
    out({
      event: 'deliver_sm', esm_class: pdu.esm_class, source_addr: pdu.source_addr,
      destination_addr: pdu.destination_addr, receipted_message_id: pdu.receipted_message_id,
      message_state: pdu.message_state, text: typeof sm === 'string' ? sm : sm.message,
    });
  }
  maybeDone();
}

session.on('deliver_sm', onDeliver);
session.on('data_sm', onDeliver);
session.on('enquire_link', (pdu) => session.send(pdu.response()));
session.on('unbind', (pdu) => { session.send(pdu.response()); finish({ unbound_by_peer: true }); });
session.on('error', (e) => { out({ event: 'error', message: String(e && e.message) }); process.exit(2); });
session.on('close', () => { if (!finished) { out({ event: 'closed' }); finish({ closed: true }); } });

setTimeout(() => finish({ timeout: true }), args.timeout_ms || 20000);

session.on('connect', () => {
  const bind = 'bind_' + (args.bind || 'transceiver');
  session[bind]({ system_id: args.system_id, password: args.password }, (pdu) => {
    out({ event: 'bind_resp', command_status: pdu.command_status, system_id: pdu.system_id });
    if (pdu.command_status !== 0) { finish({ bind_status: pdu.command_status }); return; }
    started = Date.now();
    pump();
    maybeDone();
  });
});
