"""
The CSTA operations oso knows: their ECMA-285 names and local operation
codes, the message classes of their argument and result, and who invokes
them.

Names and codes are those of the C{OPERATION} information objects in the
ECMA-285 modules (C{makeCall OPERATION ::= { ... CODE local: 10 }}); the
codecs look operations up here by code (BER) or by message class (XML,
service handlers).
"""

from dataclasses import dataclass
from enum import Enum

from oso.csta import messages as m


class Direction(Enum):
    """
    Who invokes an operation.
    """

    #: The computing function (the client) invokes it; the server answers.
    toServer = "toServer"
    #: The switching function (the server) invokes it.
    toClient = "toClient"
    #: Either side may invoke it.
    both = "both"


@dataclass(frozen=True, slots=True)
class Operation:
    """
    One CSTA operation.

    @ivar name: the ASN.1 operation name (C{makeCall}).
    @ivar code: its local operation code.
    @ivar argument: the message class of its argument.
    @ivar result: the message class of its result, or L{None} for an
        operation that never answers (ECMA-285 C{ALWAYS RESPONDS FALSE} or
        no C{RESULT}).
    @ivar direction: who invokes it.
    """

    name: str
    code: int
    argument: type
    result: type | None
    direction: Direction


_S, _C, _B = Direction.toServer, Direction.toClient, Direction.both

#: Every operation, in code order.
OPERATIONS = (
    Operation("alternateCall", 1, m.AlternateCall, m.AlternateCallResponse, _S),
    Operation("answerCall", 2, m.AnswerCall, m.AnswerCallResponse, _S),
    Operation("clearCall", 4, m.ClearCall, m.ClearCallResponse, _S),
    Operation("clearConnection", 5, m.ClearConnection, m.ClearConnectionResponse, _S),
    Operation("conferenceCall", 6, m.ConferenceCall, m.ConferenceCallResponse, _S),
    Operation(
        "consultationCall", 7, m.ConsultationCall, m.ConsultationCallResponse, _S
    ),
    Operation("holdCall", 9, m.HoldCall, m.HoldCallResponse, _S),
    Operation("makeCall", 10, m.MakeCall, m.MakeCallResponse, _S),
    Operation("reconnectCall", 13, m.ReconnectCall, m.ReconnectCallResponse, _S),
    Operation("retrieveCall", 14, m.RetrieveCall, m.RetrieveCallResponse, _S),
    Operation("transferCall", 16, m.TransferCall, m.TransferCallResponse, _S),
    Operation("cSTAEventReport", 21, m.CSTAEvent, None, _C),
    Operation(
        "singleStepTrans",
        50,
        m.SingleStepTransferCall,
        m.SingleStepTransferCallResponse,
        _S,
    ),
    Operation("escape", 51, m.EscapeService, m.EscapeServiceResponse, _B),
    Operation("monitorStart", 71, m.MonitorStart, m.MonitorStartResponse, _S),
    Operation(
        "changeMonitorFilter",
        72,
        m.ChangeMonitorFilter,
        m.ChangeMonitorFilterResponse,
        _S,
    ),
    Operation("monitorStop", 73, m.MonitorStop, m.MonitorStopResponse, _B),
    Operation("snapshotDevice", 74, m.SnapshotDevice, m.SnapshotDeviceResponse, _S),
    Operation("snapshotCall", 75, m.SnapshotCall, m.SnapshotCallResponse, _S),
    Operation(
        "getSwitchingFunctionCapabilities",
        203,
        m.GetSwitchingFunctionCapabilities,
        m.GetSwitchingFunctionCapabilitiesResponse,
        _S,
    ),
    Operation(
        "getSwitchingFunctionDevices",
        204,
        m.GetSwitchingFunctionDevices,
        m.GetSwitchingFunctionDevicesResponse,
        _S,
    ),
    Operation(
        "switchingFunctionDevices", 205, m.SwitchingFunctionDevices, None, _C
    ),
    Operation("systemRegister", 207, m.SystemRegister, m.SystemRegisterResponse, _S),
    Operation("systemRegisterAbort", 208, m.SystemRegisterAbort, None, _C),
    Operation(
        "systemRegisterCancel",
        209,
        m.SystemRegisterCancel,
        m.SystemRegisterCancelResponse,
        _S,
    ),
    Operation(
        "requestSysStat",
        210,
        m.RequestSystemStatus,
        m.RequestSystemStatusResponse,
        _S,
    ),
    Operation("systemStatus", 211, m.SystemStatus, m.SystemStatusResponse, _B),
    Operation("deflectCall", 218, m.DeflectCall, m.DeflectCallResponse, _S),
    Operation(
        "directedPickupCall",
        220,
        m.DirectedPickupCall,
        m.DirectedPickupCallResponse,
        _S,
    ),
    Operation(
        "groupPickupCall", 221, m.GroupPickupCall, m.GroupPickupCallResponse, _S
    ),
    Operation("generateDigits", 232, m.GenerateDigits, m.GenerateDigitsResponse, _S),
    Operation("getDoNotDisturb", 308, m.GetDoNotDisturb, m.GetDoNotDisturbResponse, _S),
    Operation("getForwarding", 309, m.GetForwarding, m.GetForwardingResponse, _S),
    Operation("setDoNotDisturb", 316, m.SetDoNotDisturb, m.SetDoNotDisturbResponse, _S),
    Operation("setForwarding", 317, m.SetForwarding, m.SetForwardingResponse, _S),
    Operation(
        "cDRReport",
        361,
        m.CallDetailRecordsReport,
        m.CallDetailRecordsReportResponse,
        _C,
    ),
    Operation(
        "sendStoredCDR",
        362,
        m.SendStoredCallDetailRecords,
        m.SendStoredCallDetailRecordsResponse,
        _S,
    ),
    Operation(
        "startCDRTransmission",
        363,
        m.StartCallDetailRecordsTransmission,
        m.StartCallDetailRecordsTransmissionResponse,
        _S,
    ),
    Operation(
        "stopCDRTransmission",
        364,
        m.StopCallDetailRecordsTransmission,
        m.StopCallDetailRecordsTransmissionResponse,
        _S,
    ),
)

#: Operations by name.
BY_NAME = {op.name: op for op in OPERATIONS}

#: Operations by local code.
BY_CODE = {op.code: op for op in OPERATIONS}

#: Operations by argument message class. Every event class (a subclass of
#: L{oso.csta.messages.CSTAEvent}, and L{oso.csta.messages.PrivateEvent})
#: maps to C{cSTAEventReport}.
BY_ARGUMENT = {op.argument: op for op in OPERATIONS}

#: Operations by result message class.
BY_RESULT = {op.result: op for op in OPERATIONS if op.result is not None}

#: The local code of the universal failure error (ECMA-285
#: C{universalFailure ERROR ::= { ... CODE local:1 }}).
UNIVERSAL_FAILURE_CODE = 1


def operationFor(message):
    """
    The operation a message is the argument of.

    @param message: a CSTA argument or event message.
    @return: its L{Operation}.
    @raise KeyError: when no operation takes it.
    """
    cls = type(message)
    if isinstance(message, (m.CSTAEvent, m.PrivateEvent)):
        return BY_NAME["cSTAEventReport"]
    return BY_ARGUMENT[cls]
