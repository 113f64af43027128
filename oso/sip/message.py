"""
SIP messages (RFC 3261 section 7): requests and responses, their header
fields, reading them from bytes and writing them to bytes.

Reading splits the header fields once and checks at once what every
receiver needs (RFC 3261 8.2 and 18.3: the start line, the mandatory
fields, CSeq against the method, Content-Length against the body); every
other structured field is parsed when first asked for, and the parsed
value replaces the text in the message so that changes to it are written.
"""

import re
from operator import itemgetter

from oso.sip.headers import (
    _ADDRESSES,
    CANONICAL,
    COMPACT,
    LIST_HEADERS,
    PARSERS,
    KnownAddress,
    NameAddress,
    isToken,
    parseContentLength,
    parseCSeq,
    parseDate,
    parseMaxForwards,
    parseVia,
    sharedAddress,
    splitList,
)
from oso.sip.memo import Memo
from oso.sip.uri import SIPParseError, SIPURI, parseURI

#: RFC 3261 21: the reason phrase written when none is given.
REASONS = {  # fmt: skip
    100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued",
    183: "Session Progress", 200: "OK", 202: "Accepted", 300: "Multiple Choices",
    301: "Moved Permanently", 302: "Moved Temporarily", 305: "Use Proxy",
    380: "Alternative Service", 400: "Bad Request", 401: "Unauthorized", 402: "Payment Required",
    403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
    407: "Proxy Authentication Required", 408: "Request Timeout", 410: "Gone",
    413: "Request Entity Too Large", 414: "Request-URI Too Long", 415: "Unsupported Media Type",
    416: "Unsupported URI Scheme", 420: "Bad Extension", 421: "Extension Required",
    423: "Interval Too Brief", 480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist", 482: "Loop Detected", 483: "Too Many Hops",
    484: "Address Incomplete", 485: "Ambiguous", 486: "Busy Here", 487: "Request Terminated",
    488: "Not Acceptable Here", 491: "Request Pending", 493: "Undecipherable",
    500: "Server Internal Error", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Server Time-out", 505: "Version Not Supported",
    513: "Message Too Large", 600: "Busy Everywhere", 603: "Decline",
    604: "Does Not Exist Anywhere", 606: "Not Acceptable",
}

_VERSION = "SIP/2.0"
_VERSION_RE = re.compile(r"SIP/[0-9]+\.[0-9]+", re.IGNORECASE)
_WORD = r"[A-Za-z0-9\-.!%*_+`'~()<>:\\\"/\[\]?{}]+"
_CALL_ID_RE = re.compile(rf"{_WORD}(?:@{_WORD})?")
_NAME_RE = re.compile(r"([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*")
# Field names as received (and as they stand before the colon, with any
# whitespace: those were checked), to their key and written spelling;
# names as asked for, to their key.
_NAMES = {}
_KEYS = {}
# Header lines read before (a phone sends the same To, Contact, CSeq and
# Expires again and again), to their field; not those of the fields whose
# text is new in nearly every request.
_LINES = Memo(4096)
_NEW_EACH_TIME = frozenset(("via", "call-id", "authorization", "proxy-authorization"))
# Request-Lines read before (a phone sends the same one again and again),
# to their method and parsed Request-URI.
_REQUEST_LINES = Memo(1024)
# RFC 3261 8.1.1 (and 20: at most one of each).
_MANDATORY = ("via", "from", "to", "call-id", "cseq")
_SINGLE = frozenset(
    ("from", "to", "call-id", "cseq", "max-forwards", "content-length", "content-type")
)


# _checkFields' plans (where the fields are), by the keys of a message's
# fields in order.
_FIELD_PLANS = Memo(256)
# Headers.copyFrom's plans, by the fields asked for and the names of the
# fields copied from: the indexes of the fields to copy, in order.
_COPY_PLANS = Memo(256)
# The list fields among the fields asked for, by those fields.
_LISTED = Memo(64)
# A field's key.
_KEY = itemgetter(0)


def _copyPlan(keys, names):
    """
    @param keys: the names of the fields to copy, in order.
    @param names: the names of the fields copied from, in order.
    @return: the indexes of the fields to copy, field by field in
        C{keys}' order.
    """
    return tuple(index for key in keys for index, name in enumerate(names) if name == key)


def _key(name):
    key = _KEYS.get(name)
    if key is None:
        key = name.lower()
        key = COMPACT.get(key, key)
        if len(_KEYS) < 1024:
            _KEYS[name] = key
    return key


def _namedField(name, value):
    """
    @return: the field C{(key, name, value)} of a value given by name, the
        name in its written spelling.
    @raise ValueError: if the text holds CR or LF.
    """
    if isinstance(value, str) and ("\r" in value or "\n" in value):
        raise ValueError(f"a header field value cannot hold CR or LF: {value!r}")
    key = _KEYS.get(name) or _key(name)
    return (key, CANONICAL.get(key) or name, value)


