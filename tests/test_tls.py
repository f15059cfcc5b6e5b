"""A node with TLS on its doors, reached by real TLS clients over loopback: httpx on the JSON
door and the dashboard (whose session cookie is Secure there), our SMPP client binding and
submitting on the SMPP door's TLS port. The certificates come from a throwaway CA (trustme)."""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import trustme

from smsgate.config import ConfigError, demo_settings, load_settings
from smsgate.domain.gsm7 import encode_gsm7
from smsgate.gateway.credentials import hash_password, hash_token
from smsgate.node import Node
from smsgate.smpp.client import SmppClient
from smsgate.smpp.pdu import SubmitSm, SubmitSmResp
from smsgate.store.records import Tariff

T = 20.0  # every wait here is bounded by this (a loaded machine does TLS handshakes slowly)
LOGIN, TOKEN, PASSWORD, SMPP_PASSWORD, SENDER = "tlsuser", "tls-token", "tls-pass", "tlspw", "Shop"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Pem:
    ca: trustme.CA
    cert: Path
    key: Path

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context


@pytest.fixture
def pem(tmp_path: Path) -> Pem:
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1", "localhost")
    cert, key = tmp_path / "server.pem", tmp_path / "server.key"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    for extra in issued.cert_chain_pems[1:]:
        extra.write_to_path(str(cert), append=True)
    issued.private_key_pem.write_to_path(str(key))
    return Pem(ca, cert, key)


@pytest.fixture
async def node(tmp_path: Path, pem: Pem) -> AsyncIterator[Node]:
    settings = demo_settings(
        load_settings(
            None,
            database={"url": f"sqlite+aiosqlite:///{tmp_path}/tls.db"},
            http={
                "host": "127.0.0.1",
                "port": free_port(),
                "tls_cert": str(pem.cert),
                "tls_key": str(pem.key),
            },
            smpp={
                "host": "127.0.0.1",
                "port": 0,
                "tls_port": 0,
                "tls_cert": str(pem.cert),
                "tls_key": str(pem.key),
            },
            simulator={"port": free_port(), "receipt_delay": 0.1},
        )
    )
    running = Node(settings)
    await asyncio.wait_for(running.start(), T)
    try:
        store = running.store
        account = await store.create_account(LOGIN, rate_limit=0)
        await store.set_token_hash(account.id, hash_token(TOKEN))
        await store.set_password_hash(account.id, hash_password(PASSWORD))
        await store.set_smpp_password_hash(account.id, hash_password(SMPP_PASSWORD))
        await store.add_originator(account.id, SENDER)
        await store.top_up(account.id, 100 * 10_000)
        await store.set_tariff(Tariff(account_id=None, prefix="", price=5_000))
        yield running
    finally:
        await asyncio.wait_for(running.stop(), T)


def https(node: Node, pem: Pem) -> httpx.AsyncClient:
    assert node.addresses.http_scheme == "https"
    return httpx.AsyncClient(
        base_url=f"https://127.0.0.1:{node.addresses.http_port}",
        verify=pem.client_context(),
        timeout=T,
    )


async def test_the_json_door_answers_over_https_and_refuses_plain_http(
    node: Node, pem: Pem
) -> None:
    async with https(node, pem) as client:
        sent = await client.post(
            "/sms/send",
            headers={"Authorization": f"Bearer {TOKEN}"},
            json={"phone": ["380501234567"], "message": "over TLS", "src_addr": SENDER},
        )
        assert sent.status_code == 200, sent.text
        ids = list(sent.json()["success_request"]["info"])
        assert len(ids) == 1
        assert (await client.get("/health/live")).json() == {"live": True}
    # The port speaks TLS only: a plain request gets no HTTP answer.
    async with httpx.AsyncClient(timeout=T) as plain:
        with pytest.raises(httpx.HTTPError):
            await plain.get(f"http://127.0.0.1:{node.addresses.http_port}/health/live")


async def test_the_dashboard_logs_in_over_https_with_a_secure_cookie(node: Node, pem: Pem) -> None:
    async with https(node, pem) as client:
        form = await client.get("/dashboard/login")
        assert form.status_code == 200
        cookie = form.headers["set-cookie"]
        assert "; Secure" in cookie and "HttpOnly" in cookie
        match = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert match is not None
        # The client sends the Secure cookie back only because the page came over TLS.
        logged = await client.post(
            "/dashboard/login",
            data={"csrf": match.group(1), "login": LOGIN, "password": PASSWORD},
        )
        assert logged.status_code in (302, 303), logged.text
        assert "; Secure" in logged.headers["set-cookie"]
        messages = await client.get(logged.headers["location"])
        assert messages.status_code == 200
        assert LOGIN in messages.text


async def test_an_smpp_customer_binds_and_submits_over_tls(node: Node, pem: Pem) -> None:
    port = node.addresses.smpp_tls_port
    assert port is not None and port != node.addresses.smpp_port
    client = SmppClient(
        "127.0.0.1",
        port,
        LOGIN,
        SMPP_PASSWORD,
        reconnect=False,
        tls=pem.client_context(),
        response_timeout=T,
    )
    await client.start()
    try:
        await client.wait_bound(T)
        answer = await asyncio.wait_for(
            client.request(
                SubmitSm(
                    source_addr_ton=5,
                    source_addr=SENDER,
                    dest_addr_ton=1,
                    dest_addr_npi=1,
                    destination_addr="380501234567",
                    short_message=encode_gsm7("SMPP over TLS"),
                )
            ),
            T,
        )
    finally:
        await asyncio.wait_for(client.close(1.0), T)
    assert isinstance(answer, SubmitSmResp) and answer.command_status == 0
    assert answer.message_id


def test_config_check_names_a_missing_certificate_file(tmp_path: Path, pem: Pem) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(ConfigError) as caught:
        load_settings(None, http={"tls_cert": str(missing), "tls_key": str(pem.key)})
    assert f"http.tls_cert: no such file {str(missing)!r}" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        load_settings(
            None, smpp={"tls_port": 3550, "tls_cert": str(pem.cert), "tls_key": str(missing)}
        )
    assert f"smpp.tls_key: no such file {str(missing)!r}" in str(caught.value)


def test_config_check_refuses_a_key_that_is_not_the_certificates(tmp_path: Path, pem: Pem) -> None:
    other = trustme.CA().issue_cert("127.0.0.1")
    other_key = tmp_path / "other.key"
    other.private_key_pem.write_to_path(str(other_key))
    with pytest.raises(ConfigError) as caught:
        load_settings(None, http={"tls_cert": str(pem.cert), "tls_key": str(other_key)})
    assert "http.tls_cert, http.tls_key: cannot be loaded" in str(caught.value)


def test_tls_settings_go_together(pem: Pem) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, http={"tls_cert": str(pem.cert)})
    assert "http: tls_cert and tls_key go together" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        load_settings(None, smpp={"tls_cert": str(pem.cert), "tls_key": str(pem.key)})
    assert "smpp: tls_port, tls_cert and tls_key go together" in str(caught.value)
    with pytest.raises(ConfigError):
        load_settings(None, smpp={"tls_port": 3550})
