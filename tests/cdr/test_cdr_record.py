"""
Tests for L{oso.cdr.record}: the call record, its JSON form and digit
suppression.
"""

import json
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oso.cdr.record import (
    MAX_END_TIME,
    CallRecord,
    CDRError,
    Direction,
    Disposition,
    suppressDigits,
)

_text = st.text(max_size=20)

#: Any valid record.
callRecords = st.builds(
    CallRecord,
    recordID=st.integers(min_value=0, max_value=2**63),
    callID=_text,
    endTime=st.one_of(
        st.integers(min_value=0, max_value=MAX_END_TIME),
        st.floats(min_value=0, max_value=MAX_END_TIME),
    ),
    ringSeconds=st.integers(min_value=0, max_value=10**6),
    durationSeconds=st.integers(min_value=0, max_value=10**7),
    line=_text,
    subscriber=_text,
    externalNumber=_text,
    direction=st.sampled_from(Direction),
    disposition=st.sampled_from(Disposition),
    chargeUnits=st.none() | st.integers(min_value=0, max_value=10**15),
    amount=st.none()
    | st.decimals(min_value=0, max_value=10**15, allow_nan=False, allow_infinity=False),
    accountCode=_text,
    transferredFrom=_text,
    transferredTo=_text,
    msn=_text,
    trunkGroup=_text,
    lcrRoute=_text,
    dialledNumber=_text,
    node=_text,
    externalRestricted=st.booleans(),
)


def minimal(**changes):
    """
    A record with only the required fields, changed by C{changes}.
    """
    values = dict(
        callID="C1",
        endTime=1_340_190_695,
        direction=Direction.incoming,
        disposition=Disposition.answered,
    )
    values.update(changes)
    return CallRecord(**values)


@settings(max_examples=200)
@given(callRecords)
def test_jsonRoundTrip(record):
    """
    fromJSON(toJSON(r)) == r for every record, and the JSON is one ASCII
    line.
    """
    text = record.toJSON()
    assert "\n" not in text and text.isascii()
    assert CallRecord.fromJSON(text) == record
    assert CallRecord.fromJSON(text.encode("ascii")) == record


def test_jsonShape():
    """
    The JSON object names every field; enums are their values, the amount a
    decimal string, a missing charge null.
    """
    value = json.loads(
        minimal(amount=Decimal("1.50"), disposition=Disposition.noAnswer).toJSON()
    )
    assert value["direction"] == "incoming"
    assert value["disposition"] == "noAnswer"
    assert value["amount"] == "1.50"
    assert value["chargeUnits"] is None
    assert value["recordID"] == 0
    assert value["externalRestricted"] is False
    assert len(value) == 21


def test_missingOptionalKeysTakeDefaults():
    """
    A record written before a field existed still reads: absent keys take
    their defaults.
    """
    text = json.dumps(
        {
            "callID": "C1",
            "endTime": 1_340_190_695,
            "direction": "incoming",
            "disposition": "answered",
        }
    )
    assert CallRecord.fromJSON(text) == minimal()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        "null",
        "{",
        b"\xff",
        '{"callID": "C1"}',
        '{"callID": "C1", "endTime": 1, "direction": "sideways", "disposition": "answered"}',
        '{"callID": "C1", "endTime": 1, "direction": "incoming", "disposition": "lost"}',
        '{"callID": "C1", "endTime": 1, "direction": "incoming", "disposition": "answered", "colour": 1}',
        '{"callID": "C1", "endTime": 1, "direction": "incoming", "disposition": "answered", "amount": 1.5}',
        '{"callID": "C1", "endTime": 1, "direction": "incoming", "disposition": "answered", "amount": "x"}',
        '{"callID": "C1", "endTime": 1, "direction": "incoming", "disposition": "answered", "recordID": 1.0}',
        '{"callID": 7, "endTime": 1, "direction": "incoming", "disposition": "answered"}',
        '{"callID": "C1", "endTime": "1", "direction": "incoming", "disposition": "answered"}',
    ],
)
def test_fromJSONRefusesNonRecords(text):
    """
    Text that is not a record raises CDRError, never builds a wrong record.
    """
    with pytest.raises(CDRError):
        CallRecord.fromJSON(text)


@settings(max_examples=200)
@given(st.text(max_size=200) | st.binary(max_size=200))
def test_fromJSONArbitraryInput(text):
    """
    Arbitrary input makes fromJSON raise CDRError or return a record,
    nothing else.
    """
    try:
        assert isinstance(CallRecord.fromJSON(text), CallRecord)
    except CDRError:
        pass


@pytest.mark.parametrize(
    "changes",
    [
        {"durationSeconds": -1},
        {"ringSeconds": 1.5},
        {"recordID": True},
        {"endTime": float("nan")},
        {"endTime": -1},
        {"endTime": MAX_END_TIME + 1},
        {"line": 201},
        {"direction": "incoming"},
        {"disposition": "answered"},
        {"chargeUnits": -3},
        {"amount": 1.5},
        {"amount": Decimal("-0.10")},
        {"amount": Decimal("NaN")},
    ],
)
def test_invalidFieldsRefused(changes):
    """
    A record cannot be made with a field of the wrong type or range.
    """
    with pytest.raises(CDRError):
        minimal(**changes)


def test_recordIsFrozen():
    """
    A record is a value: its fields cannot change.
    """
    record = minimal()
    with pytest.raises(AttributeError):
        record.durationSeconds = 5


@pytest.mark.parametrize(
    "number, n, expected",
    [
        ("0891234567", 4, "089123????"),
        ("0891234567", 0, "0891234567"),
        ("123", 5, "???"),
        ("", 4, ""),
    ],
)
def test_suppressDigits(number, n, expected):
    """
    HiPath's digit suppression: the last n characters become "?", the length
    stays.
    """
    assert suppressDigits(number, n) == expected


def test_suppressNegativeDigits():
    """
    Suppressing a negative number of digits is an error.
    """
    with pytest.raises(ValueError):
        suppressDigits("123", -1)


@settings(max_examples=100)
@given(callRecords, st.integers(min_value=0, max_value=2**63))
def test_withRecordID(record, recordID):
    """
    withRecordID gives the same record as dataclasses.replace would, with
    the new id.
    """
    assert record.withRecordID(recordID) == replace(record, recordID=recordID)


@pytest.mark.parametrize("recordID", [-1, 1.0, True, "1"])
def test_withBadRecordID(recordID):
    """
    A record id must be a non-negative int.
    """
    with pytest.raises(CDRError):
        minimal().withRecordID(recordID)
