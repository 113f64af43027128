"""
The file formats billing systems read call data records in.

Each class provides L{oso.interfaces.ICDRFormat}: C{header()} gives the bytes
that start a file, C{formatRecord(record)} the bytes of one record with its
line ending.  Formats only render: which records exist, and whether digits
of a number are hidden, is the recorder's business.

Dates and times are the record's end time in the format's time zone (an
L{datetime.tzinfo}; L{None} is the host's local time zone, as a PBX shows
the time of its own clock).  doc/cdr.md describes every field.
"""

import csv
import io
import time
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Context, Decimal
from operator import attrgetter

from zope.interface import implementer

from oso.cdr.record import Direction, Disposition
from oso.interfaces import ICDRFormat

#: Dispositions of a leg that was never connected: the compressed format
#: leaves their duration empty.
_UNCONNECTED = frozenset({Disposition.busy, Disposition.noAnswer, Disposition.failed})


def _printable(text, forbidden=""):
    """
    C{text} with every character outside printable ASCII, and every
    character of C{forbidden}, replaced by C{"?"}: the fixed and compressed
    formats are ASCII lines, and a stray separator or line break would shift
    every field after it.
    """
    return "".join("?" if not (" " <= c <= "~") or c in forbidden else c for c in text)


def _plain(*texts):
    """
    Whether all of C{texts} are printable ASCII already, so that
    L{_printable} would leave each of them as it is: one check for a whole
    record instead of one per field.
    """
    text = "".join(texts)
    return text.isascii() and text.isprintable()


def _hms(seconds):
    """
    C{seconds} as C{hh:mm:ss}.
    """
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _amount(amount, width=None):
    """
    A charge amount as text with a decimal point (C{""} for L{None}).

    @param width: the most characters the text may have, or L{None} for no
        limit.  An amount loses decimals (rounded half to even) until it
        fits, and shows the largest number that fits when even its integer
        part does not.
    """
    if amount is None:
        return ""
    text = format(amount, "f")
    if width is not None:
        context = Context(prec=len(text) + 2, rounding=ROUND_HALF_EVEN)
        places = min(max(-amount.as_tuple().exponent, 0), width)
        while len(text) > width and places > 0:
            places -= 1
            text = format(
                amount.quantize(Decimal(1).scaleb(-places), context=context), "f"
            )
        if len(text) > width:
            text = "9" * width
    return text


def _charge(record, width=None):
    """
    The charge of a record as text: its units when the trunk reported units,
    else its amount (L{_amount}), else C{""}.

    @param width: the most characters the text may have, or L{None} for no
        limit; units that do not fit show the largest number that does.
    """
    if record.chargeUnits is None:
        return _amount(record.amount, width)
    if width is None:
        return str(record.chargeUnits)
    return str(min(record.chargeUnits, 10**width - 1))


def informationFlag(record):
    """
    The HiPath "information element" of a record, as the compressed format
    shows it.

    HiPath's values (Hicom 150 E Office / HiPath 3000 service manuals):
    C{1} incoming, C{2} outgoing, C{5} incoming handed on, C{6} outgoing
    handed on, C{9} outgoing by forwarding to an external destination.  oso
    adds C{10} for internal calls, which HiPath never recorded.  Data calls
    (3, 4), conferences (7, 8), call information (0) and DISA (+50) are not
    produced.

    @type record: L{CallRecord}
    @rtype: L{str}
    """
    if record.direction is Direction.internal:
        return "10"
    transferred = bool(record.transferredFrom or record.transferredTo)
    forwarded = record.disposition is Disposition.forwarded
    if record.direction is Direction.incoming:
        return "5" if transferred or forwarded else "1"
    if forwarded:
        return "9"
    return "6" if transferred else "2"


#: The fixed-offset time zones of the host's UTC offsets met so far.
_LOCAL_ZONES = {}


