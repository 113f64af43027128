"""
A read-only TFTP server without I/O: the packet codec (RFC 1350), the check
of requests arriving at the server port, option negotiation (RFC 2347
option extension, RFC 2348 C{blksize}, RFC 2349 C{timeout} and C{tsize}),
and the state machine of one read transfer, which retransmits on an
injected clock.

HiPath 3000 offered its call charge file C{gez.txt} over TFTP; the cdr
component serves its journal's unacknowledged records that way
(L{oso.cdr.tftpserver} is the Twisted adapter).  Nothing here knows about
records: a transfer sends bytes and tells whether the peer acknowledged
the last block.

Decisions, each allowed by the RFCs:

  - Read only: a write request is answered with ERROR 2.
  - Modes: C{octet} sends the bytes unchanged; C{netascii} sends them in
    netascii (L{toNetascii}: every line ending becomes CR LF, a lone CR
    becomes CR NUL), so a client that converts netascii to its local line
    endings gets correct text; any other mode (C{mail}) is ERROR 4.
  - Options: C{blksize}, C{timeout} and C{tsize} are accepted and answered
    with an OACK; unknown options and values out of range are ignored, as
    RFC 2347 allows.  A request without options gets plain RFC 1350.
  - Block numbers never wrap: the file must stay below L{maxFileSize} for
    the negotiated block size (the caller cuts what it serves; for the CDR
    file, the records that do not fit stay for the next fetch).
  - Only a timeout retransmits.  A duplicate ACK (of the block before the
    one outstanding) is ignored, which avoids the Sorcerer's Apprentice
    syndrome (RFC 1123 4.2.3.1) of answering every duplicate with a
    duplicate DATA.
"""

import re
import struct
from dataclasses import dataclass, field
from enum import IntEnum

from twisted.internet.defer import Deferred
from twisted.logger import Logger

RRQ, WRQ, DATA, ACK, ERROR, OACK = range(1, 7)

#: The block size of RFC 1350, used unless C{blksize} is negotiated.
DEFAULT_BLOCK_SIZE = 512
#: The C{blksize} range of RFC 2348.
MIN_BLOCK_SIZE, MAX_BLOCK_SIZE = 8, 65464
#: Seconds without an acknowledgement before a retransmission, unless the
#: client asks for another C{timeout} (RFC 2349: 1 to 255 s).
DEFAULT_TIMEOUT = 1
#: Retransmissions of one packet before the transfer is given up.
DEFAULT_RETRIES = 5
#: The highest block number (block numbers are 16 bits; oso never wraps).
MAX_BLOCK = 0xFFFF


class ErrorCode(IntEnum):
    """
    The error codes of RFC 1350 and RFC 2347.
    """

    notDefined = 0
    fileNotFound = 1
    accessViolation = 2
    diskFull = 3
    illegalOperation = 4
    unknownTransferID = 5
    fileExists = 6
    noSuchUser = 7
    optionsRefused = 8


class MalformedPacket(ValueError):
    """
    A datagram that is not a TFTP packet; the message says why.
    """


@dataclass(frozen=True)
class Request:
    """
    A read (RRQ) or write (WRQ) request.

    @ivar write: C{True} for WRQ.
    @ivar fileName: the file name as sent (decoded as Latin-1, so every
        byte string has one).
    @ivar mode: the transfer mode, lower case (C{"octet"}, C{"netascii"}).
    @ivar options: the RFC 2347 options, names lower case, the first of a
        name repeated; values as sent.
    """

    write: bool
    fileName: str
    mode: str
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Data:
    """
    A DATA packet: block C{block} (from 1) of the file; a payload shorter
    than the block size ends the file.
    """

    block: int
    payload: bytes


@dataclass(frozen=True)
class Ack:
    """
    An ACK packet: the peer has block C{block} (0 acknowledges an OACK).
    """

    block: int


@dataclass(frozen=True)
class Error:
    """
    An ERROR packet: an L{ErrorCode} value and a message for people.
    """

    code: int
    message: str


@dataclass(frozen=True)
class OptionAck:
    """
    The OACK of RFC 2347: the options the server accepted, with values.
    """

    options: dict


