"""
Framing of CSTA links on TCP, and detection of a link's encoding.

A CSTA link carries one of three framings, chosen by the client and kept for
the life of the link:

  - ECMA-323 XML behind the 8-byte header CSTA XML clients use: two bytes
    C{0x0000}, the big-endian 16-bit total length including the header, four
    ASCII digits of invoke id (C{9999} for events), then the XML document;
  - bare ECMA-285 BER APDUs (ACSE C{[APPLICATION n]} and ROSE C{[n]}), each
    delimited by its own definite BER length (X.690 8.1.3);
  - the same APDUs behind a 2-byte big-endian length prefix.

Everything here is sans-I/O: a framer takes bytes as they arrive, split
anywhere, and hands back whole frames; L{detect} looks at the first bytes of a
link and says which framing they start.
"""

from enum import Enum

#: The default largest frame, header or prefix included, in bytes.
DEFAULT_MAX_FRAME = 64 * 1024

#: The invoke id of the XML header for unsolicited messages (events).
EVENT_INVOKE_ID = 9999

_XML_HEADER_LENGTH = 8
_XML_MAX_TOTAL = 0xFFFF
_PREFIX_LENGTH = 2
_PREFIX_MAX = 0xFFFF

# A BER identifier in high-tag-number form (X.690 8.1.2.4) longer than this
# names no APDU anyone sends; refusing it bounds the look-ahead.
_MAX_TAG_OCTETS = 4
# X.690 8.1.3.5: long-form lengths with more octets than this exceed any frame
# limit we accept.
_MAX_LENGTH_OCTETS = 4

# ACSE AARQ ([APPLICATION 0], constructed) and the ROSE invoke, returnResult,
# returnError and reject ([1]..[4], constructed): what a CSTA link starts with.
_BER_FIRST_OCTETS = frozenset({0x60, 0xA1, 0xA2, 0xA3, 0xA4})


class FramingError(Exception):
    """
    The bytes of a link cannot be split into frames (bad header, indefinite
    or absurd length, frame over the size limit), or a frame to send cannot
    be framed. A link that meets one is beyond repair and is closed.
    """


class Encoding(Enum):
    """
    What the first bytes of a link are.
    """

    XML = "xml"
    BER = "ber"
    PREFIXED_BER = "prefixed-ber"
    UNRECOGNISED = "unrecognised"


def detect(data):
    """
    Decide a link's framing from its first bytes, with as few as needed.

    A first octet C{0x60} (AARQ) or C{0xA1}-C{0xA4} (ROSE) is bare BER. A
    first octet C{0x00} is either the XML header, whose second octet is
    C{0x00} too and whose fifth is an ASCII digit, or a length prefix, which
    cannot be zero and is followed by an APDU's first octet. Anything else is
    L{Encoding.UNRECOGNISED}.

    @param data: the bytes received so far on the link.
    @type data: L{bytes}
    @return: an L{Encoding}, or L{None} when more bytes are needed.
    """
    if not data:
        return None
    first = data[0]
    if first in _BER_FIRST_OCTETS:
        return Encoding.BER
    if first != 0x00:
        return Encoding.UNRECOGNISED
    if len(data) < 2:
        return None
    if data[1] == 0x00:
        # A zero length prefix is no frame, so 0x0000 can only be XML.
        if len(data) < 5:
            return None
        return Encoding.XML if 0x30 <= data[4] <= 0x39 else Encoding.UNRECOGNISED
    if len(data) < 3:
        return None
    if data[2] in _BER_FIRST_OCTETS:
        return Encoding.PREFIXED_BER
    return Encoding.UNRECOGNISED


def frameXML(invokeID, xml):
    """
    Put the 8-byte CSTA XML header in front of an XML document.

    @param invokeID: the invoke id, 0 to 9999 (L{EVENT_INVOKE_ID} for events).
    @type invokeID: L{int}
    @param xml: the encoded XML document.
    @type xml: L{bytes}
    @return: the frame.
    @rtype: L{bytes}
    @raise FramingError: if the invoke id has more than four digits or the
        frame would exceed the 16-bit length field.
    """
    if not 0 <= invokeID <= 9999:
        raise FramingError(f"XML invoke id {invokeID} is not four digits")
    total = _XML_HEADER_LENGTH + len(xml)
    if total > _XML_MAX_TOTAL:
        raise FramingError(f"XML frame of {total} bytes exceeds 65535")
    return b"\x00\x00" + total.to_bytes(2, "big") + b"%04d" % invokeID + xml


def framePrefixedBER(apdu):
    """
    Put the 2-byte big-endian length prefix in front of a BER APDU.

    @param apdu: the encoded APDU.
    @type apdu: L{bytes}
    @return: the frame.
    @rtype: L{bytes}
    @raise FramingError: if the APDU is empty or longer than 65535 bytes.
    """
    if not 0 < len(apdu) <= _PREFIX_MAX:
        raise FramingError(f"BER APDU of {len(apdu)} bytes cannot be prefixed")
    return len(apdu).to_bytes(2, "big") + apdu


