"""
Reliable provisional responses (RFC 3262) sans-I/O: the UAS's RSeq
numbering, retransmission schedule and RAck matching on a fake clock, and
the UAC's ordering of RSeq, retransmissions, early dialogs and PRACKs.
"""

from twisted.internet.task import Clock

from oso.sip.message import parseMessage
from oso.sip.reliable import (
    ReliableReceiver,
    ReliableSender,
    isReliable,
    optionTags,
    parseRAck,
    unsupported,
    wantsReliable,
)
from oso.sip.transaction import makeResponse

INVITE = (
    b"INVITE sip:201@127.0.0.1 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bKabc\r\n"
    b"From: <sip:200@127.0.0.1>;tag=caller\r\n"
    b"To: <sip:201@127.0.0.1>\r\n"
    b"Call-ID: c1@127.0.0.2\r\n"
    b"CSeq: 7 INVITE\r\n"
    b"Contact: <sip:200@127.0.0.2>\r\n"
    b"Supported: timer, 100rel\r\n"
    b"Require: foo\r\n"
    b"Content-Length: 0\r\n\r\n"
)


def invite():
    return parseMessage(INVITE)


def prack(rack):
    return parseMessage(
        b"PRACK sip:200@127.0.0.2 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bKdef\r\n"
        b"From: <sip:200@127.0.0.1>;tag=caller\r\n"
        b"To: <sip:201@127.0.0.1>;tag=callee\r\n"
        b"Call-ID: c1@127.0.0.2\r\n"
        b"CSeq: 8 PRACK\r\n"
        + (b"RAck: " + rack.encode() + b"\r\n" if rack is not None else b"")
        + b"Content-Length: 0\r\n\r\n"
    )


class Sent:
    def __init__(self):
        self.sent = []
        self.expired = []

    def sender(self, clock, first=100):
        return ReliableSender(clock, 0.5, invite(), self.sent.append, self.expired.append, first)


def test_option_tags_and_unsupported():
    request = invite()
    assert optionTags(request, "supported") == {"timer", "100rel"}
    assert wantsReliable(request)
    assert unsupported(request, ("100rel",)) == ["foo"]
    request.headers.set("require", "100rel")
    assert unsupported(request, ("100rel",)) == []
    request.headers.remove("supported")
    assert wantsReliable(request)
    request.headers.remove("require")
    assert not wantsReliable(request)


def test_retransmitted_t1_doubling_then_expired_at_64_t1():
    clock, expired, times = Clock(), [], []
    sender = ReliableSender(
        clock, 0.5, invite(), lambda r: times.append(clock.seconds()), expired.append, 100
    )
    response = makeResponse(invite(), 180, toTag="callee")
    sender.send(response)
    assert response.headers.get("require") == "100rel"
    assert response.headers.get("rseq") == "100"
    while clock.getDelayedCalls():
        (call,) = clock.getDelayedCalls()
        clock.advance(call.getTime() - clock.seconds())
    # 0, T1, 3 T1, 7 T1 ... while below 64 T1 (32 s), then given up at 32 s.
    assert times == [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert clock.seconds() == 32.0
    assert expired == [response]


def test_prack_matches_rseq_cseq_and_method():
    clock, sent = Clock(), Sent()
    sender = sent.sender(clock)
    first = makeResponse(invite(), 180, toTag="callee")
    second = makeResponse(invite(), 183, toTag="callee")
    second.body = b"v=0\r\n"
    sender.send(first)
    sender.send(second)
    # One at a time: the 183 waits for the 180's PRACK.
    assert sent.sent == [first]
    assert sender.holdsOffer()
    for wrong in ("101 7 INVITE", "100 6 INVITE", "100 7 UPDATE", "x 7 INVITE", None):
        assert sender.prack(prack(wrong)) is None
    assert sender.prack(prack("100 7 INVITE")) is first
    assert sent.sent == [first, second]
    assert second.headers.get("rseq") == "101"
    # The same PRACK again matches nothing unacknowledged.
    assert sender.prack(prack("100 7 INVITE")) is None
    assert sender.prack(prack("101 7 INVITE")) is second
    assert not sender.holdsOffer()
    clock.advance(60)
    assert len(sent.sent) == 2 and sent.expired == []


def test_stop_ends_retransmissions():
    clock, sent = Clock(), Sent()
    sender = sent.sender(clock)
    sender.send(makeResponse(invite(), 180, toTag="callee"))
    sender.stop()
    clock.advance(60)
    assert len(sent.sent) == 1 and sent.expired == []


def test_random_first_rseq_leaves_room():
    for _ in range(50):
        sender = ReliableSender(Clock(), 0.5, invite(), lambda r: None, lambda r: None)
        response = makeResponse(invite(), 180, toTag="t")
        sender.send(response)
        assert 1 <= int(response.headers.get("rseq")) < 2**31


def reliable(rseq, tag="callee", status=183, require="100rel"):
    response = makeResponse(invite(), status, toTag=tag)
    response.headers.add("contact", "<sip:201@127.0.0.3:5070>")
    if require:
        response.headers.add("require", require)
    if rseq is not None:
        response.headers.add("rseq", str(rseq))
    return parseMessage(response.serialise())


def test_is_reliable():
    assert isReliable(reliable(5))
    assert not isReliable(reliable(5, require=None))
    assert not isReliable(reliable(None))
    assert not isReliable(reliable(0))
    assert not isReliable(reliable(5, status=100))


def receiver():
    from oso.sip.uri import SIPURI

    return ReliableReceiver(invite(), SIPURI("127.0.0.1", port=5060))


def test_receiver_prack_in_the_early_dialog():
    uac = receiver()
    response = reliable(5)
    assert uac.receive(response) == [response]
    request = uac.prack(response)
    assert request.method == "PRACK"
    assert parseRAck(request) == (5, 7, "INVITE")
    assert str(request.uri) == "sip:201@127.0.0.3:5070"
    assert request.toAddress.tag == "callee" and request.fromAddress.tag == "caller"
    assert request.cseq.number == 8
    # The confirmed dialog goes on counting after the PRACK.
    ok = makeResponse(invite(), 200, toTag="callee")
    ok.headers.add("contact", "<sip:201@127.0.0.3:5070>")
    dialog = uac.confirmed(parseMessage(ok.serialise()))
    assert not dialog.early
    assert dialog.createRequest("BYE").cseq.number == 9


def test_receiver_drops_retransmissions_and_orders():
    uac = receiver()
    first = reliable(5)
    assert uac.receive(first) == [first]
    assert uac.receive(reliable(5)) == []
    assert uac.receive(reliable(4)) == []
    # 7 before 6: held until 6 comes, then both in order.
    seventh = reliable(7)
    assert uac.receive(seventh) == []
    sixth = reliable(6)
    assert uac.receive(sixth) == [sixth, seventh]
    assert uac.receive(reliable(7)) == []


def test_receiver_counts_each_early_dialog_alone():
    uac = receiver()
    a, b = reliable(5, tag="a"), reliable(900, tag="b")
    assert uac.receive(a) == [a]
    assert uac.receive(b) == [b]
    assert set(uac.dialogs) == {"a", "b"}
    assert uac.prack(b).toAddress.tag == "b"
    no_tag = reliable(3, tag=None)
    assert uac.receive(no_tag) == []
