"""
Call data records as CSTA reports (L{oso.cdr.cstareports}): the
C{CDRInformationItem} of a record, the report in both encodings and in the
independent ECMA-285 oracle, and how far client confirmations move the
journal's acknowledgement mark.
"""

import importlib.util
from datetime import datetime, timezone
from pathlib import Path

import pytest

from oso.callmodel.ids import ConnectionID
from oso.cdr.cstareports import Confirmations, informationItem, report
from oso.cdr.formats import HiPathFixedFormat
from oso.cdr.record import CallRecord, Direction, Disposition
from oso.csta import ber
from oso.csta import messages as m
from oso.csta.xml import Edition, modelCodec

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "ecma285"


def record(**kw):
    values = dict(
        recordID=7,
        callID="c9",
        endTime=1_340_190_695.4567,
        ringSeconds=3,
        durationSeconds=65,
        line="201",
        subscriber="100",
        externalNumber="0891234",
        direction=Direction.outgoing,
        disposition=Disposition.answered,
        accountCode="4711",
    )
    values.update(kw)
    return CallRecord(**values)


def test_outgoingAnswered():
    """
    An outgoing answered leg: the subscriber calls the external number;
    the connection started at the answer; times in UTC to the nearest millisecond.
    """
    end = datetime(2012, 6, 20, 11, 11, 35, 457000, tzinfo=timezone.utc)
    assert informationItem(record()) == m.CDRInformationItem(
        recordNumber=7,
        recordCreationTime=end,
        callingDevice="100",
        calledDevice="0891234",
        recordedCall=ConnectionID("c9", "100"),
        connectionStart=datetime(2012, 6, 20, 11, 10, 30, 457000, tzinfo=timezone.utc),
        connectionEnd=end,
        connectionDuration=65,
        reasonForTerm=m.ReasonForTerm.normalClearing,
        accountInfo="4711",
    )


def test_incomingUnansweredAndTransferred():
    """
    An incoming leg names the external party as calling; an unanswered one
    has no connection start and says unsuccessfulCallAttempt; a leg that
    was transferred away says callTransferred; an unknown number is
    notKnown.
    """
    item = informationItem(
        record(direction=Direction.incoming, disposition=Disposition.noAnswer,
               durationSeconds=0, externalNumber="", accountCode="")
    )
    assert (item.callingDevice, item.calledDevice) == (m.DeviceIDStatus.notKnown, "100")
    assert item.connectionStart is None and item.accountInfo is None
    assert item.reasonForTerm is m.ReasonForTerm.unsuccessfulCallAttempt
    moved = informationItem(record(transferredTo="101"))
    assert moved.reasonForTerm is m.ReasonForTerm.callTransferred


def test_incomingRestricted():
    """
    An incoming leg whose caller withheld its number names the calling
    device restricted, not notKnown.
    """
    item = informationItem(
        record(direction=Direction.incoming, externalNumber="", externalRestricted=True)
    )
    assert (item.callingDevice, item.calledDevice) == (m.DeviceIDStatus.restricted, "100")


@pytest.mark.parametrize("edition", [Edition.ED3, Edition.ED5])
def test_reportInBothEncodings(edition):
    """
    A report carries each record as an item and, in the configured format,
    as one private data item; it reads back the same in BER and in XML.
    """
    records = [record(), record(recordID=8, direction=Direction.incoming)]
    message = report("cdr1", records, HiPathFixedFormat(), last=True)
    assert message.numberOfRecordsSent == 2
    assert message.privateData == tuple(HiPathFixedFormat().formatRecord(r) for r in records)
    invoke = m.Invoke(invokeID=3, operation="cDRReport", argument=message)
    assert ber.decode(ber.encode(invoke)) == invoke
    codec = modelCodec()
    assert codec.decode(codec.encode(message, edition))[1] == message


@pytest.mark.skipif(not (REFERENCE / "oracle.py").exists(), reason="no ECMA-285 oracle")
def test_reportInTheOracle():
    """
    The BER of a report as the cdr component sends it decodes in the
    independent ECMA-285 oracle (asn1tools on the standard's modules) as
    the cDRReport argument with the record number, times and devices.
    """
    spec = importlib.util.spec_from_file_location("ecma285oracle", REFERENCE / "oracle.py")
    oracle = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(oracle)
    compiled, _, _, scanned = oracle.build(str(REFERENCE))
    table = dict(scanned)
    table.update(oracle.OPCODES)
    message = report("cdr1", [record()], HiPathFixedFormat())
    apdu = ber.encode(m.Invoke(invokeID=3, operation="cDRReport", argument=message))
    decoded = oracle.decode_rose(compiled, apdu, table)
    assert decoded["operation"] == "cDRReport"
    assert "innerDecodeError" not in decoded
    argument = decoded["argumentDecoded"]
    assert argument["numberOfRecordsSent"] == 1
    [item] = argument["cdrInfo"]
    assert item["recordNumber"] == 7
    assert item["connectionDuration"] == 65
    assert item["recordCreationTime"].startswith("2012-06-20T11:11:35.457")
    assert "0891234" in repr(item["calledDevice"])


def test_confirmationsInOrder():
    """
    The mark moves over confirmed records up to the first one not
    confirmed, whatever order the confirmations came in.
    """
    c = Confirmations()
    c.confirm([3])
    assert c.advance([1, 2, 3, 4], 0) is None
    c.confirm([1])
    assert c.advance([1, 2, 3, 4], 0) == 1
    c.confirm([2])
    assert c.advance([2, 3, 4], 1) == 3
    assert c.confirmed == set()


def test_confirmationsSkipWhatTheJournalLacks():
    """
    Ids the journal no longer holds (a corrupt line) do not block the
    mark; confirmed ids another path already acknowledged are forgotten.
    """
    c = Confirmations()
    c.confirm([5, 7, 2])
    assert c.advance([5, 7, 8], 4) == 7
    assert c.confirmed == set()
