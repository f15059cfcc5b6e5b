"""Phone normalisations per second: the metadata fast path (no cache), the LRU cache (repeated
numbers), and the full `phonenumbers.parse` + `is_valid_number` path it replaces.

Run: .venv/bin/python bench/phone_numbers.py
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from smsgate.domain.phone import PhoneNormalizer, full_parse

COUNT = 20_000


def numbers(count: int) -> list[str]:
    """Distinct, valid international digits: UA, PL, DE and US numbers."""
    rng = random.Random(1)
    shapes = [("38050", 7), ("38067", 7), ("4860", 7), ("49151", 8), ("1202555", 4)]
    out: set[str] = set()
    while len(out) < count:
        prefix, width = rng.choice(shapes)
        out.add(f"{prefix}{rng.randrange(10**width):0{width}d}")
    return sorted(out)


def per_second(fn: Callable[[str], object], inputs: list[str]) -> float:
    start = time.perf_counter()
    for raw in inputs:
        fn(raw)
    return len(inputs) / (time.perf_counter() - start)


def main() -> None:
    inputs = numbers(COUNT)
    uncached = PhoneNormalizer(cache_size=0)
    uncached.normalize(inputs[0])  # compile the metadata of the first country outside the clock
    fast = per_second(uncached.normalize, inputs)
    cached = PhoneNormalizer()
    for raw in inputs:
        cached.normalize(raw)
    hits = per_second(cached.normalize, inputs)
    full = per_second(lambda raw: full_parse("+" + raw, None), inputs)
    ua_national = ["0" + n[3:] for n in inputs if n.startswith("380")]
    national = per_second(PhoneNormalizer(cache_size=0).normalize, ua_national)
    print(f"fast path (metadata, no cache)  {fast:>12,.0f}/s  {1e6 / fast:6.1f} µs")
    print(f"cached (LRU hit)                {hits:>12,.0f}/s  {1e6 / hits:6.1f} µs")
    print(f"full parse + is_valid_number    {full:>12,.0f}/s  {1e6 / full:6.1f} µs")
    print(f"national form (full parse path) {national:>12,.0f}/s  {1e6 / national:6.1f} µs")


if __name__ == "__main__":
    main()
