"""
The ECMA-285 events oso reports, and the event report that carries them.

Modules: CSTA-event-report-definitions (CSTAEventReportArgument and the event
CHOICEs, with the alternatives oso reports), CSTA-service-initiated-event,
CSTA-originated-event, CSTA-delivered-event, CSTA-established-event,
CSTA-held-event, CSTA-retrieved-event, CSTA-connection-cleared-event,
CSTA-call-cleared-event, CSTA-transferred-event, CSTA-conferenced-event,
CSTA-diverted-event, CSTA-failed-event, CSTA-queued-event,
CSTA-network-reached-event, CSTA-digits-dialed-event, CSTA-forwarding-event,
CSTA-do-not-disturb-event, CSTA-back-in-service-event,
CSTA-out-of-service-event, CSTA-private-event.

Parameters oso does not interpret but must read past are C{opaque} (their
ASN.1 type is in the comment beside them).
"""

from pyasn1.type import namedtype, univ

from oso.csta.asn1.common import (
    AssociatedCalledDeviceID,
    AssociatedCallingDeviceID,
    CalledDeviceID,
    CallingDeviceID,
    CallOrigination,
    ConnectionID,
    ConnectionList,
    CSTACommonArguments,
    CSTAPrivateData,
    CSTASecurityData,
    DeviceID,
    DeviceIDList,
    EventCause,
    ForwardDefault,
    ForwardingType,
    LocalConnectionState,
    MonitorCrossRefID,
    NetworkCalledDeviceID,
    NetworkCallingDeviceID,
    RedirectionDeviceID,
    SubjectDeviceID,
    UserData,
)
from oso.csta.asn1.tagging import Sequence, explicit, implicit, opaque

NamedType = namedtype.NamedType
Optional = namedtype.OptionalNamedType


def _correlatorData(number):
    return implicit(number, univ.OctetString())


class ServiceInitiatedEvent(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("initiatedConnection", ConnectionID()),
        NamedType("initiatingDevice", SubjectDeviceID()),
        Optional("calledDevice", CalledDeviceID()),
        Optional("localConnectionInfo", LocalConnectionState()),
        Optional("correlatorData", _correlatorData(0)),
        NamedType("cause", EventCause()),
        Optional("servicesPermitted", opaque(1)),  # ServicesPermitted
        Optional("mediaCallCharacteristics", opaque(2)),  # MediaCallCharacteristics
        Optional("callCharacteristics", opaque(3)),  # CallCharacteristics
        Optional("initiatedConnectionInfo", opaque(4)),  # ConnectionInformation
        Optional("networkCallingDevice", NetworkCallingDeviceID()),
        Optional("networkCalledDevice", NetworkCalledDeviceID()),
        Optional("associatedCallingDevice", AssociatedCallingDeviceID()),
        Optional("callLinkageData", opaque(5)),  # CallLinkageData
        Optional("subjectOfCall", opaque(7)),  # SubjectOfCall
        Optional("messageInfo", opaque(8)),  # MessageInfo
        Optional("languagePreferences", opaque(9)),  # LanguagePreferences
        Optional("locationInfo", opaque(10)),  # LocationInfoList
        Optional("extensions", CSTACommonArguments()),
    )


class OriginatedEvent(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("originatedConnection", ConnectionID()),
        NamedType("callingDevice", SubjectDeviceID()),
        NamedType("calledDevice", CalledDeviceID()),
        Optional("originatingDevice", DeviceID()),
        Optional("localConnectionInfo", LocalConnectionState()),
        Optional("correlatorData", _correlatorData(2)),
        NamedType("cause", EventCause()),
        Optional("servicesPermitted", opaque(3)),  # ServicesPermitted
        Optional("networkCallingDevice", NetworkCallingDeviceID()),
        Optional("networkCalledDevice", NetworkCalledDeviceID()),
        Optional("associatedCallingDevice", AssociatedCallingDeviceID()),
        Optional("associatedCalledDevice", AssociatedCalledDeviceID()),
        Optional("mediaCallCharacteristics", opaque(4)),  # MediaCallCharacteristics
        Optional("callCharacteristics", opaque(5)),  # CallCharacteristics
        Optional("originatedConnectionInfo", opaque(6)),  # ConnectionInformation
        Optional("callLinkageData", opaque(7)),  # CallLinkageData
        Optional("subjectOfCall", opaque(8)),  # SubjectOfCall
        Optional("messageInfo", opaque(9)),  # MessageInfo
        Optional("languagePreferences", opaque(10)),  # LanguagePreferences
        Optional("locationInfo", opaque(11)),  # LocationInfoList
        Optional("extensions", CSTACommonArguments()),
    )


