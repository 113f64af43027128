"""
Tests for L{oso.csta.messages} and L{oso.csta.operations}: the conventions of
the shared CSTA message model and the operation table. The hypothesis
strategies here (values that ECMA-285 can carry) are also used by the BER
codec and oracle tests.
"""

import dataclasses
import string
import types
import typing
from datetime import datetime, timezone
from enum import Enum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oso.callmodel import errors as callmodelErrors
from oso.callmodel.ids import ConnectionID
from oso.csta import messages as m
from oso.csta.operations import BY_ARGUMENT, BY_CODE, BY_NAME, BY_RESULT, OPERATIONS, operationFor

# --- Strategies ---------------------------------------------------------------

#: The names of the bits a frozenset field may hold (from the ECMA-285
#: modules; long lists shortened to a sample of names).
BIT_NAMES = {
    ("MonitorFilter", "callControl"): (
        "callCleared conferenced connectionCleared delivered diverted established "
        "failed held networkReached originated queued retrieved serviceInitiated "
        "transferred digitsDialed bridged networkCapabilitiesChanged offered"
    ),
    ("MonitorFilter", "callAssociated"): (
        "callInformation charging dTMFDigitsDetected telephonyTonesDetected "
        "serviceCompletionFailure"
    ),
    ("MonitorFilter", "mediaAttachment"): "mediaAttached mediaDetached",
    ("MonitorFilter", "physicalDeviceFeature"): (
        "buttonInformation buttonPress displayUpdated hookswitch lampMode "
        "messageWaiting microphoneGain microphoneMute ringerStatus speakerMute "
        "speakerVolume"
    ),
    ("MonitorFilter", "logicalDeviceFeature"): (
        "agentBusy agentLoggedOn agentLoggedOff agentNotReady agentReady "
        "agentWorkingAfterCall autoAnswer autoWorkMode callBack callBackMessage "
        "callerIDStatus doNotDisturb forwarding presenceState routeingMode"
    ),
    ("MonitorFilter", "maintenance"): (
        "backInService outOfService deviceCapabilityChanged partiallyInService"
    ),
    ("MonitorFilter", "voiceUnit"): (
        "stop play suspendPlay record suspendRecord review voiceAttributesChange "
        "bookmarkReached completed dtmfDetected emptied interruptionDetected "
        "notRecognized recognized started silenceTimeoutExpired speechDetected "
        "voiceErrorOccured"
    ),
    ("MonitorFilter", "private"): "privateEvent",
    "requestTypes": (
        "systemStatus requestSystemStatus switchingFunctionCapsChanged "
        "switchingFunctionDevicesChanged"
    ),
    "requestedStatusFilter": (
        "initializing enabled normal messageLost disabled partiallyDisabled "
        "overloadImminent overloadReached overloadRelieved"
    ),
    "requestedMonitorMediaClass": (
        "voice data image audio other notKnown chat email message im sms mms"
    ),
    "callOrigination": "internal external",
    "profiles": "basicTelephonyProfile routeingProfile advancedSpeechServiceProfile",
    "deviceIDFormat": (
        "dialableDigitsAsterix dialableDigitsHash sFReprOther deviceNumber "
        "sFRResourceID privateNumber privateName"
    ),
    "swDomainFeatures": "isForwardingBefore negativeAcknowledgment prompting",
    "swAppearanceAddressability": "nonAddressable addressable",
    "swAppearanceTypes": "selectedStandard interDependentSharedBridged",
    "cstaVersions": "versionOne versionFive versionNineteen versionTwentyfour",
    "senderACSERequirements": "authentication applicationContextNegotiation",
}
BIT_NAMES["actualStatusFilter"] = BIT_NAMES["requestedStatusFilter"]
BIT_NAMES["actualMonitorMediaClass"] = BIT_NAMES["requestedMonitorMediaClass"]

#: The string fields ECMA-285 types as OCTET STRING (any Latin-1 text); the
#: other strings are IA5 (device ids, subjects, names).
OCTET_STRING_FIELDS = frozenset(
    {
        "monitorCrossRefID",
        "sysStatRegisterID",
        "serviceCrossRefID",
        "cdrCrossRefID",
        "escapeRegisterID",
        "accountCode",
        "authCode",
        "accountInfo",
    }
)

