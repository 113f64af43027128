"""
ECMA-285 types most messages share: device and connection identifiers,
connection states, event causes, connection lists, media characteristics,
private data and common arguments, and the universal failure.

Modules: CSTA-device-identifiers, CSTA-call-connection-identifiers,
CSTA-connection-states, CSTA-event-causes, CSTA-extension-types,
CSTA-security, CSTA-media-services (part), CSTA-call-control (part),
CSTA-device-feature-types (part), CSTA-error-definition.
"""

from pyasn1.type import char, namedtype, univ, useful

from oso.callmodel.causes import EventCause as _EventCause
from oso.csta.asn1.tagging import (
    Sequence,
    enumerated,
    explicit,
    implicit,
    names,
    tagged,
)

NamedType = namedtype.NamedType
Optional = namedtype.OptionalNamedType
Defaulted = namedtype.DefaultedNamedType

# --- CSTA-device-identifiers --------------------------------------------------


class PublicTON(univ.Choice):
    componentType = namedtype.NamedTypes(
        *(
            NamedType(name, implicit(number, char.IA5String()))
            for number, name in enumerate(
                (
                    "unknown",
                    "international",
                    "national",
                    "networkspecific",
                    "subscriber",
                    "abbreviated",
                )
            )
        )
    )


class PrivateTON(univ.Choice):
    componentType = namedtype.NamedTypes(
        *(
            NamedType(name, implicit(number, char.IA5String()))
            for number, name in enumerate(
                (
                    "unknown",
                    "level3RegionalNumber",
                    "level2RegionalNumber",
                    "level1RegionalNumber",
                    "pTNSpecificNumber",
                    "localNumber",
                    "abbreviated",
                )
            )
        )
    )


class MediaClass(univ.BitString):
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


class MediaCallCharacteristics(Sequence):
    """
    CSTA-media-services C{MediaCallCharacteristics}.
    """

    componentType = namedtype.NamedTypes(
        NamedType("mediaClass", MediaClass()),
        Optional("connectionRate", implicit(0, univ.Integer())),
        Defaulted(
            "bitRate",
            implicit(1, enumerated("constant", "variable")).clone(0),
        ),
        Optional("delayTolerance", implicit(2, univ.Integer())),
        Optional(
            "switchingSubDomainCCIEType",
            implicit(
                3,
                enumerated("isdn", "atm", "isoEthernet", "rsvp", "other", "sip"),
            ),
        ),
        Optional("switchingSubDomainInformationElements", univ.OctetString()),
    )


class ConnectionInformation(Sequence):
    """
    CSTA-media-services C{ConnectionInformation}.
    """

    componentType = namedtype.NamedTypes(
        Optional(
            "flowDirection",
            enumerated("transmit", "receive", "transmitAndReceive", "none"),
        ),
        Defaulted("numberOfChannels", univ.Integer(1)),
        Optional("mediaSessionInformation", char.IA5String()),
    )


class DeviceIdentifier(univ.Choice):
    """
    The anonymous CHOICE of C{DeviceID.deviceIdentifier}.
    """

    componentType = namedtype.NamedTypes(
        NamedType("dialingNumber", implicit(0, char.IA5String())),
        NamedType("deviceNumber", implicit(1, univ.Integer())),
        NamedType("implicitPublic", implicit(2, char.IA5String())),
        NamedType("explicitPublic", explicit(3, PublicTON())),
        NamedType("implicitPrivate", implicit(4, char.IA5String())),
        NamedType("explicitPrivate", explicit(5, PrivateTON())),
        NamedType("other", implicit(6, univ.OctetString())),
    )


class DeviceID(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("deviceIdentifier", DeviceIdentifier()),
        Optional("privateNumber", explicit(0, char.IA5String())),
        Optional("privateName", explicit(1, char.IA5String())),
        Optional("mediaCallCharacteristics", MediaCallCharacteristics()),
    )


def _deviceIDChoice(typeName, application, statuses):
    """
    One of the C{[APPLICATION n] CHOICE { deviceIdentifier DeviceID,
    notKnown [7] IMPLICIT NULL, ... }} types.
    """
    first = "numberdialed" if typeName == "RedirectionDeviceID" else "deviceIdentifier"
    alternatives = [NamedType(first, DeviceID())] + [
        NamedType(status, implicit(number, univ.Null())) for status, number in statuses
    ]
    return type(
        typeName,
        (univ.Choice,),
        {
            "__doc__": f"CSTA-device-identifiers C{{{typeName}}}.",
            "__module__": __name__,
            "tagSet": tagged(univ.Choice.tagSet, application, isImplicit=False),
            "componentType": namedtype.NamedTypes(*alternatives),
        },
    )


