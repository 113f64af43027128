"""
Arguments and results of the ECMA-285 snapshot services.

Modules: CSTA-snapshot-device, CSTA-snapshot-call, CSTA-status-reporting
(SnapshotDeviceData, SnapshotCallData, CallState).
"""

from pyasn1.type import namedtype, univ

from oso.csta.asn1.common import (
    AssociatedCalledDeviceID,
    AssociatedCallingDeviceID,
    CallCharacteristics,
    CalledDeviceID,
    CallingDeviceID,
    ConnectionID,
    CSTACommonArguments,
    DeviceID,
    LocalConnectionState,
    MediaCallCharacteristics,
    SubjectDeviceID,
)
from oso.csta.asn1.tagging import Sequence, implicit, names, opaque, tagged

NamedType = namedtype.NamedType
Optional = namedtype.OptionalNamedType


class SnapshotDeviceArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("snapshotObject", DeviceID()),
        Optional("extensions", CSTACommonArguments()),
    )


class CompoundCallState(univ.SequenceOf):
    componentType = LocalConnectionState()


class SimpleCallState(univ.Enumerated):
    namedValues = names(
        ("callNull", 0),
        ("callPending", 1),
        ("callOriginated", 3),
        ("callDelivered", 35),
        ("callDeliveredHeld", 36),
        ("callReceived", 50),
        ("callEstablished", 51),
        ("callEstablishedHeld", 52),
        ("callReceivedOnHold", 66),
        ("callEstablishedOnHold", 67),
        ("callQueued", 83),
        ("callQueuedHeld", 84),
        ("callBlocked", 96),
        ("callFailed", 99),
        ("callFailedHeld", 100),
    )


class CallState(univ.Choice):
    componentType = namedtype.NamedTypes(
        NamedType("compoundCallState", implicit(0, CompoundCallState())),
        NamedType("simpleCallState", implicit(1, SimpleCallState())),
        NamedType("unknown", implicit(2, univ.Null())),
    )


class SnapshotDeviceResponseInfo(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("connectionIdentifier", ConnectionID()),
        Optional("endpointDevice", implicit(3, SubjectDeviceID())),
        NamedType("localCallState", CallState()),
        Optional("servicesPermitted", opaque(0)),  # ServicesPermitted
        Optional("mediaServiceInfoList", opaque(1)),  # DeviceMediaInfoList
        Optional("mediaCallCharacteristics", opaque(2)),  # MediaCallCharacteristics
        Optional("callLinkageData", opaque(4)),  # CallLinkageData
    )


class SnapshotDeviceData(univ.SequenceOf):
    tagSet = tagged(univ.SequenceOf.tagSet, 22, isImplicit=True)
    componentType = SnapshotDeviceResponseInfo()


class SnapshotDeviceCrossRefIDOrData(univ.Choice):
    """
    The anonymous CHOICE of C{SnapshotDeviceResult.crossRefIDorSnapshotData}.
    """

    componentType = namedtype.NamedTypes(
        NamedType("serviceCrossRefID", univ.OctetString()),
        NamedType("snapshotData", SnapshotDeviceData()),
    )


class SnapshotDeviceResult(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("crossRefIDorSnapshotData", SnapshotDeviceCrossRefIDOrData()),
        Optional("extensions", CSTACommonArguments()),
    )


class SnapshotCallArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("snapshotObject", ConnectionID()),
        Optional("extensions", CSTACommonArguments()),
    )


class SnapshotCallResponseInfo(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("deviceOnCall", SubjectDeviceID()),
        Optional("callIdentifier", ConnectionID()),
        Optional("localConnectionState", LocalConnectionState()),
        Optional("servicesPermitted", opaque(0)),  # ServicesPermitted
        Optional("mediaServiceInfoList", opaque(1)),  # CallMediaInfoList
        Optional("locationInfo", opaque(2)),  # LocationInfoList
    )


class SnapshotCallData(univ.SequenceOf):
    tagSet = tagged(univ.SequenceOf.tagSet, 23, isImplicit=True)
    componentType = SnapshotCallResponseInfo()


class SnapshotCallCrossRefIDOrData(univ.Choice):
    """
    The anonymous CHOICE of C{SnapshotCallResult.crossRefIDorSnapshotData}.
    """

    componentType = namedtype.NamedTypes(
        NamedType("serviceCrossRefID", implicit(0, univ.OctetString())),
        NamedType("snapshotData", SnapshotCallData()),
    )


class SnapshotCallResult(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("crossRefIDorSnapshotData", SnapshotCallCrossRefIDOrData()),
        Optional("mediaCallCharacteristics", MediaCallCharacteristics()),
        Optional("callCharacteristics", CallCharacteristics()),
        Optional("callingDevice", CallingDeviceID()),
        Optional("calledDevice", CalledDeviceID()),
        Optional("associatedCallingDeviceID", AssociatedCallingDeviceID()),
        Optional("associatedCalledDeviceID", AssociatedCalledDeviceID()),
        Optional("correlatorData", implicit(1, univ.OctetString())),
        Optional("callLinkageData", opaque(2)),  # CallLinkageData
        Optional("subjectOfCall", opaque(3)),  # SubjectOfCall
        Optional("messageInfo", opaque(4)),  # MessageInfo
        Optional("languagePreferences", opaque(5)),  # LanguagePreferences
        Optional("deviceHistory", opaque(6)),  # DeviceHistory
        Optional("extensions", CSTACommonArguments()),
    )
