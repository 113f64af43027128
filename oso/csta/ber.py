"""
The ECMA-285 BER codec: one complete ROSE or ACSE APDU <-> one message of
L{oso.csta.messages}.

L{decode} takes the bytes of one APDU (as a framer of L{oso.csta.framing}
delimits it) and returns an L{Invoke}, L{ReturnResult}, L{ReturnError},
L{Reject}, L{AssociationRequest}, L{AssociationResponse},
L{ReleaseRequest}, L{ReleaseResponse} or L{Abort}; L{encode} does the
reverse. Both raise only L{CSTACodecError}.

Decoding is strict about the outer form: every length must be definite
(X.690 8.1.3.6 allows indefinite lengths, but no CSTA peer sends them and
refusing them bounds the work), long-form lengths have at most four octets,
tags at most four, nesting at most L{MAX_DEPTH} levels, and the APDU must
fill the bytes exactly. Within that, the ROSE envelope is read first (by hand
in its usual shape, by pyasn1 otherwise), and then pyasn1's BER decoder reads
the argument, result or error parameter with the ASN.1 type its operation
code names, so that a bad argument can be refused with the invoke id it came
with. Arguments, results, parameters and ACSE APDUs are encoded with
pyasn1's BER encoder (definite lengths only), ROSE envelopes by hand.

pyasn1 is slow (tens of microseconds per TLV), so encoding reuses what it
can: the encodings of recent device and connection ids
(L{oso.csta.asn1.convert}) and of an event's C{eventSpecificInfo} for every
monitor it goes to (L{oso.csta.asn1.tables}).
"""

from pyasn1.codec.ber import decoder as _berDecoder
from pyasn1.codec.ber import encoder as _berEncoder

from oso.csta import berfast
from oso.csta import messages as m
from oso.csta.asn1 import acse, rose
from oso.csta.asn1.convert import converterFor
from oso.csta.asn1.octets import integer, tlv
from oso.csta.asn1.tables import ARGUMENTS, EVENTS, FAILURE, RESULTS
from oso.csta.errors import CSTACodecError
from oso.csta.operations import BY_CODE, BY_NAME, UNIVERSAL_FAILURE_CODE, operationFor

__all__ = ["decode", "encode", "CSTACodecError", "MAX_DEPTH"]

#: The deepest nesting of constructed encodings accepted.
MAX_DEPTH = 32

_encode = _berEncoder.encode


def _why(error):
    """
    A short account of an exception for a L{CSTACodecError} (pyasn1's
    messages print whole schemas).
    """
    text = str(error)
    if len(text) > 160:
        text = text[:160] + "..."
    return f"{type(error).__name__}: {text}"


_decode = _berDecoder.decode
P = m.RejectProblem
_EVENT_REPORT = BY_NAME["cSTAEventReport"]


# --- ROSE ---------------------------------------------------------------------
#
# The ROSE envelope around an argument, result or error parameter is a few
# fixed TLVs, yet pyasn1 spends about as long on it as on a whole MakeCall
# argument. So envelopes are written by hand, and read by hand when they have
# the usual shape (an INTEGER invoke id, no linked id, INTEGER codes, octets
# as BER allows them, checked by _checkStructure before); any other envelope
# (absent invoke id, linked id, global codes, reject) goes to pyasn1 with the
# X.880 specification. Both readers give the same Envelope.

_ROS = rose.ROS()

#: A read ROSE envelope: the APDU kind (invoke, returnResult, returnError,
#: reject), its invoke id (None when absent), its local operation or error
#: code (None when global or absent; for a reject, the problem kind 0-3), and
#: the inner octets (argument, result, parameter; for a reject, the problem
#: value), None when absent.
_KINDS = {0xA1: "invoke", 0xA2: "returnResult", 0xA3: "returnError", 0xA4: "reject"}


