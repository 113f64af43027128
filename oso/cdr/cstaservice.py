"""
The CSTA call detail record services (ECMA-269 CDR services) of the cdr
component, served on every link of the csta component.

  - StartCallDetailRecordsTransmission: C{transferAtEndOfCall} sends each
    record in a CallDetailRecordsReport as it is written;
    C{transferOnRequest} sends only what SendStoredCallDetailRecords asks
    for; C{transferOnThresholdReached} is refused (C{valueOutOfRange}).
    One transmission a link.
  - StopCallDetailRecordsTransmission: no more reports for it.
  - SendStoredCallDetailRecords: the journal's unacknowledged records (in
    the time period, when given) in reports, the last one flagged
    C{lastStoredCDRReportSent}; a few reports at a time, each next one when
    an earlier one is answered.

The client's result for a report makes its records transmitted
(L{oso.cdr.cstareports}); the journal acknowledges them once every record
before them is transmitted too.
"""

from twisted.internet.defer import CancelledError
from twisted.logger import Logger

from oso.callmodel.errors import CSTAError, UniversalFailure
from oso.cdr.cstareports import Confirmations, report
from oso.csta import messages as m

#: Records in one report of stored records.
REPORT_RECORDS = 50

#: Reports of stored records sent and not yet answered, at most.
REPORT_WINDOW = 4

INVALID_CROSS_REF = UniversalFailure("operation", "invalidCrossRefID")
UNSUPPORTED_MODE = UniversalFailure("operation", "valueOutOfRange")
BUSY = UniversalFailure("operation", "requestIncompatibleWithObject")

_SERVICES = (
    m.StartCallDetailRecordsTransmission,
    m.StopCallDetailRecordsTransmission,
    m.SendStoredCallDetailRecords,
)


class _Transmission:
    """
    One started transmission on one link.
    """

    def __init__(self, link, crossRefID, mode):
        self.link = link
        self.crossRefID = crossRefID
        self.mode = mode
        self.stopped = False
        self.sending = None  # the _StoredRun in progress


class _StoredRun:
    """
    One SendStoredCallDetailRecords: where it has read to, what is out.
    """

    def __init__(self, timePeriod):
        self.timePeriod = timePeriod
        self.after = 0
        self.records = []
        self.exhausted = False
        self.reading = False
        self.outstanding = 0

    def wanted(self, record):
        period = self.timePeriod
        if period is None:
            return True
        return period.beginningOfCDR.timestamp() <= record.endTime <= period.endOfCDR.timestamp()


