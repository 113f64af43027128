"""
Cross-checks of L{oso.csta.ber} against an independent BER implementation:
the ECMA-285 oracle in C{../shared/reference/ecma285/oracle.py} (asn1tools
compiling the standard's modules).

Each message is turned into asn1tools' value form by L{toOracle}, which is
driven by the types asn1tools compiled from the modules (not by oso's pyasn1
specifications). Then every message oso encodes must decode in the oracle to
that value, and every value the oracle encodes must decode in oso to the
message.
"""

import dataclasses
import importlib.util
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from test_csta_link import PHASE3, Peer
from test_csta_messages import (
    ARGUMENT_TYPES,
    EVENT_TYPES,
    FAILURES,
    RESULT_TYPES,
    acseMessages,
    invokeIDs,
    messagesOf,
)

from oso.callmodel.ids import ConnectionID
from oso.csta import ber
from oso.csta import messages as m
from oso.csta.framing import BERFramer
from oso.csta.operations import BY_NAME, BY_RESULT, operationFor

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "ecma285"

pytestmark = pytest.mark.skipif(
    not (REFERENCE / "oracle.py").exists(),
    reason=f"the ECMA-285 reference folder {REFERENCE} is absent",
)

#: Model field names that ECMA-285's ASN.1 spells otherwise.
RENAMES = {
    m.MonitorStop: {"monitorCrossRefID": "crossRefIdentifier"},
    m.ChangeMonitorFilter: {
        "monitorCrossRefID": "crossRefIdentifier",
        "requestedMonitorFilter": "requestedFilterList",
    },
    m.MonitorStartResponse: {
        "monitorCrossRefID": "crossRefIdentifier",
        "actualMonitorFilter": "actualmonitorFilter",
    },
    m.ChangeMonitorFilterResponse: {"actualMonitorFilter": "actualFilterList"},
    m.NetworkReachedEvent: {"originatingNIDConnection": "originatingNIDConneciton"},
    m.SnapshotCallResponse: {
        "associatedCallingDevice": "associatedCallingDeviceID",
        "associatedCalledDevice": "associatedCalledDeviceID",
    },
}

#: Model event names that ECMA-285's ASN.1 spells otherwise.
EVENT_TYPE_NAMES = {m.TransferedEvent: "TransferredEvent"}


