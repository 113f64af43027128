"""
The C{Reason} header field of RFC 3326, sans-I/O: why a BYE or CANCEL
ends a call, as a Q.850 cause (C{Reason: Q.850;cause=16;text="..."}) or a
SIP status (C{Reason: SIP;cause=200;text="Call completed elsewhere"}), and
how those map to and from the call model's L{EventCause}.

The Q.850 table (ITU-T Q.850 cause values; ECMA-269 event causes)::

    Q.850                                   -> EventCause        <- EventCause
     1 unallocated number                    numberUnallocated    numberUnallocated
     3 no route to destination               destNotObtainable    destNotObtainable
    16 normal call clearing                  normalClearing       normalClearing, and
                                                                  any cause not listed
    17 user busy                             busy                 busy, doNotDisturb
    18 no user responding                    callNotAnswered      -
    19 no answer from user (user alerted)    callNotAnswered      callNotAnswered
    20 subscriber absent                     destOutOfOrder       -
    21 call rejected                         blocked              blocked
    22 number changed                        numberChanged        numberChanged
    27 destination out of order              destOutOfOrder       destOutOfOrder
    28 invalid number format                 invalidNumberFormat  invalidNumberFormat
    31 normal, unspecified                   normal               normal
    34 no circuit/channel available          networkCongestion    networkCongestion,
                                                                  trunksBusy
    38 network out of order                  networkOutOfOrder    networkOutOfOrder
    42 switching equipment congestion        networkCongestion    -
    44 requested channel not available       selectedTrunkBusy    selectedTrunkBusy
    47 resource unavailable, unspecified     resourcesNotAvail.   resourcesNotAvailable
    57 bearer capability not authorized      unauthorisedBearer.  unauthorisedBearerService
    58 bearer capability not available       notAvaliableBearer.  notAvaliableBearerService
    65 bearer capability not implemented     notSupportedBearer.  notSupportedBearerService
    88 incompatible destination              incompatibleDest.    incompatibleDestination
   102 recovery on timer expiry              timeout              timeout

A Q.850 cause not in the table is read by its class (Q.850 2.2.5: an
unknown cause is treated as the unspecified cause of its class): up to 31
C{normal}, 32-47 C{resourcesNotAvailable}, from 48 C{networkNotObtainable}.

C{SIP;cause=200} ("Call completed elsewhere", RFC 3326 and RFC 3261's
forking) is C{multipleAlerting} both ways (ECMA-269: the call was offered
to several devices and answered by another); C{callPickup} (picked up at
another phone) writes it too.  Other SIP causes are read as the model's
cause for the same final response where there is one, else C{normal}.
"""

import re
from dataclasses import dataclass

from oso.callmodel.causes import EventCause
from oso.sip.headers import isToken, parseParams, quoteString, unquoteString
from oso.sip.uri import SIPParseError

_PROTOCOL_RE = re.compile(r"[ \t]*([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*")

#: RFC 3326 2 (and RFC 3261's forking): the text of SIP cause 200.
COMPLETED_ELSEWHERE = "Call completed elsewhere"


@dataclass(frozen=True, slots=True)
class Reason:
    """
    One value of a C{Reason} field.

    @ivar protocol: C{"Q.850"}, C{"SIP"} or another protocol token as
        written.
    @ivar cause: the cause number.
    @ivar text: the C{text} parameter, unquoted, or C{None}.
    """

    protocol: str
    cause: int
    text: str | None = None

    def __str__(self):
        text = "" if self.text is None else f";text={quoteString(self.text)}"
        return f"{self.protocol};cause={self.cause}{text}"


#: The Reason of a forking CANCEL once another fork answered (RFC 3326 2).
ANSWERED_ELSEWHERE = Reason("SIP", 200, COMPLETED_ELSEWHERE)


def parseReason(value, name="Reason"):
    """
    Read one C{Reason} value: C{protocol *(; reason-params)}; C{cause} is
    required here (RFC 3326 2 makes it mandatory in practice: a reason
    without one says nothing).

    @return: a L{Reason}.
    @raise SIPParseError: on a malformed value (C{Bad Reason}).
    """
    match = _PROTOCOL_RE.match(value)
    if match is None:
        raise SIPParseError(f"bad {name} header field: {value!r}", reason=f"Bad {name}")
    params = parseParams(value, match.end(), name)
    cause = params.get("cause")
    if cause is None or not cause.isdigit() or len(cause) > 5:
        raise SIPParseError(f"bad {name} header field (cause): {value!r}", reason=f"Bad {name}")
    text = params.get("text")
    if text is not None:
        if not text.startswith('"'):
            if not isToken(text):
                raise SIPParseError(f"bad {name} header field (text): {value!r}", reason=f"Bad {name}")
        else:
            text = unquoteString(text)
    return Reason(match.group(1), int(cause), text)


def reasonsOf(message):
    """
    Every C{Reason} value of a message, in order.

    @raise SIPParseError: when one is malformed.
    """
    return [parseReason(value) for value in message.headers.getAll("reason")]


