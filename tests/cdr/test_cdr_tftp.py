"""
Tests for the sans-I/O TFTP server (L{oso.cdr.tftp}): the codec, the
screening of requests, option negotiation and one read transfer on a fake
clock.
"""

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.task import Clock
from twisted.python.failure import Failure

from oso.cdr.tftp import (
    Ack,
    Data,
    Error,
    ErrorCode,
    MalformedPacket,
    OptionAck,
    ReadTransfer,
    Request,
    TransferAborted,
    TransferOptions,
    decode,
    encode,
    maxFileSize,
    negotiate,
    screenRequest,
    toNetascii,
)
from oso.cdr.tftpserver import parseUDPEndpoint
from oso.config import ConfigError
from oso.plugins.cdr import cdr

PEER = ("127.0.0.1", 40000)
STRANGER = ("127.0.0.1", 40001)


def rrq(name="gez.txt", mode="octet", *options):
    strings = (name.encode(), mode.encode(), *options)
    return b"\0\1" + b"".join(s + b"\0" for s in strings)


# The codec


def test_decodeRequest():
    """
    An RRQ gives its file name, its mode in lower case and its options
    with lower-case names; a WRQ is marked as a write.
    """
    assert decode(rrq("gez.txt", "OCTET", b"BlkSize", b"1024", b"tsize", b"0")) == (
        Request(False, "gez.txt", "octet", {"blksize": "1024", "tsize": "0"})
    )
    assert decode(b"\0\2a\0netascii\0") == Request(True, "a", "netascii", {})


@pytest.mark.parametrize(
    "datagram, reason",
    [
        (b"", "shorter than an opcode"),
        (b"\0", "shorter than an opcode"),
        (b"\0\1gez.txt\0octet", "does not end in a NUL"),
        (b"\0\1gez.txt\0", "without a mode"),
        (b"\0\1\0octet\0", "empty file name"),
        (b"\0\1gez.txt\0octet\0blksize\0", "option without a value"),
        (b"\0\1gez.txt\0octet\0\0001\0", "empty option name"),
        (b"\0\3\0", "without a block number"),
        (b"\0\4\0\1\0", "ACK of 5 bytes"),
        (b"\0\7\0\1", "unknown opcode 7"),
        (b"\xff\xff", "unknown opcode 65535"),
    ],
)
def test_decodeMalformed(datagram, reason):
    """
    Datagrams that are no TFTP packet raise MalformedPacket saying why.
    """
    with pytest.raises(MalformedPacket, match=reason):
        decode(datagram)


@given(
    st.one_of(
        st.builds(Data, st.integers(0, 0xFFFF), st.binary(max_size=600)),
        st.builds(Ack, st.integers(0, 0xFFFF)),
        st.builds(
            Error,
            st.integers(0, 8),
            st.text(st.characters(min_codepoint=1, max_codepoint=255), max_size=40),
        ),
        st.builds(
            OptionAck,
            st.dictionaries(
                st.sampled_from(["blksize", "tsize", "timeout"]),
                st.from_regex(r"[0-9]{1,6}", fullmatch=True),
            ),
        ),
    )
)
def test_roundTrip(packet):
    """
    Every packet the server sends decodes back to itself.
    """
    assert decode(encode(packet)) == packet


def test_encodeWire():
    """
    The wire forms of RFC 1350 and RFC 2347.
    """
    assert encode(Data(1, b"ab")) == b"\0\3\0\1ab"
    assert encode(Ack(258)) == b"\0\4\1\2"
    assert encode(Error(ErrorCode.fileNotFound, "no")) == b"\0\5\0\1no\0"
    assert encode(OptionAck({"tsize": "10"})) == b"\0\6tsize\x0010\0"
    assert encode(Request(False, "gez.txt", "octet", {})) == rrq()


# Screening requests at the server port


def test_screenServes():
    """
    An RRQ for the file, octet or netascii, is served.
    """
    for mode in ("octet", "netascii", "NetASCII"):
        request = screenRequest(rrq(mode=mode), "gez.txt")
        assert isinstance(request, Request) and request.fileName == "gez.txt"


