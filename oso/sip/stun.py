"""
STUN binding requests, sans-I/O: the message codec of RFC 3489 (classic
STUN) that also reads RFC 5389 messages, and the client transaction with the
RFC 3489 9.3 retransmission schedule on an injected clock.

A trunk behind NAT asks a STUN server which public address and port its
SIP socket has, and writes that into Via, Contact and SDP toward the
provider. An RFC 3489 server answers with MAPPED-ADDRESS (and
SOURCE-ADDRESS, CHANGED-ADDRESS); an RFC 5389 server, seeing the magic
cookie in the request's transaction id, answers with XOR-MAPPED-ADDRESS
(the address XORed with the cookie and transaction id, so NATs that rewrite
addresses in payloads leave it alone) and often FINGERPRINT. Requests made
here carry the magic cookie, so both kinds of server answer them, and the
response is read either way.

Every message read is checked whole: a short or inconsistent datagram
raises L{StunError} naming the fault, never anything else.
"""

import ipaddress
import os
import struct
import zlib
from dataclasses import dataclass, field

from twisted.internet.defer import Deferred

#: RFC 5389 6: the first four octets of an RFC 5389 transaction id.
MAGIC_COOKIE = b"\x21\x12\xa4\x42"

# Message types (RFC 3489 11.1; RFC 5389 6 keeps the binding ones).
BINDING_REQUEST = 0x0001
BINDING_RESPONSE = 0x0101
BINDING_ERROR_RESPONSE = 0x0111

# Attribute types (RFC 3489 11.2, RFC 5389 18.2, RFC 5780 7).
MAPPED_ADDRESS = 0x0001
RESPONSE_ADDRESS = 0x0002
CHANGE_REQUEST = 0x0003
SOURCE_ADDRESS = 0x0004
CHANGED_ADDRESS = 0x0005
USERNAME = 0x0006
PASSWORD = 0x0007
MESSAGE_INTEGRITY = 0x0008
ERROR_CODE = 0x0009
UNKNOWN_ATTRIBUTES = 0x000A
REFLECTED_FROM = 0x000B
XOR_MAPPED_ADDRESS = 0x0020
#: The XOR-MAPPED-ADDRESS of the drafts before RFC 5389, still sent by some.
XOR_MAPPED_ADDRESS_OLD = 0x8020
SOFTWARE = 0x8022
FINGERPRINT = 0x8028
RESPONSE_ORIGIN = 0x802B
OTHER_ADDRESS = 0x802C

_ADDRESS_TYPES = frozenset(
    (MAPPED_ADDRESS, RESPONSE_ADDRESS, SOURCE_ADDRESS, CHANGED_ADDRESS, REFLECTED_FROM, RESPONSE_ORIGIN, OTHER_ADDRESS)
)
_XOR_ADDRESS_TYPES = frozenset((XOR_MAPPED_ADDRESS, XOR_MAPPED_ADDRESS_OLD))
_TEXT_TYPES = frozenset((USERNAME, PASSWORD, SOFTWARE))

_HEADER = struct.Struct("!HH16s")
_FINGERPRINT_XOR = 0x5354554E

#: RFC 3489 9.3: the first retransmission after 100 ms, the interval
#: doubling to 1.6 s; nine requests in all; failure 1.6 s after the last.
RETRANSMISSION_INTERVALS = (0.1, 0.2, 0.4, 0.8, 1.6, 1.6, 1.6, 1.6)
FINAL_WAIT = 1.6


class StunError(ValueError):
    """
    A datagram that is not a well-formed STUN message.
    """


@dataclass(frozen=True, slots=True)
class Address:
    """
    A transport address in an address attribute.

    @ivar host: the IP address as text (IPv4 or IPv6).
    @ivar port: the port.
    """

    host: str
    port: int


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """
    ERROR-CODE (RFC 3489 11.2.9): a code from 300 to 699 and its reason.
    """

    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class Attribute:
    """
    One attribute: its type and its value, typed for the types known here
    (L{Address}, L{ErrorCode}, a tuple of types for UNKNOWN-ATTRIBUTES, an
    C{int} for CHANGE-REQUEST, text for USERNAME, PASSWORD and SOFTWARE),
    the raw octets for any other.
    """

    type: int
    value: object