#: Universal failures, from the call model's refusals and a few more.
FAILURES = [
    refuse().failure
    for refuse in vars(callmodelErrors).values()
    if callable(refuse)
    and getattr(refuse, "__doc__", "")
    and "A L{CSTAError} carrying" in (refuse.__doc__ or "")
] + [
    m.UniversalFailure("security", "sequenceNumberViolated"),
    m.UniversalFailure("subscribedResourceAvailability", "objectMonitorLimitExceeded"),
    m.UniversalFailure("performanceManagement", "performanceLimitExceeded"),
    m.UniversalFailure("privateData", "cSTAPrivateDataInfoError"),
    m.UniversalFailure("unspecified", "unspecified"),
]

devices = st.text(alphabet="0123456789*#", min_size=1, max_size=8)
ia5Text = st.text(alphabet=string.ascii_letters + string.digits + " .-", max_size=10)
latin1Text = st.text(alphabet=string.digits + "abcXYZ\xe9\xff\x00", max_size=8)
octets = st.binary(max_size=8)
invokeIDs = st.integers(-(2**31), 2**31 - 1)
times = st.builds(
    lambda moment, milliseconds: moment.replace(microsecond=milliseconds * 1000),
    st.datetimes(
        min_value=datetime(1990, 1, 1),
        max_value=datetime(2099, 12, 31),
        timezones=st.just(timezone.utc),
    ),
    st.sampled_from([0, 0, 5, 250, 999]),
)
connectionIDs = st.builds(
    ConnectionID, st.none() | latin1Text, st.none() | devices
).filter(lambda c: c.callID is not None or c.deviceID is not None)

_KNOWN_OR_RESTRICTED = (m.DeviceIDStatus.notKnown, m.DeviceIDStatus.restricted)


def _statuses(owner, name):
    """
    The statuses a device field may hold instead of a number.
    """
    if name == "lastRedirectionDevice":
        return tuple(m.DeviceIDStatus)
    if owner is m.ConnectionListEntry and name == "associatedNID":
        return (m.DeviceIDStatus.notKnown,)
    return _KNOWN_OR_RESTRICTED


def _parts(annotation):
    if isinstance(annotation, types.UnionType):
        return annotation.__args__
    return (annotation,)


def strategyFor(annotation, owner=None, name=""):
    """
    Values of a field of the message model that ECMA-285 can carry.
    """
    choices = []
    for part in _parts(annotation):
        if part is type(None):
            choices.append(st.none())
        elif part is str:
            if name in OCTET_STRING_FIELDS:
                choices.append(latin1Text)
            elif owner is m.AssociationRequest or owner is m.AssociationResponse:
                choices.append(ia5Text)
            elif name in ("subjectOfCall", "switchingSubDomainName", "manufacturerName"):
                choices.append(ia5Text)
            else:
                choices.append(devices)
        elif part is m.DeviceIDStatus:
            choices.append(st.sampled_from(_statuses(owner, name)))
        elif part is ConnectionID:
            choices.append(connectionIDs)
        elif part is bytes:
            choices.append(octets)
        elif part is bool:
            choices.append(st.booleans())
        elif part is int:
            choices.append(st.integers(-(2**31), 2**31 - 1))
        elif part is datetime:
            choices.append(times)
        elif part is frozenset:
            names = BIT_NAMES.get((owner.__name__, name)) or BIT_NAMES[name]
            choices.append(st.frozensets(st.sampled_from(names.split())))
        elif isinstance(part, type) and issubclass(part, Enum):
            choices.append(st.sampled_from(list(part)))
        elif typing.get_origin(part) is tuple:
            item = typing.get_args(part)[0]
            choices.append(st.lists(strategyFor(item, owner, name), max_size=3).map(tuple))
        elif dataclasses.is_dataclass(part):
            choices.append(messagesOf(part))
        else:
            raise TypeError(f"no strategy for {owner.__name__}.{name}: {part}")
    return st.one_of(choices)