class CDRTransmissions:
    """
    The CDR services' handlers and the state of every transmission.
    """

    log = Logger()

    def __init__(self, journal, recordFormat):
        """
        @param journal: the open L{oso.cdr.journal.Journal}.
        @param recordFormat: the L{oso.interfaces.ICDRFormat} whose lines
            go with each record as private data.
        """
        self.journal = journal
        self.format = recordFormat
        self.confirmations = Confirmations()
        self.transmissions = {}
        self._nextCrossRef = 1
        self._advancing = False
        self._advanceAgain = False

    def register(self, registry):
        """
        Serve the CDR services on every link of a
        L{oso.csta.services.ServiceRegistry}.
        """
        registry.register(m.StartCallDetailRecordsTransmission, self.start)
        registry.register(m.StopCallDetailRecordsTransmission, self.stop)
        registry.register(m.SendStoredCallDetailRecords, self.sendStored)

    def unregister(self, registry):
        """
        Stop serving them, and end every transmission.
        """
        for service in _SERVICES:
            registry.unregister(service)
        for transmission in list(self.transmissions.values()):
            self._end(transmission)

    # --- the services ---------------------------------------------------------

    def start(self, link, request):
        if request.transferMode is m.CDRTransferMode.transferOnThresholdReached:
            raise CSTAError(UNSUPPORTED_MODE, "no threshold transfer")
        if any(t.link is link for t in self.transmissions.values()):
            raise CSTAError(BUSY, "a transmission already runs on this link")
        crossRefID = "cdr%d" % self._nextCrossRef
        self._nextCrossRef += 1
        transmission = _Transmission(link, crossRefID, request.transferMode)
        self.transmissions[crossRefID] = transmission
        link.whenClosed(lambda: self._end(transmission))
        self.log.info(
            "CSTA CDR transmission {id} started ({mode})",
            id=crossRefID,
            mode=request.transferMode.name,
        )
        return m.StartCallDetailRecordsTransmissionResponse(cdrCrossRefID=crossRefID)

    def stop(self, link, request):
        self._end(self._find(link, request.cdrCrossRefID))
        return m.StopCallDetailRecordsTransmissionResponse()

    def sendStored(self, link, request):
        transmission = self._find(link, request.cdrCrossRefID)
        if transmission.sending is not None:
            raise CSTAError(BUSY, "stored records are being sent")
        transmission.sending = _StoredRun(request.timePeriod)
        link.clock.callLater(0, self._sendStored, transmission)
        return m.SendStoredCallDetailRecordsResponse()

    def _find(self, link, crossRefID):
        transmission = self.transmissions.get(crossRefID)
        if transmission is None or transmission.link is not link:
            raise CSTAError(INVALID_CROSS_REF, f"no CDR transmission {crossRefID}")
        return transmission

    def _end(self, transmission):
        if not transmission.stopped:
            transmission.stopped = True
            transmission.sending = None
            self.transmissions.pop(transmission.crossRefID, None)

    # --- records as they are written -----------------------------------------

    def recordWritten(self, record):
        """
        The journal has a new record: report it on every transmission at
        the end of calls.
        """
        for transmission in list(self.transmissions.values()):
            if transmission.mode is m.CDRTransferMode.transferAtEndOfCall:
                self._report(transmission, [record])

    def _report(self, transmission, records, last=None):
        """
        Send one report; its records count as transmitted when the client
        answers it.

        @return: the L{Deferred} of the answer, never failing.
        """
        sent = transmission.link.request(
            report(transmission.crossRefID, records, self.format, last)
        )
        ids = [record.recordID for record in records]
        return sent.addCallbacks(self._answered, self._unanswered, (ids,), None, (ids,))

    def _answered(self, result, ids):
        if ids:
            self.confirmations.confirm(ids)
            self._advance()

    def _unanswered(self, failure, ids):
        if failure.check(CSTAError):
            self.log.warn(
                "CSTA client refused a CDR report ({why}); its records stay",
                why=str(failure.value),
            )
        elif not failure.check(CancelledError):
            self.log.info("CSTA CDR report unanswered: {why}", why=failure.getErrorMessage())

    # --- stored records -------------------------------------------------------

    def _sendStored(self, transmission):
        """
        Keep up to L{REPORT_WINDOW} reports of stored records unanswered,
        reading the journal as needed; flag the last one.
        """
        run = transmission.sending
        if run is None or transmission.stopped:
            return
        while run.outstanding < REPORT_WINDOW:
            if len(run.records) < REPORT_RECORDS and not run.exhausted:
                if not run.reading:
                    run.reading = True
                    self.journal.read(run.after, REPORT_RECORDS * REPORT_WINDOW).addCallbacks(
                        self._storedRead, self._storedReadFailed, (transmission, run), None,
                        (transmission,),
                    )
                return
            batch, run.records = run.records[:REPORT_RECORDS], run.records[REPORT_RECORDS:]
            last = run.exhausted and not run.records
            run.outstanding += 1
            self._report(transmission, batch, last).addBoth(self._storedAnswered, transmission, run)
            if last:
                transmission.sending = None
                return

    def _storedRead(self, records, transmission, run):
        run.reading = False
        if records:
            run.after = records[-1].recordID
        else:
            run.exhausted = True
        run.records.extend(record for record in records if run.wanted(record))
        self._sendStored(transmission)

    def _storedReadFailed(self, failure, transmission):
        self.log.failure("CSTA CDR: reading the journal failed", failure)
        transmission.sending = None

    def _storedAnswered(self, _, transmission, run):
        run.outstanding -= 1
        if transmission.sending is run:
            self._sendStored(transmission)

    # --- the acknowledgement mark ----------------------------------------------

    def _advance(self):
        """
        Move the journal's mark over the transmitted records: read the
        unacknowledged ids, let L{Confirmations} say how far.
        """
        if self._advancing:
            self._advanceAgain = True
            return
        self._advancing = True
        self._advanceAgain = False
        count = len(self.confirmations.confirmed) + 1
        self.journal.readLines(0, count).addCallback(self._advanceTo).addErrback(
            lambda f: self.log.failure("CSTA CDR: acknowledging failed", f)
        ).addBoth(self._advanced)

    def _advanceTo(self, lines):
        upTo = self.confirmations.advance(
            [recordID for recordID, _ in lines], self.journal.core.acknowledgedID
        )
        if upTo is not None:
            return self.journal.acknowledge(upTo)

    def _advanced(self, _):
        self._advancing = False
        if self._advanceAgain:
            self._advance()
