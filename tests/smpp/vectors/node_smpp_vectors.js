// Golden vectors from an independent implementation: node `smpp` 0.5.1 (npm, MIT).
// Regenerate (outside the repo):
//   npm install --prefix /tmp/smppvec smpp@0.5.1
//   NODE_PATH=/tmp/smppvec/node_modules node tests/smpp/vectors/node_smpp_vectors.js \
//     > tests/smpp/vectors/node_smpp_vectors.json
// Quirks handled here rather than hidden: node defaults interface_version to 0x50 (v5.0), so
// binds set 0x34 explicitly; its text encoder would transcode a string short_message (GSM/UCS-2
// detection), so short_message and message_payload are given as Buffers; data_coding is set
// explicitly because its default is "detect".
const smpp = require('smpp');

const receiptText =
  'id:0123456789 sub:001 dlvrd:001 submit date:2405011200 done date:2405011201 ' +
  'stat:DELIVRD err:000 text:Hello';

const cases = [
  ['bind_transceiver', {sequence_number: 1, system_id: 'smsgate', password: 'secret',
    system_type: 'SMPP', interface_version: 0x34, addr_ton: 1, addr_npi: 1, address_range: '380'}],
  ['bind_transmitter', {sequence_number: 2, system_id: 'tx', password: 'pw',
    interface_version: 0x34}],
  ['bind_receiver', {sequence_number: 3, system_id: 'rx', password: 'pw',
    interface_version: 0x34}],
  ['bind_transceiver_resp', {sequence_number: 1, system_id: 'SMSC',
    sc_interface_version: 0x34}],
  ['bind_transmitter_resp', {sequence_number: 2, command_status: 0x0E}],
  ['outbind', {sequence_number: 4, system_id: 'smsc', password: 'pw'}],
  ['submit_sm', {sequence_number: 7, service_type: 'CMT', source_addr_ton: 5,
    source_addr_npi: 0, source_addr: 'Shop', dest_addr_ton: 1, dest_addr_npi: 1,
    destination_addr: '380501234567', esm_class: 0x40, registered_delivery: 1,
    data_coding: 8, short_message: Buffer.from('050003ab0201' + '041f04400438', 'hex'),
    sar_msg_ref_num: 0x1234, sar_total_segments: 2, sar_segment_seqnum: 1}],
  ['submit_sm_payload', {sequence_number: 8, source_addr: 'Shop',
    destination_addr: '380501234567', data_coding: 0,
    message_payload: Buffer.from('a long text '.repeat(30))}],
  ['submit_sm_resp', {sequence_number: 7, message_id: '5f1c9a1e-0001'}],
  ['submit_sm_resp_throttled', {sequence_number: 8, command_status: 0x58}],
  ['deliver_sm_receipt', {sequence_number: 11, source_addr_ton: 1, source_addr_npi: 1,
    source_addr: '380501234567', dest_addr_ton: 5, destination_addr: 'Shop', esm_class: 0x04,
    data_coding: 0, short_message: Buffer.from(receiptText),
    receipted_message_id: '0123456789', message_state: 2,
    network_error_code: Buffer.from([0x03, 0x00, 0x00])}],
  ['deliver_sm_resp', {sequence_number: 11}],
  ['data_sm', {sequence_number: 12, source_addr: '1234', destination_addr: '380501234567',
    esm_class: 0, registered_delivery: 1, data_coding: 4,
    message_payload: Buffer.from('00010203', 'hex'), source_port: 9200, dest_port: 2948}],
  ['data_sm_resp', {sequence_number: 12, message_id: 'd1'}],
  ['query_sm', {sequence_number: 13, message_id: 'abc', source_addr_ton: 5, source_addr: 'Shop'}],
  ['query_sm_resp', {sequence_number: 13, message_id: 'abc', final_date: '240501120000000+',
    message_state: 2, error_code: 0}],
  ['cancel_sm', {sequence_number: 14, service_type: '', message_id: 'abc', source_addr: 'Shop',
    dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '380501234567'}],
  ['cancel_sm_resp', {sequence_number: 14}],
  ['replace_sm', {sequence_number: 15, message_id: 'abc', source_addr: 'Shop',
    schedule_delivery_time: '', validity_period: '240502120000000+', registered_delivery: 1,
    short_message: Buffer.from('new text')}],
  ['replace_sm_resp', {sequence_number: 15}],
  ['submit_multi', {sequence_number: 16, source_addr: 'Shop', dest_address: [
      {dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '380501234567'},
      {dl_name: 'friends'}],
    data_coding: 0, short_message: Buffer.from('hello all')}],
  ['submit_multi_resp', {sequence_number: 16, message_id: 'm1', unsuccess_sme: [
      {dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '380509999999',
       error_status_code: 0x0B}]}],
  ['alert_notification', {sequence_number: 17, source_addr_ton: 1, source_addr_npi: 1,
    source_addr: '380501234567', esme_addr_ton: 0, esme_addr_npi: 0, esme_addr: 'smsgate',
    ms_availability_status: 0}],
  ['enquire_link', {sequence_number: 18}],
  ['enquire_link_resp', {sequence_number: 18}],
  ['unbind', {sequence_number: 19}],
  ['unbind_resp', {sequence_number: 19}],
  ['generic_nack', {sequence_number: 20, command_status: 0x03}],
];

const out = {};
for (const [name, options] of cases) {
  const command = name.replace(/_(payload|throttled|receipt)$/, '');
  out[name] = new smpp.PDU(command, options).toBuffer().toString('hex');
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
