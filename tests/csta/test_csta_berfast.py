"""
Tests for L{oso.csta.berfast} and the identifiers of
L{oso.csta.asn1.octets}: the hand-written readers and writers give exactly
what pyasn1's codec gives, on the same messages and octets (of the
usual shape, of other shapes, and damaged); and what they write decodes in
the asn1tools oracle to the message's ECMA-285 value, and what the oracle
writes they read back.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from test_csta_messages import connectionIDs, devices, invokeIDs, messagesOf
from test_csta_oracle import SETTINGS, argumentValue, oracle, resultValue  # noqa: F401 (a fixture)

from oso.callmodel.ids import ConnectionID
from oso.csta import ber, berfast
from oso.csta import messages as m
from oso.csta.asn1 import common, convert, octets
from oso.csta.asn1.tables import ARGUMENTS, RESULTS
from oso.csta.operations import BY_RESULT, operationFor

CONNECTION_ARGUMENTS = {
    m.AnswerCall: "callToBeAnswered",
    m.ClearConnection: "connectionToBeCleared",
    m.ClearCall: "callToBeCleared",
    m.HoldCall: "callToBeHeld",
    m.RetrieveCall: "callToBeRetrieved",
}
COMMON_RESULTS = [m.ClearConnectionResponse, m.AnswerCallResponse, m.HoldCallResponse, m.SystemStatusResponse]

#: Arguments in the shape the fast path knows.
plainArguments = st.one_of(
    st.builds(m.MakeCall, callingDevice=devices, calledDirectoryNumber=devices,
              autoOriginate=st.sampled_from(list(m.AutoOriginate))),
    *(st.builds(cls, **{name: connectionIDs}) for cls, name in CONNECTION_ARGUMENTS.items()),
)
#: Any argument of those types, most with optional components set.
anyArguments = st.one_of(*(messagesOf(cls) for cls in [m.MakeCall, *CONNECTION_ARGUMENTS]))
plainResults = st.one_of(
    st.builds(m.MakeCallResponse, callingDevice=connectionIDs),
    *(st.builds(cls) for cls in COMMON_RESULTS),
)
anyResults = st.one_of(*(messagesOf(cls) for cls in [m.MakeCallResponse, *COMMON_RESULTS]))


def pyasn1Encode(table, message):
    return encoder.encode(table[type(message)].encode(message))


def pyasn1Decode(table, messageType, data):
    """
    @return: the message pyasn1 reads, or L{None} where it refuses.
    """
    codec = table[messageType]
    try:
        value, rest = decoder.decode(data, asn1Spec=codec.schema)
        return None if rest else codec.decode(value)
    except Exception:
        return None


def test_usualForms():
    """
    The octets of a MakeCall and its result, as captured from a client and
    from oso, read and written by hand.
    """
    makeCall = bytes.fromhex("3011 3005 8003 313030 3005 8003 313031 830101")
    message = m.MakeCall(callingDevice="100", calledDirectoryNumber="101",
                         autoOriginate=m.AutoOriginate.doNotPrompt)
    assert berfast.readArgument(m.MakeCall, makeCall) == message
    assert berfast.writeArgument(message) == makeCall
    result = bytes.fromhex("3011 6b0f 300d 8002 3137 a107 3005 8003 313030")
    response = m.MakeCallResponse(callingDevice=ConnectionID("17", "100"))
    assert berfast.readResult(m.MakeCallResponse, result) == response
    assert berfast.writeResult(response) == result
    assert berfast.readResult(m.ClearConnectionResponse, b"\x05\x00") == m.ClearConnectionResponse()


@pytest.mark.parametrize(
    "octets",
    [
        # deviceNumber [1] INTEGER instead of dialingNumber.
        "3010 3004 8102 0064 3005 8003 313031 830101",
        # A long-form length, which BER allows.
        "30 8112 3005 8003 313030 3005 8003 313031 830101",
        # A constructed IA5String.
        "3013 3007 a005 0403 313030 3005 8003 313031 830101",
        # A non-ASCII octet in an IA5String.
        "3011 3005 8003 3130ff 3005 8003 313031 830101",
        # An autoOriginate value outside the enumeration.
        "3011 3005 8003 313030 3005 8003 313031 830102",
        # The correlator data after the DEFAULT.
        "3015 3005 8003 313030 3005 8003 313031 830101 8202 abcd",
    ],
)
def test_otherForms(octets):
    """
    MakeCall arguments in forms the fast path does not know are left to
    pyasn1 (L{None}) or read as pyasn1 reads them; L{ber.decode} gives
    pyasn1's answer either way.
    """
    data = bytes.fromhex(octets)
    fast = berfast.readArgument(m.MakeCall, data)
    assert fast is None or fast == pyasn1Decode(ARGUMENTS, m.MakeCall, data)
    invoke = bytes([0xA1, 6 + len(data)]) + bytes.fromhex("020105 02010a") + data
    expected = pyasn1Decode(ARGUMENTS, m.MakeCall, data)
    if expected is None:
        with pytest.raises(ber.CSTACodecError):
            ber.decode(invoke)
    else:
        assert ber.decode(invoke).argument == expected


@settings(max_examples=300)
@given(st.one_of(plainArguments, anyArguments))
def test_argumentsAsPyasn1(message):
    """
    An argument the fast path writes, it writes as pyasn1 does; and it reads
    pyasn1's octets back to the message (the optional components it does
    not know leave it to pyasn1).
    """
    octets = pyasn1Encode(ARGUMENTS, message)
    written = berfast.writeArgument(message)
    assert written is None or written == octets
    read = berfast.readArgument(type(message), octets)
    assert read is None or read == message
    if message == type(message)(**{
        name: getattr(message, name)
        for name in ("callingDevice", "calledDirectoryNumber", "autoOriginate", *CONNECTION_ARGUMENTS.values())
        if hasattr(message, name)
    }):
        # The usual shape: the fast path took it both ways.
        assert written == octets and read == message


@settings(max_examples=300)
@given(st.one_of(plainResults, anyResults))
def test_resultsAsPyasn1(message):
    """
    The same for results.
    """
    octets = pyasn1Encode(RESULTS, message)
    written = berfast.writeResult(message)
    assert written is None or written == octets
    read = berfast.readResult(type(message), octets)
    assert read is None or read == message
    if not message.privateData:
        assert written == octets and read == message


@settings(max_examples=500)
@given(plainArguments, st.data())
def test_damagedArguments(message, data):
    """
    Octets of an argument with one octet changed, cut short or extended:
    what the fast path reads, pyasn1 reads the same; what pyasn1 refuses,
    the fast path leaves to it.
    """
    octets = bytearray(berfast.writeArgument(message))
    kind = data.draw(st.sampled_from(["change", "cut", "extend"]))
    if kind == "change":
        octets[data.draw(st.integers(0, len(octets) - 1))] = data.draw(st.integers(0, 255))
    elif kind == "cut":
        del octets[data.draw(st.integers(1, len(octets) - 1)):]
    else:
        octets += data.draw(st.binary(min_size=1, max_size=4))
    octets = bytes(octets)
    fast = berfast.readArgument(type(message), octets)
    if fast is not None:
        assert fast == pyasn1Decode(ARGUMENTS, type(message), octets)


@SETTINGS
@given(invokeIDs, plainArguments)
def test_argumentsInOracle(oracle, invokeID, argument):  # noqa: F811
    """
    Invokes written by the fast path decode in the oracle to the argument's
    ECMA-285 value; the oracle's own encoding reads back by the fast path.
    """
    operation = operationFor(argument)
    invoke = m.Invoke(invokeID=invokeID, operation=operation.name, argument=argument)
    typeName, expected = argumentValue(oracle, argument)
    decoded = oracle.module.decode_rose(oracle.spec, ber.encode(invoke), oracle.table)
    assert "innerDecodeError" not in decoded
    assert decoded["argumentDecoded"] == oracle.module.to_json(expected)
    octets = oracle.spec.encode(typeName, expected)
    assert berfast.readArgument(type(argument), octets) == argument


@SETTINGS
@given(invokeIDs, plainResults)
def test_resultsInOracle(oracle, invokeID, result):  # noqa: F811
    """
    The same for results.
    """
    operation = BY_RESULT[type(result)]
    message = m.ReturnResult(invokeID=invokeID, operation=operation.name, result=result)
    typeName, expected = resultValue(oracle, result)
    decoded = oracle.module.decode_rose(oracle.spec, ber.encode(message), oracle.table)
    assert "innerDecodeError" not in decoded
    assert decoded["resultDecoded"] == oracle.module.to_json(expected)
    octets = oracle.spec.encode(typeName, expected)
    assert berfast.readResult(type(result), octets) == result


def test_notASCII():
    """
    A device id pyasn1 cannot write as an IA5String the fast path cannot
    either: L{ber.encode} refuses it.
    """
    with pytest.raises(ber.CSTACodecError):
        ber.encode(m.Invoke(invokeID=1, operation="makeCall",
                            argument=m.MakeCall(callingDevice="1\xe90", calledDirectoryNumber="101")))


DEVICE_CHOICES = [
    common.CallingDeviceID, common.CalledDeviceID, common.SubjectDeviceID, common.RedirectionDeviceID,
    common.AssociatedCallingDeviceID, common.AssociatedCalledDeviceID,
    common.NetworkCallingDeviceID, common.NetworkCalledDeviceID,
]


@settings(max_examples=200)
@given(devices, connectionIDs, st.sampled_from(DEVICE_CHOICES), st.sampled_from(list(m.DeviceIDStatus)))
def test_identifiersAsPyasn1(number, connection, choice, status):
    """
    The device and connection ids written by hand (L{oso.csta.asn1.octets},
    and the conversions that use them) are the octets pyasn1 writes.
    """
    assert octets.deviceID(number) == encoder.encode(convert._deviceID(common.DeviceID()).encode(number))
    assert octets.connectionID(connection) == encoder.encode(
        convert._connectionID(common.ConnectionID()).encode(connection)
    )
    schema = choice()
    byHand = convert.converterFor(str | m.DeviceIDStatus, schema)
    plain = convert._deviceOrStatus(schema)
    for x in (number, status):
        try:
            expected = encoder.encode(plain.encode(x))
        except KeyError:
            continue  # a status this choice has not
        assert encoder.encode(byHand.encode(x)) == expected
