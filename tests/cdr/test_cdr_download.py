"""
Tests for the CDR download (L{oso.cdr.download}, L{oso.cdr.downloadlistener}):
real HTTPS on loopback with treq trusting the server's self-signed
certificate, a real journal in a temporary folder.
"""

import base64
import json
import shutil
import tempfile

from twisted.internet import reactor
from twisted.internet.defer import Deferred, ensureDeferred, succeed
from twisted.internet.endpoints import SSL4ClientEndpoint, connectProtocol
from twisted.internet.protocol import Protocol
from twisted.internet.ssl import Certificate, optionsForClientTLS
from twisted.internet.task import deferLater
from twisted.logger import globalLogPublisher
from twisted.python.filepath import FilePath
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.client import Agent, BrowserLikePolicyForHTTPS
from treq.client import HTTPClient
from zope.interface.verify import verifyObject

from oso.cdr.download import CDRDownload, PasswordCheck, basicCredentials, renderLines
from oso.cdr.downloadlistener import (
    DownloadListener,
    DownloadSettings,
    parseDownloadSettings,
    withCertificate,
)
from oso.cdr.formats import HiPathFixedFormat, JSONLinesFormat, OpenScapeFormat
from oso.cdr.journal import Journal, SyncJournal
from oso.cdr.record import CallRecord, Direction, Disposition
from oso.certificates import ensureCertificate
from oso.config import ConfigError
from oso.secrets import hashPassword, verifyPassword

USER, PASSWORD = "billing", "s3cret pass"
WHERE = "oso.toml: components.cdr"
FORMATS = {
    "jsonl": JSONLinesFormat(),
    "openscape": OpenScapeFormat(),
    "hipath-fixed": HiPathFixedFormat(),
}


def makeRecord(i):
    return CallRecord(
        callID=f"call-{i}",
        endTime=1_340_190_695 + i,
        ringSeconds=i % 7,
        durationSeconds=i * 3,
        line="201",
        subscriber=str(100 + i % 50),
        externalNumber=f"0891234{i:05d}",
        direction=Direction.outgoing,
        disposition=Disposition.answered,
    )


def fillJournal(directory, count, start=1):
    """
    Write records C{start} to C{start + count - 1} straight to the journal
    files.
    """
    journal = SyncJournal(directory)
    journal.open()
    journal.appendBatch([makeRecord(i) for i in range(start, start + count)])
    journal.close()


def authorization(user=USER, password=PASSWORD):
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


class Server:
    """
    A journal with the download on its own HTTPS listener on 127.0.0.1.
    """

    def __init__(self, directory, accounts):
        self.directory = directory
        self.accounts = accounts

    async def start(self):
        self.journal = Journal(self.directory.child("cdr").path, reactor)
        await self.journal.open()
        self.download = CDRDownload(
            reactor,
            self.journal,
            FORMATS.__getitem__,
            "jsonl",
            PasswordCheck(reactor, self.accounts),
            batchSize=10,
        )
        self.listener = DownloadListener(
            reactor, "ssl:0:interface=127.0.0.1", self.directory, self.download
        )
        await self.listener.start()
        self.url = f"https://127.0.0.1:{self.listener.port.getHost().port}/cdr"

    async def stop(self):
        await self.listener.stop()
        await self.journal.close()


class DownloadTestCase(TestCase):
    """
    A server with C{records} records, and a treq client that trusts its
    certificate.
    """

    records = 25

    def setUp(self):
        path = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, path)
        self.directory = FilePath(path)
        fillJournal(self.directory.child("cdr").path, self.records)
        self.accounts = {USER: hashPassword(PASSWORD)}
        self.server = Server(self.directory, self.accounts)
        pem = ensureCertificate(self.directory).certificate.getContent()
        policy = BrowserLikePolicyForHTTPS(trustRoot=Certificate.loadPEM(pem))
        self.http = HTTPClient(Agent(reactor, contextFactory=policy))
        return ensureDeferred(self.start())

    async def start(self):
        await self.server.start()
        self.addCleanup(lambda: ensureDeferred(self.server.stop()))

    async def request(self, method, path, headers=None, **kwargs):
        """
        @return: C{(response, body)}.
        """
        response = await self.http.request(
            method,
            self.server.url + path,
            headers=authorization() if headers is None else headers,
            **kwargs,
        )
        return response, await response.content()

    async def getBatch(self, **params):
        response, body = await self.request("GET", "/batch", params=params)
        return response, body

    def header(self, response, name):
        values = response.headers.getRawHeaders(name)
        return values[0] if values else None

    def ids(self, body):
        return [json.loads(line)["recordID"] for line in body.splitlines()]