def _copiedValue(value):
    """
    A typed value as a copy of its field holds it (L{Headers.copyFrom}):
    an address parsed already as an independent copy (an untouched view of
    a shared address as that shared address), anything else as its text.
    """
    if isinstance(value, NameAddress):
        return value.shared() or value.copy()
    return str(value)


def _tagged(value, name, tag):
    """
    An address field's value with the C{tag} parameter unless it has one
    (L{Headers.addTag}).

    @param value: text, a shared L{oso.sip.headers.KnownAddress}, or a
        L{oso.sip.headers.NameAddress} of the caller's own, which is given
        the tag in place.
    @param tag: the tag, or a function of no arguments that gives it.
    @return: the text the value given the tag writes (a value not parsed
        into one of the caller's own is not copied), or C{value} itself
        when it had a tag or was given one in place.
    @raise SIPParseError: if the text is malformed.
    """
    known = sharedAddress(value, name) if type(value) is str else value
    if type(known) is not KnownAddress:
        if known.tag is None:
            known.tag = tag() if callable(tag) else tag
        return known
    if known.address._params.get("tag") is not None:
        # (NameAddress.tag, without its call: the shared value's
        # parameters are its own, never None.)
        return value
    if callable(tag):
        tag = tag()
    return f"{known};tag={tag}"