def messagesOf(cls):
    """
    Messages (or parameter values) of the model class C{cls}.
    """
    fields = {
        field.name: strategyFor(field.type, cls, field.name)
        for field in dataclasses.fields(cls)
    }
    strategy = st.builds(cls, **fields)
    if "serviceCrossRefID" in fields and "snapshotData" in fields:
        # The snapshot results carry either the data or a cross reference.
        strategy = strategy.filter(
            lambda x: x.serviceCrossRefID is None or not x.snapshotData
        )
    return strategy


EVENT_TYPES = [
    cls
    for cls in vars(m).values()
    if isinstance(cls, type) and issubclass(cls, m.CSTAEvent) and cls is not m.CSTAEvent
] + [m.PrivateEvent]

ARGUMENT_TYPES = [op.argument for op in OPERATIONS if op.name != "cSTAEventReport"]
RESULT_TYPES = [op.result for op in OPERATIONS if op.result is not None]


def invokesOf(cls):
    """
    Invokes carrying arguments of C{cls} (an argument or an event class).
    """
    return st.builds(
        lambda invokeID, argument: m.Invoke(
            invokeID=invokeID, operation=operationFor(argument).name, argument=argument
        ),
        invokeIDs,
        messagesOf(cls),
    )


def returnResultsOf(cls):
    """
    Return results carrying results of C{cls}.
    """
    return st.builds(
        m.ReturnResult,
        invokeID=invokeIDs,
        operation=st.just(BY_RESULT[cls].name),
        result=messagesOf(cls),
    )


returnErrors = st.builds(m.ReturnError, invokeID=invokeIDs, failure=st.sampled_from(FAILURES))
rejects = st.builds(
    m.Reject, invokeID=st.none() | invokeIDs, problem=st.sampled_from(list(m.RejectProblem))
)
applicationContexts = st.sampled_from(["1.3.12.0.285.200", "1.3.12.0.218.200", "1.3.12.0.180.1"])
associationRequests = st.builds(
    lambda x, context, mechanism: dataclasses.replace(
        x, applicationContextName=context, mechanismName=mechanism
    ),
    messagesOf(m.AssociationRequest),
    applicationContexts,
    st.none() | st.just("2.2.3.1"),
)
associationResponses = st.builds(
    lambda x, context: dataclasses.replace(x, applicationContextName=context),
    messagesOf(m.AssociationResponse),
    applicationContexts,
)
acseMessages = st.one_of(
    associationRequests,
    associationResponses,
    messagesOf(m.ReleaseRequest),
    messagesOf(m.ReleaseResponse),
    messagesOf(m.Abort),
)

#: Every APDU message of the model.
apdus = st.one_of(
    [invokesOf(cls) for cls in ARGUMENT_TYPES + EVENT_TYPES]
    + [returnResultsOf(cls) for cls in RESULT_TYPES]
    + [st.builds(m.ReturnResult, invokeID=invokeIDs), returnErrors, rejects, acseMessages]
)


# --- Tests --------------------------------------------------------------------

MODEL_TYPES = [
    value
    for value in vars(m).values()
    if isinstance(value, type)
    and value.__module__ == m.__name__
    and dataclasses.is_dataclass(value)
]


@pytest.mark.parametrize("cls", MODEL_TYPES, ids=lambda cls: cls.__name__)
def test_conventions(cls):
    """
    Every message and parameter type is a frozen, slotted, keyword-only
    dataclass, so that messages are values one may hash, compare and share
    between links.
    """
    params = cls.__dataclass_params__
    assert params.frozen
    assert "__slots__" in vars(cls)
    assert all(field.kw_only for field in dataclasses.fields(cls))


def test_requiredParametersHaveNoDefault():
    """
    A parameter ECMA-269 makes mandatory has no default: leaving out the
    calling device of a MakeCall fails at construction.
    """
    with pytest.raises(TypeError):
        m.MakeCall(calledDirectoryNumber="202")
    with pytest.raises(TypeError):
        m.DeliveredEvent(monitorCrossRefID="1", connection=ConnectionID("c", "201"))


