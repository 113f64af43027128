"""
The ECMA-323 codec: CSTA messages as XML documents.

An ECMA-323 message is one document whose root element names the message
(C{MakeCall}, C{MakeCallResponse}, C{DeliveredEvent}, C{CSTAErrorCode}, ...)
in the namespace of an edition of the standard; its children are the
message's parameters, named and nested as ECMA-285 names them. The invoke id
travels in the frame header (L{oso.csta.framing}), not in the document.

The codec is written once, from the message classes' own declarations
(L{XMLCodec} takes the dataclasses of the shared message model): a class's
name is its root element, its fields are its child elements in order, and
each field's type says how its value is written: text, integers, booleans
(C{true}/C{false}), enumerations by member name, nested structures, choices,
sequences of items, and the ECMA-323 device references (C{<deviceIdentifier>}
or C{<notKnown/>}). The few places where ECMA-323 names differ from field
names live in the tables below. The ECMA-323 error response
C{<CSTAErrorCode>} is the call model's L{UniversalFailure}.

L{XMLCodec.decode} parses with L{oso.csta.xmlsafe} and raises
L{XMLCodecError} (with the element at fault) for anything it cannot read, or
its subclass L{UnknownMessageError} for a well-formed document of a known
edition whose root names no message, so that the link can answer with the
ECMA-323 error response in that edition.
"""

import copy
import dataclasses
import re
import types
import typing
from datetime import datetime, timezone
from enum import Enum

from lxml import etree

from oso.callmodel.errors import CATEGORIES, UniversalFailure
from oso.callmodel.ids import ConnectionID
from oso.callmodel.states import LocalConnectionState
from oso.csta import messages
from oso.csta.messages import DeviceIDStatus, SimpleCallState
from oso.csta.operations import OPERATIONS
from oso.csta.xmlsafe import MAX_DEPTH, MAX_SIZE, XMLCodecError, parseXML

__all__ = ["Edition", "UnknownMessageError", "XMLCodec", "XMLCodecError", "modelCodec"]


class Edition(Enum):
    """
    The ECMA-323 editions seen in the field, by their namespace.
    """

    ED2 = "http://www.ecma.ch/standards/ecma-323/csta/ed2"
    ED3 = "http://www.ecma-international.org/standards/ecma-323/csta/ed3"
    ED4 = "http://www.ecma-international.org/standards/ecma-323/csta/ed4"
    ED5 = "http://www.ecma-international.org/standards/ecma-323/csta/ed5"


_EDITIONS = {e.value: e for e in Edition}


class UnknownMessageError(XMLCodecError):
    """
    A well-formed document of a known edition whose root element names no
    message this codec knows.

    @ivar edition: the document's L{Edition}, to answer in.
    """

    def __init__(self, message, element, edition):
        super().__init__(message, element)
        self.edition = edition


# The item element of each ECMA-323 list and the model class of its items,
# by the list's field (the model types its lists as plain tuples).
_LISTS = {
    "transferredConnections": ("connectionListItem", messages.ConnectionListEntry),
    "conferenceConnections": ("connectionListItem", messages.ConnectionListEntry),
    "connections": ("connectionListItem", messages.ConnectionListEntry),
    "forwardingList": ("forwardListItem", messages.ForwardListEntry),
    "deviceList": ("deviceEntry", messages.DeviceListEntry),
    "cdrInfo": ("cdrInformationItem", messages.CDRInformationItem),
    "callingDeviceList": ("deviceID", str),
    ("SnapshotDeviceResponse", "snapshotData"): (
        "snapshotDeviceResponseInfo",
        messages.SnapshotDeviceResponseInfo,
    ),
    ("SnapshotCallResponse", "snapshotData"): ("snapshotCallResponseInfo", messages.SnapshotCallResponseInfo),
}

