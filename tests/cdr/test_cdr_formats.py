"""
Tests for L{oso.cdr.formats} and the format components of
L{oso.plugins.cdr_formats}: each format's exact bytes for records of every
kind, written by hand from the layouts in doc/cdr.md.
"""

import csv
import dataclasses
import io
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.application.service import IService
from zope.interface.verify import verifyObject

from oso.cdr.formats import (
    CSV_COLUMNS,
    CSVFormat,
    HiPathFixedFormat,
    JSONLinesFormat,
    OpenScapeFormat,
    _charge,
    informationFlag,
)
from oso.cdr.record import CallRecord, Direction, Disposition
from oso.components import findComponents, selectComponents
from oso.config import ConfigError
from oso.interfaces import ICDRFormat, IComponent
from oso.plugins import cdr_formats
from test_cdr_record import callRecords

BERLIN = ZoneInfo("Europe/Berlin")


def at(*when):
    """
    POSIX seconds of a wall-clock time in Berlin.
    """
    return datetime(*when, tzinfo=BERLIN).timestamp()


#: The issue's example: an incoming call answered after 2 s, 7 s long.
INCOMING = CallRecord(
    recordID=1,
    callID="C1",
    endTime=at(2012, 6, 20, 13, 11, 35),
    ringSeconds=2,
    durationSeconds=7,
    line="201",
    subscriber="33388",
    externalNumber="0123456789",
    direction=Direction.incoming,
    disposition=Disposition.answered,
)

#: An outgoing call with everything a trunk and LCR can tell.
OUTGOING = CallRecord(
    recordID=2,
    callID="C2",
    endTime=at(2012, 12, 31, 23, 59, 59),
    ringSeconds=5,
    durationSeconds=3725,
    line="7",
    subscriber="201",
    externalNumber="004989123456",
    direction=Direction.outgoing,
    disposition=Disposition.answered,
    chargeUnits=12,
    accountCode="4711",
    msn="5551234",
    trunkGroup="0",
    lcrRoute="2",
    dialledNumber="01019004989123456",
    node="1",
)

#: An incoming call nobody answered.
UNANSWERED = CallRecord(
    recordID=3,
    callID="C3",
    endTime=at(2024, 3, 1, 8, 0, 0),
    ringSeconds=20,
    line="202",
    subscriber="100",
    externalNumber="030123456",
    direction=Direction.incoming,
    disposition=Disposition.noAnswer,
)

#: An internal call to a busy extension.
INTERNAL = CallRecord(
    recordID=4,
    callID="C4",
    endTime=at(2024, 3, 1, 8, 0, 5),
    subscriber="100",
    externalNumber="101",
    direction=Direction.internal,
    disposition=Disposition.busy,
)

#: B's part of an incoming call that A (100) transferred to B (101).
TRANSFERRED = CallRecord(
    recordID=5,
    callID="C5",
    endTime=at(2024, 3, 1, 9, 30, 0),
    ringSeconds=3,
    durationSeconds=61,
    line="201",
    subscriber="101",
    externalNumber="030123456",
    direction=Direction.incoming,
    disposition=Disposition.answered,
    transferredFrom="100",
    dialledNumber="100",
)

#: Extension 102 forwarded a call to an external number; charged as amount.
FORWARDED_OUT = CallRecord(
    recordID=6,
    callID="C6",
    endTime=at(2024, 3, 1, 10, 0, 0),
    durationSeconds=30,
    line="203",
    subscriber="102",
    externalNumber="01701234567",
    direction=Direction.outgoing,
    disposition=Disposition.forwarded,
    amount=Decimal("1.25"),
)

#: An outgoing call that A (100) transferred to B (101): A's part.
TRANSFERRED_OUT = CallRecord(
    recordID=7,
    callID="C7",
    endTime=at(2024, 3, 1, 11, 0, 0),
    ringSeconds=4,
    durationSeconds=100,
    line="204",
    subscriber="100",
    externalNumber="089555",
    direction=Direction.outgoing,
    disposition=Disposition.answered,
    transferredTo="101",
    chargeUnits=3,
)

