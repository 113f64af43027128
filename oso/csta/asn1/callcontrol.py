"""
Arguments and results of the ECMA-285 call control services oso offers.

Modules: CSTA-make-call, CSTA-answer-call, CSTA-clear-connection,
CSTA-clear-call, CSTA-hold-call, CSTA-retrieve-call, CSTA-consultation-call,
CSTA-alternate-call, CSTA-reconnect-call, CSTA-transfer-call,
CSTA-single-step-transfer, CSTA-conference-call, CSTA-deflect-call,
CSTA-generate-digits, CSTA-directed-pickup-call, CSTA-group-pickup-call.

Parameters oso does not interpret but must read past are C{opaque} (their
ASN.1 type is in the comment beside them).
"""

from pyasn1.type import char, namedtype, univ

from oso.csta.asn1.common import (
    CallCharacteristics,
    ConnectionID,
    ConnectionInformation,
    ConnectionList,
    CSTACommonArguments,
    DeviceID,
    DeviceIDList,
    EventCause,
    UserData,
)
from oso.csta.asn1.tagging import Sequence, enumerated, explicit, implicit, opaque

NamedType = namedtype.NamedType
Optional = namedtype.OptionalNamedType
Defaulted = namedtype.DefaultedNamedType


def _consultOptions():
    return enumerated("unrestricted", "consultOnly", "transferOnly", "conferenceOnly")


class MakeCallArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("callingDevice", DeviceID()),
        NamedType("calledDirectoryNumber", DeviceID()),
        Optional("accountCode", implicit(0, univ.OctetString())),
        Optional("authCode", implicit(1, univ.OctetString())),
        Defaulted(
            "autoOriginate", implicit(3, enumerated("prompt", "doNotPrompt")).clone(0)
        ),
        Optional("correlatorData", implicit(2, univ.OctetString())),
        Optional("userData", UserData()),
        Optional("callCharacteristics", CallCharacteristics()),
        Optional("mediaCallCharacteristics", opaque(4)),  # MediaCallCharacteristics
        Optional("callingConnectionInfo", opaque(5)),  # ConnectionInformation
        Optional("subjectOfCall", implicit(6, char.IA5String())),
        Optional("languagePreferences", implicit(7, char.IA5String())),
        Optional("reason", implicit(8, EventCause())),
        Optional("extensions", CSTACommonArguments()),
    )


class MakeCallResult(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("callingDevice", ConnectionID()),
        Optional("mediaCallCharacteristics", opaque(0)),  # MediaCallCharacteristics
        Optional("initiatedCallInfo", opaque(1)),  # ConnectionInformation
        Optional("callLinkageData", opaque(2)),  # CallLinkageData
        Optional("extensions", CSTACommonArguments()),
    )


class AnswerCallArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("callToBeAnswered", ConnectionID()),
        Optional("correlatorData", univ.OctetString()),
        Optional("userData", UserData()),
        Optional("extensions", CSTACommonArguments()),
    )


class ClearConnectionArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("connectionToBeCleared", ConnectionID()),
        Optional("correlatorData", univ.OctetString()),
        Optional("userData", UserData()),
        Optional("reason", EventCause()),
        Optional("extensions", CSTACommonArguments()),
    )


class ClearCallArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("callToBeCleared", ConnectionID()),
        Optional("userData", UserData()),
        Optional("reason", EventCause()),
        Optional("extensions", CSTACommonArguments()),
    )


class HoldCallArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("callToBeHeld", ConnectionID()),
        Optional("connectionReservation", univ.Boolean()),
        Optional("extensions", CSTACommonArguments()),
    )


class RetrieveCallArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("callToBeRetrieved", ConnectionID()),
        Optional("extensions", CSTACommonArguments()),
    )


class ConsultationCallArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("existingCall", implicit(0, ConnectionID())),
        NamedType("consultedDevice", explicit(1, DeviceID())),
        Optional("connectionReservation", implicit(2, univ.Boolean())),
        Optional("accountCode", implicit(3, univ.OctetString())),
        Optional("authCode", implicit(4, univ.OctetString())),
        Optional("correlatorData", implicit(5, univ.OctetString())),
        Optional("userData", implicit(6, UserData())),  # replaces [APPLICATION 29]
        Optional("callCharacteristics", implicit(7, CallCharacteristics())),
        Optional("mediaCallCharacteristics", opaque(8)),  # MediaCallCharacteristics
        Optional("callingConnectionInfo", opaque(9)),  # ConnectionInformation
        Defaulted("consultOptions", implicit(10, _consultOptions()).clone(0)),
        Optional("subjectOfCall", implicit(11, char.IA5String())),
        Optional("languagePreferences", implicit(12, char.IA5String())),
        Optional("extensions", CSTACommonArguments()),
    )


class ConsultationCallResult(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("initiatedCall", ConnectionID()),
        Optional("mediaCallCharacteristics", opaque(0)),  # MediaCallCharacteristics
        Optional("initiatedCallInfo", opaque(1)),  # ConnectionInformation
        Optional("callLinkageData", opaque(2)),  # CallLinkageData
        Optional("extensions", CSTACommonArguments()),
    )


class AlternateCallArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("heldCall", ConnectionID()),
        NamedType("activeCall", ConnectionID()),
        Optional("connectionReservation", univ.Boolean()),
        Defaulted("consultOptions", _consultOptions().clone(0)),
        Optional("extensions", CSTACommonArguments()),
    )


class ReconnectCallArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("activeCall", ConnectionID()),
        NamedType("heldCall", ConnectionID()),
        Optional("extensions", CSTACommonArguments()),
    )


class TwoCallsArgument(Sequence):
    """
    C{SEQUENCE { heldCall ConnectionID, activeCall ConnectionID, extensions
    CSTACommonArguments OPTIONAL }}: TransferCallArgument and
    ConferenceCallArgument.
    """

    componentType = namedtype.NamedTypes(
        NamedType("heldCall", ConnectionID()),
        NamedType("activeCall", ConnectionID()),
        Optional("extensions", CSTACommonArguments()),
    )


TransferCallArgument = ConferenceCallArgument = TwoCallsArgument


def _joinedCallResult(typeName, callName, infoName):
    """
    TransferCallResult, SingleStepTransResult and ConferenceCallResult: the
    resulting call, its connection list, and what oso reads past.
    """
    return type(
        typeName,
        (Sequence,),
        {
            "__doc__": f"C{{{typeName}}}.",
            "__module__": __name__,
            "componentType": namedtype.NamedTypes(
                NamedType(callName, ConnectionID()),
                Optional("connections", implicit(0, ConnectionList())),
                Optional(infoName, opaque(1)),  # ConnectionInformation
                Optional("callLinkageDataList", opaque(2)),  # CallLinkageDataList
                Optional("extensions", CSTACommonArguments()),
            ),
        },
    )


TransferCallResult = _joinedCallResult(
    "TransferCallResult", "transferredCall", "transferredCallInfo"
)
SingleStepTransResult = _joinedCallResult(
    "SingleStepTransResult", "transferredCall", "transferredCallInfo"
)
ConferenceCallResult = _joinedCallResult(
    "ConferenceCallResult", "conferenceCall", "conferenceCallInfo"
)


class SingleStepTransArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("activeCall", ConnectionID()),
        NamedType("transferredTo", DeviceID()),
        Optional("accountCode", implicit(0, univ.OctetString())),
        Optional("authCode", implicit(1, univ.OctetString())),
        Optional("correlatorData", implicit(2, univ.OctetString())),
        Optional("userData", UserData()),
        Optional("callCharacteristics", implicit(3, CallCharacteristics())),
        Optional("subjectOfCall", implicit(4, char.IA5String())),
        Optional("languagePreferences", implicit(5, char.IA5String())),
        Optional("reason", implicit(6, EventCause())),
        Optional("extensions", CSTACommonArguments()),
    )


class DeflectCallArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("callToBeDiverted", ConnectionID()),
        NamedType("newDestination", DeviceID()),
        Optional("addNewDestinationsList", DeviceIDList()),
        Optional("correlatorData", univ.OctetString()),
        Optional("userData", UserData()),
        Optional("callCharacteristics", implicit(0, CallCharacteristics())),
        Optional("subjectOfCall", implicit(1, char.IA5String())),
        Optional("languagePreferences", implicit(2, char.IA5String())),
        Optional("reason", implicit(3, EventCause())),
        Optional("extensions", CSTACommonArguments()),
    )


class GenerateDigitsArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("connectionToSendDigits", ConnectionID()),
        Optional("digitMode", enumerated("rotaryPulse", "dTMF")),
        NamedType("charactersToSend", char.IA5String()),
        Optional("toneDuration", implicit(0, univ.Integer())),
        Optional("pulseRate", implicit(1, univ.Integer())),
        Optional("pauseDuration", implicit(2, univ.Integer())),
        Optional("extensions", CSTACommonArguments()),
    )


class DirectedPickupCallArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("callToBePickedUp", ConnectionID()),
        NamedType("requestingDevice", DeviceID()),
        Optional("correlatorData", univ.OctetString()),
        Optional("userData", UserData()),
        Optional("extensions", CSTACommonArguments()),
    )


class GroupPickupCallArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("newDestination", DeviceID()),
        Optional("pickGroup", DeviceID()),
        Optional("correlatorData", univ.OctetString()),
        Optional("userData", UserData()),
        Optional("extensions", CSTACommonArguments()),
    )


class PickupCallResult(Sequence):
    """
    C{DirectedPickupCallResult} and C{GroupPickupCallResult}.
    """

    componentType = namedtype.NamedTypes(
        Optional("pickedCall", ConnectionID()),
        Optional("pickedCallInfo", ConnectionInformation()),
        Optional("callLinkageData", opaque(1)),  # CallLinkageData
        Optional("extensions", CSTACommonArguments()),
    )


DirectedPickupCallResult = GroupPickupCallResult = PickupCallResult