def _strings(body, what):
    """
    The NUL-terminated strings of a packet body, decoded as Latin-1.
    """
    if not body.endswith(b"\0"):
        raise MalformedPacket(f"{what} does not end in a NUL byte")
    return [part.decode("latin-1") for part in body[:-1].split(b"\0")]


def _options(strings, what):
    """
    The option name/value pairs that follow a request's mode or make up an
    OACK.
    """
    if len(strings) % 2:
        raise MalformedPacket(f"{what} has an option without a value")
    options = {}
    for name, value in zip(strings[::2], strings[1::2]):
        if not name:
            raise MalformedPacket(f"{what} has an empty option name")
        options.setdefault(name.lower(), value)
    return options


def decode(datagram):
    """
    The packet a datagram holds.

    @type datagram: L{bytes}
    @rtype: L{Request}, L{Data}, L{Ack}, L{Error} or L{OptionAck}
    @raise MalformedPacket: when it is not a TFTP packet.
    """
    if len(datagram) < 2:
        raise MalformedPacket(f"{len(datagram)} bytes, shorter than an opcode")
    (opcode,) = struct.unpack("!H", datagram[:2])
    body = datagram[2:]
    if opcode in (RRQ, WRQ):
        what = "RRQ" if opcode == RRQ else "WRQ"
        strings = _strings(body, what)
        if len(strings) < 2:
            raise MalformedPacket(f"{what} without a mode")
        if not strings[0]:
            raise MalformedPacket(f"{what} with an empty file name")
        return Request(
            opcode == WRQ, strings[0], strings[1].lower(), _options(strings[2:], what)
        )
    if opcode in (DATA, ACK, ERROR) and len(body) < 2:
        raise MalformedPacket(f"opcode {opcode} packet without a block number or code")
    if opcode == DATA:
        return Data(struct.unpack("!H", body[:2])[0], body[2:])
    if opcode == ACK:
        if len(body) != 2:
            raise MalformedPacket(f"ACK of {len(datagram)} bytes, not 4")
        return Ack(struct.unpack("!H", body)[0])
    if opcode == ERROR:
        message = body[2:].split(b"\0", 1)[0].decode("latin-1")
        return Error(struct.unpack("!H", body[:2])[0], message)
    if opcode == OACK:
        return OptionAck(_options(_strings(body, "OACK") if body else [], "OACK"))
    raise MalformedPacket(f"unknown opcode {opcode}")


def encode(packet):
    """
    The datagram of a packet.

    @param packet: a L{Request}, L{Data}, L{Ack}, L{Error} or L{OptionAck}.
    @rtype: L{bytes}
    """
    if isinstance(packet, Data):
        return struct.pack("!HH", DATA, packet.block) + packet.payload
    if isinstance(packet, Ack):
        return struct.pack("!HH", ACK, packet.block)
    if isinstance(packet, Error):
        message = packet.message.encode("latin-1", "replace")
        return struct.pack("!HH", ERROR, int(packet.code)) + message + b"\0"
    if isinstance(packet, Request):
        strings = [packet.fileName, packet.mode]
        opcode = WRQ if packet.write else RRQ
    else:
        strings = []
        opcode = OACK
    for name, value in packet.options.items():
        strings += [name, value]
    return struct.pack("!H", opcode) + b"".join(
        s.encode("latin-1") + b"\0" for s in strings
    )


def screenRequest(datagram, fileName):
    """
    Decide what to do with a datagram that arrived at the server port.

    @param datagram: the datagram.
    @param fileName: the one file this server reads out.
    @return: the L{Request} to serve; an L{Error} to send back (the
        refusal's message says why, for the log too); or L{None} for an
        ERROR packet, which is never answered.
    """
    try:
        packet = decode(datagram)
    except MalformedPacket as e:
        return Error(ErrorCode.illegalOperation, f"malformed packet: {e}")
    if isinstance(packet, Error):
        return None
    if not isinstance(packet, Request):
        return Error(
            ErrorCode.unknownTransferID,
            f"unknown transfer id: a {type(packet).__name__} packet at the server port",
        )
    if packet.write:
        return Error(ErrorCode.accessViolation, "read-only server: writing is refused")
    if packet.mode not in ("octet", "netascii"):
        return Error(ErrorCode.illegalOperation, f"unsupported mode {packet.mode!r}")
    if packet.fileName != fileName:
        return Error(ErrorCode.fileNotFound, f"no file {packet.fileName!r}")
    return packet