@pytest.mark.parametrize(
    "datagram, code",
    [
        (rrq("other.txt"), ErrorCode.fileNotFound),
        (rrq("GEZ.TXT"), ErrorCode.fileNotFound),
        (b"\0\2gez.txt\0octet\0", ErrorCode.accessViolation),
        (rrq(mode="mail"), ErrorCode.illegalOperation),
        (b"\0\7junk", ErrorCode.illegalOperation),
        (b"\0", ErrorCode.illegalOperation),
        (b"\0\1gez.txt", ErrorCode.illegalOperation),
        (encode(Ack(1)), ErrorCode.unknownTransferID),
        (encode(Data(1, b"x")), ErrorCode.unknownTransferID),
    ],
)
def test_screenRefuses(datagram, code):
    """
    Other file names get ERROR 1, writes ERROR 2, malformed packets and
    unknown modes ERROR 4, packets of a transfer at the server port
    ERROR 5.
    """
    answer = screenRequest(datagram, "gez.txt")
    assert isinstance(answer, Error) and answer.code == code and answer.message


def test_screenIgnoresErrors():
    """
    An ERROR packet is never answered.
    """
    assert screenRequest(encode(Error(0, "x")), "gez.txt") is None


# Options


def test_negotiateNone():
    """
    Without options the transfer is plain RFC 1350: no OACK.
    """
    options = negotiate({})
    assert options == TransferOptions()
    assert options.optionAck(100) is None


def test_negotiateAll():
    """
    blksize, timeout and tsize are accepted and echoed, tsize with the
    real size; unknown options are left out.
    """
    options = negotiate(
        {"tsize": "0", "windowsize": "4", "blksize": "1428", "timeout": "3"}
    )
    assert (options.blockSize, options.timeout, options.tellSize) == (1428, 3, True)
    assert options.optionAck(5000) == OptionAck(
        {"tsize": "5000", "blksize": "1428", "timeout": "3"}
    )


@pytest.mark.parametrize(
    "options, blockSize, timeout",
    [
        ({"blksize": "7"}, 512, 1),
        ({"blksize": "99999"}, 65464, 1),
        ({"blksize": "x"}, 512, 1),
        ({"timeout": "0"}, 512, 1),
        ({"timeout": "256"}, 512, 1),
        ({"timeout": "-1"}, 512, 1),
    ],
)
def test_negotiateRanges(options, blockSize, timeout):
    """
    A block size above 65464 is lowered to it; other values out of range
    are ignored, as RFC 2347 allows.
    """
    negotiated = negotiate(options)
    assert (negotiated.blockSize, negotiated.timeout) == (blockSize, timeout)


def test_maxFileSize():
    """
    The largest file ends in a short block numbered 65535.
    """
    assert maxFileSize(512) == 65535 * 512 - 1


def test_netascii():
    """
    netascii has CR LF line endings and CR NUL for a lone CR; text in
    CR LF lines stays as it is.
    """
    assert toNetascii(b"a\nb\r\nc\rd") == b"a\r\nb\r\nc\r\0d"
    assert toNetascii(b"x|y|\r\nz|\r\n") == b"x|y|\r\nz|\r\n"


# One read transfer


class Peer:
    """
    The transfer's outside world: what it sent, a fake clock.
    """

    def __init__(self, data, options=TransferOptions(), retries=2):
        self.sent = []
        self.clock = Clock()
        self.transfer = ReadTransfer(
            data,
            PEER,
            lambda d, a: self.sent.append((decode(d), a)),
            self.clock,
            options,
            retries,
        )
        self.outcome = []
        self.transfer.finished.addBoth(self.outcome.append)

    def take(self):
        sent, self.sent = self.sent, []
        return sent

    def ack(self, block, address=PEER):
        self.transfer.datagramReceived(encode(Ack(block)), address)


def test_wholeTransfer():
    """
    1100 bytes in blocks of 512: DATA 1, 2 and a short DATA 3; the ACK of
    the last block completes the transfer.
    """
    data = bytes(range(256)) * 4 + b"x" * 76
    p = Peer(data)
    p.transfer.start()
    assert p.take() == [(Data(1, data[:512]), PEER)]
    p.ack(1)
    assert p.take() == [(Data(2, data[512:1024]), PEER)]
    p.ack(2)
    assert p.take() == [(Data(3, data[1024:]), PEER)]
    assert p.outcome == []
    p.ack(3)
    assert p.outcome == [None]
    assert p.take() == []
    p.clock.advance(100)
    assert p.take() == []


