"""
CDR download over HTTPS: the resource a billing system fetches call data
records from, as a klein app that the cdr component serves on its own TLS
listener and that the G-Server can mount under a path of its own (C{/cdr}).

Two ways to fetch, both authenticated with HTTP Basic (over TLS):

  - B{Two-phase} (C{GET batch}, then C{POST batch/<id>/ack} or C{DELETE
    batch/<id>}): a batch is the unacknowledged records with ids C{first}
    to C{last}, and its id is C{"<first>-<last>"}.  The id carries all the
    state, so it survives a restart of the server between the two steps;
    acknowledging it acknowledges exactly the records up to C{last}.
    Asked again before acknowledgement, C{GET} returns the same batch.
  - B{Simple} (C{GET file}): every unacknowledged record, acknowledged
    after the last byte of the response was handed to the connection;
    a transfer cut short acknowledges nothing.

Records are read from the journal's worker thread in chunks and written
as they come, paused while the connection's buffer is full, so a large
batch never sits in memory whole.  doc/cdr.md describes the protocol.
"""

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets

from klein import Klein
from twisted.internet.defer import Deferred, succeed
from twisted.internet.error import ConnectionLost
from twisted.internet.interfaces import IPushProducer
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from oso.cdr.formats import JSONLinesFormat
from oso.cdr.journal import JournalError
from oso.cdr.record import CallRecord, CDRError
from oso.secrets import verifyPassword

#: Records read from the journal, rendered and written at a time.
CHUNK_RECORDS = 10_000

_BATCH_ID = re.compile(r"(\d{1,18})-(\d{1,18})\Z")

log = Logger()


class PasswordCheck:
    """
    Checks HTTP Basic credentials against scrypt hashes (L{oso.secrets}).

    scrypt is slow on purpose, so it runs on the reactor's thread pool; a
    password that passed is remembered as a keyed digest (the key is made
    at random per process), so that a billing system fetching batch after
    batch pays for scrypt once, not for every request.
    """

    def __init__(self, reactor, accounts):
        """
        @param reactor: an L{IReactorThreads}.
        @param accounts: C{{user: passwordHash}}, hashes as
            L{oso.secrets.hashPassword} makes them.
        """
        self._reactor = reactor
        self._accounts = dict(accounts)
        self._key = secrets.token_bytes(32)
        self._passed = {}

    def _digest(self, password):
        return hmac.new(self._key, password.encode("utf-8"), hashlib.sha256).digest()

    def check(self, user, password):
        """
        @return: a L{Deferred} firing with whether C{user} exists and
            C{password} is its password.
        """
        stored = self._accounts.get(user)
        if stored is None:
            return succeed(False)
        digest = self._digest(password)
        if user in self._passed and hmac.compare_digest(self._passed[user], digest):
            return succeed(True)

        def verified(ok):
            if ok:
                self._passed[user] = digest
            return ok

        return deferToThreadPool(
            self._reactor, self._reactor.getThreadPool(), verifyPassword, password, stored
        ).addCallback(verified)


def basicCredentials(header):
    """
    The user and password of an HTTP Basic C{Authorization} header
    (RFC 7617), or L{None} when the header is absent or not Basic.

    @type header: L{bytes} or L{None}
    @rtype: C{(str, str)} or L{None}
    """
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(b" ")
    if scheme.lower() != b"basic":
        return None
    try:
        text = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = text.partition(":")
    if not colon:
        return None
    return user, password


def renderLines(format, lines):
    """
    Journal lines as the bytes of a format.  JSON lines pass the JSON the
    journal's checksum vouches for straight through; the other formats
    parse each record first.  A line whose JSON is not a record is logged
    and left out (its record is lost, as the journal's own reads say).

    @param format: an L{oso.interfaces.ICDRFormat}.
    @param lines: C{(recordID, jsonBytes)} pairs from
        L{oso.cdr.journal.Journal.readLines}.
    @rtype: L{bytes}
    """
    if isinstance(format, JSONLinesFormat):
        return b"\n".join(text for _, text in lines) + b"\n" if lines else b""
    out = []
    for recordID, text in lines:
        try:
            out.append(format.formatRecord(CallRecord.fromJSON(text)))
        except (ValueError, CDRError) as e:
            log.error(
                "CDR record {recordID} in the journal is not a record ({reason}); "
                "left out of the download, its record is lost",
                recordID=recordID,
                reason=str(e),
            )
    return b"".join(out)


