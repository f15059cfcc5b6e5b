"""The sans-IO session: bytes and a clock in, events out. No sockets."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from smsgate.smpp.constants import CommandId, CommandStatus
from smsgate.smpp.pdu import (
    BindReceiver,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    BindTransmitterResp,
    DeliverSm,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Pdu,
    QuerySm,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
    decode,
    encode,
    make_response,
)
from smsgate.smpp.session import (
    BindState,
    BindStateChanged,
    ConnectionShouldClose,
    Event,
    MalformedPdu,
    NeedData,
    PduReceived,
    RequestRefused,
    RequestTimedOut,
    ResponseReceived,
    Role,
    Session,
    SessionError,
    UnbindReceived,
    UnexpectedResponse,
    UnreadableRequest,
    WindowFull,
)

S = CommandStatus


def frames(data: bytes) -> list[Pdu]:
    out = []
    while data:
        (length,) = struct.unpack_from("!I", data)
        out.append(decode(data[:length]))
        data = data[length:]
    return out


def of_type(events: list[Event], kind: type) -> list:  # type: ignore[type-arg]
    return [e for e in events if isinstance(e, kind)]


def bound_pair(bind: Pdu | None = None, **esme_options: object) -> tuple[Session, Session]:
    """An ESME and an SMSC session bound to each other through in-memory bytes."""
    esme = Session(Role.ESME, **esme_options)  # type: ignore[arg-type]
    smsc = Session(Role.SMSC)
    smsc.receive_data(esme.send(bind or BindTransceiver(system_id="u", password="p")))
    (received,) = of_type(smsc.events(), PduReceived)
    esme.receive_data(smsc.send(make_response(received.pdu, system_id="sim")))
    esme.events()
    smsc.events()
    return esme, smsc


def test_bind_moves_both_sides_to_bound_transceiver() -> None:
    esme = Session(Role.ESME)
    smsc = Session(Role.SMSC)
    smsc.receive_data(esme.send(BindTransceiver(system_id="u", password="p")))
    assert esme.state is BindState.BINDING
    assert esme.events() == [BindStateChanged(BindState.OPEN, BindState.BINDING)]
    (event,) = smsc.events()
    assert isinstance(event, PduReceived) and isinstance(event.pdu, BindTransceiver)
    esme.receive_data(smsc.send(make_response(event.pdu, system_id="sim")))
    assert smsc.state is BindState.BOUND_TRX
    events = esme.events()
    assert isinstance(events[0], ResponseReceived)
    assert isinstance(events[0].response, BindTransceiverResp)
    assert events[1] == BindStateChanged(BindState.BINDING, BindState.BOUND_TRX)
    assert esme.bound and smsc.bound


def test_rejected_bind_returns_the_esme_to_open() -> None:
    esme = Session(Role.ESME)
    smsc = Session(Role.SMSC)
    smsc.receive_data(esme.send(BindTransmitter(system_id="u", password="bad")))
    (event,) = smsc.events()
    esme.receive_data(smsc.send(make_response(event.pdu, S.ESME_RINVPASWD)))
    assert smsc.state is BindState.OPEN
    response = of_type(esme.events(), ResponseReceived)[0].response
    assert response.command_status == S.ESME_RINVPASWD
    assert esme.state is BindState.OPEN


def test_sequence_numbers_start_at_one_and_wrap_after_0x7fffffff() -> None:
    esme, _ = bound_pair(window=5)
    first = decode(esme.send(SubmitSm(destination_addr="1")))
    assert first.sequence_number == 2  # the bind was 1
    esme._next_seq = 0x7FFFFFFF  # jump to the edge rather than sending two billion PDUs
    assert decode(esme.send(SubmitSm())).sequence_number == 0x7FFFFFFF
    assert decode(esme.send(SubmitSm())).sequence_number == 1


def test_responses_out_of_order_match_their_requests() -> None:
    esme, smsc = bound_pair()
    for dest in ("a", "b", "c"):
        smsc.receive_data(esme.send(SubmitSm(destination_addr=dest)))
    requests = [e.pdu for e in of_type(smsc.events(), PduReceived)]
    replies = b"".join(
        smsc.send(make_response(r, message_id="id-" + r.destination_addr))
        for r in reversed(requests)
    )
    esme.receive_data(replies)
    matched = {
        e.request.destination_addr: e.response.message_id
        for e in of_type(esme.events(), ResponseReceived)
    }
    assert matched == {"a": "id-a", "b": "id-b", "c": "id-c"}
    assert esme.in_flight() == []


def test_window_refuses_a_request_above_it_until_a_response_frees_a_slot() -> None:
    esme, smsc = bound_pair(window=2)
    smsc.receive_data(esme.send(SubmitSm()) + esme.send(SubmitSm()))
    assert not esme.can_send
    try:
        esme.send(SubmitSm())
    except WindowFull:
        pass
    else:
        raise AssertionError("a third request went out on a window of 2")
    first = of_type(smsc.events(), PduReceived)[0].pdu
    esme.receive_data(smsc.send(make_response(first, message_id="1")))
    esme.events()
    assert esme.can_send
    assert esme.in_flight_count == 1


def test_unexpected_response_is_an_event_not_a_crash() -> None:
    esme, _ = bound_pair()
    esme.receive_data(encode(SubmitSmResp(sequence_number=999, message_id="x")))
    (event,) = esme.events()
    assert isinstance(event, UnexpectedResponse)
    assert event.response.sequence_number == 999
    assert esme.bound


def test_response_of_the_wrong_type_is_unexpected_and_keeps_the_request_in_flight() -> None:
    esme, _ = bound_pair()
    request = decode(esme.send(SubmitSm()))
    esme.receive_data(encode(EnquireLinkResp(sequence_number=request.sequence_number)))
    assert isinstance(esme.events()[0], UnexpectedResponse)
    assert len(esme.in_flight()) == 1


def test_generic_nack_answers_the_request_it_carries_the_number_of() -> None:
    esme, _ = bound_pair()
    request = decode(esme.send(SubmitSm()))
    esme.receive_data(
        encode(GenericNack(sequence_number=request.sequence_number, command_status=3))
    )
    (event,) = esme.events()
    assert isinstance(event, ResponseReceived) and isinstance(event.response, GenericNack)


def test_submit_before_bind_is_answered_invalid_bind_status() -> None:
    smsc = Session(Role.SMSC)
    smsc.receive_data(encode(SubmitSm(sequence_number=7)))
    (event,) = smsc.events()
    assert isinstance(event, RequestRefused)
    (reply,) = frames(smsc.data_to_send())
    assert reply.command_id == CommandId.SUBMIT_SM_RESP
    assert (reply.command_status, reply.sequence_number) == (S.ESME_RINVBNDSTS, 7)


def test_submit_on_a_receiver_bind_is_answered_invalid_bind_status() -> None:
    _, smsc = bound_pair(BindReceiver(system_id="u", password="p"))
    assert smsc.state is BindState.BOUND_RX
    smsc.receive_data(encode(SubmitSm(sequence_number=42)))
    assert isinstance(smsc.events()[0], RequestRefused)
    (reply,) = frames(smsc.data_to_send())
    assert (reply.command_status, reply.sequence_number) == (S.ESME_RINVBNDSTS, 42)


def test_esme_may_not_send_submit_on_a_receiver_bind() -> None:
    esme, _ = bound_pair(BindReceiver(system_id="u", password="p"))
    try:
        esme.send(SubmitSm())
    except SessionError:
        pass
    else:
        raise AssertionError("submit_sm went out on an RX bind")


def test_smsc_may_not_deliver_to_a_transmitter_bind() -> None:
    _, smsc = bound_pair(BindTransmitter(system_id="u", password="p"))
    try:
        smsc.send(DeliverSm())
    except SessionError:
        pass
    else:
        raise AssertionError("deliver_sm went out on a TX bind")


def test_second_bind_is_answered_already_bound() -> None:
    _, smsc = bound_pair()
    smsc.receive_data(encode(BindTransceiver(sequence_number=9, system_id="u")))
    assert isinstance(smsc.events()[0], RequestRefused)
    (reply,) = frames(smsc.data_to_send())
    assert (reply.command_status, reply.sequence_number) == (S.ESME_RALYBND, 9)


def test_deliver_sm_reaches_a_transceiver_esme_as_a_request() -> None:
    esme, smsc = bound_pair()
    esme.receive_data(smsc.send(DeliverSm(source_addr="380", esm_class=0x04)))
    (event,) = esme.events()
    assert isinstance(event, PduReceived) and isinstance(event.pdu, DeliverSm)
    smsc.receive_data(esme.send(make_response(event.pdu)))
    (answer,) = smsc.events()
    assert isinstance(answer, ResponseReceived)


def test_enquire_link_is_answered_by_the_session_itself() -> None:
    smsc = Session(Role.SMSC)
    smsc.receive_data(encode(EnquireLink(sequence_number=5)))
    assert smsc.events() == []
    (reply,) = frames(smsc.data_to_send())
    assert isinstance(reply, EnquireLinkResp) and reply.sequence_number == 5


def test_unbind_handshake_closes_both_sides() -> None:
    esme, smsc = bound_pair()
    smsc.receive_data(esme.unbind())
    assert esme.state is BindState.UNBINDING
    events = smsc.events()
    assert ConnectionShouldClose("peer unbound") in events
    assert smsc.state is BindState.CLOSED
    esme.receive_data(smsc.data_to_send())
    events = esme.events()
    assert esme.state is BindState.CLOSED
    assert ConnectionShouldClose("unbound") in events


def test_on_close_every_unacknowledged_request_is_listed_oldest_first() -> None:
    esme, smsc = bound_pair()
    for dest in ("1", "2", "3"):
        smsc.receive_data(esme.send(SubmitSm(destination_addr=dest)))
    first = of_type(smsc.events(), PduReceived)[0].pdu
    esme.receive_data(smsc.send(make_response(first, message_id="m1")))
    esme.events()
    unacked = esme.close("connection lost")
    assert [p.destination_addr for p in unacked] == ["2", "3"]
    assert esme.state is BindState.CLOSED


def test_response_timeout_reports_the_request_and_frees_its_slot() -> None:
    esme, _ = bound_pair(response_timeout=5.0, enquire_link_interval=None, window=1)
    esme.send(SubmitSm(destination_addr="slow"), now=100.0)
    assert esme.next_deadline() == 105.0
    esme.handle_timeout(104.9)
    assert esme.events() == []
    esme.handle_timeout(105.0)
    (event,) = esme.events()
    assert isinstance(event, RequestTimedOut) and event.request.destination_addr == "slow"
    assert esme.can_send and esme.bound


def test_bind_without_answer_closes_the_connection() -> None:
    esme = Session(Role.ESME, response_timeout=3.0)
    esme.send(BindTransmitter(system_id="u"), now=0.0)
    esme.events()
    esme.handle_timeout(3.0)
    events = esme.events()
    assert isinstance(events[0], RequestTimedOut)
    assert ConnectionShouldClose("bind unanswered") in events


def test_idle_bound_session_emits_enquire_link_at_the_interval() -> None:
    esme, smsc = bound_pair(enquire_link_interval=30.0, response_timeout=10.0)
    esme.receive_data(b"", now=0.0)
    assert esme.next_deadline() == 30.0
    esme.handle_timeout(30.0)
    (probe,) = frames(esme.data_to_send())
    assert isinstance(probe, EnquireLink)
    assert esme.in_flight() == []  # the session's own probe is not the caller's to resubmit
    smsc.receive_data(encode(probe))
    assert smsc.events() == []
    esme.receive_data(smsc.data_to_send(), now=31.0)
    assert esme.events() == []
    assert esme.next_deadline() == 61.0


def test_unanswered_enquire_link_closes_the_connection() -> None:
    esme, _ = bound_pair(enquire_link_interval=30.0, response_timeout=10.0)
    esme.handle_timeout(30.0)
    esme.data_to_send()
    esme.handle_timeout(40.0)
    assert ConnectionShouldClose("enquire_link unanswered") in esme.events()


def test_traffic_postpones_the_enquire_link() -> None:
    esme, smsc = bound_pair(enquire_link_interval=30.0)
    esme.receive_data(smsc.send(DeliverSm()), now=20.0)
    esme.handle_timeout(30.0)
    assert esme.data_to_send() == b""
    assert esme.next_deadline() == 50.0


def test_unbound_connection_is_closed_by_the_session_init_timer() -> None:
    smsc = Session(Role.SMSC, session_init_timeout=10.0, now=5.0)
    assert smsc.next_deadline() == 15.0
    smsc.handle_timeout(15.0)
    assert ConnectionShouldClose("session_init timeout: no bind") in smsc.events()


def test_silent_peer_is_closed_by_the_inactivity_timer() -> None:
    smsc = Session(Role.SMSC, inactivity_timeout=60.0, enquire_link_interval=None)
    smsc.receive_data(encode(BindTransmitter(sequence_number=1, system_id="u")), now=0.0)
    (bind,) = smsc.events()
    smsc.send(make_response(bind.pdu))
    smsc.events()
    smsc.handle_timeout(59.0)
    assert smsc.events() == []
    smsc.handle_timeout(60.0)
    assert ConnectionShouldClose("inactivity timeout") in smsc.events()


def test_bytes_arriving_one_at_a_time_make_the_same_pdu() -> None:
    smsc = Session(Role.SMSC)
    data = encode(BindTransmitter(sequence_number=1, system_id="abc", password="pw"))
    for i in range(len(data)):
        assert isinstance(smsc.next_event(), NeedData)
        smsc.receive_data(data[i : i + 1])
    event = smsc.next_event()
    assert isinstance(event, PduReceived) and event.pdu.system_id == "abc"


def test_malformed_submit_gets_an_error_response_with_its_sequence_number() -> None:
    _, smsc = bound_pair()
    good = encode(SubmitSm(sequence_number=77, destination_addr="380"))
    bad = good[:-1]  # sm_length says 0 but a field now runs past the end
    bad = struct.pack("!I", len(bad)) + bad[4:]
    smsc.receive_data(bad)
    (event,) = smsc.events()
    assert isinstance(event, MalformedPdu)
    (reply,) = frames(smsc.data_to_send())
    assert reply.sequence_number == 77 and reply.command_status != 0
    assert reply.command_id in (CommandId.SUBMIT_SM_RESP, CommandId.GENERIC_NACK)
    assert smsc.bound  # the session lives on
    smsc.receive_data(encode(QuerySm(sequence_number=78, message_id="1")))
    assert isinstance(smsc.events()[0], PduReceived)


def sm_length_255(seq: int) -> bytes:
    """A submit_sm whose header is sound and whose sm_length (255) is past the 254 allowed."""
    good = encode(SubmitSm(sequence_number=seq, destination_addr="380", short_message=b"A" * 254))
    at = len(good) - 255  # sm_length, right before the 254 octets
    assert good[at] == 254
    body = good[4:at] + bytes([255]) + b"A" * 255
    return struct.pack("!I", 4 + len(body)) + body


def test_a_bound_customers_request_with_an_unreadable_field_is_left_to_the_owner() -> None:
    """Not answered by the session: the owner (the SMPP door) answers it, so a refusal of a
    bound customer's request can count against its rate like any other."""
    _, smsc = bound_pair()
    smsc.receive_data(sm_length_255(41))
    (event,) = smsc.events()
    assert isinstance(event, UnreadableRequest)
    assert isinstance(event.request, SubmitSm) and event.request.sequence_number == 41
    assert event.error.command_status == CommandStatus.ESME_RINVMSGLEN
    assert smsc.data_to_send() == b""
    answer = smsc.send(make_response(event.request, event.error.command_status))
    (reply,) = frames(answer)
    assert isinstance(reply, SubmitSmResp) and reply.sequence_number == 41
    assert reply.command_status == CommandStatus.ESME_RINVMSGLEN
    assert smsc.bound