#: Extension 103 picked up a call ringing at 100.
PICKED_UP = CallRecord(
    recordID=8,
    callID="C8",
    endTime=at(2024, 3, 1, 12, 0, 0),
    ringSeconds=6,
    durationSeconds=10,
    line="201",
    subscriber="103",
    externalNumber="030999",
    direction=Direction.incoming,
    disposition=Disposition.pickedUp,
    dialledNumber="100",
)

ALL = [
    INCOMING,
    OUTGOING,
    UNANSWERED,
    INTERNAL,
    TRANSFERRED,
    FORWARDED_OUT,
    TRANSFERRED_OUT,
    PICKED_UP,
]

FORMATS = [
    OpenScapeFormat(BERLIN),
    HiPathFixedFormat(BERLIN),
    CSVFormat(BERLIN),
    JSONLinesFormat(),
]


@pytest.mark.parametrize("format", FORMATS, ids=lambda f: f.name)
def test_providesICDRFormat(format):
    """
    Every format provides ICDRFormat.
    """
    assert verifyObject(ICDRFormat, format)


@pytest.mark.parametrize(
    "record, expected",
    [
        (
            INCOMING,
            b"20.06.12|13:11:35|201|33388|00:02|00:00:07|0123456789||1||||||\r\n",
        ),
        (
            OUTGOING,
            b"31.12.12|23:59:59|7|201|00:05|01:02:05|004989123456|12|2|4711|5551234|0|2"
            b"|01019004989123456|\r\n",
        ),
        (UNANSWERED, b"01.03.24|08:00:00|202|100|00:20||030123456||1||||||\r\n"),
        (INTERNAL, b"01.03.24|08:00:05||100|00:00||101||10||||||\r\n"),
        (
            TRANSFERRED,
            b"01.03.24|09:30:00|201|101|00:03|00:01:01|030123456||5|||||100|\r\n",
        ),
        (
            FORWARDED_OUT,
            b"01.03.24|10:00:00|203|102|00:00|00:00:30|01701234567|1.25|9||||||\r\n",
        ),
        (
            TRANSFERRED_OUT,
            b"01.03.24|11:00:00|204|100|00:04|00:01:40|089555|3|6||||||\r\n",
        ),
        (PICKED_UP, b"01.03.24|12:00:00|201|103|00:06|00:00:10|030999||1|||||100|\r\n"),
    ],
)
def test_openscape(record, expected):
    """
    OpenScape Office compressed format: 14 fields each followed by "|", CR
    LF; the issue's example comes out byte for byte.
    """
    assert OpenScapeFormat(BERLIN).formatRecord(record) == expected


def fixed(*columns):
    """
    A fixed-width record from its columns, checking each one's width as the
    layout gives it.
    """
    widths = [8, 8, 3, 3, 6, 5, 8, 25, 11, 1, 11, 11, 5, 4]
    assert [len(c) for c in columns] == widths
    return "".join(columns).encode("ascii") + b"\r\n"


# fmt: off
@pytest.mark.parametrize(
    "record, expected",
    [
        (
            INCOMING,
            fixed(
                "20.06.12", "13:11:35", "201", "   ", " 33388", "00007", "00:00:07",
                "0123456789               ", "           ", "1",
                "           ", "           ", "     ", "    ",
            ),
        ),
        (
            OUTGOING,
            fixed(
                "31.12.12", "23:59:59", "  7", "  1", "   201", "03725", "01:02:05",
                "004989123456             ", "         12", "2",
                "4711       ", "    5551234", "    0", "   2",
            ),
        ),
        (
            UNANSWERED,
            fixed(
                "01.03.24", "08:00:00", "202", "   ", "   100", "00000", "00:00:00",
                "030123456                ", "           ", "1",
                "           ", "           ", "     ", "    ",
            ),
        ),
        (
            INTERNAL,
            fixed(
                "01.03.24", "08:00:05", "   ", "   ", "   100", "00000", "00:00:00",
                "101                      ", "           ", "2",
                "           ", "           ", "     ", "    ",
            ),
        ),
        (
            FORWARDED_OUT,
            fixed(
                "01.03.24", "10:00:00", "203", "   ", "   102", "00030", "00:00:30",
                "01701234567              ", "       1.25", "2",
                "           ", "           ", "     ", "    ",
            ),
        ),
    ],
)
# fmt: on
def test_hipathFixed(record, expected):
    """
    HiPath fixed width: the columns of the GetAccount layout, 111 bytes,
    identifiers right-aligned with blanks, durations zero-padded, the number
    and account code left-aligned.
    """
    assert HiPathFixedFormat(BERLIN).formatRecord(record) == expected


