"""Fuzz the SMPP codec and the sans-IO session with mutated real PDUs; figures in
bench/RELIABILITY.md.

    .venv/bin/python bench/fuzz_smpp.py --inputs 1000000            # `make fuzz`
    .venv/bin/python bench/fuzz_smpp.py --engine atheris --inputs 1000000

Every input goes to decode() and, as a byte stream cut in up to three reads, to a bound SMSC
session and a bound ESME session whose caller answers each request at once. A failure is any
exception but PduError out of the codec, any exception out of the session, an answer the session
queued that does not decode, or one input taking longer than --hang-seconds. The default engine
mutates the vectors in tests/smpp/vectors with a seeded generator (same seed, same inputs);
`atheris` (pip install atheris) lets libFuzzer's coverage guide the mutations instead. Exits 1
on the first failure, with the input in hex; prints one JSON line of figures otherwise.
"""

from __future__ import annotations

import argparse
import json
import random
import struct
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from smsgate.smpp.constants import CommandId
from smsgate.smpp.pdu import (
    BindTransceiver,
    PduError,
    decode,
    encode,
    make_response,
)
from smsgate.smpp.session import (
    MalformedPdu,
    NeedData,
    PduReceived,
    RequestRefused,
    Role,
    Session,
    SessionError,
    UnreadableRequest,
)

VECTORS = Path(__file__).resolve().parent.parent / "tests/smpp/vectors/node_smpp_vectors.json"
_LENGTH = struct.Struct("!I")
_BIND = encode(BindTransceiver(sequence_number=1, system_id="fuzz", password="pw"))
_BIND_RESP = make_response(decode(_BIND), system_id="sim")
_BIND_RESP_BYTES = encode(_BIND_RESP)
_INTERESTING_U32 = (0, 1, 15, 16, 17, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x10000, 0x80000004)
_INTERESTING_U8 = (0, 1, 0x7F, 0x80, 0xFF, 0x40, 0x08)
_UNANSWERED = frozenset({CommandId.OUTBIND, CommandId.ALERT_NOTIFICATION})  # §4.1.7, §4.12


class FuzzFailure(Exception):
    pass


def seeds() -> list[bytes]:
    loaded: dict[str, str] = json.loads(VECTORS.read_text())
    return [bytes.fromhex(value) for value in loaded.values()]


def frames(data: bytes) -> int:
    """How many PDUs `data` holds; raises FuzzFailure when a queued answer is not a PDU."""
    count = 0
    while data:
        (length,) = _LENGTH.unpack_from(data)
        try:
            decode(data[:length])
        except PduError as exc:
            raise FuzzFailure(f"the session queued an undecodable answer: {exc!r}") from None
        data = data[length:]
        count += 1
    return count


def _bound(role: Role) -> Session:
    # Through the public API every time (a bind, its answer), with the bytes encoded once.
    if role is Role.SMSC:
        session = Session(Role.SMSC, window=64)
        session.receive_data(_BIND, 0.0)
        event = session.next_event()
        assert type(event) is PduReceived
        session.send(_BIND_RESP)
        return session
    session = Session(Role.ESME, window=64)
    session.send(BindTransceiver(system_id="fuzz", password="pw"), 0.0)
    session.receive_data(_BIND_RESP_BYTES)
    session.next_event()
    return session


def check(data: bytes, tally: Counter[str]) -> None:
    """One input through the codec and both sessions; raises FuzzFailure on a bug."""
    try:
        pdu = decode(data)
    except PduError:
        tally["decode_refused"] += 1
    else:
        tally["decode_ok"] += 1
        try:
            encode(pdu)
        except PduError:
            tally["reencode_refused"] += 1
    cuts = sorted({data[0] % (len(data) + 1), data[-1] % (len(data) + 1)}) if data else []
    for role in (Role.SMSC, Role.ESME):
        session = _bound(role)
        start = 0
        for cut in [*cuts, len(data)]:
            session.receive_data(data[start:cut], 1.0)
            start = cut
            while True:
                event = session.next_event()
                if type(event) is NeedData:
                    break
                if type(event) is PduReceived:
                    tally["requests"] += 1
                    if event.pdu.command_id in _UNANSWERED:
                        continue
                    try:
                        answer = session.send(make_response(event.pdu), 1.0)
                    except SessionError as exc:
                        raise FuzzFailure(f"answering a request right away: {exc!r}") from None
                    except PduError:
                        tally["answer_unencodable"] += 1
                    else:
                        frames(answer)
                elif type(event) is MalformedPdu:
                    tally["malformed"] += 1
                elif type(event) is UnreadableRequest:
                    # A bound customer's request with a field the codec refused: answered by
                    # the owner (the SMPP door), as the server does, with the codec's status.
                    tally["unreadable"] += 1
                    status = event.error.command_status
                    try:
                        answer = session.send(make_response(event.request, status), 1.0)
                    except SessionError as exc:
                        raise FuzzFailure(f"answering an unreadable request: {exc!r}") from None
                    frames(answer)
                elif type(event) is RequestRefused:
                    tally["refused"] += 1
        session.handle_timeout(1e9)
        session.events()
        tally["answers"] += frames(session.data_to_send())