def test_an_unreadable_request_is_owed_before_an_unbind() -> None:
    _, smsc = bound_pair()
    smsc.receive_data(sm_length_255(5) + encode(Unbind(sequence_number=6)))
    events = smsc.events()
    (unreadable,) = of_type(events, UnreadableRequest)
    assert of_type(events, UnbindReceived)
    assert smsc.state is BindState.DRAINING and smsc.data_to_send() == b""
    assert isinstance(unreadable.request, SubmitSm)
    answers = frames(smsc.send(make_response(unreadable.request, CommandStatus.ESME_RTHROTTLED)))
    assert [type(a) for a in answers] == [SubmitSmResp, UnbindResp]


def test_an_unreadable_request_outside_a_bind_is_answered_by_the_session() -> None:
    smsc = Session(Role.SMSC)
    smsc.receive_data(sm_length_255(9))
    (event,) = smsc.events()
    assert isinstance(event, MalformedPdu)
    (reply,) = frames(smsc.data_to_send())
    assert isinstance(reply, SubmitSmResp) and reply.sequence_number == 9
    assert reply.command_status == CommandStatus.ESME_RINVMSGLEN


def test_unknown_command_id_gets_generic_nack_and_the_session_lives_on() -> None:
    _, smsc = bound_pair()
    smsc.receive_data(struct.pack("!IIII", 16, 0x00000999, 0, 12))
    (event,) = smsc.events()
    assert isinstance(event, MalformedPdu)
    (reply,) = frames(smsc.data_to_send())
    assert isinstance(reply, GenericNack)
    assert (reply.command_status, reply.sequence_number) == (S.ESME_RINVCMDID, 12)
    assert smsc.bound