# Classes of the model with no ECMA-323 document of their own: ROSE and ACSE
# (XML carries neither; the invoke id travels in the frame header) and the
# bases.
_NOT_DOCUMENTS = frozenset(
    {
        messages.Invoke,
        messages.ReturnResult,
        messages.ReturnError,
        messages.Reject,
        messages.AssociationRequest,
        messages.AssociationResponse,
        messages.ReleaseRequest,
        messages.ReleaseResponse,
        messages.Abort,
        messages.CSTAMessage,
        messages.CSTAEvent,
    }
)

_INVALID_CHARACTER = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*\Z")
_INTEGER = re.compile(r"[+-]?[0-9]{1,19}\Z")
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def _escape(text):
    """
    Text as XML character data; C{\\r} as a reference, since parsers turn a
    literal one into C{\\n} (XML 1.0 2.11).
    """
    if _INVALID_CHARACTER.search(text):
        raise XMLCodecError(f"{text!r} holds a character XML 1.0 cannot carry")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _wrap(name, inner):
    return f"<{name}>{inner}</{name}>" if inner else f"<{name}/>"


def _text(element):
    if len(element):
        raise ValueError("holds elements where a value belongs")
    return element.text or ""


class _Malformed(ValueError):
    """
    Content that cannot be read, with the path of elements down to it.
    """

    def __init__(self, reason, path):
        super().__init__(reason)
        self.reason = reason
        self.path = path


class _Kind:
    """
    How one value is written as the content of an element and read back.

    C{encode(value)} gives the content as XML text and raises
    L{XMLCodecError} for a value the kind cannot write; C{decode(element,
    prefix)} gives the value and raises L{ValueError} for content it cannot
    read (the structure above adds the element's name). C{prefix} is the
    C{{namespace}} of the document's elements.
    """


class _Text(_Kind):
    def encode(self, value):
        if not isinstance(value, str):
            raise XMLCodecError(f"{value!r} is not text")
        return _escape(value)

    def decode(self, element, prefix):
        return _text(element)


