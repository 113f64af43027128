"""
Tests for L{oso.sip.stun} (the STUN codec and binding transaction) and the
demultiplexing of L{oso.sip.stunclient}, without a network.
"""

import ipaddress
import struct
import zlib

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from oso.sip.stun import (
    BINDING_ERROR_RESPONSE,
    BINDING_REQUEST,
    BINDING_RESPONSE,
    CHANGE_REQUEST,
    CHANGED_ADDRESS,
    ERROR_CODE,
    MAGIC_COOKIE,
    MAPPED_ADDRESS,
    SOFTWARE,
    SOURCE_ADDRESS,
    UNKNOWN_ATTRIBUTES,
    XOR_MAPPED_ADDRESS,
    Address,
    Attribute,
    ErrorCode,
    Message,
    StunError,
    StunErrorResponse,
    StunTimeout,
    BindingTransaction,
    decode,
    encode,
    looksLikeSTUN,
    newTransactionID,
)
from oso.sip.stunclient import StunClient, StunDemultiplexer

# A Binding Response coturn 4.6.1 sent here to an RFC 3489 request
# (no cookie): MAPPED-ADDRESS, SOURCE-ADDRESS, CHANGED-ADDRESS, SOFTWARE.
COTURN_CLASSIC = bytes.fromhex(
    "01010040b3fba594f5c05abcbde30d168269256d"
    "00010008000183d07f000001"
    "00040008000187dc7f000001"
    "00050008000187dd7f000002"
    "80220018436f7475726e2d342e362e312027476f7273742700000000"
)
# ... and to an RFC 5389 request: XOR-MAPPED-ADDRESS, MAPPED-ADDRESS,
# RESPONSE-ORIGIN, OTHER-ADDRESS, SOFTWARE, FINGERPRINT.
COTURN_5389 = bytes.fromhex(
    "010100502112a442b3fba594f5c05abcbde30d16"
    "002000080001a2c25e12a443"
    "00010008000183d07f000001"
    "802b0008000187dc7f000001"
    "802c0008000187dd7f000002"
    "80220014436f7475726e2d342e362e312027476f72737427"
    "802800044f2a0936"
)

# RFC 5769 2.2: a sample IPv4 response (XOR-MAPPED-ADDRESS 192.0.2.1:32853,
# SOFTWARE "test vector" padded with a space, MESSAGE-INTEGRITY, FINGERPRINT).
RFC5769_RESPONSE = bytes.fromhex(
    "0101003c2112a442b7e7a701bc34d686fa87dfae"
    "8022000b7465737420766563746f7220"
    "002000080001a147e112a643"
    "000800142b91f599fd9e90c38c7489f92af9ba53f06be7d7"
    "80280004c07d4c96"
)


