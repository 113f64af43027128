"""
The CDR file over TFTP, as HiPath 3000 served C{gez.txt}: the Twisted
adapter of the sans-I/O server in L{oso.cdr.tftp}.

A read request for the configured file name snapshots the journal's
unacknowledged records (ids up to N), rendered in the configured CDR
format, and sends them from a new UDP port (the transfer id, RFC 1350).
Only when the client acknowledged the last block are the records up to N
acknowledged in the journal; a transfer that times out or is aborted
acknowledges nothing, and records written meanwhile wait for the next
fetch.  One transfer runs at a time: a second client would be sent the
same records, which billing would count twice, so it is told to retry.
"""

import re

from twisted.application.service import Service
from twisted.internet.defer import ensureDeferred, maybeDeferred
from twisted.internet.protocol import DatagramProtocol
from twisted.logger import Logger

from oso.cdr import tftp

#: Records read and rendered at a time while taking a snapshot: small
#: enough that rendering them holds the reactor for milliseconds only.
_READ_CHUNK = 200


def parseUDPEndpoint(description):
    """
    The port and interface of a UDP listener description in the endpoint
    string style: C{udp:PORT} with an optional C{interface=ADDRESS} (colons
    in it escaped as C{\\:}, as in Twisted's endpoint strings).

    @param description: for example C{"udp:6969:interface=127.0.0.1"}.
    @return: C{(port, interface)}; the interface is C{""} (every address)
        when not given.
    @raise ValueError: for anything else.
    """
    parts = [part.replace("\\:", ":") for part in re.split(r"(?<!\\):", description)]
    if parts[0] != "udp" or len(parts) < 2:
        raise ValueError(f"expected udp:PORT[:interface=ADDRESS], not {description!r}")
    port, interface = None, ""
    for part in parts[1:]:
        name, equals, value = part.partition("=")
        if not equals and port is None:
            name, value = "port", name
        if name == "port" and port is None and re.fullmatch(r"[0-9]{1,5}", value):
            port = int(value)
        elif name == "interface" and interface == "" and value:
            interface = value
        else:
            raise ValueError(f"{description!r}: unexpected {part!r}")
    if port is None or port > 65535:
        raise ValueError(f"{description!r}: expected a port number from 0 to 65535")
    return port, interface


async def snapshot(journal, format, limit, maxRecords, netascii):
    """
    The file of the journal's unacknowledged records, as many as fit.

    Records are read in chunks, so the reactor runs between them.

    @param journal: the L{oso.cdr.journal.Journal}.
    @param format: the L{oso.interfaces.ICDRFormat}.
    @param limit: the most bytes the file may have; the records after the
        last one that fits are left for the next fetch.
    @param maxRecords: the most records the file may hold; the others are
        left for the next fetch.
    @param netascii: whether to render the file in netascii.
    @return: C{(data, lastID, count)}: the file's bytes, the id of its last
        record (C{0} for none) and how many records it holds.
    """
    convert = tftp.toNetascii if netascii else bytes
    parts = [convert(format.header())]
    size = len(parts[0])
    lastID = count = 0
    while count < maxRecords:
        wanted = min(_READ_CHUNK, maxRecords - count)
        records = await journal.read(lastID, wanted)
        for record in records:
            text = convert(format.formatRecord(record))
            if size + len(text) > limit:
                return b"".join(parts), lastID, count
            parts.append(text)
            size += len(text)
            lastID = record.recordID
            count += 1
        if len(records) < wanted:
            break
    return b"".join(parts), lastID, count


class _TransferProtocol(DatagramProtocol):
    """
    The UDP port of one transfer: hands its datagrams to the transfer.
    """

    noisy = False

    def __init__(self, transfer):
        self.transfer = transfer

    def datagramReceived(self, datagram, address):
        self.transfer.datagramReceived(datagram, address)


class _ServerProtocol(DatagramProtocol):
    """
    The server port: requests go to the service, refusals back to the
    sender.
    """

    log = Logger()

    def __init__(self, service):
        self.service = service

    def datagramReceived(self, datagram, address):
        answer = tftp.screenRequest(datagram, self.service.fileName)
        if isinstance(answer, tftp.Request):
            self.service.requestReceived(answer, address)
        elif answer is not None:
            self.log.warn(
                "TFTP: request from {address} refused with ERROR {code}: {reason}",
                address=address,
                code=int(answer.code),
                reason=answer.message,
            )
            self.transport.write(tftp.encode(answer), address)


