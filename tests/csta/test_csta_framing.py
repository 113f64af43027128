"""
Tests for L{oso.csta.framing}: the three framings of a CSTA link on TCP and
the detection of which one a link speaks.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oso.csta.framing import (
    DEFAULT_MAX_FRAME,
    EVENT_INVOKE_ID,
    BERFramer,
    Encoding,
    FramingError,
    PrefixedBERFramer,
    XMLFramer,
    berFrameLength,
    detect,
    frameXML,
    framePrefixedBER,
    framerFor,
)

# The smallest AARQ: application context 1.3.12.0.218.200 only.
AARQ = bytes.fromhex("600ba10906072b0c00815a8148")
# ROSE invoke, invoke id 1, opcode 211 (systemStatus), argument
# SystemStatusArg { systemStatus normal }.
INVOKE = bytes.fromhex("a10c020101020200d330030a0102")
XML = b'<?xml version="1.0" encoding="UTF-8"?><SystemStatus/>'


def splitAt(data, cuts):
    """
    Cut C{data} at the given offsets (sorted, deduplicated, in range).
    """
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces = []
    last = 0
    for point in points:
        pieces.append(data[last:point])
        last = point
    pieces.append(data[last:])
    return pieces


def feedAll(framer, pieces):
    frames = []
    for piece in pieces:
        frames.extend(framer.feed(piece))
    return frames


def berTLV(tag, contents):
    """
    A BER TLV with the shortest definite length (X.690 8.1.3).
    """
    n = len(contents)
    if n < 0x80:
        length = bytes([n])
    else:
        octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(octets)]) + octets
    return tag + length + contents


# Detection


@pytest.mark.parametrize(
    "data, encoding",
    [
        (frameXML(1, XML), Encoding.XML),
        (frameXML(EVENT_INVOKE_ID, XML), Encoding.XML),
        (AARQ, Encoding.BER),
        (INVOKE, Encoding.BER),
        (b"\xa2\x03\x02\x01\x01", Encoding.BER),
        (b"\xa3", Encoding.BER),
        (b"\xa4", Encoding.BER),
        (framePrefixedBER(AARQ), Encoding.PREFIXED_BER),
        (framePrefixedBER(INVOKE), Encoding.PREFIXED_BER),
    ],
)
def test_detectEachEncoding(data, encoding):
    """
    Issue 4: 0x0000 then an ASCII digit at offset 4 is XML, 0x60 or
    0xA1-0xA4 first is bare BER, 0x00 then an APDU's first octet at offset 2
    is length-prefixed BER.
    """
    assert detect(data) is encoding


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1\r\n",
        b"\x16\x03\x01\x02\x00",  # a TLS ClientHello on the plain port
        b"<?xml",  # XML without the 8-byte header
        b"\x30\x03\x02\x01\x01",  # a bare SEQUENCE is no APDU
        b"\x62\x00",  # RLRQ cannot open a link
        b"\x00\x00\x00\x20X",  # XML header with a non-digit invoke id
        b"\x00\x05\x30",  # prefixed, but no APDU after the prefix
        b"\xff",
    ],
)
def test_detectGarbage(data):
    """
    Issue 4: anything else is unrecognised, so the link can refuse it.
    """
    assert detect(data) is Encoding.UNRECOGNISED


def test_detectFewestBytes():
    """
    Detection waits only while the bytes so far fit more than one framing,
    and decides as soon as they do not.
    """
    assert detect(b"") is None
    assert detect(b"\x00") is None
    assert detect(b"\x00\x00") is None
    assert detect(b"\x00\x00\x00\x40") is None
    assert detect(b"\x00\x00\x00\x40" + b"0") is Encoding.XML
    assert detect(b"\x00\x0d") is None
    assert detect(b"\x00\x0d\x60") is Encoding.PREFIXED_BER
    assert detect(b"\x60") is Encoding.BER
    assert detect(b"Q") is Encoding.UNRECOGNISED


def test_detectXMLWhoseLengthLooksLikeAnAPDU():
    """
    An XML frame of 0x60xx bytes has 0x60 at offset 2; the second octet 0x00
    (a zero length prefix is no frame) still makes it XML.
    """
    frame = frameXML(12, b" " * (0x6010 - 8))
    assert frame[2] == 0x60
    assert detect(frame[:5]) is Encoding.XML


@settings(max_examples=300)
@given(st.binary(max_size=12))
def test_detectIsStableOnceDecided(data):
    """
    A decision taken on a prefix never changes when more bytes arrive, so a
    link may decide on whatever its first read holds.
    """
    for n in range(len(data) + 1):
        decided = detect(data[:n])
        if decided is not None:
            assert detect(data) is decided
            break


def test_framerFor():
    """
    Each detected encoding has its framer; an unrecognised link has none.
    """
    assert isinstance(framerFor(Encoding.XML), XMLFramer)
    assert isinstance(framerFor(Encoding.BER), BERFramer)
    assert isinstance(framerFor(Encoding.PREFIXED_BER, 100), PrefixedBERFramer)
    assert framerFor(Encoding.BER, 100).maxFrame == 100
    with pytest.raises(FramingError):
        framerFor(Encoding.UNRECOGNISED)


# XML framing


def test_frameXMLHeader():
    """
    The XML header: 0x0000, the total length including the 8-byte header,
    four ASCII digits of invoke id.
    """
    assert frameXML(7, b"<a/>") == b"\x00\x00\x00\x0c0007<a/>"
    assert frameXML(EVENT_INVOKE_ID, b"") == b"\x00\x00\x00\x089999"


@pytest.mark.parametrize("invokeID", [-1, 10000])
def test_frameXMLInvokeIDRange(invokeID):
    """
    The header holds four digits of invoke id, no more.
    """
    with pytest.raises(FramingError):
        frameXML(invokeID, XML)


def test_frameXMLTooLong():
    """
    The 16-bit length field caps a frame at 65535 bytes, header included.
    """
    assert len(frameXML(1, b"x" * (0xFFFF - 8))) == 0xFFFF
    with pytest.raises(FramingError):
        frameXML(1, b"x" * (0xFFFF - 7))


@settings(max_examples=200)
@given(
    st.lists(st.tuples(st.integers(0, 9999), st.binary(max_size=300)), max_size=6),
    st.lists(st.integers(min_value=0), max_size=10),
)
def test_xmlFramerArbitrarySplits(messages, cuts):
    """
    Frames split anywhere across reads, or several in one read, come out
    whole and in order.
    """
    stream = b"".join(frameXML(i, x) for i, x in messages)
    framer = XMLFramer()
    assert feedAll(framer, splitAt(stream, cuts)) == messages
    assert framer.pending == 0


def test_xmlFramerOneByteAtATime():
    """
    A frame fed one byte at a time completes exactly with its last byte.
    """
    frame = frameXML(42, XML)
    framer = XMLFramer()
    for byte in frame[:-1]:
        assert framer.feed(bytes([byte])) == []
    assert framer.feed(frame[-1:]) == [(42, XML)]


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"\x01\x00\x00\x10", "0x0000"),
        (b"\x00\x00\x00\x07", "shorter than its header"),
        (b"\x00\x00\x00\x0a00a1<>", "four ASCII digits"),
        (b"\x00\x00\x00\x0a\xd9\xa1\xd9\xa2<>", "four ASCII digits"),
        (b"\x00\x00\x01\x01", "exceeds the limit of 256"),
    ],
)
def test_xmlFramerRefuses(data, reason):
    """
    A bad header, a length below the header's own or above the limit, and an
    invoke id that is not four ASCII digits are framing errors; the framer
    stays failed because the frame boundaries are lost.
    """
    framer = XMLFramer(maxFrame=256)
    with pytest.raises(FramingError, match=reason):
        framer.feed(data)
    with pytest.raises(FramingError):
        framer.feed(frameXML(1, XML))


def test_xmlFramerLimitIsInclusive():
    """
    A frame exactly at the size limit is accepted.
    """
    frame = frameXML(1, b"x" * 92)
    assert XMLFramer(maxFrame=100).feed(frame) == [(1, b"x" * 92)]


def test_xmlFramerErrorKeepsEarlierFrames():
    """
    Frames completed before a bad header were already handed out by an
    earlier call; the bad header fails the call that brings it.
    """
    framer = XMLFramer()
    assert framer.feed(frameXML(1, XML)) == [(1, XML)]
    with pytest.raises(FramingError):
        framer.feed(b"\x07\x00\x00\x10")


@settings(max_examples=300)
@given(st.binary(max_size=200), st.lists(st.integers(min_value=0), max_size=5))
def test_xmlFramerArbitraryBytes(data, cuts):
    """
    Arbitrary bytes give frames or a L{FramingError}, nothing else.
    """
    framer = XMLFramer(maxFrame=150)
    try:
        for invokeID, xml in feedAll(framer, splitAt(data, cuts)):
            assert 0 <= invokeID <= 9999
    except FramingError:
        pass


# Bare BER framing


@pytest.mark.parametrize(
    "data, length",
    [
        (b"\x60\x00", 2),
        (b"\xa1\x7f", 2 + 0x7F),
        (b"\xa1\x81\x80", 3 + 0x80),
        (b"\xa1\x82\x01\x00", 4 + 0x100),
        (b"\xa1\x82\x00\x05", 4 + 5),  # BER allows a non-minimal long form
        (b"\x7f\x81\x05\x03", 4 + 3),  # high-tag-number form, two octets
        (b"\xbf\x81\x80\x05\x00", 5),
    ],
)
def test_berFrameLength(data, length):
    """
    X.690 8.1.2-8.1.3: identifier octets (low and high tag number form),
    short and long definite length forms.
    """
    assert berFrameLength(data) == length


def test_berFrameLengthAtOffset():
    """
    The TLV may start anywhere in the buffer; the length counts from there.
    """
    assert berFrameLength(b"junk\xa1\x82\x01\x00", 4) == 4 + 0x100


@pytest.mark.parametrize(
    "data",
    [b"\xa1", b"\xa1\x82", b"\xa1\x82\x01", b"\x7f", b"\x7f\x81", b"\x7f\x81\x05"],
)
def test_berFrameLengthIncomplete(data):
    """
    A header cut short is no error: more bytes are awaited.
    """
    assert berFrameLength(data) is None


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"\xa1\x80", "indefinite"),
        (b"\xa1\xff", "reserved"),
        (b"\xa1\x85\x01\x00\x00\x00\x00", "octets exceeds"),
        (b"\xa1\x84\xff\xff\xff\xff", "exceeds the limit"),
        (b"\xa1\x83\x01\x00\x00", "exceeds the limit"),
        (b"\x7f\x81\x81\x81\x01", "longer than 4 octets"),
    ],
)
def test_berFrameLengthRefuses(data, reason):
    """
    X.690 8.1.3.6 indefinite length, the reserved 0xFF, and lengths past the
    frame limit are refused before any content is awaited.
    """
    with pytest.raises(FramingError, match=reason):
        berFrameLength(data)


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(st.sampled_from([0x60, 0x61, 0x62, 0x63, 0x64, 0xA1, 0xA2, 0xA3, 0xA4]), st.binary(max_size=400)),
        max_size=6,
    ),
    st.lists(st.integers(min_value=0), max_size=10),
)
def test_berFramerArbitrarySplits(apdus, cuts):
    """
    Bare APDUs split anywhere across reads, or several in one read, come
    out whole and in order, each delimited by its own length.
    """
    frames = [berTLV(bytes([tag]), contents) for tag, contents in apdus]
    framer = BERFramer()
    assert feedAll(framer, splitAt(b"".join(frames), cuts)) == frames
    assert framer.pending == 0


def test_berFramerRealAPDUs():
    """
    An AARQ and a ROSE invoke back to back in one read are two frames.
    """
    assert BERFramer().feed(AARQ + INVOKE) == [AARQ, INVOKE]


def test_berFramerRefusesIndefiniteLength():
    """
    X.690 8.1.3.6: an APDU in indefinite form cannot be delimited without
    decoding it and is refused.
    """
    framer = BERFramer()
    with pytest.raises(FramingError, match="indefinite"):
        framer.feed(b"\xa1\x80\x02\x01\x01\x00\x00")
    with pytest.raises(FramingError):
        framer.feed(INVOKE)


def test_berFramerRefusesOversized():
    """
    A length over the frame limit is refused on its header, without
    buffering the content.
    """
    framer = BERFramer(maxFrame=DEFAULT_MAX_FRAME)
    with pytest.raises(FramingError, match="exceeds the limit"):
        framer.feed(b"\xa1\x83\x01\x00\x00")


@settings(max_examples=300)
@given(st.binary(max_size=200), st.lists(st.integers(min_value=0), max_size=5))
def test_berFramerArbitraryBytes(data, cuts):
    """
    Arbitrary bytes give frames or a L{FramingError}, nothing else, and every
    frame holds exactly the length its header says.
    """
    framer = BERFramer(maxFrame=150)
    try:
        for frame in feedAll(framer, splitAt(data, cuts)):
            assert berFrameLength(frame, 0, 150) == len(frame)
    except FramingError:
        pass


# Length-prefixed BER framing


def test_framePrefixedBER():
    """
    The prefix is the APDU's length as two big-endian bytes.
    """
    assert framePrefixedBER(AARQ) == b"\x00\x0d" + AARQ
    with pytest.raises(FramingError):
        framePrefixedBER(b"")
    with pytest.raises(FramingError):
        framePrefixedBER(b"\xa1" * 0x10000)


@settings(max_examples=200)
@given(
    st.lists(st.binary(min_size=1, max_size=400), max_size=6),
    st.lists(st.integers(min_value=0), max_size=10),
)
def test_prefixedBERFramerArbitrarySplits(apdus, cuts):
    """
    Prefixed APDUs split anywhere across reads come out whole, in order, and
    without their prefix.
    """
    stream = b"".join(framePrefixedBER(a) for a in apdus)
    framer = PrefixedBERFramer()
    assert feedAll(framer, splitAt(stream, cuts)) == apdus
    assert framer.pending == 0


@pytest.mark.parametrize(
    "data, reason",
    [(b"\x00\x00", "zero"), (b"\x01\x00", "exceeds the limit of 64")],
)
def test_prefixedBERFramerRefuses(data, reason):
    """
    A zero prefix and one past the frame limit are framing errors.
    """
    framer = PrefixedBERFramer(maxFrame=64)
    with pytest.raises(FramingError, match=reason):
        framer.feed(data)


@settings(max_examples=300)
@given(st.binary(max_size=200), st.lists(st.integers(min_value=0), max_size=5))
def test_prefixedBERFramerArbitraryBytes(data, cuts):
    """
    Arbitrary bytes give non-empty frames or a L{FramingError}, nothing else.
    """
    framer = PrefixedBERFramer(maxFrame=150)
    try:
        for frame in feedAll(framer, splitAt(data, cuts)):
            assert 0 < len(frame) <= 148
    except FramingError:
        pass