@implementer(IPushProducer)
class _Writer:
    """
    Writes a response body chunk by chunk as the producer of the request,
    waiting while the connection's buffer is full.
    """

    def __init__(self, request):
        self._request = request
        self._paused = False
        self._resumed = None
        self._stopped = False
        request.registerProducer(self, True)

    def pauseProducing(self):
        self._paused = True

    def resumeProducing(self):
        self._paused = False
        waiting, self._resumed = self._resumed, None
        if waiting is not None and not waiting.called:
            waiting.callback(None)

    def stopProducing(self):
        self._stopped = True
        waiting, self._resumed = self._resumed, None
        if waiting is not None and not waiting.called:
            waiting.errback(ConnectionLost("the client went away"))

    async def write(self, data):
        """
        Write C{data}; return when the connection wants more.

        @raise ConnectionLost: when the connection is gone.
        """
        if self._stopped:
            raise ConnectionLost("the client went away")
        self._request.write(data)
        if self._paused:
            self._resumed = Deferred()
            await self._resumed

    def done(self):
        self._request.unregisterProducer()


def _json(request, code, body):
    request.setResponseCode(code)
    request.setHeader(b"Content-Type", b"application/json")
    request.setHeader(b"Cache-Control", b"no-store")
    return json.dumps(body).encode("utf-8") + b"\n"