def test_hipathFixedOverlongValues():
    """
    Values too long for their columns: text keeps its leftmost characters,
    counts show the largest value the columns hold, an amount loses
    decimals first; characters outside printable ASCII become "?".
    """
    record = CallRecord(
        callID="C9",
        endTime=at(2024, 3, 1, 12, 0, 0),
        durationSeconds=100000,
        line="12345",
        subscriber="1234567",
        externalNumber="0123456789" * 3,
        direction=Direction.outgoing,
        disposition=Disposition.answered,
        chargeUnits=10**12,
        accountCode="Zürich-Projekt-1",
        msn="\n",
    )
    line = HiPathFixedFormat(BERLIN).formatRecord(record)
    # fmt: off
    assert line == fixed(
        "01.03.24", "12:00:00", "123", "   ", "123456", "99999", "27:46:39",
        "0123456789012345678901234", "99999999999", "2",
        "Z?rich-Proj", "          ?", "     ", "    ",
    )
    # fmt: on
    amounts = [
        (Decimal("123456789.123"), "123456789.1"),
        (Decimal("12345678901.5"), "12345678902"),
        (Decimal("1234567890123"), "99999999999"),
    ]
    for amount, shown in amounts:
        line = HiPathFixedFormat(BERLIN).formatRecord(
            CallRecord(
                callID="C",
                endTime=0,
                direction=Direction.outgoing,
                disposition=Disposition.answered,
                amount=amount,
            )
        )
        assert line[66:77] == shown.encode()


def test_openscapeKeepsFieldsApart():
    """
    A "|", a line break or a non-ASCII character inside a value becomes "?",
    so the fields of the compressed format never shift; overlong durations
    show 99:59:59 and ring times 59:59, as HiPath did.
    """
    record = CallRecord(
        callID="C",
        endTime=at(2024, 3, 1, 12, 0, 0),
        ringSeconds=4000,
        durationSeconds=400000,
        subscriber="1|2",
        externalNumber="0\r\n1",
        accountCode="Zürich",
        direction=Direction.outgoing,
        disposition=Disposition.answered,
    )
    assert OpenScapeFormat(BERLIN).formatRecord(record) == (
        b"01.03.24|12:00:00||1?2|59:59|99:59:59|0??1||2|Z?rich|||||\r\n"
    )


def test_timeZone():
    """
    Times are the end time in the format's time zone: the same record shows
    13:11:35 in Berlin (summer time) and 11:11:35 in UTC.
    """
    utc = OpenScapeFormat(timezone.utc).formatRecord(INCOMING)
    assert utc.startswith(b"20.06.12|11:11:35|")
    assert CSVFormat(timezone.utc).formatRecord(INCOMING).split(b",")[2] == (
        b"2012-06-20T11:11:35+00:00"
    )


def test_hostTimeZone():
    """
    Without a time zone a format shows the host's local wall-clock time.
    """
    shown = OpenScapeFormat().localEndTime(INCOMING).replace(tzinfo=None)
    assert shown == datetime.fromtimestamp(int(INCOMING.endTime))


def test_csvHeaderAndRecords():
    """
    CSV: a header naming the columns, then one CR LF line per record with
    the local end time as ISO 8601.
    """
    format = CSVFormat(BERLIN)
    assert format.header() == (",".join(CSV_COLUMNS) + "\r\n").encode()
    assert format.formatRecord(INCOMING) == (
        b"1,C1,2012-06-20T13:11:35+02:00,2,7,201,33388,0123456789,incoming,answered"
        b",,,,,,,,,,,false\r\n"
    )
    assert format.formatRecord(FORWARDED_OUT) == (
        b"6,C6,2024-03-01T10:00:00+01:00,0,30,203,102,01701234567,outgoing,forwarded"
        b",,1.25,,,,,,,,,false\r\n"
    )


def test_csvQuoting():
    """
    RFC 4180: a value with a comma, a quote or a line break is quoted, its
    quotes doubled.
    """
    record = CallRecord(
        callID='a,"b"',
        endTime=0,
        accountCode="x\r\ny",
        direction=Direction.internal,
        disposition=Disposition.answered,
    )
    line = CSVFormat(timezone.utc).formatRecord(record)
    assert line.startswith(b'0,"a,""b""",1970-01-01T00:00:00+00:00,')
    assert b',"x\r\ny",' in line