def test_defaultsAreTheASN1Defaults():
    """
    ECMA-285 DEFAULTs are the model's defaults: MakeCall's autoOriginate is
    prompt, ConsultationCall's consultOptions unrestricted, a device list
    entry is a station, an association is accepted with a null diagnostic.
    """
    assert m.MakeCall(callingDevice="1", calledDirectoryNumber="2").autoOriginate is (
        m.AutoOriginate.prompt
    )
    consultation = m.ConsultationCall(existingCall=ConnectionID("c", "1"), consultedDevice="2")
    assert consultation.consultOptions is m.ConsultOptions.unrestricted
    assert m.DeviceListEntry(deviceID="1").deviceCategory is m.DeviceCategory.station
    response = m.AssociationResponse(applicationContextName="1.3.12.0.285.200")
    assert response.result is m.AssociateResult.accepted
    assert response.diagnostic is m.ACSEServiceUserDiagnostic.null


def test_briefTypesCovered():
    """
    The services and events of both CSTA issues have their messages.
    """
    services = (
        "SystemStatus SystemRegister SystemRegisterCancel RequestSystemStatus "
        "GetSwitchingFunctionCapabilities GetSwitchingFunctionDevices MonitorStart "
        "MonitorStop ChangeMonitorFilter MakeCall AnswerCall ClearConnection ClearCall "
        "HoldCall RetrieveCall ConsultationCall AlternateCall ReconnectCall TransferCall "
        "SingleStepTransferCall ConferenceCall DeflectCall GenerateDigits SetForwarding "
        "GetForwarding SetDoNotDisturb GetDoNotDisturb DirectedPickupCall GroupPickupCall "
        "SnapshotDevice SnapshotCall EscapeService StartCallDetailRecordsTransmission "
        "StopCallDetailRecordsTransmission SendStoredCallDetailRecords "
        "CallDetailRecordsReport"
    ).split()
    for name in services:
        assert isinstance(getattr(m, name), type)
        assert isinstance(getattr(m, name + "Response"), type)
    for name in ("SystemRegisterAbort", "SwitchingFunctionDevices"):
        assert isinstance(getattr(m, name), type)
    eventNames = (
        "ServiceInitiated Originated Delivered Established Held Retrieved "
        "ConnectionCleared CallCleared Transfered Conferenced Diverted Failed Queued "
        "NetworkReached DigitsDialed Forwarding DoNotDisturb BackInService OutOfService "
        "Private"
    ).split()
    assert sorted(cls.__name__ for cls in EVENT_TYPES) == sorted(n + "Event" for n in eventNames)


def test_operationTable():
    """
    Operation names and local codes are unique; every argument and result
    class belongs to exactly one operation; the codes are those of the
    ECMA-285 modules (makeCall 10, answerCall 2, clearConnection 5,
    monitorStart 71, systemStatus 211, cSTAEventReport 21, escape 51).
    """
    assert len(BY_NAME) == len(BY_CODE) == len(OPERATIONS)
    assert len(BY_ARGUMENT) == len(OPERATIONS)
    assert {
        name: BY_NAME[name].code
        for name in (
            "makeCall",
            "answerCall",
            "clearConnection",
            "monitorStart",
            "systemStatus",
            "cSTAEventReport",
            "escape",
            "systemRegister",
            "snapshotDevice",
        )
    } == {
        "makeCall": 10,
        "answerCall": 2,
        "clearConnection": 5,
        "monitorStart": 71,
        "systemStatus": 211,
        "cSTAEventReport": 21,
        "escape": 51,
        "systemRegister": 207,
        "snapshotDevice": 74,
    }
    for op in OPERATIONS:
        assert op.argument.__module__ == m.__name__
        assert op.result is None or BY_RESULT[op.result] is op


@pytest.mark.parametrize("cls", EVENT_TYPES, ids=lambda cls: cls.__name__)
def test_eventsAreEventReports(cls):
    """
    ECMA-285: every event travels as the argument of cSTAEventReport
    (local code 21), which never answers.
    """
    operation = BY_NAME["cSTAEventReport"]
    assert operation.code == 21 and operation.result is None

    @settings(max_examples=5)
    @given(messagesOf(cls))
    def check(event):
        assert operationFor(event) is operation

    check()


def test_operationForUnknown():
    """
    A value that is no operation's argument has no operation.
    """
    with pytest.raises(KeyError):
        operationFor(m.MakeCallResponse(callingDevice=ConnectionID("c", "1")))
