"""
Tests for L{oso.csta.ber}: the ECMA-285 BER codec of ROSE and ACSE APDUs.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_csta_messages import (
    ARGUMENT_TYPES,
    EVENT_TYPES,
    FAILURES,
    RESULT_TYPES,
    acseMessages,
    apdus,
    invokesOf,
    returnErrors,
    rejects,
    returnResultsOf,
)

from oso.callmodel.causes import EventCause
from oso.callmodel.ids import ConnectionID
from oso.callmodel.states import LocalConnectionState
from oso.csta import ber
from oso.csta.asn1 import tables
from oso.csta import messages as m
from oso.csta.errors import CSTACodecError
from oso.csta.operations import BY_CODE

P = m.RejectProblem


def tlv(tag, *contents):
    """
    A BER encoding with tag octet C{tag} and the concatenated contents
    (short-form length).
    """
    body = b"".join(contents)
    assert len(body) < 128
    return bytes([tag, len(body)]) + body


def roundTrip(message):
    data = ber.encode(message)
    assert isinstance(data, bytes)
    return ber.decode(data)


@pytest.mark.parametrize("cls", ARGUMENT_TYPES + EVENT_TYPES, ids=lambda c: c.__name__)
def test_invokeRoundTrip(cls):
    """
    X.880 invoke: every argument and event message decodes to itself.
    """

    @settings(max_examples=10, suppress_health_check=[HealthCheck.too_slow])
    @given(invokesOf(cls))
    def check(invoke):
        assert roundTrip(invoke) == invoke

    check()


@pytest.mark.parametrize("cls", RESULT_TYPES, ids=lambda c: c.__name__)
def test_returnResultRoundTrip(cls):
    """
    X.880 returnResult: every result message decodes to itself.
    """

    @settings(max_examples=10, suppress_health_check=[HealthCheck.too_slow])
    @given(returnResultsOf(cls))
    def check(returnResult):
        assert roundTrip(returnResult) == returnResult

    check()


@settings(max_examples=100)
@given(st.one_of(returnErrors, rejects, acseMessages))
def test_envelopeRoundTrip(message):
    """
    ROSE returnError (every universal failure category) and reject, and the
    ACSE APDUs, decode to themselves.
    """
    assert roundTrip(message) == message


def test_failuresCoverEveryCategory():
    """
    The failures the round trips use reach every ECMA-285 category.
    """
    assert {f.category for f in FAILURES} == set(
        "operation security stateIncompatibility systemResourceAvailability "
        "subscribedResourceAvailability performanceManagement privateData "
        "unspecified".split()
    )


def test_returnResultWithoutResult():
    """
    X.880: a returnResult may carry no result at all.
    """
    assert ber.encode(m.ReturnResult(invokeID=5)) == bytes.fromhex("a203020105")
    assert ber.decode(bytes.fromhex("a203020105")) == m.ReturnResult(invokeID=5)


# --- Wire forms pinned --------------------------------------------------------


def test_systemStatusBytes():
    """
    ECMA-285 systemStatus (local code 211) with SystemStatusArg
    {systemStatus normal}: invoke [1] { invokeId 1, opcode 211, SEQUENCE {
    ENUMERATED 2 } }.
    """
    message = m.Invoke(
        invokeID=1,
        operation="systemStatus",
        argument=m.SystemStatus(systemStatus=m.SystemStatusValue.normal),
    )
    wire = bytes.fromhex("a10c020101020200d330030a0102")
    assert ber.encode(message) == wire
    assert ber.decode(wire) == message


def test_makeCallBytes():
    """
    ECMA-285 makeCall (local code 10): both devices are DeviceIDs with a
    [0] IMPLICIT dialingNumber; the result's ConnectionID is [APPLICATION 11]
    with callID [0] and deviceID [1] { staticID }.
    """
    invoke = m.Invoke(
        invokeID=7,
        operation="makeCall",
        argument=m.MakeCall(callingDevice="201", calledDirectoryNumber="202"),
    )
    assert ber.encode(invoke) == bytes.fromhex(
        "a11602010702010a300e3005800332303130058003323032"
    )
    result = m.ReturnResult(
        invokeID=7,
        operation="makeCall",
        result=m.MakeCallResponse(callingDevice=ConnectionID("01", "201")),
    )
    assert ber.encode(result) == bytes.fromhex(
        "a21b020107301602010a30116b0f300d80023031a10730058003323031"
    )


def test_deliveredEventBytes():
    """
    ECMA-285 cSTAEventReport (local code 21): the monitor cross reference is
    [APPLICATION 21]; the event sits in callControlEvents [0] as delivered
    [4] IMPLICIT; the devices carry their [APPLICATION n] tags, the state
    [APPLICATION 14], the cause a universal ENUMERATED.
    """
    event = m.DeliveredEvent(
        monitorCrossRefID="1",
        connection=ConnectionID("c1", "202"),
        alertingDevice="202",
        callingDevice="201",
        calledDevice="202",
        lastRedirectionDevice=m.DeviceIDStatus.notRequired,
        localConnectionInfo=LocalConnectionState.alerting,
        cause=EventCause.newCall,
    )
    wire = bytes.fromhex(
        "a1460202270f020115303d550131a038a4366b0f300d80026331a107300580033230"
        "32630730058003323032610730058003323031620730058003323032640288004e01"
        "020a0116"
    )
    invoke = m.Invoke(invokeID=9999, operation="cSTAEventReport", argument=event)
    assert ber.encode(invoke) == wire
    assert ber.decode(wire) == invoke


def test_universalFailureBytes():
    """
    ECMA-285 universalFailure (error code local 1): operation [0] EXPLICIT
    ENUMERATED invalidDeviceID (12).
    """
    message = m.ReturnError(invokeID=3, failure=m.UniversalFailure("operation", "invalidDeviceID"))
    assert ber.encode(message) == bytes.fromhex("a30b020103020101a0030a010c")


def test_rejectBytes():
    """
    X.880 reject with the invoke id absent (NULL) and general problem
    mistypedPDU ([0] IMPLICIT INTEGER 1).
    """
    message = m.Reject(invokeID=None, problem=P.generalMistypedPDU)
    assert ber.encode(message) == bytes.fromhex("a4050500800101")


def test_associationBytes():
    """
    X.227: an AARQ for CSTA Phase III (1.3.12.0.285.200) with a password
    ([12] { charstring [0] }) and the CSTA user information (an EXTERNAL,
    single-ASN1-type [0], holding newDefinition [0] with the CSTA versions);
    the accepting AARE has result [2] { 0 } and result-source-diagnostic [3]
    { acse-service-user [1] { null } }.
    """
    request = m.AssociationRequest(
        applicationContextName="1.3.12.0.285.200",
        callingAuthenticationValue="pw",
        cstaVersions=frozenset({"versionFive"}),
    )
    assert ber.encode(request) == bytes.fromhex(
        "601da10906072b0c00821d8148ac0480027077be0a2808a006a00403020308"
    )
    response = m.AssociationResponse(applicationContextName="1.3.12.0.285.200")
    assert ber.encode(response) == bytes.fromhex(
        "6117a10906072b0c00821d8148a203020100a305a103020100"
    )


# --- Refusals -----------------------------------------------------------------

def refusal(data):
    with pytest.raises(CSTACodecError) as caught:
        ber.decode(data)
    return caught.value


def test_unknownOperation():
    """
    X.880 invoke problem unrecognizedOperation, with the invoke id, for an
    operation code oso does not know.
    """
    error = refusal(bytes.fromhex("a10902012a0202270f0500"))
    assert (error.invokeID, error.problem) == (42, P.invokeUnrecognizedOperation)


def test_mistypedArgument():
    """
    X.880 invoke problem mistypedArgument, with the invoke id, for a
    makeCall whose argument is not a MakeCallArgument.
    """
    error = refusal(bytes.fromhex("a10902010502010a020101"))
    assert (error.invokeID, error.problem) == (5, P.invokeMistypedArgument)


def test_missingArgument():
    """
    An invoke of makeCall without argument is a mistyped argument.
    """
    error = refusal(bytes.fromhex("a10602010502010a"))
    assert (error.invokeID, error.problem) == (5, P.invokeMistypedArgument)


def test_unknownResult():
    """
    A returnResult for an operation code oso does not know is a mistyped
    result.
    """
    error = refusal(bytes.fromhex("a20b0201063006020227100500"))
    assert (error.invokeID, error.problem) == (6, P.returnResultMistypedResult)


def test_unknownErrorCode():
    """
    X.880 returnError problem unrecognizedError for an error code other than
    universalFailure (local 1).
    """
    error = refusal(bytes.fromhex("a306020103020102"))
    assert (error.invokeID, error.problem) == (3, P.returnErrorUnrecognizedError)


def test_unknownFailureValue():
    """
    A universal failure value ECMA-285 does not define is a mistyped
    parameter.
    """
    error = refusal(bytes.fromhex("a30b020103020101a0030a0100"))
    assert (error.invokeID, error.problem) == (3, P.returnErrorMistypedParameter)


def test_unknownEnumeration():
    """
    An event cause ECMA-285 defines but the call model does not
    (voiceUnitInitiator, 34) makes the event argument mistyped.
    """
    wire = bytearray(
        bytes.fromhex(
            "a1460202270f020115303d550131a038a4366b0f300d80026331a107300580033230"
            "32630730058003323032610730058003323031620730058003323032640288004e01"
            "020a0116"
        )
    )
    wire[-1] = 34
    error = refusal(bytes(wire))
    assert (error.invokeID, error.problem) == (9999, P.invokeMistypedArgument)


@pytest.mark.parametrize(
    "hexdata, why",
    [
        ("", "no octets"),
        ("30030a0102", "a bare SEQUENCE is no APDU"),
        ("a116020107", "truncated"),
        ("a18002010702010a300e30058003323031300580033230320000", "indefinite length"),
        ("a18500000000160201", "five length octets"),
        ("a1ff", "reserved length octet"),
        ("a11602010702010a300e300580033230313005800332303200", "octets after the APDU"),
        ("a11f81808080800102", "tag of five octets"),
        ("a103a00200", "nested length beyond its parent"),
        ("a10a02010702010aa003020101", "argument that is not a SEQUENCE"),
    ],
)
def test_malformed(hexdata, why):
    """
    X.690 8.1: malformed BER (truncation, indefinite or absurd lengths,
    trailing octets, overlong tags, inconsistent nesting) is refused with
    the codec's error and nothing else.
    """
    refusal(bytes.fromhex(hexdata))


def test_indefiniteLengthRefused():
    """
    Indefinite lengths are refused, as a badly structured ROSE PDU.
    """
    error = refusal(bytes.fromhex("a18002010702010a30800000" "0000"))
    assert error.problem == P.generalBadlyStructuredPDU
    assert error.invokeID is None


def test_tooDeep():
    """
    Encodings nested deeper than MAX_DEPTH levels (the APDU being the
    first) are refused before pyasn1 sees them.
    """

    def nested(levels):
        data = b"\x05\x00"
        for _ in range(levels - 1):
            data = tlv(0xA1, data)
        return data

    assert "too deep" in str(refusal(nested(ber.MAX_DEPTH + 1)))
    assert "too deep" not in str(refusal(nested(ber.MAX_DEPTH)))


def test_unrecognizedPDU():
    """
    A first octet that starts neither a ROSE nor an ACSE APDU is an
    unrecognized PDU.
    """
    assert refusal(bytes.fromhex("30030a0102")).problem == P.generalUnrecognizedPDU


@settings(max_examples=300)
@given(st.binary(max_size=64))
def test_arbitraryBytes(data):
    """
    Arbitrary bytes decode or raise CSTACodecError, nothing else.
    """
    try:
        ber.decode(data)
    except CSTACodecError:
        pass


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(apdus, st.data())
def test_mutatedAPDUs(message, data):
    """
    A valid APDU with an octet changed, removed or inserted decodes or
    raises CSTACodecError, nothing else.
    """
    wire = bytearray(ber.encode(message))
    position = data.draw(st.integers(0, len(wire) - 1))
    action = data.draw(st.sampled_from(["change", "remove", "insert", "cut"]))
    octet = data.draw(st.integers(0, 255))
    if action == "change":
        wire[position] = octet
    elif action == "remove":
        del wire[position]
    elif action == "insert":
        wire.insert(position, octet)
    else:
        del wire[position:]
    try:
        ber.decode(bytes(wire))
    except CSTACodecError:
        pass


# --- Encoding refusals --------------------------------------------------------

MAKE_CALL = m.MakeCall(callingDevice="1", calledDirectoryNumber="2")
SYSTEM_STATUS = m.SystemStatus(systemStatus=m.SystemStatusValue.normal)


@pytest.mark.parametrize(
    "message",
    [
        m.Invoke(invokeID=1, operation="answerCall", argument=MAKE_CALL),
        m.Invoke(invokeID=1, operation="noSuchOperation", argument=SYSTEM_STATUS),
        m.ReturnResult(invokeID=1, operation="makeCall", result=m.AnswerCallResponse()),
        m.Invoke(
            invokeID=1,
            operation="cSTAEventReport",
            argument=m.BackInServiceEvent(
                monitorCrossRefID="1", device=m.DeviceIDStatus.notRequired
            ),
        ),
        m.Invoke(
            invokeID=1,
            operation="makeCall",
            argument=m.MakeCall(callingDevice="2\u20ac", calledDirectoryNumber="1"),
        ),
        m.ReturnError(invokeID=1, failure=m.UniversalFailure("operation", "noSuchFailure")),
        m.AssociationRequest(applicationContextName="not an oid"),
        m.SystemStatus(systemStatus=m.SystemStatusValue.normal),
    ],
    ids=[
        "wrong argument",
        "unknown operation",
        "wrong result",
        "status the choice lacks",
        "non-IA5 device",
        "unknown failure",
        "bad object identifier",
        "not an APDU",
    ],
)
def test_encodeRefusals(message):
    """
    A message that ECMA-285 cannot carry raises CSTACodecError on encoding.
    """
    with pytest.raises(CSTACodecError):
        ber.encode(message)


# --- Reading past what oso does not interpret ---------------------------------


def test_connectionIDForms():
    """
    ECMA-285 ConnectionID: a call id alone, a device alone (static or
    dynamic), or both; a dynamic device id reads as its octets.
    """
    def result(connection):
        return m.ReturnResult(
            invokeID=1, operation="makeCall", result=m.MakeCallResponse(callingDevice=connection)
        )

    for connection in (
        ConnectionID("c\xe9", None),
        ConnectionID(None, "201"),
        ConnectionID("1", "2"),
    ):
        assert roundTrip(result(connection)) == result(connection)
    # MakeCallResult { ConnectionID { deviceID [1] { dynamicID [3] "d7" } } }
    connection = tlv(0x6B, tlv(0xA1, tlv(0x83, b"d7")))
    wire = tlv(0xA2, tlv(0x02, b"\x01"), tlv(0x30, tlv(0x02, b"\x0a"), tlv(0x30, connection)))
    assert ber.decode(wire).result.callingDevice == ConnectionID(None, "d7")


def test_deviceIDForms():
    """
    ECMA-285 DeviceID: every form of deviceIdentifier reads as its digits
    (implicit/explicit public and private numbers, device number, other).
    """
    forms = {
        "8003323031": "201",  # dialingNumber
        "8101" + "2a": "42",  # deviceNumber
        "8203323031": "201",  # implicitPublic
        "a305" + "8103323031": "201",  # explicitPublic international
        "8403323031": "201",  # implicitPrivate
        "a505" + "8503323031": "201",  # explicitPrivate localNumber
        "8603323031": "201",  # other
    }
    for identifier, number in forms.items():
        device = tlv(0x30, bytes.fromhex(identifier))
        apdu = tlv(0xA1, bytes.fromhex("02010102010a"), tlv(0x30, device, device))
        makeCall = ber.decode(apdu).argument
        assert (makeCall.callingDevice, makeCall.calledDirectoryNumber) == (number, number)


def test_privateUserInformation():
    """
    OpenScape-style private data in the AARQ user information (an EXTERNAL
    besides the CSTA one, octet-aligned or a single string) reads as its
    octets; the CSTA versions come from the CSTA user information.
    """
    request = m.AssociationRequest(
        applicationContextName="1.3.12.0.180.1",
        cstaVersions=frozenset({"versionFive", "versionNineteen"}),
        privateData=(b"user=op,passwd=secret",),
    )
    assert roundTrip(request) == request
    # The same credentials as single-ASN1-type [0] { OCTET STRING }.
    text = b"user=op,passwd=secret"
    external = tlv(0x28, tlv(0xA0, tlv(0x04, text)))
    context = tlv(0xA1, tlv(0x06, bytes.fromhex("2b0c00813401")))
    decoded = ber.decode(tlv(0x60, context, tlv(0xBE, external)))
    assert decoded.applicationContextName == "1.3.12.0.180.1"
    assert decoded.privateData == (text,)


# --- The hand-written ROSE envelope -------------------------------------------

ROSE_MESSAGES = (m.Invoke, m.ReturnResult, m.ReturnError, m.Reject)


def _pyasn1WritesLong(number):
    """
    Whether pyasn1 writes the INTEGER C{number} in more octets than X.690
    8.3.2 allows (it does for -128, -32768, ... -2**(8k-1)).
    """
    return number is not None and number < 0 and (-number).bit_length() % 8 == 0 and (
        -number & (-number - 1) == 0
    )


def _pyasn1Envelope(kind, invokeID, code, inner):
    """
    The same envelope written by pyasn1 with the X.880 specification.
    """
    from pyasn1.codec.ber import encoder

    from oso.csta.asn1 import rose

    apdu = rose.ROS()
    pdu = apdu.getComponentByName(kind)
    if invokeID is None:
        pdu.getComponentByPosition(0).setComponentByName("absent", b"")
    else:
        pdu.getComponentByPosition(0).setComponentByName("present", invokeID)
    if kind == "reject":
        pdu.getComponentByPosition(1).setComponentByPosition(code, inner)
    elif kind == "returnResult":
        if inner is not None:
            result = pdu.getComponentByPosition(1)
            result.getComponentByPosition(0).setComponentByName("local", code)
            result.setComponentByPosition(1, inner)
    else:
        codeName = "opcode" if kind == "invoke" else "errcode"
        pdu.getComponentByName(codeName).setComponentByName("local", code)
        if inner is not None:
            pdu.setComponentByName("argument" if kind == "invoke" else "parameter", inner)
    return encoder.encode(apdu)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(apdus.filter(lambda message: isinstance(message, ROSE_MESSAGES)))
def test_envelopeAsPyasn1(message):
    """
    X.880: the envelope oso writes by hand is the one pyasn1 writes from the
    ROSE specification, and the hand reader reads what pyasn1 reads.
    """
    wire = ber.encode(message)
    envelope = ber._slowEnvelope(wire)
    written = _pyasn1Envelope(*envelope)
    invokeID = envelope[1]
    if not _pyasn1WritesLong(invokeID):
        assert written == wire
    assert ber._slowEnvelope(written) == envelope
    assert ber._fastEnvelope(wire) in (None, envelope)


@pytest.mark.parametrize(
    "number, octets",
    [
        (0, "00"),
        (127, "7f"),
        (128, "0080"),
        (-1, "ff"),
        (-128, "80"),
        (-129, "ff7f"),
        (65535, "00ffff"),
    ],
)
def test_minimalIntegers(number, octets):
    """
    X.690 8.3.2: invoke ids are written in the fewest octets, so -128 is the
    single octet 0x80 (where pyasn1 writes 0xff80).
    """
    wire = ber.encode(m.ReturnResult(invokeID=number))
    size = len(octets) // 2
    assert wire == bytes([0xA2, 2 + size, 0x02, size]) + bytes.fromhex(octets)
    assert ber.decode(wire) == m.ReturnResult(invokeID=number)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(apdus.filter(lambda message: isinstance(message, ROSE_MESSAGES)), st.data())
def test_envelopeReadersAgree(message, data):
    """
    On a changed octet the hand reader either leaves the envelope to pyasn1
    or reads what pyasn1 reads.
    """
    wire = bytearray(ber.encode(message))
    wire[data.draw(st.integers(0, len(wire) - 1))] = data.draw(st.integers(0, 255))
    wire = bytes(wire)
    try:
        ber._checkStructure(wire)
    except CSTACodecError:
        return
    if wire[0] not in (0xA1, 0xA2, 0xA3, 0xA4):
        return
    fast = ber._fastEnvelope(wire)
    if fast is not None:
        assert ber._slowEnvelope(wire) == fast


# --- Memoized encodings -------------------------------------------------------


def _alerting(callID, monitor):
    return m.Invoke(
        invokeID=9999,
        operation="cSTAEventReport",
        argument=m.DeliveredEvent(
            monitorCrossRefID=monitor,
            connection=ConnectionID(callID, "202"),
            alertingDevice="202",
            callingDevice="201",
            calledDevice="202",
            lastRedirectionDevice=m.DeviceIDStatus.notRequired,
            cause=EventCause.newCall,
        ),
    )


def test_oneEventForManyMonitors():
    """
    The same event under two monitor cross references encodes to two
    reports that differ in the cross reference only, each decoding to its
    own event.
    """
    first, second = _alerting("c1", "1"), _alerting("c1", "22")
    wireFirst, wireSecond = ber.encode(first), ber.encode(second)
    assert ber.decode(wireFirst) == first
    assert ber.decode(wireSecond) == second
    # [APPLICATION 21] "1" / "22", then the same eventSpecificInfo.
    infoFirst = wireFirst[wireFirst.index(b"\x55\x011") + 3 :]
    infoSecond = wireSecond[wireSecond.index(b"\x55\x0222") + 4 :]
    assert infoFirst == infoSecond and infoFirst[0] == 0xA0


def test_eventMemoBounded():
    """
    The encodings kept for the next monitors stay within EVENT_MEMO_SIZE
    however many events pass, and an event that left the memo still
    encodes correctly.
    """
    for i in range(tables.EVENT_MEMO_SIZE + 50):
        ber.encode(_alerting(f"call{i}", "1"))
    assert len(tables.EVENTS._memo) <= tables.EVENT_MEMO_SIZE
    assert ber.decode(ber.encode(_alerting("call0", "5"))) == _alerting("call0", "5")


# --- Arbitrary arguments ------------------------------------------------------


def _length(size):
    if size < 128:
        return bytes([size])
    body = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _element(tag, content):
    return bytes([tag]) + _length(len(content)) + content


#: Well-formed BER trees of arbitrary tags and contents: what a client may
#: put where an argument or result belongs.
berTrees = st.recursive(
    st.builds(_element, st.sampled_from([0x01, 0x02, 0x04, 0x05, 0x06, 0x0A, 0x16, 0x18, 0x80, 0x81, 0x82, 0x83, 0x87, 0x8A]), st.binary(max_size=6)),
    lambda inner: st.builds(
        lambda tag, children: _element(tag, b"".join(children)),
        st.sampled_from([0x30, 0x31, 0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xAB, 0xAE]),
        st.lists(inner, max_size=4),
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(BY_CODE)), berTrees, st.sampled_from(["invoke", "returnResult"]))
def test_arbitraryArguments(code, tree, kind):
    """
    An invoke or returnResult of a known operation whose argument or result
    is any well-formed BER tree decodes or raises CSTACodecError, nothing
    else: the CSTA specifications, not the envelope, meet the odd values.
    """
    header = _element(0x02, b"\x05") + _element(0x02, code.to_bytes(2, "big", signed=True))
    if kind == "invoke":
        apdu = _element(0xA1, header + tree)
    else:
        apdu = _element(0xA2, _element(0x02, b"\x05") + _element(0x30, _element(0x02, code.to_bytes(2, "big", signed=True)) + tree))
    try:
        ber.decode(apdu)
    except CSTACodecError:
        pass
