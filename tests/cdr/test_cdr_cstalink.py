"""
The CSTA call detail record services live: the csta and cdr components on
a real loopback port, a real CSTA client socket in BER and in XML.  A
started transmission reports each record as it is written; only records
whose report the client answered are acknowledged in the journal;
SendStoredCallDetailRecords brings the rest; a stopped transmission
reports nothing more.
"""

import shutil
import tempfile

from twisted.application.service import MultiService
from twisted.internet import reactor
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.python.filepath import FilePath
from twisted.trial.unittest import TestCase

from oso.cdr.record import CallRecord, Direction, Disposition
from oso.csta import ber
from oso.csta import messages as m
from oso.csta.framing import BERFramer, XMLFramer, frameXML
from oso.csta.xml import Edition, modelCodec
from oso.plugins.cdr import cdr
from oso.plugins.csta import csta
from oso.service import ServerContext
from oso.testing import Exchange

CODEC = modelCodec()
PHASE3 = "1.3.12.0.285.200"


def makeRecord(i, direction=Direction.outgoing):
    return CallRecord(
        callID=f"call-{i}",
        endTime=1_340_190_695 + i,
        ringSeconds=2,
        durationSeconds=7,
        line="201",
        subscriber="100",
        externalNumber="0891234",
        direction=direction,
        disposition=Disposition.answered,
        accountCode="42",
    )


class Client(Protocol):
    """
    A CSTA client socket: decodes what arrives, in BER or XML; C{next()}
    gives the next message.
    """

    def __init__(self, xml):
        self.xml = xml
        self.framer = XMLFramer() if xml else BERFramer()
        self.messages = []
        self._waiting = None

    def dataReceived(self, data):
        for frame in self.framer.feed(data):
            if self.xml:
                invokeID, document = frame
                self.messages.append((invokeID, CODEC.decode(document)[1]))
            else:
                self.messages.append(ber.decode(frame))
        if self._waiting is not None and self.messages:
            waiting, self._waiting = self._waiting, None
            waiting.callback(None)

    async def next(self):
        if not self.messages:
            self._waiting = Deferred()
            timeout = reactor.callLater(10, self._waiting.cancel)
            await self._waiting
            timeout.cancel()
        return self.messages.pop(0)

    def send(self, invokeID, message):
        """
        BER: an invoke of C{message} (an argument) or a returnResult (a
        result, answering C{invokeID}); XML: the document with C{invokeID}.
        """
        if self.xml:
            self.transport.write(frameXML(invokeID, CODEC.encode(message, Edition.ED5)))
            return
        from oso.csta.operations import BY_RESULT, operationFor

        if type(message) in BY_RESULT:
            apdu = m.ReturnResult(
                invokeID=invokeID, operation=BY_RESULT[type(message)].name, result=message
            )
        else:
            apdu = m.Invoke(
                invokeID=invokeID, operation=operationFor(message).name, argument=message
            )
        self.transport.write(ber.encode(apdu))

    async def call(self, invokeID, request):
        """
        Send a request; return its response (server invokes met meanwhile
        stay queued for L{next}).
        """
        self.send(invokeID, request)
        while True:
            for index, message in enumerate(self.messages):
                if self._answers(message, invokeID):
                    del self.messages[index]
                    return self._payload(message)
            self._waiting = Deferred()
            timeout = reactor.callLater(10, self._waiting.cancel)
            await self._waiting
            timeout.cancel()

    def _answers(self, message, invokeID):
        if self.xml:
            return message[0] == invokeID and type(message[1]).__name__.endswith(
                ("Response", "Failure")
            )
        return isinstance(message, (m.ReturnResult, m.ReturnError)) and (
            message.invokeID == invokeID
        )

    def _payload(self, message):
        if self.xml:
            return message[1]
        return message.result if isinstance(message, m.ReturnResult) else message.failure

    async def report(self):
        """
        The next CallDetailRecordsReport the server invokes: its invoke id
        and argument (SystemStatus invokes are skipped).
        """
        while True:
            message = await self.next()
            if self.xml:
                invokeID, argument = message
            else:
                invokeID, argument = message.invokeID, message.argument
            if isinstance(argument, m.CallDetailRecordsReport):
                return invokeID, argument