def test_exactBlockBoundary():
    """
    A file of a multiple of 512 bytes ends with an empty DATA block, and
    only its ACK completes the transfer.
    """
    data = b"r" * 1024
    p = Peer(data)
    p.transfer.start()
    p.ack(1)
    p.ack(2)
    assert [packet for packet, _ in p.take()] == [
        Data(1, data[:512]), Data(2, data[512:]), Data(3, b"")
    ]
    assert p.outcome == []
    p.ack(3)
    assert p.outcome == [None]


def test_emptyFile():
    """
    An empty file is one empty DATA block.
    """
    p = Peer(b"")
    p.transfer.start()
    assert p.take() == [(Data(1, b""), PEER)]
    p.ack(1)
    assert p.outcome == [None]


def test_lostAckRetransmits():
    """
    Without an ACK within the timeout the outstanding block is sent again,
    and the transfer goes on when its ACK comes.
    """
    p = Peer(b"a" * 600)
    p.transfer.start()
    p.take()
    p.clock.advance(0.9)
    assert p.take() == []
    p.clock.advance(0.1)
    assert p.take() == [(Data(1, b"a" * 512), PEER)]
    p.ack(1)
    assert p.take() == [(Data(2, b"a" * 88), PEER)]
    p.clock.advance(1)
    assert p.take() == [(Data(2, b"a" * 88), PEER)]
    p.ack(2)
    assert p.outcome == [None]
    assert p.transfer.retransmissions == 2


def test_duplicateAckNotAnswered():
    """
    A duplicate ACK of the previous block sends nothing (no Sorcerer's
    Apprentice); the next block goes out only once, and a timeout still
    retransmits it.
    """
    p = Peer(b"b" * 1500)
    p.transfer.start()
    p.ack(1)
    p.ack(1)
    p.ack(1)
    assert [packet.block for packet, _ in p.take()] == [1, 2]
    p.ack(7)
    assert p.take() == []
    p.clock.advance(1)
    assert [packet.block for packet, _ in p.take()] == [2]
    p.ack(2)
    p.ack(3)
    assert p.outcome == [None]


def test_timeoutAborts():
    """
    After the last retransmission's timeout the transfer ends with
    ERROR 0 and fails with TransferAborted; late ACKs change nothing.
    """
    p = Peer(b"c" * 700, retries=2)
    p.transfer.start()
    p.ack(1)
    p.take()
    p.clock.advance(1)
    p.clock.advance(1)
    assert [packet.block for packet, _ in p.take()] == [2, 2]
    assert p.outcome == []
    p.clock.advance(1)
    assert p.take() == [(Error(ErrorCode.notDefined, "timed out"), PEER)]
    [failure] = p.outcome
    assert isinstance(failure, Failure) and failure.check(TransferAborted)
    assert "block 2 after 3 transmissions" in str(failure.value)
    p.ack(2)
    p.clock.advance(10)
    assert p.take() == [] and len(p.outcome) == 1
    assert not p.clock.getDelayedCalls()


def test_peerErrorAborts():
    """
    An ERROR from the peer ends the transfer without an answer.
    """
    p = Peer(b"d" * 700)
    p.transfer.start()
    p.take()
    p.transfer.datagramReceived(encode(Error(ErrorCode.diskFull, "full")), PEER)
    assert p.take() == []
    assert p.outcome[0].check(TransferAborted)
    assert "ERROR 3: full" in str(p.outcome[0].value)
    assert not p.clock.getDelayedCalls()


@pytest.mark.parametrize(
    "datagram",
    [b"\0\x09\0\1", b"\0", encode(Data(1, b"x")), rrq(), b"\0\4\0\1\0"],
)
def test_badPacketFromPeer(datagram):
    """
    A malformed packet, an unknown opcode or a packet a reading peer
    never sends gets ERROR 4 and ends the transfer.
    """
    p = Peer(b"e" * 700)
    p.transfer.start()
    p.take()
    p.transfer.datagramReceived(datagram, PEER)
    [(packet, address)] = p.take()
    assert (packet.code, address) == (ErrorCode.illegalOperation, PEER)
    assert p.outcome[0].check(TransferAborted)
    assert not p.clock.getDelayedCalls()


def test_strangerGetsError5():
    """
    A packet from another address is answered with ERROR 5 and does not
    disturb the transfer (RFC 1350 section 4).
    """
    p = Peer(b"f" * 700)
    p.transfer.start()
    p.take()
    p.ack(1, STRANGER)
    stranger = Error(ErrorCode.unknownTransferID, "unknown transfer id")
    assert p.take() == [(stranger, STRANGER)]
    p.ack(1)
    p.ack(2)
    assert p.outcome == [None]