class Headers:
    """
    The header fields of a message, in order. Names are matched
    case-insensitively and compact forms stand for their full names; they
    are written in their canonical spelling (a field this codec does not
    know keeps its own). A field of L{LIST_HEADERS} is treated as one value
    per comma-separated element; any other field as one value per line.

    Values are text, or typed values (L{oso.sip.headers.Via},
    L{oso.sip.headers.NameAddress}, ...) once parsed: C{str()} of a value is
    what is written. An address checked on reading (From, To, a request's
    Contacts) is held as the shared L{oso.sip.headers.KnownAddress} of its
    text until it is asked for, and only then copied into a value of the
    message's own (which changes write); each field is an immutable
    C{(key, name, value)} tuple, so that a response shares the fields it
    copies as they are.
    """

    __slots__ = ("_fields", "_split")

    def __init__(self, fields=()):
        """
        @param fields: C{(name, value)} pairs in order.
        """
        self._fields = []
        self._split = ()
        for name, value in fields:
            self.add(name, value)

    @classmethod
    def _fromParsed(cls, fields, split=()):
        headers = cls.__new__(cls)
        headers._fields = fields
        headers._split = split
        return headers

    def _splitValues(self, key):
        """
        Turn every field line of the list field C{key} into one entry per
        element, once. An empty element is dropped, or refused in a field
        with a typed view (RFC 4475 3.1.2.1: C{Via: ...;;,;,,}).
        """
        if key in self._split or key not in LIST_HEADERS:
            return
        strict = key in PARSERS

        def splittable(field):
            value = field[2]
            return (
                field[0] == key
                and isinstance(value, str)
                and ("," in value or not (value or strict))
            )

        for field in self._fields:
            if field[0] == key and splittable(field):
                break
        else:
            self._split += (key,)
            return
        fields = []
        for field in self._fields:
            if not splittable(field):
                fields.append(field)
                continue
            for element in splitList(field[2], field[1]):
                if element:
                    fields.append((key, field[1], element))
                elif strict:
                    raise SIPParseError(
                        f"empty element in {field[1]}: {field[2]!r}",
                        reason=f"Bad {field[1]}",
                    )
        self._fields = fields
        self._split += (key,)

    def getAll(self, name):
        """
        @return: the text of every value of the field C{name}, in order
            (one per line where a list field cannot be split, so that even
            a malformed field can be copied into an error response).
        """
        key = _KEYS.get(name) or _key(name)
        for field in self._fields:
            if field[0] == key:
                break
        else:
            # Absent (Require, Supported and Route from most clients):
            # no split to try, no list to build.
            return []
        key = self._splitKey(name)
        return [str(field[2]) for field in self._fields if field[0] == key]

    def get(self, name, default=None):
        """
        @return: the text of the first value of the field C{name} (as
            L{getAll} would give it first), or C{default}.
        """
        key = _KEYS.get(name) or _key(name)
        if key in LIST_HEADERS and key not in self._split:
            self._splitKey(name)
        for field in self._fields:
            if field[0] == key:
                return str(field[2])
        return default

    def _splitKey(self, name):
        """
        @return: the key of the field C{name}, its values split (when
            they can be) if it is a list field.
        """
        key = _KEYS.get(name) or _key(name)
        if key in LIST_HEADERS and key not in self._split:
            try:
                self._splitValues(key)
            except SIPParseError:
                pass
        return key

    def getAllParsed(self, name):
        """
        The typed values of a structured field (one of
        L{oso.sip.headers.PARSERS}), parsed on first use and kept.

        @return: a list of typed values, in order.
        @raise SIPParseError: if one of them is malformed.
        @raise KeyError: if the codec has no typed view of the field.
        """
        key = _KEYS.get(name) or _key(name)
        parse = PARSERS[key]
        if key in LIST_HEADERS and key not in self._split:
            self._splitValues(key)
        values = []
        for index, field in enumerate(self._fields):
            if field[0] == key:
                value = field[2]
                if type(value) is str or type(value) is KnownAddress:
                    value = self._own(index, parse)
                values.append(value)
        return values

    def held(self, name):
        """
        The values of the field C{name} as the message holds them, none
        made its own: text, a typed value, or for an address checked on
        reading and not asked for since (From, To, a request's Contacts)
        its shared L{oso.sip.headers.KnownAddress}. For looking at, never
        for changing: finding that a value is the very one read before (a
        registrar's repeated REGISTER), or reading an address without the
        copy L{getParsed} makes of it.

        @return: a list of values, in order (a list field split first).
        @raise SIPParseError: when a list field cannot be split.
        """
        key = _KEYS.get(name) or _key(name)
        if key in LIST_HEADERS and key not in self._split:
            self._splitValues(key)
        return [field[2] for field in self._fields if field[0] == key]

    def getParsed(self, name):
        """
        @return: the first typed value of the field C{name} (parsing only
            that one), or C{None}.
        @raise SIPParseError: if it is malformed.
        @raise KeyError: if the codec has no typed view of the field.
        """
        key = _KEYS.get(name) or _key(name)
        if key not in PARSERS:
            raise KeyError(key)
        if key in LIST_HEADERS and key not in self._split:
            self._splitValues(key)
        return self._first(key)

    def _first(self, key):
        """
        L{getParsed} of the field C{key} (a lowercased full name), its
        values split already if it is a list field.
        """
        fields = self._fields
        for field in fields:
            if field[0] == key:
                value = field[2]
                if type(value) is str or type(value) is KnownAddress:
                    # The first field of its key: no equal one before it.
                    return self._own(fields.index(field), PARSERS[key])
                return value
        return None

    def _own(self, index, parse):
        """
        Replace the value of field C{index} (text, or a shared
        L{oso.sip.headers.KnownAddress}) with a typed value of this
        message's own.

        @return: that value.
        """
        fields = self._fields
        key, name, value = fields[index]
        if type(value) is KnownAddress:
            # KnownAddress.view, without its call.
            value = NameAddress._view(value, value.address.displayName)
        else:
            value = parse(value, name)
        fields[index] = (key, name, value)
        return value

    def copyFrom(self, other, keys):
        """
        Append every value of the fields C{keys} (lowercased full names) of
        C{other}, field by field in C{keys}' order, as a response copies
        its request's (RFC 3261 8.2.6.2): text and shared addresses as
        they are (the field itself is shared: it cannot change), any other
        typed value as L{_copiedValue} gives it. A list field split in
        C{other} stays split here when these headers were empty.
        """
        plan, listed = other._copying(keys)
        source = other._fields
        fields = self._fields
        fresh = not fields
        for index in plan:
            field = source[index]
            value = field[2]
            if type(value) is not str and type(value) is not KnownAddress:
                field = (field[0], field[1], _copiedValue(value))
            fields.append(field)
        for key in listed:
            if fresh and key in other._split:
                if key not in self._split:
                    self._split += (key,)
            elif key in self._split:
                self._unsplit(key)

    def _copying(self, keys):
        """
        Make ready to copy the fields C{keys} (L{copyFrom}): their list
        fields split (when they can be).

        Which fields go where is planned once per sequence of field names
        (a client writes its requests' fields in the same order each time)
        and kept in L{_COPY_PLANS}.

        @return: the indexes of the fields to copy, in the copy's order,
            and the list fields among C{keys}.
        """
        listed = _LISTED.get(keys)
        if listed is None:
            listed = _LISTED.keep(keys, tuple(key for key in keys if key in LIST_HEADERS))
        for key in listed:
            if key not in self._split:
                try:
                    self._splitValues(key)
                except SIPParseError:
                    pass
        shape = (keys, *map(_KEY, self._fields))
        plan = _COPY_PLANS.get(shape)
        if plan is None:
            plan = _COPY_PLANS.keep(shape, _copyPlan(keys, shape[1:]))
        return plan, listed

    def addTag(self, name, tag):
        """
        Give the first value of the address field C{name} the C{tag}
        parameter unless it has one (as a UAS tags its response's To, RFC
        3261 8.2.6.2). A value not parsed into one of the message's own
        becomes the text its parsed value writes with C{;tag=} after it
        (what that value given the tag would write), without a copy.

        @param tag: the tag, or a function of no arguments that gives it,
            called only when the value has none (a tag that costs
            something to make is made only when needed).
        @raise SIPParseError: if the value is malformed.
        """
        key = _KEYS.get(name) or _key(name)
        fields = self._fields
        for index, field in enumerate(fields):
            if field[0] == key:
                value = field[2]
                tagged = _tagged(value, field[1], tag)
                if tagged is not value:
                    fields[index] = (key, field[1], tagged)
                return

    def _unsplit(self, key):
        if key in self._split:
            self._split = tuple(split for split in self._split if split != key)

    def _field(self, name, value):
        field = _namedField(name, value)
        if field[0] in self._split:
            self._unsplit(field[0])
        return field

    def add(self, name, value, first=False):
        """
        Add a value: after the other fields or, with C{first}, before every
        other value of the same field (as a proxy adds its Via).

        @param value: text or a typed value.
        @raise ValueError: if the text holds CR or LF.
        """
        field = self._field(name, value)
        if first:
            for index, existing in enumerate(self._fields):
                if existing[0] == field[0]:
                    self._fields.insert(index, field)
                    return
        self._fields.append(field)

    def set(self, name, value):
        """
        Replace every value of the field C{name} with C{value}, in the place
        of the first one (or after the other fields).

        @raise ValueError: if the text holds CR or LF.
        """
        field = self._field(name, value)
        fields = []
        placed = False
        for existing in self._fields:
            if existing[0] != field[0]:
                fields.append(existing)
            elif not placed:
                fields.append(field)
                placed = True
        if not placed:
            fields.append(field)
        self._fields = fields

    def remove(self, name):
        """
        Remove every value of the field C{name}.
        """
        key = _key(name)
        self._fields = [field for field in self._fields if field[0] != key]

    def removeFirst(self, name):
        """
        Remove the first value of the field C{name} (as a proxy removes its
        own Via from a response).

        @return: the removed value, or C{None} if there was none.
        """
        key = _key(name)
        self._splitValues(key)
        for index, field in enumerate(self._fields):
            if field[0] == key:
                return self._fields.pop(index)[2]
        return None

    def __contains__(self, name):
        key = _key(name)
        return any(field[0] == key for field in self._fields)

    def items(self):
        """
        @return: C{(name, text)} for every field value, in order, names in
            their written spelling.
        """
        return [(field[1], str(field[2])) for field in self._fields]

    def copy(self):
        """
        @return: new L{Headers} with the same values (typed values shared).
        """
        return Headers._fromParsed(list(self._fields), self._split)

    def _normalised(self):
        fields = []
        for key, name, value in self._fields:
            if key == "content-length":
                continue
            value = str(value)
            if key in LIST_HEADERS:
                try:
                    elements = splitList(value, name)
                except SIPParseError:
                    elements = [value]
                fields.extend((key, element) for element in elements if element)
            else:
                fields.append((key, value))
        return fields

    def __eq__(self, other):
        """
        Equal when the same fields have the same values in the same order,
        list fields compared element by element; Content-Length is ignored
        since it is always written from the body.
        """
        if not isinstance(other, Headers):
            return NotImplemented
        return self._normalised() == other._normalised()

    def __repr__(self):
        return f"<Headers {self.items()!r}>"


