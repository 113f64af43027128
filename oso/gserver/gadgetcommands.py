"""
The gadget API's commands after login: call control, device control and
event monitors, each calling the call model service of the same name.

A command takes a session and its request's parameters (already decoded
text) and returns its reply's fields: C{(name, value)} pairs in order, a
value being text or, for a repeated part, a list of such pairs.  Parameter
names are ECMA-269's: a connection is C{callID} with C{deviceID}, the two
calls of a device C{heldCallID} and C{activeCallID} with C{deviceID}.  Every
device a command acts on is checked against the principal
(L{IPrincipal.mayControl}) before the model is asked.

A request the API refuses is a L{GadgetError} (a reason and the HTTP status
to answer with); a refusal of the model stays its L{CSTAError}.
"""

from twisted.internet.defer import maybeDeferred

from oso.callmodel.devices import ForwardingType
from oso.callmodel.events import EVENT_TYPES
from oso.callmodel.ids import ConnectionID
from oso.callmodel.states import LocalConnectionState as S

#: The event type names GetEvents reports and C{filter} takes.
EVENT_NAMES = frozenset(name + "Event" for name in EVENT_TYPES)

_BOOLEANS = {"true": True, "1": True, "on": True, "false": False, "0": False, "off": False}
_REQUIRED = object()


class GadgetError(Exception):
    """
    A request the gadget API refuses before or instead of the call model.

    @ivar reason: a sentence saying why, for the reply and the log.
    @ivar status: the HTTP status of the reply: 400 for a malformed
        request, 403 for a device the user may not control, 200 for a
        well-formed request that cannot be done.
    """

    def __init__(self, reason, status=400):
        super().__init__(reason)
        self.reason = reason
        self.status = status


class Parameters:
    """
    One request's parameters, read by name and checked.

    @ivar principal: who asks: devices are checked against it.
    """

    def __init__(self, values, principal):
        self._values = values
        self.principal = principal

    def text(self, name, default=_REQUIRED):
        """
        @return: the parameter's value, or C{default} when it is absent or
            empty.
        @raise GadgetError: when it is required and absent.
        """
        value = self._values.get(name, "")
        if value:
            return value
        if default is _REQUIRED:
            raise GadgetError(f"missing parameter {name}")
        return default

    def device(self, name, default=_REQUIRED):
        """
        A device the command acts on, which the principal must be allowed
        to control.

        @raise GadgetError: 403 when it is not.
        """
        device = self.text(name, default)
        if not self.principal.mayControl(device):
            raise GadgetError(
                f"{self.principal.name} may not control device {device}", status=403
            )
        return device

    def connection(self, callName="callID"):
        """
        @return: the L{ConnectionID} of C{callName} at the controlled
            device C{deviceID}.
        """
        return ConnectionID(self.text(callName), self.device("deviceID"))

    def boolean(self, name):
        value = self.text(name)
        if value.lower() not in _BOOLEANS:
            raise GadgetError(f"parameter {name} must be true or false")
        return _BOOLEANS[value.lower()]

    def member(self, name, enumeration, default):
        """
        @return: the member of C{enumeration} the parameter names.
        """
        value = self.text(name, None)
        if value is None:
            return default
        if value not in enumeration.__members__:
            raise GadgetError(
                f"parameter {name} must be one of {', '.join(enumeration.__members__)}"
            )
        return enumeration[value]

    def eventTypes(self, name):
        """
        The event types a C{filter} parameter names (comma-separated type
        names as GetEvents shows them), or L{None} for every type.
        """
        value = self.text(name, None)
        if value is None:
            return None
        types = frozenset(part.strip() for part in value.split(",") if part.strip())
        unknown = sorted(types - EVENT_NAMES)
        if unknown or not types:
            raise GadgetError(
                f"parameter {name} names no event type it knows: {', '.join(unknown)}"
                if unknown
                else f"parameter {name} is empty"
            )
        return types


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _connection(connectionID):
    return [("callID", connectionID.callID), ("deviceID", connectionID.deviceID)]


# --- call control ---------------------------------------------------------------


def makeCall(model, session, params):
    """
    MakeCall: C{callingDevice}, C{calledDirectoryNumber}, optional
    C{autoOriginate} (C{prompt}, the default, or C{doNotPrompt}).
    """
    calling = params.device("callingDevice")
    called = params.text("calledDirectoryNumber")
    autoOriginate = params.text("autoOriginate", "prompt")
    if autoOriginate not in ("prompt", "doNotPrompt"):
        raise GadgetError("parameter autoOriginate must be prompt or doNotPrompt")
    connection = model.makeCall(calling, called, autoOriginate=autoOriginate == "doNotPrompt")
    return _connection(connection)


def _onConnection(service):
    def command(model, session, params):
        getattr(model, service)(params.connection())
        return []

    command.__doc__ = f"{service[0].upper()}{service[1:]}: C{{callID}}, C{{deviceID}}."
    return command


answerCall = _onConnection("answerCall")
clearConnection = _onConnection("clearConnection")
holdCall = _onConnection("holdCall")
retrieveCall = _onConnection("retrieveCall")


def deflectCall(model, session, params):
    """
    DeflectCall: C{callID}, C{deviceID}, C{newDestination}.
    """
    model.deflectCall(params.connection(), params.text("newDestination"))
    return []


def consultationCall(model, session, params):
    """
    ConsultationCall: C{callID}, C{deviceID} (the existing call),
    C{consultedDevice}; the reply is the new call's connection.
    """
    _, initiated = model.consultationCall(params.connection(), params.text("consultedDevice"))
    return _connection(initiated)