class TwoPhaseTests(DownloadTestCase):
    def test_getAgainAckNext(self):
        """
        A GET gives the oldest unacknowledged records as a batch with an id
        and its range in headers; a second GET before the acknowledgement
        gives the same batch; POST .../ack acknowledges exactly it, and the
        next GET gives the records after it, until none are left (204).
        DELETE acknowledges a batch too.
        """

        async def go():
            response, body = await self.getBatch()
            self.assertEqual(response.code, 200)
            self.assertEqual(
                [self.header(response, f"X-CDR-{n}") for n in ("Batch", "First", "Last", "Count")],
                ["1-10", "1", "10", "10"],
            )
            self.assertEqual(self.header(response, "Content-Type"), "application/jsonl")
            self.assertEqual(self.ids(body), list(range(1, 11)))
            self.assertEqual(
                body.splitlines()[0], makeRecord(1).withRecordID(1).toJSON().encode()
            )

            again, bodyAgain = await self.getBatch(limit="3")
            self.assertEqual(self.header(again, "X-CDR-Batch"), "1-10")
            self.assertEqual(bodyAgain, body)

            ack, ackBody = await self.request("POST", "/batch/1-10/ack")
            self.assertEqual(ack.code, 200)
            self.assertEqual(
                json.loads(ackBody),
                {"batch": "1-10", "acknowledged": 10, "acknowledgedID": 10},
            )
            self.assertEqual(self.server.journal.pending, 15)

            response, body = await self.getBatch(limit="7")
            self.assertEqual(self.header(response, "X-CDR-Batch"), "11-17")
            self.assertEqual(self.ids(body), list(range(11, 18)))
            deleted, _ = await self.request("DELETE", "/batch/11-17")
            self.assertEqual(deleted.code, 200)

            response, body = await self.getBatch(limit="100")
            self.assertEqual(self.header(response, "X-CDR-Batch"), "18-25")
            self.assertEqual(self.ids(body), list(range(18, 26)))
            await self.request("POST", "/batch/18-25/ack")

            empty, body = await self.getBatch()
            self.assertEqual((empty.code, body), (204, b""))
            self.assertEqual(self.header(empty, "X-CDR-Count"), "0")
            self.assertEqual(self.server.journal.pending, 0)

        return ensureDeferred(go())

    def test_ackIdempotent(self):
        """
        Acknowledging a batch already acknowledged answers 200 and changes
        nothing.
        """

        async def go():
            await self.getBatch()
            first, _ = await self.request("POST", "/batch/1-10/ack")
            second, body = await self.request("POST", "/batch/1-10/ack")
            self.assertEqual((first.code, second.code), (200, 200))
            self.assertEqual(json.loads(body)["acknowledged"], 0)
            self.assertEqual(self.server.journal.pending, 15)
            response, body = await self.getBatch()
            self.assertEqual(self.header(response, "X-CDR-Batch"), "11-20")

        return ensureDeferred(go())

    def test_staleOrUnknownBatch(self):
        """
        A batch that skips unacknowledged records, or names records that do
        not exist, is refused with 409 and a reason; a malformed id with
        400.  Nothing is acknowledged.
        """

        async def go():
            for batchID, code in [
                ("5-10", 409),
                ("1-26", 409),
                ("1-x", 400),
                ("10-1", 400),
            ]:
                response, body = await self.request("POST", f"/batch/{batchID}/ack")
                self.assertEqual(response.code, code, batchID)
                self.assertIn("error", json.loads(body))
            self.assertEqual(self.server.journal.pending, 25)

        return ensureDeferred(go())

    def test_authentication(self):
        """
        Without credentials, with a wrong password or an unknown user, every
        route answers 401 with a Basic challenge, and nothing is sent or
        acknowledged.
        """

        async def go():
            for headers in [{}, authorization(password="wrong"), authorization(user="x")]:
                for method, path in [("GET", "/batch"), ("GET", "/file"),
                                     ("POST", "/batch/1-10/ack"), ("DELETE", "/batch/1-10")]:
                    response, body = await self.request(method, path, headers=headers)
                    self.assertEqual(response.code, 401, (method, path))
                    self.assertEqual(
                        self.header(response, "WWW-Authenticate"),
                        'Basic realm="oso CDR", charset="UTF-8"',
                    )
                    self.assertNotIn(b"call-", body)
            self.assertEqual(self.server.journal.pending, 25)

        return ensureDeferred(go())

    def test_formats(self):
        """
        C{format=} picks the format the records are rendered in; an unknown
        one is a 400.
        """

        async def go():
            response, body = await self.getBatch(format="openscape", limit="4")
            self.assertEqual(self.header(response, "X-CDR-Batch"), "1-4")
            expected = b"".join(
                OpenScapeFormat().formatRecord(makeRecord(i).withRecordID(i))
                for i in range(1, 5)
            )
            self.assertEqual(body, expected)
            response, body = await self.getBatch(format="nope")
            self.assertEqual(response.code, 400)
            response, body = await self.getBatch(limit="0")
            self.assertEqual(response.code, 400)

        return ensureDeferred(go())

    def test_restartBetweenGetAndAck(self):
        """
        The batch id needs no state: after the server restarts between the
        GET and the acknowledgement, the same id acknowledges exactly those
        records, and nothing acknowledged comes back.
        """

        async def go():
            response, body = await self.getBatch()
            self.assertEqual(self.header(response, "X-CDR-Batch"), "1-10")
            await self.server.stop()
            self.server = Server(self.directory, self.accounts)
            await self.server.start()
            ack, ackBody = await self.request("POST", "/batch/1-10/ack")
            self.assertEqual(json.loads(ackBody)["acknowledged"], 10)
            response, body = await self.getBatch(limit="100")
            self.assertEqual(self.ids(body), list(range(11, 26)))

        return ensureDeferred(go())


    def test_journalClosed(self):
        """
        While the journal is not open, fetching answers 503 and
        acknowledging too; nothing is sent.
        """

        async def go():
            await self.server.journal.close()
            for method, path in [("GET", "/batch"), ("GET", "/file"),
                                 ("POST", "/batch/1-10/ack")]:
                response, body = await self.request(method, path)
                self.assertEqual(response.code, 503, path)
                self.assertNotIn(b"call-", body)

        return ensureDeferred(go())