def _firstParsed(key, doc):
    """
    A property of L{Message}: L{Headers.getParsed} of the field C{key} (a
    lowercased full name), found without looking the name up again and,
    for a list field, without a split when its values are split already
    (as reading leaves Via and a request's Contacts). The accessors are
    read again and again by every layer.
    """
    listed = key in LIST_HEADERS

    def first(message):
        headers = message.headers
        if listed and key not in headers._split:
            headers._splitValues(key)
        return headers._first(key)

    return property(first, doc=doc)


class Message:
    """
    What requests and responses share: header fields and a body, typed
    access to the fields every layer uses, and writing.

    @ivar headers: the L{Headers}.
    @ivar body: the body, C{bytes}.
    """

    __slots__ = ("headers", "body")

    def __init__(self, headers, body):
        if headers is None:
            headers = Headers()
        elif not isinstance(headers, Headers):
            headers = Headers(headers)
        self.headers = headers
        self.body = body

    via = _firstParsed("via", "The first (topmost) L{oso.sip.headers.Via}, or C{None}.")

    @property
    def vias(self):
        """
        Every L{oso.sip.headers.Via}, topmost first.
        """
        return self.headers.getAllParsed("via")

    fromAddress = _firstParsed("from", "From as a L{oso.sip.headers.NameAddress}.")
    toAddress = _firstParsed("to", "To as a L{oso.sip.headers.NameAddress}.")

    @property
    def callID(self):
        """
        The Call-ID text.
        """
        for field in self.headers._fields:
            if field[0] == "call-id":
                return str(field[2])
        return None

    cseq = _firstParsed("cseq", "The L{oso.sip.headers.CSeq}.")

    @property
    def maxForwards(self):
        """
        Max-Forwards as an C{int}, or C{None} when absent (an RFC 2543
        client sends none; RFC 3261 16.6 step 3 has a proxy add it).
        """
        return self.headers.getParsed("max-forwards")

    @property
    def contacts(self):
        """
        The Contact values: L{oso.sip.headers.NameAddress} objects, or
        C{["*"]} for the wildcard of RFC 3261 10.2.2.
        """
        return self.headers.getAllParsed("contact")

    @property
    def routes(self):
        """
        The Route values as L{oso.sip.headers.NameAddress} objects.
        """
        return self.headers.getAllParsed("route")

    @property
    def recordRoutes(self):
        """
        The Record-Route values as L{oso.sip.headers.NameAddress} objects.
        """
        return self.headers.getAllParsed("record-route")

    def _startLine(self):
        raise NotImplementedError()

    def serialise(self):
        """
        Write the message: CRLF line ends, one line per field value (a
        parsed value written from its typed form) and a Content-Length
        that counts the body (RFC 3261 7.4.1, 18.3).

        @return: C{bytes}.
        """
        length = f"Content-Length: {len(self.body)}"
        # Every Content-Length field is written as the length; only one
        # such line (in the first one's place) is kept.
        lines = [
            length if key == "content-length" else f"{name}: {value}"
            for key, name, value in self.headers._fields
        ]
        count = lines.count(length)
        if count == 0:
            lines.append(length)
        elif count > 1:
            first = lines.index(length) + 1
            lines[first:] = [line for line in lines[first:] if line != length]
        lines.insert(0, self._startLine())
        lines.append("\r\n")
        return "\r\n".join(lines).encode("utf-8", "surrogateescape") + self.body

    def _sameStart(self, other):
        raise NotImplementedError()

    def __eq__(self, other):
        """
        Equal when of the same kind with the same start line, equal
        L{Headers} and the same body.
        """
        if type(self) is not type(other):
            return NotImplemented
        return (
            self._sameStart(other) and self.body == other.body and self.headers == other.headers
        )

    __hash__ = None


