"""split_text throughput on typical texts: a one-part GSM-7 text, a three-part GSM-7 text, and
one- and three-part UCS-2 (Cyrillic) texts. Prints calls per second.

Run: .venv/bin/python bench/segments.py
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

from smsgate.domain.segments import split_text

TEXTS = {
    "gsm7 1 part (60 chars)": "Your code is 482913. It expires in 5 minutes. Do not share!",
    "gsm7 3 parts (400 chars)": ("Dear customer, your order {1234} has shipped. " * 9)[:400],
    "ucs2 1 part (60 chars)": "Ваш код 482913. Дійсний 5 хвилин. Нікому не повідомляйте!!",
    "ucs2 3 parts (190 chars)": ("Шановний клієнте, замовлення №1234 відправлено. " * 4)[:190],
}


def rate(fn: Callable[[], object], seconds: float = 1.0) -> float:
    calls, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(1000):
            fn()
        calls += 1000
    return calls / elapsed


def main() -> None:
    for name, text in TEXTS.items():
        seg = split_text(text)
        per_second = rate(partial(split_text, text))
        print(f"split_text {name:26} parts={len(seg.parts)}  {per_second:>12,.0f}/s")


if __name__ == "__main__":
    main()