def _header(data, position):
    """
    The tag octet, contents start and contents end of the TLV at
    C{position} (lengths already checked by L{_checkStructure}), or L{None}
    for a multi-octet tag.
    """
    tag = data[position]
    if tag & 0x1F == 0x1F:
        return None
    length = data[position + 1]
    position += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[position : position + count], "big")
        position += count
    return tag, position, position + length


def _items(data, start, end):
    """
    The TLVs between C{start} and C{end}: (tag, TLV start, contents start,
    end) each, or L{None} if one has a multi-octet tag.
    """
    items = []
    while start < end:
        header = _header(data, start)
        if header is None:
            return None
        items.append((header[0], start, header[1], header[2]))
        start = header[2]
    return items


def _integerAt(data, item):
    tag, _, contents, end = item
    if tag != 0x02 or not 1 <= end - contents <= 8:
        return None
    return int.from_bytes(data[contents:end], "big", signed=True)


def _fastEnvelope(data):
    """
    Read an envelope of the usual shape by hand; L{None} for any other.
    """
    kind = _KINDS.get(data[0])
    outer = _header(data, 0)
    items = _items(data, outer[1], outer[2])
    if not items or kind == "reject":
        return None
    invokeID = _integerAt(data, items[0])
    if invokeID is None:
        return None
    if kind == "returnResult":
        if len(items) == 1:
            return kind, invokeID, None, None
        if len(items) != 2 or items[1][0] != 0x30:
            return None
        result = _items(data, items[1][2], items[1][3])
        if result is None or len(result) != 2:
            return None
        items = [items[0], *result]
    if len(items) not in (2, 3):
        return None
    code = _integerAt(data, items[1])
    if code is None or (len(items) == 3 and items[2][0] == 0x00):
        return None  # an end-of-contents octet is no value (X.690 8.1.5)
    inner = data[items[2][1] : items[2][3]] if len(items) == 3 else None
    return kind, invokeID, code, inner


def _slowEnvelope(data):
    """
    Read any X.880 envelope with pyasn1.
    """
    apdu, rest = _decode(data, asn1Spec=_ROS)
    if rest:
        raise ValueError("trailing octets")
    kind = apdu.getName()
    pdu = apdu.getComponent()
    invokeId = pdu.getComponentByPosition(0)
    invokeID = None if invokeId.getName() == "absent" else int(invokeId.getComponent())

    def local(code):
        return int(code.getComponent()) if code.getName() == "local" else None

    def octets(name):
        value = pdu.getComponentByName(name, default=None, instantiate=False)
        return None if value is None else bytes(value)

    if kind == "invoke":
        return kind, invokeID, local(pdu.getComponentByName("opcode")), octets("argument")
    if kind == "returnError":
        return kind, invokeID, local(pdu.getComponentByName("errcode")), octets("parameter")
    if kind == "reject":
        problem = pdu.getComponentByPosition(1)
        return (
            kind,
            invokeID,
            problem.componentType.getPositionByName(problem.getName()),
            int(problem.getComponent()),
        )
    result = pdu.getComponentByPosition(1, default=None, instantiate=False)
    if result is None:
        return kind, invokeID, None, None
    return kind, invokeID, local(result.getComponentByPosition(0)), bytes(result[1])


def _decodeInner(data, codec, invokeID, problem, what):
    """
    Decode an argument, result or error parameter with its codec.

    @raise CSTACodecError: carrying C{invokeID} and C{problem}.
    """
    try:
        value, rest = _decode(data, asn1Spec=codec.schema)
        if rest:
            raise ValueError("trailing octets")
        return codec.decode(value)
    except Exception as e:
        raise CSTACodecError(f"undecodable {what}: {_why(e)}", invokeID, problem) from None