class Request(Message):
    """
    A SIP request.

    @ivar method: the method, case-sensitive (C{"INVITE"}).
    @ivar uri: the Request-URI (L{oso.sip.uri.SIPURI},
        L{oso.sip.uri.TelURI} or L{oso.sip.uri.AbsoluteURI}); C{None} only
        in the partial request of a L{SIPParseError} whose Request-Line
        was at fault.
    """

    __slots__ = ("method", "uri")

    def __init__(self, method, uri, headers=None, body=b""):
        """
        @param headers: L{Headers}, or C{(name, value)} pairs.
        """
        # Message.__init__ named: super() costs an object and a look-up
        # for every message read or made.
        Message.__init__(self, headers, body)
        self.method = method
        self.uri = uri

    def _startLine(self):
        return f"{self.method} {self.uri} {_VERSION}"

    def _sameStart(self, other):
        return self.method == other.method and str(self.uri) == str(other.uri)

    def __repr__(self):
        return f"<Request {self.method} {self.uri}>"


class Response(Message):
    """
    A SIP response.

    @ivar status: the status code, 100 to 699.
    @ivar reason: the reason phrase.
    """

    __slots__ = ("status", "reason")

    def __init__(self, status, reason=None, headers=None, body=b""):
        """
        @param reason: the reason phrase; by default the one RFC 3261 21
            gives the status (or C{""}).
        @param headers: L{Headers}, or C{(name, value)} pairs.
        """
        Message.__init__(self, headers, body)
        self.status = status
        self.reason = REASONS.get(status, "") if reason is None else reason

    def _startLine(self):
        return f"{_VERSION} {self.status} {self.reason}"

    def _sameStart(self, other):
        return self.status == other.status and self.reason == other.reason

    def __repr__(self):
        return f"<Response {self.status} {self.reason}>"


