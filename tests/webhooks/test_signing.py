"""Our signatures verified by the real `standardwebhooks` package, not by our own code."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from smsgate.webhooks.signing import (
    BadWebhookSecret,
    WebhookSecret,
    new_secret,
    parse_secret,
    signature,
    signature_headers,
)

BODY = b'{"type":"message.status","data":{"id":"42","status":"DELIVRD"}}'


def test_standardwebhooks_verifies_our_signature() -> None:
    secret = new_secret()
    headers = signature_headers([secret], "msg_2a", int(time.time()), BODY)
    assert Webhook(secret.text).verify(BODY, headers) == {
        "type": "message.status",
        "data": {"id": "42", "status": "DELIVRD"},
    }


def test_body_that_is_not_utf8_verifies_byte_for_byte() -> None:
    secret = new_secret()
    body = b"\xff\xfe\x00binary"
    headers = signature_headers([secret], "msg_bin", int(time.time()), body)
    assert Webhook(secret.text).verify(body, headers, json_parse=False) is None


@pytest.mark.parametrize("holder", ["old", "new"])
def test_during_rotation_a_receiver_holding_either_secret_verifies(holder: str) -> None:
    old, new = new_secret(), new_secret()
    headers = signature_headers([new, old], "msg_rot", int(time.time()), BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    receiver = Webhook((old if holder == "old" else new).text)
    receiver.verify(BODY, headers)


def test_a_receiver_with_another_secret_refuses() -> None:
    headers = signature_headers([new_secret()], "msg_x", int(time.time()), BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret().text).verify(BODY, headers)


def test_a_changed_body_or_id_is_refused() -> None:
    secret = new_secret()
    now = int(time.time())
    headers = signature_headers([secret], "msg_a", now, BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret.text).verify(BODY + b" ", headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret.text).verify(BODY, {**headers, "webhook-id": "msg_b"})


def test_a_retry_keeps_the_id_and_is_signed_with_its_own_timestamp() -> None:
    secret = new_secret()
    first = signature_headers([secret], "msg_r", int(time.time()) - 3600, BODY)
    retry = signature_headers([secret], "msg_r", int(time.time()), BODY)
    assert first["webhook-id"] == retry["webhook-id"]
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret.text).verify(BODY, first)
    Webhook(secret.text).verify(BODY, retry)


def test_known_vector_from_the_standard_webhooks_spec() -> None:
    # The spec's example: secret, id, timestamp, body and the signature it gives.
    secret = parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    body = b'{"test": 2432232314}'
    assert (
        signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_secret_round_trips_through_its_text_form() -> None:
    secret = new_secret()
    assert parse_secret(secret.text) == secret
    assert secret.text.startswith("whsec_")
    assert "hidden" in repr(secret) and secret.text not in repr(secret)


def test_unpadded_base64_secret_is_accepted() -> None:
    key = bytes(range(30))
    text = "whsec_" + base64.b64encode(key).decode().rstrip("=")
    assert parse_secret(text) == WebhookSecret(key)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "starts with"),
        ("whsec_not base64!", "base64"),
        ("whsec_" + base64.b64encode(b"short").decode(), "24 to 64 bytes, not 5"),
        ("whsec_" + base64.b64encode(bytes(65)).decode(), "not 65"),
    ],
)
def test_bad_secrets_are_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(BadWebhookSecret, match=reason):
        parse_secret(text)


def test_one_or_two_secrets_and_a_plain_id() -> None:
    s = new_secret()
    with pytest.raises(ValueError, match="1 to 2"):
        signature_headers([], "m", 1, b"")
    with pytest.raises(ValueError, match="1 to 2"):
        signature_headers([s, s, s], "m", 1, b"")
    with pytest.raises(ValueError, match="without spaces or dots"):
        signature_headers([s], "m.1", 1, b"")