class DecodeTests(SynchronousTestCase):
    def test_coturnClassic(self):
        """
        An RFC 3489 response: the mapped, source and changed addresses.
        """
        message = decode(COTURN_CLASSIC)
        self.assertEqual(message.messageType, BINDING_RESPONSE)
        self.assertFalse(message.isRFC5389)
        self.assertFalse(message.fingerprint)
        self.assertEqual(message.mappedAddress(), Address("127.0.0.1", 33744))
        self.assertEqual(message.get(SOURCE_ADDRESS), Address("127.0.0.1", 34780))
        self.assertEqual(message.get(CHANGED_ADDRESS), Address("127.0.0.2", 34781))
        self.assertEqual(message.get(SOFTWARE), "Coturn-4.6.1 'Gorst'\x00\x00\x00\x00")

    def test_coturn5389(self):
        """
        An RFC 5389 response: XOR-MAPPED-ADDRESS is read (and agrees with
        MAPPED-ADDRESS), FINGERPRINT checked.
        """
        message = decode(COTURN_5389)
        self.assertTrue(message.isRFC5389)
        self.assertTrue(message.fingerprint)
        self.assertEqual(message.get(XOR_MAPPED_ADDRESS), Address("127.0.0.1", 33744))
        self.assertEqual(message.mappedAddress(), message.get(MAPPED_ADDRESS))
        self.assertEqual(encode(message), COTURN_5389)

    def test_rfc5769(self):
        """
        The RFC 5769 sample response.
        """
        message = decode(RFC5769_RESPONSE)
        self.assertEqual(message.mappedAddress(), Address("192.0.2.1", 32853))
        self.assertEqual(message.get(SOFTWARE), "test vector")
        self.assertTrue(message.fingerprint)
        # Written again with zero padding: the same but for that octet.
        again = encode(message)
        self.assertEqual(again[:35] + again[36:-4], RFC5769_RESPONSE[:35] + RFC5769_RESPONSE[36:-4])

    def test_badFingerprint(self):
        data = bytearray(COTURN_5389)
        data[-1] ^= 1
        self.assertRaises(StunError, decode, bytes(data))

    def test_afterFingerprint(self):
        """
        An attribute after FINGERPRINT is refused.
        """
        data = COTURN_5389 + bytes.fromhex("80220000")
        data = data[:2] + struct.pack("!H", len(data) - 20) + data[4:]
        self.assertRaises(StunError, decode, data)

    def test_truncated(self):
        """
        Every prefix of a valid message is refused (length mismatch or
        short header).
        """
        for end in range(len(COTURN_CLASSIC)):
            self.assertRaises(StunError, decode, COTURN_CLASSIC[:end])

    def test_malformed(self):
        """
        Lengths that disagree, an attribute past the end, a bad family,
        a bad ERROR-CODE class.
        """
        tid = newTransactionID()

        def message(body):
            return struct.pack("!HH", BINDING_RESPONSE, len(body)) + tid + body

        for body in [
            bytes.fromhex("00010008"),  # attribute past the end
            bytes.fromhex("000100080003000a7f000001"),  # family 3
            bytes.fromhex("0001000400010000"),  # address without octets
            bytes.fromhex("00090004" "00000200"),  # class 2
            bytes.fromhex("00090004" "00000364"),  # number 100
            bytes.fromhex("000a0003" "000100"),  # odd UNKNOWN-ATTRIBUTES, padded
            bytes.fromhex("80280004" "00000000"),  # wrong FINGERPRINT
            bytes.fromhex("00060001" "61"),  # padding missing
        ]:
            self.assertRaises(StunError, decode, message(body))
        self.assertRaises(StunError, decode, b"\xc0" + message(b"")[1:])

    def test_errorResponse(self):
        tid = newTransactionID()
        error = Message(
            BINDING_ERROR_RESPONSE,
            tid,
            (Attribute(ERROR_CODE, ErrorCode(420, "Unknown Attribute")), Attribute(UNKNOWN_ATTRIBUTES, (0x7777,))),
        )
        data = encode(error)
        # RFC 3489 11.2.9: class 4 and number 20 in octets 3 and 4.
        self.assertEqual(data[24:28], b"\x00\x00\x04\x14")
        self.assertEqual(decode(data), error)


class DemultiplexTests(SynchronousTestCase):
    def test_looksLikeSTUN(self):
        self.assertTrue(looksLikeSTUN(COTURN_CLASSIC))
        self.assertTrue(looksLikeSTUN(encode(Message(BINDING_REQUEST, newTransactionID()))))
        for sip in [b"\r\n\r\n", b"OPTIONS sip:a@b SIP/2.0\r\n" * 2, b"SIP/2.0 200 OK\r\n" + bytes(20)]:
            self.assertFalse(looksLikeSTUN(sip))
        self.assertFalse(looksLikeSTUN(COTURN_CLASSIC[:-1]))


