"""
Arguments and results of the ECMA-285 call detail record services.

Modules: CSTA-start-call-detail-records-transmission,
CSTA-stop-call-detail-records, CSTA-send-stored-call-detail-records,
CSTA-call-detail-records-report, CSTA-call-detail-record.
"""

from pyasn1.type import namedtype, univ

from oso.csta.asn1.common import (
    AssociatedCalledDeviceID,
    AssociatedCallingDeviceID,
    CalledDeviceID,
    CallingDeviceID,
    ConnectionID,
    CSTACommonArguments,
    NetworkCalledDeviceID,
    NetworkCallingDeviceID,
    TimeInfo,
)
from oso.csta.asn1.tagging import Sequence, enumerated, implicit, opaque

NamedType = namedtype.NamedType
Optional = namedtype.OptionalNamedType


class CDRCrossRefID(univ.OctetString):
    pass


class StartCDRTransmissionArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType(
            "transferMode",
            enumerated(
                "transferAtEndOfCall", "transferOnRequest", "transferOnThresholdReached"
            ),
        ),
        Optional("extensions", CSTACommonArguments()),
    )


class StartCDRTransmissionResult(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("cdrCrossRefID", CDRCrossRefID()),
        Optional("extensions", CSTACommonArguments()),
    )


class StopCDRTransmissionArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("cdrCrossRefID", CDRCrossRefID()),
        Optional(
            "cdrTermReason",
            enumerated("endOfDataDetected", "errorDetected", "thresholdReached", "other"),
        ),
        Optional("extensions", CSTACommonArguments()),
    )


class CDRTimePeriod(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("beginningOfCDR", TimeInfo()),
        NamedType("endOfCDR", TimeInfo()),
    )


class SendStoredCDRArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("cdrCrossRefID", CDRCrossRefID()),
        Optional("timePeriod", CDRTimePeriod()),
        Optional("extensions", CSTACommonArguments()),
    )


class CDRInformationItem(Sequence):
    componentType = namedtype.NamedTypes(
        Optional("recordNumber", univ.Integer()),
        NamedType("recordCreationTime", TimeInfo()),
        Optional("callingDevice", CallingDeviceID()),
        Optional("calledDevice", CalledDeviceID()),
        Optional("associatedCallingDevice", AssociatedCallingDeviceID()),
        Optional("associatedCalledDevice", AssociatedCalledDeviceID()),
        Optional("networkCallingDevice", NetworkCallingDeviceID()),
        Optional("networkCalledDevice", NetworkCalledDeviceID()),
        Optional("callCharacteristics", opaque(0)),  # CallCharacteristics
        Optional("mediaCallCharacteristics", opaque(1)),  # MediaCallCharacteristics
        Optional("chargedDevice", opaque(2)),  # [2] ChargedDevice (explicit)
        Optional("recordedCall", ConnectionID()),
        Optional("nodeNumber", opaque(3)),  # NodeNumber
        Optional("tariffTable", opaque(4)),  # INTEGER
        Optional("connectionStart", implicit(5, TimeInfo())),
        Optional("connectionEnd", implicit(6, TimeInfo())),
        Optional("connectionDuration", implicit(7, univ.Integer())),
        Optional("accessCode", opaque(8)),  # OCTET STRING
        Optional("carrier", opaque(9)),  # INTEGER
        Optional("selectedRoute", opaque(10)),  # INTEGER
        Optional("billingID", opaque(11)),  # BillingID
        Optional("chargingInfo", opaque(12)),  # ChargingInfo
        Optional("supplServiceInfo", opaque(13)),  # SupplServiceInfo
        Optional(
            "reasonForTerm",
            implicit(
                14,
                enumerated(
                    "normalClearing",
                    "unsuccessfulCallAttempt",
                    "abnormalTermination",
                    "callTransferred",
                    "other",
                ),
            ),
        ),
        Optional("authCode", implicit(15, univ.OctetString())),
        Optional("accountInfo", implicit(16, univ.OctetString())),
        Optional("deviceCategory", opaque(17)),  # DeviceCategory
        Optional("namedDeviceTypes", opaque(18)),  # NamedDeviceTypes
        Optional("operatorDevice", opaque(19)),  # [19] DeviceID (explicit)
    )


class CDRInfo(univ.SequenceOf):
    componentType = CDRInformationItem()


class CDRReportArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("cdrCrossRefID", CDRCrossRefID()),
        NamedType("numberOfRecordsSent", univ.Integer()),
        NamedType("cdrInfo", CDRInfo()),
        Optional("lastStoredCDRReportSent", univ.Boolean()),
        Optional("extensions", CSTACommonArguments()),
    )