def _partyEvent(typeName, connection, subject, first):
    """
    The events that report a connection and its call's parties with the
    same layout (Delivered, Established, Failed): C{first} is the tag number
    of C{correlatorData}; every later tag follows in order.
    """
    n = first
    return type(
        typeName,
        (Sequence,),
        {
            "__doc__": f"C{{{typeName}}}.",
            "__module__": __name__,
            "componentType": namedtype.NamedTypes(
                NamedType(connection, ConnectionID()),
                NamedType(subject, SubjectDeviceID()),
                NamedType("callingDevice", CallingDeviceID()),
                NamedType("calledDevice", CalledDeviceID()),
                NamedType("lastRedirectionDevice", RedirectionDeviceID()),
                Optional("originatingNIDConnection", ConnectionID()),
                Optional("localConnectionInfo", LocalConnectionState()),
                Optional("correlatorData", _correlatorData(n)),
                Optional("userData", UserData()),
                NamedType("cause", EventCause()),
                Optional("servicesPermitted", opaque(n + 1)),  # ServicesPermitted
                Optional("networkCallingDevice", NetworkCallingDeviceID()),
                Optional("networkCalledDevice", NetworkCalledDeviceID()),
                Optional("associatedCallingDevice", AssociatedCallingDeviceID()),
                Optional("associatedCalledDevice", AssociatedCalledDeviceID()),
                Optional("mediaCallCharacteristics", opaque(n + 2)),
                Optional("callCharacteristics", opaque(n + 3)),
                Optional(connection + "Info", opaque(n + 4)),  # ConnectionInformation
                Optional("callLinkageData", opaque(n + 5)),  # CallLinkageData
                Optional("subjectOfCall", opaque(n + 6)),  # SubjectOfCall
                Optional("messageInfo", opaque(n + 7)),  # MessageInfo
                Optional("languagePreferences", opaque(n + 8)),  # LanguagePreferences
                Optional("deviceHistory", opaque(n + 9)),  # DeviceHistory
                Optional("locationInfo", opaque(n + 10)),  # LocationInfoList
                Optional("extensions", CSTACommonArguments()),
            ),
        },
    )


DeliveredEvent = _partyEvent("DeliveredEvent", "connection", "alertingDevice", 0)
EstablishedEvent = _partyEvent(
    "EstablishedEvent", "establishedConnection", "answeringDevice", 1
)
FailedEvent = _partyEvent("FailedEvent", "failedConnection", "failingDevice", 0)


def _holdEvent(typeName, connection, subject):
    """
    HeldEvent and RetrievedEvent.
    """
    return type(
        typeName,
        (Sequence,),
        {
            "__doc__": f"C{{{typeName}}}.",
            "__module__": __name__,
            "componentType": namedtype.NamedTypes(
                NamedType(connection, ConnectionID()),
                NamedType(subject, SubjectDeviceID()),
                Optional("localConnectionInfo", LocalConnectionState()),
                Optional("correlatorData", _correlatorData(0)),
                NamedType("cause", EventCause()),
                Optional("servicesPermitted", opaque(1)),  # ServicesPermitted
                Optional("mediaCallCharacteristics", opaque(2)),
                Optional("callCharacteristics", opaque(3)),
                Optional(connection + "Info", opaque(4)),  # ConnectionInformation
                Optional("callLinkageData", opaque(5)),  # CallLinkageData
                Optional("languagePreferences", opaque(6)),  # LanguagePreferences
                Optional("locationInfo", opaque(7)),  # LocationInfoList
                Optional("extensions", CSTACommonArguments()),
            ),
        },
    )


HeldEvent = _holdEvent("HeldEvent", "heldConnection", "holdingDevice")
RetrievedEvent = _holdEvent("RetrievedEvent", "retrievedConnection", "retrievingDevice")


class ConnectionClearedEvent(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("droppedConnection", ConnectionID()),
        NamedType("releasingDevice", SubjectDeviceID()),
        Optional("localConnectionInfo", LocalConnectionState()),
        Optional("correlatorData", _correlatorData(0)),
        Optional("userData", UserData()),
        Optional("chargingInfo", opaque(1)),  # ChargingInfo
        NamedType("cause", EventCause()),
        Optional("servicesPermitted", opaque(2)),  # ServicesPermitted
        Optional("mediaCallCharacteristics", opaque(3)),  # MediaCallCharacteristics
        Optional("callCharacteristics", opaque(4)),  # CallCharacteristics
        Optional("droppedConnectionInfo", opaque(5)),  # ConnectionInformation
        Optional("callLinkageData", opaque(6)),  # CallLinkageData
        Optional("languagePreferences", opaque(7)),  # LanguagePreferences
        Optional("deviceHistory", opaque(8)),  # DeviceHistory
        Optional("locationInfo", opaque(9)),  # LocationInfoList
        Optional("extensions", CSTACommonArguments()),
    )


