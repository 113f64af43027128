"""
Tests for L{oso.sip.reason}: the RFC 3326 Reason header field and its
mapping to and from the call model's event causes.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oso.callmodel.causes import EventCause
from oso.sip.message import Request
from oso.sip.reason import (
    COMPLETED_ELSEWHERE,
    Reason,
    causeForQ850,
    causeOf,
    parseReason,
    q850ForCause,
    reasonForCause,
    reasonsOf,
)
from oso.sip.uri import SIPParseError, SIPURI


def bye(*reasons):
    request = Request("BYE", SIPURI("pbx", user="100"))
    for value in reasons:
        request.headers.add("reason", value)
    return request


def test_parseQ850():
    """
    RFC 3326 2: protocol, cause and the quoted text.
    """
    assert parseReason('Q.850;cause=16;text="Terminated"') == Reason("Q.850", 16, "Terminated")
    assert parseReason("Q.850 ; cause=17") == Reason("Q.850", 17)


def test_parseSIP():
    """
    RFC 3326 2: the SIP protocol value with the forking CANCEL's text.
    """
    assert parseReason('SIP;cause=200;text="Call completed elsewhere"') == Reason(
        "SIP", 200, COMPLETED_ELSEWHERE
    )


@pytest.mark.parametrize(
    "value",
    ["", ";cause=16", "Q.850", "Q.850;cause=x", "Q.850;cause=16;text=\"open", "Q.850;cause=1234567",
     "Q.850;cause=16;cause=17", "Q.850;text=a b"],
)
def test_malformed(value):
    """
    A Reason without a protocol or a numeric cause, or with a broken
    parameter, is the codec's error (Bad Reason).
    """
    with pytest.raises(SIPParseError) as e:
        parseReason(value)
    assert e.value.reason == "Bad Reason"


@given(st.text(max_size=60))
def test_arbitraryText(value):
    """
    Any text is a Reason or a L{SIPParseError}, nothing else.
    """
    try:
        parseReason(value)
    except SIPParseError:
        pass


@given(st.sampled_from(["Q.850", "SIP", "X-Foo"]), st.integers(0, 99999),
       st.none() | st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=30))
def test_roundTrip(protocol, cause, text):
    """
    What L{Reason} writes, L{parseReason} reads back as it was.
    """
    reason = Reason(protocol, cause, text)
    [back] = reasonsOf(bye(str(reason)))
    assert back == reason


def test_textWithComma():
    """
    Reason is a list field: a comma inside the quoted text does not split
    it, two values on one line do.
    """
    request = bye('Q.850;cause=31;text="Normal, unspecified", SIP;cause=200')
    assert reasonsOf(request) == [Reason("Q.850", 31, "Normal, unspecified"), Reason("SIP", 200)]


@pytest.mark.parametrize(
    "q850, cause",
    [(1, EventCause.numberUnallocated), (16, EventCause.normalClearing), (17, EventCause.busy),
     (19, EventCause.callNotAnswered), (21, EventCause.blocked), (27, EventCause.destOutOfOrder),
     (28, EventCause.invalidNumberFormat), (34, EventCause.networkCongestion),
     (38, EventCause.networkOutOfOrder), (102, EventCause.timeout)],
)
def test_table(q850, cause):
    """
    The documented Q.850 causes map both ways.
    """
    assert causeForQ850(q850) is cause
    assert q850ForCause(cause) == q850


@pytest.mark.parametrize(
    "q850, cause",
    [(30, EventCause.normal), (41, EventCause.resourcesNotAvailable),
     (111, EventCause.networkNotObtainable)],
)
def test_unknownByClass(q850, cause):
    """
    Q.850 2.2.5: a cause not in the table is read as its class's
    unspecified cause.
    """
    assert causeForQ850(q850) is cause


def test_writtenCauses():
    """
    Causes with no Q.850 value of their own end a call normally (16);
    doNotDisturb is user busy; an answer or pickup elsewhere is RFC 3326's
    SIP cause 200.
    """
    assert q850ForCause(EventCause.transfer) == 16
    assert q850ForCause(EventCause.doNotDisturb) == 17
    assert str(reasonForCause(EventCause.normalClearing)) == 'Q.850;cause=16;text="Normal call clearing"'
    assert str(reasonForCause(EventCause.multipleAlerting)) == (
        'SIP;cause=200;text="Call completed elsewhere"'
    )
    assert reasonForCause(EventCause.callPickup).cause == 200


def test_causeOf():
    """
    A BYE's cause: its Q.850 Reason first, then its SIP one, else the
    default; a malformed Reason is ignored.
    """
    assert causeOf(bye("SIP;cause=200", "Q.850;cause=17")) is EventCause.busy
    assert causeOf(bye('SIP;cause=200;text="Call completed elsewhere"')) is EventCause.multipleAlerting
    assert causeOf(bye("SIP;cause=486")) is EventCause.busy
    assert causeOf(bye("SIP;cause=999")) is EventCause.normal
    assert causeOf(bye()) is EventCause.normalClearing
    assert causeOf(bye("nonsense;;")) is EventCause.normalClearing
    assert causeOf(bye(), EventCause.destOutOfOrder) is EventCause.destOutOfOrder