def test_optionAckFirst():
    """
    With accepted options the OACK comes first; its ACK 0 starts DATA 1,
    in the negotiated block size, and the OACK is retransmitted like a
    block.
    """
    data = b"g" * 20
    p = Peer(data, negotiate({"blksize": "8", "tsize": "0"}))
    p.transfer.start()
    oack = (OptionAck({"blksize": "8", "tsize": "20"}), PEER)
    assert p.take() == [oack]
    p.clock.advance(1)
    assert p.take() == [oack]
    p.ack(0)
    assert p.take() == [(Data(1, data[:8]), PEER)]
    p.ack(1)
    p.ack(2)
    sent = [packet for packet, _ in p.take()]
    assert sent == [Data(2, data[8:16]), Data(3, data[16:])]
    p.ack(3)
    assert p.outcome == [None]


def test_optionsRefused():
    """
    A client that refuses the OACK with ERROR 8 ends the transfer.
    """
    p = Peer(b"h", negotiate({"tsize": "0"}))
    p.transfer.start()
    p.take()
    p.transfer.datagramReceived(encode(Error(ErrorCode.optionsRefused, "no")), PEER)
    assert p.outcome[0].check(TransferAborted)


def test_abort():
    """
    abort() ends a running transfer with ERROR 0; on a finished one it does
    nothing.
    """
    p = Peer(b"i" * 600)
    p.transfer.start()
    p.take()
    p.transfer.abort("server stopping")
    assert p.take() == [(Error(ErrorCode.notDefined, "server stopping"), PEER)]
    assert p.outcome[0].check(TransferAborted)
    p.transfer.abort("again")
    assert p.take() == [] and len(p.outcome) == 1


def test_tooLarge():
    """
    Data that would need more than 65535 blocks is refused.
    """
    options = negotiate({"blksize": "8"})
    with pytest.raises(ValueError):
        ReadTransfer(b"x" * (maxFileSize(8) + 1), PEER, None, Clock(), options)
    largest = ReadTransfer(b"x" * maxFileSize(8), PEER, None, Clock(), options)
    assert largest.lastBlock == 65535


def test_blockNumbersOnWire():
    """
    Block numbers are 16-bit big-endian on the wire.
    """
    assert struct.unpack("!HH", encode(Ack(65535))) == (4, 65535)


# Configuration


@pytest.mark.parametrize(
    "description, expected",
    [
        ("udp:69", (69, "")),
        ("udp:6969:interface=127.0.0.1", (6969, "127.0.0.1")),
        ("udp:port=0:interface=\\:\\:1", (0, "::1")),
        ("udp:interface=10.0.0.1:6969", (6969, "10.0.0.1")),
    ],
)
def test_parseUDPEndpoint(description, expected):
    """
    udp:PORT with an optional interface, colons escaped as in endpoint
    strings.
    """
    assert parseUDPEndpoint(description) == expected


@pytest.mark.parametrize(
    "description",
    ["tcp:69", "udp", "udp:", "udp:x", "udp:70000", "udp:69:70", "udp:69:mode=x",
     "udp:interface=::1"],
)
def test_parseUDPEndpointBad(description):
    """
    Anything else is a ValueError.
    """
    with pytest.raises(ValueError):
        parseUDPEndpoint(description)


def test_componentKeys():
    """
    The cdr component takes tftp (off when absent) and tftp-file (default
    gez.txt), and refuses bad values naming the key.
    """
    where = "oso.toml: components.cdr"
    settings = cdr.validateConfig({}, where)
    assert (settings.tftp, settings.tftpFile) == (None, "gez.txt")
    settings = cdr.validateConfig(
        {"tftp": "udp:6969:interface=127.0.0.1", "tftp-file": "charges.txt"}, where
    )
    assert (settings.tftp, settings.tftpFile) == (
        "udp:6969:interface=127.0.0.1", "charges.txt"
    )
    for section, key in [
        ({"tftp": "tcp:69"}, "tftp"),
        ({"tftp": 69}, "tftp"),
        ({"tftp-file": ""}, "tftp-file"),
        ({"tftp-file": 1}, "tftp-file"),
    ]:
        with pytest.raises(ConfigError) as raised:
            cdr.validateConfig(section, where)
        assert raised.value.where == f"{where}.{key}"