def test_impossible_command_length_loses_framing_and_closes() -> None:
    _, smsc = bound_pair()
    smsc.receive_data(struct.pack("!IIII", 3, 4, 0, 1) + b"garbage")
    events = smsc.events()
    assert isinstance(events[0], MalformedPdu)
    assert isinstance(events[-1], ConnectionShouldClose)
    (reply,) = frames(smsc.data_to_send())
    assert isinstance(reply, GenericNack) and reply.command_status == S.ESME_RINVCMDLEN


def test_malformed_response_is_not_nacked() -> None:
    esme, _ = bound_pair()
    esme.send(SubmitSm())
    esme.receive_data(struct.pack("!IIII", 20, CommandId.SUBMIT_SM_RESP, 0, 2) + b"abcd")
    (event,) = esme.events()
    assert isinstance(event, MalformedPdu) and event.reply == b""
    assert esme.data_to_send() == b""


def test_sending_after_close_is_refused() -> None:
    esme, _ = bound_pair()
    esme.close()
    try:
        esme.send(SubmitSm())
    except SessionError:
        pass
    else:
        raise AssertionError("a PDU went out on a closed session")


def _valid_stream() -> bytes:
    return b"".join(
        encode(p)
        for p in (
            BindTransmitter(sequence_number=1, system_id="u", password="p"),
            SubmitSm(sequence_number=2, destination_addr="380", short_message=b"hi"),
            EnquireLink(sequence_number=3),
            BindTransmitterResp(sequence_number=4),
            Unbind(sequence_number=5),
        )
    )


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.lists(st.integers(1, 64), max_size=20))
def test_random_bytes_never_crash_either_role(data: bytes, cuts: list[int]) -> None:
    for role in Role:
        session = Session(role)
        rest = data
        for cut in cuts:
            session.receive_data(rest[:cut])
            rest = rest[cut:]
            session.events()
        session.receive_data(rest)
        session.events()
        session.handle_timeout(1e9)
        session.events()
        session.data_to_send()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=8))
