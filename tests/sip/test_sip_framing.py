"""
Cutting a TCP or TLS byte stream into SIP messages by Content-Length
(RFC 3261 18.3), with the CRLF keep-alives of RFC 5626 3.5.1.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oso.sip import PING, PONG, SIPParseError, StreamFramer, parseMessage


def message(body=b"", method="OPTIONS", length=None, lengthName="Content-Length"):
    """
    A request with C{body}; its Content-Length says C{length} (by default
    the body's length), under the name C{lengthName}.
    """
    return (
        f"{method} sip:bob@biloxi.com SIP/2.0\r\n"
        "Via: SIP/2.0/TCP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n"
        "To: <sip:bob@biloxi.com>\r\n"
        "From: <sip:alice@atlanta.com>;tag=1928301774\r\n"
        "Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n"
        f"CSeq: 1 {method}\r\n"
        f"{lengthName}: {len(body) if length is None else length}\r\n"
        "\r\n"
    ).encode() + body


def test_wholeMessages():
    """
    RFC 3261 18.3: each message ends where its Content-Length says, even
    when its body holds an empty line.
    """
    first = message(b"v=0\r\n\r\nbody")
    second = message(method="BYE")
    assert StreamFramer().feed(first + second) == [first, second]


def test_pieces():
    """
    A message that arrives in pieces comes out once it is complete,
    header and body cut anywhere.
    """
    data = message(b"0123456789")
    framer = StreamFramer()
    out = [framer.feed(data[i : i + 1]) for i in range(len(data))]
    assert out[:-1] == [[]] * (len(data) - 1)
    assert out[-1] == [data]


def test_compactLength():
    """
    RFC 3261 7.3.3: the compact C{l} counts as Content-Length, in any
    case and with space before the colon.
    """
    data = message(b"abc", lengthName="l ")
    assert StreamFramer().feed(data + data) == [data, data]
    data = message(b"abc", lengthName="CONTENT-length")
    assert StreamFramer().feed(data) == [data]


def test_keepAlives():
    """
    RFC 5626 3.5.1: between messages, a double CRLF is a ping and a single
    CRLF a pong; neither is taken for a message.
    """
    data = message()
    framer = StreamFramer()
    assert framer.feed(PING + data + PONG + data + PING + PING) == [
        PING,
        data,
        PONG,
        data,
        PING,
        PING,
    ]


def test_keepAliveSplit():
    """
    A ping whose second CRLF is still to come, or a CR without its LF, is
    held until the rest arrives; a lone CRLF at the end is a pong at once.
    """
    framer = StreamFramer()
    assert framer.feed(b"\r\n\r") == []
    assert framer.feed(b"\n") == [PING]
    assert framer.feed(b"\r") == []
    assert framer.feed(b"\n") == [PONG]


def test_strayCR():
    """
    A CR between messages that does not start a CRLF leaves the stream
    uncuttable.
    """
    with pytest.raises(SIPParseError):
        StreamFramer().feed(b"\rOPTIONS")


def test_missingLength():
    """
    RFC 3261 18.3: a message without Content-Length is cut at the end of
    its header, and the parser then refuses it.
    """
    data = message().replace(b"Content-Length: 0\r\n", b"")
    [cut] = StreamFramer().feed(data + b"rest")
    assert cut == data
    with pytest.raises(SIPParseError) as info:
        parseMessage(cut, datagram=False)
    assert info.value.reason == "Missing Content-Length"


@pytest.mark.parametrize(
    "data",
    [
        message(length="-1"),
        message(length="twelve"),
        message(length="99999999999"),
        message(b"abc").replace(b"\r\n\r\n", b"\r\nl: 4\r\n\r\n"),
        message().replace(b"Content-Length: 0", b"Content-Length:\r\n 0"),
    ],
)
def test_badLength(data):
    """
    RFC 3261 18.3: a Content-Length that is not a number of octets, or two
    that differ, leave the stream uncuttable.
    """
    with pytest.raises(SIPParseError) as info:
        StreamFramer().feed(data)
    assert info.value.reason == "Bad Content-Length"


def test_sameLengthTwice():
    """
    Two equal Content-Lengths still cut the stream; the parser refuses
    the message.
    """
    data = message(b"abc").replace(b"\r\n\r\n", b"\r\nl: 3\r\n\r\n")
    [cut] = StreamFramer().feed(data)
    with pytest.raises(SIPParseError):
        parseMessage(cut, datagram=False)


def test_tooLarge():
    """
    A message whose header or announced length passes the limit is
    refused (513) before it is buffered.
    """
    with pytest.raises(SIPParseError) as info:
        StreamFramer(maxMessageSize=1000).feed(message(length=5000))
    assert (info.value.statusCode, info.value.reason) == (513, "Message Too Large")
    framer = StreamFramer(maxMessageSize=1000)
    with pytest.raises(SIPParseError):
        for _ in range(20):
            framer.feed(b"X-Header: " + b"x" * 90 + b"\r\n")


_STREAMS = st.lists(
    st.one_of(
        st.binary(max_size=40).map(message),
        st.binary(max_size=40).map(lambda body: message(body, "INVITE", lengthName="l")),
        st.just(PING),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=200)
@given(_STREAMS, st.lists(st.integers(0, 400), max_size=8))
def test_anySplit(items, cuts):
    """
    RFC 3261 18.3: however a stream of several messages and pings is cut
    into pieces, the same messages come out, in order, and each parses.
    """
    data = b"".join(items)
    bounds = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    framer = StreamFramer()
    out = []
    for start, end in zip(bounds, bounds[1:]):
        out += framer.feed(data[start:end])
    messages = [item for item in items if item != PING]
    assert [item for item in out if item not in (PING, PONG)] == messages
    for item in messages:
        parseMessage(item, datagram=False)


@settings(max_examples=300)
@given(st.lists(st.binary(max_size=80), max_size=5))
def test_arbitraryBytes(pieces):
    """
    Arbitrary bytes give messages, keep-alives or a L{SIPParseError},
    nothing else.
    """
    framer = StreamFramer(maxMessageSize=200)
    try:
        for piece in pieces:
            for item in framer.feed(piece):
                assert isinstance(item, bytes)
    except SIPParseError:
        pass