class LargeBatchTests(DownloadTestCase):
    """
    Batches larger than one chunk of the journal.
    """

    records = 25_013

    def test_streamedInOrder(self):
        """
        A batch of more records than one read from the journal arrives whole
        and in order, in a parsed format and as JSON lines.
        """

        async def go():
            response, body = await self.getBatch(limit="25013", format="hipath-fixed")
            self.assertEqual(self.header(response, "X-CDR-Batch"), "1-25013")
            self.assertEqual(len(body), 25_013 * 111)
            self.assertEqual(
                body[-111:],
                HiPathFixedFormat().formatRecord(makeRecord(25_013).withRecordID(25_013)),
            )
            response, body = await self.getBatch(limit="25013")
            self.assertEqual(self.ids(body), list(range(1, 25_014)))

        return ensureDeferred(go())

    def test_fileAcknowledgedAfterCompleteTransfer(self):
        """
        The simple mode sends every unacknowledged record and acknowledges
        them once the response is complete.
        """

        async def go():
            acknowledged = self.logged("CDR file download complete")
            response, body = await self.request("GET", "/file")
            self.assertEqual(response.code, 200)
            self.assertEqual(self.header(response, "X-CDR-Batch"), "1-25013")
            self.assertEqual(self.ids(body), list(range(1, 25_014)))
            await acknowledged
            self.assertEqual(self.server.journal.pending, 0)
            response, body = await self.request("GET", "/file")
            self.assertEqual((response.code, body), (200, b""))

        return ensureDeferred(go())

    def test_fileCutShortAcknowledgesNothing(self):
        """
        A client that goes away in the middle of the file leaves every
        record unacknowledged, and the next download sends them all.
        """

        async def go():
            cutShort = self.logged("CDR file download cut short")
            received = await self.readPartly("/cdr/file", 200_000)
            self.assertIn(b"HTTP/1.1 200 OK", received)
            await cutShort
            self.assertEqual(self.server.journal.pending, 25_013)
            response, body = await self.request("GET", "/file", params={"format": "jsonl"})
            self.assertEqual(len(body.splitlines()), 25_013)

        return ensureDeferred(go())

    def logged(self, text):
        """
        @return: a L{Deferred} that fires when a log event's format starts
            with C{text}.
        """
        seen = Deferred()

        def observe(event):
            if event.get("log_format", "").startswith(text) and not seen.called:
                globalLogPublisher.removeObserver(observe)
                seen.callback(event)

        globalLogPublisher.addObserver(observe)
        self.addCleanup(
            lambda: seen.called or globalLogPublisher.removeObserver(observe)
        )
        return seen

    async def readPartly(self, path, count):
        """
        GET C{path} over a raw TLS connection and abort the connection after
        C{count} bytes.

        @return: the bytes received.
        """
        done = Deferred()
        received = []

        class Reader(Protocol):
            def connectionMade(self):
                self.transport.write(
                    b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: %s\r\n\r\n"
                    % (path.encode(), authorization()["Authorization"].encode())
                )

            def dataReceived(self, data):
                received.append(data)
                if sum(map(len, received)) >= count:
                    self.transport.abortConnection()

            def connectionLost(self, reason):
                done.callback(b"".join(received))

        pem = ensureCertificate(self.directory).certificate.getContent()
        options = optionsForClientTLS("127.0.0.1", Certificate.loadPEM(pem))
        endpoint = SSL4ClientEndpoint(
            reactor, "127.0.0.1", self.server.listener.port.getHost().port, options
        )
        await connectProtocol(endpoint, Reader())
        return await done