def _twoCalls(params):
    device = params.device("deviceID")
    return (
        ConnectionID(params.text("activeCallID"), device),
        ConnectionID(params.text("heldCallID"), device),
    )


def alternateCall(model, session, params):
    """
    AlternateCall: C{deviceID}, C{activeCallID}, C{heldCallID}.
    """
    model.alternateCall(*_twoCalls(params))
    return []


def reconnectCall(model, session, params):
    """
    ReconnectCall: C{deviceID}, C{activeCallID}, C{heldCallID}.
    """
    model.reconnectCall(*_twoCalls(params))
    return []


def transferCall(model, session, params):
    """
    TransferCall: C{deviceID}, C{heldCallID}, C{activeCallID}; the reply
    is the resulting call's C{callID}.
    """
    active, held = _twoCalls(params)
    return [("callID", model.transferCall(held, active))]


def conferenceCall(model, session, params):
    """
    ConferenceCall: C{deviceID}, C{heldCallID}, C{activeCallID}; the reply
    is the device's connection in the conference.
    """
    active, held = _twoCalls(params)
    return _connection(model.conferenceCall(held, active))


# --- device control -------------------------------------------------------------


def getDoNotDisturb(model, session, params):
    """
    GetDoNotDisturb: C{deviceID}.
    """
    device = params.device("deviceID")
    return [("deviceID", device), ("doNotDisturbOn", _text(model.getDoNotDisturb(device)))]


def setDoNotDisturb(model, session, params):
    """
    SetDoNotDisturb: C{deviceID}, C{doNotDisturbOn}; answered once the
    setting is on disk.
    """
    device = params.device("deviceID")
    on = params.boolean("doNotDisturbOn")
    return maybeDeferred(model.setDoNotDisturb, device, on).addCallback(
        lambda _: [("deviceID", device), ("doNotDisturbOn", _text(on))]
    )


def getForwarding(model, session, params):
    """
    GetForwarding: C{deviceID}; one C{forwarding} part per type ever set.
    """
    device = params.device("deviceID")
    return [("deviceID", device)] + [
        (
            "forwarding",
            [
                ("forwardingType", setting.forwardingType.name),
                ("forwardStatus", _text(setting.active)),
                ("forwardDN", _text(setting.destination)),
            ],
        )
        for setting in model.getForwarding(device)
    ]


def setForwarding(model, session, params):
    """
    SetForwarding: C{deviceID}, C{activateForward}, optional
    C{forwardingType} (C{forwardImmediate} by default), C{forwardDN} when
    activating; answered once the setting is on disk.
    """
    device = params.device("deviceID")
    kind = params.member("forwardingType", ForwardingType, ForwardingType.forwardImmediate)
    activate = params.boolean("activateForward")
    destination = params.text("forwardDN", None)
    return maybeDeferred(model.setForwarding, device, kind, activate, destination).addCallback(
        lambda _: [
            ("deviceID", device),
            ("forwardingType", kind.name),
            ("forwardStatus", _text(activate)),
        ]
    )


def deviceState(states):
    """
    A device's state from its connections' states: C{idle} without one,
    C{alerting} when each of them alerts, C{busy} otherwise.
    """
    if not states:
        return "idle"
    if all(state is S.alerting for state in states):
        return "alerting"
    return "busy"


def getDeviceState(model, session, params):
    """
    GetDeviceState: C{deviceID}; its state, do not disturb and each of its
    connections with the connection's state.
    """
    device = params.device("deviceID")
    connections = model.snapshotDevice(device)
    return [
        ("deviceID", device),
        ("state", deviceState([state for _, state in connections])),
        ("doNotDisturbOn", _text(model.getDoNotDisturb(device))),
    ] + [
        ("connection", _connection(connection) + [("localConnectionState", state.name)])
        for connection, state in connections
    ]


# --- events -----------------------------------------------------------------------


def _monitoredDevice(params):
    """
    The C{deviceObject} of a monitor command: the user's own extension
    when absent.
    """
    return params.device("deviceObject", params.principal.extension or _REQUIRED)


def monitorStart(model, session, params):
    """
    MonitorStart (and EventStart): C{deviceObject} (the user's own
    extension by default), optional C{filter}: the event types to report.
    """
    device = _monitoredDevice(params)
    types = params.eventTypes("filter")
    session.monitor(device, types)
    return [("deviceObject", device), ("filter", ",".join(sorted(types or ())))]


def monitorStop(model, session, params):
    """
    MonitorStop (and EventStop): C{deviceObject}.
    """
    device = _monitoredDevice(params)
    if not session.unmonitor(device):
        raise GadgetError(f"device {device} is not monitored in this session", status=200)
    return [("deviceObject", device)]


#: Command name -> C{(model, session, params) -> fields or a Deferred}.
COMMANDS = {
    "MakeCall": makeCall,
    "AnswerCall": answerCall,
    "ClearConnection": clearConnection,
    "HoldCall": holdCall,
    "RetrieveCall": retrieveCall,
    "ConsultationCall": consultationCall,
    "AlternateCall": alternateCall,
    "ReconnectCall": reconnectCall,
    "ConferenceCall": conferenceCall,
    "TransferCall": transferCall,
    "DeflectCall": deflectCall,
    "GetDoNotDisturb": getDoNotDisturb,
    "SetDoNotDisturb": setDoNotDisturb,
    "GetForwarding": getForwarding,
    "SetForwarding": setForwarding,
    "GetDeviceState": getDeviceState,
    "MonitorStart": monitorStart,
    "MonitorStop": monitorStop,
    "EventStart": monitorStart,
    "EventStop": monitorStop,
}
