"""PHP-style form bodies (`phone[0]=…&phone[1]=…&data_message[0][phone]=…`) as nested values.

SMS Club's PHP clients post form-encoded arrays; the JSON door accepts them as if they were JSON.
Only parsing lives here: what the fields mean is the door's business.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_INDEX = re.compile(r"\[([^\[\]]*)\]")
MAX_DEPTH = 4


def parse_form(body: bytes) -> dict[str, Any]:
    """Decode a urlencoded body into dicts and lists; `a[]` appends, `a[0]` indexes.

    Numeric indexes become list positions in index order; anything unparsable is kept under
    its literal key, so nothing a client sent silently disappears."""
    root: dict[str, Any] = {}
    text = body.decode("utf-8", errors="replace")
    for key, value in parse_qsl(text, keep_blank_values=True):
        match = _KEY.match(key)
        if match is None:
            root[key] = value
            continue
        path = [match.group(1), *_INDEX.findall(match.group(2))][: MAX_DEPTH + 1]
        _put(root, path, value)
    listified = _listify(root)
    return listified if isinstance(listified, dict) else {"": listified}


def _put(node: dict[str, Any], path: list[str], value: str) -> None:
    for i, step in enumerate(path):
        last = i == len(path) - 1
        if step == "":
            step = str(sum(1 for k in node if k.isdigit()))
        if last:
            node[step] = value
            return
        child = node.get(step)
        if not isinstance(child, dict):
            child = {}
            node[step] = child
        node = child


def _listify(value: Any) -> Any:
    """Dicts whose keys are all small integers become lists ordered by index."""
    if not isinstance(value, dict):
        return value
    converted = {k: _listify(v) for k, v in value.items()}
    if converted and all(k.isdigit() and len(k) < 6 for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted
