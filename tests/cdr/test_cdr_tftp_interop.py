"""
The cdr component's TFTP server (L{oso.cdr.tftpserver}) on a real loopback
UDP port: fetched by Debian's real TFTP clients (C{tftp} of tftp-hpa,
C{atftp}) and by a hand-driven UDP client for what those clients never do
(abort, a second client during a transfer, garbage).
"""

import os
import shutil
import tempfile

from twisted.application.service import MultiService
from twisted.internet import reactor
from twisted.internet.defer import Deferred, ensureDeferred, gatherResults
from twisted.internet.protocol import DatagramProtocol
from twisted.internet.utils import getProcessOutputAndValue
from twisted.logger import globalLogPublisher
from twisted.python.filepath import FilePath
from twisted.trial.unittest import SkipTest, TestCase

from oso.cdr import tftp
from oso.cdr.record import CallRecord, Direction, Disposition
from oso.plugins.cdr import cdr
from oso.service import ServerContext
from oso.testing import Exchange

WHERE = "oso.toml: components.cdr"


def client(name):
    """
    The path of a TFTP client program; a skip when it is missing, a failure
    under CI, which installs it.
    """
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (apt-get install tftp-hpa atftp)"
        if os.environ.get("CI") == "true":
            raise AssertionError(message)
        raise SkipTest(message)
    return path


def makeRecord(i):
    """
    A distinct outgoing record for call number C{i}.
    """
    return CallRecord(
        callID=f"call-{i}",
        endTime=1_340_190_695 + i,
        ringSeconds=2,
        durationSeconds=7 + i,
        line="201",
        subscriber=str(100 + i % 50),
        externalNumber=f"0891234{i:04d}",
        direction=Direction.outgoing,
        disposition=Disposition.answered,
        chargeUnits=i % 9,
    )


class UDPClient(DatagramProtocol):
    """
    A hand-driven TFTP client: records what it receives.
    """

    def __init__(self):
        self.received = []
        self._waiting = None

    def datagramReceived(self, datagram, address):
        self.received.append((tftp.decode(datagram), address))
        if self._waiting is not None:
            waiting, self._waiting = self._waiting, None
            waiting.callback(None)

    async def next(self):
        """
        The next packet received, with its sender.
        """
        if not self.received:
            self._waiting = Deferred()
            timeout = reactor.callLater(10, self._waiting.cancel)
            await self._waiting
            timeout.cancel()
        return self.received.pop(0)


