"""
The in-memory CSTA messages, shared by the BER (ECMA-285) and XML (ECMA-323)
codecs, so that a service handler never knows which encoding its link uses.

Conventions
===========

  - One frozen, slotted, keyword-only dataclass per ECMA-269 message, named
    as ECMA-323 names its XML element: a request is the service name
    (L{MakeCall}), its positive result adds C{Response}
    (L{MakeCallResponse}), an event adds C{Event} (L{DeliveredEvent}).
    ECMA-323 spells the transferred event C{TransferedEvent}, and so do we.
    Refusals are not messages of their own: a L{ReturnError} carries an
    L{oso.callmodel.errors.UniversalFailure} (ECMA-323's C{CSTAErrorCode}).
  - Field names are the ECMA-269/ECMA-323 parameter names. Where ECMA-285's
    ASN.1 names a component differently (C{crossRefIdentifier},
    C{actualmonitorFilter}, C{originatingNIDConneciton}) the model uses the
    ECMA-323 name (C{monitorCrossRefID}, C{actualMonitorFilter},
    C{originatingNIDConnection}); the codecs translate.
  - A parameter ECMA-269 makes mandatory is a field without a default; an
    optional one defaults to L{None} (a single value) or C{()} (a list: an
    absent list and an empty one are the same here). A parameter with an
    ASN.1 C{DEFAULT} defaults to that value.
  - Devices are C{str}: the dialling number. Where ECMA-269 lets a device be
    "not known", "restricted", "not required" or "not specified" instead
    (C{SubjectDeviceID}, C{CallingDeviceID}, C{CalledDeviceID},
    C{RedirectionDeviceID}, C{AssociatedCalling/CalledDeviceID},
    C{NetworkCalling/CalledDeviceID}, connection list end points), the field
    holds a C{str} or a L{DeviceIDStatus}. The type of number of a
    C{DeviceID} (implicit/explicit public or private, device number) is not
    kept: the BER codec sends C{dialingNumber} and reads every form as its
    digits.
  - Connections are L{oso.callmodel.ids.ConnectionID}C{(callID, deviceID)};
    ECMA-269 lets a connection id carry only one of the two, and the missing
    one is then L{None}.
  - States, causes, failures and forwarding types are the call model's
    L{LocalConnectionState}, L{EventCause}, L{UniversalFailure} and
    L{ForwardingType}. A universal failure of category C{unspecified} (an
    ASN.1 NULL) has the value C{"unspecified"}.
  - Other ECMA-269 enumerations are C{IntEnum}s below with ECMA-285's names
    and numbers. Bit strings (event filters, media classes, CSTA versions,
    capability bit maps) are C{frozenset}s of the names of the bits that are
    set; for a L{MonitorFilter} a set bit means the event is I{not} reported
    (ECMA-269 12.2.16).
  - Identifiers that ECMA-285 types as OCTET STRING but ECMA-323 as text
    (call ids, cross-reference ids, register ids, account and authorisation
    codes) are C{str}; the BER codec maps them to octets with Latin-1, which
    is lossless both ways. Opaque data (correlator data, user data, private
    data) is C{bytes}.
  - C{privateData} on a message is the private data list of its
    C{CSTACommonArguments} ("extensions"); the security data there is left
    out. Where private data is the message itself (L{EscapeService},
    L{PrivateEvent}) it is one C{bytes} value. The C{private NULL}
    alternative of C{CSTAPrivateData} carries nothing and reads as C{b""}.
  - Times (C{TimeInfo}, a GeneralizedTime) are timezone-aware
    L{datetime.datetime}s in UTC.

Envelopes
=========

ROSE (X.880): L{Invoke}, L{ReturnResult}, L{ReturnError}, L{Reject}; an
operation is named by the ASN.1 operation value name of ECMA-285 (C{makeCall},
C{cSTAEventReport}, C{singleStepTrans}, ...), see L{oso.csta.operations}. An
event is the argument of an invoke of C{cSTAEventReport}.

ACSE (X.227): L{AssociationRequest} (AARQ), L{AssociationResponse} (AARE),
L{ReleaseRequest} (RLRQ), L{ReleaseResponse} (RLRE), L{Abort} (ABRT).
"""

from dataclasses import dataclass
from datetime import datetime
from enum import Enum, IntEnum

from oso.callmodel.causes import EventCause
from oso.callmodel.devices import ForwardingType
from oso.callmodel.errors import UniversalFailure
from oso.callmodel.ids import ConnectionID
from oso.callmodel.states import LocalConnectionState

def _message(cls):
    return dataclass(frozen=True, slots=True, kw_only=True)(cls)


# --- Shared parameter types ---------------------------------------------------


class DeviceIDStatus(Enum):
    """
    What ECMA-269 says instead of a device id when there is none to give.
    """

    notKnown = "notKnown"
    restricted = "restricted"
    notRequired = "notRequired"
    notSpecified = "notSpecified"


class SystemStatusValue(IntEnum):
    """
    ECMA-285 C{SystemStatus}.
    """

    initializing = 0
    enabled = 1
    normal = 2
    messagesLost = 3
    disabled = 4
    overloadImminent = 5
    overloadReached = 6
    overloadRelieved = 7
    partiallyDisabled = 8


class MonitorType(IntEnum):
    """
    ECMA-285 C{MonitorType}.
    """

    call = 0
    device = 1