class _ZonedFormat:
    """
    A format that shows the end time as a local date and time.

    @ivar tz: the time zone, L{None} for the host's.
    """

    def __init__(self, tz=None):
        """
        @param tz: the time zone to show times in; L{None} for the host's
            local time zone.
        @type tz: L{datetime.tzinfo} or L{None}
        """
        self.tz = tz

    def localEndTime(self, record):
        """
        The record's end time, whole seconds, in this format's time zone.

        @type record: L{CallRecord}
        @rtype: L{datetime}
        """
        utc = datetime.fromtimestamp(int(record.endTime), timezone.utc)
        return utc.astimezone(self.tz)

    def isoEndTime(self, record):
        """
        L{localEndTime} in ISO 8601 with its UTC offset.

        For the host's time zone, the wall clock and offset of
        C{time.localtime}, which L{datetime.astimezone} would use too,
        without making a time zone object for every record.

        @type record: L{CallRecord}
        @rtype: L{str}
        """
        if self.tz is not None:
            return datetime.fromtimestamp(int(record.endTime), self.tz).isoformat()
        local = time.localtime(int(record.endTime))
        zone = _LOCAL_ZONES.get(local.tm_gmtoff)
        if zone is None:
            zone = timezone(timedelta(seconds=local.tm_gmtoff))
            _LOCAL_ZONES[local.tm_gmtoff] = zone
        return datetime(*local[:6], tzinfo=zone).isoformat()

    def dateAndTime(self, record):
        """
        The record's end time as the fixed and compressed formats show it.

        L{datetime.fromtimestamp} with the time zone gives the wall clock
        of L{localEndTime} (for the host's time zone a naive one, from the
        same C{localtime}) at a fraction of the cost; C{%} formatting is
        faster than C{strftime}.

        @type record: L{CallRecord}
        @return: C{("dd.mm.yy", "hh:mm:ss")}.
        """
        end = datetime.fromtimestamp(int(record.endTime), self.tz)
        return (
            "%02d.%02d.%02d" % (end.day, end.month, end.year % 100),
            "%02d:%02d:%02d" % (end.hour, end.minute, end.second),
        )


@implementer(ICDRFormat)
class OpenScapeFormat(_ZonedFormat):
    """
    The OpenScape Office "compressed" format: every field followed by C{|},
    empty fields empty, the record ended by CR LF.  Fourteen fields: date,
    time, line, subscriber, ring time, duration, number, charge,
    information flag, account code, MSN, trunk, LCR route, LCR (dialled)
    number.
    """

    name = "openscape"
    mediaType = "text/plain; charset=us-ascii"
    fileExtension = "txt"

    #: The longest ring time C{mm:ss} shows (HiPath shows C{59:59} then).
    maxRingSeconds = 59 * 60 + 59
    #: The longest duration C{hh:mm:ss} shows.
    maxDurationSeconds = 99 * 3600 + 59 * 60 + 59

    def header(self):
        return b""

    def formatRecord(self, record):
        date, clock = self.dateAndTime(record)
        ring = min(record.ringSeconds, self.maxRingSeconds)
        if record.disposition in _UNCONNECTED:
            duration = ""
        else:
            duration = _hms(min(record.durationSeconds, self.maxDurationSeconds))
        fields = [
            date,
            clock,
            record.line,
            record.subscriber,
            f"{ring // 60:02d}:{ring % 60:02d}",
            duration,
            record.externalNumber,
            _charge(record),
            informationFlag(record),
            record.accountCode,
            record.msn,
            record.trunkGroup,
            record.lcrRoute,
            record.dialledNumber,
        ]
        text = "|".join(fields) + "|"
        if not (
            text.isascii() and text.isprintable() and text.count("|") == len(fields)
        ):
            text = "".join(_printable(field, "|") + "|" for field in fields)
        return text.encode("ascii") + b"\r\n"


