"""
The calls of the REST API: the calls in progress, a call's snapshot, and
every ECMA-269 call control service of the call model as a POST to
C{/services/<name>}.

Each service is one L{Service}: its request fields (named as ECMA-323
names the service's parameters), the fields whose device the caller must
control, and how its result reads as JSON.  The same table checks requests
and writes the services into the OpenAPI document.
"""

from dataclasses import dataclass

from oso.callmodel.errors import CSTAError
from oso.callmodel.events import RESTRICTED
from oso.callmodel.ids import ConnectionID
from oso.gserver import restinput as i
from oso.gserver.restinput import APIError, Body, Field, refusal

_CONNECTION_OUT = {
    "type": "object",
    "required": ["callID", "deviceID"],
    "properties": {"callID": {"type": "string"}, "deviceID": {"type": "string"}},
}

PARTY_SCHEMA = {
    "type": "object",
    "required": ["callID", "deviceID", "state"],
    "properties": {
        "callID": {"type": "string"},
        "deviceID": {"type": "string"},
        "state": {"type": "string"},
    },
}

CALL_SCHEMA = {
    "type": "object",
    "required": [
        "callID", "callingDevice", "calledDevice", "created", "answered", "accountCode",
        "connections",
    ],
    "properties": {
        "callID": {"type": "string"},
        "callingDevice": {"type": "string"},
        "calledDevice": {"type": "string"},
        "created": {"type": "number"},
        "answered": {"type": "number", "nullable": True},
        "accountCode": {"type": "string", "nullable": True},
        "connections": {"type": "array", "items": PARTY_SCHEMA},
    },
}

#: A connection, or the number of a device where one call alerts.
_PICKUP_TARGET = i.Kind(
    {"oneOf": [i.CONNECTION.schema, i.NUMBER.schema]},
    lambda v: i.CONNECTION.check(v) or i.NUMBER.check(v),
    "a connection or a device number",
    lambda v: i.CONNECTION.convert(v) if isinstance(v, dict) else v,
)


def connectionObject(connection):
    """
    @param connection: a L{ConnectionID}.
    @return: C{{"callID": ..., "deviceID": ...}}.
    """
    return {"callID": connection.callID, "deviceID": connection.deviceID}


def partyObject(connection, state):
    """
    @param connection: a L{ConnectionID}.
    @param state: its L{oso.callmodel.states.LocalConnectionState}.
    @return: C{{"callID": ..., "deviceID": ..., "state": ...}}.
    """
    return dict(connectionObject(connection), state=state.name)


def partiesOf(model, callID):
    """
    The live connections of a call with their states; none once it has
    ended.
    """
    try:
        parties = model.snapshotCall(callID)
    except CSTAError:
        return []
    return [partyObject(c, state) for _, c, state in parties]


def callObject(model, call, principal):
    """
    @param call: an L{oso.callmodel.calls.Call}.
    @param principal: the L{oso.interfaces.gserver.IPrincipal} asking: a
        caller who restricted the presentation (CLIR) is shown as
        C{"restricted"}, as in the call's events, to anyone but an
        administrator and the caller's own extension.
    @return: its JSON object.
    """
    calling = call.callingDevice
    if (
        call.callingRestricted
        and not principal.administrator
        and principal.extension != calling
    ):
        calling = RESTRICTED.value
    return {
        "callID": call.id,
        "callingDevice": calling,
        "calledDevice": call.calledDevice,
        "created": call.created,
        "answered": call.answered,
        "accountCode": call.accountCode,
        "connections": partiesOf(model, call.id),
    }


