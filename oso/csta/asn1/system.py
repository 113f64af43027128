"""
Arguments and results of the ECMA-285 system services and capability
exchange services oso offers.

Modules: CSTA-system-status, CSTA-system-register,
CSTA-system-register-cancel, CSTA-system-register-abort,
CSTA-request-system-status, CSTA-get-switching-function-capabilities,
CSTA-get-switching-function-devices, CSTA-switching-function-devices,
CSTA-capability-exchange (parts).
"""

from pyasn1.type import char, namedtype, univ

from oso.csta.asn1.common import (
    CallCharacteristics,
    CSTACommonArguments,
    DeviceID,
    SysStatRegisterID,
    SystemStatus,
)
from oso.csta.asn1.monitor import MonitorMediaClass
from oso.csta.asn1.tagging import Sequence, enumerated, implicit, names, opaque

NamedType = namedtype.NamedType
Optional = namedtype.OptionalNamedType
Defaulted = namedtype.DefaultedNamedType


class SystemStatusArg(Sequence):
    componentType = namedtype.NamedTypes(
        Optional("sysStatRegisterID", SysStatRegisterID()),
        NamedType("systemStatus", SystemStatus()),
        Optional("extensions", CSTACommonArguments()),
    )


class StatusFilter(univ.BitString):
    namedValues = names(
        "initializing",
        "enabled",
        "normal",
        "messageLost",
        "disabled",
        "partiallyDisabled",
        "overloadImminent",
        "overloadReached",
        "overloadRelieved",
    )


class RequestTypes(univ.BitString):
    namedValues = names(
        "systemStatus",
        "requestSystemStatus",
        "switchingFunctionCapsChanged",
        "switchingFunctionDevicesChanged",
    )


class SystemRegisterArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("requestTypes", RequestTypes()),
        Optional("requestedStatusFilter", StatusFilter()),
        Optional("extensions", CSTACommonArguments()),
    )


class SystemRegisterResult(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("sysStatRegisterID", SysStatRegisterID()),
        Optional("actualStatusFilter", StatusFilter()),
        Optional("extensions", CSTACommonArguments()),
    )


class RegisterIDArgument(Sequence):
    """
    C{SEQUENCE { sysStatRegisterID SysStatRegisterID, extensions
    CSTACommonArguments OPTIONAL }}: SystemRegisterCancelArgument and
    SystemRegisterAbortArgument.
    """

    componentType = namedtype.NamedTypes(
        NamedType("sysStatRegisterID", SysStatRegisterID()),
        Optional("extensions", CSTACommonArguments()),
    )


SystemRegisterCancelArgument = SystemRegisterAbortArgument = RegisterIDArgument


class RequestSysStatArg(Sequence):
    componentType = namedtype.NamedTypes(
        Optional("sysStatRegisterID", SysStatRegisterID()),
        Optional("extensions", CSTACommonArguments()),
    )


class RequestSysStatRes(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("systemStatus", SystemStatus()),
        Optional("extensions", CSTACommonArguments()),
    )


# --- Capability exchange ------------------------------------------------------


class Profiles(univ.BitString):
    namedValues = names(
        "basicTelephonyProfile",
        "routeingProfile",
        "level1aVoiceBrowserProfile",
        "level1bVoiceBrowserProfile",
        "level2VoiceBrowserProfile",
        "minimalUaCSTACallControlProfile",
        "basicUaCSTACallControlProfile",
        "advancedUaCSTACallControlProfile",
        "conferencingUaCSTACallControlProfile",
        "basicUaCSTADeviceFeatureProfile",
        "advancedUaCSTADeviceFeatureProfile",
        "speakerUACSTADeviceFeatureProfile",
        "basicSpeechServiceProfile",
        "advancedSpeechServiceProfile",
    )