@settings(max_examples=100)
@given(callRecords)
def test_csvParsesBack(record):
    """
    Header and record read back with the csv module: one row per record,
    the right columns, the values as written.
    """
    format = CSVFormat(timezone.utc)
    text = (format.header() + format.formatRecord(record)).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(CSV_COLUMNS)
    assert len(rows) == 2
    row = dict(zip(CSV_COLUMNS, rows[1]))
    assert row["recordID"] == str(record.recordID)
    assert row["direction"] == record.direction.value
    assert row["chargeUnits"] == (
        "" if record.chargeUnits is None else str(record.chargeUnits)
    )
    if record.callID.isprintable():
        assert row["callID"] == record.callID


def referencePrintable(text, forbidden=""):
    return "".join("?" if not (" " <= c <= "~") or c in forbidden else c for c in text)


def referenceLine(format, record):
    """
    A record rendered field by field the plain way, from the layouts of
    doc/cdr.md: C{strftime} of the aware end time, every text field
    filtered character by character, the csv module for CSV.
    """
    end = datetime.fromtimestamp(int(record.endTime), timezone.utc).astimezone(
        format.tz
    )
    date, clock = end.strftime("%d.%m.%y"), end.strftime("%H:%M:%S")
    r = record
    if format.name == "csv":
        values = [getattr(r, column) for column in CSV_COLUMNS]
        values = ["" if v is None else getattr(v, "value", v) for v in values]
        values[CSV_COLUMNS.index("endTime")] = end.isoformat()
        values[CSV_COLUMNS.index("amount")] = (
            "" if r.amount is None else format_(r.amount, "f"))
        values[CSV_COLUMNS.index("externalRestricted")] = str(r.externalRestricted).lower()
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerow([str(v) for v in values])
        return out.getvalue().encode("utf-8", "replace")
    if format.name == "openscape":
        connected = r.disposition not in (
            Disposition.busy, Disposition.noAnswer, Disposition.failed)
        ring, talk = min(r.ringSeconds, 3599), min(r.durationSeconds, 359999)
        fields = [date, clock, r.line, r.subscriber,
                  "%02d:%02d" % divmod(ring, 60),
                  "%02d:%02d:%02d" % (talk // 3600, talk // 60 % 60, talk % 60)
                  if connected else "",
                  r.externalNumber, _charge(r), informationFlag(r), r.accountCode,
                  r.msn, r.trunkGroup, r.lcrRoute, r.dialledNumber]
        text = "".join(referencePrintable(f, "|") + "|" for f in fields)
        return text.encode("ascii") + b"\r\n"
    talk = min(r.durationSeconds, 99999)

    def cut(value, width, align):
        return align(referencePrintable(value)[:width], width)

    L, R = str.ljust, str.rjust
    text = "".join([
        date, clock, cut(r.line, 3, R), cut(r.node, 3, R), cut(r.subscriber, 6, R),
        "%05d" % talk, "%02d:%02d:%02d" % (talk // 3600, talk // 60 % 60, talk % 60),
        cut(r.externalNumber, 25, L), cut(_charge(r, 11), 11, R),
        "1" if r.direction is Direction.incoming else "2",
        cut(r.accountCode, 11, L), cut(r.msn, 11, R), cut(r.trunkGroup, 5, R),
        cut(r.lcrRoute, 4, R)])
    return text.encode("ascii") + b"\r\n"


format_ = format
_printableASCII = st.characters(min_codepoint=32, max_codepoint=126)
_oddCharacters = st.sampled_from("|,\"\r\n\t\x7f\xe9\u2028\ud800")


@st.composite
def mixedRecords(draw):
    """
    Records of L{callRecords}, most with text fields of printable ASCII
    (separators included), some with the odd line break or non-ASCII
    character.
    """
    record = draw(callRecords)
    alphabet = draw(st.sampled_from(
        [_printableASCII, _printableASCII | _oddCharacters, _oddCharacters]))
    texts = [f.name for f in dataclasses.fields(CallRecord) if f.type is str]
    keep = draw(st.sampled_from([(), texts[:1], texts]))
    changes = {
        name: draw(st.text(alphabet=alphabet, max_size=30))
        for name in texts
        if name not in keep
    }
    return dataclasses.replace(record, **changes)


@settings(max_examples=500)
@given(
    mixedRecords(),
    st.sampled_from([None, timezone.utc, BERLIN, ZoneInfo("America/St_Johns"),
                     ZoneInfo("Africa/Monrovia"), ZoneInfo("Australia/Lord_Howe")]),
)
def test_fastRenderingMatchesReference(record, tz):
    """
    The fixed, compressed and CSV formats render byte for byte what the
    plain reference rendering gives, in any time zone.
    """
    for format in [OpenScapeFormat(tz), HiPathFixedFormat(tz), CSVFormat(tz)]:
        assert format.formatRecord(record) == referenceLine(format, record)


def test_jsonLines():
    """
    JSON lines: the record's JSON and a line feed, no header.
    """
    format = JSONLinesFormat()
    assert format.header() == b""
    assert format.formatRecord(INCOMING) == INCOMING.toJSON().encode() + b"\n"


@settings(max_examples=100)
@given(callRecords)
def test_jsonLinesRoundTrip(record):
    """
    A JSON line reads back into the same record.
    """
    line = JSONLinesFormat().formatRecord(record)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert CallRecord.fromJSON(line) == record


@settings(max_examples=200)
@given(callRecords)
def test_hipathFixedIsAlways111Bytes(record):
    """
    Every record, whatever its values, is exactly 111 bytes ending in CR LF,
    with the call type in column 78.
    """
    line = HiPathFixedFormat(timezone.utc).formatRecord(record)
    assert len(line) == 111
    assert line.endswith(b"\r\n") and b"\n" not in line[:-1]
    assert line[77:78] == (b"1" if record.direction is Direction.incoming else b"2")


@settings(max_examples=100)
@given(callRecords)
def test_openscapeAlwaysFourteenFields(record):
    """
    Every compressed record is one ASCII line of 14 fields each followed by
    "|".
    """
    line = OpenScapeFormat(timezone.utc).formatRecord(record)
    assert line.endswith(b"|\r\n")
    assert line.count(b"|") == 14 and line.count(b"\n") == 1
    assert line.isascii()


@pytest.mark.parametrize(
    "component", [c for c in vars(cdr_formats).values() if IComponent.providedBy(c)]
)
def test_componentsProvideIComponent(component):
    """
    Each format is a component of kind cdr-format named like its format, and
    its service holds a format that provides ICDRFormat.
    """
    assert verifyObject(IComponent, component)
    assert component.kind == "cdr-format"
    service = component.makeService(component.validateConfig({}, "t"), None)
    assert IService.providedBy(service)
    assert verifyObject(ICDRFormat, service.format)
    assert service.format.name == component.name


def test_componentsAreFound():
    """
    The four format components are found by name among the plugins.
    """
    found = findComponents()
    names = ["openscape", "hipath-fixed", "csv", "jsonl"]
    assert [c.name for c in selectComponents(names, found)] == names


def test_timeZoneSetting():
    """
    A zoned format takes time-zone: an IANA name; its service's format
    shows times there.
    """
    settings = cdr_formats.openscape.validateConfig({"time-zone": "UTC"}, "t")
    format = cdr_formats.openscape.makeService(settings, None).format
    assert format.formatRecord(INCOMING).startswith(b"20.06.12|11:11:35|")
    assert cdr_formats.openscape.validateConfig({}, "t") is None


@pytest.mark.parametrize(
    "component, section, key",
    [
        (cdr_formats.openscape, {"time-zone": "Mars/Olympus"}, "t.time-zone"),
        (cdr_formats.openscape, {"time-zone": 1}, "t.time-zone"),
        (cdr_formats.csvFormat, {"timezone": "UTC"}, "t.timezone"),
        (cdr_formats.jsonLines, {"time-zone": "UTC"}, "t.time-zone"),
    ],
)
def test_badSettings(component, section, key):
    """
    An unknown zone, a key the format does not take, or time-zone on JSON
    lines is a configuration error naming the key.
    """
    with pytest.raises(ConfigError) as caught:
        component.validateConfig(section, "t")
    assert caught.value.where == key