def writeResponse(request, status, reason, keys, tag, fields):
    """
    Write a response without making it: what L{Response.serialise} gives
    for C{Response(status, reason)} with C{request}'s fields C{keys}
    copied (L{Headers.copyFrom}), its first To given C{tag}
    (L{Headers.addTag}) and then C{fields} added (L{Headers.add}), with
    no body. A response a UAS sends and keeps only as sent (a challenge,
    a REGISTER's answer) costs about half as much so: no fields, values
    or L{Headers} made to be written once and dropped.

    @param tag: the To tag, or a function of no arguments that gives it
        (called only when To has none).
    @param fields: C{(name, value)} pairs, none of them Content-Length.
    @return: the text of the response's first Via (or C{None}), and the
        bytes.
    @raise SIPParseError: if To is malformed.
    @raise ValueError: if a value of C{fields} holds CR or LF.
    """
    headers = request.headers
    plan, _ = headers._copying(keys)
    source = headers._fields
    lines = [f"{_VERSION} {status} {reason}"]
    via = None
    tagged = False
    for index in plan:
        key, name, value = source[index]
        if type(value) is not str and type(value) is not KnownAddress:
            value = _copiedValue(value)
        if key == "via":
            if via is None:
                value = via = str(value)
        elif key == "to" and not tagged:
            tagged = True
            value = _tagged(value, name, tag)
        lines.append(f"{name}: {value}")
    for name, value in fields:
        _, name, value = _namedField(name, value)
        lines.append(f"{name}: {value}")
    lines.append("Content-Length: 0\r\n\r\n")
    return via, "\r\n".join(lines).encode("utf-8", "surrogateescape")


def _fieldName(name):
    """
    @return: the lowercased full name of a field (compact forms expanded)
        and the spelling to write it in.
    """
    names = _NAMES.get(name)
    if names is None:
        key = name.lower()
        key = COMPACT.get(key, key)
        names = (key, CANONICAL.get(key) or name)
        if len(_NAMES) < 1024:
            _NAMES[name] = names
    return names


def _quickFields(lines):
    """
    Split the header lines C{lines} (the start line excluded) when there
    is neither folding nor a malformed line: each is a field name (a
    token, whitespace after it allowed) and a colon. A line read before
    is taken from L{_LINES} with its field (a tuple: shared as it is);
    for another the text before the colon is looked up among the names
    seen before, the pattern run only for one not seen.

    @return: C{(key, name, value)} entries, or C{None} to take the slow
        path.
    """
    names = _NAMES
    known = _LINES
    fields = []
    for line in lines:
        field = known.get(line)
        if field is None:
            name, colon, value = line.partition(":")
            found = names.get(name)
            if found is None or not colon:
                match = _NAME_RE.fullmatch(name)
                if match is None or not colon:
                    return None
                found = _fieldName(match.group(1))
                if len(names) < 1024:
                    names[name] = found
            field = (found[0], found[1], value.strip(" \t"))
            if found[0] not in _NEW_EACH_TIME:
                known.keep(line, field)
        fields.append(field)
    return fields


def _splitFields(lines):
    """
    Split header lines into C{[key, name, value]} entries, unfolding
    continuation lines (RFC 3261 7.3.1).

    @return: the entries, and the first fault found (or C{None}): the
        entries then hold every well-formed field, for a partial request.
    """
    fields = []
    fault = None
    for line in lines:
        if line[:1] in (" ", "\t"):
            if fields:
                fields[-1][2].append(line.strip(" \t"))
            elif fault is None:
                fault = SIPParseError(
                    "continuation line before any header field", reason="Bad Header"
                )
            continue
        colon = line.find(":")
        name = line[:colon].rstrip(" \t")
        if colon < 0 or not isToken(name):
            if fault is None:
                fault = SIPParseError(f"malformed header line: {line!r}", reason="Bad Header")
            continue
        key, name = _fieldName(name)
        fields.append([key, name, [line[colon + 1 :].strip(" \t")]])
    return [(key, name, " ".join(part for part in parts if part)) for key, name, parts in fields], fault


def _fieldPlan(fields):
    """
    Where the fields are, by their keys alone (a client writes its
    requests' fields in the same order each time: L{_checkFields} keeps
    this by that order in L{_FIELD_PLANS}).

    @return: the indexes of the first Via, From, To, Call-ID, CSeq,
        Max-Forwards, Content-Length, Date and Contact fields (C{None}
        for one absent), and whether Via and Contact are on more than
        one line.
    @raise SIPParseError: when a mandatory field is missing (RFC 3261
        8.1.1) or a single one repeated (RFC 3261 20); such an order is
        not kept, and is found faulty again each time it comes.
    """
    found = {}
    repeated = set()
    for index, field in enumerate(fields):
        key = field[0]
        if key not in found:
            found[key] = index
        elif key in _SINGLE:
            raise SIPParseError(f"more than one {field[1]} header field", reason=f"Bad {field[1]}")
        else:
            repeated.add(key)
    for key in _MANDATORY:
        if key not in found:
            name = CANONICAL[key]
            raise SIPParseError(f"no {name} header field", reason=f"Missing {name}")
    return (
        *[found[key] for key in _MANDATORY],
        *[found.get(key) for key in ("max-forwards", "content-length", "date", "contact")],
        "via" in repeated,
        "contact" in repeated,
    )