class CallClearedEvent(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("clearedCall", ConnectionID()),
        Optional("correlatorData", _correlatorData(1)),
        Optional("userData", UserData()),
        NamedType("cause", EventCause()),
        Optional("mediaCallCharacteristics", opaque(2)),  # MediaCallCharacteristics
        Optional("callCharacteristics", opaque(3)),  # CallCharacteristics
        Optional("callLinkageData", opaque(4)),  # CallLinkageData
        Optional("languagePreferences", opaque(5)),  # LanguagePreferences
        Optional("locationInfo", opaque(6)),  # LocationInfoList
        Optional("extensions", CSTACommonArguments()),
    )


class TransferredEvent(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("primaryOldCall", ConnectionID()),
        Optional("secondaryOldCall", implicit(0, ConnectionID())),
        NamedType("transferringDevice", SubjectDeviceID()),
        NamedType("transferredToDevice", SubjectDeviceID()),
        NamedType("transferredConnections", implicit(1, ConnectionList())),
        Optional("localConnectionInfo", LocalConnectionState()),
        Optional("correlatorData", _correlatorData(2)),
        Optional("userData", UserData()),
        Optional("chargingInfo", opaque(3)),  # ChargingInfo
        NamedType("cause", EventCause()),
        Optional("servicesPermitted", opaque(4)),  # ServicesPermitted
        Optional("mediaCallCharacteristics", opaque(5)),  # MediaCallCharacteristics
        Optional("callCharacteristics", opaque(6)),  # CallCharacteristics
        Optional("callLinkageDataList", opaque(7)),  # CallLinkageDataList
        Optional("languagePreferences", opaque(8)),  # LanguagePreferences
        Optional("deviceHistory", opaque(9)),  # DeviceHistory
        Optional("locationInfo", opaque(10)),  # LocationInfoList
        Optional("extensions", CSTACommonArguments()),
    )


class ConferencedEvent(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("primaryOldCall", ConnectionID()),
        Optional("secondaryOldCall", ConnectionID()),
        NamedType("conferencingDevice", SubjectDeviceID()),
        NamedType("addedParty", SubjectDeviceID()),
        NamedType("conferenceConnections", ConnectionList()),
        Optional("localConnectionInfo", LocalConnectionState()),
        Optional("correlatorData", _correlatorData(1)),
        Optional("userData", UserData()),
        NamedType("cause", EventCause()),
        Optional("servicesPermitted", opaque(2)),  # ServicesPermitted
        Optional("mediaCallCharacteristics", opaque(3)),  # MediaCallCharacteristics
        Optional("callCharacteristics", opaque(4)),  # CallCharacteristics
        Optional("callLinkageDataList", opaque(6)),  # CallLinkageDataList
        Optional("languagePreferences", opaque(7)),  # LanguagePreferences
        Optional("deviceHistory", opaque(8)),  # DeviceHistory
        Optional("locationInfo", opaque(9)),  # LocationInfoList
        Optional("extensions", implicit(5, CSTACommonArguments())),
    )


class DivertedEvent(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("connection", ConnectionID()),
        NamedType("divertingDevice", SubjectDeviceID()),
        NamedType("newDestination", SubjectDeviceID()),
        Optional("callingDevice", CallingDeviceID()),
        Optional("calledDevice", CalledDeviceID()),
        NamedType("lastRedirectionDevice", RedirectionDeviceID()),
        Optional("localConnectionInfo", LocalConnectionState()),
        Optional("correlatorData", _correlatorData(0)),
        Optional("userData", UserData()),
        NamedType("cause", EventCause()),
        Optional("servicesPermitted", opaque(1)),  # ServicesPermitted
        Optional("mediaCallCharacteristics", opaque(2)),  # MediaCallCharacteristics
        Optional("callCharacteristics", opaque(3)),  # CallCharacteristics
        Optional("connectionInfo", opaque(4)),  # ConnectionInformation
        Optional("networkCallingDevice", NetworkCallingDeviceID()),
        Optional("networkCalledDevice", NetworkCalledDeviceID()),
        Optional("associatedCallingDevice", AssociatedCallingDeviceID()),
        Optional("associatedCalledDevice", AssociatedCalledDeviceID()),
        Optional("callLinkageData", opaque(5)),  # CallLinkageData
        Optional("subjectOfCall", opaque(6)),  # SubjectOfCall
        Optional("messageInfo", opaque(7)),  # MessageInfo
        Optional("languagePreferences", opaque(8)),  # LanguagePreferences
        Optional("deviceHistory", opaque(9)),  # DeviceHistory
        Optional("locationInfo", opaque(10)),  # LocationInfoList
        Optional("extensions", CSTACommonArguments()),
    )


