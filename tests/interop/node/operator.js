// An operator SMSC built on node smpp 0.5.1, for our client to bind to.
// Usage: node operator.js '<json>'; prints JSON lines: listening (with port), bind, submit
// (with in_flight), dropped, deliver_resp. JSON: system_id, password, delay_ms (before each
// submit_sm_resp), throttle_first (answer the first N submits ESME_RTHROTTLED), drop_after
// (on the first connection, destroy the socket when submit N+1 arrives), receipt_delay_ms.
'use strict';
const smpp = require('smpp');

const args = JSON.parse(process.argv[2] || '{}');
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
let nextId = 1000, submits = 0, throttleLeft = args.throttle_first || 0, dropped = false;
let connections = 0;

const server = smpp.createServer((session) => {
  const connection = ++connections;
  let inFlight = 0, submitsHere = 0;
  session.on('error', (e) => out({ event: 'session_error', message: String(e && e.message) }));
  const onBind = (pdu) => {
    const ok = pdu.system_id === args.system_id && pdu.password === args.password;
    session.send(pdu.response({ command_status: ok ? 0 : 0x0E, system_id: 'node-operator' }));
    out({ event: 'bind', command: pdu.command, ok, connection });
  };
  session.on('bind_transceiver', onBind);
  session.on('bind_transmitter', onBind);
  session.on('bind_receiver', onBind);
  session.on('enquire_link', (pdu) => session.send(pdu.response()));
  session.on('unbind', (pdu) => { session.send(pdu.response()); session.close(); out({ event: 'unbind', connection }); });
  session.on('deliver_sm_resp', (pdu) => out({ event: 'deliver_resp', command_status: pdu.command_status }));
  session.on('submit_sm', (pdu) => {
    submits++;
    submitsHere++;
    if (args.drop_after !== undefined && !dropped && submitsHere > args.drop_after) {
      dropped = true;
      out({ event: 'dropped', connection, in_flight: inFlight });
      session.destroy();
      return;
    }
    inFlight++;
    out({ event: 'submit', destination_addr: pdu.destination_addr, in_flight: inFlight, connection });
    setTimeout(() => {
      inFlight--;
      if (throttleLeft > 0) {
        throttleLeft--;
        session.send(pdu.response({ command_status: 0x58 }));
        out({ event: 'throttled', destination_addr: pdu.destination_addr });
        return;
      }
      const id = String(nextId++);
      session.send(pdu.response({ message_id: id }));
      if ((pdu.registered_delivery & 3) === 1) {
        setTimeout(() => {
          session.deliver_sm({
            source_addr: pdu.destination_addr,
            destination_addr: pdu.source_addr,
            esm_class: 0x04,
            short_message: 'id:' + id + ' sub:001 dlvrd:001 submit date:2601011200 done date:2601011200 stat:DELIVRD err:000 text:',
            receipted_message_id: id,
            message_state: 2,
          });
        }, args.receipt_delay_ms || 0);
      }
    }, args.delay_ms || 0);
  });
});

server.listen(0, '127.0.0.1', () => out({ event: 'listening', port: server.address().port }));