def test_mutated_valid_streams_never_crash_the_session(mutations: list[tuple[int, int]]) -> None:
    stream = bytearray(_valid_stream())
    for position, value in mutations:
        stream[position % len(stream)] = value
    for role in Role:
        session = Session(role)
        if role is Role.ESME:
            session.send(BindTransmitter(system_id="u"))
        session.receive_data(bytes(stream))
        for event in session.events():
            # Whatever arrived, every answer the session queued must itself be a valid PDU.
            assert not isinstance(event, NeedData)
        frames(session.data_to_send())


def _submits(count: int) -> bytes:
    return b"".join(
        encode(SubmitSm(sequence_number=n, destination_addr=f"380{n}", short_message=b"x" * n))
        for n in range(1, count + 1)
    )


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 12),
    st.lists(st.integers(1, 90), max_size=30),
    st.lists(st.booleans(), max_size=30),
)
def test_a_stream_cut_anywhere_yields_the_same_pdus_drained_or_not(
    count: int, cuts: list[int], drains: list[bool]
) -> None:
    # Whole reads, PDUs split across reads, several reads buffered before anyone parses: the
    # session must see the same PDUs in the same order.
    _, whole = bound_pair()
    stream = _submits(count)
    whole.receive_data(stream)
    expected = [e.pdu for e in of_type(whole.events(), PduReceived)]
    _, cut = bound_pair()
    seen: list[Pdu] = []
    rest = stream
    for index, size in enumerate(cuts):
        cut.receive_data(rest[:size])
        rest = rest[size:]
        if index < len(drains) and drains[index]:
            seen.extend(e.pdu for e in of_type(cut.events(), PduReceived))
    cut.receive_data(rest)
    seen.extend(e.pdu for e in of_type(cut.events(), PduReceived))
    assert seen == expected and len(seen) == count