class QueuedEvent(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("queuedConnection", ConnectionID()),
        NamedType("queue", SubjectDeviceID()),
        NamedType("callingDevice", CallingDeviceID()),
        NamedType("calledDevice", CalledDeviceID()),
        NamedType("lastRedirectionDevice", RedirectionDeviceID()),
        Optional("numberQueued", implicit(0, univ.Integer())),
        Optional("callsInFront", implicit(1, univ.Integer())),
        Optional("localConnectionInfo", LocalConnectionState()),
        Optional("correlatorData", _correlatorData(2)),
        Optional("userData", UserData()),
        NamedType("cause", EventCause()),
        Optional("servicesPermitted", opaque(3)),  # ServicesPermitted
        Optional("networkCallingDevice", NetworkCallingDeviceID()),
        Optional("networkCalledDevice", NetworkCalledDeviceID()),
        Optional("associatedCallingDevice", AssociatedCallingDeviceID()),
        Optional("associatedCalledDevice", AssociatedCalledDeviceID()),
        Optional("mediaCallCharacteristics", opaque(4)),  # MediaCallCharacteristics
        Optional("callCharacteristics", opaque(5)),  # CallCharacteristics
        Optional("queuedConnectionInfo", opaque(6)),  # ConnectionInformation
        Optional("callLinkageData", opaque(7)),  # CallLinkageData
        Optional("subjectOfCall", opaque(8)),  # SubjectOfCall
        Optional("messageInfo", opaque(9)),  # MessageInfo
        Optional("languagePreferences", opaque(10)),  # LanguagePreferences
        Optional("deviceHistory", opaque(11)),  # DeviceHistory
        Optional("locationInfo", opaque(12)),  # LocationInfoList
        Optional("extensions", CSTACommonArguments()),
    )


class NetworkReachedEvent(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("outboundConnection", ConnectionID()),
        NamedType("networkInterfaceUsed", SubjectDeviceID()),
        NamedType("callingDevice", CallingDeviceID()),
        NamedType("calledDevice", CalledDeviceID()),
        NamedType("lastRedirectionDevice", RedirectionDeviceID()),
        Optional("originatingNIDConneciton", ConnectionID()),  # sic, ECMA-285
        Optional("localConnectionInfo", LocalConnectionState()),
        Optional("correlatorData", _correlatorData(0)),
        Optional("userData", UserData()),
        Optional("networkCapability", opaque(1)),  # NetworkCapability
        NamedType("cause", EventCause()),
        Optional("servicesPermitted", opaque(2)),  # ServicesPermitted
        Optional("mediaCallCharacteristics", opaque(3)),  # MediaCallCharacteristics
        Optional("callCharacteristics", opaque(4)),  # CallCharacteristics
        Optional("outboundConnectionInfo", opaque(5)),  # ConnectionInformation
        Optional("networkCallingDevice", NetworkCallingDeviceID()),
        Optional("networkCalledDevice", NetworkCalledDeviceID()),
        Optional("associatedCallingDevice", AssociatedCallingDeviceID()),
        Optional("callLinkageData", opaque(6)),  # CallLinkageData
        Optional("languagePreferences", opaque(7)),  # LanguagePreferences
        Optional("deviceHistory", opaque(8)),  # DeviceHistory
        Optional("locationInfo", opaque(9)),  # LocationInfoList
        Optional("extensions", CSTACommonArguments()),
    )


class DigitsDialedEvent(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("dialingConnection", ConnectionID()),
        NamedType("dialingDevice", SubjectDeviceID()),
        NamedType("dialingSequence", DeviceID()),
        Optional("localConnectionInfo", LocalConnectionState()),
        Optional("correlatorData", _correlatorData(0)),
        NamedType("cause", EventCause()),
        Optional("servicesPermitted", opaque(1)),  # ServicesPermitted
        Optional("networkCallingDevice", NetworkCallingDeviceID()),
        Optional("networkCalledDevice", NetworkCalledDeviceID()),
        Optional("associatedCallingDevice", AssociatedCallingDeviceID()),
        Optional("associatedCalledDevice", AssociatedCalledDeviceID()),
        Optional("dialingConnectionInfo", opaque(2)),  # ConnectionInformation
        Optional("callCharacteristics", opaque(3)),  # CallCharacteristics
        Optional("callLinkageData", opaque(4)),  # CallLinkageData
        Optional("languagePreferences", opaque(5)),  # LanguagePreferences
        Optional("locationInfo", opaque(6)),  # LocationInfoList
        Optional("extensions", CSTACommonArguments()),
    )


