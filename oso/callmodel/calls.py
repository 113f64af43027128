"""
Calls and connections: the live, mutable state the call model switches.
"""

from dataclasses import dataclass, field

from oso.callmodel.ids import ConnectionID
from oso.callmodel.states import LocalConnectionState


class Connection:
    """
    One device's part in one call.

    The same object lives as long as the connection, even when a transfer or
    conference moves it into another call; port drivers key their legs by it.

    @ivar call: the L{Call} it belongs to now.
    @ivar device: the device's number.
    @ivar state: the L{LocalConnectionState}; C{null} while a call is being
        offered to the device and it has not yet reported alerting.
    @ivar media: the opaque media description the device's terminal gave.
    @ivar alertingSince: model time the connection started alerting.
    @ivar timer: a pending L{IDelayedCall} (no-answer), or L{None}.
    @ivar ended: set once the connection has left its call.
    @ivar origination: the device is being asked to start this call
        (MakeCall, consultation): answering it dials C{call.dialled}.
    @ivar cause: the event cause its offer was made with.
    """

    __slots__ = (
        "call",
        "device",
        "state",
        "media",
        "alertingSince",
        "timer",
        "ended",
        "origination",
        "cause",
    )

    def __init__(self, call, device, state=LocalConnectionState.null, media=None):
        self.call = call
        self.device = device
        self.state = state
        self.media = media
        self.alertingSince = None
        self.timer = None
        self.ended = False
        self.origination = False
        self.cause = None

    @property
    def id(self):
        """
        The ECMA-269 L{ConnectionID} of this connection now.
        """
        return ConnectionID(self.call.id, self.device)

    def cancelTimer(self):
        """
        Cancel a pending no-answer timer.
        """
        if self.timer is not None:
            if self.timer.active():
                self.timer.cancel()
            self.timer = None

    def __repr__(self):
        return f"<Connection {self.id} {self.state.name}>"


@dataclass(eq=False)
class Call:
    """
    A call: its connections and what a call data record needs.

    @ivar connections: the connections by device number, in the order they
        joined.
    @ivar callingDevice: who called (a device number or an external number).
    @ivar calledDevice: the number originally called.
    @ivar lastRedirectionDevice: the device the call last left by
        forwarding, deflection or hunting.
    @ivar dialled: the digits dialled so far while the call is initiated.
    @ivar hunt: the hunting state while a group rings its members.
    @ivar redirections: the devices the call was forwarded from, in order,
        to stop forwarding loops.
    @ivar callingRestricted: the caller asked that its identity not be
        presented (CLIR, SIP privacy): the model still knows the calling
        device, its events about the other parties name it
        L{oso.callmodel.events.RESTRICTED}.
    @ivar presentedNumber: the public number (E.164 digits) the calling
        station chose to present to the network among those it may
        (RFC 3325 preferred identity), or C{None} for its public number;
        gone when another device becomes the calling device.
    """

    id: str
    created: float
    connections: dict = field(default_factory=dict)
    callingDevice: str = ""
    calledDevice: str = ""
    lastRedirectionDevice: str | None = None
    dialled: str = ""
    answered: float | None = None
    ended: float | None = None
    accountCode: str | None = None
    trunk: str | None = None
    hunt: object = None
    redirections: list = field(default_factory=list)
    callingRestricted: bool = False
    presentedNumber: str | None = None

    def live(self):
        """
        @return: the connections that take part in the call (not null).
        """
        return [
            c
            for c in self.connections.values()
            if c.state is not LocalConnectionState.null
        ]

    def others(self, connection):
        """
        @return: the call's other connections, pending offers included.
        """
        return [c for c in self.connections.values() if c is not connection]


@dataclass(frozen=True, slots=True)
class Offer:
    """
    What the model tells a terminal about a call it presents.

    @ivar reason: C{"call"} for an incoming call, C{"origination"} when the
        device is asked to start a call (MakeCall), C{"pickup"} when it takes
        a call ringing elsewhere.
    @ivar autoAnswer: the device should go off-hook by itself.
    @ivar media: the other leg's opaque media description, if any.
    @ivar callingRestricted: the calling device is not to be presented.
    @ivar presentedNumber: the public number the calling station chose to
        present (L{Call.presentedNumber}), or C{None}.
    """

    callingDevice: str
    calledDevice: str
    reason: str = "call"
    autoAnswer: bool = False
    lastRedirectionDevice: str | None = None
    media: object = None
    callingRestricted: bool = False
    presentedNumber: str | None = None