class UnitTests(SynchronousTestCase):
    def test_writerIsPushProducer(self):
        """
        The body writer is the request's streaming producer while it writes;
        a write made while the connection paused it returns only on resume,
        and one waiting when the connection goes away fails.
        """
        from twisted.internet.error import ConnectionLost
        from twisted.internet.interfaces import IPushProducer

        from oso.cdr.download import _Writer

        class Request:
            producer = None

            def __init__(self):
                self.written = []

            def registerProducer(self, producer, streaming):
                self.producer, self.streaming = producer, streaming

            def unregisterProducer(self):
                self.producer = None

            def write(self, data):
                self.written.append(data)

        request = Request()
        writer = _Writer(request)
        verifyObject(IPushProducer, writer)
        self.assertEqual((request.producer, request.streaming), (writer, True))
        self.successResultOf(ensureDeferred(writer.write(b"a")))
        writer.pauseProducing()
        waiting = ensureDeferred(writer.write(b"b"))
        self.assertNoResult(waiting)
        writer.resumeProducing()
        self.successResultOf(waiting)
        writer.pauseProducing()
        waiting = ensureDeferred(writer.write(b"c"))
        writer.stopProducing()
        self.failureResultOf(waiting, ConnectionLost)
        self.failureResultOf(ensureDeferred(writer.write(b"d")), ConnectionLost)
        self.assertEqual(request.written, [b"a", b"b", b"c"])
        writer.done()
        self.assertIsNone(request.producer)

    def test_basicCredentials(self):
        """
        The Basic header is decoded; anything else is no credentials.
        """
        self.assertEqual(
            basicCredentials(b"Basic " + base64.b64encode(b"u:p:q")), ("u", "p:q")
        )
        for header in [None, b"", b"Digest abc", b"Basic !!!", b"Basic "
                       + base64.b64encode(b"nocolon"), b"Basic " + base64.b64encode(b"\xff:x")]:
            self.assertIsNone(basicCredentials(header), header)

    def test_renderLinesSkipsNonRecords(self):
        """
        JSON lines pass through; a line that is not a record is left out of
        a parsed format and logged.
        """
        good = makeRecord(1).withRecordID(1)
        lines = [(1, good.toJSON().encode()), (2, b'{"recordID": 2}')]
        self.assertEqual(
            renderLines(JSONLinesFormat(), lines[:1]), good.toJSON().encode() + b"\n"
        )
        self.assertEqual(renderLines(JSONLinesFormat(), []), b"")
        logged = []
        globalLogPublisher.addObserver(logged.append)
        self.addCleanup(globalLogPublisher.removeObserver, logged.append)
        self.assertEqual(
            renderLines(OpenScapeFormat(), lines), OpenScapeFormat().formatRecord(good)
        )
        self.assertEqual(
            [e["recordID"] for e in logged if "is not a record" in e.get("log_format", "")],
            [2],
        )

    def test_settings(self):
        """
        The download is off by default; a plain password is kept as an
        scrypt hash; a listener without a password, a non-TLS endpoint and
        bad values are errors naming the key.
        """
        self.assertEqual(parseDownloadSettings({}, WHERE), DownloadSettings())
        settings = parseDownloadSettings(
            {"https": "ssl:8803", "https-password": "pw", "https-user": "bill",
             "batch-size": 5},
            WHERE,
        )
        self.assertEqual((settings.listen, settings.user, settings.batchSize),
                         ("ssl:8803", "bill", 5))
        self.assertTrue(verifyPassword("pw", settings.accounts()["bill"]))
        stored = hashPassword("x")
        self.assertEqual(
            parseDownloadSettings({"https-password-hash": stored}, WHERE).accounts(),
            {"billing": stored},
        )
        for section, key in [
            ({"https": "ssl:8803"}, "https"),
            ({"https": "tcp:8803", "https-password": "pw"}, "https"),
            ({"https-password": "a", "https-password-hash": stored}, "https-password"),
            ({"https-password": ""}, "https-password"),
            ({"https-password-hash": "plain"}, "https-password-hash"),
            ({"https-user": "a:b"}, "https-user"),
            ({"batch-size": 0}, "batch-size"),
        ]:
            with self.assertRaises(ConfigError) as caught:
                parseDownloadSettings(section, WHERE)
            self.assertIn(f"{WHERE}.{key}", str(caught.exception))

    def test_withCertificate(self):
        """
        An C{ssl:} description without a key gets the server's certificate;
        one with its own key is left alone.
        """
        path = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, path)
        files = ensureCertificate(path)
        self.assertEqual(
            withCertificate("ssl:0", FilePath(path)), "ssl:0:" + files.endpointArguments()
        )
        self.assertEqual(withCertificate("ssl:0:privateKey=k", path), "ssl:0:privateKey=k")

    def test_passwordCheckCaches(self):
        """
        A password that passed once is accepted again without scrypt; a
        wrong one never is, and an unknown user costs no scrypt.
        """
        from oso.cdr import download

        calls = []

        def counting(password, stored):
            calls.append(password)
            return verifyPassword(password, stored)

        self.patch(download, "verifyPassword", counting)
        self.patch(download, "deferToThreadPool", lambda r, p, f, *a: succeed(f(*a)))
        check = PasswordCheck(reactor, {"u": hashPassword("p")})
        results = []
        for user, password in [("u", "wrong"), ("u", "p"), ("u", "p"), ("v", "p"),
                               ("u", "wrong")]:
            check.check(user, password).addCallback(results.append)
        self.assertEqual(results, [False, True, True, False, False])
        self.assertEqual(calls, ["wrong", "p", "wrong"])