def _checkFields(headers, request):
    """
    The checks every receiver makes (RFC 3261 8.1.1, 8.2.2, 20): mandatory
    fields present and single ones single; each of them, the top Via and
    Max-Forwards (when present) well-formed; and for a request CSeq's
    method that of the request, the Contacts and Date well-formed.

    CSeq, Max-Forwards and the top Via are kept parsed. From, To and the
    Contacts are read through the cache of addresses seen before
    (L{oso.sip.headers.sharedAddress}) and kept as the shared
    L{oso.sip.headers.KnownAddress}, copied into a value of the message's
    own only when asked for.

    @return: the index of the Content-Length field, or C{None}.
    """
    fields = headers._fields
    shape = tuple(map(_KEY, fields))
    plan = _FIELD_PLANS.get(shape)
    if plan is None:
        plan = _FIELD_PLANS.keep(shape, _fieldPlan(fields))
    via, origin, to, callID, sequence, maxForwards, length, date, contact, vias, contacts = plan
    callID = fields[callID][2]
    if not _CALL_ID_RE.fullmatch(callID):
        raise SIPParseError(f"malformed Call-ID: {callID!r}", reason="Bad Call-ID")
    _, name, text = fields[sequence]
    cseq = parseCSeq(text, name)
    fields[sequence] = ("cseq", name, cseq)
    # The cache of sharedAddress looked at first: To, and most From
    # values, were read before, and a call is most of what a hit costs.
    _, name, text = fields[origin]
    fields[origin] = ("from", name, _ADDRESSES.get(text) or sharedAddress(text, name))
    _, name, text = fields[to]
    fields[to] = ("to", name, _ADDRESSES.get(text) or sharedAddress(text, name))
    if maxForwards is not None:
        _, name, text = fields[maxForwards]
        fields[maxForwards] = ("max-forwards", name, parseMaxForwards(text, name))
    if request is not None and cseq.method != request.method:
        raise SIPParseError(
            f"CSeq method {cseq.method} differs from the request method {request.method}",
            reason="CSeq method mismatch",
        )
    lengthField = None if length is None else fields[length]
    if date is not None:
        date = fields[date][2]
    _checkVia(headers, via, vias)
    # Splitting Via lines moves the fields after them.
    moved = headers._fields is not fields
    if moved:
        fields = headers._fields
    if request is not None:
        if contact is not None:
            _checkContacts(headers, contact, moved or contacts)
        if date is not None:
            parseDate(date)
    if length is None:
        return None
    if moved or headers._fields is not fields:
        # Via or Contact lines split.
        return headers._fields.index(lengthField)
    return length


def _checkVia(headers, index, several):
    """
    Check the top Via (every Via line split first, an empty element
    refused) and keep it parsed. A Via that is the one line of its field
    and holds no comma needs no splitting: it is marked split as it
    stands (the check is written here, not in a function of its own
    shared with L{_checkContacts}: a Python call per field is most of
    what it costs).

    @param index: the index of the first Via field.
    @param several: whether there may be more than one Via line, or
        C{index} may be out of date.
    """
    if not several:
        fields = headers._fields
        _, name, text = fields[index]
        if "," not in text:
            headers._split += ("via",)
            fields[index] = ("via", name, parseVia(text, name))
            return
    headers.getParsed("via")


def _checkContacts(headers, index, several):
    """
    Check a request's Contacts (each an address, or one C{*} alone),
    keeping each address as its shared L{oso.sip.headers.KnownAddress}.

    @param index: the index of the first Contact field.
    @param several: as for L{_checkVia}.
    """
    if not several:
        fields = headers._fields
        _, name, text = fields[index]
        if "," not in text:
            # One line, one value: no split (as for the top Via).
            headers._split += ("contact",)
            if text != "*":
                known = _ADDRESSES.get(text) or sharedAddress(text, name)
                fields[index] = ("contact", name, known)
            return
    headers._splitValues("contact")
    fields = headers._fields
    count = 0
    wildcard = False
    for index, field in enumerate(fields):
        if field[0] == "contact":
            count += 1
            text = field[2]
            if text == "*":
                wildcard = True
                continue
            fields[index] = ("contact", field[1], sharedAddress(text, field[1]))
    if wildcard and count > 1:
        raise SIPParseError("Contact '*' with other contacts", reason="Bad Contact")


