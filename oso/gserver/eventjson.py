"""
Call model events as JSON objects, the one shape every HTTP part shows them
in: the event stream of the REST API, the gadget API's polled events and
the live pages of the management.

An event becomes an object with C{type} (the ECMA-269 event name with
C{Event} appended, as CSTA names them, for example C{"DeliveredEvent"}),
C{seq}, C{time}, C{cause} and its own parameters under their ECMA-269
names; a connection is C{{"callID": ..., "deviceID": ...}} and an
enumeration its member name.
"""

from dataclasses import fields
from enum import Enum

from oso.callmodel.ids import ConnectionID


def jsonValue(value):
    """
    One event parameter as a JSON value.

    @param value: a parameter of a call model event: a string, number,
        boolean, L{None}, L{ConnectionID}, enumeration member or a tuple of
        those.
    @return: its JSON form.
    """
    if isinstance(value, ConnectionID):
        return {"callID": value.callID, "deviceID": value.deviceID}
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, tuple | list):
        return [jsonValue(item) for item in value]
    return value


def eventObject(event):
    """
    A call model event as a JSON object.

    @param event: an L{oso.callmodel.events.Event}.
    @return: a L{dict} ready for L{json.dumps}.
    """
    result = {"type": event.name + "Event"}
    for field in fields(event):
        result[field.name] = jsonValue(getattr(event, field.name))
    return result