def _decodeInvoke(invokeID, code, argument):
    operation = BY_CODE.get(code)
    if operation is None:
        raise CSTACodecError(
            f"unknown operation code {code}", invokeID, P.invokeUnrecognizedOperation
        )
    if argument is None:
        raise CSTACodecError(
            f"{operation.name} without argument", invokeID, P.invokeMistypedArgument
        )
    if operation is _EVENT_REPORT:
        message = _decodeInner(argument, EVENTS, invokeID, P.invokeMistypedArgument, operation.name)
    else:
        message = berfast.readArgument(operation.argument, argument) or _decodeInner(
            argument, ARGUMENTS[operation.argument], invokeID, P.invokeMistypedArgument, operation.name
        )
    return m.Invoke(invokeID=invokeID, operation=operation.name, argument=message)


def _decodeReturnResult(invokeID, code, result):
    if result is None:
        return m.ReturnResult(invokeID=invokeID)
    operation = BY_CODE.get(code)
    if operation is None or operation.result is None:
        raise CSTACodecError(
            f"result of unknown operation code {code}",
            invokeID,
            P.returnResultMistypedResult,
        )
    message = berfast.readResult(operation.result, result) or _decodeInner(
        result,
        RESULTS[operation.result],
        invokeID,
        P.returnResultMistypedResult,
        f"{operation.name} result",
    )
    return m.ReturnResult(invokeID=invokeID, operation=operation.name, result=message)


def _decodeReturnError(invokeID, code, parameter):
    if code != UNIVERSAL_FAILURE_CODE:
        raise CSTACodecError(
            f"unknown error code {code}", invokeID, P.returnErrorUnrecognizedError
        )
    if parameter is None:
        raise CSTACodecError(
            "universal failure without parameter", invokeID, P.returnErrorMistypedParameter
        )
    failure = _decodeInner(
        parameter, FAILURE, invokeID, P.returnErrorMistypedParameter, "universal failure"
    )
    return m.ReturnError(invokeID=invokeID, failure=failure)


def _decodeReject(invokeID, kind, value):
    try:
        return m.Reject(invokeID=invokeID, problem=P(kind * 10 + value))
    except ValueError:
        raise CSTACodecError(f"unknown reject problem {kind}/{value}", invokeID) from None


_ROSE_DECODERS = {
    "invoke": _decodeInvoke,
    "returnResult": _decodeReturnResult,
    "returnError": _decodeReturnError,
    "reject": _decodeReject,
}


def _decodeROSE(data):
    try:
        envelope = _fastEnvelope(data) or _slowEnvelope(data)
    except Exception as e:
        raise CSTACodecError(f"not a ROSE APDU: {_why(e)}", None, P.generalMistypedPDU) from None
    kind, invokeID, code, inner = envelope
    return _ROSE_DECODERS[kind](invokeID, code, inner)


def _invokeId(invokeID):
    return b"\x05\x00" if invokeID is None else integer(invokeID)


def _encodeInvoke(message):
    operation = BY_NAME[message.operation]
    if operationFor(message.argument) is not operation:
        raise ValueError(f"{type(message.argument).__name__} is not a {operation.name} argument")
    if operation is _EVENT_REPORT:
        argument = EVENTS.octets(message.argument)
    else:
        argument = berfast.writeArgument(message.argument) or _encode(
            ARGUMENTS[type(message.argument)].encode(message.argument)
        )
    return tlv(0xA1, _invokeId(message.invokeID), integer(operation.code), argument)


def _encodeReturnResult(message):
    if message.result is None:
        return tlv(0xA2, _invokeId(message.invokeID))
    operation = BY_NAME[message.operation]
    if operation.result is not type(message.result):
        raise ValueError(f"{type(message.result).__name__} is not a {operation.name} result")
    result = berfast.writeResult(message.result) or _encode(RESULTS[operation.result].encode(message.result))
    return tlv(
        0xA2, _invokeId(message.invokeID), tlv(0x30, integer(operation.code), result)
    )


def _encodeReturnError(message):
    parameter = _encode(FAILURE.encode(message.failure))
    return tlv(
        0xA3, _invokeId(message.invokeID), integer(UNIVERSAL_FAILURE_CODE), parameter
    )


