"""Numbered schema revisions, applied in order by smsgate.store.migrate."""
