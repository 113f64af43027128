"""
Arguments and results of the ECMA-285 monitoring services, and the event
filter bit strings.

Modules: CSTA-monitor-start, CSTA-monitor-stop, CSTA-change-monitor-filter,
CSTA-status-reporting (MonitorObject, MonitorFilter, MonitorType,
MonitorMediaClass), CSTA-switching-function-objects (CSTAObject),
CSTA-application-context-information-csta3 (the event bit strings).
"""

from pyasn1.type import namedtype, univ

from oso.csta.asn1.common import (
    ConnectionID,
    CSTACommonArguments,
    DeviceID,
    MonitorCrossRefID,
)
from oso.csta.asn1.tagging import Sequence, enumerated, implicit, names

NamedType = namedtype.NamedType
Optional = namedtype.OptionalNamedType
Defaulted = namedtype.DefaultedNamedType


class CallControlEvents(univ.BitString):
    namedValues = names(
        ("callCleared", 0),
        ("conferenced", 1),
        ("connectionCleared", 2),
        ("delivered", 3),
        ("diverted", 4),
        ("established", 5),
        ("failed", 6),
        ("held", 7),
        ("networkReached", 8),
        ("originated", 9),
        ("queued", 10),
        ("retrieved", 11),
        ("serviceInitiated", 12),
        ("transferred", 13),
        ("digitsDialed", 14),
        ("bridged", 15),
        ("networkCapabilitiesChanged", 16),
        ("offered", 17),
    )


class CallAssociatedEvents(univ.BitString):
    namedValues = names(
        "callInformation",
        "charging",
        "dTMFDigitsDetected",
        "telephonyTonesDetected",
        "serviceCompletionFailure",
    )


class MediaAttachmentEvents(univ.BitString):
    namedValues = names("mediaAttached", "mediaDetached")


class PhysicalDeviceFeatureEvents(univ.BitString):
    namedValues = names(
        "buttonInformation",
        "buttonPress",
        "displayUpdated",
        "hookswitch",
        "lampMode",
        "messageWaiting",
        "microphoneGain",
        "microphoneMute",
        "ringerStatus",
        "speakerMute",
        "speakerVolume",
    )


class LogicalDeviceFeatureEvents(univ.BitString):
    namedValues = names(
        "agentBusy",
        "agentLoggedOn",
        "agentLoggedOff",
        "agentNotReady",
        "agentReady",
        "agentWorkingAfterCall",
        "autoAnswer",
        "autoWorkMode",
        "callBack",
        "callBackMessage",
        "callerIDStatus",
        "doNotDisturb",
        "forwarding",
        "routeingMode",
        "presenceState",
    )


class DeviceMaintenanceEvents(univ.BitString):
    namedValues = names(
        "backInService", "outOfService", "deviceCapabilityChanged", "partiallyInService"
    )


class VoiceUnitEvents(univ.BitString):
    namedValues = names(
        "stop",
        "play",
        "suspendPlay",
        "record",
        "suspendRecord",
        "review",
        "voiceAttributesChange",
        "bookmarkReached",
        "completed",
        "dtmfDetected",
        "emptied",
        "interruptionDetected",
        "notRecognized",
        "recognized",
        "started",
        "silenceTimeoutExpired",
        "speechDetected",
        "voiceErrorOccured",
    )


class VendorSpecEvents(univ.BitString):
    namedValues = names("privateEvent")


class MonitorFilter(Sequence):
    componentType = namedtype.NamedTypes(
        Defaulted("callControl", implicit(0, CallControlEvents()).clone("")),
        Defaulted("callAssociated", implicit(6, CallAssociatedEvents()).clone("")),
        Defaulted("mediaAttachment", implicit(7, MediaAttachmentEvents()).clone("")),
        Defaulted("physicalDeviceFeature", implicit(8, PhysicalDeviceFeatureEvents()).clone("")),
        Defaulted("logicalDeviceFeature", implicit(9, LogicalDeviceFeatureEvents()).clone("")),
        Defaulted("maintenance", implicit(3, DeviceMaintenanceEvents()).clone("")),
        Defaulted("voiceUnit", implicit(5, VoiceUnitEvents()).clone("")),
        Defaulted("private", implicit(4, VendorSpecEvents()).clone("")),
    )


class MonitorMediaClass(univ.BitString):
    namedValues = names(
        ("voice", 0),
        ("data", 1),
        ("image", 2),
        ("other", 3),
        ("audio", 4),
        ("notKnown", 5),
        ("chat", 6),
        ("email", 7),
        ("message", 8),
        ("im", 9),
        ("sms", 10),
        ("mms", 11),
    )


class CSTAObject(univ.Choice):
    """
    C{CSTAObject}, alias C{MonitorObject}.
    """

    componentType = namedtype.NamedTypes(
        NamedType("deviceObject", DeviceID()),
        NamedType("callObject", ConnectionID()),
    )


class MonitorStartArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("monitorObject", CSTAObject()),
        Optional("requestedMonitorFilter", implicit(0, MonitorFilter())),
        Optional("monitorType", enumerated("call", "device")),
        Optional("requestedMonitorMediaClass", implicit(1, MonitorMediaClass())),
        Optional("extensions", CSTACommonArguments()),
    )


class MonitorStartResult(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("crossRefIdentifier", MonitorCrossRefID()),
        Optional("actualmonitorFilter", implicit(0, MonitorFilter())),
        Optional("actualMonitorMediaClass", implicit(1, MonitorMediaClass())),
        Optional("monitorExistingCalls", univ.Boolean()),
        Optional("extensions", CSTACommonArguments()),
    )


class MonitorStopArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("crossRefIdentifier", MonitorCrossRefID()),
        Optional("extensions", CSTACommonArguments()),
    )


class ChangeMonitorFilterArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("crossRefIdentifier", MonitorCrossRefID()),
        NamedType("requestedFilterList", MonitorFilter()),
        Optional("extensions", CSTACommonArguments()),
    )


class ChangeMonitorFilterResult(Sequence):
    componentType = namedtype.NamedTypes(
        Optional("actualFilterList", MonitorFilter()),
        Optional("extensions", CSTACommonArguments()),
    )