def test_a_request_with_sequence_number_zero_gets_a_generic_nack_and_is_dropped() -> None:
    _, smsc = bound_pair()
    smsc.receive_data(encode(SubmitSm(sequence_number=0, destination_addr="380")))
    (event,) = smsc.events()
    assert isinstance(event, MalformedPdu)
    (nack,) = frames(smsc.data_to_send())
    assert isinstance(nack, GenericNack)
    assert nack.sequence_number == 0
    assert nack.command_status == S.ESME_RUNKNOWNERR
    assert smsc.bound  # the framing is intact: the session goes on


def test_a_request_with_sequence_number_above_0x7fffffff_gets_a_generic_nack() -> None:
    for seq in (0x80000000, 0xFFFFFFFF):
        smsc = Session(Role.SMSC)
        smsc.receive_data(
            encode(BindTransceiver(sequence_number=seq, system_id="u", password="p"))
            + encode(EnquireLink(sequence_number=7))
        )
        assert of_type(smsc.events(), PduReceived) == []  # no bind reaches the caller
        nack, pong = frames(smsc.data_to_send())
        assert isinstance(nack, GenericNack) and nack.sequence_number == seq
        assert nack.command_status == S.ESME_RUNKNOWNERR
        assert isinstance(pong, EnquireLinkResp) and pong.sequence_number == 7
        assert smsc.state is BindState.OPEN


