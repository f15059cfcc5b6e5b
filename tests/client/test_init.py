"""`smsgate.client` imports and works with none of the server's dependencies installed."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCKED = ("starlette", "sqlalchemy", "phonenumbers", "uvicorn", "orjson", "alembic", "aiosqlite")

SCRIPT = textwrap.dedent(
    """
    import sys

    BLOCKED = {blocked!r}

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{{name}} is blocked: the client must not need it")
            return None

    sys.meta_path.insert(0, Block())

    import httpx
    import smsgate.client as sdk
    import smsgate.client.cli

    def handler(request):
        return httpx.Response(200, json={{"success_request": {{"info": {{"1": "380501234567"}}}}}})

    with sdk.Client("http://x.test", "t", transport=httpx.MockTransport(handler)) as client:
        result = client.send(["380501234567"], "Hi", "Shop")
    assert result.accepted == {{"1": "380501234567"}}, result
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    assert not leaked, leaked
    print("ok")
    """
)


def test_the_client_and_cli_import_and_send_with_server_dependencies_blocked() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(blocked=BLOCKED)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_the_blocker_really_blocks() -> None:
    probe = SCRIPT.format(blocked=BLOCKED).replace(
        "import httpx\n", "import httpx\nimport starlette\n", 1
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "starlette is blocked" in done.stderr