class AutoOriginate(IntEnum):
    """
    ECMA-285 C{AutoOriginate}.
    """

    prompt = 0
    doNotPrompt = 1


class ConsultOptions(IntEnum):
    """
    ECMA-285 C{ConsultOptions}.
    """

    unrestricted = 0
    consultOnly = 1
    transferOnly = 2
    conferenceOnly = 3


class DigitMode(IntEnum):
    """
    ECMA-285 C{DigitMode} of GenerateDigits.
    """

    rotaryPulse = 0
    dTMF = 1


class ForwardDefault(IntEnum):
    """
    ECMA-285 C{ForwardDefault}.
    """

    forwardingTypeAndForwardDN = 0
    forwardingType = 1
    forwardDN = 2


class SimpleCallState(IntEnum):
    """
    ECMA-285 C{SimpleCallState} (snapshot device).
    """

    callNull = 0
    callPending = 1
    callOriginated = 3
    callDelivered = 35
    callDeliveredHeld = 36
    callReceived = 50
    callEstablished = 51
    callEstablishedHeld = 52
    callReceivedOnHold = 66
    callEstablishedOnHold = 67
    callQueued = 83
    callQueuedHeld = 84
    callFailed = 99
    callFailedHeld = 100
    callBlocked = 96


class ReqDeviceCategory(IntEnum):
    """
    ECMA-285 C{ReqDeviceCategory} of GetSwitchingFunctionDevices.
    """

    acd = 0
    groupACD = 1
    groupHunt = 2
    groupPick = 3
    groupOther = 4
    networkInterface = 5
    park = 6
    routeingDevice = 7
    station = 8
    voiceUnit = 9
    other = 10
    conference = 11
    dtmfIV = 12
    genericIV = 13
    groupUser = 14
    listenerIV = 15
    messageIV = 16
    promptIV = 17
    promptQueue = 18


class DeviceCategory(IntEnum):
    """
    ECMA-285 C{DeviceCategory} (capability exchange).
    """

    acd = 0
    group = 1
    networkInterface = 2
    park = 3
    routeingDevice = 4
    station = 5
    voiceUnit = 6
    other = 7
    genericInteractiveVoice = 8
    listenerInteractiveVoice = 9
    dtmfInteractiveVoice = 10
    promptInteractiveVoice = 11
    promptQueueInteractiveVoice = 12
    messageInteractiveVoice = 13
    conference = 14


class NamedDeviceTypes(IntEnum):
    """
    ECMA-285 C{NamedDeviceTypes}.
    """

    acd = 0
    acdGroup = 1
    button = 2
    buttonGroup = 3
    conferenceBridge = 4
    line = 5
    lineGroup = 6
    operator = 7
    operatorGroup = 8
    parkingDevice = 9
    station = 10
    stationGroup = 11
    trunk = 12
    trunkGroup = 13
    other = 14
    otherGroup = 15


class IgnoreUnsupportedParameters(IntEnum):
    """
    ECMA-285 C{IgnoreUnsupportedParameters}.
    """

    ignoreParameters = 0
    rejectMessage = 1


class ConnectionView(IntEnum):
    """
    ECMA-285 C{ConnectionView}.
    """

    fixed = 0
    local = 1


class CDRTransferMode(IntEnum):
    """
    ECMA-285 C{CDRTransferMode}.
    """

    transferAtEndOfCall = 0
    transferOnRequest = 1
    transferOnThresholdReached = 2


class CDRTermReason(IntEnum):
    """
    ECMA-285 C{CDRTermReason}.
    """

    endOfDataDetected = 0
    errorDetected = 1
    thresholdReached = 2
    other = 3


class ReasonForTerm(IntEnum):
    """
    ECMA-285 C{ReasonForTerm} of a call detail record.
    """

    normalClearing = 0
    unsuccessfulCallAttempt = 1
    abnormalTermination = 2
    callTransferred = 3
    other = 4


@_message
class ConnectionListEntry:
    """
    One party of a C{ConnectionList} (transfer, conference): how its old
    connection maps to its new one.

    @ivar endpoint: the party's device: C{str}, L{DeviceIDStatus.notKnown}
        or L{DeviceIDStatus.restricted}.
    @ivar associatedNID: for an external party, the trunk it is reached
        through: C{str} or L{DeviceIDStatus.notKnown}.
    """

    newConnection: ConnectionID | None = None
    oldConnection: ConnectionID | None = None
    endpoint: str | DeviceIDStatus | None = None
    associatedNID: str | DeviceIDStatus | None = None


@_message
class MonitorFilter:
    """
    ECMA-285 C{MonitorFilter}: per event category, the names of the events
    that are I{not} to be reported (ECMA-269 12.2.16). The names are the bit
    names of ECMA-285's C{CallControlEvents}, C{CallAssociatedEvents},
    C{MediaAttachmentEvents}, C{PhysicalDeviceFeatureEvents},
    C{LogicalDeviceFeatureEvents}, C{DeviceMaintenanceEvents},
    C{VoiceUnitEvents} and C{VendorSpecEvents} bit strings (for example
    C{"delivered"}, C{"doNotDisturb"}, C{"backInService"}, C{"privateEvent"}).
    """

    callControl: frozenset = frozenset()
    callAssociated: frozenset = frozenset()
    mediaAttachment: frozenset = frozenset()
    physicalDeviceFeature: frozenset = frozenset()
    logicalDeviceFeature: frozenset = frozenset()
    maintenance: frozenset = frozenset()
    voiceUnit: frozenset = frozenset()
    private: frozenset = frozenset()


