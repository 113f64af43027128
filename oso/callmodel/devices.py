"""
Devices and their feature state.
"""

from dataclasses import dataclass, field, replace
from enum import Enum, IntEnum

#: The most further numbers a station may present (L{Device.presentableNumbers}).
MAX_PRESENTABLE_NUMBERS = 20


class DeviceType(str, Enum):
    """
    What a device is, in ECMA-269's device categories.
    """

    station = "station"
    group = "group"
    trunk = "trunk"


class HuntMode(str, Enum):
    """
    How a group device rings its members.
    """

    linear = "linear"
    circular = "circular"
    parallel = "parallel"


class ForwardingType(IntEnum):
    """
    The ECMA-269 forwarding types oso acts on (ECMA-285 values).
    """

    forwardImmediate = 0
    forwardBusy = 1
    forwardNoAns = 2
    forwardDND = 9


@dataclass(frozen=True, slots=True)
class ForwardingSetting:
    """
    One kind of forwarding and where it goes.
    """

    forwardingType: ForwardingType
    active: bool = False
    destination: str | None = None


@dataclass(frozen=True, slots=True)
class Features:
    """
    A device's persistent feature state.

    @ivar forwarding: the forwarding settings, keyed by type (only the types
        ever set appear).
    @ivar doNotDisturb: whether calls are refused (busy treatment, or
        forwarding on busy/DND when set).
    @ivar messageWaiting: the message waiting indicator.
    @ivar noAnswerSeconds: how long a call rings before no-answer forwarding.
    """

    forwarding: tuple = ()
    doNotDisturb: bool = False
    messageWaiting: bool = False
    noAnswerSeconds: float = 15.0

    def forwardingFor(self, forwardingType):
        """
        @return: the active destination of C{forwardingType}, or L{None}.
        """
        for setting in self.forwarding:
            if setting.forwardingType == forwardingType and setting.active:
                return setting.destination
        return None

    def withForwarding(self, setting):
        """
        @return: a copy with C{setting} replacing the one of its type.
        """
        others = tuple(
            s for s in self.forwarding if s.forwardingType != setting.forwardingType
        )
        ordered = sorted(others + (setting,), key=lambda s: s.forwardingType)
        return replace(self, forwarding=tuple(ordered))


@dataclass(frozen=True, slots=True)
class Credentials:
    """
    What a device authenticates with, kept only as hashes.

    @ivar passwordHash: a salted slow hash of the password (see
        L{oso.secrets}), for interfaces that see the password itself.
    @ivar digestHA1: SIP digest C{HA1 = MD5(user:realm:password)}, keyed by
        realm (RFC 2617 lets a registrar keep only this).
    """

    passwordHash: str | None = None
    digestHA1: tuple = ()

    def ha1For(self, realm):
        """
        @return: the stored HA1 for C{realm}, or L{None}.
        """
        for r, ha1 in self.digestHA1:
            if r == realm:
                return ha1
        return None


@dataclass(frozen=True, slots=True)
class Device:
    """
    A directory number the call model can switch: a phone, a group, a trunk.

    @ivar number: the directory number, for example C{"201"}.
    @ivar port: the name of the port driver whose terminal serves the
        device (L{None} for groups).
    @ivar classOfService: a name the dial plan checks (for example
        C{"internal"}, C{"national"}, C{"international"}).
    @ivar pickupGroup: the pickup group number, or L{None}.
    @ivar members: for a group, its member numbers in hunting order.
    @ivar huntMode: for a group, how it rings its members.
    @ivar trunkGroup: for a trunk, the trunk group it belongs to.
    @ivar publicNumber: the number shown to the public network.
    @ivar withholdCallerID: a station's calls are presentation restricted
        (CLIR) whatever its terminal asks, as the administrator set it.
    @ivar presentableNumbers: further public numbers (E.164 digits) a
        station may present to the network instead of its public number,
        when its terminal prefers one (the company's main number, say).
    """

    number: str
    name: str = ""
    type: DeviceType = DeviceType.station
    port: str | None = None
    classOfService: str = "international"
    pickupGroup: int | None = None
    members: tuple = ()
    huntMode: HuntMode = HuntMode.linear
    trunkGroup: str | None = None
    publicNumber: str | None = None
    withholdCallerID: bool = False
    presentableNumbers: tuple = ()
    features: Features = field(default_factory=Features)
    credentials: Credentials = field(default_factory=Credentials)

    def mayPresent(self, number):
        """
        Whether the device may present C{number} as its identity (RFC 3325
        9.2: the identities a user is allowed to use): its own number, its
        public number or one of its presentable numbers (E.164 numbers, with
        or without their C{+}).
        """
        public = {self.publicNumber, *self.presentableNumbers} - {None}
        return number == self.number or number.removeprefix("+") in public
