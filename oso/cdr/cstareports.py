"""
Call data records as CSTA CallDetailRecordsReports, sans-I/O: a journal
record as ECMA-285's C{CDRInformationItem}, and the rule that says which
records a CSTA client has received.

A report is an operation with a result (ECMA-285 C{cDRReport}, CODE
local:361): the client answers each one.  A record counts as transmitted
when the client's positive result for a report carrying it has arrived;
an error, a reject or a link closed before the answer transmits nothing.
The journal has one acknowledgement mark, so it moves to a record only
when every unacknowledged record up to it is transmitted (L{Confirmations}).
"""

from datetime import datetime, timezone

from oso.callmodel.ids import ConnectionID
from oso.cdr.record import Direction, Disposition
from oso.csta import messages as m

_REASONS = {
    Disposition.answered: m.ReasonForTerm.normalClearing,
    Disposition.pickedUp: m.ReasonForTerm.normalClearing,
    Disposition.busy: m.ReasonForTerm.unsuccessfulCallAttempt,
    Disposition.noAnswer: m.ReasonForTerm.unsuccessfulCallAttempt,
    Disposition.failed: m.ReasonForTerm.unsuccessfulCallAttempt,
    Disposition.forwarded: m.ReasonForTerm.callTransferred,
}


def _time(seconds):
    """
    POSIX seconds as a UTC time to the nearest millisecond (GeneralizedTime
    as ECMA-285's TimeInfo carries it).
    """
    milliseconds = round(seconds * 1000)
    moment = datetime.fromtimestamp(milliseconds // 1000, timezone.utc)
    return moment.replace(microsecond=milliseconds % 1000 * 1000)


def informationItem(record):
    """
    The C{CDRInformationItem} of a journal record.

    C{recordNumber} is the journal's record id (so a client can drop a
    record it already holds); the calling device is the external party of
    an incoming leg (C{restricted} when it withheld its number) and the
    subscriber otherwise; C{connectionStart} is
    the answer, present only for a leg that talked; C{reasonForTerm} says
    C{callTransferred} for a leg that ended by a transfer or forwarding.

    @param record: an L{oso.cdr.record.CallRecord} with its record id.
    @rtype: L{m.CDRInformationItem}
    """
    other = record.externalNumber or (
        m.DeviceIDStatus.restricted
        if record.externalRestricted
        else m.DeviceIDStatus.notKnown
    )
    subscriber = record.subscriber or m.DeviceIDStatus.notKnown
    if record.direction is Direction.incoming:
        calling, called = other, subscriber
    else:
        calling, called = subscriber, other
    talked = record.disposition in (Disposition.answered, Disposition.pickedUp)
    reason = _REASONS[record.disposition]
    if record.transferredTo:
        reason = m.ReasonForTerm.callTransferred
    return m.CDRInformationItem(
        recordNumber=record.recordID,
        recordCreationTime=_time(record.endTime),
        callingDevice=calling,
        calledDevice=called,
        recordedCall=ConnectionID(record.callID, record.subscriber or None),
        connectionStart=_time(record.endTime - record.durationSeconds) if talked else None,
        connectionEnd=_time(record.endTime),
        connectionDuration=record.durationSeconds,
        reasonForTerm=reason,
        accountInfo=record.accountCode or None,
    )


def report(crossRefID, records, recordFormat, last=None):
    """
    One CallDetailRecordsReport of C{records}, each also in the configured
    format as one private data item (the fields ECMA-285's item lacks:
    trunk, charge units, MSN, ...).

    @param last: C{lastStoredCDRReportSent}: L{None} for a report of
        records as they are written, else whether it ends a
        SendStoredCallDetailRecords.
    @rtype: L{m.CallDetailRecordsReport}
    """
    return m.CallDetailRecordsReport(
        cdrCrossRefID=crossRefID,
        numberOfRecordsSent=len(records),
        cdrInfo=tuple(informationItem(record) for record in records),
        lastStoredCDRReportSent=last,
        privateData=tuple(recordFormat.formatRecord(record) for record in records),
    )


class Confirmations:
    """
    The record ids clients have confirmed, and how far the journal's
    acknowledgement mark may move.
    """

    def __init__(self):
        self.confirmed = set()

    def confirm(self, recordIDs):
        """
        A client's positive result for a report carrying C{recordIDs}.
        """
        self.confirmed.update(recordIDs)

    def advance(self, unacknowledged, acknowledged):
        """
        How far the mark moves.

        @param unacknowledged: the journal's unacknowledged record ids, in
            order, from the first on (at least one more than are confirmed).
        @param acknowledged: the mark now (ids up to it are forgotten).
        @return: the highest id such that it and every unacknowledged id
            before it are confirmed, or L{None}.
        """
        upTo = None
        for recordID in unacknowledged:
            if recordID not in self.confirmed:
                break
            upTo = recordID
        mark = acknowledged if upTo is None else max(upTo, acknowledged)
        self.confirmed = {i for i in self.confirmed if i > mark}
        return upTo