def _encodeReject(message):
    kind, value = divmod(int(message.problem), 10)
    return tlv(0xA4, _invokeId(message.invokeID), integer(value, tag=0x80 | kind))


# --- ACSE ---------------------------------------------------------------------

_AARQ = acse.AARQ()
_AARE = acse.AARE()
_RLRQ = acse.RLRQ()
_RLRE = acse.RLRE()
_ABRT = acse.ABRT()
_CSTA_USER_INFORMATION = acse.ACSEUserInformationForCSTA()
_CSTA_VERSION = converterFor(frozenset, acse.CSTAVersion())
_ACSE_REQUIREMENTS = converterFor(frozenset, acse.ACSERequirements())

# Universal string types a peer may wrap private user information in.
_STRING_TAGS = frozenset({0x04, 0x0C, 0x13, 0x16, 0x19, 0x1A})


def _dotted(value):
    return ".".join(str(arc) for arc in value)


def _encodeUserInformation(apdu, cstaVersions, privateData):
    """
    Put the CSTA user information (C{newDefinition} with the CSTA versions)
    and each private data item (octet-aligned) in C{apdu}'s
    C{user-information}.
    """
    if not cstaVersions and not privateData:
        return
    information = apdu.getComponentByName("user-information")
    if cstaVersions:
        cstaInformation = _CSTA_USER_INFORMATION.clone()
        cstaInformation.getComponentByPosition(1).setComponentByPosition(
            0, _CSTA_VERSION.encode(cstaVersions)
        )
        external = information.getComponentByPosition(len(information))
        external.getComponentByName("encoding").setComponentByPosition(
            0, _encode(cstaInformation)
        )
    for item in privateData:
        external = information.getComponentByPosition(len(information))
        external.getComponentByName("encoding").setComponentByPosition(1, item)


def _decodeUserInformation(apdu):
    """
    @return: the CSTA versions and the private data items of C{apdu}'s
        C{user-information}.
    """
    information = apdu.getComponentByName(
        "user-information", default=None, instantiate=False
    )
    versions, privateData = frozenset(), []
    for external in information if information is not None else ():
        encoding = external.getComponentByName("encoding")
        inner = bytes(encoding.getComponent())
        if encoding.getName() != "single-ASN1-type":
            privateData.append(inner)
            continue
        try:
            value, rest = _decode(inner, asn1Spec=_CSTA_USER_INFORMATION)
        except Exception:
            value, rest = None, b""
        if value is not None and not rest:
            versions |= _CSTA_VERSION.decode(value.getComponent().getComponentByPosition(0))
        elif inner[0] in _STRING_TAGS:
            contents, rest = _decode(inner)
            privateData.append(bytes(contents))
        else:
            privateData.append(inner)
    return versions, tuple(privateData)


def _encodeAssociationRequest(message):
    apdu = _AARQ.clone()
    apdu.setComponentByName("application-context-name", message.applicationContextName)
    if message.senderACSERequirements is not None:
        apdu.setComponentByName(
            "sender-acse-requirements", ",".join(sorted(message.senderACSERequirements))
        )
    if message.mechanismName is not None:
        apdu.setComponentByName("mechanism-name", message.mechanismName)
    if message.callingAuthenticationValue is not None:
        apdu.getComponentByName("calling-authentication-value").setComponentByPosition(
            0, message.callingAuthenticationValue
        )
    _encodeUserInformation(apdu, message.cstaVersions, message.privateData)
    return _encode(apdu)


def _charstring(apdu, name):
    value = apdu.getComponentByName(name, default=None, instantiate=False)
    if value is None or value.getName() != "charstring":
        return None
    return str(value.getComponent())