@dataclass(frozen=True)
class Service:
    """
    One call control service of the REST API.

    @ivar name: the call model's method, and the path segment.
    @ivar body: the request's L{Body}.
    @ivar arguments: the method's parameter names, one for each of the
        body's fields in order.
    @ivar controls: the fields naming a device (a number or a connection)
        that the caller must control.
    @ivar result: the result's members, each a C{(name, schema, shape)}
        triple; C{shape(model, value)} makes the member's JSON from what
        the method returned.
    @ivar summary: what the service does.
    """

    name: str
    body: Body
    arguments: tuple
    controls: tuple
    result: tuple
    summary: str

    def resultSchema(self):
        """
        @return: the OpenAPI schema of the result object.
        """
        schema = {
            "type": "object",
            "properties": {name: schema for name, schema, _ in self.result},
        }
        if self.result:
            schema["required"] = [name for name, _, _ in self.result]
        return schema

    def answer(self, model, value):
        """
        @return: the JSON object of the method's return C{value}.
        """
        return {name: shape(model, value) for name, _, shape in self.result}

    def call(self, model, values):
        """
        Call the model's method with the request's checked C{values}.
        """
        keywords = {
            argument: values[field.name]
            for field, argument in zip(self.body.fields, self.arguments)
            if field.name in values
        }
        return getattr(model, self.name)(**keywords)


def _f(name, kind, description="", required=True):
    return Field(name, kind, required, description)


_CONNECTION_RESULT = (_CONNECTION_OUT, lambda model, c: connectionObject(c))


def _withParties(name, callIDOf, schema=_CONNECTION_OUT, shape=None):
    """
    A result of one value and the parties of the call it names.
    """
    return (
        (name, schema, shape or (lambda model, c: connectionObject(c))),
        (
            "connections",
            {"type": "array", "items": PARTY_SCHEMA},
            lambda model, c: partiesOf(model, callIDOf(c)),
        ),
    )


SERVICES = (
    Service(
        "makeCall",
        Body((
            _f("callingDevice", i.NUMBER, "The device that calls"),
            _f("calledDirectoryNumber", i.NUMBER, "The number it calls"),
            _f("autoOriginate", i.BOOLEAN, "Go off-hook without ringing first", False),
            _f("accountCode", i.text(32), "An account code for the call data record", False),
        )),
        ("callingDevice", "calledDirectoryNumber", "autoOriginate", "accountCode"),
        ("callingDevice",),
        (("callingDevice",) + _CONNECTION_RESULT,),
        "Call a number from a device: the device is offered the call first.",
    ),
    Service(
        "answerCall",
        Body((_f("callToBeAnswered", i.CONNECTION),)),
        ("connection",),
        ("callToBeAnswered",),
        (),
        "Answer an alerting connection.",
    ),
    Service(
        "clearConnection",
        Body((_f("connectionToBeCleared", i.CONNECTION),)),
        ("connection",),
        ("connectionToBeCleared",),
        (),
        "Release one device from its call.",
    ),
    Service(
        "clearCall",
        Body((_f("callToBeCleared", i.CALL_ID, "The call's id"),)),
        ("callID",),
        (),
        (),
        "Release every device of a call.",
    ),
    Service(
        "holdCall",
        Body((_f("callToBeHeld", i.CONNECTION),)),
        ("connection",),
        ("callToBeHeld",),
        (),
        "Put a connected connection on hold.",
    ),
    Service(
        "retrieveCall",
        Body((_f("callToBeRetrieved", i.CONNECTION),)),
        ("connection",),
        ("callToBeRetrieved",),
        (),
        "Take a held connection off hold.",
    ),
    Service(
        "consultationCall",
        Body((_f("existingCall", i.CONNECTION), _f("consultedDevice", i.NUMBER))),
        ("existingConnection", "consultedDevice"),
        ("existingCall",),
        (
            ("heldCall", _CONNECTION_OUT, lambda model, pair: connectionObject(pair[0])),
            ("initiatedCall", _CONNECTION_OUT, lambda model, pair: connectionObject(pair[1])),
        ),
        "Hold a call and call another number from the same device.",
    ),
    Service(
        "alternateCall",
        Body((_f("activeCall", i.CONNECTION), _f("otherCall", i.CONNECTION))),
        ("activeConnection", "otherConnection"),
        ("activeCall", "otherCall"),
        (),
        "Hold the active call and retrieve the held one.",
    ),
    Service(
        "reconnectCall",
        Body((_f("activeCall", i.CONNECTION), _f("heldCall", i.CONNECTION))),
        ("activeConnection", "heldConnection"),
        ("activeCall", "heldCall"),
        (),
        "Clear the active call and retrieve the held one.",
    ),
    Service(
        "transferCall",
        Body((_f("heldCall", i.CONNECTION), _f("activeCall", i.CONNECTION))),
        ("heldConnection", "activeConnection"),
        ("heldCall", "activeCall"),
        _withParties(
            "transferredCall", lambda callID: callID, {"type": "string"},
            lambda model, callID: callID,
        ),
        "Join the far ends of a device's held and active calls.",
    ),
    Service(
        "singleStepTransferCall",
        Body((_f("activeCall", i.CONNECTION), _f("transferredTo", i.NUMBER))),
        ("activeConnection", "transferredTo"),
        ("activeCall",),
        _withParties("transferredCall", lambda c: c.callID),
        "Send the far end of a connected call to another number.",
    ),
    Service(
        "conferenceCall",
        Body((_f("heldCall", i.CONNECTION), _f("activeCall", i.CONNECTION))),
        ("heldConnection", "activeConnection"),
        ("heldCall", "activeCall"),
        _withParties("conferenceCall", lambda c: c.callID),
        "Join a device's held and active calls into one call.",
    ),
    Service(
        "deflectCall",
        Body((_f("callToBeDiverted", i.CONNECTION), _f("newDestination", i.NUMBER))),
        ("connection", "newDestination"),
        ("callToBeDiverted",),
        (),
        "Send an alerting call on to another number.",
    ),
    Service(
        "generateDigits",
        Body((
            _f("connectionToSendDigits", i.CONNECTION),
            _f("charactersToSend", i.text(64, 1, "[0-9*#A-D]+", "DTMF digits"), "DTMF digits"),
        )),
        ("connection", "digits"),
        ("connectionToSendDigits",),
        (),
        "Send DTMF digits into a connected call.",
    ),
    Service(
        "directedPickupCall",
        Body((
            _f("callToBePickedUp", _PICKUP_TARGET, "An alerting connection, or its device"),
            _f("requestingDevice", i.NUMBER, "The device that takes the call"),
        )),
        ("callToBePickedUp", "requestingDevice"),
        ("requestingDevice",),
        (("pickedCall",) + _CONNECTION_RESULT,),
        "Take an alerting call at another device.",
    ),
    Service(
        "groupPickupCall",
        Body((_f("requestingDevice", i.NUMBER, "The device that takes the call"),)),
        ("requestingDevice",),
        ("requestingDevice",),
        (("pickedCall",) + _CONNECTION_RESULT,),
        "Take the longest-alerting call in the device's pickup group.",
    ),
)

