"""
Hand-written BER readers and writers for the arguments and results a CSTA
link carries most, beside pyasn1's generic codec in L{oso.csta.ber}.

pyasn1 spends hundreds of microseconds on a MakeCall argument (schema
clones, a fresh tag set per element, CHOICEs within CHOICEs), most of a
MakeCall round trip.  The messages here have a narrow usual shape: a few
device ids and a connection id, the CSTA common result as NULL.  A reader
takes the octets of an argument or result (inside an APDU that
L{oso.csta.ber} has already checked: definite lengths that fit) and
returns the message, or L{None} for anything outside the shape it knows
(another identifier form, an optional component, a constructed string, a
character IA5String does not allow), which L{oso.csta.ber} then decodes
with pyasn1 as before.  A writer returns the octets pyasn1 would write, or
L{None} for a message with anything set beyond that shape.

Both are checked against pyasn1 and against the asn1tools oracle in
C{tests/csta/test_csta_berfast.py}, for given and generated messages.
"""

from oso.callmodel.ids import ConnectionID
from oso.csta import messages as m
from oso.csta.asn1.common import CommonResult
from oso.csta.asn1.octets import CONNECTION_ID as _CONNECTION
from oso.csta.asn1.octets import connectionID, deviceID, tlv
from oso.csta.asn1.tables import RESULTS

__all__ = ["readArgument", "readResult", "writeArgument", "writeResult"]

_SEQUENCE = 0x30
_NULL = b"\x05\x00"


class _OutOfShape(Exception):
    """
    The octets are not in the shape a reader knows: pyasn1 decides.
    """


def _items(data, start, end):
    """
    The TLVs between C{start} and C{end} as (tag, contents start, contents
    end); a multi-octet tag or an indefinite length is out of shape.
    """
    items = []
    while start < end:
        tag = data[start]
        if tag & 0x1F == 0x1F:
            raise _OutOfShape
        size = data[start + 1]
        start += 2
        if size & 0x80:
            count = size & 0x7F
            if count == 0:
                raise _OutOfShape
            size = int.from_bytes(data[start : start + count], "big")
            start += count
        if start + size > end:
            raise _OutOfShape
        items.append((tag, start, start + size))
        start += size
    return items


def _only(data, start, end, tag):
    """
    The contents of the single TLV between C{start} and C{end}, which must
    have C{tag}.
    """
    found, start, end = _single(data, start, end)
    if found != tag:
        raise _OutOfShape
    return start, end


def _ascii(data, start, end):
    octets = data[start:end]
    if not octets.isascii():
        raise _OutOfShape
    return octets.decode("ascii")


# --- Device and connection ids ------------------------------------------------
#
# DeviceID ::= SEQUENCE { deviceIdentifier CHOICE { dialingNumber [0]
# IMPLICIT IA5String, ... }, ... }: oso writes dialingNumber only
# (oso.csta.asn1.octets), and the fast path reads only that form.
# ConnectionID ::= [APPLICATION 11] CHOICE { callID [0] IMPLICIT OCTET
# STRING, deviceID [1] LocalDeviceID, both SEQUENCE { callID, deviceID } }
# with LocalDeviceID ::= CHOICE { staticID DeviceID, dynamicID [3] IMPLICIT
# OCTET STRING }.


def _readDeviceID(data, start, end):
    return _ascii(data, *_only(data, start, end, 0x80))


def _single(data, start, end):
    """
    The one TLV between C{start} and C{end}.
    """
    items = _items(data, start, end)
    if len(items) != 1:
        raise _OutOfShape
    return items[0]


def _readLocalDeviceID(data, start, end):
    tag, start, end = _single(data, start, end)
    if tag == _SEQUENCE:
        return _readDeviceID(data, start, end)
    if tag == 0x83:
        return data[start:end].decode("latin-1")
    raise _OutOfShape


def _readConnectionID(data, start, end):
    tag, start, end = _single(data, start, end)
    if tag == 0x80:
        return ConnectionID(data[start:end].decode("latin-1"), None)
    if tag == 0xA1:
        return ConnectionID(None, _readLocalDeviceID(data, start, end))
    if tag != _SEQUENCE:
        raise _OutOfShape
    items = _items(data, start, end)
    if len(items) != 2 or items[0][0] != 0x80 or items[1][0] != 0xA1:
        raise _OutOfShape
    return ConnectionID(
        data[items[0][1] : items[0][2]].decode("latin-1"), _readLocalDeviceID(data, items[1][1], items[1][2])
    )


# --- Arguments ----------------------------------------------------------------