@dataclass(frozen=True)
class TransferOptions:
    """
    The settings of one transfer after option negotiation.

    @ivar blockSize: bytes of data per DATA packet.
    @ivar timeout: seconds to wait for an acknowledgement.
    @ivar tellSize: whether the OACK carries C{tsize}.
    @ivar accepted: the names of the options accepted, in request order.
    """

    blockSize: int = DEFAULT_BLOCK_SIZE
    timeout: float = DEFAULT_TIMEOUT
    tellSize: bool = False
    accepted: tuple = ()

    def optionAck(self, size):
        """
        The OACK that answers the request, or L{None} when no option was
        accepted (the transfer then starts with DATA 1).

        @param size: the bytes the transfer sends, told as C{tsize}.
        """
        if not self.accepted:
            return None
        values = {
            "blksize": str(self.blockSize),
            "timeout": str(int(self.timeout)),
            "tsize": str(size),
        }
        return OptionAck({name: values[name] for name in self.accepted})


def _integer(text):
    return int(text) if re.fullmatch(r"[0-9]{1,10}", text) else None


def negotiate(options):
    """
    The transfer settings for a read request's options (RFC 2347-2349).

    A C{blksize} above L{MAX_BLOCK_SIZE} is lowered to it; values out of
    range and unknown options are ignored.

    @param options: the request's L{Request.options}.
    @rtype: L{TransferOptions}
    """
    blockSize, timeout = DEFAULT_BLOCK_SIZE, DEFAULT_TIMEOUT
    tellSize, accepted = False, []
    for name, text in options.items():
        value = _integer(text)
        if value is None:
            continue
        if name == "blksize" and value >= MIN_BLOCK_SIZE:
            blockSize = min(value, MAX_BLOCK_SIZE)
        elif name == "timeout" and 1 <= value <= 255:
            timeout = value
        elif name == "tsize":
            tellSize = True
        else:
            continue
        accepted.append(name)
    return TransferOptions(blockSize, timeout, tellSize, tuple(accepted))


def maxFileSize(blockSize):
    """
    The largest file a transfer can send without wrapping block numbers:
    its last, short block must be number 65535 at the latest.

    @rtype: L{int}
    """
    return MAX_BLOCK * blockSize - 1


_LINE_ENDING = re.compile(rb"\r\n|\r|\n")
_NETASCII = {b"\r\n": b"\r\n", b"\r": b"\r\0", b"\n": b"\r\n"}


def toNetascii(data):
    """
    Bytes in netascii (RFC 764): a line ending (CR LF or a lone LF) as
    CR LF, a lone CR as CR NUL.  Text already in CR LF lines is unchanged.

    @type data: L{bytes}
    @rtype: L{bytes}
    """
    return _LINE_ENDING.sub(lambda match: _NETASCII[match.group()], data)


class TransferAborted(Exception):
    """
    A transfer ended without the acknowledgement of its last block; the
    message says why.
    """


