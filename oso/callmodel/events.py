"""
The events of the call model, in ECMA-269 terms.

Each change of the model is one event object.  Field names follow the
ECMA-269 event parameters so that every interface (CSTA in BER or XML, the
HTTP event stream, the CDR recorder) reads the same thing.  The event bus
stamps each with a sequence number and the time.
"""

from dataclasses import dataclass
from enum import Enum

from oso.callmodel.causes import EventCause


class Presentation(Enum):
    """
    What an event names instead of a device it may not show (ECMA-269's
    C{restricted} device id): the C{callingDevice} of a call whose caller
    restricted its presentation (CLIR), in events about the other parties'
    connections.
    """

    restricted = "restricted"


#: The C{callingDevice} of events about the parties a restricted caller
#: called.
RESTRICTED = Presentation.restricted


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """
    What every event has.

    @ivar seq: the bus's sequence number, one more than the previous event's.
    @ivar time: the model clock's seconds when the event happened.
    @ivar cause: the ECMA-269 event cause.
    """

    seq: int = 0
    time: float = 0.0
    cause: EventCause = EventCause.normal

    @property
    def name(self):
        """
        The event's ECMA-269 name, for example C{"Delivered"}.
        """
        return type(self).__name__


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEvent(Event):
    """
    An event about one connection of a call.

    @ivar connection: the ECMA-269 subject connection of the event.
    @ivar localConnectionInfo: that connection's new state.
    """

    connection: object = None
    localConnectionInfo: object = None

    @property
    def callID(self):
        """
        The id of the call the event is about.
        """
        return self.connection.callID


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceInitiated(CallEvent):
    """
    A device started a call: its connection is initiated.
    """

    initiatingDevice: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Originated(CallEvent):
    """
    The calling device is connected and its call goes out.
    """

    callingDevice: str = ""
    calledDevice: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivered(CallEvent):
    """
    A device is alerting.
    """

    alertingDevice: str = ""
    callingDevice: str = ""
    calledDevice: str = ""
    lastRedirectionDevice: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Established(CallEvent):
    """
    A device answered and is connected.
    """

    answeringDevice: str = ""
    callingDevice: str = ""
    calledDevice: str = ""
    lastRedirectionDevice: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Held(CallEvent):
    """
    A connection was put on hold.
    """

    holdingDevice: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Retrieved(CallEvent):
    """
    A held connection was taken off hold.
    """

    retrievingDevice: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionCleared(CallEvent):
    """
    A device left a call; its connection is null.
    """

    releasingDevice: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CallCleared(Event):
    """
    A call ended: none of its connections remain.
    """

    clearedCall: str = ""

    @property
    def callID(self):
        return self.clearedCall


@dataclass(frozen=True, slots=True, kw_only=True)
class Transferred(Event):
    """
    A device joined the far ends of two calls and left.

    @ivar primaryOldCall: the transferring device's connection in the call
        that goes on.
    @ivar secondaryOldCall: its connection in the call that merged into it.
    @ivar transferredConnections: C{(old, new)} connection id pairs of the
        parties that remain.
    """

    primaryOldCall: object = None
    secondaryOldCall: object = None
    transferringDevice: str = ""
    transferredToDevice: str = ""
    transferredConnections: tuple = ()

    @property
    def callID(self):
        return self.primaryOldCall.callID


@dataclass(frozen=True, slots=True, kw_only=True)
class Conferenced(Event):
    """
    A device joined its held and active calls into one.

    @ivar conferenceConnections: C{(old, new)} connection id pairs of every
        party of the resulting call.
    """

    primaryOldCall: object = None
    secondaryOldCall: object = None
    conferencingDevice: str = ""
    addedParty: str = ""
    conferenceConnections: tuple = ()

    @property
    def callID(self):
        return self.primaryOldCall.callID


@dataclass(frozen=True, slots=True, kw_only=True)
class Diverted(CallEvent):
    """
    A call left the device it was offered to (forwarding, deflection,
    pickup, hunting) for C{newDestination}.
    """

    divertingDevice: str = ""
    newDestination: str = ""
    callingDevice: str = ""
    calledDevice: str = ""
    lastRedirectionDevice: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Failed(CallEvent):
    """
    A call could not be completed; the subject connection is in fail state.
    """

    failingDevice: str = ""
    callingDevice: str = ""
    calledDevice: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Queued(CallEvent):
    """
    A call waits at a group for a free member.
    """

    queue: str = ""
    callingDevice: str = ""
    calledDevice: str = ""
    numberQueued: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkReached(CallEvent):
    """
    A call left the switch through a trunk.
    """

    networkInterfaceUsed: str = ""
    callingDevice: str = ""
    calledDevice: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DigitsDialed(CallEvent):
    """
    A device dialled digits while setting up a call.
    """

    dialingDevice: str = ""
    dialingSequence: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceEvent(Event):
    """
    An event about a device, not a call.
    """

    device: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Forwarding(DeviceEvent):
    """
    A forwarding setting changed.
    """

    forwardingType: object = None
    forwardStatus: bool = False
    forwardTo: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DoNotDisturb(DeviceEvent):
    """
    Do not disturb was switched on or off.
    """

    doNotDisturbOn: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class BackInService(DeviceEvent):
    """
    The device can be used again.
    """


@dataclass(frozen=True, slots=True, kw_only=True)
class OutOfService(DeviceEvent):
    """
    The device cannot be used.
    """


#: Every concrete event type, by name.
EVENT_TYPES = {
    cls.__name__: cls
    for cls in (
        ServiceInitiated,
        Originated,
        Delivered,
        Established,
        Held,
        Retrieved,
        ConnectionCleared,
        CallCleared,
        Transferred,
        Conferenced,
        Diverted,
        Failed,
        Queued,
        NetworkReached,
        DigitsDialed,
        Forwarding,
        DoNotDisturb,
        BackInService,
        OutOfService,
    )
}