_KNOWN_OR_RESTRICTED = (("notKnown", 7), ("restricted", 8))

CallingDeviceID = _deviceIDChoice("CallingDeviceID", 1, _KNOWN_OR_RESTRICTED)
CalledDeviceID = _deviceIDChoice("CalledDeviceID", 2, _KNOWN_OR_RESTRICTED)
SubjectDeviceID = _deviceIDChoice("SubjectDeviceID", 3, _KNOWN_OR_RESTRICTED)
RedirectionDeviceID = _deviceIDChoice(
    "RedirectionDeviceID",
    4,
    (("notKnown", 7), ("notRequired", 8), ("notSpecified", 9), ("restricted", 10)),
)
AssociatedCallingDeviceID = _deviceIDChoice(
    "AssociatedCallingDeviceID", 5, _KNOWN_OR_RESTRICTED
)
AssociatedCalledDeviceID = _deviceIDChoice(
    "AssociatedCalledDeviceID", 6, _KNOWN_OR_RESTRICTED
)
NetworkCallingDeviceID = _deviceIDChoice(
    "NetworkCallingDeviceID", 7, _KNOWN_OR_RESTRICTED
)
NetworkCalledDeviceID = _deviceIDChoice(
    "NetworkCalledDeviceID", 8, _KNOWN_OR_RESTRICTED
)

# --- CSTA-call-connection-identifiers -----------------------------------------


class LocalDeviceID(univ.Choice):
    componentType = namedtype.NamedTypes(
        NamedType("staticID", DeviceID()),
        NamedType("dynamicID", implicit(3, univ.OctetString())),
    )


class ConnectionIDBoth(Sequence):
    """
    The anonymous SEQUENCE of C{ConnectionID.both}.
    """

    componentType = namedtype.NamedTypes(
        NamedType("callID", implicit(0, univ.OctetString())),
        NamedType("deviceID", explicit(1, LocalDeviceID())),
    )


class ConnectionID(univ.Choice):
    tagSet = tagged(univ.Choice.tagSet, 11, isImplicit=False)
    componentType = namedtype.NamedTypes(
        NamedType("callID", implicit(0, univ.OctetString())),
        NamedType("deviceID", explicit(1, LocalDeviceID())),
        NamedType("both", ConnectionIDBoth()),
    )


# --- CSTA-connection-states ---------------------------------------------------


class LocalConnectionState(univ.Enumerated):
    tagSet = tagged(univ.Enumerated.tagSet, 14, isImplicit=True)
    namedValues = names(
        "null", "initiated", "alerting", "connected", "hold", "queued", "fail"
    )


class ConnectionListEndpoint(univ.Choice):
    """
    The anonymous CHOICE of C{ConnectionList.endpoint}.
    """

    componentType = namedtype.NamedTypes(
        NamedType("deviceID", DeviceID()),
        NamedType("notKnown", univ.Null()),
        NamedType("restricted", explicit(1, univ.Null())),
    )


class ConnectionListAssociatedNID(univ.Choice):
    """
    The anonymous CHOICE of C{ConnectionList.associatedNID}.
    """

    componentType = namedtype.NamedTypes(
        NamedType("deviceID", DeviceID()),
        NamedType("notKnown", univ.Null()),
    )


class ConnectionListItem(Sequence):
    """
    The anonymous SEQUENCE of a C{ConnectionList} item.
    """

    componentType = namedtype.NamedTypes(
        Optional("newConnection", explicit(0, ConnectionID())),
        Optional("oldConnection", explicit(1, ConnectionID())),
        Optional("endpoint", explicit(2, ConnectionListEndpoint())),
        Optional("associatedNID", explicit(3, ConnectionListAssociatedNID())),
        Optional("resultingConnectionInfo", ConnectionInformation()),
    )


class ConnectionList(univ.SequenceOf):
    componentType = ConnectionListItem()


# --- CSTA-event-causes --------------------------------------------------------


class EventCause(univ.Enumerated):
    namedValues = names(
        *((cause.name, cause.value) for cause in _EventCause),
        ("voiceUnitInitiator", 34),
    )


# --- CSTA-security, CSTA-extension-types --------------------------------------


class TimeInfo(useful.GeneralizedTime):
    pass


