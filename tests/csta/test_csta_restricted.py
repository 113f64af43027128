"""
A caller who restricted the presentation of its number (CLIR, SIP privacy)
as CSTA shows it: the call model's events about the called party name the
calling device C{restricted} (ECMA-269 CallingDeviceID), in BER (checked
by the ECMA-285 oracle) and in ECMA-323 XML; the caller's own events
still name it.
"""

from dataclasses import replace

from lxml import etree
from test_csta_oracle import oracle  # noqa: F401 (the session fixture)

from oso.callmodel import events as ev
from oso.csta import ber
from oso.csta import messages as m
from oso.csta.eventmap import cstaEvent
from oso.csta.xml import Edition, modelCodec
from oso.testing import Exchange


def _restrictedCall(restricted=True):
    """
    100 calls 101 asking not to be presented; 101 answers.

    @return: the model's events of the call.
    """
    x = Exchange()
    x.model.originate("100", "101", restricted=restricted)
    x.phone("101").answer()
    return x.recorder.take()


def _withheldCall(how):
    """
    100, whose administrator withholds its caller id, calls 101 (by
    dialling, or by C{MakeCall} for C{how="makeCall"}) without asking for
    privacy; 101 answers.

    @return: the model's events of the call.
    """
    x = Exchange()
    x.addDevice(replace(x.model.device("100"), withholdCallerID=True))
    x.recorder.take()
    if how == "makeCall":
        x.model.makeCall("100", "101", autoOriginate=True)
    else:
        x.model.originate("100", "101", restricted=False)
    x.phone("101").answer()
    return x.recorder.take()


def _event(events, kind, device):
    return next(e for e in events if isinstance(e, kind) and e.connection.deviceID == device)


def test_modelMarksEvents():
    """
    The call model's events about the called party name the calling device
    of a restricted call C{RESTRICTED}; the caller's own name it; an
    unrestricted call's name it everywhere.
    """
    events = [e for e in _restrictedCall() if hasattr(e, "callingDevice")]
    assert {e.connection.deviceID for e in events} == {"100", "101"}
    for event in events:
        own = event.connection.deviceID == "100"
        assert event.callingDevice == ("100" if own else ev.RESTRICTED)
    assert all(e.callingDevice == "100" for e in _restrictedCall(False) if hasattr(e, "callingDevice"))


def test_calledPartySeesRestricted():
    """
    Delivered and Established about 101 report the calling device as
    C{restricted}; Originated about the caller's own connection names it.
    """
    events = _restrictedCall()
    delivered = cstaEvent(_event(events, ev.Delivered, "101"), "7")
    established = cstaEvent(_event(events, ev.Established, "101"), "7")
    originated = cstaEvent(_event(events, ev.Originated, "100"), "7")
    assert delivered.callingDevice is m.DeviceIDStatus.restricted
    assert established.callingDevice is m.DeviceIDStatus.restricted
    assert originated.callingDevice == "100"
    assert delivered.calledDevice == "101"


def test_withheldCallerID():
    """
    An extension whose caller id the administrator withholds is
    C{restricted} to the called party exactly as a per-call request, for
    a dialled call and a CSTA MakeCall alike; its own events name it.
    """
    for how in ("dial", "makeCall"):
        events = _withheldCall(how)
        delivered = cstaEvent(_event(events, ev.Delivered, "101"), "7")
        established = cstaEvent(_event(events, ev.Established, "101"), "7")
        assert delivered.callingDevice is m.DeviceIDStatus.restricted, how
        assert established.callingDevice is m.DeviceIDStatus.restricted, how
        assert _event(events, ev.Originated, "100").callingDevice == "100"


def test_unrestrictedNamesCaller():
    """
    Without the restriction the called party's Delivered names 100.
    """
    events = _restrictedCall(False)
    assert cstaEvent(_event(events, ev.Delivered, "101"), "7").callingDevice == "100"


def test_berOracle(oracle):  # noqa: F811
    """
    ECMA-285: the Delivered event's callingDevice is CallingDeviceID's
    C{restricted [8] IMPLICIT NULL}, as the independent oracle decodes it.
    """
    event = cstaEvent(_event(_restrictedCall(), ev.Delivered, "101"), "7")
    invoke = m.Invoke(invokeID=1, operation="cSTAEventReport", argument=event)
    data = ber.encode(invoke)
    decoded = oracle.module.decode_rose(oracle.spec, data, oracle.table)
    assert "innerDecodeError" not in decoded
    delivered = decoded["argumentDecoded"]["eventSpecificInfo"][1][1]
    assert delivered["callingDevice"] == ["restricted", None]
    assert delivered["alertingDevice"] == ["deviceIdentifier", {"deviceIdentifier": ["dialingNumber", "101"]}]
    assert ber.decode(data) == invoke


def test_xml():
    """
    ECMA-323: the callingDevice element holds an empty C{<restricted/>}.
    """
    event = cstaEvent(_event(_restrictedCall(), ev.Delivered, "101"), "7")
    codec = modelCodec()
    data = codec.encode(event, Edition.ED5)
    root = etree.fromstring(data)
    [calling] = [e for e in root if etree.QName(e).localname == "callingDevice"]
    assert [etree.QName(c).localname for c in calling] == ["restricted"]
    assert codec.decode(data) == (Edition.ED5, event)