def _decodeAssociationRequest(apdu):
    requirements = apdu.getComponentByName(
        "sender-acse-requirements", default=None, instantiate=False
    )
    mechanism = apdu.getComponentByName("mechanism-name", default=None, instantiate=False)
    versions, privateData = _decodeUserInformation(apdu)
    return m.AssociationRequest(
        applicationContextName=_dotted(apdu.getComponentByName("application-context-name")),
        callingAuthenticationValue=_charstring(apdu, "calling-authentication-value"),
        mechanismName=None if mechanism is None else _dotted(mechanism),
        senderACSERequirements=(
            None if requirements is None else _ACSE_REQUIREMENTS.decode(requirements)
        ),
        cstaVersions=versions,
        privateData=privateData,
    )


def _encodeAssociationResponse(message):
    apdu = _AARE.clone()
    apdu.setComponentByName("application-context-name", message.applicationContextName)
    apdu.setComponentByName("result", int(message.result))
    source = 1 if isinstance(message.diagnostic, m.ACSEServiceProviderDiagnostic) else 0
    apdu.getComponentByName("result-source-diagnostic").setComponentByPosition(
        source, int(message.diagnostic)
    )
    if message.respondingAuthenticationValue is not None:
        apdu.getComponentByName("responding-authentication-value").setComponentByPosition(
            0, message.respondingAuthenticationValue
        )
    _encodeUserInformation(apdu, message.cstaVersions, message.privateData)
    return _encode(apdu)


def _decodeAssociationResponse(apdu):
    diagnostic = apdu.getComponentByName("result-source-diagnostic")
    diagnosticType = (
        m.ACSEServiceUserDiagnostic
        if diagnostic.getName() == "acse-service-user"
        else m.ACSEServiceProviderDiagnostic
    )
    versions, privateData = _decodeUserInformation(apdu)
    return m.AssociationResponse(
        applicationContextName=_dotted(apdu.getComponentByName("application-context-name")),
        result=m.AssociateResult(int(apdu.getComponentByName("result"))),
        diagnostic=diagnosticType(int(diagnostic.getComponent())),
        respondingAuthenticationValue=_charstring(apdu, "responding-authentication-value"),
        cstaVersions=versions,
        privateData=privateData,
    )


def _encodeOptional(schema, name, value):
    apdu = schema.clone()
    if value is not None:
        apdu.setComponentByName(name, int(value))
    return apdu


def _decodeOptional(apdu, name, enumType):
    value = apdu.getComponentByName(name, default=None, instantiate=False)
    return None if value is None else enumType(int(value))


def _encodeAbort(message):
    apdu = _encodeOptional(_ABRT, "abort-diagnostic", message.diagnostic)
    apdu.setComponentByName("abort-source", int(message.source))
    return _encode(apdu)


_ACSE_DECODERS = {
    0x60: (_AARQ, _decodeAssociationRequest),
    0x61: (_AARE, _decodeAssociationResponse),
    0x62: (
        _RLRQ,
        lambda apdu: m.ReleaseRequest(
            reason=_decodeOptional(apdu, "reason", m.ReleaseRequestReason)
        ),
    ),
    0x63: (
        _RLRE,
        lambda apdu: m.ReleaseResponse(
            reason=_decodeOptional(apdu, "reason", m.ReleaseResponseReason)
        ),
    ),
    0x64: (
        _ABRT,
        lambda apdu: m.Abort(
            source=m.AbortSource(int(apdu.getComponentByName("abort-source"))),
            diagnostic=_decodeOptional(apdu, "abort-diagnostic", m.AbortDiagnostic),
        ),
    ),
}


def _decodeACSE(data):
    schema, convert = _ACSE_DECODERS[data[0]]
    try:
        apdu, rest = _decode(data, asn1Spec=schema)
        if rest:
            raise ValueError("trailing octets")
        return convert(apdu)
    except Exception as e:
        raise CSTACodecError(f"undecodable ACSE APDU: {_why(e)}") from None


