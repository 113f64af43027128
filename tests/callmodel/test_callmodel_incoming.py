"""
Calls that come in on a trunk: the caller's number the network gave is
the calling device of the events and of the offer to the called phone
(what a CTI screen pop looks up), the trunk standing for it.
"""

from oso.callmodel.devices import Device, DeviceType
from oso.callmodel.dialplan import DialPlan, DIDRange
from oso.testing import Exchange

DIDS = "4930123456"


def exchange():
    x = Exchange(stations=("100",), dialPlan=DialPlan(dids=(DIDRange(DIDS),)))
    x.addDevice(Device("801", type=DeviceType.trunk, port=x.phones.name, trunkGroup="carrier"))
    return x


def test_callerNumberIsTheCallingDevice():
    """
    Delivered and Established name the network's caller number as the
    calling device, and the called phone's offer shows it.
    """
    x = exchange()
    x.model.originate("801", DIDS + "100", callingNumber="0301234567")
    (offer,) = x.phone("100").offers
    assert offer.callingDevice == "0301234567"
    x.phone("100").answer()
    delivered, established = [e for e in x.recorder.events if e.name in ("Delivered", "Established")]
    assert (delivered.callingDevice, delivered.calledDevice) == ("0301234567", "100")
    assert established.callingDevice == "0301234567"


def test_withoutCallerNumberTheTrunk():
    """
    Without a number from the network the trunk is the calling device.
    """
    x = exchange()
    x.model.originate("801", DIDS + "100")
    (delivered,) = [e for e in x.recorder.events if e.name == "Delivered"]
    assert delivered.callingDevice == "801"
