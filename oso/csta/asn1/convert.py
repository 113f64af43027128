"""
Conversion between pyasn1 values of the ECMA-285 specifications and the
message model of L{oso.csta.messages}.

A L{SequenceCodec} pairs a message dataclass with an ASN.1 SEQUENCE type and
converts each field to the component of the same name (or the name a rename
table gives), choosing the conversion from the component's ASN.1 type and
the field's annotation: C{DeviceID} and C{str}, the device id CHOICEs and
C{str | DeviceIDStatus}, C{ConnectionID}, enumerations and C{IntEnum}s, bit
strings and C{frozenset}s of bit names, C{SEQUENCE OF} and C{tuple}s, nested
SEQUENCEs and dataclasses, C{CSTACommonArguments} and the C{privateData}
tuple. Each pairing is worked out once (a plan per class); a field with no
component, or a type with no conversion, is an error at that point, so the
tables that build codecs are checked when L{oso.csta.ber} is imported.

Conversions raise C{ValueError}, C{KeyError} or pyasn1 errors on values
they cannot convert; L{oso.csta.ber} turns every one into its
L{oso.csta.errors.CSTACodecError}.
"""

import dataclasses
import functools
import types
from datetime import datetime, timezone
from enum import IntEnum

from pyasn1.codec.ber import encoder as _berEncoder
from pyasn1.type import char, tag, univ, useful

from oso.callmodel.ids import ConnectionID
from oso.callmodel.states import LocalConnectionState
from oso.csta.asn1 import common, monitor, octets, snapshot
from oso.csta.asn1.octets import tlv
from oso.csta.messages import CSTAMessage, DeviceIDStatus, SimpleCallState

_NONE = type(None)

#: Options for setComponentByPosition: values are built from the very
#: component schema, so pyasn1 need not check them again.
_FAST = dict(verifyConstraints=False, matchTags=False, matchConstraints=False)


@dataclasses.dataclass(frozen=True, slots=True)
class Converter:
    """
    How one field converts.

    @ivar encode: model value -> pyasn1 value (or a Python value pyasn1
        takes for the component).
    @ivar decode: pyasn1 value -> model value.
    @ivar noneIsValue: whether L{None} is a value of the field to encode
        (the unknown call state) rather than its absence.
    """

    encode: object
    decode: object
    noneIsValue: bool = False


#: How many encodings the memoized conversions keep, all together (each
#: about half a kilobyte).
MEMO_SIZE = 8192


@functools.lru_cache(maxsize=MEMO_SIZE)
def _encoded(converter, x):
    return univ.Any(_berEncoder.encode(converter.encode(x)))


@functools.lru_cache(maxsize=MEMO_SIZE)
def _written(write, x):
    return univ.Any(write(x))


def _memoized(converter, write=None):
    """
    The same conversion, encoding through a cache of BER octets.

    Device and connection ids recur in message after message (every event of
    a call names the same parties), and building and encoding their pyasn1
    values is most of the cost of encoding a message. The octets pyasn1
    produces for a value are kept (in one cache shared by all conversions)
    and handed to the encoder as an ANY, which it writes out unchanged.
    C{write}, when given, writes the same octets by hand
    (L{oso.csta.asn1.octets}): a new call's connection ids then cost no
    pyasn1 work at all.
    """
    encode = functools.partial(_encoded, converter) if write is None else functools.partial(_written, write)
    return Converter(encode, converter.decode, converter.noneIsValue)


def _deviceOrStatusWriter(schema):
    """
    The hand-written octets of C{[APPLICATION n] CHOICE { DeviceID, status
    [k] IMPLICIT NULL, ... }} values, or L{None} for a schema tagged
    otherwise.
    """
    if schema.tagSet != type(schema).tagSet or len(schema.tagSet) != 1:
        return None
    outer = schema.tagSet[0]
    if outer.tagClass != tag.tagClassApplication or outer.tagId > 30:
        return None
    first = 0x60 | outer.tagId
    nulls = {}
    for named in schema.componentType[1:]:
        inner = named.asn1Object.tagSet[0]
        nulls[DeviceIDStatus(named.name)] = bytes([0x80 | inner.tagId, 0])

    def write(x):
        return tlv(first, nulls[x] if isinstance(x, DeviceIDStatus) else octets.deviceID(x))

    return write