# --- Entry points -------------------------------------------------------------

_ENCODERS = {
    m.Invoke: _encodeInvoke,
    m.ReturnResult: _encodeReturnResult,
    m.ReturnError: _encodeReturnError,
    m.Reject: _encodeReject,
    m.AssociationRequest: _encodeAssociationRequest,
    m.AssociationResponse: _encodeAssociationResponse,
    m.ReleaseRequest: lambda message: _encode(
        _encodeOptional(_RLRQ, "reason", message.reason)
    ),
    m.ReleaseResponse: lambda message: _encode(
        _encodeOptional(_RLRE, "reason", message.reason)
    ),
    m.Abort: _encodeAbort,
}

_ROSE_TAGS = frozenset({0xA1, 0xA2, 0xA3, 0xA4})


def _checkStructure(data):
    """
    Check that C{data} is exactly one BER encoding with definite lengths of
    sane size, nested no deeper than L{MAX_DEPTH}.

    @raise CSTACodecError: if not.
    """
    stack = [len(data)]
    position = 0
    while stack:
        end = stack[-1]
        if position == end:
            stack.pop()
            continue
        if len(stack) > MAX_DEPTH:
            raise CSTACodecError("BER nested too deep")
        first = data[position]
        position += 1
        if first & 0x1F == 0x1F:
            for octets in range(1, 5):
                if position >= end:
                    raise CSTACodecError("BER tag truncated")
                more = data[position] & 0x80
                position += 1
                if not more:
                    break
            else:
                raise CSTACodecError("BER tag longer than four octets")
        if position >= end:
            raise CSTACodecError("BER length missing")
        length = data[position]
        position += 1
        if length == 0x80:
            raise CSTACodecError("BER indefinite length refused")
        if length & 0x80:
            count = length & 0x7F
            if count > 4:
                raise CSTACodecError("BER length of more than four octets")
            if position + count > end:
                raise CSTACodecError("BER length truncated")
            length = int.from_bytes(data[position : position + count], "big")
            position += count
        if position + length > end:
            raise CSTACodecError("BER value truncated or length too large")
        if len(stack) == 1 and position + length != end:
            raise CSTACodecError("octets after the APDU")
        if first & 0x20:
            stack.append(position + length)
        else:
            position += length


def decode(data):
    """
    Decode one APDU.

    @param data: the bytes of exactly one ROSE or ACSE APDU.
    @return: its message (L{oso.csta.messages}).
    @raise CSTACodecError: if C{data} is not one, or its content is not a
        message oso reads; see L{CSTACodecError} for the reject it suggests.
    """
    data = bytes(data)
    if not data:
        raise CSTACodecError("no octets")
    if data[0] not in _ROSE_TAGS and data[0] not in _ACSE_DECODERS:
        raise CSTACodecError(
            f"not a ROSE or ACSE APDU (first octet {data[0]:#04x})",
            None,
            P.generalUnrecognizedPDU,
        )
    try:
        _checkStructure(data)
    except CSTACodecError as e:
        problem = P.generalBadlyStructuredPDU if data[0] in _ROSE_TAGS else None
        raise CSTACodecError(str(e), None, problem) from None
    if data[0] in _ROSE_TAGS:
        return _decodeROSE(data)
    return _decodeACSE(data)


def encode(message):
    """
    Encode one APDU.

    @param message: an L{Invoke}, L{ReturnResult}, L{ReturnError},
        L{Reject}, L{AssociationRequest}, L{AssociationResponse},
        L{ReleaseRequest}, L{ReleaseResponse} or L{Abort}.
    @return: its BER octets.
    @raise CSTACodecError: if it cannot be encoded (a value outside its
        ASN.1 type, a result that does not belong to its operation, ...).
    """
    try:
        return _ENCODERS[type(message)](message)
    except Exception as e:
        raise CSTACodecError(f"cannot encode {type(message).__name__}: {_why(e)}") from None