@_message
class ForwardListEntry:
    """
    One entry of a C{ForwardList} (GetForwarding).
    """

    forwardStatus: bool
    forwardingType: ForwardingType | None = None
    forwardDN: str | None = None
    forwardDefault: ForwardDefault | None = None
    ringDuration: int | None = None
    ringCount: int | None = None


@_message
class SnapshotDeviceResponseInfo:
    """
    One call at the device of a SnapshotDevice.

    @ivar localCallState: the C{CallState}: a tuple of
        L{LocalConnectionState} (compound state, the device's own connection
        first), a L{SimpleCallState}, or L{None} (unknown).
    """

    connectionIdentifier: ConnectionID
    localCallState: tuple[LocalConnectionState, ...] | SimpleCallState | None
    endpointDevice: str | DeviceIDStatus | None = None


@_message
class SnapshotCallResponseInfo:
    """
    One device on the call of a SnapshotCall.
    """

    deviceOnCall: str | DeviceIDStatus
    callIdentifier: ConnectionID | None = None
    localConnectionState: LocalConnectionState | None = None


@_message
class DeviceListEntry:
    """
    One device of a SwitchingFunctionDevices report.
    """

    deviceID: str
    deviceCategory: DeviceCategory = DeviceCategory.station
    namedDeviceTypes: NamedDeviceTypes | None = None
    deviceModelName: str | None = None


@_message
class MaxLengthParameters:
    """
    ECMA-285 C{MaxLengthParameters} of the switching function capabilities.
    """

    accountInfo: int
    authCode: int
    agentID: int
    agentPassword: int
    callIDInConnectionID: int
    correlatorData: int
    privateData: int
    deviceIdentifiers: int
    userData: int
    buttonLabel: int
    lampLabel: int
    charactersToSend: int


@_message
class CDRTimePeriod:
    """
    The time span of SendStoredCallDetailRecords.
    """

    beginningOfCDR: datetime
    endOfCDR: datetime


@_message
class CDRInformationItem:
    """
    One call detail record of a CallDetailRecordsReport (the part of
    ECMA-285's C{CDRInformationItem} oso records).
    """

    recordCreationTime: datetime
    recordNumber: int | None = None
    callingDevice: str | DeviceIDStatus | None = None
    calledDevice: str | DeviceIDStatus | None = None
    associatedCallingDevice: str | DeviceIDStatus | None = None
    associatedCalledDevice: str | DeviceIDStatus | None = None
    networkCallingDevice: str | DeviceIDStatus | None = None
    networkCalledDevice: str | DeviceIDStatus | None = None
    recordedCall: ConnectionID | None = None
    connectionStart: datetime | None = None
    connectionEnd: datetime | None = None
    connectionDuration: int | None = None
    reasonForTerm: ReasonForTerm | None = None
    authCode: str | None = None
    accountInfo: str | None = None


# --- Bases --------------------------------------------------------------------


@_message
class CSTAMessage:
    """
    An ECMA-269 service argument, result or event with
    C{CSTACommonArguments}.

    @ivar privateData: the private data items of its extensions.
    """

    privateData: tuple[bytes, ...] = ()


@_message
class CSTAEvent(CSTAMessage):
    """
    An event: the argument of C{cSTAEventReport}.

    @ivar monitorCrossRefID: the monitor that reports it.
    """

    monitorCrossRefID: str


# --- System services ----------------------------------------------------------


@_message
class SystemStatus(CSTAMessage):
    """
    The status of the switching function (sent by the server) or of the
    application (sent by the client, as heartbeat).
    """

    systemStatus: SystemStatusValue
    sysStatRegisterID: str | None = None


@_message
class SystemStatusResponse(CSTAMessage):
    """
    Acknowledges a L{SystemStatus}.
    """


@_message
class SystemRegister(CSTAMessage):
    """
    Registers for system status reports.

    @ivar requestTypes: names of C{RequestTypes} bits (C{systemStatus},
        C{requestSystemStatus}, C{switchingFunctionCapsChanged},
        C{switchingFunctionDevicesChanged}).
    @ivar requestedStatusFilter: names of C{StatusFilter} bits: statuses not
        to be reported.
    """

    requestTypes: frozenset
    requestedStatusFilter: frozenset | None = None


@_message
class SystemRegisterResponse(CSTAMessage):
    sysStatRegisterID: str
    actualStatusFilter: frozenset | None = None


@_message
class SystemRegisterCancel(CSTAMessage):
    sysStatRegisterID: str


@_message
class SystemRegisterCancelResponse(CSTAMessage):
    pass


@_message
class SystemRegisterAbort(CSTAMessage):
    """
    The server ends a system status registration (no response).
    """

    sysStatRegisterID: str


@_message
class RequestSystemStatus(CSTAMessage):
    sysStatRegisterID: str | None = None


@_message
class RequestSystemStatusResponse(CSTAMessage):
    systemStatus: SystemStatusValue


@_message
class GetSwitchingFunctionCapabilities(CSTAMessage):
    pass