class _Int(_Kind):
    def encode(self, value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise XMLCodecError(f"{value!r} is not an integer")
        if abs(value) >= 10**19:
            raise XMLCodecError(f"{value} has more than 19 digits")
        return str(value)

    def decode(self, element, prefix):
        text = _text(element).strip()
        if not _INTEGER.match(text):
            raise ValueError(f"{text!r} is not an integer")
        return int(text)


class _Bool(_Kind):
    def encode(self, value):
        if not isinstance(value, bool):
            raise XMLCodecError(f"{value!r} is not a boolean")
        return "true" if value else "false"

    def decode(self, element, prefix):
        # XML Schema 3.2.2: true, false, 1 and 0.
        text = _text(element).strip()
        if text not in _BOOLEANS:
            raise ValueError(f"{text!r} is not a boolean")
        return _BOOLEANS[text]


class _Name(_Kind):
    """
    An enumeration, written as its member's name (ECMA-323 writes ECMA-285
    ENUMERATED values by name).
    """

    def __init__(self, enum):
        self.enum = enum

    def encode(self, value):
        if not isinstance(value, self.enum):
            raise XMLCodecError(f"{value!r} is not a {self.enum.__name__}")
        return value.name

    def decode(self, element, prefix):
        text = _text(element).strip()
        member = self.enum.__members__.get(text)
        if member is None:
            raise ValueError(f"{text!r} is no {self.enum.__name__}")
        return member


class _DeviceReference(_Kind):
    """
    An ECMA-323 device reference (ECMA-285 C{SubjectDeviceID},
    C{CallingDeviceID}, ...): C{<deviceIdentifier>} with the number, or the
    empty element named by a L{DeviceIDStatus} (C{<notKnown/>}).
    """

    def encode(self, value):
        if isinstance(value, DeviceIDStatus):
            return f"<{value.value}/>"
        if not isinstance(value, str):
            raise XMLCodecError(f"{value!r} is not a device number")
        return _wrap("deviceIdentifier", _escape(value))

    def decode(self, element, prefix):
        for child in element:
            if child.tag.startswith(prefix):
                name = child.tag[len(prefix) :]
                if name == "deviceIdentifier":
                    return _text(child)
                status = DeviceIDStatus.__members__.get(name)
                if status is not None:
                    return status
        raise ValueError("holds neither deviceIdentifier nor notKnown")


class _CSTAObject(_Kind):
    """
    ECMA-285 C{CSTAObject}: C{<deviceObject>} with a number or
    C{<callObject>} with a connection.
    """

    def encode(self, value):
        if isinstance(value, str):
            return _wrap("deviceObject", _escape(value))
        return _wrap("callObject", _CONNECTION.encode(value))

    def decode(self, element, prefix):
        for child in element:
            if child.tag == prefix + "deviceObject":
                return _text(child)
            if child.tag == prefix + "callObject":
                return _CONNECTION.decode(child, prefix)
        raise ValueError("holds neither deviceObject nor callObject")


class _CallState(_Kind):
    """
    ECMA-285 C{CallState}: C{<compoundCallState>} with one
    C{<localConnectionState>} per connection, or C{<simpleCallState>}; the
    model holds a tuple of L{LocalConnectionState} or a
    L{SimpleCallState} (C{<unknown/>} for L{None}).
    """

    _state = _Name(LocalConnectionState)
    _simple = _Name(SimpleCallState)

    def encode(self, value):
        if value is None:
            return "<unknown/>"
        if isinstance(value, SimpleCallState):
            return _wrap("simpleCallState", value.name)
        if not isinstance(value, tuple):
            raise XMLCodecError(f"{value!r} is no call state")
        return _wrap(
            "compoundCallState",
            "".join([_wrap("localConnectionState", self._state.encode(v)) for v in value]),
        )

    def decode(self, element, prefix):
        for child in element:
            if child.tag == prefix + "compoundCallState":
                tag = prefix + "localConnectionState"
                return tuple([self._state.decode(c, prefix) for c in child if c.tag == tag])
            if child.tag == prefix + "simpleCallState":
                return self._simple.decode(child, prefix)
            if child.tag == prefix + "unknown":
                return None
        raise ValueError("holds neither compoundCallState nor simpleCallState")


class _Bits(_Kind):
    """
    An ECMA-285 BIT STRING, which ECMA-323 writes as one boolean element
    per named bit; the model holds the names of the bits that are set.
    """

    def encode(self, value):
        if not isinstance(value, frozenset):
            raise XMLCodecError(f"{value!r} is not a set of bit names")
        for name in value:
            if not isinstance(name, str) or not _NAME.match(name):
                raise XMLCodecError(f"{name!r} is no bit name")
        return "".join([f"<{name}>true</{name}>" for name in sorted(value)])

    def decode(self, element, prefix):
        bits = set()
        for child in element:
            if child.tag.startswith(prefix) and _BOOL.decode(child, prefix):
                bits.add(child.tag[len(prefix) :])
        return frozenset(bits)


class _Hex(_Kind):
    """
    Opaque octets (correlator data, user data): XML Schema hexBinary.
    """

    def encode(self, value):
        if not isinstance(value, bytes):
            raise XMLCodecError(f"{value!r} is not octets")
        return value.hex().upper()

    def decode(self, element, prefix):
        text = _text(element).strip()
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise ValueError(f"{text[:40]!r} is not hexBinary") from None


class _PrivateData(_Kind):
    """
    ECMA-285 C{CSTAPrivateData}: C{<string>} with hexBinary octets, which is
    what oso writes, or C{<private>} with any XML, read as the UTF-8 of its
    content.
    """

    def encode(self, value):
        return _wrap("string", _HEX.encode(value))

    def decode(self, element, prefix):
        for child in element:
            if child.tag == prefix + "string":
                return _HEX.decode(child, prefix)
            if child.tag == prefix + "private":
                return (child.text or "").encode("utf-8") + b"".join(
                    [etree.tostring(c, encoding="utf-8") for c in child]
                )
        raise ValueError("holds neither string nor private")


class _Extensions(_Kind):
    """
    ECMA-285 C{CSTACommonArguments} (C{<extensions>}): its
    C{<privateData>} list, whose items the model holds as octets.
    """

    def encode(self, value):
        if not isinstance(value, tuple):
            raise XMLCodecError(f"{value!r} is not a tuple of private data")
        return _wrap("privateData", "".join([_PRIVATE.encode(v) for v in value]))

    def decode(self, element, prefix):
        for child in element:
            if child.tag == prefix + "privateData":
                return tuple(
                    [_PRIVATE.decode(_single(c), prefix) for c in child if c.tag.startswith(prefix)]
                )
        return ()


def _single(item):
    """
    A C{<string>} or C{<private>} item of a private data list, as the
    choice L{_PrivateData} reads.
    """
    wrapper = etree.Element("item")
    wrapper.append(copy.copy(item))
    return wrapper


class _Time(_Kind):
    """
    A time (ECMA-285 C{TimeInfo}): XML Schema dateTime in UTC.
    """

    def encode(self, value):
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise XMLCodecError(f"{value!r} is not a time with a zone")
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")

    def decode(self, element, prefix):
        text = _text(element).strip()
        try:
            value = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            raise ValueError(f"{text!r} is not a dateTime") from None
        if value.utcoffset() is None:
            raise ValueError(f"{text!r} has no time zone")
        return value.astimezone(timezone.utc)


class _Field:
    """
    One child element of a structure.

    @ivar item: the item element's name when the field is a list.
    @ivar empty: the value of an absent optional element.
    """

    __slots__ = ("attribute", "element", "kind", "optional", "item", "empty")

    def __init__(self, attribute, element, kind, optional, item, empty):
        self.attribute = attribute
        self.element = element
        self.kind = kind
        self.optional = optional
        self.item = item
        self.empty = empty


class _Struct(_Kind):
    """
    A structure: a dataclass whose fields are child elements, in order.
    Unknown child elements (vendor extensions, later editions) are skipped;
    a missing mandatory one is an error.
    """

    def __init__(self, cls):
        self.cls = cls
        self.fields = ()
        self.byElement = {}

    def encode(self, value):
        if type(value) is not self.cls:
            raise XMLCodecError(f"{value!r} is not a {self.cls.__name__}")
        parts = []
        for field in self.fields:
            v = getattr(value, field.attribute)
            try:
                if v is None or (v == () and field.empty == ()):
                    if field.optional:
                        continue
                    if v is None:
                        raise XMLCodecError("is required")
                if field.item is not None:
                    if not isinstance(v, tuple):
                        raise XMLCodecError(f"{v!r} is not a tuple")
                    encodeItem = field.kind.encode
                    inner = "".join([_wrap(field.item, encodeItem(i)) for i in v])
                else:
                    inner = field.kind.encode(v)
            except XMLCodecError as e:
                raise XMLCodecError(f"{self.cls.__name__}.{field.element}: {e}", field.element) from None
            parts.append(_wrap(field.element, inner))
        return "".join(parts)

    def decode(self, element, prefix):
        found = {}
        start = len(prefix)
        byElement = self.byElement
        for child in element:
            tag = child.tag
            if not isinstance(tag, str) or not tag.startswith(prefix):
                continue
            field = byElement.get(tag[start:])
            if field is None or field.attribute in found:
                continue
            try:
                if field.item is None:
                    found[field.attribute] = field.kind.decode(child, prefix)
                else:
                    itemTag = prefix + field.item
                    decodeItem = field.kind.decode
                    found[field.attribute] = tuple([decodeItem(i, prefix) for i in child if i.tag == itemTag])
            except _Malformed as e:
                raise _Malformed(e.reason, [field.element] + e.path) from None
            except ValueError as e:
                raise _Malformed(str(e), [field.element]) from None
        if len(found) < len(self.fields):
            for field in self.fields:
                if field.attribute in found:
                    continue
                if not field.optional:
                    raise _Malformed(f"{field.element} is missing", [])
                found[field.attribute] = field.empty
        return self.cls(**found)


_SCALARS = {str: _Text(), int: _Int(), bool: _Bool(), datetime: _Time()}
_BOOL = _SCALARS[bool]
_HEX = _Hex()
_PRIVATE = _PrivateData()
_structs = {}


def _struct(cls):
    """
    The L{_Struct} of a dataclass, built once from its fields' types. A
    C{monitorCrossRefID} comes first and C{privateData} (written as
    C{<extensions>}) last, as in every ECMA-323 message.
    """
    spec = _structs.get(cls)
    if spec is None:
        spec = _structs[cls] = _Struct(cls)
        hints = typing.get_type_hints(cls)
        fields = []
        for f in dataclasses.fields(cls):
            kind, optional, item = _kindOf(hints[f.name], f.name, cls)
            # ECMA-269 lets a connection id carry only one of its parts.
            optional = optional or cls is ConnectionID or f.default is not dataclasses.MISSING
            element = f.name
            if kind is None:
                element, kind, optional = "extensions", _Extensions(), True
            empty = () if item is not None or element == "extensions" else None
            if f.default is not dataclasses.MISSING and f.default != () and f.default is not None:
                empty = f.default
            fields.append(_Field(f.name, element, kind, optional, item, empty))
        fields.sort(key=lambda f: (f.element != "monitorCrossRefID", f.element == "extensions"))
        spec.fields = tuple(fields)
        spec.byElement = {f.element: f for f in fields}
    return spec


def _kindOf(hint, name, owner):
    """
    The kind of a field of C{owner} from its type and name: C{(kind,
    optional, itemElement)}.
    """
    optional = False
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        members = frozenset(a for a in args if a is not type(None))
        optional = len(members) < len(args)
        if members == {str, DeviceIDStatus}:
            return _DeviceReference(), optional, None
        if members == {str, ConnectionID}:
            return _CSTAObject(), optional, None
        if SimpleCallState in members and {typing.get_origin(a) or a for a in members} == {tuple, SimpleCallState}:
            return _CallState(), optional, None
        if len(members) != 1:
            raise TypeError(f"no ECMA-323 form for {owner.__name__}.{name} of type {hint!r}")
        (hint,) = members
    if hint is tuple or typing.get_origin(hint) is tuple:
        if name == "privateData":
            # CSTACommonArguments: written as <extensions> by _struct.
            return None, True, None
        listed = _LISTS.get((owner.__name__, name)) or _LISTS.get(name)
        if listed is None:
            raise TypeError(f"no ECMA-323 list for {owner.__name__}.{name}")
        item, itemType = listed
        return _kindOf(itemType, item, owner)[0], True, item
    if hint is frozenset:
        return _Bits(), optional, None
    if hint is bytes:
        return (_PRIVATE if name == "privateData" else _HEX), optional, None
    if hint in _SCALARS:
        return _SCALARS[hint], optional, None
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _Name(hint), optional, None
    if dataclasses.is_dataclass(hint):
        return _struct(hint), optional, None
    raise TypeError(f"no ECMA-323 form for {owner.__name__}.{name} of type {hint!r}")


_CONNECTION = _struct(ConnectionID)


class _ErrorCode(_Kind):
    """
    The ECMA-323 error response: C{<CSTAErrorCode>} holding one element
    named by the universal failure's category, whose text is the value
    (C{<operation>invalidDeviceID</operation>}).
    """

    cls = UniversalFailure

    def encode(self, value):
        if type(value) is not UniversalFailure:
            raise XMLCodecError(f"{value!r} is not a UniversalFailure")
        if value.category not in CATEGORIES:
            raise XMLCodecError(f"{value.category!r} is no universal failure category", "CSTAErrorCode")
        if not _NAME.match(value.value):
            raise XMLCodecError(f"{value.value!r} is no universal failure value", value.category)
        return _wrap(value.category, value.value)

    def decode(self, element, prefix):
        for child in element:
            if child.tag.startswith(prefix) and child.tag[len(prefix) :] in CATEGORIES:
                category = child.tag[len(prefix) :]
                value = _text(child).strip()
                if not _NAME.match(value):
                    raise _Malformed(f"{value!r} is no universal failure value", [category])
                return UniversalFailure(category, value)
        raise ValueError(f"holds none of {', '.join(CATEGORIES)}")


class XMLCodec:
    """
    Reads and writes the ECMA-323 documents of a set of message classes.

    Each class's name is its root element; L{UniversalFailure} is always
    there as C{CSTAErrorCode}.
    """

    def __init__(self, messageClasses):
        """
        @param messageClasses: dataclasses, one per message.
        @raise TypeError: if a class has a field with no ECMA-323 form.
        """
        self._byName = {cls.__name__: _struct(cls) for cls in messageClasses}
        self._byName["CSTAErrorCode"] = _ErrorCode()
        self._byClass = {spec.cls: (name, spec) for name, spec in self._byName.items()}

    def messageTypes(self):
        """
        @return: the classes this codec reads and writes.
        @rtype: L{list}
        """
        return list(self._byClass)

    def encode(self, message, edition):
        """
        Write a message as an ECMA-323 document.

        @param message: an instance of one of L{messageTypes}.
        @param edition: the L{Edition} whose namespace the document is in,
            or L{None} for a document in no namespace.
        @return: the UTF-8 document, with an XML declaration.
        @rtype: L{bytes}
        @raise XMLCodecError: if the message has no ECMA-323 form or holds a
            value that cannot be written.
        """
        known = self._byClass.get(type(message))
        if known is None:
            raise XMLCodecError(f"{type(message).__name__} has no ECMA-323 form", type(message).__name__)
        name, spec = known
        inner = spec.encode(message)
        xmlns = f' xmlns="{edition.value}"' if edition is not None else ""
        body = f"<{name}{xmlns}>{inner}</{name}>" if inner else f"<{name}{xmlns}/>"
        return ('<?xml version="1.0" encoding="UTF-8"?>' + body).encode("utf-8")

    def decode(self, data, maxSize=MAX_SIZE, maxDepth=MAX_DEPTH):
        """
        Read an ECMA-323 document.

        @param data: the document, as received in one frame.
        @type data: L{bytes}
        @param maxSize: the largest document accepted, in bytes.
        @param maxDepth: the deepest element nesting accepted.
        @return: C{(edition, message)}: the L{Edition} of the document's
            namespace (L{None} for a document in no namespace) and the
            message.
        @raise UnknownMessageError: if the root element names no message.
        @raise XMLCodecError: if L{parseXML} refuses the document, it is in
            another namespace, or a known message's content cannot be read;
            its C{element} names the element at fault.
        """
        root = parseXML(data, maxSize, maxDepth)
        tag = root.tag
        if tag.startswith("{"):
            namespace, _, name = tag[1:].partition("}")
            edition = _EDITIONS.get(namespace)
            if edition is None:
                raise XMLCodecError(f"{namespace!r} is no ECMA-323 namespace", name)
            prefix = "{" + namespace + "}"
        else:
            edition, name, prefix = None, tag, ""
        spec = self._byName.get(name)
        if spec is None:
            raise UnknownMessageError(f"{name} is no CSTA message this server knows", name, edition)
        try:
            return edition, spec.decode(root, prefix)
        except _Malformed as e:
            path = [name] + e.path
            raise XMLCodecError(f"{'/'.join(path)}: {e.reason}", path[-1]) from None
        except (ValueError, TypeError) as e:
            raise XMLCodecError(f"{name}: {e}", name) from None


def modelCodec():
    """
    The codec of the shared message model: every argument and result of
    L{oso.csta.operations} and every event class of L{oso.csta.messages}.

    @rtype: L{XMLCodec}
    """
    classes = {c for op in OPERATIONS for c in (op.argument, op.result) if c is not None}
    classes.update(
        c
        for c in vars(messages).values()
        if isinstance(c, type) and issubclass(c, messages.CSTAEvent)
    )
    classes.add(messages.PrivateEvent)
    return XMLCodec(sorted(classes - _NOT_DOCUMENTS, key=lambda c: c.__name__))
