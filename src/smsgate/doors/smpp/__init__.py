"""The SMPP v3.4 door, one room: the handler (binds, submits, queries), PDU fields and time
strings read into the gateway's terms, the loop-turn submit queue, and the outbox transport
that sends receipts back as deliver_sm. It translates; every decision is the gateway's."""