@dataclass(frozen=True, slots=True)
class Message:
    """
    A STUN message.

    @ivar messageType: e.g. L{BINDING_REQUEST}.
    @ivar transactionID: the 16 octets after type and length; for RFC 5389
        they begin with L{MAGIC_COOKIE}.
    @ivar attributes: the attributes in order, FINGERPRINT left out.
    @ivar fingerprint: whether the message ends (or is to end) with a
        FINGERPRINT attribute (RFC 5389 15.5), checked when read.
    """

    messageType: int
    transactionID: bytes
    attributes: tuple = ()
    fingerprint: bool = False

    @property
    def isRFC5389(self):
        """
        Whether the transaction id starts with the magic cookie.
        """
        return self.transactionID[:4] == MAGIC_COOKIE

    def get(self, attributeType):
        """
        The value of the first attribute of C{attributeType}, or C{None}.
        """
        for attribute in self.attributes:
            if attribute.type == attributeType:
                return attribute.value
        return None

    def mappedAddress(self):
        """
        The reflexive address: XOR-MAPPED-ADDRESS when present (RFC 5389),
        else MAPPED-ADDRESS (RFC 3489); C{None} without either.
        """
        for attributeType in (XOR_MAPPED_ADDRESS, XOR_MAPPED_ADDRESS_OLD, MAPPED_ADDRESS):
            value = self.get(attributeType)
            if value is not None:
                return value
        return None


def newTransactionID(randomBytes=os.urandom):
    """
    A fresh transaction id with the magic cookie (RFC 5389 6), which an
    RFC 3489 server treats as 16 random octets.
    """
    return MAGIC_COOKIE + randomBytes(12)


def bindingRequest(transactionID):
    """
    A Binding Request with no attributes (RFC 3489 9.1 without
    CHANGE-REQUEST or RESPONSE-ADDRESS).
    """
    return Message(BINDING_REQUEST, transactionID)


def looksLikeSTUN(data):
    """
    Whether a datagram on a shared socket is STUN rather than SIP: the two
    top bits of the first octet are zero (RFC 5389 6, RFC 7983; a SIP
    message begins with a letter or a CRLF keep-alive), it holds a whole
    header and its length field counts the rest.
    """
    if len(data) < 20 or data[0] & 0xC0:
        return False
    return struct.unpack_from("!H", data, 2)[0] == len(data) - 20


def _xorKey(transactionID):
    return MAGIC_COOKIE + transactionID[4:]


def _decodeAddress(value, name):
    # The first octet is reserved and ignored (RFC 5389 15.1).
    if len(value) < 4:
        raise StunError(f"{name} is too short")
    family, port = struct.unpack_from("!BH", value, 1)
    if family == 1 and len(value) == 8:
        return Address(str(ipaddress.IPv4Address(value[4:8])), port)
    if family == 2 and len(value) == 20:
        return Address(str(ipaddress.IPv6Address(value[4:20])), port)
    raise StunError(f"{name} has family {family} with {len(value) - 4} octets of address")


def _encodeAddress(address):
    ip = ipaddress.ip_address(address.host)
    family = 1 if ip.version == 4 else 2
    return struct.pack("!BBH", 0, family, address.port) + ip.packed


def _xorAddress(value, transactionID):
    """
    XOR the port and address of an encoded address with the cookie and
    transaction id (RFC 5389 15.2); the same both ways.
    """
    key = _xorKey(transactionID)
    head = value[:2]
    port = bytes(a ^ b for a, b in zip(value[2:4], key[:2]))
    address = bytes(a ^ b for a, b in zip(value[4:], key))
    return head + port + address