def _parts(annotation):
    """
    The members of a union annotation other than L{None}.
    """
    if isinstance(annotation, types.UnionType):
        return tuple(a for a in annotation.__args__ if a is not _NONE)
    return (annotation,)


def _latin1(text):
    return text.encode("latin-1")


def _fromLatin1(value):
    return bytes(value).decode("latin-1")


# --- Identifiers --------------------------------------------------------------


def _deviceID(schema):
    """
    C{DeviceID} <-> C{str}: oso sends C{dialingNumber}; every other form
    reads as its digits.
    """

    def encode(number):
        value = schema.clone()
        value.getComponentByPosition(0).setComponentByPosition(0, number)
        return value

    def decode(value):
        identifier = value.getComponentByPosition(0)
        name = identifier.getName()
        inner = identifier.getComponent()
        if name == "deviceNumber":
            return str(int(inner))
        if name == "other":
            return _fromLatin1(inner)
        if name in ("explicitPublic", "explicitPrivate"):
            inner = inner.getComponent()
        return str(inner)

    return Converter(encode, decode)


def _deviceOrStatus(schema):
    """
    A CHOICE of a C{DeviceID} and NULLs named after statuses <-> C{str |
    DeviceIDStatus}.
    """
    device = _deviceID(schema.componentType[0].asn1Object)
    positions = {
        DeviceIDStatus(schema.componentType[i].name): i
        for i in range(1, len(schema.componentType))
    }

    def encode(x):
        value = schema.clone()
        if isinstance(x, DeviceIDStatus):
            value.setComponentByPosition(positions[x], b"", **_FAST)
        else:
            value.setComponentByPosition(0, device.encode(x), **_FAST)
        return value

    def decode(value):
        if value.getComponentType().getPositionByName(value.getName()) == 0:
            return device.decode(value.getComponent())
        return DeviceIDStatus(value.getName())

    return Converter(encode, decode)


def _localDeviceID(schema):
    """
    C{LocalDeviceID} <-> C{str}: oso sends C{staticID}; a C{dynamicID} reads
    as its octets in Latin-1.
    """
    static = _deviceID(schema.componentType[0].asn1Object)

    def encode(number):
        value = schema.clone()
        value.setComponentByPosition(0, static.encode(number), **_FAST)
        return value

    def decode(value):
        if value.getName() == "staticID":
            return static.decode(value.getComponent())
        return _fromLatin1(value.getComponent())

    return Converter(encode, decode)


def _connectionID(schema):
    """
    C{ConnectionID} <-> L{ConnectionID}; a part the CHOICE leaves out is
    L{None}.
    """
    local = _localDeviceID(schema.componentType[1].asn1Object)
    bothLocal = _localDeviceID(schema.componentType[2].asn1Object.componentType[1].asn1Object)

    def encode(connection):
        value = schema.clone()
        if connection.deviceID is None:
            value.setComponentByPosition(0, _latin1(connection.callID), **_FAST)
        elif connection.callID is None:
            value.setComponentByPosition(1, local.encode(connection.deviceID), **_FAST)
        else:
            both = value.getComponentByPosition(2)
            both.setComponentByPosition(0, _latin1(connection.callID), **_FAST)
            both.setComponentByPosition(1, bothLocal.encode(connection.deviceID), **_FAST)
        return value

    def decode(value):
        name = value.getName()
        inner = value.getComponent()
        if name == "callID":
            return ConnectionID(_fromLatin1(inner), None)
        if name == "deviceID":
            return ConnectionID(None, local.decode(inner))
        return ConnectionID(
            _fromLatin1(inner.getComponentByPosition(0)),
            bothLocal.decode(inner.getComponentByPosition(1)),
        )

    return Converter(encode, decode)


def _monitorObject(schema):
    """
    C{CSTAObject} <-> C{str} (a device) or L{ConnectionID} (a call).
    """
    device = _deviceID(schema.componentType[0].asn1Object)
    call = _connectionID(schema.componentType[1].asn1Object)

    def encode(x):
        value = schema.clone()
        if isinstance(x, ConnectionID):
            value.setComponentByPosition(1, call.encode(x), **_FAST)
        else:
            value.setComponentByPosition(0, device.encode(x), **_FAST)
        return value

    def decode(value):
        if value.getName() == "callObject":
            return call.decode(value.getComponent())
        return device.decode(value.getComponent())

    return Converter(encode, decode)