def _readMakeCall(data):
    start, end = _only(data, 0, len(data), _SEQUENCE)
    items = _items(data, start, end)
    if len(items) not in (2, 3) or items[0][0] != _SEQUENCE or items[1][0] != _SEQUENCE:
        raise _OutOfShape
    autoOriginate = m.AutoOriginate.prompt
    if len(items) == 3:
        tag, start, end = items[2]
        if tag != 0x83 or end - start != 1 or data[start] > 1:
            raise _OutOfShape
        autoOriginate = m.AutoOriginate(data[start])
    return m.MakeCall(
        callingDevice=_readDeviceID(data, items[0][1], items[0][2]),
        calledDirectoryNumber=_readDeviceID(data, items[1][1], items[1][2]),
        autoOriginate=autoOriginate,
    )


def _writeMakeCall(message):
    plain = m.MakeCall(
        callingDevice=message.callingDevice,
        calledDirectoryNumber=message.calledDirectoryNumber,
        autoOriginate=message.autoOriginate,
    )
    if message != plain:
        return None
    # The DEFAULT value is left out, as pyasn1 leaves it out.
    autoOriginate = b"" if message.autoOriginate is m.AutoOriginate.prompt else b"\x83\x01\x01"
    return tlv(
        _SEQUENCE, deviceID(message.callingDevice), deviceID(message.calledDirectoryNumber), autoOriginate
    )


def _connectionArgument(messageType, name):
    """
    The reader and writer of a C{SEQUENCE { name ConnectionID, <optional
    components> }} with none of the optional components.
    """

    def read(data):
        start, end = _only(data, 0, len(data), _SEQUENCE)
        return messageType(**{name: _readConnectionID(data, *_only(data, start, end, _CONNECTION))})

    def write(message):
        connection = getattr(message, name)
        if not isinstance(connection, ConnectionID) or message != messageType(**{name: connection}):
            return None
        return tlv(_SEQUENCE, connectionID(connection))

    return read, write


_ARGUMENTS = {m.MakeCall: (_readMakeCall, _writeMakeCall)}
for _type, _name in (
    (m.AnswerCall, "callToBeAnswered"),
    (m.ClearConnection, "connectionToBeCleared"),
    (m.ClearCall, "callToBeCleared"),
    (m.HoldCall, "callToBeHeld"),
    (m.RetrieveCall, "callToBeRetrieved"),
):
    _ARGUMENTS[_type] = _connectionArgument(_type, _name)


# --- Results ------------------------------------------------------------------


def _readMakeCallResponse(data):
    start, end = _only(data, 0, len(data), _SEQUENCE)
    return m.MakeCallResponse(callingDevice=_readConnectionID(data, *_only(data, start, end, _CONNECTION)))


def _writeMakeCallResponse(message):
    if message != m.MakeCallResponse(callingDevice=message.callingDevice):
        return None
    return tlv(_SEQUENCE, connectionID(message.callingDevice))


def _commonResult(messageType):
    """
    The reader and writer of a result that is C{CHOICE { extensions
    CSTACommonArguments, noData NULL }}: NULL only.
    """

    def read(data):
        if data != _NULL:
            raise _OutOfShape
        return messageType()

    def write(message):
        return _NULL if not message.privateData else None

    return read, write


_RESULTS = {m.MakeCallResponse: (_readMakeCallResponse, _writeMakeCallResponse)}
for _type, _codec in RESULTS.items():
    if isinstance(_codec.schema, CommonResult):
        _RESULTS[_type] = _commonResult(_type)

# --- Entry points -------------------------------------------------------------


def _read(table, messageType, data):
    entry = table.get(messageType)
    if entry is None:
        return None
    try:
        return entry[0](data)
    except (_OutOfShape, IndexError, ValueError):
        return None


def readArgument(messageType, data):
    """
    @return: the C{messageType} argument in C{data}, or L{None} when
        pyasn1 must read it.
    """
    return _read(_ARGUMENTS, messageType, data)


def readResult(messageType, data):
    """
    @return: the C{messageType} result in C{data}, or L{None} when pyasn1
        must read it.
    """
    return _read(_RESULTS, messageType, data)


def writeArgument(message):
    """
    @return: the BER octets of the argument C{message}, or L{None} when
        pyasn1 must write it.
    @raise UnicodeEncodeError: for a device id that is not ASCII (or a call
        id that is not Latin-1), which pyasn1 cannot write either.
    """
    entry = _ARGUMENTS.get(type(message))
    return None if entry is None else entry[1](message)


def writeResult(message):
    """
    @return: the BER octets of the result C{message}, or L{None} when
        pyasn1 must write it.
    """
    entry = _RESULTS.get(type(message))
    return None if entry is None else entry[1](message)