def mutate(rng: random.Random, pool: list[bytes]) -> bytes:
    data = bytearray(b"".join(rng.choice(pool) for _ in range(rng.choice((1, 1, 1, 2, 3)))))
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(8)
        at = rng.randrange(len(data)) if data else 0
        if kind == 0 and data:
            data[at] ^= 1 << rng.randrange(8)
        elif kind == 1 and data:
            data[at] = rng.choice(_INTERESTING_U8)
        elif kind == 2 and len(data) >= 4:
            at = rng.randrange(0, len(data) - 3) & ~3 if rng.random() < 0.7 else at
            at = min(at, len(data) - 4)
            data[at : at + 4] = _LENGTH.pack(rng.choice(_INTERESTING_U32))
        elif kind == 3:
            data[at:at] = rng.randbytes(rng.randint(1, 16))
        elif kind == 4 and data:
            del data[at : at + rng.randint(1, 16)]
        elif kind == 5 and data:
            data[at:at] = data[at : at + rng.randint(1, 32)]
        elif kind == 6:
            del data[rng.randrange(len(data) + 1) :]
        elif kind == 7:
            data += rng.choice(pool)
    if len(data) >= 4 and rng.random() < 0.5:
        # Keep the outer framing right half the time, so the mutation reaches the body codec.
        data[0:4] = _LENGTH.pack(len(data))
    return bytes(data)


def run_mutations(inputs: int, seed: int, hang_seconds: float) -> dict[str, Any]:
    rng = random.Random(seed)
    pool = seeds()
    tally: Counter[str] = Counter()
    slowest = 0.0
    started = time.perf_counter()
    for _ in range(inputs):
        data = mutate(rng, pool)
        t0 = time.perf_counter()
        try:
            check(data, tally)
        except FuzzFailure:
            raise
        except Exception as exc:
            raise FuzzFailure(f"{exc!r} on input {data.hex()}") from exc
        spent = time.perf_counter() - t0
        if spent > hang_seconds:
            raise FuzzFailure(f"input took {spent:.2f} s: {data.hex()}")
        slowest = max(slowest, spent)
    seconds = time.perf_counter() - started
    return {
        "engine": "mutation",
        "seed": seed,
        "inputs": inputs,
        "seconds": round(seconds, 1),
        "inputs_per_second": round(inputs / seconds),
        "slowest_input_ms": round(slowest * 1000, 2),
        **dict(sorted(tally.items())),
    }


def run_atheris(inputs: int, hang_seconds: float) -> None:
    import atheris  # type: ignore[import-not-found]

    # The codec and session are imported already: instrument every loaded function for
    # coverage (instrument_imports only sees modules imported inside it).
    atheris.instrument_all()

    tally: Counter[str] = Counter()

    def one(data: bytes) -> None:
        check(data, tally)

    corpus = Path("var/fuzz_smpp_corpus")
    corpus.mkdir(parents=True, exist_ok=True)
    for index, seed in enumerate(seeds()):
        (corpus / f"vector{index:02d}").write_bytes(seed)
    args = [sys.argv[0], f"-runs={inputs}", f"-timeout={max(1, int(hang_seconds))}", str(corpus)]
    atheris.Setup(args, one)
    atheris.Fuzz()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--inputs", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--engine", choices=("mutation", "atheris"), default="mutation")
    parser.add_argument("--hang-seconds", type=float, default=5.0)
    args = parser.parse_args()
    if args.engine == "atheris":
        run_atheris(args.inputs, args.hang_seconds)
        return
    try:
        figures = run_mutations(args.inputs, args.seed, args.hang_seconds)
    except FuzzFailure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