class SecurityInfo(univ.Choice):
    componentType = namedtype.NamedTypes(
        NamedType("string", univ.OctetString()),
        NamedType("private", univ.Null()),
    )


class CSTASecurityData(Sequence):
    componentType = namedtype.NamedTypes(
        Optional("messageSequenceNumber", implicit(0, univ.Integer())),
        Optional("timestamp", TimeInfo()),
        Optional("securityInfo", SecurityInfo()),
    )


class CSTAPrivateData(univ.Choice):
    componentType = namedtype.NamedTypes(
        NamedType("string", univ.OctetString()),
        NamedType("private", univ.Null()),
    )


class CSTAPrivateDataList(univ.SequenceOf):
    """
    The anonymous C{SEQUENCE OF CSTAPrivateData} of C{CSTACommonArguments}.
    """

    componentType = CSTAPrivateData()


class CSTACommonArguments(Sequence):
    tagSet = tagged(univ.Sequence.tagSet, 30, isImplicit=True)
    componentType = namedtype.NamedTypes(
        Optional("security", implicit(0, CSTASecurityData())),
        Optional("privateData", implicit(1, CSTAPrivateDataList())),
    )


class CommonResult(univ.Choice):
    """
    C{CHOICE { extensions CSTACommonArguments, noData NULL }}: the result of
    every service that answers with nothing else (AnswerCallResult,
    ClearConnectionResult, HoldCallResult, SystemStatusRes, ...), and
    GetSwitchingFunctionCapsArgument.
    """

    componentType = namedtype.NamedTypes(
        NamedType("extensions", CSTACommonArguments()),
        NamedType("noData", univ.Null()),
    )


# --- CSTA-device-feature-types, CSTA-call-control (parts) ---------------------


class UserData(univ.OctetString):
    tagSet = tagged(univ.OctetString.tagSet, 29, isImplicit=False)


class CallCharacteristics(univ.BitString):
    namedValues = names(
        ("acdCall", 0),
        ("priorityCall", 1),
        ("maintainanceCall", 2),
        ("directAgent", 3),
        ("assistCall", 4),
        ("voiceUnitCall", 5),
        ("privateCall", 6),
        ("personalCall", 7),
        ("sensitiveCall", 8),
        ("confidentialCall", 9),
        ("encryptedCall", 10),
        ("lowPriorityCall", 11),
        ("highPriorityCall", 12),
    )


class ServicesPermitted(Sequence):
    """
    CSTA-call-control C{ServicesPermitted} (bits not named: oso reads past
    it).
    """

    componentType = namedtype.NamedTypes(
        NamedType("callControlServices", univ.BitString()),
        NamedType("callAssociatedServices", univ.BitString()),
        NamedType("mediaAttachmentServices", univ.BitString()),
        NamedType("routeingServices", univ.BitString()),
        NamedType("voiceUnitServices", univ.BitString()),
    )


class CallOrigination(univ.BitString):
    namedValues = names("internal", "external")


class SysStatRegisterID(univ.OctetString):
    pass


class SystemStatus(univ.Enumerated):
    namedValues = names(
        ("initializing", 0),
        ("enabled", 1),
        ("normal", 2),
        ("messagesLost", 3),
        ("disabled", 4),
        ("overloadImminent", 5),
        ("overloadReached", 6),
        ("overloadRelieved", 7),
        ("partiallyDisabled", 8),
    )


class ForwardingType(univ.Enumerated):
    namedValues = names(
        ("forwardImmediate", 0),
        ("forwardBusy", 1),
        ("forwardNoAns", 2),
        ("forwardBusyInt", 3),
        ("forwardBusyExt", 4),
        ("forwardNoAnsInt", 5),
        ("forwardNoAnsExt", 6),
        ("forwardImmInt", 7),
        ("forwardImmExt", 8),
        ("forwardDND", 9),
        ("forwardDNDInt", 10),
        ("forwardDNDExt", 11),
    )


class ForwardDefault(univ.Enumerated):
    namedValues = names("forwardingTypeAndForwardDN", "forwardingType", "forwardDN")


class DeviceIDList(univ.SequenceOf):
    """
    C{SEQUENCE OF DeviceID} (DeflectCall's C{DeviceIDList}, the calling
    device lists of do not disturb).
    """

    componentType = DeviceID()


class MonitorCrossRefID(univ.OctetString):
    tagSet = tagged(univ.OctetString.tagSet, 21, isImplicit=True)