@_message
class GetSwitchingFunctionCapabilitiesResponse(CSTAMessage):
    """
    The mandatory part of ECMA-285's C{GetSwitchingFunctionCapsResult} and a
    few optional parameters. Bit maps are sets of bit names of C{Profiles},
    C{DeviceIDFormat}, C{SwDomainFeatures}, C{SwAppearanceAddressability},
    C{SwAppearanceTypes}.
    """

    switchingSubDomainName: str
    manufacturerName: str
    profiles: frozenset
    deviceIDFormat: frozenset
    swDomainFeatures: frozenset
    swAppearanceAddressability: frozenset
    swAppearanceTypes: frozenset
    ignoreUnsupportedParameters: IgnoreUnsupportedParameters
    connectionView: ConnectionView
    maxLengthParameters: MaxLengthParameters
    correlatorDataSupported: bool | None = None
    systemStatusTimer: int | None = None


@_message
class GetSwitchingFunctionDevices(CSTAMessage):
    requestedDeviceID: str | None = None
    requestedDeviceCategory: ReqDeviceCategory | None = None


@_message
class GetSwitchingFunctionDevicesResponse(CSTAMessage):
    serviceCrossRefID: str


@_message
class SwitchingFunctionDevices(CSTAMessage):
    """
    A segment of the device list the server sends after
    L{GetSwitchingFunctionDevicesResponse} (no response).
    """

    serviceCrossRefID: str
    lastSegment: bool
    deviceList: tuple[DeviceListEntry, ...] = ()
    segmentID: int | None = None


# --- Monitoring and snapshots -------------------------------------------------


@_message
class MonitorStart(CSTAMessage):
    """
    @ivar monitorObject: a device (C{str}) or a call (L{ConnectionID}).
    @ivar requestedMonitorMediaClass: names of C{MonitorMediaClass} bits.
    """

    monitorObject: str | ConnectionID
    requestedMonitorFilter: MonitorFilter | None = None
    monitorType: MonitorType | None = None
    requestedMonitorMediaClass: frozenset | None = None


@_message
class MonitorStartResponse(CSTAMessage):
    monitorCrossRefID: str
    actualMonitorFilter: MonitorFilter | None = None
    actualMonitorMediaClass: frozenset | None = None
    monitorExistingCalls: bool | None = None


@_message
class MonitorStop(CSTAMessage):
    monitorCrossRefID: str


@_message
class MonitorStopResponse(CSTAMessage):
    pass


@_message
class ChangeMonitorFilter(CSTAMessage):
    monitorCrossRefID: str
    requestedMonitorFilter: MonitorFilter


@_message
class ChangeMonitorFilterResponse(CSTAMessage):
    actualMonitorFilter: MonitorFilter | None = None


@_message
class SnapshotDevice(CSTAMessage):
    snapshotObject: str


@_message
class SnapshotDeviceResponse(CSTAMessage):
    """
    The calls at a device (L{SnapshotDeviceResponseInfo} items), or, when
    C{serviceCrossRefID} is set, the promise to send them later.
    """

    snapshotData: tuple[SnapshotDeviceResponseInfo, ...] = ()
    serviceCrossRefID: str | None = None


@_message
class SnapshotCall(CSTAMessage):
    snapshotObject: ConnectionID


@_message
class SnapshotCallResponse(CSTAMessage):
    """
    The devices on a call (L{SnapshotCallResponseInfo} items), or, when
    C{serviceCrossRefID} is set, the promise to send them later.
    """

    snapshotData: tuple[SnapshotCallResponseInfo, ...] = ()
    serviceCrossRefID: str | None = None
    callingDevice: str | DeviceIDStatus | None = None
    calledDevice: str | DeviceIDStatus | None = None
    associatedCallingDevice: str | DeviceIDStatus | None = None
    associatedCalledDevice: str | DeviceIDStatus | None = None
    correlatorData: bytes | None = None


# --- Call control -------------------------------------------------------------


@_message
class MakeCall(CSTAMessage):
    callingDevice: str
    calledDirectoryNumber: str
    accountCode: str | None = None
    authCode: str | None = None
    autoOriginate: AutoOriginate = AutoOriginate.prompt
    correlatorData: bytes | None = None
    userData: bytes | None = None
    subjectOfCall: str | None = None
    reason: EventCause | None = None


@_message
class MakeCallResponse(CSTAMessage):
    callingDevice: ConnectionID


@_message
class AnswerCall(CSTAMessage):
    callToBeAnswered: ConnectionID
    correlatorData: bytes | None = None
    userData: bytes | None = None


@_message
class AnswerCallResponse(CSTAMessage):
    pass


@_message
class ClearConnection(CSTAMessage):
    connectionToBeCleared: ConnectionID
    correlatorData: bytes | None = None
    userData: bytes | None = None
    reason: EventCause | None = None


@_message
class ClearConnectionResponse(CSTAMessage):
    pass


@_message
class ClearCall(CSTAMessage):
    callToBeCleared: ConnectionID
    userData: bytes | None = None
    reason: EventCause | None = None


@_message
class ClearCallResponse(CSTAMessage):
    pass


@_message
class HoldCall(CSTAMessage):
    callToBeHeld: ConnectionID
    connectionReservation: bool | None = None


@_message
class HoldCallResponse(CSTAMessage):
    pass


@_message
class RetrieveCall(CSTAMessage):
    callToBeRetrieved: ConnectionID


@_message
class RetrieveCallResponse(CSTAMessage):
    pass


@_message
class ConsultationCall(CSTAMessage):
    existingCall: ConnectionID
    consultedDevice: str
    connectionReservation: bool | None = None
    accountCode: str | None = None
    authCode: str | None = None
    correlatorData: bytes | None = None
    userData: bytes | None = None
    consultOptions: ConsultOptions = ConsultOptions.unrestricted
    subjectOfCall: str | None = None


