"""Python SDK for the SMS Club-compatible JSON API (smsgate or the hosted service)."""