def _parseStartLine(line, headers):
    """
    @param headers: the message's L{Headers}.
    @return: C{(Request, None)} for a Request-Line, C{(None, (status,
        reason))} for a Status-Line.
    @raise SIPParseError: with a partial request whose C{uri} is C{None}
        when the line looks like a Request-Line but is not one.
    """
    known = _REQUEST_LINES.get(line)
    if known is not None:
        return Request(known[0], known[1].copy(), headers), None
    if line[:4].upper() == "SIP/":
        version, _, rest = line.partition(" ")
        code, _, reason = rest.partition(" ")
        if version.upper() != _VERSION:
            raise SIPParseError(
                f"unsupported version in status line: {line!r}", reason="Bad SIP-Version"
            )
        if not (len(code) == 3 and code.isdigit() and code.isascii() and code[0] in "123456"):
            raise SIPParseError(f"malformed status line: {line!r}", reason="Bad Status-Line")
        return None, (int(code), reason)
    parts = line.split(" ")
    method = parts[0]
    if not isToken(method):
        raise SIPParseError(f"malformed start line: {line!r}", reason="Bad Request-Line")
    request = Request(method, None, headers)
    if len(parts) != 3 or not parts[1]:
        raise SIPParseError(
            f"malformed Request-Line: {line!r}", reason="Bad Request-Line", partial=request
        )
    version = parts[2]
    if version.upper() != _VERSION:
        if _VERSION_RE.fullmatch(version):
            raise SIPParseError(
                f"unsupported SIP version {version}",
                505,
                "Version Not Supported",
                partial=request,
            )
        raise SIPParseError(
            f"malformed SIP-Version: {version!r}", reason="Bad SIP-Version", partial=request
        )
    try:
        uri = parseURI(parts[1])
    except SIPParseError as e:
        e.reason = "Bad Request-URI"
        e.partial = request
        raise
    if isinstance(uri, SIPURI) and uri.headers:
        # RFC 3261 19.1.1 (table 1): no headers in a Request-URI; RFC 4475
        # 3.1.2.11.
        raise SIPParseError(
            f"header component in the Request-URI {parts[1]!r}",
            reason="Bad Request-URI",
            partial=request,
        )
    request.uri = uri
    # Kept as a URI of its own (never handed out: each request gets a
    # copy).
    _REQUEST_LINES.keep(line, (method, uri.copy()))
    return request, None


def parseMessage(data, datagram=True):
    """
    Read one SIP message.

    @param data: the whole message: a datagram, or one message cut from a
        stream by L{oso.sip.framing.StreamFramer}.
    @param datagram: C{True} for a message from a datagram, where a missing
        Content-Length means the rest of the datagram and octets past the
        Content-Length are dropped; C{False} for a stream, where
        Content-Length is required and must count the body exactly
        (RFC 3261 18.3).
    @return: a L{Request} or a L{Response}.
    @raise SIPParseError: when the bytes are not a valid message. For a
        request its C{statusCode}/C{reason} give the answer (400, or 505
        for another SIP version) and C{partial} the readable part.

    What is checked at once: the start line (SIP/2.0, a method token and a
    URI without headers, or a status code from 100 to 699); Via, From, To,
    Call-ID and CSeq present (RFC 3261 8.1.1), and at most one From, To,
    Call-ID, CSeq, Max-Forwards, Content-Length and Content-Type; those
    fields and the top Via well-formed, CSeq's number below 2**32 and its
    method the request's; Max-Forwards from 0 to 255 when present (it may
    be absent: RFC 2543 clients send none, and RFC 3261 16.6 step 3 has a
    proxy add one); in a request, the Contacts and a Date well-formed;
    Content-Length against the body. The other fields are parsed when
    first asked for.
    """
    data = bytes(data)
    start = 0
    while data.startswith(b"\r\n", start):
        # RFC 3261 7.5: CRLFs before the start line are ignored.
        start += 2
    end = data.find(b"\r\n\r\n", start)
    head = (data[start:] if end < 0 else data[start:end]).decode("utf-8", "surrogateescape")
    lines = head.split("\r\n")
    # A CR or LF left once the lines are cut at their CRLFs is a bare one.
    # (Joined, the lines are searched at once: counting each of CR, LF and
    # CRLF in the head went character by character.)
    joined = "".join(lines)
    if "\r" in joined or "\n" in joined:
        raise SIPParseError("bare CR or LF in the header", reason="Bad Header")
    fields = _quickFields(lines[1:])
    fault = None
    if fields is None:
        fields, fault = _splitFields(lines[1:])
    headers = Headers._fromParsed(fields)
    request, status = _parseStartLine(lines[0], headers)
    try:
        if fault is not None:
            raise fault
        if end < 0:
            raise SIPParseError("no empty line after the header", reason="Bad Header")
        lengthIndex = _checkFields(headers, request)
        body = data[end + 4 :]
        if lengthIndex is None:
            if not datagram:
                raise SIPParseError(
                    "no Content-Length in a message from a stream",
                    reason="Missing Content-Length",
                )
        else:
            fields = headers._fields
            _, name, text = fields[lengthIndex]
            length = parseContentLength(text, name)
            fields[lengthIndex] = ("content-length", name, length)
            if length > len(body) or (length < len(body) and not datagram):
                raise SIPParseError(
                    f"Content-Length {length} but a body of {len(body)} octets",
                    reason="Content-Length mismatch",
                )
            body = body[:length]
    except SIPParseError as e:
        e.partial = request
        raise
    if request is None:
        return Response(status[0], status[1], headers, body)
    request.body = body
    return request