@_message
class ConsultationCallResponse(CSTAMessage):
    initiatedCall: ConnectionID


@_message
class AlternateCall(CSTAMessage):
    heldCall: ConnectionID
    activeCall: ConnectionID
    connectionReservation: bool | None = None
    consultOptions: ConsultOptions = ConsultOptions.unrestricted


@_message
class AlternateCallResponse(CSTAMessage):
    pass


@_message
class ReconnectCall(CSTAMessage):
    activeCall: ConnectionID
    heldCall: ConnectionID


@_message
class ReconnectCallResponse(CSTAMessage):
    pass


@_message
class TransferCall(CSTAMessage):
    heldCall: ConnectionID
    activeCall: ConnectionID


@_message
class TransferCallResponse(CSTAMessage):
    """
    @ivar connections: L{ConnectionListEntry} items.
    """

    transferredCall: ConnectionID
    connections: tuple[ConnectionListEntry, ...] = ()


@_message
class SingleStepTransferCall(CSTAMessage):
    activeCall: ConnectionID
    transferredTo: str
    accountCode: str | None = None
    authCode: str | None = None
    correlatorData: bytes | None = None
    userData: bytes | None = None
    subjectOfCall: str | None = None
    reason: EventCause | None = None


@_message
class SingleStepTransferCallResponse(CSTAMessage):
    transferredCall: ConnectionID
    connections: tuple[ConnectionListEntry, ...] = ()


@_message
class ConferenceCall(CSTAMessage):
    heldCall: ConnectionID
    activeCall: ConnectionID


@_message
class ConferenceCallResponse(CSTAMessage):
    conferenceCall: ConnectionID
    connections: tuple[ConnectionListEntry, ...] = ()


@_message
class DeflectCall(CSTAMessage):
    callToBeDiverted: ConnectionID
    newDestination: str
    correlatorData: bytes | None = None
    userData: bytes | None = None
    subjectOfCall: str | None = None
    reason: EventCause | None = None


@_message
class DeflectCallResponse(CSTAMessage):
    pass


@_message
class GenerateDigits(CSTAMessage):
    connectionToSendDigits: ConnectionID
    charactersToSend: str
    digitMode: DigitMode | None = None
    toneDuration: int | None = None
    pulseRate: int | None = None
    pauseDuration: int | None = None


@_message
class GenerateDigitsResponse(CSTAMessage):
    pass


@_message
class DirectedPickupCall(CSTAMessage):
    callToBePickedUp: ConnectionID
    requestingDevice: str
    correlatorData: bytes | None = None
    userData: bytes | None = None


@_message
class DirectedPickupCallResponse(CSTAMessage):
    pickedCall: ConnectionID | None = None


@_message
class GroupPickupCall(CSTAMessage):
    newDestination: str
    pickGroup: str | None = None
    correlatorData: bytes | None = None
    userData: bytes | None = None


@_message
class GroupPickupCallResponse(CSTAMessage):
    pickedCall: ConnectionID | None = None


# --- Logical device features --------------------------------------------------


@_message
class SetForwarding(CSTAMessage):
    device: str
    activateForward: bool
    forwardingType: ForwardingType | None = None
    forwardDN: str | None = None
    ringCount: int | None = None
    ringDuration: int | None = None


@_message
class SetForwardingResponse(CSTAMessage):
    pass


@_message
class GetForwarding(CSTAMessage):
    device: str


@_message
class GetForwardingResponse(CSTAMessage):
    """
    @ivar forwardingList: L{ForwardListEntry} items.
    """

    forwardingList: tuple[ForwardListEntry, ...] = ()


@_message
class SetDoNotDisturb(CSTAMessage):
    """
    @ivar callOrigination: names of C{CallOrigination} bits (C{internal},
        C{external}).
    """

    device: str
    doNotDisturbOn: bool
    callOrigination: frozenset | None = None
    callingDeviceList: tuple[str, ...] = ()


@_message
class SetDoNotDisturbResponse(CSTAMessage):
    pass


@_message
class GetDoNotDisturb(CSTAMessage):
    device: str


@_message
class GetDoNotDisturbResponse(CSTAMessage):
    doNotDisturbOn: bool
    callOrigination: frozenset | None = None
    callingDeviceList: tuple[str, ...] = ()


# --- Vendor specific ----------------------------------------------------------


@_message
class EscapeService:
    """
    A private (vendor or component specific) request: ECMA-269 Escape.
    """

    privateData: bytes
    escapeRegisterID: str | None = None


@_message
class EscapeServiceResponse(CSTAMessage):
    pass


# --- Call detail records ------------------------------------------------------


@_message
class StartCallDetailRecordsTransmission(CSTAMessage):
    transferMode: CDRTransferMode


@_message
class StartCallDetailRecordsTransmissionResponse(CSTAMessage):
    cdrCrossRefID: str


@_message
class StopCallDetailRecordsTransmission(CSTAMessage):
    cdrCrossRefID: str
    cdrTermReason: CDRTermReason | None = None


@_message
class StopCallDetailRecordsTransmissionResponse(CSTAMessage):
    pass


@_message
class SendStoredCallDetailRecords(CSTAMessage):
    cdrCrossRefID: str
    timePeriod: CDRTimePeriod | None = None