@implementer(ICDRFormat)
class HiPathFixedFormat(_ZonedFormat):
    """
    The HiPath 3000/5000 fixed-width record: 109 columns and CR LF, 111 bytes
    for every record.

    Each field is cut to its width keeping its leftmost characters; counts
    too large for their columns show the largest value the columns hold.
    """

    name = "hipath-fixed"
    mediaType = "text/plain; charset=us-ascii"
    fileExtension = "txt"

    #: The bytes of every record, CR LF included.
    recordLength = 111
    #: The longest duration the 5 columns of seconds hold.
    maxDurationSeconds = 99999

    def header(self):
        return b""

    def formatRecord(self, record):
        date, clock = self.dateAndTime(record)
        duration = min(record.durationSeconds, self.maxDurationSeconds)
        line = record.line
        node = record.node
        subscriber = record.subscriber
        externalNumber = record.externalNumber
        accountCode = record.accountCode
        msn = record.msn
        trunkGroup = record.trunkGroup
        lcrRoute = record.lcrRoute
        if not _plain(
            line, node, subscriber, externalNumber, accountCode, msn, trunkGroup,
            lcrRoute,
        ):
            (line, node, subscriber, externalNumber, accountCode, msn, trunkGroup,
             lcrRoute) = (
                _printable(value)
                for value in (
                    line, node, subscriber, externalNumber, accountCode, msn,
                    trunkGroup, lcrRoute,
                )
            )
        text = "".join(
            [
                date,  # 1-8
                clock,  # 9-16
                line[:3].rjust(3),  # 17-19
                node[:3].rjust(3),  # 20-22
                subscriber[:6].rjust(6),  # 23-28
                f"{duration:05d}",  # 29-33
                _hms(duration),  # 34-41
                externalNumber[:25].ljust(25),  # 42-66
                _charge(record, 11).rjust(11),  # 67-77
                "1" if record.direction is Direction.incoming else "2",  # 78
                accountCode[:11].ljust(11),  # 79-89
                msn[:11].rjust(11),  # 90-100
                trunkGroup[:5].rjust(5),  # 101-105
                lcrRoute[:4].rjust(4),  # 106-109
            ]
        )
        return text.encode("ascii") + b"\r\n"


#: The CSV columns, in order: every field of a record.
CSV_COLUMNS = (
    "recordID",
    "callID",
    "endTime",
    "ringSeconds",
    "durationSeconds",
    "line",
    "subscriber",
    "externalNumber",
    "direction",
    "disposition",
    "chargeUnits",
    "amount",
    "accountCode",
    "transferredFrom",
    "transferredTo",
    "msn",
    "trunkGroup",
    "lcrRoute",
    "dialledNumber",
    "node",
    "externalRestricted",
)


@implementer(ICDRFormat)
class CSVFormat(_ZonedFormat):
    """
    Comma-separated values (RFC 4180): a header line naming the columns,
    then one line per record, CR LF line endings, fields quoted only where
    they need it, UTF-8.  The end time is ISO 8601 with its UTC offset.
    """

    name = "csv"
    mediaType = "text/csv; charset=utf-8; header=present"
    fileExtension = "csv"

    def header(self):
        return self._line(CSV_COLUMNS)

    def formatRecord(self, record):
        values = [
            "" if value is None else value.value if column in _ENUMS else str(value)
            for column, value in zip(CSV_COLUMNS, _csvValues(record))
        ]
        values[_END_TIME] = self.isoEndTime(record)
        values[_AMOUNT] = _amount(record.amount)
        values[_RESTRICTED] = "true" if record.externalRestricted else "false"
        return self._line(values)

    def _line(self, values):
        plain = "".join(values)
        if "," in plain or '"' in plain or "\r" in plain or "\n" in plain:
            out = io.StringIO()
            csv.writer(out, lineterminator="\r\n").writerow(values)
            text = out.getvalue()
        else:
            text = ",".join(values) + "\r\n"
        return text.encode("utf-8", "replace")


_csvValues = attrgetter(*CSV_COLUMNS)
_ENUMS = frozenset({"direction", "disposition"})
_END_TIME = CSV_COLUMNS.index("endTime")
_AMOUNT = CSV_COLUMNS.index("amount")
_RESTRICTED = CSV_COLUMNS.index("externalRestricted")


@implementer(ICDRFormat)
class JSONLinesFormat:
    """
    JSON lines: each record as the JSON object of L{CallRecord.toJSON} and a
    line feed.  The end time stays POSIX seconds, so a line reads back into
    the same record with L{CallRecord.fromJSON}.
    """

    name = "jsonl"
    mediaType = "application/jsonl"
    fileExtension = "jsonl"

    def header(self):
        return b""

    def formatRecord(self, record):
        return record.toJSON().encode("ascii") + b"\n"


__all__ = [
    "CSV_COLUMNS",
    "CSVFormat",
    "HiPathFixedFormat",
    "JSONLinesFormat",
    "OpenScapeFormat",
    "informationFlag",
]