SERVICES_BY_NAME = {service.name: service for service in SERVICES}


class CallResources:
    """
    The handlers of C{/calls} and C{/services}, bound to one G-Server; each
    returns C{(status, JSON value)} or raises L{APIError}.
    """

    def __init__(self, site):
        self.site = site
        self.model = site.context.callModel

    def _mayWatch(self, principal, call):
        return principal.administrator or any(
            principal.mayControl(number) for number in call.connections
        )

    async def list(self, principal, request):
        return 200, [
            callObject(self.model, call, principal)
            for call in sorted(self.model.calls(), key=lambda c: int(c.id))
            if self._mayWatch(principal, call)
        ]

    async def get(self, principal, request, callID):
        try:
            call = self.model.call(callID)
        except CSTAError as e:
            raise refusal(e) from None
        if not self._mayWatch(principal, call):
            raise APIError(403, "forbidden", f"{principal.name} is not in call {callID}")
        return 200, callObject(self.model, call, principal)

    async def invoke(self, principal, request, name):
        service = SERVICES_BY_NAME.get(name)
        if service is None:
            raise APIError(404, "unknownService", f"there is no service {name!r}")
        arguments = service.body.parse(i.readBody(request))
        for field in service.controls:
            value = arguments[field]
            i.requireControl(
                principal, value.deviceID if isinstance(value, ConnectionID) else value
            )
        if name == "clearCall" and not principal.administrator:
            await self.get(principal, request, arguments["callToBeCleared"])
        try:
            value = service.call(self.model, arguments)
        except CSTAError as e:
            raise refusal(e) from None
        return 200, service.answer(self.model, value)