@_message
class SendStoredCallDetailRecordsResponse(CSTAMessage):
    pass


@_message
class CallDetailRecordsReport(CSTAMessage):
    """
    Records sent by the server (C{cdrInfo}: L{CDRInformationItem} items).
    """

    cdrCrossRefID: str
    numberOfRecordsSent: int
    cdrInfo: tuple[CDRInformationItem, ...] = ()
    lastStoredCDRReportSent: bool | None = None


@_message
class CallDetailRecordsReportResponse(CSTAMessage):
    pass


# --- Events -------------------------------------------------------------------


@_message
class ServiceInitiatedEvent(CSTAEvent):
    initiatedConnection: ConnectionID
    initiatingDevice: str | DeviceIDStatus
    cause: EventCause
    calledDevice: str | DeviceIDStatus | None = None
    localConnectionInfo: LocalConnectionState | None = None
    correlatorData: bytes | None = None
    networkCallingDevice: str | DeviceIDStatus | None = None
    networkCalledDevice: str | DeviceIDStatus | None = None
    associatedCallingDevice: str | DeviceIDStatus | None = None


@_message
class OriginatedEvent(CSTAEvent):
    originatedConnection: ConnectionID
    callingDevice: str | DeviceIDStatus
    calledDevice: str | DeviceIDStatus
    cause: EventCause
    originatingDevice: str | None = None
    localConnectionInfo: LocalConnectionState | None = None
    correlatorData: bytes | None = None
    networkCallingDevice: str | DeviceIDStatus | None = None
    networkCalledDevice: str | DeviceIDStatus | None = None
    associatedCallingDevice: str | DeviceIDStatus | None = None
    associatedCalledDevice: str | DeviceIDStatus | None = None


@_message
class DeliveredEvent(CSTAEvent):
    connection: ConnectionID
    alertingDevice: str | DeviceIDStatus
    callingDevice: str | DeviceIDStatus
    calledDevice: str | DeviceIDStatus
    lastRedirectionDevice: str | DeviceIDStatus
    cause: EventCause
    originatingNIDConnection: ConnectionID | None = None
    localConnectionInfo: LocalConnectionState | None = None
    correlatorData: bytes | None = None
    userData: bytes | None = None
    networkCallingDevice: str | DeviceIDStatus | None = None
    networkCalledDevice: str | DeviceIDStatus | None = None
    associatedCallingDevice: str | DeviceIDStatus | None = None
    associatedCalledDevice: str | DeviceIDStatus | None = None


@_message
class EstablishedEvent(CSTAEvent):
    establishedConnection: ConnectionID
    answeringDevice: str | DeviceIDStatus
    callingDevice: str | DeviceIDStatus
    calledDevice: str | DeviceIDStatus
    lastRedirectionDevice: str | DeviceIDStatus
    cause: EventCause
    originatingNIDConnection: ConnectionID | None = None
    localConnectionInfo: LocalConnectionState | None = None
    correlatorData: bytes | None = None
    userData: bytes | None = None
    networkCallingDevice: str | DeviceIDStatus | None = None
    networkCalledDevice: str | DeviceIDStatus | None = None
    associatedCallingDevice: str | DeviceIDStatus | None = None
    associatedCalledDevice: str | DeviceIDStatus | None = None


@_message
class HeldEvent(CSTAEvent):
    heldConnection: ConnectionID
    holdingDevice: str | DeviceIDStatus
    cause: EventCause
    localConnectionInfo: LocalConnectionState | None = None
    correlatorData: bytes | None = None


@_message
class RetrievedEvent(CSTAEvent):
    retrievedConnection: ConnectionID
    retrievingDevice: str | DeviceIDStatus
    cause: EventCause
    localConnectionInfo: LocalConnectionState | None = None
    correlatorData: bytes | None = None


@_message
class ConnectionClearedEvent(CSTAEvent):
    droppedConnection: ConnectionID
    releasingDevice: str | DeviceIDStatus
    cause: EventCause
    localConnectionInfo: LocalConnectionState | None = None
    correlatorData: bytes | None = None
    userData: bytes | None = None


@_message
class CallClearedEvent(CSTAEvent):
    clearedCall: ConnectionID
    cause: EventCause
    correlatorData: bytes | None = None
    userData: bytes | None = None


@_message
class TransferedEvent(CSTAEvent):
    """
    ECMA-269 Transferred (ECMA-323 spells the element C{TransferedEvent}).

    @ivar transferredConnections: L{ConnectionListEntry} items.
    """

    primaryOldCall: ConnectionID
    transferringDevice: str | DeviceIDStatus
    transferredToDevice: str | DeviceIDStatus
    transferredConnections: tuple[ConnectionListEntry, ...]
    cause: EventCause
    secondaryOldCall: ConnectionID | None = None
    localConnectionInfo: LocalConnectionState | None = None
    correlatorData: bytes | None = None
    userData: bytes | None = None


@_message
class ConferencedEvent(CSTAEvent):
    """
    @ivar conferenceConnections: L{ConnectionListEntry} items.
    """

    primaryOldCall: ConnectionID
    conferencingDevice: str | DeviceIDStatus
    addedParty: str | DeviceIDStatus
    conferenceConnections: tuple[ConnectionListEntry, ...]
    cause: EventCause
    secondaryOldCall: ConnectionID | None = None
    localConnectionInfo: LocalConnectionState | None = None
    correlatorData: bytes | None = None
    userData: bytes | None = None