addresses = st.one_of(
    st.builds(lambda n, p: Address(str(ipaddress.IPv4Address(n)), p), st.integers(0, 2**32 - 1), st.integers(0, 65535)),
    st.builds(lambda n, p: Address(str(ipaddress.IPv6Address(n)), p), st.integers(0, 2**128 - 1), st.integers(0, 65535)),
)
attributes = st.one_of(
    st.builds(Attribute, st.sampled_from([MAPPED_ADDRESS, SOURCE_ADDRESS, CHANGED_ADDRESS, XOR_MAPPED_ADDRESS]), addresses),
    st.builds(
        Attribute,
        st.just(ERROR_CODE),
        st.builds(ErrorCode, st.integers(300, 699), st.text(max_size=20)),
    ),
    st.builds(Attribute, st.just(UNKNOWN_ATTRIBUTES), st.lists(st.integers(0, 65535), max_size=5).map(tuple)),
    st.builds(Attribute, st.just(CHANGE_REQUEST), st.integers(0, 2**32 - 1)),
    st.builds(Attribute, st.just(SOFTWARE), st.text(max_size=20)),
    st.builds(Attribute, st.integers(0xC000, 0xFFFF), st.binary(max_size=20)),
)
messages = st.builds(
    Message,
    st.sampled_from([BINDING_REQUEST, BINDING_RESPONSE, BINDING_ERROR_RESPONSE]),
    st.one_of(st.binary(min_size=16, max_size=16), st.binary(min_size=12, max_size=12).map(MAGIC_COOKIE.__add__)),
    st.lists(attributes, max_size=6).map(tuple),
    st.booleans(),
)


@given(messages)
def test_roundTrip(message):
    """
    Any message encodes and reads back equal; its length is a multiple of
    four and the demultiplexer takes it for STUN.
    """
    data = encode(message)
    assert decode(data) == message
    assert len(data) % 4 == 0
    assert looksLikeSTUN(data)


@given(st.binary(max_size=120))
def test_arbitraryBytes(data):
    """
    Arbitrary octets either read as a message or raise L{StunError}.
    """
    try:
        decode(data)
    except StunError:
        pass


@given(messages, st.data())
def test_mangledMessages(message, data):
    """
    A valid message with octets changed (its length field kept right)
    reads or raises L{StunError}, nothing else.
    """
    raw = bytearray(encode(message))
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(20, max(20, len(raw) - 1)))
        if index < len(raw):
            raw[index] = data.draw(st.integers(0, 255))
    try:
        decode(bytes(raw))
    except StunError:
        pass


def _response(tid, mapped=Address("198.51.100.7", 40000)):
    return Message(BINDING_RESPONSE, tid, (Attribute(XOR_MAPPED_ADDRESS, mapped),))


