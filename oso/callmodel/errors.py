"""
The one error type of the call model: a refused service carrying its
ECMA-269 universal failure.
"""

from dataclasses import dataclass

#: ECMA-269 universal failure categories, in ECMA-285's CHOICE order.
CATEGORIES = (
    "operation",
    "security",
    "stateIncompatibility",
    "systemResourceAvailability",
    "subscribedResourceAvailability",
    "performanceManagement",
    "privateData",
    "unspecified",
)


@dataclass(frozen=True, slots=True)
class UniversalFailure:
    """
    An ECMA-269 universal failure: a category and the name of a value in
    that category's enumeration (for example C{operation}/C{invalidDeviceID}).
    """

    category: str
    value: str

    def __str__(self):
        return f"{self.category}.{self.value}"


class CSTAError(Exception):
    """
    A call model service was refused.

    @ivar failure: the L{UniversalFailure}.
    @ivar reason: a sentence for logs and people.
    """

    def __init__(self, failure, reason=""):
        super().__init__(f"{failure}: {reason}" if reason else str(failure))
        self.failure = failure
        self.reason = reason


def _failure(category, value):
    def refuse(reason=""):
        return CSTAError(UniversalFailure(category, value), reason)

    refuse.__name__ = value
    refuse.__doc__ = f"A L{{CSTAError}} carrying {category}.{value}."
    return refuse


generic = _failure("operation", "generic")
invalidDeviceID = _failure("operation", "invalidDeviceID")
invalidCallingDeviceID = _failure("operation", "invalidCallingDeviceID")
invalidCalledDeviceID = _failure("operation", "invalidCalledDeviceID")
invalidCallID = _failure("operation", "invalidCallID")
invalidConnectionID = _failure("operation", "invalidConnectionID")
invalidDestination = _failure("operation", "invalidDestination")
invalidForwardingDestination = _failure("operation", "invalidForwardingDestination")
invalidParameterValue = _failure("operation", "invalidParameterValue")
invalidFeature = _failure("operation", "invalidFeature")
notSameDevice = _failure("operation", "notSameDevice")
notDifferentDevices = _failure("operation", "notDifferentDevices")
privilegeViolation = _failure("operation", "privilegeViolationSpecifiedDevice")
requestIncompatibleWithDevice = _failure("operation", "requestIncompatibleWithDevice")
serviceNotSupported = _failure("operation", "serviceNotSupported")
invalidCallState = _failure("stateIncompatibility", "invalidConnectionState")
invalidDeviceState = _failure("stateIncompatibility", "invalidDeviceState")
noCallToAnswer = _failure("stateIncompatibility", "noCallToAnswer")
noHeldCall = _failure("stateIncompatibility", "noHeldCall")
noActiveCall = _failure("stateIncompatibility", "noActiveCall")
resourceBusy = _failure("systemResourceAvailability", "resourceBusy")
deviceOutOfService = _failure("systemResourceAvailability", "deviceOutOfService")
conferenceMemberLimitExceeded = _failure(
    "systemResourceAvailability", "conferenceMemberLimitExceeded"
)