class TFTPService(Service):
    """
    Serves the journal's records as one file over TFTP while running.

    @ivar port: the listening L{twisted.internet.interfaces.IListeningPort}
        while running.
    @ivar serving: a L{Deferred} that fires when the request being served
        is done (its records acknowledged, or the failure logged); L{None}
        when idle.
    @ivar maxBytes: the largest file served; the records that do not fit
        wait for the next fetch.
    @ivar maxRecords: the most records a file holds, the others wait for
        the next fetch: rendering them must end well before a client gives
        up waiting for the first packet (tftp-hpa retries its request after
        5 s and gives up after 25 s).
    """

    log = Logger()
    maxBytes = 32 * 1024 * 1024
    maxRecords = 20_000

    def __init__(self, reactor, journal, format, fileName, description):
        """
        @param reactor: an L{IReactorUDP} and L{IReactorTime}.
        @param journal: the open L{oso.cdr.journal.Journal}.
        @param format: the L{oso.interfaces.ICDRFormat} records are sent in.
        @param fileName: the one file name served, e.g. C{"gez.txt"}.
        @param description: where to listen, see L{parseUDPEndpoint}.
        """
        self.reactor = reactor
        self.journal = journal
        self.format = format
        self.fileName = fileName
        self.portNumber, self.interface = parseUDPEndpoint(description)
        self.port = None
        self._peer = None
        self._transfer = None
        self.serving = None

    def startService(self):
        super().startService()
        self.port = self.reactor.listenUDP(
            self.portNumber, _ServerProtocol(self), interface=self.interface
        )
        self.log.info(
            "TFTP: serving CDR file {fileName} on UDP {address}",
            fileName=self.fileName,
            address=self.port.getHost(),
        )

    def stopService(self):
        """
        Stop listening and end a transfer in progress (which acknowledges
        nothing).

        @return: a L{Deferred} that fires when the transfer's port is
            closed and the journal is no longer used.
        """
        super().stopService()
        stopped = maybeDeferred(self.port.stopListening)
        if self._transfer is not None:
            self._transfer.abort("server stopping")
        if self.serving is not None:
            return self.serving.addCallback(lambda _: stopped)
        return stopped

    def requestReceived(self, request, address):
        """
        Serve a read request for the file, unless a transfer runs: a
        repeated request from its own client is ignored (the transfer's
        retransmissions answer it), another client gets ERROR 0.  A request
        that arrives while a finished transfer's records are being
        acknowledged is served right after that.

        @param request: the L{tftp.Request}.
        @param address: the client's address, its transfer id.
        """
        if not self.running:
            return
        if self._peer is not None:
            if self._transfer is not None and self._transfer.finished.called:
                self.serving.addCallback(
                    lambda _: self.requestReceived(request, address)
                )
            elif address != self._peer:
                self.log.warn(
                    "TFTP: {address} asked for {fileName} while {peer} fetches it: "
                    "told to try again",
                    address=address,
                    fileName=self.fileName,
                    peer=self._peer,
                )
                busy = tftp.Error(
                    tftp.ErrorCode.notDefined,
                    "another transfer of this file is in progress; try again later",
                )
                self.port.write(tftp.encode(busy), address)
            return
        self._peer = address
        serving = ensureDeferred(self._serve(request, address))
        if not serving.called:
            self.serving = serving

    async def _serve(self, request, address):
        """
        Snapshot the records, send them, and acknowledge them when the
        client acknowledged the last block.  Never fails: every outcome is
        logged.
        """
        try:
            options = tftp.negotiate(request.options)
            limit = min(tftp.maxFileSize(options.blockSize), self.maxBytes)
            try:
                data, lastID, count = await snapshot(
                    self.journal,
                    self.format,
                    limit,
                    self.maxRecords,
                    request.mode == "netascii",
                )
            except Exception:
                self.log.failure(
                    "TFTP: cannot read the CDR journal for {address}", address=address
                )
                failed = tftp.Error(tftp.ErrorCode.notDefined, "cannot read records")
                self.port.write(tftp.encode(failed), address)
                return
            if self.running:
                await self._send(data, lastID, count, options, address)
        except Exception:
            self.log.failure("TFTP: serving {address} failed", address=address)
        finally:
            self._peer = self._transfer = self.serving = None

    async def _send(self, data, lastID, count, options, address):
        """
        Send the file from a new port; acknowledge its records when the
        transfer completes.
        """
        protocol = _TransferProtocol(None)
        port = self.reactor.listenUDP(0, protocol, interface=self.interface)
        transfer = protocol.transfer = self._transfer = tftp.ReadTransfer(
            data, address, port.write, self.reactor, options
        )
        try:
            transfer.start()
            await transfer.finished
        except tftp.TransferAborted as e:
            self.log.warn(
                "TFTP: transfer of {fileName} to {address} failed ({reason}); "
                "its {count} records stay in the journal",
                fileName=self.fileName,
                address=address,
                reason=str(e),
                count=count,
            )
        else:
            await self._acknowledge(address, lastID, count, len(data), transfer)
        finally:
            await maybeDeferred(port.stopListening)

    async def _acknowledge(self, address, lastID, count, size, transfer):
        """
        Acknowledge the records of a completed transfer in the journal.
        """
        try:
            if lastID:
                await self.journal.acknowledge(lastID)
        except Exception:
            self.log.failure(
                "TFTP: {fileName} was fetched by {address}, but acknowledging its "
                "records up to id {lastID} failed: they will be served again",
                fileName=self.fileName,
                address=address,
                lastID=lastID,
            )
            return
        self.log.info(
            "TFTP: {address} fetched {fileName}: {count} records, {size} bytes, "
            "{retransmissions} retransmissions; acknowledged up to id {lastID}",
            address=address,
            fileName=self.fileName,
            count=count,
            size=size,
            retransmissions=transfer.retransmissions,
            lastID=lastID,
        )