class CDRDownload:
    """
    The CDR download resource.  C{resource()} is the klein resource; the
    routes are relative to where it is mounted (the cdr component's own
    listener mounts it at C{/cdr}):

      - C{GET batch?format=&limit=}: the open batch (C{204} when there is
        none to fetch); headers C{X-CDR-Batch}, C{X-CDR-First},
        C{X-CDR-Last}, C{X-CDR-Count}.
      - C{POST batch/<id>/ack}, C{DELETE batch/<id>}: acknowledge it.
      - C{GET file?format=}: everything unacknowledged, acknowledged when
        completely written.

    @ivar journal: the L{oso.cdr.journal.Journal}.
    """

    app = Klein()
    realm = "oso CDR"

    def __init__(self, reactor, journal, formatNamed, defaultFormat, passwords,
                 batchSize=100_000):
        """
        @param reactor: an L{IReactorThreads}.
        @param journal: an L{oso.cdr.journal.Journal}.
        @param formatNamed: C{name -> ICDRFormat}, raising L{KeyError} for a
            name no cdr-format component has.
        @param defaultFormat: the format name used without C{format=}.
        @param passwords: a L{PasswordCheck}.
        @param batchSize: records in a batch without C{limit=}.
        """
        self.reactor = reactor
        self.journal = journal
        self.formatNamed = formatNamed
        self.defaultFormat = defaultFormat
        self.passwords = passwords
        self.batchSize = batchSize
        self._openBatch = None
        self._fileBusy = False

    def resource(self):
        """
        @return: the klein resource, to mount wherever the server likes.
        """
        return self.app.resource()

    async def _authorised(self, request):
        """
        Whether the request carries good credentials; when it does not, the
        response is made a C{401} with a C{WWW-Authenticate} challenge.
        """
        credentials = basicCredentials(request.getHeader(b"authorization"))
        if credentials is not None and await self.passwords.check(*credentials):
            return True
        log.info(
            "CDR download: {what} from {peer}",
            what="bad credentials" if credentials else "no credentials",
            peer=request.getClientAddress(),
        )
        request.setResponseCode(401)
        request.setHeader(
            b"WWW-Authenticate", f'Basic realm="{self.realm}", charset="UTF-8"'.encode()
        )
        request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
        return False

    async def _journalOpen(self, request):
        """
        Whether the journal is open (its acknowledged and last ids are
        known); when it is not, the response is made a C{503}.
        """
        try:
            await self.journal.readLines(0, 0)
        except JournalError as e:
            log.error("CDR download refused: {reason}", reason=str(e))
            request.setResponseCode(503)
            return False
        return True

    def _format(self, request):
        """
        The format the request asks for, or L{None} after making the
        response a C{400}.
        """
        name = request.args.get(b"format", [self.defaultFormat.encode()])[0]
        try:
            return self.formatNamed(name.decode("ascii"))
        except (KeyError, UnicodeDecodeError):
            request.setResponseCode(400)
            return None

    def _range(self, limit):
        """
        The open batch, or a new one of at most C{limit} records: C{(first,
        last)}, or L{None} when every record is acknowledged.
        """
        core = self.journal.core
        first = core.acknowledgedID + 1
        if self._openBatch is not None and self._openBatch[0] == first:
            return self._openBatch
        last = min(core.acknowledgedID + limit, core.lastID)
        if last < first:
            return None
        self._openBatch = (first, last)
        return self._openBatch

    async def _mayFetch(self, request):
        """
        Check a fetch: credentials, format, journal.

        @return: C{(format, None)} when it may go on; C{(None, body)} when
            it is refused, its response code set.
        """
        if not await self._authorised(request):
            return None, b"authentication required\n"
        format = self._format(request)
        if format is None:
            return None, b"unknown format\n"
        if not await self._journalOpen(request):
            return None, b"the CDR journal is not available\n"
        return format, None

    @app.route("/batch", methods=["GET"])
    async def getBatch(self, request):
        format, refusal = await self._mayFetch(request)
        if refusal is not None:
            return refusal
        try:
            limit = int(request.args.get(b"limit", [self.batchSize])[0])
        except ValueError:
            limit = 0
        if limit < 1:
            request.setResponseCode(400)
            return b"limit must be a positive whole number\n"
        batch = self._range(limit)
        if batch is None:
            request.setResponseCode(204)
            request.setHeader(b"X-CDR-Count", b"0")
            return b""
        await self._send(request, format, *batch)

    @app.route("/file", methods=["GET"])
    async def getFile(self, request):
        format, refusal = await self._mayFetch(request)
        if refusal is not None:
            return refusal
        if self._fileBusy:
            request.setResponseCode(409)
            return b"another download of the file is in progress\n"
        core = self.journal.core
        first, last = core.acknowledgedID + 1, core.lastID
        complete = []

        def finished(result):
            if isinstance(result, Failure) or not complete:
                log.info(
                    "CDR file download cut short: records {first} to {last} not "
                    "acknowledged",
                    first=first,
                    last=last,
                )
            elif last >= first:
                return self._acknowledgeFile(last)

        def idle(_):
            self._fileBusy = False

        # Busy until the acknowledgement is done, so that no second
        # download sends the same records meanwhile.
        self._fileBusy = True
        request.notifyFinish().addBoth(finished).addBoth(idle)
        if await self._send(request, format, first, last):
            complete.append(True)

    def _acknowledgeFile(self, last):
        def done(newly):
            log.info(
                "CDR file download complete: {newly} records up to {last} acknowledged",
                newly=newly,
                last=last,
            )

        def failed(failure):
            log.failure(
                "CDR file download complete, but acknowledging up to {last} failed; "
                "the records will be sent again",
                failure,
                last=last,
            )

        return self.journal.acknowledge(last).addCallbacks(done, failed)

    async def _send(self, request, format, first, last):
        """
        Stream the records with ids C{first} to C{last}.

        @return: whether every record was written.  A journal that cannot
            be read before anything is sent gives a C{503}; one that fails
            later cuts the connection off, so that the client sees a body
            without its end, which can never pass for a whole one.
        """
        reading = self._read(first - 1, last)
        try:
            lines = await reading if reading is not None else []
        except JournalError as e:
            log.error("CDR download refused: {reason}", reason=str(e))
            request.setResponseCode(503)
            request.write(b"the CDR journal is not available\n")
            return False
        request.setHeader(b"Content-Type", format.mediaType.encode("ascii"))
        request.setHeader(b"Cache-Control", b"no-store")
        if last >= first:
            batchID = f"{first}-{last}"
            for name, value in [
                ("Batch", batchID),
                ("First", first),
                ("Last", last),
                ("Count", last - first + 1),
            ]:
                request.setHeader(f"X-CDR-{name}".encode(), str(value).encode())
            request.setHeader(
                b"Content-Disposition",
                f'attachment; filename="cdr-{batchID}.{format.fileExtension}"'.encode(),
            )
        else:
            request.setHeader(b"X-CDR-Count", b"0")
        writer = _Writer(request)
        try:
            await writer.write(format.header())
            while True:
                lines = [line for line in lines if line[0] <= last]
                if not lines:
                    break
                reading = self._read(lines[-1][0], last)
                if isinstance(format, JSONLinesFormat):
                    data = renderLines(format, lines)
                else:
                    data = await deferToThreadPool(
                        self.reactor, self.reactor.getThreadPool(),
                        renderLines, format, lines,
                    )
                await writer.write(data)
                if reading is None:
                    break
                lines, reading = await reading, None
        except ConnectionLost:
            return False
        except JournalError as e:
            log.error("CDR download cut off: {reason}", reason=str(e))
            request.transport.abortConnection()
            return False
        finally:
            writer.done()
            if reading is not None:
                reading.addErrback(lambda _: None)
        return True

    def _read(self, after, last):
        """
        Start reading the next chunk after C{after}, or L{None} when the
        batch is complete.
        """
        if after >= last:
            return None
        return self.journal.readLines(after, min(CHUNK_RECORDS, last - after))

    @app.route("/batch/<batchID>/ack", methods=["POST"])
    async def acknowledgeBatch(self, request, batchID):
        return await self._acknowledge(request, batchID)

    @app.route("/batch/<batchID>", methods=["DELETE"])
    async def deleteBatch(self, request, batchID):
        return await self._acknowledge(request, batchID)

    async def _acknowledge(self, request, batchID):
        if not await self._authorised(request):
            return b"authentication required\n"
        match = _BATCH_ID.match(batchID)
        if match is None:
            return _json(request, 400, {"error": f"{batchID!r} is not a batch id"})
        first, last = int(match.group(1)), int(match.group(2))
        core = self.journal.core
        acknowledged = core.acknowledgedID
        if first > last:
            return _json(request, 400, {"error": f"{batchID!r} is not a batch id"})
        if last <= acknowledged:
            return _json(
                request, 200,
                {"batch": batchID, "acknowledged": 0, "acknowledgedID": acknowledged},
            )
        reason = None
        if first > acknowledged + 1:
            reason = (
                f"records {acknowledged + 1} to {first - 1} come before batch "
                f"{batchID} and are not acknowledged; fetch the open batch"
            )
        elif last > core.lastID:
            reason = f"no such batch: the last record is {core.lastID}"
        if reason is not None:
            log.warn(
                "CDR download: acknowledgement of batch {batchID} refused: {reason}",
                batchID=batchID,
                reason=reason,
            )
            return _json(request, 409, {"error": reason})
        try:
            newly = await self.journal.acknowledge(last)
        except JournalError as e:
            log.error(
                "CDR download: cannot acknowledge batch {batchID}: {reason}",
                batchID=batchID,
                reason=str(e),
            )
            return _json(request, 503, {"error": str(e)})
        log.info(
            "CDR batch {batchID} acknowledged: {newly} records",
            batchID=batchID,
            newly=newly,
        )
        return _json(
            request, 200,
            {"batch": batchID, "acknowledged": newly, "acknowledgedID": last},
        )