def berFrameLength(data, start=0, maxFrame=DEFAULT_MAX_FRAME):
    """
    Read the identifier and definite length of the BER encoding at C{start}.

    @param data: bytes holding a BER identifier octet at C{start}.
    @param start: where the encoding starts in C{data}.
    @param maxFrame: the largest whole TLV accepted, in bytes.
    @return: the length of the whole TLV (identifier, length and contents
        octets), or L{None} when C{data} ends before the length does.
    @raise FramingError: for an indefinite, reserved or too large length, or an
        identifier longer than four octets.
    """
    end = len(data)
    offset = start + 1
    if data[start] & 0x1F == 0x1F:
        # X.690 8.1.2.4.2: subsequent identifier octets have bit 8 set but
        # the last.
        while True:
            if offset >= end:
                return None
            octet = data[offset]
            offset += 1
            if not octet & 0x80:
                break
            if offset - start >= _MAX_TAG_OCTETS:
                raise FramingError("BER identifier longer than 4 octets")
    if offset >= end:
        return None
    first = data[offset]
    offset += 1
    if first < 0x80:
        length = first
    elif first == 0x80:
        raise FramingError("indefinite BER length (X.690 8.1.3.6) refused")
    elif first == 0xFF:
        raise FramingError("reserved BER length octet 0xFF (X.690 8.1.3.5)")
    else:
        count = first & 0x7F
        if count > _MAX_LENGTH_OCTETS:
            raise FramingError(f"BER length of {count} octets exceeds the frame limit")
        if offset + count > end:
            return None
        length = int.from_bytes(data[offset : offset + count], "big")
        offset += count
    total = offset - start + length
    if total > maxFrame:
        raise FramingError(f"BER frame of {total} bytes exceeds the limit of {maxFrame}")
    return total


class _Framer:
    """
    The buffering common to the framers: bytes in, whole frames out.

    A subclass says how long the frame starting at an offset of the buffer
    is (C{_frameLength(buffer, start)}, L{None} while its header is
    incomplete) and what to hand back for a whole frame (C{_frame(bytes)}).

    @ivar maxFrame: the largest frame accepted, in bytes.
    """

    def __init__(self, maxFrame=DEFAULT_MAX_FRAME):
        """
        @param maxFrame: the largest frame accepted, header or prefix
            included, in bytes.
        """
        self.maxFrame = maxFrame
        self._buffer = bytearray()
        self._failure = None

    def feed(self, data):
        """
        Take more bytes of the link.

        @param data: bytes as they arrived, split anywhere.
        @type data: L{bytes}
        @return: the frames completed by these bytes, in order.
        @rtype: L{list}
        @raise FramingError: if the bytes cannot be framed; every later call
            raises it again, since the link has lost its frame boundaries.
        """
        if self._failure is not None:
            raise self._failure
        buffer = self._buffer
        buffer += data
        frames = []
        start = 0
        try:
            while start < len(buffer):
                length = self._frameLength(buffer, start)
                if length is None or start + length > len(buffer):
                    break
                frames.append(self._frame(bytes(buffer[start : start + length])))
                start += length
        except FramingError as e:
            self._failure = e
            raise
        finally:
            del buffer[:start]
        return frames

    @property
    def pending(self):
        """
        The number of bytes received that belong to no whole frame yet.
        """
        return len(self._buffer)


class XMLFramer(_Framer):
    """
    Splits a link's bytes into CSTA XML frames: C{(invokeID, xmlBytes)}.
    """

    def _frameLength(self, data, start):
        if len(data) - start < 4:
            return None
        if data[start] != 0 or data[start + 1] != 0:
            raise FramingError("XML frame header does not start with 0x0000")
        total = (data[start + 2] << 8) | data[start + 3]
        if total < _XML_HEADER_LENGTH:
            raise FramingError(f"XML frame length {total} is shorter than its header")
        if total > self.maxFrame:
            raise FramingError(f"XML frame of {total} bytes exceeds the limit of {self.maxFrame}")
        return total

    def _frame(self, frame):
        invokeID = frame[4:8]
        if not (invokeID.isdigit() and invokeID.isascii()):
            raise FramingError(f"XML frame invoke id {invokeID!r} is not four ASCII digits")
        return int(invokeID), frame[_XML_HEADER_LENGTH:]


class BERFramer(_Framer):
    """
    Splits a link's bytes into bare BER APDUs, each delimited by its own
    definite length; each frame is the whole APDU.
    """

    def _frameLength(self, data, start):
        return berFrameLength(data, start, self.maxFrame)

    def _frame(self, frame):
        return frame


class PrefixedBERFramer(_Framer):
    """
    Splits a link's bytes into BER APDUs that each follow a 2-byte big-endian
    length prefix; each frame is the APDU without its prefix.
    """

    def _frameLength(self, data, start):
        if len(data) - start < _PREFIX_LENGTH:
            return None
        length = (data[start] << 8) | data[start + 1]
        if length == 0:
            raise FramingError("BER length prefix of zero")
        total = _PREFIX_LENGTH + length
        if total > self.maxFrame:
            raise FramingError(f"BER frame of {total} bytes exceeds the limit of {self.maxFrame}")
        return total

    def _frame(self, frame):
        return frame[_PREFIX_LENGTH:]


def framerFor(encoding, maxFrame=DEFAULT_MAX_FRAME):
    """
    Make the framer for a detected encoding.

    @param encoding: L{Encoding.XML}, L{Encoding.BER} or
        L{Encoding.PREFIXED_BER}.
    @param maxFrame: the largest frame accepted, in bytes.
    @return: a new framer.
    @raise FramingError: for L{Encoding.UNRECOGNISED}.
    """
    framers = {
        Encoding.XML: XMLFramer,
        Encoding.BER: BERFramer,
        Encoding.PREFIXED_BER: PrefixedBERFramer,
    }
    if encoding not in framers:
        raise FramingError("the link's first bytes are no CSTA encoding")
    return framers[encoding](maxFrame)