class ForwardingEvent(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("device", SubjectDeviceID()),
        Optional("forwardingType", ForwardingType()),
        NamedType("forwardStatus", univ.Boolean()),
        Optional("forwardTo", DeviceID()),
        Optional("forwardDefault", ForwardDefault()),
        Optional("ringCount", univ.Integer()),
        Optional("ringDuration", implicit(4, univ.Integer())),
        Optional("extensions", CSTACommonArguments()),
    )


class DoNotDisturbEvent(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("device", SubjectDeviceID()),
        NamedType("doNotDisturbOn", univ.Boolean()),
        Optional("callOrigination", CallOrigination()),
        Optional("callingDeviceList", DeviceIDList()),
        Optional("extensions", CSTACommonArguments()),
    )


class ServiceEvent(Sequence):
    """
    C{SEQUENCE { device SubjectDeviceID, cause EventCause OPTIONAL,
    extensions CSTACommonArguments OPTIONAL }}: BackInServiceEvent and
    OutOfServiceEvent.
    """

    componentType = namedtype.NamedTypes(
        NamedType("device", SubjectDeviceID()),
        Optional("cause", EventCause()),
        Optional("extensions", CSTACommonArguments()),
    )


BackInServiceEvent = OutOfServiceEvent = ServiceEvent


class PrivateEvent(Sequence):
    componentType = namedtype.NamedTypes(
        Optional("security", CSTASecurityData()),
        NamedType("privateData", CSTAPrivateData()),
    )


class CallControlEvents(univ.Choice):
    componentType = namedtype.NamedTypes(
        NamedType("callCleared", implicit(1, CallClearedEvent())),
        NamedType("conferenced", implicit(2, ConferencedEvent())),
        NamedType("connectionCleared", implicit(3, ConnectionClearedEvent())),
        NamedType("delivered", implicit(4, DeliveredEvent())),
        NamedType("digitsDialed", implicit(5, DigitsDialedEvent())),
        NamedType("diverted", implicit(6, DivertedEvent())),
        NamedType("established", implicit(7, EstablishedEvent())),
        NamedType("failed", implicit(8, FailedEvent())),
        NamedType("held", implicit(9, HeldEvent())),
        NamedType("networkReached", implicit(11, NetworkReachedEvent())),
        NamedType("originated", implicit(13, OriginatedEvent())),
        NamedType("queued", implicit(14, QueuedEvent())),
        NamedType("retrieved", implicit(15, RetrievedEvent())),
        NamedType("serviceInitiated", implicit(16, ServiceInitiatedEvent())),
        NamedType("transferred", implicit(17, TransferredEvent())),
    )


class LogicalDeviceFeatureEvents(univ.Choice):
    componentType = namedtype.NamedTypes(
        NamedType("doNotDisturb", implicit(11, DoNotDisturbEvent())),
        NamedType("forwarding", implicit(12, ForwardingEvent())),
    )


class DeviceMaintenanceEvents(univ.Choice):
    componentType = namedtype.NamedTypes(
        NamedType("backInService", implicit(0, BackInServiceEvent())),
        NamedType("outOfService", implicit(2, OutOfServiceEvent())),
    )


class VendorSpecEvents(univ.Choice):
    componentType = namedtype.NamedTypes(
        NamedType("privateEvent", implicit(0, PrivateEvent())),
    )


class EventSpecificInfo(univ.Choice):
    """
    The categories of events oso reports: call control [0], logical device
    feature [4], device maintenance [5], vendor specific [7].
    """

    componentType = namedtype.NamedTypes(
        NamedType("callControlEvents", explicit(0, CallControlEvents())),
        NamedType(
            "logicalDeviceFeatureEvents", explicit(4, LogicalDeviceFeatureEvents())
        ),
        NamedType("deviceMaintenanceEvents", explicit(5, DeviceMaintenanceEvents())),
        NamedType("vendorSpecEvents", explicit(7, VendorSpecEvents())),
    )


class CSTAEventReportArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("crossRefIdentifier", MonitorCrossRefID()),
        NamedType("eventSpecificInfo", EventSpecificInfo()),
    )