class TFTPInteropTests(TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.directory)
        self.x = Exchange()
        self.context = ServerContext(
            reactor, self.x.model, self.x.store, FilePath(self.directory), None,
            MultiService(),
        )
        self.count = 0

    async def start(self, **section):
        section.setdefault("tftp", "udp:0:interface=127.0.0.1")
        self.service = cdr.makeService(cdr.validateConfig(section, WHERE), self.context)
        await self.service.startService()
        self.addCleanup(self.service.stopService)
        self.port = self.service.tftp.port.getHost().port

    async def write(self, n):
        """
        Append C{n} new records; return them in the configured format.
        """
        format = self.service.recordFormat()
        first, self.count = self.count + 1, self.count + n
        written = await gatherResults(
            [self.service.write(makeRecord(i)) for i in range(first, self.count + 1)]
        )
        return b"".join(format.formatRecord(record) for record in written)

    async def runClient(self, *argv):
        """
        Run a client program to its end; wait until the server has dealt
        with the transfer (records acknowledged or left).

        @return: what the program printed.
        """
        out, err, code = await getProcessOutputAndValue(
            argv[0], argv[1:], env=os.environ, path=self.directory
        )
        self.assertEqual(code, 0, err)
        if self.service.tftp.serving is not None:
            await self.service.tftp.serving
        return out + err

    async def hpa(self, name="gez.txt", mode="binary"):
        """
        Fetch a file with tftp-hpa's C{tftp}; its bytes, or L{None} when
        the client wrote nothing.
        """
        dest = os.path.join(self.directory, "fetched")
        if os.path.exists(dest):
            os.unlink(dest)
        output = await self.runClient(
            client("tftp"), "127.0.0.1", str(self.port), "-m", mode, "-c", "get", name,
            dest,
        )
        self.output = output.decode("latin-1")
        with open(dest, "rb") as f:
            return f.read()

    def test_fetchTwiceWithTftpHpa(self):
        """
        tftp-hpa fetches gez.txt: exactly the records written, in the
        openscape format; they are acknowledged, so the next fetch gets
        only the records written since, and then an empty file.
        """

        async def go():
            client("tftp")
            await self.start()
            first = await self.write(5)
            self.assertEqual(await self.hpa(), first)
            self.assertEqual(self.service.journal.pending, 0)
            second = await self.write(3)
            got = await self.hpa()
            self.assertEqual(got, second)
            self.assertEqual(got.count(b"\r\n"), 3)
            self.assertEqual(await self.hpa(), b"")

        return ensureDeferred(go())

    def test_largeFileBlockBoundary(self):
        """
        The hipath-fixed format (111 bytes a record): 512 records are
        exactly 111 blocks of 512 bytes, ended by an empty block; 2000
        records make a file of many blocks.  Both arrive whole.
        """

        async def go():
            client("tftp")
            await self.start(format="hipath-fixed")
            exact = await self.write(512)
            self.assertEqual(len(exact) % 512, 0)
            self.assertEqual(await self.hpa(), exact)
            many = await self.write(2000)
            self.assertEqual(await self.hpa(), many)
            self.assertEqual(self.service.journal.pending, 0)

        return ensureDeferred(go())

    def test_limits(self):
        """
        A file holds at most maxRecords records and maxBytes bytes; the
        records after the cut are not acknowledged and come with the next
        fetch, none lost, none doubled.
        """

        async def go():
            client("tftp")
            await self.start()
            records = await self.write(7)
            line = len(records) // 7
            self.service.tftp.maxRecords = 3
            self.assertEqual(await self.hpa(), records[: 3 * line])
            self.assertEqual(self.service.journal.pending, 4)
            self.service.tftp.maxBytes = 2 * line + line // 2
            self.assertEqual(await self.hpa(), records[3 * line : 5 * line])
            self.assertEqual(await self.hpa(), records[5 * line :])
            self.assertEqual(self.service.journal.pending, 0)

        return ensureDeferred(go())

    def test_netascii(self):
        """
        Fetched in netascii mode, jsonl records (LF lines) travel as CR LF
        lines, which tftp-hpa turns back into the same LF lines.
        """

        async def go():
            client("tftp")
            await self.start(format="jsonl")
            records = await self.write(4)
            self.assertEqual(await self.hpa(mode="ascii"), records)

        return ensureDeferred(go())

    def test_refusals(self):
        """
        Another file name gets ERROR 1, a write ERROR 2; neither
        acknowledges anything.
        """

        async def go():
            client("tftp")
            await self.start(**{"tftp-file": "charges.txt"})
            records = await self.write(2)
            await self.hpa("gez.txt")
            self.assertIn("Error code 1", self.output)
            upload = os.path.join(self.directory, "upload")
            with open(upload, "wb") as f:
                f.write(b"forged records\r\n")
            output = await self.runClient(
                client("tftp"), "127.0.0.1", str(self.port), "-m", "binary", "-c",
                "put", upload, "charges.txt",
            )
            self.assertIn(b"Error code 2", output)
            self.assertEqual(self.service.journal.pending, 2)
            self.assertEqual(await self.hpa("charges.txt"), records)

        return ensureDeferred(go())

    def test_atftpWithOptions(self):
        """
        atftp asks for tsize, blksize and timeout: the OACK answers them
        and the file arrives in blocks of the negotiated size, here 111
        bytes so that hipath-fixed records end exactly on a block boundary.
        """

        async def go():
            atftp = client("atftp")
            await self.start(format="hipath-fixed")
            records = await self.write(40)
            dest = os.path.join(self.directory, "fetched")
            output = await self.runClient(
                atftp, "--trace", "--option", "tsize 0", "--option", "blksize 111",
                "--option", "timeout 2", "-g", "-r", "gez.txt", "-l", dest,
                "127.0.0.1", str(self.port),
            )
            oack = b"received OACK <tsize: 4440, timeout: 2, blksize: 111"
            self.assertIn(oack, output)
            self.assertIn(b"DATA <block: 41, size 0>", output)
            with open(dest, "rb") as f:
                self.assertEqual(f.read(), records)
            self.assertEqual(self.service.journal.pending, 0)

        return ensureDeferred(go())

    async def request(self, **options):
        """
        Send an RRQ from a hand-driven client.
        """
        udp = UDPClient()
        listening = reactor.listenUDP(0, udp, interface="127.0.0.1")
        self.addCleanup(listening.stopListening)
        packet = tftp.Request(False, "gez.txt", "octet", options)
        listening.write(tftp.encode(packet), ("127.0.0.1", self.port))
        return udp, listening

    def test_abortDeletesNothing(self):
        """
        A client that gives up after the first block (ERROR) has
        acknowledged nothing: every record stays and the next fetch gets
        them all.
        """

        async def go():
            client("tftp")
            await self.start()
            records = await self.write(30)
            udp, listening = await self.request()
            data, transferID = await udp.next()
            self.assertEqual(data, tftp.Data(1, records[:512]))
            self.assertNotEqual(transferID[1], self.port)
            error = tftp.Error(tftp.ErrorCode.diskFull, "disk full")
            listening.write(tftp.encode(error), transferID)
            await self.service.tftp.serving
            self.assertEqual(self.service.journal.pending, 30)
            self.assertEqual(await self.hpa(), records)

        return ensureDeferred(go())

    def test_stopDuringTransfer(self):
        """
        Stopping the component during a transfer tells the client with
        ERROR 0 and acknowledges nothing; the records are there after a
        restart.
        """

        async def go():
            await self.start()
            await self.write(20)
            udp, _ = await self.request()
            data, _ = await udp.next()
            self.assertEqual(data.block, 1)
            await self.service.stopService()
            error, _ = await udp.next()
            stopping = tftp.Error(tftp.ErrorCode.notDefined, "server stopping")
            self.assertEqual(error, stopping)
            await self.start()
            self.assertEqual(self.service.journal.pending, 20)

        return ensureDeferred(go())

    def test_oneTransferAtATime(self):
        """
        While one client fetches the file, another is told to try again
        (it would get the same records); a repeated request of the first
        client is ignored.  Then the first client completes.
        """

        async def go():
            await self.start()
            records = await self.write(3)
            first, firstPort = await self.request(blksize="100")
            oack, transferID = await first.next()
            self.assertEqual(oack, tftp.OptionAck({"blksize": "100"}))
            firstPort.write(
                tftp.encode(tftp.Request(False, "gez.txt", "octet", {})),
                ("127.0.0.1", self.port),
            )
            second, _ = await self.request()
            busy, sender = await second.next()
            self.assertEqual(busy.code, tftp.ErrorCode.notDefined)
            self.assertEqual(sender[1], self.port)
            got = b""
            for block in range(0, 2):
                firstPort.write(tftp.encode(tftp.Ack(block)), transferID)
                data, _ = await first.next()
                self.assertEqual(data.block, block + 1)
                got += data.payload
            firstPort.write(tftp.encode(tftp.Ack(2)), transferID)
            await self.service.tftp.serving
            self.assertEqual((got, first.received), (records, []))
            self.assertEqual(self.service.journal.pending, 0)

        return ensureDeferred(go())

    def test_garbageLogged(self):
        """
        A malformed datagram at the server port gets ERROR 4 and a log
        line; the server goes on serving.
        """
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)

        async def go():
            await self.start()
            udp = UDPClient()
            listening = reactor.listenUDP(0, udp, interface="127.0.0.1")
            self.addCleanup(listening.stopListening)
            listening.write(b"\0\1gez.txt", ("127.0.0.1", self.port))
            error, _ = await udp.next()
            self.assertEqual(error.code, tftp.ErrorCode.illegalOperation)
            self.assertTrue(
                any("malformed packet" in e.get("reason", "") for e in events)
            )
            request = tftp.Request(False, "gez.txt", "octet", {})
            listening.write(tftp.encode(request), ("127.0.0.1", self.port))
            data, _ = await udp.next()
            self.assertEqual(data, tftp.Data(1, b""))

        return ensureDeferred(go())