class TransactionTests(SynchronousTestCase):
    def setUp(self):
        self.clock = Clock()
        self.sent = []
        self.transaction = BindingTransaction(self.clock, self.sent.append)
        self.transaction.start()

    def test_schedule(self):
        """
        RFC 3489 9.3: nine requests at 0, 0.1, 0.3, 0.7, 1.5, 3.1, 4.7,
        6.3 and 7.9 s, failure at 9.5 s.
        """
        clock = Clock()
        sendTimes = []
        transaction = BindingTransaction(clock, lambda data: sendTimes.append(clock.seconds()))
        failures = []
        transaction.done.addErrback(failures.append)
        transaction.start()
        while clock.getDelayedCalls():
            clock.advance(min(call.getTime() for call in clock.getDelayedCalls()) - clock.seconds())
        self.assertEqual([round(t, 6) for t in sendTimes], [0, 0.1, 0.3, 0.7, 1.5, 3.1, 4.7, 6.3, 7.9])
        self.assertEqual(round(clock.seconds(), 6), 9.5)
        failures[0].trap(StunTimeout)
        sent = [decode(d) for d in self.sent]
        self.assertEqual({m.transactionID for m in sent}, {self.transaction.transactionID})
        self.assertEqual(sent[0].messageType, BINDING_REQUEST)

    def test_response(self):
        """
        The matching response ends the transaction: no more retransmissions.
        """
        self.clock.pump([0.1, 0.2])
        self.assertEqual(len(self.sent), 3)
        other = _response(newTransactionID())
        self.assertFalse(self.transaction.receive(other))
        self.assertTrue(self.transaction.receive(_response(self.transaction.transactionID)))
        result = self.successResultOf(self.transaction.done)
        self.assertEqual(result.mapped, Address("198.51.100.7", 40000))
        self.clock.advance(20)
        self.assertEqual(len(self.sent), 3)
        self.assertFalse(self.transaction.receive(_response(self.transaction.transactionID)))

    def test_errorResponse(self):
        error = Message(
            BINDING_ERROR_RESPONSE,
            self.transaction.transactionID,
            (Attribute(ERROR_CODE, ErrorCode(400, "Bad Request")),),
        )
        self.assertTrue(self.transaction.receive(error))
        failure = self.failureResultOf(self.transaction.done, StunErrorResponse)
        self.assertEqual(failure.value.error.code, 400)

    def test_noMappedAddress(self):
        self.assertTrue(self.transaction.receive(Message(BINDING_RESPONSE, self.transaction.transactionID)))
        self.failureResultOf(self.transaction.done, StunError)


class _Transport:
    def __init__(self):
        self.written = []

    def write(self, data, address):
        self.written.append((data, address))


class _SIP:
    """
    The wrapped protocol: records what reaches it.
    """

    transport = None

    def __init__(self):
        self.received = []

    def makeConnection(self, transport):
        self.transport = transport

    def doStop(self):
        pass

    def datagramReceived(self, data, address):
        self.received.append(data)


class StunDemultiplexerTests(SynchronousTestCase):
    def test_split(self):
        """
        SIP goes to the wrapped protocol, which shares the transport; the
        response to our request resolves the public address; a malformed or
        unmatched STUN datagram goes nowhere.
        """
        clock = Clock()
        sip = _SIP()
        transport = _Transport()
        protocol = StunDemultiplexer(sip, ("192.0.2.9", 3478), clock)
        protocol.makeConnection(transport)
        self.assertIs(sip.transport, transport)
        d = protocol.stun.publicAddress()
        request, server = transport.written[0]
        self.assertEqual(server, ("192.0.2.9", 3478))
        tid = decode(request).transactionID
        protocol.datagramReceived(b"OPTIONS sip:x SIP/2.0\r\n\r\n", ("192.0.2.1", 5060))
        protocol.datagramReceived(b"\r\n\r\n", ("192.0.2.1", 5060))
        protocol.datagramReceived(encode(_response(newTransactionID())), server)
        bad = bytearray(encode(_response(tid)))
        bad[22] = 7  # address family 7
        protocol.datagramReceived(bytes(bad), server)
        self.assertNoResult(d)
        protocol.datagramReceived(encode(_response(tid)), server)
        self.assertEqual(self.successResultOf(d), ("198.51.100.7", 40000))
        self.assertEqual(sip.received, [b"OPTIONS sip:x SIP/2.0\r\n\r\n", b"\r\n\r\n"])

    def test_stop(self):
        """
        Stopping abandons requests in flight.
        """
        clock = Clock()
        client = StunClient(_Transport(), ("192.0.2.9", 3478), clock)
        d = client.discover()
        client.stop()
        self.failureResultOf(d)
        self.assertEqual(clock.getDelayedCalls(), [])


def test_fingerprintIsCRC32():
    """
    FINGERPRINT is CRC-32 of the message before it, XOR 0x5354554e.
    """
    data = encode(Message(BINDING_REQUEST, newTransactionID(), fingerprint=True))
    assert struct.unpack("!I", data[-4:])[0] == zlib.crc32(data[:-8]) ^ 0x5354554E