def _callState(schema):
    """
    C{CallState} <-> a tuple of L{LocalConnectionState}, a
    L{SimpleCallState}, or L{None} (unknown).
    """
    compound = schema.componentType[0].asn1Object

    def encode(x):
        value = schema.clone()
        if x is None:
            value.setComponentByPosition(2, b"", **_FAST)
        elif isinstance(x, SimpleCallState):
            value.setComponentByPosition(1, int(x), **_FAST)
        else:
            states = compound.clone().clear()
            for i, state in enumerate(x):
                states.setComponentByPosition(i, int(state), **_FAST)
            value.setComponentByPosition(0, states, **_FAST)
        return value

    def decode(value):
        name = value.getName()
        if name == "unknown":
            return None
        if name == "simpleCallState":
            return SimpleCallState(int(value.getComponent()))
        return tuple(LocalConnectionState(int(s)) for s in value.getComponent())

    return Converter(encode, decode, noneIsValue=True)


# --- Simple types -------------------------------------------------------------


def _extensions(schema):
    """
    C{CSTACommonArguments} <-> the tuple of private data octets.
    """

    def encode(items):
        value = schema.clone()
        privateData = value.getComponentByPosition(1)
        for i, item in enumerate(items):
            privateData.getComponentByPosition(i).setComponentByPosition(
                0, item, **_FAST
            )
        return value

    def decode(value):
        privateData = value.getComponentByPosition(1, default=None, instantiate=False)
        if privateData is None:
            return ()
        return tuple(
            bytes(item.getComponent()) if item.getName() == "string" else b""
            for item in privateData
        )

    return Converter(encode, decode)


def _privateData(schema):
    """
    C{CSTAPrivateData} <-> C{bytes} (the C{private} NULL reads as C{b""}).
    """

    def encode(octets):
        value = schema.clone()
        value.setComponentByPosition(0, octets, **_FAST)
        return value

    def decode(value):
        return bytes(value.getComponent()) if value.getName() == "string" else b""

    return Converter(encode, decode)


def _bits(schema):
    """
    A BIT STRING <-> the C{frozenset} of the names of its set bits (a set
    bit without a name is dropped).
    """
    namedValues = schema.namedValues

    def encode(names):
        return schema.clone(",".join(sorted(names)))

    def decode(value):
        return frozenset(
            namedValues.getName(i)
            for i, bit in enumerate(value)
            if bit and i in namedValues
        )

    return Converter(encode, decode)


def _encodeTime(moment):
    if moment.tzinfo is None:
        raise ValueError("a CSTA time must be timezone-aware")
    moment = moment.astimezone(timezone.utc)
    text = moment.strftime("%Y%m%d%H%M%S")
    if moment.microsecond:
        text += (".%06d" % moment.microsecond).rstrip("0")
    return text + "Z"


def _decodeTime(value):
    moment = value.asDateTime
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _enum(enumType):
    return Converter(int, lambda value: enumType(int(value)))


def _text(value):
    return str(value)


# --- Lists and sequences ------------------------------------------------------


def _sequenceOf(elementType, schema):
    element = converterFor(elementType, schema.componentType)

    def encode(items):
        value = schema.clone().clear()
        for i, item in enumerate(items):
            value.setComponentByPosition(i, element.encode(item), **_FAST)
        return value

    def decode(value):
        return tuple(element.decode(item) for item in value)

    return Converter(encode, decode)


