"""
Hostile input through the whole receiving path, from the bytes of one
datagram to the UA core (L{oso.sip.transport.readMessage}, then
L{oso.sip.useragent.UserAgent.receive} with its registrar and digest
authenticator): whatever a peer sends, a malformed request that names a
Via is answered with a response that reads back, and nothing raises or is
logged as a failure.  The codec's own fuzzing stops at parsing; the refusal
is built on the partial request, where a missing field once raised.
"""

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet.task import Clock
from twisted.logger import globalLogPublisher

from oso.secrets import digestHA1
from oso.sip.digest import DigestAuthenticator, digestResponse
from oso.sip.message import Request, parseMessage
from oso.sip.registrar import Registrar
from oso.sip.transport import readMessage
from oso.sip.useragent import UserAgent
from oso.store.memory import MemoryStore

REALM = "oso.test"
SOURCE = ("192.0.2.10", 5070)
HA1 = digestHA1("200", REALM, "secret")
_REFUSAL = re.compile(rb"SIP/2\.0 [45][0-9][0-9] [^\r\n]*\r\n")


def _request(method, *extra, body=b""):
    lines = [
        f"{method} sip:200@oso.test SIP/2.0",
        "Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bK-h1;rport",
        "Max-Forwards: 70",
        "From: <sip:200@oso.test>;tag=f1",
        "To: <sip:200@oso.test>",
        "Call-ID: c1@192.0.2.10",
        f"CSeq: 2 {method}",
        *extra,
        f"Content-Length: {len(body)}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


_RESPONSE = digestResponse(HA1, "REGISTER", "sip:200@oso.test", "n1", "auth", "00000001", "c")
_SAMPLES = [
    _request(
        "REGISTER",
        "Contact: <sip:200@192.0.2.10:5070>;expires=60",
        f'Authorization: Digest username="200", realm="{REALM}", nonce="n1", '
        f'uri="sip:200@oso.test", response="{_RESPONSE}", algorithm=MD5, qop=auth, '
        'nc=00000001, cnonce="c"',
    ),
    _request("REGISTER", "Contact: *", "Expires: 0"),
    _request(
        "INVITE",
        "Contact: <sip:200@192.0.2.10:5070>",
        "Content-Type: application/sdp",
        body=b"v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\n"
        b"t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
    ),
    _request("OPTIONS", "Accept: application/sdp"),
    _request("BYE"),
]


def _dropLines(data, drops):
    """
    C{data} without the head lines whose indexes are in C{drops} (the
    Request-Line stays): a field missing altogether.
    """
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    kept = [lines[0]] + [line for i, line in enumerate(lines[1:]) if i not in drops]
    return b"\r\n".join(kept) + b"\r\n\r\n" + body


@settings(max_examples=1000, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.sampled_from(_SAMPLES),
    st.sets(st.integers(0, 9), max_size=3),
    st.lists(st.tuples(st.integers(0, 500), st.integers(0, 4), st.binary(max_size=4)), max_size=3),
)
def test_hostileRequests(data, drops, edits):
    """
    Requests with fields dropped and bytes edited: every one is either
    delivered to the UA core, which handles it without a logged failure,
    or refused with a response that has the refusal's status, or dropped
    with a reason for the log when it names no Via to answer to.
    """
    data = bytearray(_dropLines(data, drops))
    for at, size, replacement in edits:
        data[at : at + size] = replacement
    failures = []

    def observe(event):
        if event.get("log_failure") is not None:
            failures.append(event)

    clock = Clock()
    clock.advance(1_800_000_000)
    sent = []
    ua = UserAgent(
        clock,
        lambda message, destination, transport: sent.append(message.serialise()),
        {"UDP": ("192.0.2.1", 5060)}.get,
        Registrar(clock, MemoryStore()),
        DigestAuthenticator(REALM, b"k" * 32, clock),
        {"200": HA1}.get,
    )
    globalLogPublisher.addObserver(observe)
    try:
        arrival = readMessage(bytes(data), SOURCE, True)
        if arrival.message is not None:
            ua.receive(arrival.message, SOURCE, "UDP")
            clock.advance(64)
    finally:
        globalLogPublisher.removeObserver(observe)
    assert failures == []
    if arrival.message is None:
        assert arrival.problem
    if arrival.reply is not None:
        # The refusal copies what the request had: it may lack a field a
        # well-formed response needs, but its status line reads back.
        written = arrival.reply.serialise()
        assert _REFUSAL.match(written), written
        assert written.endswith(b"\r\nContent-Length: 0\r\n\r\n")
    for written in sent:
        parseMessage(written)
    if isinstance(arrival.message, Request) and arrival.message.method != "ACK":
        assert sent, "a request was neither answered nor refused"