@_message
class DivertedEvent(CSTAEvent):
    connection: ConnectionID
    divertingDevice: str | DeviceIDStatus
    newDestination: str | DeviceIDStatus
    lastRedirectionDevice: str | DeviceIDStatus
    cause: EventCause
    callingDevice: str | DeviceIDStatus | None = None
    calledDevice: str | DeviceIDStatus | None = None
    localConnectionInfo: LocalConnectionState | None = None
    correlatorData: bytes | None = None
    userData: bytes | None = None
    networkCallingDevice: str | DeviceIDStatus | None = None
    networkCalledDevice: str | DeviceIDStatus | None = None
    associatedCallingDevice: str | DeviceIDStatus | None = None
    associatedCalledDevice: str | DeviceIDStatus | None = None


@_message
class FailedEvent(CSTAEvent):
    failedConnection: ConnectionID
    failingDevice: str | DeviceIDStatus
    callingDevice: str | DeviceIDStatus
    calledDevice: str | DeviceIDStatus
    lastRedirectionDevice: str | DeviceIDStatus
    cause: EventCause
    originatingNIDConnection: ConnectionID | None = None
    localConnectionInfo: LocalConnectionState | None = None
    correlatorData: bytes | None = None
    userData: bytes | None = None
    networkCallingDevice: str | DeviceIDStatus | None = None
    networkCalledDevice: str | DeviceIDStatus | None = None
    associatedCallingDevice: str | DeviceIDStatus | None = None
    associatedCalledDevice: str | DeviceIDStatus | None = None


@_message
class QueuedEvent(CSTAEvent):
    queuedConnection: ConnectionID
    queue: str | DeviceIDStatus
    callingDevice: str | DeviceIDStatus
    calledDevice: str | DeviceIDStatus
    lastRedirectionDevice: str | DeviceIDStatus
    cause: EventCause
    numberQueued: int | None = None
    callsInFront: int | None = None
    localConnectionInfo: LocalConnectionState | None = None
    correlatorData: bytes | None = None
    userData: bytes | None = None
    networkCallingDevice: str | DeviceIDStatus | None = None
    networkCalledDevice: str | DeviceIDStatus | None = None
    associatedCallingDevice: str | DeviceIDStatus | None = None
    associatedCalledDevice: str | DeviceIDStatus | None = None


@_message
class NetworkReachedEvent(CSTAEvent):
    outboundConnection: ConnectionID
    networkInterfaceUsed: str | DeviceIDStatus
    callingDevice: str | DeviceIDStatus
    calledDevice: str | DeviceIDStatus
    lastRedirectionDevice: str | DeviceIDStatus
    cause: EventCause
    originatingNIDConnection: ConnectionID | None = None
    localConnectionInfo: LocalConnectionState | None = None
    correlatorData: bytes | None = None
    userData: bytes | None = None
    networkCallingDevice: str | DeviceIDStatus | None = None
    networkCalledDevice: str | DeviceIDStatus | None = None
    associatedCallingDevice: str | DeviceIDStatus | None = None


@_message
class DigitsDialedEvent(CSTAEvent):
    dialingConnection: ConnectionID
    dialingDevice: str | DeviceIDStatus
    dialingSequence: str
    cause: EventCause
    localConnectionInfo: LocalConnectionState | None = None
    correlatorData: bytes | None = None
    networkCallingDevice: str | DeviceIDStatus | None = None
    networkCalledDevice: str | DeviceIDStatus | None = None
    associatedCallingDevice: str | DeviceIDStatus | None = None
    associatedCalledDevice: str | DeviceIDStatus | None = None


@_message
class ForwardingEvent(CSTAEvent):
    device: str | DeviceIDStatus
    forwardStatus: bool
    forwardingType: ForwardingType | None = None
    forwardTo: str | None = None
    forwardDefault: ForwardDefault | None = None
    ringCount: int | None = None
    ringDuration: int | None = None


@_message
class DoNotDisturbEvent(CSTAEvent):
    device: str | DeviceIDStatus
    doNotDisturbOn: bool
    callOrigination: frozenset | None = None
    callingDeviceList: tuple[str, ...] = ()


@_message
class BackInServiceEvent(CSTAEvent):
    device: str | DeviceIDStatus
    cause: EventCause | None = None


@_message
class OutOfServiceEvent(CSTAEvent):
    device: str | DeviceIDStatus
    cause: EventCause | None = None


@_message
class PrivateEvent:
    """
    A vendor specific event; its private data is the whole event.
    """

    monitorCrossRefID: str
    privateData: bytes


# --- ROSE (X.880) -------------------------------------------------------------


class RejectProblem(IntEnum):
    """
    X.880 C{RejectProblem}: the tens say which APDU was refused (general,
    invoke, returnResult, returnError), the units why.
    """

    generalUnrecognizedPDU = 0
    generalMistypedPDU = 1
    generalBadlyStructuredPDU = 2
    invokeDuplicateInvocation = 10
    invokeUnrecognizedOperation = 11
    invokeMistypedArgument = 12
    invokeResourceLimitation = 13
    invokeReleaseInProgress = 14
    invokeUnrecognizedLinkedId = 15
    invokeLinkedResponseUnexpected = 16
    invokeUnexpectedLinkedOperation = 17
    returnResultUnrecognizedInvocation = 20
    returnResultResultResponseUnexpected = 21
    returnResultMistypedResult = 22
    returnErrorUnrecognizedInvocation = 30
    returnErrorErrorResponseUnexpected = 31
    returnErrorUnrecognizedError = 32
    returnErrorUnexpectedError = 33
    returnErrorMistypedParameter = 34