def converterFor(annotation, schema):
    """
    The conversion between values of a field annotated C{annotation} and
    values of the ASN.1 type C{schema}.

    @raise TypeError: when there is none.
    """
    parts = _parts(annotation)
    if isinstance(schema, common.DeviceID):
        untagged = schema.tagSet == common.DeviceID.tagSet
        return _memoized(_deviceID(schema), octets.deviceID if untagged else None)
    if isinstance(schema, common.ConnectionID):
        untagged = schema.tagSet == common.ConnectionID.tagSet
        return _memoized(_connectionID(schema), octets.connectionID if untagged else None)
    if isinstance(schema, monitor.CSTAObject):
        return _memoized(_monitorObject(schema))
    if isinstance(schema, snapshot.CallState):
        return _callState(schema)
    if isinstance(schema, univ.Choice) and DeviceIDStatus in parts:
        return _memoized(_deviceOrStatus(schema), _deviceOrStatusWriter(schema))
    if isinstance(schema, common.CSTACommonArguments):
        return _extensions(schema)
    if isinstance(schema, common.CSTAPrivateData) and bytes in parts:
        return _privateData(schema)
    if isinstance(schema, univ.BitString) and frozenset in parts:
        return _bits(schema)
    if isinstance(schema, useful.GeneralizedTime) and datetime in parts:
        return Converter(_encodeTime, _decodeTime)
    if isinstance(schema, char.AbstractCharacterString) and str in parts:
        return Converter(str, _text)
    if isinstance(schema, univ.OctetString):
        if bytes in parts:
            return Converter(bytes, bytes)
        if str in parts:
            return Converter(_latin1, _fromLatin1)
    if isinstance(schema, univ.Boolean) and bool in parts:
        return Converter(bool, bool)
    if isinstance(schema, univ.Integer):  # ENUMERATED is an Integer in pyasn1
        for part in parts:
            if isinstance(part, type) and issubclass(part, IntEnum):
                return _enum(part)
        if int in parts:
            return Converter(int, int)
    if isinstance(schema, univ.SequenceOf):
        for part in parts:
            if getattr(part, "__origin__", None) is tuple:
                return _sequenceOf(part.__args__[0], schema)
    if isinstance(schema, univ.Sequence):
        for part in parts:
            if dataclasses.is_dataclass(part):
                codec = SequenceCodec(part, schema)
                return Converter(codec.encode, codec.decode)
    raise TypeError(f"no conversion between {annotation} and {type(schema).__name__}")


@dataclasses.dataclass(frozen=True, slots=True)
class _Field:
    name: str
    position: int
    converter: Converter
    omit: tuple


class SequenceCodec:
    """
    Converts one message dataclass to and from one ASN.1 SEQUENCE.

    @ivar messageType: the dataclass.
    @ivar schema: a pyasn1 schema object of the SEQUENCE (with the tags it
        has where it is used).
    """

    def __init__(self, messageType, schema, renames=None, exclude=()):
        """
        @param renames: model field name -> ASN.1 component name, where they
            differ (the C{privateData} of a L{CSTAMessage} is C{extensions}
            unless renamed).
        @param exclude: names of fields the caller converts itself.
        @raise KeyError: when a field has no component.
        @raise TypeError: when a field's type does not convert.
        """
        if isinstance(schema, type):
            schema = schema()
        self.messageType = messageType
        self.schema = schema
        if issubclass(messageType, CSTAMessage):
            renames = {"privateData": "extensions", **(renames or {})}
        renames = renames or {}
        components = schema.componentType
        fields = []
        for field in dataclasses.fields(messageType):
            if field.name in exclude:
                continue
            componentName = renames.get(field.name, field.name)
            try:
                position = components.getPositionByName(componentName)
            except Exception:
                raise KeyError(
                    f"{messageType.__name__}.{field.name}: no component "
                    f"{componentName!r} in {type(schema).__name__}"
                ) from None
            namedType = components[position]
            omit = ()
            if namedType.isOptional or namedType.isDefaulted:
                omit = ((),)
                if namedType.isDefaulted:
                    omit += (field.default,)
            fields.append(
                _Field(
                    field.name,
                    position,
                    converterFor(field.type, namedType.asn1Object),
                    omit,
                )
            )
        self._fields = tuple(fields)

    def encode(self, message):
        """
        @return: the pyasn1 value of C{message}.
        """
        value = self.schema.clone()
        for field in self._fields:
            x = getattr(message, field.name)
            if x is None and not field.converter.noneIsValue:
                continue
            if field.omit and x in field.omit:
                continue
            value.setComponentByPosition(
                field.position, field.converter.encode(x), **_FAST
            )
        return value

    def decode(self, value, **arguments):
        """
        @param arguments: values of the excluded fields.
        @return: the message of the pyasn1 value C{value}.
        """
        for field in self._fields:
            component = value.getComponentByPosition(
                field.position, default=None, instantiate=False
            )
            if component is not None:
                arguments[field.name] = field.converter.decode(component)
        return self.messageType(**arguments)
