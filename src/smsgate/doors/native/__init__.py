"""smsgate's own API, v1 under /api/v1/: JSON, Bearer tokens, RFC 9457 problems, OpenAPI 3.1."""