_Q850_CAUSES = {
    1: EventCause.numberUnallocated,
    3: EventCause.destNotObtainable,
    16: EventCause.normalClearing,
    17: EventCause.busy,
    18: EventCause.callNotAnswered,
    19: EventCause.callNotAnswered,
    20: EventCause.destOutOfOrder,
    21: EventCause.blocked,
    22: EventCause.numberChanged,
    27: EventCause.destOutOfOrder,
    28: EventCause.invalidNumberFormat,
    31: EventCause.normal,
    34: EventCause.networkCongestion,
    38: EventCause.networkOutOfOrder,
    42: EventCause.networkCongestion,
    44: EventCause.selectedTrunkBusy,
    47: EventCause.resourcesNotAvailable,
    57: EventCause.unauthorisedBearerService,
    58: EventCause.notAvaliableBearerService,
    65: EventCause.notSupportedBearerService,
    88: EventCause.incompatibleDestination,
    102: EventCause.timeout,
}

_CAUSES_Q850 = {
    EventCause.numberUnallocated: 1,
    EventCause.destNotObtainable: 3,
    EventCause.normalClearing: 16,
    EventCause.busy: 17,
    EventCause.doNotDisturb: 17,
    EventCause.callNotAnswered: 19,
    EventCause.blocked: 21,
    EventCause.numberChanged: 22,
    EventCause.destOutOfOrder: 27,
    EventCause.invalidNumberFormat: 28,
    EventCause.normal: 31,
    EventCause.networkCongestion: 34,
    EventCause.trunksBusy: 34,
    EventCause.networkOutOfOrder: 38,
    EventCause.selectedTrunkBusy: 44,
    EventCause.resourcesNotAvailable: 47,
    EventCause.unauthorisedBearerService: 57,
    EventCause.notAvaliableBearerService: 58,
    EventCause.notSupportedBearerService: 65,
    EventCause.incompatibleDestination: 88,
    EventCause.timeout: 102,
}

#: The Q.850 texts written (ITU-T Q.850 Table 1 names).
_Q850_TEXTS = {
    1: "Unallocated number",
    3: "No route to destination",
    16: "Normal call clearing",
    17: "User busy",
    19: "No answer from user",
    21: "Call rejected",
    22: "Number changed",
    27: "Destination out of order",
    28: "Invalid number format",
    31: "Normal, unspecified",
    34: "No circuit/channel available",
    38: "Network out of order",
    44: "Requested circuit/channel not available",
    47: "Resource unavailable, unspecified",
    57: "Bearer capability not authorized",
    58: "Bearer capability not presently available",
    65: "Bearer capability not implemented",
    88: "Incompatible destination",
    102: "Recovery on timer expiry",
}

#: SIP causes read as the model reads the same final responses.
_SIP_CAUSES = {
    200: EventCause.multipleAlerting,
    404: EventCause.destNotObtainable,
    408: EventCause.destOutOfOrder,
    480: EventCause.destOutOfOrder,
    484: EventCause.invalidNumberFormat,
    486: EventCause.busy,
    503: EventCause.networkCongestion,
    600: EventCause.busy,
    603: EventCause.blocked,
}

#: The causes that end a ringing fork because another one answered.
_ELSEWHERE = frozenset({EventCause.multipleAlerting, EventCause.callPickup})


def causeForQ850(cause):
    """
    The model's cause for a Q.850 cause value (see the module's table).
    """
    known = _Q850_CAUSES.get(cause)
    if known is not None:
        return known
    if cause <= 31:
        return EventCause.normal
    if cause <= 47:
        return EventCause.resourcesNotAvailable
    return EventCause.networkNotObtainable


def q850ForCause(cause):
    """
    The Q.850 cause value for a model's cause (see the module's table):
    16, normal call clearing, for any cause not listed (a transfer, a
    pickup, a conference all end a party's call normally).
    """
    return _CAUSES_Q850.get(cause, 16)


def causeOf(message, default=EventCause.normalClearing):
    """
    The model's cause a BYE or CANCEL gives with its C{Reason}: the first
    Q.850 value, else the first SIP one, else C{default} (also for no
    message at all).  A malformed C{Reason} is ignored (the request still
    ends the call): C{default}.
    """
    if message is None:
        return default
    try:
        reasons = reasonsOf(message)
    except SIPParseError:
        return default
    for reason in reasons:
        if reason.protocol.upper() == "Q.850":
            return causeForQ850(reason.cause)
    for reason in reasons:
        if reason.protocol.upper() == "SIP":
            return _SIP_CAUSES.get(reason.cause, EventCause.normal)
    return default


def reasonForCause(cause):
    """
    The C{Reason} a BYE or CANCEL carries for the model's cause: SIP cause
    200 "Call completed elsewhere" when the call was answered or picked up
    elsewhere, else the Q.850 cause with its text.
    """
    if cause in _ELSEWHERE:
        return ANSWERED_ELSEWHERE
    value = q850ForCause(cause)
    return Reason("Q.850", value, _Q850_TEXTS[value])


__all__ = [
    "ANSWERED_ELSEWHERE",
    "COMPLETED_ELSEWHERE",
    "Reason",
    "causeForQ850",
    "causeOf",
    "parseReason",
    "q850ForCause",
    "reasonForCause",
    "reasonsOf",
]
