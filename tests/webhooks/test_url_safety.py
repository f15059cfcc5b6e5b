"""URLs refused at configuration time: scheme, length, and every way of writing an address
that is loopback, private, link-local, multicast or reserved."""

from __future__ import annotations

import ipaddress

import pytest

from smsgate.webhooks.url_safety import MAX_URL_LENGTH, UnsafeUrl, address_problem, check_url


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/sms?account=7",
        "http://93.184.216.34:8080/dlr",
        "https://[2606:2800:220:1:248:1893:25c8:1946]/x",
        "https://user:secret@hooks.example.com/x",
        "https://bücher.example/x",
        "http://[::ffff:8.8.8.8]/x",  # IPv4-mapped public address
    ],
)
def test_public_http_urls_are_accepted(url: str) -> None:
    assert check_url(url, allow_private=False).scheme in ("http", "https")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/x", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("hooks.example.com/x", "http:// or https://"),
        ("http:///path", "no host"),
        ("http://[zz]/", "cannot be parsed"),
        ("http://exa mple.com/", "'%'"),
    ],
)
def test_urls_that_are_not_http_are_refused(url: str, reason: str) -> None:
    with pytest.raises(UnsafeUrl, match=reason):
        check_url(url, allow_private=False)


def test_a_url_longer_than_2000_characters_is_refused() -> None:
    base = "https://hooks.example.com/?q="
    check_url(base + "a" * (MAX_URL_LENGTH - len(base)), allow_private=False)
    with pytest.raises(UnsafeUrl, match="2001 characters long; at most 2000"):
        check_url(base + "a" * (MAX_URL_LENGTH + 1 - len(base)), allow_private=False)


LOOPBACK_OR_PRIVATE = [
    ("http://127.0.0.1/", "loopback"),
    ("http://127.8.9.10:9000/", "loopback"),
    ("http://[::1]/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),  # IPv4-mapped
    ("http://[::ffff:7f00:1]/", "loopback"),  # the same, in hex
    ("http://[2002:7f00:1::]/", "loopback"),  # 6to4 around 127.0.0.1
    ("http://[64:ff9b::a00:1]/", "private"),  # NAT64 around 10.0.0.1
    ("http://10.1.2.3/", "private"),
    ("http://172.16.0.1/", "private"),
    ("http://172.31.255.255/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://100.64.0.1/", "private"),  # carrier-grade NAT
    ("http://[fd00::1]/", "private"),
    ("http://[::ffff:192.168.0.1]/", "private"),
    ("http://localhost:8000/", "loopback name"),
    ("http://LOCALHOST./", "loopback name"),
    ("http://api.localhost/", "loopback name"),
    ("http://127.0.0.1./", "loopback"),
]


@pytest.mark.parametrize(("url", "reason"), LOOPBACK_OR_PRIVATE)
def test_loopback_and_private_addresses_are_refused(url: str, reason: str) -> None:
    with pytest.raises(UnsafeUrl, match=reason):
        check_url(url, allow_private=False)


@pytest.mark.parametrize(("url", "reason"), LOOPBACK_OR_PRIVATE)
def test_the_demo_setting_allows_loopback_and_private(url: str, reason: str) -> None:
    check_url(url, allow_private=True)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "link-local"),  # cloud metadata
        ("http://[fe80::1]/", "link-local"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://[::]/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://[ff02::1]/", "multicast"),
        ("http://240.0.0.1/", "reserved"),
        ("http://255.255.255.255/", "reserved"),
        ("http://192.0.2.10/", "reserved"),  # documentation range
        ("http://[2001:db8::1]/", "reserved"),
        ("http://[::ffff:169.254.169.254]/", "link-local"),
    ],
)
def test_link_local_multicast_and_reserved_are_refused_even_in_the_demo(
    url: str, reason: str
) -> None:
    for allow_private in (False, True):
        with pytest.raises(UnsafeUrl, match=reason):
            check_url(url, allow_private=allow_private)


@pytest.mark.parametrize(
    "host", ["2130706433", "0x7f000001", "0x7f.1", "0177.0.0.1", "017700000001", "127.1", "10.1"]
)
def test_numeric_host_tricks_are_refused_with_the_address_they_mean(host: str) -> None:
    for allow_private in (False, True):
        # httpx itself refuses some forms (a leading zero); either way the URL is refused.
        with pytest.raises(UnsafeUrl, match=r"non-standard form; write it as four|Invalid IPv4"):
            check_url(f"http://{host}/", allow_private=allow_private)


def test_a_zone_id_or_escape_in_the_host_is_refused() -> None:
    with pytest.raises(UnsafeUrl, match="'%'"):
        check_url("http://[fe80::1%25eth0]/", allow_private=True)


def test_userinfo_does_not_hide_the_real_host() -> None:
    with pytest.raises(UnsafeUrl, match="loopback"):
        check_url("http://hooks.example.com@127.0.0.1/", allow_private=False)


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("::1", False),
        ("::ffff:10.0.0.1", False),
        ("172.32.0.1", True),  # just outside 172.16/12
        ("198.18.0.1", False),  # benchmarking range
    ],
)
def test_address_problem(address: str, allowed: bool) -> None:
    problem = address_problem(ipaddress.ip_address(address), allow_private=False)
    assert (problem is None) is allowed