class DeviceIDFormat(univ.BitString):
    namedValues = names(
        "dialableDigitsAsterix",
        "dialableDigitsHash",
        "dialableDigitsABCD",
        "dialableDigitsExclamation",
        "dialableDigitsP",
        "dialableDigitsT",
        "dialableDigitsComma",
        "dialableDigitsW",
        "dialableDigitsAt",
        "dialableDigitsDollar",
        "dialableDigitsSemicolon",
        "sFReprExclamation",
        "sFReprEt",
        "sFReprSlash",
        "sFReprPercent",
        "sFReprNM",
        "sFReprGeneric",
        "sFReprImplicitTON",
        "sFReprPubTONUnkown",
        "sFReprPubTONInternal",
        "sFReprPubTONNational",
        "sFReprPubTONSubscriber",
        "sFReprPubTONAbbreviated",
        "sFReprPriTONUnknown",
        "sFReprPriTONLevel3",
        "sFReprPriTONLevel2",
        "sFReprPriTONLevel1",
        "sFReprPriTONLocal",
        "sFReprPriTONAbbreviated",
        "sFReprOther",
        "deviceNumber",
        "sFRResourceID",
        "privateNumber",
        "privateName",
    )


class SwDomainFeatures(univ.BitString):
    namedValues = names(
        "isForwardingBefore",
        "isForwardingAfter",
        "swFunctionDefaultSettings",
        "userSpecific",
        "userSpecificDefaultFowardingType",
        "userSpecificDefaultForwardDestination",
        "negativeAcknowledgment",
        "supportFailedWithAssConn",
        "supportFailedWithoutAssConn",
        "supportFailedWithAssConnNotReportet",
        "recall",
        "callBack",
        "extCallsIncoming",
        "extCallsOutgoing",
        "prompting",
    )


class SwAppearanceAddressability(univ.BitString):
    namedValues = names("nonAddressable", "addressable")


class SwAppearanceTypes(univ.BitString):
    namedValues = names(
        "selectedStandard",
        "basicStandard",
        "basicBridged",
        "exclusiveBridged",
        "independentSharedBridged",
        "interDependentSharedBridged",
    )


class MaxLengthParameters(Sequence):
    componentType = namedtype.NamedTypes(
        *(
            NamedType(name, univ.Integer())
            for name in (
                "accountInfo",
                "authCode",
                "agentID",
                "agentPassword",
                "callIDInConnectionID",
                "correlatorData",
                "privateData",
                "deviceIdentifiers",
                "userData",
                "buttonLabel",
                "lampLabel",
                "charactersToSend",
            )
        )
    )


