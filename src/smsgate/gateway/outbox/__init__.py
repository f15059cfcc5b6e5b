"""The outbox: what a customer must be told (an SMPP receipt today; webhook deliveries and
inbound SMS next), queued durably with the change that caused it and handed, in order, to a
transport. It knows nothing of SMPP or HTTP; a transport knows nothing of the store."""