class CDRLinkTests(TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.directory)

    async def start(self, xml):
        x = Exchange()
        services = MultiService()
        context = ServerContext(
            reactor, x.model, x.store, FilePath(self.directory), None, services
        )
        cstaService = csta.makeService(
            csta.validateConfig({"listen": ["tcp:0:interface=127.0.0.1"]}, "csta"), context
        )
        cstaService.setName("csta")
        cstaService.setServiceParent(services)
        self.cdr = cdr.makeService(cdr.validateConfig({}, "cdr"), context)
        self.cdr.setName("cdr")
        self.cdr.setServiceParent(services)
        cstaService.startService()
        await self.cdr.startService()
        self.addCleanup(cstaService.stopService)
        self.addCleanup(self.cdr.stopService)
        port = await list(cstaService)[0]._waitingForPort
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
        client = await endpoint.connect(Factory.forProtocol(lambda: Client(xml)))
        self.addCleanup(client.transport.loseConnection)
        if not xml:
            client.transport.write(ber.encode(m.AssociationRequest(applicationContextName=PHASE3)))
            aare = await client.next()
            self.assertEqual(aare.result, m.AssociateResult.accepted)
        return client

    async def written(self, i, **kw):
        return await self.cdr.write(makeRecord(i, **kw))

    async def settled(self, client):
        """
        A round trip on the link and on the journal's worker thread: what
        the server was going to do with earlier answers is done.
        """
        await client.call(900, m.RequestSystemStatus())
        await self.cdr.journal.read(0, 1)
        await client.call(901, m.RequestSystemStatus())
        await self.cdr.journal.read(0, 1)

    async def scenario(self, xml):
        client = await self.start(xml)
        started = await client.call(
            1,
            m.StartCallDetailRecordsTransmission(
                transferMode=m.CDRTransferMode.transferAtEndOfCall
            ),
        )
        crossRef = started.cdrCrossRefID
        again = await client.call(
            2,
            m.StartCallDetailRecordsTransmission(
                transferMode=m.CDRTransferMode.transferAtEndOfCall
            ),
        )
        self.assertEqual(again.value, "requestIncompatibleWithObject")

        first = await self.written(1)
        second = await self.written(2, direction=Direction.incoming)
        invokeID, report = await client.report()
        self.assertEqual(report.cdrCrossRefID, crossRef)
        self.assertEqual(report.numberOfRecordsSent, 1)
        [item] = report.cdrInfo
        self.assertEqual(item.recordNumber, first.recordID)
        self.assertEqual((item.callingDevice, item.calledDevice), ("100", "0891234"))
        self.assertEqual((item.connectionDuration, item.accountInfo), (7, "42"))
        self.assertEqual(
            report.privateData, (self.cdr.recordFormat().formatRecord(first),)
        )
        client.send(invokeID, m.CallDetailRecordsReportResponse())
        invokeID2, report2 = await client.report()
        [item2] = report2.cdrInfo
        self.assertEqual((item2.recordNumber, item2.callingDevice), (second.recordID, "0891234"))
        # The second report is not answered: only the first record is
        # transmitted.
        await self.settled(client)
        self.assertEqual(self.cdr.journal.pending, 1)

        stored = await client.call(3, m.SendStoredCallDetailRecords(cdrCrossRefID=crossRef))
        self.assertEqual(stored, m.SendStoredCallDetailRecordsResponse())
        invokeID3, report3 = await client.report()
        self.assertEqual([i.recordNumber for i in report3.cdrInfo], [second.recordID])
        self.assertTrue(report3.lastStoredCDRReportSent)
        client.send(invokeID3, m.CallDetailRecordsReportResponse())
        await self.settled(client)
        self.assertEqual(self.cdr.journal.pending, 0)
        # A late answer to the first report of that record changes nothing.
        client.send(invokeID2, m.CallDetailRecordsReportResponse())

        stopped = await client.call(4, m.StopCallDetailRecordsTransmission(cdrCrossRefID=crossRef))
        self.assertEqual(stopped, m.StopCallDetailRecordsTransmissionResponse())
        await self.written(3)
        await self.settled(client)
        self.assertFalse(
            [x for x in client.messages if "CallDetailRecordsReport" in repr(x)]
        )
        self.assertEqual(self.cdr.journal.pending, 1)
        unknown = await client.call(5, m.SendStoredCallDetailRecords(cdrCrossRefID=crossRef))
        self.assertEqual(unknown.value, "invalidCrossRefID")

    def test_ber(self):
        """
        ECMA-285 BER link: start, reports as records are written, only the
        answered report acknowledged, stored records on request, stop.
        """
        return ensureDeferred(self.scenario(xml=False))

    def test_xml(self):
        """
        The same over an ECMA-323 XML link.
        """
        return ensureDeferred(self.scenario(xml=True))

    def test_onRequestAndClosedLink(self):
        """
        C{transferOnRequest} reports nothing by itself; stored records come
        in reports of at most 50, the last flagged; a link closed before
        answering acknowledges nothing, and its transmission ends.
        """

        async def go():
            client = await self.start(xml=False)
            started = await client.call(
                1,
                m.StartCallDetailRecordsTransmission(
                    transferMode=m.CDRTransferMode.transferOnRequest
                ),
            )
            for i in range(120):
                await self.written(i)
            await self.settled(client)
            self.assertFalse(
                [x for x in client.messages if "CallDetailRecordsReport" in repr(x)]
            )
            await client.call(
                2, m.SendStoredCallDetailRecords(cdrCrossRefID=started.cdrCrossRefID)
            )
            counts = []
            while True:
                invokeID, report = await client.report()
                counts.append(len(report.cdrInfo))
                if report.lastStoredCDRReportSent:
                    break
                client.send(invokeID, m.CallDetailRecordsReportResponse())
            self.assertEqual(counts, [50, 50, 20])
            # The last report is never answered: the link goes.
            client.transport.loseConnection()
            await self.settled_journal()
            self.assertEqual(self.cdr.journal.pending, 20)
            self.assertEqual(self.cdr.transmissions.transmissions, {})

        return ensureDeferred(go())

    async def settled_journal(self):
        for _ in range(20):
            await self.cdr.journal.read(0, 1)
            d = Deferred()
            reactor.callLater(0.02, d.callback, None)
            await d