class GetSwitchingFunctionCapsResult(Sequence):
    """
    ECMA-285 gives C{callLinkageOptions} and C{maxLengthParametersContinued}
    the same tag [28]; the mandatory C{connectionView} and
    C{maxLengthParameters} between them keep a decoder from confusing them.
    """

    componentType = namedtype.NamedTypes(
        NamedType("switchingSubDomainName", char.IA5String()),
        NamedType("manufacturerName", char.IA5String()),
        NamedType("profiles", Profiles()),
        NamedType("deviceIDFormat", DeviceIDFormat()),
        NamedType("swDomainFeatures", SwDomainFeatures()),
        NamedType("swAppearanceAddressability", SwAppearanceAddressability()),
        NamedType("swAppearanceTypes", SwAppearanceTypes()),
        NamedType(
            "ignoreUnsupportedParameters",
            enumerated("ignoreParameters", "rejectMessage"),
        ),
        Optional("callCharacteristicsSupported", implicit(0, CallCharacteristics())),
        Optional("mediaClassSupport", implicit(1, MonitorMediaClass())),
        Optional("numberOfChannels", opaque(2)),  # NumberOfChannels
        Optional("maxChannelBind", opaque(3)),  # MaxChannelBind
        Optional("miscMediaCallCharacteristics", opaque(4)),  # BIT STRING
        Optional("connectionRateList", opaque(5)),  # ConnectionRateList
        Optional("delayToleranceList", opaque(6)),  # DelayToleranceList
        Optional("pauseTime", opaque(7)),  # PauseTime
        Optional("currentTime", opaque(8)),  # TimeInfo
        Optional("messageSeqNumbers", opaque(9)),  # MessageSeqNumbers
        Optional("timeStampMode", opaque(10)),  # TimeStampMode
        Optional("securityMode", opaque(11)),  # SecurityMode
        Optional("securityFormat", opaque(12)),  # SecurityFormat
        Optional("privateDataFormat", opaque(13)),  # SecurityFormat
        Optional("transAndConfSetup", opaque(14)),  # TransAndConfSetup
        Optional("monitorFilterItems", opaque(15)),  # MonitorFilterItems
        Optional("miscMonitorCaps", opaque(16)),  # MiscMonitorCaps
        Optional("correlatorDataSupported", implicit(17, univ.Boolean())),
        Optional("dynamicFeatureSupported", opaque(18)),  # DynamicFeatureSupported
        Optional("callLinkageOptions", opaque(28)),  # CallLinkageOptions
        Optional("aCDModels", opaque(19)),  # ACDModels
        Optional("agentLogOnModels", opaque(20)),  # AgentLogOnModels
        Optional("agentStateModels", opaque(21)),  # AgentStateModels
        NamedType("connectionView", enumerated("fixed", "local")),
        NamedType("maxLengthParameters", MaxLengthParameters()),
        Optional("maxLengthParametersContinued", opaque(28)),
        Optional("servEvtsList", opaque(22)),  # ServEvtsList
        Optional("privateDataVersionList", opaque(23)),  # PrivateDataVersionList
        Optional("systemStatusTimer", implicit(24, univ.Integer())),
        Optional("simpleThreshold", opaque(25)),  # INTEGER
        Optional("filterThreshold", opaque(26)),  # FilterThreshold
        Optional("mediaServiceCapsList", opaque(27)),  # MediaServiceCapsList
        Optional("maxDeviceHistoryLength", opaque(29)),  # INTEGER
        Optional("maxDestinationDevicesForDeflect", opaque(30)),  # INTEGER
        Optional("extensions", CSTACommonArguments()),
    )


class GetSwitchingFunctionDevicesArgument(Sequence):
    componentType = namedtype.NamedTypes(
        Optional("requestedDeviceID", DeviceID()),
        Optional("requestedDeviceCategory", univ.Enumerated()),  # ReqDeviceCategory
        Optional("extensions", CSTACommonArguments()),
    )


class GetSwitchingFunctionDevicesResult(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("serviceCrossRefID", univ.OctetString()),
        Optional("extensions", CSTACommonArguments()),
    )


class DeviceAttributes(univ.BitString):
    namedValues = names(
        "mediaAccessDevice", "routeingDevice", "groupACD", "groupHunt", "groupPick"
    )


class DeviceListItem(Sequence):
    """
    The anonymous SEQUENCE of a C{DeviceList} item.
    """

    componentType = namedtype.NamedTypes(
        NamedType("deviceID", DeviceID()),
        Defaulted(
            "deviceCategory", implicit(0, univ.Enumerated()).clone(5)
        ),  # DeviceCategory DEFAULT station
        Optional("namedDeviceTypes", implicit(1, univ.Enumerated())),
        Optional("deviceAttributes", DeviceAttributes()),
        Optional("deviceModelName", char.IA5String()),
        Optional("nidGroup", DeviceID()),
    )


class DeviceList(univ.SequenceOf):
    componentType = DeviceListItem()


class SwitchingFunctionDevicesArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("serviceCrossRefID", univ.OctetString()),
        Optional("segmentID", univ.Integer()),
        NamedType("lastSegment", univ.Boolean()),
        NamedType("deviceList", DeviceList()),
        Optional("extensions", CSTACommonArguments()),
    )
