"""The services every door shares: submit, dispatcher, router, receipts, outbox, accounts."""