def _decodeValue(attributeType, value, transactionID):
    name = f"attribute 0x{attributeType:04x}"
    if attributeType in _ADDRESS_TYPES:
        return _decodeAddress(value, name)
    if attributeType in _XOR_ADDRESS_TYPES:
        return _decodeAddress(_xorAddress(value, transactionID), name)
    if attributeType == ERROR_CODE:
        if len(value) < 4:
            raise StunError("ERROR-CODE is too short")
        errorClass, number = value[2] & 0x07, value[3]
        if not 3 <= errorClass <= 6 or number > 99:
            raise StunError(f"ERROR-CODE class {errorClass} number {number}")
        return ErrorCode(errorClass * 100 + number, value[4:].decode("utf-8", "replace"))
    if attributeType == UNKNOWN_ATTRIBUTES:
        if len(value) % 2:
            raise StunError("UNKNOWN-ATTRIBUTES has an odd length")
        return tuple(struct.unpack(f"!{len(value) // 2}H", value))
    if attributeType == CHANGE_REQUEST:
        if len(value) != 4:
            raise StunError("CHANGE-REQUEST is not 4 octets")
        return struct.unpack("!I", value)[0]
    if attributeType in _TEXT_TYPES:
        return value.decode("utf-8", "replace")
    return value


def _encodeValue(attribute, transactionID):
    attributeType, value = attribute.type, attribute.value
    if attributeType in _ADDRESS_TYPES:
        return _encodeAddress(value)
    if attributeType in _XOR_ADDRESS_TYPES:
        return _xorAddress(_encodeAddress(value), transactionID)
    if attributeType == ERROR_CODE:
        return struct.pack("!HBB", 0, value.code // 100, value.code % 100) + value.reason.encode("utf-8")
    if attributeType == UNKNOWN_ATTRIBUTES:
        return struct.pack(f"!{len(value)}H", *value)
    if attributeType == CHANGE_REQUEST:
        return struct.pack("!I", value)
    if attributeType in _TEXT_TYPES:
        return value.encode("utf-8")
    return bytes(value)


def _crc(data):
    return (zlib.crc32(data) ^ _FINGERPRINT_XOR) & 0xFFFFFFFF


def decode(data):
    """
    Read one STUN message from a datagram.

    @param data: the datagram's octets.
    @return: a L{Message}.
    @raise StunError: when it is truncated or malformed (naming what).
    """
    if len(data) < 20:
        raise StunError(f"{len(data)} octets is shorter than the 20-octet header")
    messageType, length, transactionID = _HEADER.unpack_from(data)
    if messageType & 0xC000:
        raise StunError("the two top bits of the message type are not zero")
    if length != len(data) - 20:
        raise StunError(f"the length field says {length} octets, {len(data) - 20} follow the header")
    attributes = []
    fingerprint = False
    pos = 20
    while pos < len(data):
        if fingerprint:
            raise StunError("an attribute follows FINGERPRINT")
        if len(data) - pos < 4:
            raise StunError(f"a truncated attribute header at octet {pos}")
        attributeType, attributeLength = struct.unpack_from("!HH", data, pos)
        start = pos + 4
        end = start + attributeLength
        if end > len(data):
            raise StunError(f"attribute 0x{attributeType:04x} runs past the end of the message")
        value = data[start:end]
        pos = end + (-attributeLength % 4)
        if pos > len(data):
            raise StunError(f"attribute 0x{attributeType:04x} lacks its padding")
        if attributeType == FINGERPRINT:
            if attributeLength != 4:
                raise StunError("FINGERPRINT is not 4 octets")
            if struct.unpack("!I", value)[0] != _crc(data[: start - 4]):
                raise StunError("FINGERPRINT does not match the message")
            fingerprint = True
            continue
        attributes.append(Attribute(attributeType, _decodeValue(attributeType, value, transactionID)))
    return Message(messageType, transactionID, tuple(attributes), fingerprint)


def encode(message):
    """
    Write a L{Message}: attributes padded to four octets, then FINGERPRINT
    when the message asks for one.

    @return: the datagram's octets.
    """
    transactionID = message.transactionID
    if len(transactionID) != 16:
        raise ValueError("a transaction id is 16 octets")
    body = bytearray()
    for attribute in message.attributes:
        value = _encodeValue(attribute, transactionID)
        body += struct.pack("!HH", attribute.type, len(value)) + value + bytes(-len(value) % 4)
    if not message.fingerprint:
        return _HEADER.pack(message.messageType, len(body), transactionID) + bytes(body)
    head = _HEADER.pack(message.messageType, len(body) + 8, transactionID) + bytes(body)
    return head + struct.pack("!HHI", FINGERPRINT, 4, _crc(head))


class StunTimeout(Exception):
    """
    No response to a binding request after the whole RFC 3489 9.3
    schedule.
    """


class StunErrorResponse(Exception):
    """
    The server answered with a Binding Error Response.

    @ivar error: its L{ErrorCode} (or C{None} when it had none).
    @ivar unknown: the types of its UNKNOWN-ATTRIBUTES (a 420), or C{()}.
    """

    def __init__(self, error, unknown):
        super().__init__(error)
        self.error = error
        self.unknown = unknown


@dataclass(frozen=True, slots=True)
class BindingResult:
    """
    What a Binding Response said.

    @ivar mapped: the reflexive L{Address} (XOR-MAPPED or MAPPED).
    @ivar source: SOURCE-ADDRESS or RESPONSE-ORIGIN, or C{None}.
    @ivar changed: CHANGED-ADDRESS or OTHER-ADDRESS, or C{None}.
    @ivar response: the whole L{Message}.
    """

    mapped: Address
    source: Address | None
    changed: Address | None
    response: Message = field(repr=False)


class BindingTransaction:
    """
    One binding request from the client's side (RFC 3489 9.3): sends it,
    retransmits it at 0.1, 0.3, 0.7, 1.5, 3.1, 4.7, 6.3 and 7.9 s and gives
    up at 9.5 s; the first matching response ends it.

    @ivar transactionID: the request's transaction id.
    @ivar done: a L{Deferred} firing with a L{BindingResult}, or failing
        with L{StunTimeout}, L{StunErrorResponse} or L{StunError} (a
        success response without a mapped address).
    """

    def __init__(self, clock, transmit, transactionID=None):
        """
        @param clock: an L{IReactorTime}.
        @param transmit: called with the request's octets, for each send.
        @param transactionID: by default a fresh one
            (L{newTransactionID}).
        """
        self._clock = clock
        self._transmit = transmit
        self.transactionID = newTransactionID() if transactionID is None else transactionID
        self._request = encode(bindingRequest(self.transactionID))
        self._timer = None
        self._sent = 0
        self.done = Deferred()

    def start(self):
        """
        Send the request and start the schedule.
        """
        self._send()

    def _send(self):
        self._transmit(self._request)
        if self._sent < len(RETRANSMISSION_INTERVALS):
            delay = RETRANSMISSION_INTERVALS[self._sent]
            self._sent += 1
            self._timer = self._clock.callLater(delay, self._send)
        else:
            self._timer = self._clock.callLater(FINAL_WAIT, self._timeout)

    def _timeout(self):
        self._timer = None
        self.done.errback(StunTimeout(f"no STUN response after {1 + len(RETRANSMISSION_INTERVALS)} requests"))

    def cancel(self):
        """
        Stop retransmitting; C{done} is cancelled if still pending.
        """
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
            self._timer = None
            self.done.cancel()

    def receive(self, message):
        """
        Offer a response.

        @return: whether it was this transaction's (and so ended it).
        """
        if self._timer is None or message.transactionID != self.transactionID:
            return False
        if message.messageType not in (BINDING_RESPONSE, BINDING_ERROR_RESPONSE):
            return False
        self._timer.cancel()
        self._timer = None
        if message.messageType == BINDING_ERROR_RESPONSE:
            self.done.errback(StunErrorResponse(message.get(ERROR_CODE), message.get(UNKNOWN_ATTRIBUTES) or ()))
            return True
        mapped = message.mappedAddress()
        if mapped is None:
            self.done.errback(StunError("a Binding Response without a mapped address"))
            return True
        source = message.get(SOURCE_ADDRESS) or message.get(RESPONSE_ORIGIN)
        changed = message.get(CHANGED_ADDRESS) or message.get(OTHER_ADDRESS)
        self.done.callback(BindingResult(mapped, source, changed, message))
        return True
