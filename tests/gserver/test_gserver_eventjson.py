"""
Tests for L{oso.gserver.eventjson}: every call model event type as JSON.
"""

import json

from oso.callmodel.causes import EventCause
from oso.callmodel.devices import ForwardingType
from oso.callmodel.events import EVENT_TYPES, Delivered, Forwarding, Transferred
from oso.callmodel.ids import ConnectionID
from oso.callmodel.states import LocalConnectionState
from oso.gserver.eventjson import eventObject


def test_delivered():
    event = Delivered(
        seq=7,
        time=12.5,
        cause=EventCause.newCall,
        connection=ConnectionID("3", "101"),
        localConnectionInfo=LocalConnectionState.alerting,
        alertingDevice="101",
        callingDevice="100",
        calledDevice="101",
    )
    assert eventObject(event) == {
        "type": "DeliveredEvent",
        "seq": 7,
        "time": 12.5,
        "cause": "newCall",
        "connection": {"callID": "3", "deviceID": "101"},
        "localConnectionInfo": "alerting",
        "alertingDevice": "101",
        "callingDevice": "100",
        "calledDevice": "101",
        "lastRedirectionDevice": None,
    }


def test_connectionLists():
    event = Transferred(
        primaryOldCall=ConnectionID("1", "100"),
        transferredConnections=(ConnectionID("1", "101"), ConnectionID("1", "102")),
    )
    result = eventObject(event)
    assert result["primaryOldCall"] == {"callID": "1", "deviceID": "100"}
    assert result["transferredConnections"] == [
        {"callID": "1", "deviceID": "101"},
        {"callID": "1", "deviceID": "102"},
    ]


def test_enumerations():
    event = Forwarding(device="100", forwardingType=ForwardingType.forwardBusy, forwardStatus=True, forwardTo="105")
    assert eventObject(event)["forwardingType"] == "forwardBusy"


def test_everyTypeSerialises():
    for name, cls in EVENT_TYPES.items():
        text = json.dumps(eventObject(cls()))
        assert json.loads(text)["type"] == name + "Event"