@_message
class Invoke:
    """
    A ROSE invoke: a request, or (operation C{cSTAEventReport}) an event.

    @ivar invokeID: the invoke id; L{None} when a peer sent the X.880
        C{absent} form.
    @ivar operation: the operation name (see L{oso.csta.operations}).
    @ivar argument: the argument message, for example a L{MakeCall}.
    """

    invokeID: int
    operation: str
    argument: object


@_message
class ReturnResult:
    """
    A ROSE returnResult: the success of an invoke. C{operation} and
    C{result} are L{None} together when the result carries nothing.
    """

    invokeID: int
    operation: str | None = None
    result: object = None


@_message
class ReturnError:
    """
    A ROSE returnError carrying the CSTA universal failure.
    """

    invokeID: int
    failure: UniversalFailure


@_message
class Reject:
    """
    A ROSE reject. C{invokeID} is L{None} when the refused APDU's invoke id
    could not be read.
    """

    invokeID: int | None
    problem: RejectProblem


# --- ACSE (X.227) -------------------------------------------------------------


class AssociateResult(IntEnum):
    """
    X.227 C{Associate-result}.
    """

    accepted = 0
    rejectedPermanent = 1
    rejectedTransient = 2


class ACSEServiceUserDiagnostic(IntEnum):
    """
    X.227 C{Associate-source-diagnostic} from the ACSE service user.
    """

    null = 0
    noReasonGiven = 1
    applicationContextNameNotSupported = 2
    callingAPTitleNotRecognized = 3
    callingAPInvocationIdentifierNotRecognized = 4
    callingAEQualifierNotRecognized = 5
    callingAEInvocationIdentifierNotRecognized = 6
    calledAPTitleNotRecognized = 7
    calledAPInvocationIdentifierNotRecognized = 8
    calledAEQualifierNotRecognized = 9
    calledAEInvocationIdentifierNotRecognized = 10
    authenticationMechanismNameNotRecognized = 11
    authenticationMechanismNameRequired = 12
    authenticationFailure = 13
    authenticationRequired = 14


class ACSEServiceProviderDiagnostic(IntEnum):
    """
    X.227 C{Associate-source-diagnostic} from the ACSE service provider.
    """

    null = 0
    noReasonGiven = 1
    noCommonACSEVersion = 2


class ReleaseRequestReason(IntEnum):
    normal = 0
    urgent = 1
    userDefined = 30


class ReleaseResponseReason(IntEnum):
    normal = 0
    notFinished = 1
    userDefined = 30


class AbortSource(IntEnum):
    acseServiceUser = 0
    acseServiceProvider = 1


class AbortDiagnostic(IntEnum):
    noReasonGiven = 1
    protocolError = 2
    authenticationMechanismNameNotRecognized = 3
    authenticationMechanismNameRequired = 4
    authenticationFailure = 5
    authenticationRequired = 6


@_message
class AssociationRequest:
    """
    ACSE AARQ: a client asks to associate.

    @ivar applicationContextName: the application context, a dotted object
        identifier (C{"1.3.12.0.285.200"} for CSTA Phase III).
    @ivar callingAuthenticationValue: the C{charstring} authentication value
        (a password), if any.
    @ivar mechanismName: the authentication mechanism, a dotted object
        identifier, if any.
    @ivar senderACSERequirements: names of C{ACSE-requirements} bits
        (C{authentication}, C{applicationContextNegotiation}).
    @ivar cstaVersions: names of C{CSTAVersion} bits (C{versionFive}, ...)
        from the CSTA user information.
    @ivar privateData: the octets of every further user information item
        (an C{EXTERNAL} other than the CSTA one): where OpenScape-style
        clients put C{user=...,passwd=...}.
    """

    applicationContextName: str
    callingAuthenticationValue: str | None = None
    mechanismName: str | None = None
    senderACSERequirements: frozenset | None = None
    cstaVersions: frozenset = frozenset()
    privateData: tuple[bytes, ...] = ()


@_message
class AssociationResponse:
    """
    ACSE AARE: the server accepts or rejects an association.

    @ivar diagnostic: an L{ACSEServiceUserDiagnostic} or
        L{ACSEServiceProviderDiagnostic}.
    """

    applicationContextName: str
    result: AssociateResult = AssociateResult.accepted
    diagnostic: ACSEServiceUserDiagnostic | ACSEServiceProviderDiagnostic = (
        ACSEServiceUserDiagnostic.null
    )
    respondingAuthenticationValue: str | None = None
    cstaVersions: frozenset = frozenset()
    privateData: tuple[bytes, ...] = ()


@_message
class ReleaseRequest:
    """
    ACSE RLRQ.
    """

    reason: ReleaseRequestReason | None = None


@_message
class ReleaseResponse:
    """
    ACSE RLRE.
    """

    reason: ReleaseResponseReason | None = None


@_message
class Abort:
    """
    ACSE ABRT.
    """

    source: AbortSource
    diagnostic: AbortDiagnostic | None = None


__all__ = sorted(
    name
    for name, value in list(globals().items())
    if not name.startswith("_")
    and isinstance(value, type)
    and value.__module__ == __name__
)