class ReadTransfer:
    """
    One read transfer from this server's transfer id (port) to one peer.

    L{start} sends the OACK (when options were accepted) or DATA 1; each
    ACK of the outstanding block sends the next; the ACK of the last block,
    which is shorter than the block size (empty when the data fills whole
    blocks), completes the transfer.  A timeout retransmits the outstanding
    packet, up to C{retries} times, then gives up.  Packets from any other
    address get ERROR 5 and change nothing; a malformed packet or one the
    transfer cannot take from the peer gets ERROR 4 and ends it; an ERROR
    from the peer ends it.

    @ivar finished: a L{Deferred} that fires with L{None} when the peer
        acknowledged the last block, or fails with L{TransferAborted}.
    @ivar retransmissions: packets sent again after a timeout.
    """

    log = Logger()

    def __init__(
        self,
        data,
        peer,
        send,
        clock,
        options=TransferOptions(),
        retries=DEFAULT_RETRIES,
    ):
        """
        @param data: the bytes to send, at most C{maxFileSize(blockSize)}.
        @param peer: the peer's address (its transfer id).
        @param send: called with C{(datagram, address)} to send a datagram.
        @param clock: an L{twisted.internet.interfaces.IReactorTime}.
        @param options: the negotiated L{TransferOptions}.
        @param retries: retransmissions of a packet before giving up.
        @raise ValueError: when the data needs more than 65535 blocks.
        """
        if len(data) > maxFileSize(options.blockSize):
            raise ValueError(
                f"{len(data)} bytes need more than {MAX_BLOCK} blocks of "
                f"{options.blockSize}"
            )
        self.data = data
        self.peer = peer
        self.options = options
        self.retries = retries
        self.lastBlock = len(data) // options.blockSize + 1
        self.finished = Deferred()
        self.retransmissions = 0
        self._send = send
        self._clock = clock
        self._block = None
        self._packet = None
        self._attempts = 0
        self._timer = None

    def start(self):
        """
        Send the first packet: the OACK when options were accepted, else
        DATA 1.
        """
        optionAck = self.options.optionAck(len(self.data))
        if optionAck is None:
            self._sendBlock(1)
        else:
            self._block = 0
            self._transmit(encode(optionAck))

    def _sendBlock(self, block):
        size = self.options.blockSize
        self._block = block
        payload = self.data[(block - 1) * size : block * size]
        self._transmit(encode(Data(block, payload)))

    def _transmit(self, datagram):
        self._packet = datagram
        self._attempts = 0
        self._send(datagram, self.peer)
        self._timer = self._clock.callLater(self.options.timeout, self._timedOut)

    def _timedOut(self):
        self._timer = None
        if self._attempts == self.retries:
            self._end(
                Error(ErrorCode.notDefined, "timed out"),
                f"no acknowledgement of block {self._block} after "
                f"{self.retries + 1} transmissions",
            )
            return
        self._attempts += 1
        self.retransmissions += 1
        self._send(self._packet, self.peer)
        self._timer = self._clock.callLater(self.options.timeout, self._timedOut)

    def datagramReceived(self, datagram, address):
        """
        Take a datagram that arrived at this transfer's port.

        @param datagram: the datagram.
        @param address: where it came from.
        """
        if self.finished.called:
            return
        if address != self.peer:
            self.log.warn(
                "TFTP: datagram from {address}, a stranger to the transfer to "
                "{peer}: ERROR 5",
                address=address,
                peer=self.peer,
            )
            stranger = Error(ErrorCode.unknownTransferID, "unknown transfer id")
            self._send(encode(stranger), address)
            return
        try:
            packet = decode(datagram)
        except MalformedPacket as e:
            self._illegal(f"malformed packet: {e}")
            return
        if isinstance(packet, Ack):
            if packet.block == self._block:
                self._acknowledged()
            return
        if isinstance(packet, Error):
            self._end(None, f"the peer sent ERROR {packet.code}: {packet.message}")
            return
        self._illegal(f"unexpected {type(packet).__name__} packet")

    def _illegal(self, reason):
        self.log.warn(
            "TFTP: {reason} from {peer}: ERROR 4, transfer ended",
            reason=reason,
            peer=self.peer,
        )
        self._end(Error(ErrorCode.illegalOperation, reason), reason)

    def _acknowledged(self):
        self._timer.cancel()
        self._timer = None
        if self._block == self.lastBlock:
            self.finished.callback(None)
        else:
            self._sendBlock(self._block + 1)

    def abort(self, reason):
        """
        End the transfer now, telling the peer with ERROR 0.  Does nothing
        once the transfer has finished.

        @param reason: why, for the peer and for L{TransferAborted}.
        """
        if not self.finished.called:
            self._end(Error(ErrorCode.notDefined, reason), reason)

    def _end(self, error, reason):
        """
        Stop the timer, send C{error} unless it is L{None}, and fail
        L{finished} with C{reason}.
        """
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if error is not None:
            self._send(encode(error), self.peer)
        self.finished.errback(TransferAborted(reason))


__all__ = [
    "Ack",
    "Data",
    "Error",
    "ErrorCode",
    "MalformedPacket",
    "OptionAck",
    "ReadTransfer",
    "Request",
    "TransferAborted",
    "TransferOptions",
    "decode",
    "encode",
    "maxFileSize",
    "negotiate",
    "screenRequest",
    "toNetascii",
]