class ComponentTests(TestCase):
    """
    The cdr component with its C{https} key: its own listener serves the
    journal it records into, in the formats of the cdr-format components.
    """

    def test_componentServesItsJournal(self):
        """
        A call recorded by the running component is fetched over its own
        HTTPS listener in the configured format and, with C{format=}, in any
        other; an unknown format is a 400; stopping the component stops
        the listener.
        """
        from twisted.application.service import MultiService

        from oso.plugins.cdr import cdr
        from oso.service import ServerContext
        from oso.testing import Exchange

        path = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, path)
        data = FilePath(path)
        x = Exchange()
        context = ServerContext(reactor, x.model, x.store, data, None, MultiService())
        settings = cdr.validateConfig(
            {"record-internal": True, "https": "ssl:0:interface=127.0.0.1",
             "https-password": PASSWORD, "format": "openscape"},
            WHERE,
        )
        service = cdr.makeService(settings, context)

        async def go():
            await service.startService()
            port = await service.listener.whenListening()
            url = f"https://127.0.0.1:{port.getHost().port}/cdr/batch"
            x.call("100", "101")
            x.phone("101").answer()
            x.phone("100").hangUp()
            while service.journal.pending < 2:
                await deferLater(reactor, 0.01, lambda: None)
            pem = ensureCertificate(data).certificate.getContent()
            policy = BrowserLikePolicyForHTTPS(trustRoot=Certificate.loadPEM(pem))
            http = HTTPClient(Agent(reactor, contextFactory=policy))
            try:
                bodies = {}
                for name in ["", "csv", "nope"]:
                    response = await http.get(
                        url, params={"format": name} if name else {}, headers=authorization()
                    )
                    bodies[name] = (response.code, await response.content())
            finally:
                await service.stopService()
            records = await ensureDeferred(self.readBack(data))
            self.assertEqual(bodies[""], (200, b"".join(
                OpenScapeFormat().formatRecord(r) for r in records)))
            self.assertEqual(bodies["csv"][0], 200)
            self.assertTrue(bodies["csv"][1].startswith(b"recordID,callID,"))
            self.assertEqual(len(bodies["csv"][1].splitlines()), 3)
            self.assertEqual(bodies["nope"][0], 400)
            self.assertIsNone(service.listener.port)

        return ensureDeferred(go())

    async def readBack(self, data):
        journal = Journal(data.child("cdr").path, reactor)
        await journal.open()
        try:
            return await journal.read(0, 10)
        finally:
            await journal.close()