@pytest.fixture(scope="session")
def oracle():
    """
    The oracle module and its compiled specification (built once: asn1tools
    takes seconds to compile the modules).
    """
    spec = importlib.util.spec_from_file_location("ecma285oracle", REFERENCE / "oracle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    compiled, _, _, scanned = module.build(str(REFERENCE))
    table = dict(scanned)
    table.update(module.OPCODES)
    return Oracle(module, compiled, table, _namedBits(REFERENCE))


def _namedBits(folder):
    """
    BIT STRING type name -> {bit name: number}, read from the modules' text.
    """
    bitStrings = {}
    pattern = re.compile(r"(\w+)\s*::=\s*BIT STRING\s*\{([^}]*)\}")
    for path in folder.glob("*.asn1"):
        text = re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8"))
        for name, body in pattern.findall(text):
            bits = dict((n, int(v)) for n, v in re.findall(r"(\w+)\s*\(\s*(\d+)\s*\)", body))
            bitStrings.setdefault(name, bits)
    return bitStrings


@dataclasses.dataclass
class Oracle:
    module: object
    spec: object
    table: dict
    bits: dict

    def type(self, name):
        return self.spec.types[name].type

    def typeNames(self, operation):
        """
        The ASN.1 argument and result type names of an operation, as the
        oracle reads them from the modules.
        """
        code = BY_NAME[operation].code
        name, argument, result = self.table[code]
        assert name == operation
        return argument, result


# --- Model values -> asn1tools values -----------------------------------------


def _unwrap(t):
    while type(t).__name__ == "ExplicitTag":
        t = t.inner
    return t


def _typeName(t):
    """
    The ASN.1 type name of C{t}, looking through EXPLICIT tags.
    """
    while t.type_name == "ExplicitTag":
        t = t.inner
    return t.type_name


def _members(t):
    t = _unwrap(t)
    return {member.name: member for member in getattr(t, "root_members", None) or t.members}


def _device(number):
    return {"deviceIdentifier": ("dialingNumber", number)}


def _connection(connection):
    def local(number):
        return ("staticID", _device(number))

    if connection.deviceID is None:
        return ("callID", connection.callID.encode("latin-1"))
    if connection.callID is None:
        return ("deviceID", local(connection.deviceID))
    both = {"callID": connection.callID.encode("latin-1"), "deviceID": local(connection.deviceID)}
    return ("both", both)


def _bitString(names, bits):
    """
    asn1tools' (octets, number of bits) of the named bits, as long as the
    highest one set.
    """
    if not names:
        return (b"", 0)
    numbers = [bits[name] for name in names]
    data = bytearray((max(numbers) + 8) // 8)
    for number in numbers:
        data[number // 8] |= 0x80 >> (number % 8)
    return (bytes(data), max(numbers) + 1)


def toOracle(oracle, x, t):
    """
    The asn1tools value of the model value C{x} of ASN.1 type C{t}.
    """
    typeName = _typeName(t)
    inner = _unwrap(t)
    kind = type(inner).__name__
    if typeName == "DeviceID":
        return _device(x)
    if typeName == "ConnectionID":
        return _connection(x)
    if typeName in ("MonitorObject", "CSTAObject"):
        if isinstance(x, ConnectionID):
            return ("callObject", _connection(x))
        return ("deviceObject", _device(x))
    if typeName == "CallState":
        if x is None:
            return ("unknown", None)
        if isinstance(x, m.SimpleCallState):
            return ("simpleCallState", x.name)
        return ("compoundCallState", [state.name for state in x])
    if typeName == "CSTACommonArguments":
        return {"privateData": [("string", item) for item in x]}
    if typeName == "CSTAPrivateData":
        return ("string", x)
    if kind == "Choice" and isinstance(x, (str, m.DeviceIDStatus)):
        if isinstance(x, m.DeviceIDStatus):
            return (x.value, None)
        return (inner.members[0].name, _device(x))
    if kind == "Enumerated":
        return inner.value_to_data[int(x)]
    if kind in ("Integer", "Boolean"):
        return x
    if kind == "OctetString":
        return x if isinstance(x, bytes) else x.encode("latin-1")
    if kind.endswith("String") and kind != "BitString":
        return x
    if kind == "BitString":
        return _bitString(x, oracle.bits[typeName])
    if kind == "GeneralizedTime":
        return x
    if kind == "SequenceOf":
        return [toOracle(oracle, item, inner.element_type) for item in x]
    if kind == "Sequence" and dataclasses.is_dataclass(x):
        return _sequence(oracle, x, inner)
    raise TypeError(f"no oracle value for {x!r} as {typeName} ({kind})")


def _sequence(oracle, x, t, exclude=()):
    members = _members(t)
    renames = RENAMES.get(type(x), {})
    if isinstance(x, m.CSTAMessage):
        renames = {"privateData": "extensions", **renames}
    value = {}
    for field in dataclasses.fields(x):
        if field.name in exclude:
            continue
        member = members[renames.get(field.name, field.name)]
        fieldValue = getattr(x, field.name)
        if fieldValue is None and field.name != "localCallState":
            continue
        if fieldValue == () and (member.optional or member.default is not None):
            continue
        value[member.name] = toOracle(oracle, fieldValue, member)
    for member in members.values():
        if member.default is not None and member.name not in value:
            value[member.name] = member.default
    return value


def _commonResult(x):
    if x.privateData:
        return ("extensions", {"privateData": [("string", item) for item in x.privateData]})
    return ("noData", None)


def argumentValue(oracle, message):
    """
    The asn1tools type name and value of an invoke's argument.
    """
    operation = operationFor(message)
    typeName, _ = oracle.typeNames(operation.name)
    if isinstance(message, (m.CSTAEvent, m.PrivateEvent)):
        return typeName, _eventReport(oracle, message)
    if type(message) is m.GetSwitchingFunctionCapabilities:
        return typeName, _commonResult(message)
    return typeName, _sequence(oracle, message, oracle.type(typeName))


def resultValue(oracle, message):
    """
    The asn1tools type name and value of a result.
    """
    _, typeName = oracle.typeNames(BY_RESULT[type(message)].name)
    t = oracle.type(typeName)
    if type(t).__name__ == "Choice":
        return typeName, _commonResult(message)
    if "crossRefIDorSnapshotData" in _members(t):
        value = _sequence(oracle, message, t, exclude=("snapshotData", "serviceCrossRefID"))
        choice = _members(t)["crossRefIDorSnapshotData"]
        if message.serviceCrossRefID is not None:
            value[choice.name] = ("serviceCrossRefID", message.serviceCrossRefID.encode("latin-1"))
        else:
            data = _members(choice)["snapshotData"]
            value[choice.name] = ("snapshotData", toOracle(oracle, message.snapshotData, data))
        return typeName, value
    return typeName, _sequence(oracle, message, t)


def _eventReport(oracle, event):
    eventTypeName = EVENT_TYPE_NAMES.get(type(event), type(event).__name__)
    for category in _members(oracle.type("EventSpecificInfo")).values():
        for alternative in _members(category).values():
            if _typeName(alternative) == eventTypeName:
                value = _sequence(oracle, event, alternative, exclude=("monitorCrossRefID",))
                return {
                    "crossRefIdentifier": event.monitorCrossRefID.encode("latin-1"),
                    "eventSpecificInfo": (category.name, (alternative.name, value)),
                }
    raise LookupError(eventTypeName)


def failureValue(failure):
    if failure.category == "unspecified":
        return (failure.category, None)
    return (failure.category, failure.value)


# --- Tests --------------------------------------------------------------------

SETTINGS = settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _json(oracle, value):
    return oracle.module.to_json(value)


@pytest.mark.parametrize("cls", ARGUMENT_TYPES + EVENT_TYPES, ids=lambda c: c.__name__)
def test_invokes(oracle, cls):
    """
    Every invoke oso encodes decodes in the oracle (ROSE and the CSTA
    argument its operation code names) to the message's value, and every
    invoke the oracle encodes from that value decodes in oso to the message.
    """

    @SETTINGS
    @given(invokeIDs, messagesOf(cls))
    def check(invokeID, argument):
        operation = operationFor(argument)
        invoke = m.Invoke(invokeID=invokeID, operation=operation.name, argument=argument)
        typeName, expected = argumentValue(oracle, argument)
        decoded = oracle.module.decode_rose(oracle.spec, ber.encode(invoke), oracle.table)
        assert decoded["apdu"] == "invoke"
        assert decoded["pdu"]["invokeId"] == ["present", invokeID]
        assert decoded["operation"] == operation.name
        assert "innerDecodeError" not in decoded
        assert decoded["argumentType"] == typeName
        assert decoded["argumentDecoded"] == _json(oracle, expected)
        apdu = oracle.spec.encode(
            "ROSEapdus",
            (
                "invoke",
                {
                    "invokeId": ("present", invokeID),
                    "opcode": ("local", operation.code),
                    "argument": oracle.spec.encode(typeName, expected),
                },
            ),
        )
        assert ber.decode(apdu) == invoke

    check()


@pytest.mark.parametrize("cls", RESULT_TYPES, ids=lambda c: c.__name__)
def test_results(oracle, cls):
    """
    Every returnResult oso encodes decodes in the oracle to the result's
    value, and every one the oracle encodes decodes in oso to the message.
    """

    @SETTINGS
    @given(invokeIDs, messagesOf(cls))
    def check(invokeID, result):
        operation = BY_RESULT[cls]
        message = m.ReturnResult(invokeID=invokeID, operation=operation.name, result=result)
        typeName, expected = resultValue(oracle, result)
        decoded = oracle.module.decode_rose(oracle.spec, ber.encode(message), oracle.table)
        assert decoded["apdu"] == "returnResult"
        assert "innerDecodeError" not in decoded
        assert decoded["resultType"] == typeName
        assert decoded["resultDecoded"] == _json(oracle, expected)
        apdu = oracle.spec.encode(
            "ROSEapdus",
            (
                "returnResult",
                {
                    "invokeId": ("present", invokeID),
                    "result": {
                        "opcode": ("local", operation.code),
                        "result": oracle.spec.encode(typeName, expected),
                    },
                },
            ),
        )
        assert ber.decode(apdu) == message

    check()


@pytest.mark.parametrize("failure", FAILURES, ids=str)
def test_errors(oracle, failure):
    """
    ECMA-285 universalFailure (error code local 1): every failure oso
    encodes decodes in the oracle to its category and value, and back.
    """
    message = m.ReturnError(invokeID=77, failure=failure)
    decoded = oracle.module.decode_rose(oracle.spec, ber.encode(message), oracle.table)
    assert decoded["error"] == "universalFailure"
    assert decoded["parameterDecoded"] == _json(oracle, failureValue(failure))
    apdu = oracle.spec.encode(
        "ROSEapdus",
        (
            "returnError",
            {
                "invokeId": ("present", 77),
                "errcode": ("local", 1),
                "parameter": oracle.spec.encode("UniversalFailure", failureValue(failure)),
            },
        ),
    )
    assert ber.decode(apdu) == message


REJECT_KINDS = ["general", "invoke", "returnResult", "returnError"]


def rejectValue(message):
    """
    The asn1tools value of a reject: its invoke id (NULL when absent) and
    the problem as X.880's CHOICE of the refused APDU's kind.
    """
    kind, value = divmod(int(message.problem), 10)
    invokeID = ("absent", None) if message.invokeID is None else ("present", message.invokeID)
    return {"invokeId": invokeID, "problem": (REJECT_KINDS[kind], value)}


@pytest.mark.parametrize("problem", list(m.RejectProblem), ids=lambda p: p.name)
@pytest.mark.parametrize("invokeID", [None, 7, -(2**31)])
def test_rejects(oracle, problem, invokeID):
    """
    X.880 reject: the problem's APDU kind and value and the invoke id (an
    absent one as NULL) reach the oracle, and every reject the oracle
    encodes decodes in oso to the message.
    """
    message = m.Reject(invokeID=invokeID, problem=problem)
    decoded = oracle.module.decode_rose(oracle.spec, ber.encode(message), oracle.table)
    assert decoded["apdu"] == "reject"
    assert decoded["pdu"] == _json(oracle, rejectValue(message))
    assert ber.decode(oracle.spec.encode("ROSEapdus", ("reject", rejectValue(message)))) == message


@pytest.mark.parametrize("invokeID", [0, 5, 2**31 - 1])
def test_resultWithoutResult(oracle, invokeID):
    """
    A returnResult that carries no result (X.880 allows it) reads the same
    in the oracle and in oso, both ways.
    """
    message = m.ReturnResult(invokeID=invokeID)
    decoded = oracle.module.decode_rose(oracle.spec, ber.encode(message), oracle.table)
    assert decoded == {"apdu": "returnResult", "pdu": {"invokeId": ["present", invokeID]}}
    value = ("returnResult", {"invokeId": ("present", invokeID)})
    assert ber.decode(oracle.spec.encode("ROSEapdus", value)) == message


def test_readsPastUninterpretedParameters(oracle):
    """
    Parameters oso does not model (servicesPermitted, mediaCallCharacteristics,
    callCharacteristics, callLinkageData, deviceHistory, chargingInfo...) are
    read past: a DeliveredEvent and a MakeCall with them decode to the
    parameters oso models.
    """
    device = {"deviceIdentifier": ("dialingNumber", "201")}
    delivered = {
        "connection": ("both", {"callID": b"c1", "deviceID": ("staticID", device)}),
        "alertingDevice": ("deviceIdentifier", device),
        "callingDevice": ("deviceIdentifier", device),
        "calledDevice": ("deviceIdentifier", device),
        "lastRedirectionDevice": ("notKnown", None),
        "localConnectionInfo": "alerting",
        "cause": "newCall",
        "servicesPermitted": {
            "callControlServices": (b"\x80", 1),
            "callAssociatedServices": (b"", 0),
            "mediaAttachmentServices": (b"", 0),
            "routeingServices": (b"", 0),
            "voiceUnitServices": (b"", 0),
        },
        "mediaCallCharacteristics": {"mediaClass": (b"\x80", 1)},
        "callCharacteristics": (b"\x40", 2),
        "callLinkageData": {
            "globalCallData": {"globalCallLinkageID": ("subDomainCallLinkageID", b"\x01")}
        },
        "deviceHistory": {"oldDeviceID": device},
        "languagePreferences": "de",
    }
    argument = oracle.spec.encode(
        "CSTAEventReportArgument",
        {
            "crossRefIdentifier": b"7",
            "eventSpecificInfo": ("callControlEvents", ("delivered", delivered)),
        },
    )
    apdu = oracle.spec.encode(
        "ROSEapdus",
        ("invoke", {"invokeId": ("present", 1), "opcode": ("local", 21), "argument": argument}),
    )
    event = ber.decode(apdu).argument
    assert event == m.DeliveredEvent(
        monitorCrossRefID="7",
        connection=ConnectionID("c1", "201"),
        alertingDevice="201",
        callingDevice="201",
        calledDevice="201",
        lastRedirectionDevice=m.DeviceIDStatus.notKnown,
        localConnectionInfo=m.LocalConnectionState.alerting,
        cause=m.EventCause.newCall,
    )
    makeCall = oracle.spec.encode(
        "MakeCallArgument",
        {
            "callingDevice": device,
            "calledDirectoryNumber": {"deviceIdentifier": ("implicitPublic", "0891234")},
            "autoOriginate": "doNotPrompt",
            "callCharacteristics": (b"\x80", 1),
            "mediaCallCharacteristics": {"mediaClass": (b"\x80", 1)},
            "callingConnectionInfo": {"flowDirection": "transmitAndReceive"},
            "languagePreferences": "en",
        },
    )
    apdu = oracle.spec.encode(
        "ROSEapdus",
        ("invoke", {"invokeId": ("present", 2), "opcode": ("local", 10), "argument": makeCall}),
    )
    assert ber.decode(apdu).argument == m.MakeCall(
        callingDevice="201",
        calledDirectoryNumber="0891234",
        autoOriginate=m.AutoOriginate.doNotPrompt,
    )


def test_operationCodes(oracle):
    """
    Every operation of oso's table has the name, code, argument and result
    types the ECMA-285 modules give it (CODE local:N).
    """
    for name, operation in BY_NAME.items():
        argumentType, resultType = oracle.typeNames(name)
        assert argumentType in oracle.spec.types
        assert (resultType is None) == (operation.result is None)


# --- ACSE ---------------------------------------------------------------------

#: The parts of ACSE-1 (ITU-T X.227) a CSTA link uses, for asn1tools. EXTERNAL
#: is spelt out as X.690 8.18 encodes it, because asn1tools' built-in one
#: tags single-ASN1-type implicitly.
ACSE = r"""
ACSE-1 DEFINITIONS ::= BEGIN
ACSEapdu ::= CHOICE { aarq AARQ-apdu, aare AARE-apdu, rlrq RLRQ-apdu, rlre RLRE-apdu,
  abrt ABRT-apdu }
AARQ-apdu ::= [APPLICATION 0] IMPLICIT SEQUENCE {
  protocol-version [0] IMPLICIT BIT STRING { version1(0) } DEFAULT { version1 },
  application-context-name [1] OBJECT IDENTIFIER,
  sender-acse-requirements [10] IMPLICIT ACSE-requirements OPTIONAL,
  mechanism-name [11] IMPLICIT OBJECT IDENTIFIER OPTIONAL,
  calling-authentication-value [12] EXPLICIT Authentication-value OPTIONAL,
  implementation-information [29] IMPLICIT GraphicString OPTIONAL,
  user-information [30] IMPLICIT Association-information OPTIONAL }
AARE-apdu ::= [APPLICATION 1] IMPLICIT SEQUENCE {
  protocol-version [0] IMPLICIT BIT STRING { version1(0) } DEFAULT { version1 },
  application-context-name [1] OBJECT IDENTIFIER,
  result [2] INTEGER,
  result-source-diagnostic [3] CHOICE { acse-service-user [1] INTEGER,
    acse-service-provider [2] INTEGER },
  responding-authentication-value [10] EXPLICIT Authentication-value OPTIONAL,
  user-information [30] IMPLICIT Association-information OPTIONAL }
RLRQ-apdu ::= [APPLICATION 2] IMPLICIT SEQUENCE { reason [0] IMPLICIT INTEGER OPTIONAL,
  user-information [30] IMPLICIT Association-information OPTIONAL }
RLRE-apdu ::= [APPLICATION 3] IMPLICIT SEQUENCE { reason [0] IMPLICIT INTEGER OPTIONAL,
  user-information [30] IMPLICIT Association-information OPTIONAL }
ABRT-apdu ::= [APPLICATION 4] IMPLICIT SEQUENCE { abort-source [0] IMPLICIT INTEGER,
  abort-diagnostic [1] IMPLICIT INTEGER OPTIONAL,
  user-information [30] IMPLICIT Association-information OPTIONAL }
ACSE-requirements ::= BIT STRING { authentication(0), application-context-negotiation(1) }
Authentication-value ::= CHOICE { charstring [0] IMPLICIT GraphicString,
  bitstring [1] IMPLICIT BIT STRING }
Association-information ::= SEQUENCE OF External
External ::= [UNIVERSAL 8] IMPLICIT SEQUENCE { direct-reference OBJECT IDENTIFIER OPTIONAL,
  indirect-reference INTEGER OPTIONAL,
  encoding CHOICE { single-ASN1-type [0] EXPLICIT ANY, octet-aligned [1] IMPLICIT OCTET STRING,
    arbitrary [2] IMPLICIT BIT STRING } }
END
"""

ACSE_REQUIREMENTS = {"authentication": 0, "applicationContextNegotiation": 1}


@pytest.fixture(scope="session")
def acse():
    import asn1tools

    return asn1tools.compile_string(ACSE, "ber")


def _userInformation(oracle, message):
    externals = []
    if message.cstaVersions:
        information = (
            "newDefinition",
            {"cSTAVersion": _bitString(message.cstaVersions, oracle.bits["CSTAVersion"])},
        )
        externals.append(
            {
                "encoding": (
                    "single-ASN1-type",
                    oracle.spec.encode("ACSEUserInformationForCSTA", information),
                )
            }
        )
    externals.extend({"encoding": ("octet-aligned", item)} for item in message.privateData)
    return externals


def acseValue(oracle, message):
    """
    The asn1tools value of an ACSE message, from X.227.
    """
    version = (b"\x80", 1)
    if isinstance(message, (m.AssociationRequest, m.AssociationResponse)):
        value = {
            "protocol-version": version,
            "application-context-name": message.applicationContextName,
        }
        information = _userInformation(oracle, message)
        if information:
            value["user-information"] = information
    if isinstance(message, m.AssociationRequest):
        if message.senderACSERequirements is not None:
            value["sender-acse-requirements"] = _bitString(
                message.senderACSERequirements, ACSE_REQUIREMENTS
            )
        if message.mechanismName is not None:
            value["mechanism-name"] = message.mechanismName
        if message.callingAuthenticationValue is not None:
            value["calling-authentication-value"] = (
                "charstring",
                message.callingAuthenticationValue,
            )
        return "aarq", value
    if isinstance(message, m.AssociationResponse):
        source = (
            "acse-service-provider"
            if isinstance(message.diagnostic, m.ACSEServiceProviderDiagnostic)
            else "acse-service-user"
        )
        value["result"] = int(message.result)
        value["result-source-diagnostic"] = (source, int(message.diagnostic))
        if message.respondingAuthenticationValue is not None:
            value["responding-authentication-value"] = (
                "charstring",
                message.respondingAuthenticationValue,
            )
        return "aare", value
    if isinstance(message, m.Abort):
        value = {"abort-source": int(message.source)}
        if message.diagnostic is not None:
            value["abort-diagnostic"] = int(message.diagnostic)
        return "abrt", value
    kind = "rlrq" if isinstance(message, m.ReleaseRequest) else "rlre"
    return kind, {} if message.reason is None else {"reason": int(message.reason)}


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(acseMessages)
def test_acse(oracle, acse, message):
    """
    X.227: every ACSE APDU oso encodes (with the CSTA user information of
    ECMA-285 and private data) decodes in asn1tools to the message's value,
    and every one asn1tools encodes decodes in oso to the message.
    """
    expected = acseValue(oracle, message)
    decoded = acse.decode("ACSEapdu", ber.encode(message))
    assert _json(oracle, decoded) == _json(oracle, expected)
    assert ber.decode(acse.encode("ACSEapdu", expected)) == message


# --- What the link sends --------------------------------------------------------


def oracleReads(oracle, acse, frame):
    """
    Check that the oracle reads C{frame} (bytes a link sent) as the
    values of the message oso reads from it.

    @return: that message.
    """
    message = ber.decode(frame)
    if isinstance(message, (m.Invoke, m.ReturnResult, m.ReturnError, m.Reject)):
        decoded = oracle.module.decode_rose(oracle.spec, frame, oracle.table)
        assert "innerDecodeError" not in decoded, decoded
    if isinstance(message, m.Invoke):
        typeName, expected = argumentValue(oracle, message.argument)
        assert decoded["pdu"]["invokeId"] == ["present", message.invokeID]
        assert (decoded["operation"], decoded["argumentType"]) == (message.operation, typeName)
        assert decoded["argumentDecoded"] == _json(oracle, expected)
    elif isinstance(message, m.ReturnResult):
        assert decoded["pdu"]["invokeId"] == ["present", message.invokeID]
        if message.result is None:
            assert "result" not in decoded["pdu"]
        else:
            typeName, expected = resultValue(oracle, message.result)
            assert (decoded["operation"], decoded["resultType"]) == (message.operation, typeName)
            assert decoded["resultDecoded"] == _json(oracle, expected)
    elif isinstance(message, m.ReturnError):
        assert decoded["pdu"]["invokeId"] == ["present", message.invokeID]
        assert decoded["error"] == "universalFailure"
        assert decoded["parameterDecoded"] == _json(oracle, failureValue(message.failure))
    elif isinstance(message, m.Reject):
        assert decoded["pdu"] == _json(oracle, rejectValue(message))
    else:
        assert _json(oracle, acse.decode("ACSEapdu", frame)) == _json(oracle, acseValue(oracle, message))
    return message


def sentFrames(peer, send):
    """
    The frames a link sends in answer to C{send(peer)}, then to its timers.
    """
    send(peer)
    sent = b"".join(peer.sent)
    del peer.sent[:]
    peer.clock.advance(0)
    return BERFramer().feed(sent + b"".join(peer.sent))


def test_linkOutput(oracle, acse):
    """
    Every kind of APDU a link sends, taken from its own output bytes, reads
    in the oracle as the values oso reads: the AARE accepting (with the
    CSTA versions) and the three AARE rejects (context, authentication,
    link limit with its reason as private data), SystemStatus, the system
    services' results, SwitchingFunctionDevices, the returnErrors of a
    refused and of an unsupported service, the reject of an unknown
    operation, RLRE and ABRT.
    """
    ber_ = lambda message: lambda peer: peer.ber(message)
    session = [
        ber_(m.AssociationRequest(applicationContextName=PHASE3, cstaVersions=frozenset({"versionFive"}))),
        ber_(m.Invoke(invokeID=2, operation="systemStatus", argument=m.SystemStatus(systemStatus=m.SystemStatusValue.normal))),
        ber_(m.Invoke(invokeID=3, operation="requestSysStat", argument=m.RequestSystemStatus())),
        ber_(m.Invoke(invokeID=4, operation="getSwitchingFunctionCapabilities", argument=m.GetSwitchingFunctionCapabilities())),
        ber_(m.Invoke(invokeID=5, operation="getSwitchingFunctionDevices", argument=m.GetSwitchingFunctionDevices())),
        ber_(m.Invoke(invokeID=6, operation="makeCall", argument=m.MakeCall(callingDevice="100", calledDirectoryNumber="101"))),
        ber_(m.Invoke(invokeID=7, operation="systemRegister", argument=m.SystemRegister(requestTypes=frozenset({"systemStatus"})))),
        ber_(m.Invoke(invokeID=8, operation="systemRegisterCancel", argument=m.SystemRegisterCancel(sysStatRegisterID="none"))),
        lambda peer: peer.raw(bytes.fromhex("a109020109020203e70500")),  # opcode 999
        ber_(m.ReleaseRequest(reason=m.ReleaseRequestReason.normal)),
    ]
    peer = Peer()
    sent = [oracleReads(oracle, acse, frame) for send in session for frame in sentFrames(peer, send)]
    assert [type(message).__name__ for message in sent] == [
        "AssociationResponse", "Invoke", "ReturnResult", "ReturnResult", "ReturnResult",
        "ReturnResult", "Invoke", "ReturnError", "ReturnResult", "ReturnError", "Reject", "ReleaseResponse",
    ]
    assert sent[0].cstaVersions == frozenset({"versionFive"})
    assert sent[6].argument.deviceList, "SwitchingFunctionDevices lists the call model's devices"

    refusals = [
        (Peer(), m.AssociationRequest(applicationContextName="1.2.3.4")),
        (Peer(authenticate=lambda user, password: False), m.AssociationRequest(applicationContextName=PHASE3, privateData=(b"user=100,passwd=x",))),
        (Peer(refusal="CSTA link limit of 1 reached"), m.AssociationRequest(applicationContextName=PHASE3)),
        (Peer(), m.Invoke(invokeID=1, operation="requestSysStat", argument=m.RequestSystemStatus())),
    ]
    answers = [
        oracleReads(oracle, acse, frame)
        for peer, message in refusals
        for frame in sentFrames(peer, ber_(message))
    ]
    assert [type(answer).__name__ for answer in answers] == ["AssociationResponse"] * 3 + ["Abort"]
    assert answers[2].privateData == (b"CSTA link limit of 1 reached",)