def test_sequence_numbers_at_the_ends_of_the_range_are_accepted() -> None:
    _, smsc = bound_pair()
    smsc.receive_data(
        encode(SubmitSm(sequence_number=1, destination_addr="a"))
        + encode(SubmitSm(sequence_number=0x7FFFFFFF, destination_addr="b"))
    )
    received = of_type(smsc.events(), PduReceived)
    assert [e.pdu.sequence_number for e in received] == [1, 0x7FFFFFFF]
    assert smsc.data_to_send() == b""


def test_a_response_with_an_out_of_range_sequence_number_is_unexpected_not_nacked() -> None:
    esme, _ = bound_pair()
    esme.receive_data(encode(SubmitSmResp(sequence_number=0, message_id="x")))
    (event,) = esme.events()
    assert isinstance(event, UnexpectedResponse)
    assert esme.data_to_send() == b""


def test_submit_then_unbind_in_one_read_answers_the_submit_before_unbind_resp() -> None:
    esme, smsc = bound_pair()
    smsc.receive_data(esme.send(SubmitSm(destination_addr="380")) + esme.unbind())
    events = smsc.events()
    (submit,) = [e.pdu for e in of_type(events, PduReceived)]
    assert of_type(events, UnbindReceived)
    assert smsc.state is BindState.DRAINING
    assert smsc.data_to_send() == b""  # no unbind_resp while the submit is unanswered
    answer = smsc.send(make_response(submit, message_id="m1"))
    resp, unbind_resp = frames(answer)
    assert isinstance(resp, SubmitSmResp) and resp.message_id == "m1"
    assert isinstance(unbind_resp, UnbindResp)
    assert smsc.state is BindState.CLOSED
    assert ConnectionShouldClose("peer unbound") in smsc.events()
    esme.receive_data(answer)
    events = esme.events()
    assert [type(e) for e in events if isinstance(e, ResponseReceived)] == [ResponseReceived] * 2
    assert esme.state is BindState.CLOSED


