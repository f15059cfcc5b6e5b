"""What building a 13-field value class costs: `@dataclass(frozen=True, slots=True)` against
smsgate's `@record` (src/smsgate/immutable.py) and a NamedTuple, best of 5 runs of 200,000 builds.

    .venv/bin/python bench/record_build.py
"""

from __future__ import annotations

import timeit
from dataclasses import dataclass
from typing import NamedTuple

from smsgate.immutable import record

_FIELD_COUNT = 13
_BUILDS = 200_000
_FIELDS = "\n".join(f"    f{i}: int" for i in range(_FIELD_COUNT))
_SOURCE = f"""
@dataclass(frozen=True, slots=True)
class Frozen:
{_FIELDS}

@record
class Record:
{_FIELDS}

class Tuple(NamedTuple):
{_FIELDS}
"""


def main() -> None:
    # The classes are written out from one field list so that all three have the same fields.
    names: dict[str, object] = {"dataclass": dataclass, "record": record, "NamedTuple": NamedTuple}
    exec(_SOURCE, names)
    args = ", ".join(str(i) for i in range(_FIELD_COUNT))
    for name in ("Frozen", "Record", "Tuple"):
        best = min(
            timeit.repeat(f"C({args})", globals={"C": names[name]}, number=_BUILDS, repeat=5)
        )
        print(f"{name:7s} {best / _BUILDS * 1e9:6.0f} ns per build")


if __name__ == "__main__":
    main()