def test_a_draining_session_refuses_new_requests_and_sends_none() -> None:
    esme, smsc = bound_pair()
    smsc.receive_data(esme.send(SubmitSm(destination_addr="1")) + esme.unbind())
    smsc.events()
    assert not smsc.allows(CommandId.DELIVER_SM)
    smsc.receive_data(encode(SubmitSm(sequence_number=40, destination_addr="2")))
    (refused,) = smsc.events()
    assert isinstance(refused, RequestRefused)
    assert refused.pdu.sequence_number == 40
    (reply,) = frames(smsc.data_to_send())
    assert reply.command_status == S.ESME_RINVBNDSTS


def test_a_draining_session_sends_unbind_resp_at_the_response_timeout() -> None:
    esme = Session(Role.ESME)
    smsc = Session(Role.SMSC, response_timeout=4.0, enquire_link_interval=None)
    smsc.receive_data(esme.send(BindTransceiver(system_id="u", password="p")), now=0.0)
    (bind,) = of_type(smsc.events(), PduReceived)
    esme.receive_data(smsc.send(make_response(bind.pdu, system_id="s")))
    esme.events()
    smsc.receive_data(esme.send(SubmitSm(destination_addr="1")) + esme.unbind(), now=10.0)
    smsc.events()
    assert smsc.next_deadline() == 14.0
    smsc.handle_timeout(13.9)
    assert smsc.state is BindState.DRAINING
    smsc.handle_timeout(14.0)
    (unbind_resp,) = frames(smsc.data_to_send())
    assert isinstance(unbind_resp, UnbindResp)
    assert ConnectionShouldClose("peer unbound") in smsc.events()


def test_unbind_with_nothing_owed_is_answered_at_once() -> None:
    esme, smsc = bound_pair()
    smsc.receive_data(esme.send(SubmitSm(destination_addr="1")))
    (submit,) = of_type(smsc.events(), PduReceived)
    smsc.send(make_response(submit.pdu, message_id="m"))
    smsc.receive_data(esme.unbind())
    smsc.events()
    (reply,) = frames(smsc.data_to_send())
    assert isinstance(reply, UnbindResp)
    assert smsc.state is BindState.CLOSED


def test_an_esme_answers_the_smscs_unbind_at_once_even_with_deliver_sm_unanswered() -> None:
    esme, smsc = bound_pair()
    esme.receive_data(smsc.send(DeliverSm(source_addr="380")) + smsc.unbind())
    events = esme.events()
    assert of_type(events, PduReceived) and of_type(events, UnbindReceived)
    assert esme.state is BindState.CLOSED
    (reply,) = frames(esme.data_to_send())
    assert isinstance(reply, UnbindResp)
