"""
Header fields: their names (canonical spellings, compact forms, which ones
hold comma-separated lists) and typed views of the structured ones
(RFC 3261 section 20, grammar in 25.1): Via, name-addr fields (From, To,
Contact, Route, Record-Route), CSeq, the numeric fields, Date and the
digest authentication fields (RFC 2617 as profiled by RFC 3261 22.4).

Every parser here takes the field value as the message holds it (folding
already replaced by a space, outer whitespace stripped) and the field's
name for its error, and raises L{SIPParseError} with reason C{"Bad <name>"}.
"""

import ipaddress
import re
from datetime import datetime, timezone

from oso.sip.memo import Memo
from oso.sip.uri import SIPParseError, parseURI

_TOKEN = r"A-Za-z0-9\-.!%*_+`'~"
# A quoted-string, the loop unrolled (runs of plain characters matched at
# once, not one alternation per character): the same strings, far fewer
# steps of the regular expression engine.
_QUOTED = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_TOKEN_RE = re.compile(rf"[{_TOKEN}]+")
_GENERIC_PARAM_RE = re.compile(
    rf"[ \t]*;[ \t]*([{_TOKEN}]+)(?:[ \t]*=[ \t]*({_QUOTED}|[{_TOKEN}:\[\]]+))?[ \t]*"
)
# Parameters with neither whitespace nor quoted-strings, checked at once
# (the common case; any other text takes the general loop).
# (Possessive: each name and value ends at the one character that can
# follow it, so nothing is given back; the engine keeps no state to.)
_PLAIN_PARAMS_RE = re.compile(rf"(?:;[{_TOKEN}]++(?:=[{_TOKEN}:\[\]]++)?+)*+")
# The value of such a parameter.
_PLAIN_VALUE_RE = re.compile(rf"[{_TOKEN}:\[\]]++")
_NAME_ADDR_RE = re.compile(rf"(?:({_QUOTED})[ \t]*|([{_TOKEN} \t]*))<([^>]*)>")
_VIA_RE = re.compile(
    rf"([{_TOKEN}]+)[ \t]*/[ \t]*([{_TOKEN}]+)[ \t]*/[ \t]*([{_TOKEN}]+)[ \t]+"
    r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._]+)(?:[ \t]*:[ \t]*([0-9]{1,5}))?"
)
_AUTH_SCHEME_RE = re.compile(rf"([{_TOKEN}]+)[ \t]+")
# One auth-param, or (the last alternative) the rest of the text where no
# auth-param starts: each auth-param can end in one place only (a value
# runs to a space, comma, quote or its closing quote), so the parameters
# found one after the other from the start are the list's, and the rest
# is found only when the list is malformed.
_AUTH_PARAM_RE = re.compile(
    rf'([{_TOKEN}]+)[ \t]*=[ \t]*({_QUOTED}|[^ \t,"]+)[ \t]*(?:,[ \t]*|$)|(.+)'
)
# The layout of credentials or a challenge of the common form (see
# L{_plainAuth}): a scheme, then parameters without whitespace around
# "=", separated by "," or ", ", each a token or a quoted-string written
# as one quote.
_AUTH_LAYOUT_RE = re.compile(
    rf'([{_TOKEN}]+)[ \t]+[{_TOKEN}]+=(?:"|[^ \t,"]+)(?:, ?[{_TOKEN}]+=(?:"|[^ \t,"]+))*'
)
_AUTH_LAYOUT_PARAM_RE = re.compile(rf'([{_TOKEN}]+)=("|[^ \t,"]+)')
_LIST_PART_RE = re.compile(rf'{_QUOTED}|<[^>]*>|[^,"<]+|,')
_DATE_RE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{2}) "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([0-9]{4}) "
    r"([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT"
)
_ADDRESSES = Memo(2048)
# The display name and URI of a name-addr, and what a value with them
# writes before its parameters, by its text up to the ">".
_NAME_ADDR_HEADS = Memo(2048)
_CSEQS = Memo(1024)
_NUMBERS = Memo(1024)
_VIA_SENT = Memo(1024)
# What a Via and a name-addr read as up to the value of their last
# parameter (a new branch, a new From tag), by their text up to it (see
# _lastValue): what they read as but that value, and its name (and for a
# name-addr, what it writes before that value).
_VIA_HEADS = Memo(1024)
_ADDRESS_HEADS = Memo(2048)
# What the layouts of credentials and challenges read before read as.
_AUTH_LAYOUTS = Memo(1024)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_UNQUOTE_RE = re.compile(r"\\(.)", re.DOTALL)
_QUOTE_RE = re.compile(r'[\x00-\x08\x0a-\x1f"\\\x7f]')

#: RFC 3261 7.3.3 and later RFCs' compact forms, to the full lowercased name.
COMPACT = {
    "a": "accept-contact",
    "b": "referred-by",
    "c": "content-type",
    "d": "request-disposition",
    "e": "content-encoding",
    "f": "from",
    "i": "call-id",
    "j": "reject-contact",
    "k": "supported",
    "l": "content-length",
    "m": "contact",
    "n": "identity-info",
    "o": "event",
    "r": "refer-to",
    "s": "subject",
    "t": "to",
    "u": "allow-events",
    "v": "via",
    "x": "session-expires",
    "y": "identity",
}

#: Lowercased name to the spelling the RFCs use, for writing.
CANONICAL = {
    name.lower(): name
    for name in (
        "Accept Accept-Contact Accept-Encoding Accept-Language Alert-Info Allow "
        "Allow-Events Authentication-Info Authorization Call-ID Call-Info Contact "
        "Content-Disposition Content-Encoding Content-Language Content-Length "
        "Content-Type CSeq Date Error-Info Event Expires From History-Info "
        "Identity Identity-Info In-Reply-To Max-Forwards MIME-Version Min-Expires "
        "Min-SE Organization P-Asserted-Identity P-Preferred-Identity Path "
        "Priority Privacy Proxy-Authenticate Proxy-Authorization Proxy-Require "
        "RAck Reason Record-Route Refer-To Referred-By Reject-Contact Replaces "
        "Reply-To Request-Disposition Require Retry-After Route RSeq "
        "Security-Client Security-Server Security-Verify Server Service-Route "
        "Session-Expires SIP-ETag SIP-If-Match Subject Subscription-State "
        "Supported Timestamp To Unsupported User-Agent Via Warning "
        "WWW-Authenticate"
    ).split()
}

#: Fields whose value is a comma-separated list (RFC 3261 7.3.1), split
#: into one value per element. Every other field is never split: notably
#: the authentication fields and Date, whose values hold commas, and
#: fields this codec does not know.
LIST_HEADERS = frozenset(
    (
        "accept accept-contact accept-encoding accept-language alert-info allow "
        "allow-events call-info contact content-encoding content-language "
        "error-info history-info in-reply-to p-asserted-identity "
        "p-preferred-identity path proxy-require reason record-route "
        "reject-contact request-disposition require route security-client "
        "security-server security-verify service-route supported unsupported "
        "via warning"
    ).split()
)


def _fail(name, text):
    return SIPParseError(f"bad {name} header field: {text!r}", reason=f"Bad {name}")


def isToken(text):
    """
    @return: whether C{text} is an RFC 3261 C{token} (a method, a header
        name, a parameter name).
    """
    return _TOKEN_RE.fullmatch(text) is not None


def quoteString(text):
    """
    Write C{text} as an RFC 3261 quoted-string, backslash-escaping what
    qdtext may not hold.

    @raise ValueError: if C{text} holds a CR or LF, which no quoted-string
        can carry.
    """
    if _QUOTE_RE.search(text) is None:
        return f'"{text}"'
    if "\r" in text or "\n" in text:
        raise ValueError(f"a quoted-string cannot hold CR or LF: {text!r}")
    return '"' + _QUOTE_RE.sub(r"\\\g<0>", text) + '"'


def unquoteString(quoted):
    """
    The text of an RFC 3261 quoted-string (with its quotes), quoted-pairs
    resolved.
    """
    inner = quoted[1:-1]
    return _UNQUOTE_RE.sub(r"\1", inner) if "\\" in inner else inner


def splitList(text, name="header"):
    """
    Split a comma-separated field value into its elements (RFC 3261 7.3.1),
    never inside a quoted-string or between angle brackets.

    @return: the elements, stripped; empty ones included.
    @raise SIPParseError: on an unterminated quoted-string or C{<}.
    """
    if '"' not in text and "<" not in text:
        return [item.strip(" \t") for item in text.split(",")]
    items = []
    start = pos = 0
    end = len(text)
    while pos < end:
        match = _LIST_PART_RE.match(text, pos)
        if match is None:
            raise _fail(name, text)
        if match.group() == ",":
            items.append(text[start:pos].strip(" \t"))
            start = match.end()
        pos = match.end()
    items.append(text[start:].strip(" \t"))
    return items


def parseParams(text, pos, name="header"):
    """
    Read C{*( SEMI generic-param )} from C{text} at C{pos} to its end.

    @return: a dict of lowercased names to values as written (a
        quoted-string keeps its quotes), C{None} for a bare name.
    @raise SIPParseError: on an empty or repeated parameter, or a value
        that is neither a token, a host nor a quoted-string.
    """
    if pos == len(text) or not _PLAIN_PARAMS_RE.fullmatch(text, pos):
        return _readParams(text, pos, name)
    rest = text[pos + 1 :]
    if ";" not in rest:
        # One parameter (a From tag, a Via branch): nothing to split.
        key, eq, value = rest.partition("=")
        return {key.lower(): value if eq else None}
    params = {}
    for item in rest.split(";"):
        key, eq, value = item.partition("=")
        key = key.lower()
        if key in params:
            raise _fail(name, text)
        params[key] = value if eq else None
    return params


def _lastValue(text, pos):
    """
    Where the value of the last parameter of C{text} starts, when its
    parameters (from C{pos}, their first C{;}) are of the common form
    (L{_PLAIN_PARAMS_RE}) and the last one has a value; else 0.

    Any text with the same start up to there and a value of that form
    (L{_PLAIN_VALUE_RE}) reads as this one but for that value: the start
    decides everything before the value, and the value ends the text. So
    L{parseVia} and L{sharedAddress} keep what a text read as by its start
    (L{_VIA_HEADS}, L{_ADDRESS_HEADS}), and read the next one with the same
    start (a client's Via with a new branch, its From with a new tag) by
    checking its value alone.
    """
    cut = text.rfind("=") + 1
    if pos < len(text) and cut > text.rfind(";") and _PLAIN_PARAMS_RE.fullmatch(text, pos):
        return cut
    return 0


def _withoutLast(params):
    """
    @return: a copy of C{params} without its last parameter, and that
        parameter's name.
    """
    before = params.copy()
    return before, before.popitem()[0]


def _readParams(text, pos, name):
    """
    L{parseParams} for any text: one parameter at a time, whitespace and
    quoted-strings allowed.
    """
    params = {}
    end = len(text)
    while pos < end:
        match = _GENERIC_PARAM_RE.match(text, pos)
        if match is None:
            raise _fail(name, text)
        key = match.group(1).lower()
        if key in params:
            raise _fail(name, text)
        params[key] = match.group(2)
        pos = match.end()
    return params


def writeParams(params):
    """
    Write a dict of parameters as C{;name=value} (C{;name} for C{None}).
    Added up one by one: a message's few parameters cost less so than
    through a list and a join.
    """
    if not params:
        return ""
    text = ""
    for key, value in params.items():
        text += f";{key}" if value is None else f";{key}={value}"
    return text


class NameAddress:
    """
    A name-addr or addr-spec with header parameters: the value of From, To,
    Contact, Route, Record-Route and their kin (RFC 3261 20.10, 20.20,
    20.39, 25.1). Written back always in the name-addr form,
    C{"display" <uri>;params}.

    @ivar uri: a L{oso.sip.uri.SIPURI}, L{oso.sip.uri.TelURI} or
        L{oso.sip.uri.AbsoluteURI}.
    @ivar displayName: the display name, unquoted, or C{None}.
    @ivar params: lowercased name to value as written (quoted-strings keep
        their quotes), C{None} for a bare name.

    A value read from text (L{parseNameAddress}, a message's fields)
    starts as a view of the cached L{KnownAddress} of that text: its
    C{uri} and C{params} are copied from the cached value when first
    touched, so that the value is the reader's own to change while one
    that is only looked at (its C{tag}) or written costs no copy.
    """

    __slots__ = ("_uri", "displayName", "_params", "_known")

    def __init__(self, uri, displayName=None, params=None):
        self._uri = uri
        self.displayName = displayName
        self._params = {} if params is None else params
        self._known = None

    @classmethod
    def _view(cls, known, displayName):
        address = cls.__new__(cls)
        address._uri = address._params = None
        address.displayName = displayName
        address._known = known
        return address

    @property
    def uri(self):
        uri = self._uri
        if uri is None and self._known is not None:
            uri = self._uri = self._known.address._uri.copy()
        return uri

    @uri.setter
    def uri(self, uri):
        self._uri = uri

    @property
    def params(self):
        params = self._params
        if params is None:
            params = self._params = self._known.address._params.copy()
        return params

    @params.setter
    def params(self, params):
        self._params = params

    def shared(self):
        """
        @return: the L{KnownAddress} this value is still an untouched view
            of (its C{uri} and C{params} never asked for, its display name
            the same), or C{None}.
        """
        known = self._known
        if (
            known is None
            or self._uri is not None
            or self._params is not None
            or self.displayName != known.address.displayName
        ):
            return None
        return known

    def copy(self):
        """
        @return: an equal L{NameAddress} sharing nothing mutable with this
            one.
        """
        known = self.shared()
        if known is not None:
            return NameAddress._view(known, self.displayName)
        return NameAddress(self.uri.copy(), self.displayName, self.params.copy())

    @property
    def tag(self):
        """
        The C{tag} parameter (RFC 3261 19.3), or C{None}.
        """
        params = self._params
        if params is None:
            params = self._known.address._params
        return params.get("tag")

    @tag.setter
    def tag(self, value):
        self.params["tag"] = value

    def __str__(self):
        known = self._known
        uri, params = self._uri, self._params
        if known is not None:
            if uri is None and params is None and self.displayName == known.address.displayName:
                return str(known)
            # Written from the cached parts not yet copied, without copying
            # them.
            if uri is None:
                uri = known.address._uri
            if params is None:
                params = known.address._params
        address = f"<{uri}>{writeParams(params)}"
        if self.displayName is None:
            return address
        return f"{quoteString(self.displayName)} {address}"

    def __repr__(self):
        return f"<NameAddress {self}>"


def parseNameAddress(text, name="Address"):
    """
    Read a name-addr (C{["display"] <uri>}) or an addr-spec, followed by
    header parameters. In the addr-spec form the parameters belong to the
    header field, and a URI holding C{?} or C{,} is refused (RFC 3261 20:
    such a URI must be in angle brackets).

    @return: a new L{NameAddress}.
    @raise SIPParseError: on a malformed value; C{name} names the field.
    """
    return sharedAddress(text, name).view()


class KnownAddress:
    """
    An address value read before, shared by every message that holds the
    same text: its parsed L{NameAddress}, which must not be changed, and
    (C{str()}) the text that value writes, made when first asked for.

    @ivar address: the L{NameAddress}.
    """

    __slots__ = ("address", "_written")

    def __init__(self, address, written=None):
        """
        @param written: what C{address} writes, when known already.
        """
        self.address = address
        self._written = written

    def view(self):
        """
        @return: a new L{NameAddress} of this value, the caller's own (see
            L{NameAddress}).
        """
        return NameAddress._view(self, self.address.displayName)

    def __str__(self):
        written = self._written
        if written is None:
            written = self._written = str(self.address)
        return written

    def __repr__(self):
        return f"<KnownAddress {self}>"


def sharedAddress(text, name="Address"):
    """
    Read a value as L{parseNameAddress} does, from a cache of the values
    seen before (the same ones come again and again: a phone's To and
    Contact in every REGISTER, the From and To of every message of a
    dialog), without a copy: for checking a value and writing it, not for
    changing it.

    @return: the L{KnownAddress}.
    @raise SIPParseError: on a malformed value; C{name} names the field.
    """
    known = _ADDRESSES.get(text)
    if known is None:
        known = _ADDRESSES.keep(text, _readNameAddress(text, name))
    return known


def _readNameAddress(text, name):
    """
    L{sharedAddress} of a text not in its cache.

    @return: a new L{KnownAddress}.
    """
    cut = text.rfind("=") + 1
    known = _ADDRESS_HEADS.get(text[:cut])
    if known is not None and _PLAIN_VALUE_RE.fullmatch(text, cut):
        # Read before up to its last value (a From with a new tag): the
        # value is all there is to read (see _lastValue).
        display, uri, before, key, head = known
        value = text[cut:]
        params = before.copy()
        params[key] = value
        return KnownAddress(NameAddress(uri, display, params), head + value)
    close = text.find(">")
    known = _NAME_ADDR_HEADS.get(text[: close + 1]) if close > 0 else None
    if known is not None:
        # The same display name and URI as before, other parameters (a
        # new From tag): what the value writes is what its head wrote
        # before, then its parameters (NameAddress.__str__, without the
        # URI's writing and the display name's quoting).
        display, uri, head = known
        end = close + 1
        if end < len(text):
            params = parseParams(text, end, name)
            _keepAddressHead(text, end, display, uri, head, params)
            return KnownAddress(NameAddress(uri, display, params), head + writeParams(params))
        return KnownAddress(NameAddress(uri, display, {}), head)
    match = _NAME_ADDR_RE.match(text)
    if match is None:
        if text.startswith('"'):
            raise _fail(name, text)
        semicolon = text.find(";")
        spec = (text if semicolon < 0 else text[:semicolon]).rstrip(" \t")
        if "?" in spec or "," in spec:
            raise _fail(name, text)
        uri = _parseURI(spec, name)
        params = {} if semicolon < 0 else parseParams(text, semicolon, name)
        return KnownAddress(NameAddress(uri, None, params))
    quoted, tokens, uri = match.groups()
    if quoted is not None:
        display = unquoteString(quoted)
    else:
        display = " ".join(tokens.split()) or None
    end = match.end()
    params = parseParams(text, end, name) if end < len(text) else {}
    uri = _parseURI(uri, name)
    if end == close + 1:
        # Up to its first ">", any text with the same start reads the
        # same (the URI is shared: the parsed values of the cache are
        # never changed).
        head = str(NameAddress(uri, display, {}))
        _NAME_ADDR_HEADS.keep(text[:end], (display, uri, head))
        _keepAddressHead(text, end, display, uri, head, params)
    return KnownAddress(NameAddress(uri, display, params))


def _keepAddressHead(text, end, display, uri, head, params):
    """
    Keep what a name-addr read as up to the value of its last parameter,
    when that is of the common form (L{_lastValue}).

    @param end: where its parameters start, after its C{>}.
    @param head: what its display name and URI write.
    """
    cut = _lastValue(text, end)
    if cut:
        before, key = _withoutLast(params)
        written = f"{head}{writeParams(before)};{key}="
        _ADDRESS_HEADS.keep(text[:cut], (display, uri, before, key, written))


def parseContact(text, name="Contact"):
    """
    Read one Contact value: a L{NameAddress}, or the string C{"*"} for the
    wildcard of RFC 3261 10.2.2.
    """
    if text == "*":
        return "*"
    return parseNameAddress(text, name)


def _parseURI(text, name):
    try:
        return parseURI(text)
    except SIPParseError:
        raise _fail(name, text) from None


class Via:
    """
    One Via value (RFC 3261 20.42): sent-protocol, sent-by and parameters,
    with the parameters of RFC 3261 (branch, received) and RFC 3581
    (rport) at hand.

    @ivar protocol: protocol name and version, C{"SIP/2.0"}.
    @ivar transport: the transport, uppercased (C{"UDP"}, C{"TLS"}, ...).
    @ivar host: the sent-by host as written (IPv6 in brackets).
    @ivar port: the sent-by port as an C{int}, or C{None}.
    @ivar params: lowercased name to value, C{None} for a bare name
        (C{"rport" in via.params} tells whether the client asked for rport).
    """

    __slots__ = ("protocol", "transport", "host", "port", "params")

    def __init__(self, transport, host, port=None, params=None, protocol="SIP/2.0"):
        self.protocol = protocol
        self.transport = transport
        self.host = host
        self.port = port
        self.params = {} if params is None else params

    @property
    def branch(self):
        """
        The branch parameter (RFC 3261 8.1.1.7), or C{None}.
        """
        return self.params.get("branch")

    @property
    def received(self):
        """
        The received parameter (RFC 3261 18.2.1), or C{None}; settable.
        """
        return self.params.get("received")

    @received.setter
    def received(self, address):
        self.params["received"] = address

    @property
    def rport(self):
        """
        The port of the rport parameter (RFC 3581 4) as an C{int}, or
        C{None} when absent or present without a value; setting it fills
        in the value (adding the parameter if needed).
        """
        value = self.params.get("rport")
        return None if value is None else int(value)

    @rport.setter
    def rport(self, port):
        self.params["rport"] = str(port)

    def __str__(self):
        port = "" if self.port is None else f":{self.port}"
        return f"{self.protocol}/{self.transport} {self.host}{port}{writeParams(self.params)}"

    def __repr__(self):
        return f"<Via {self}>"


def parseVia(text, name="Via"):
    """
    Read one Via value: sent-protocol (LWS allowed around the slashes),
    sent-by and parameters.

    @return: a L{Via}.
    @raise SIPParseError: when it is malformed.
    """
    cut = text.rfind("=") + 1
    known = _VIA_HEADS.get(text[:cut])
    if known is not None and _PLAIN_VALUE_RE.fullmatch(text, cut):
        # Read before up to its last value (a client's Via with a new
        # branch): the value is all there is to read (see _lastValue).
        protocol, transport, host, port, before, key = known
        params = before.copy()
        params[key] = text[cut:]
        return Via(transport, host, port, params, protocol)
    semicolon = text.find(";")
    sent = text if semicolon < 0 else text[:semicolon]
    known = _VIA_SENT.get(sent)
    if known is None:
        known = _readSent(text, name)
        if known[4] == len(sent):
            _VIA_SENT.keep(sent, known)
    protocol, transport, host, port, end = known
    params = parseParams(text, end, name)
    rport = params.get("rport")
    if rport is not None and not (rport.isdigit() and rport.isascii() and int(rport) <= 65535):
        raise _fail(name, text)
    cut = _lastValue(text, end)
    if cut:
        before, key = _withoutLast(params)
        if key != "rport":
            # (An rport value is checked.)
            _VIA_HEADS.keep(text[:cut], (protocol, transport, host, port, before, key))
    return Via(transport, host, port, params, protocol)


def _readSent(text, name):
    """
    Read the sent-protocol and sent-by of a Via value.

    @return: C{(protocol, transport, host, port, end)}, C{end} where the
        parameters start. The same text before the first C{;} gives the
        same (the sent-by client writes it into every request: L{parseVia}
        keeps it when it ends there).
    """
    match = _VIA_RE.match(text)
    if match is None:
        raise _fail(name, text)
    protocolName, version, transport, host, port = match.groups()
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise _fail(name, text) from None
    if port is not None:
        port = int(port)
        if port > 65535:
            raise _fail(name, text)
    return f"{protocolName.upper()}/{version}", transport.upper(), host, port, match.end()


class CSeq:
    """
    The CSeq value (RFC 3261 20.16).

    @ivar number: the sequence number, below 2**32.
    @ivar method: the method, case as written.
    """

    __slots__ = ("number", "method")

    def __init__(self, number, method):
        self.number = number
        self.method = method

    def __str__(self):
        return f"{self.number} {self.method}"

    def __repr__(self):
        return f"<CSeq {self}>"


def _numberReader(maximum, field):
    """
    @return: a function of C{(text, name=field)} reading a number from 0
        to C{maximum} of at most ten digits, and raising
        L{oso.sip.uri.SIPParseError} (naming C{name}) for any other text.
        The same few numbers come in every message (Max-Forwards: 70,
        Content-Length: 0): each is read from L{_NUMBERS}, in one call
        (the reader is made for its maximum, not given it by a caller).
    """

    def read(text, name=field):
        number = _NUMBERS.get(text)
        if number is None:
            if not (text.isdigit() and text.isascii() and len(text) <= 10):
                raise _fail(name, text)
            number = _NUMBERS.keep(text, int(text))
        if number > maximum:
            raise _fail(name, text)
        return number

    return read


_sequenceNumber = _numberReader(2**32 - 1, "CSeq")


def parseCSeq(text, name="CSeq"):
    """
    Read a CSeq value: a number below 2**32 (RFC 3261 8.1.1.5) and a
    method token.

    @return: a new L{CSeq}.
    """
    # A dialog's few numbers and methods come again and again.
    known = _CSEQS.get(text)
    if known is None:
        parts = text.split()
        if len(parts) != 2 or not isToken(parts[1]):
            raise _fail(name, text)
        known = _CSEQS.keep(text, (_sequenceNumber(parts[0], name), parts[1]))
    return CSeq(*known)


parseMaxForwards = _numberReader(255, "Max-Forwards")
parseMaxForwards.__name__ = "parseMaxForwards"
parseMaxForwards.__doc__ = """
    Read Max-Forwards: an integer from 0 to 255 (RFC 3261 20.22).
    """

parseContentLength = _numberReader(2**32 - 1, "Content-Length")
parseContentLength.__name__ = "parseContentLength"
parseContentLength.__doc__ = """
    Read Content-Length: a non-negative integer of at most ten digits.
    """


def parseDate(text, name="Date"):
    """
    Read an RFC 3261 20.17 SIP-date (an RFC 1123 date in GMT).

    @return: an aware C{datetime} in UTC.
    """
    match = _DATE_RE.fullmatch(text)
    if match is None:
        raise _fail(name, text)
    _, day, month, year, hour, minute, second = match.groups()
    try:
        return datetime(
            int(year),
            _MONTHS.index(month) + 1,
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=timezone.utc,
        )
    except ValueError:
        raise _fail(name, text) from None


class _AuthField:
    """
    An authentication field: a scheme and comma-separated C{name=value}
    parameters (RFC 3261 25.1 challenge and credentials, RFC 2617 3.2).

    @ivar scheme: the scheme as written, usually C{"Digest"}.
    @ivar params: lowercased name to value, quoted-strings unquoted.
    """

    __slots__ = ("scheme", "params")
    #: Parameters written as bare tokens; all others are quoted.
    tokenParams = frozenset()

    def __init__(self, scheme, params=None):
        self.scheme = scheme
        self.params = {} if params is None else params

    def __str__(self):
        return f"{self.scheme} " + ", ".join(
            f"{key}={value}"
            if key in self.tokenParams and isToken(value)
            else f"{key}={quoteString(value)}"
            for key, value in self.params.items()
        )

    def __repr__(self):
        return f"<{type(self).__name__} {self}>"


class Challenge(_AuthField):
    """
    A WWW-Authenticate or Proxy-Authenticate value (RFC 3261 20.44, 20.27).
    """

    __slots__ = ()
    tokenParams = frozenset(("algorithm", "stale"))


class Credentials(_AuthField):
    """
    An Authorization or Proxy-Authorization value (RFC 3261 20.7, 20.28).
    """

    __slots__ = ()
    tokenParams = frozenset(("algorithm", "qop", "nc"))


def _plainAuth(text):
    """
    Read credentials or a challenge of the common form: no backslash, no
    whitespace around C{=} or at the end, the parameters separated by
    C{","} or C{", "}, as clients write them. Split at its quotes, such a
    text is the text outside its quoted-strings and their contents in
    turn; its layout, the text outside with each quoted-string written
    as one quote, is the same in every request of a client (the nonce,
    cnonce and response are quoted), and what it reads as is kept by it.

    @return: C{(scheme, params)} as L{_readAuth} gives them, or C{None}
        for any other text (L{_readAuth} decides).
    """
    if "\\" in text:
        return None
    parts = text.split('"')
    if not len(parts) % 2:
        return None
    layout = '"'.join(parts[0::2])
    known = _AUTH_LAYOUTS.get(layout)
    if known is None:
        known = _readLayout(layout)
        if known is None:
            return None
        _AUTH_LAYOUTS.keep(layout, known)
    scheme, written, quoted = known
    params = written.copy()
    params.update(zip(quoted, parts[1::2]))
    return scheme, params


def _readLayout(layout):
    """
    What the layout of credentials or a challenge of the common form
    reads as.

    @return: C{(scheme, written, quoted)}: the scheme, the parameters
        in order by lowercased name with the values written as tokens
        (those of the quoted-strings stand in their places, to be set),
        and the names of the quoted-strings in order, whose contents
        are every other part of the text split at its quotes; or
        C{None} when the layout is not of that form, a quote stands for
        a part of a value or a name is repeated.
    """
    match = _AUTH_LAYOUT_RE.fullmatch(layout)
    if match is None:
        return None
    written = {}
    quoted = []
    for name, value in _AUTH_LAYOUT_PARAM_RE.findall(layout, match.end(1)):
        name = name.lower()
        if name in written:
            return None
        written[name] = value
        if value == '"':
            quoted.append(name)
    return match.group(1), written, tuple(quoted)


def _readAuth(text, name):
    """
    Read a scheme and its auth-params, the params found by one pass of a
    pattern (the same ones, one after the other, that matching one
    auth-param at a time would read).

    @return: C{(scheme, params)}.
    """
    match = _AUTH_SCHEME_RE.match(text)
    if match is None:
        raise _fail(name, text)
    params = {}
    for key, value, rest in _AUTH_PARAM_RE.findall(text, match.end()):
        key = key.lower()
        if rest or key in params:
            raise _fail(name, text)
        if value[0] == '"':
            value = unquoteString(value) if "\\" in value else value[1:-1]
        params[key] = value
    if not params:
        raise _fail(name, text)
    return match.group(1), params


def parseChallenge(text, name="WWW-Authenticate"):
    """
    Read a WWW-Authenticate or Proxy-Authenticate value.

    @return: a L{Challenge}: the common form read by its layout
        (L{_plainAuth}), any other text by L{_readAuth}.
    """
    return Challenge(*(_plainAuth(text) or _readAuth(text, name)))


def parseCredentials(text, name="Authorization"):
    """
    Read an Authorization or Proxy-Authorization value.

    @return: a L{Credentials}, read as L{parseChallenge} reads.
    """
    return Credentials(*(_plainAuth(text) or _readAuth(text, name)))


#: The typed view of each structured field: lowercased name to parser.
PARSERS = {
    "via": parseVia,
    "from": parseNameAddress,
    "to": parseNameAddress,
    "contact": parseContact,
    "route": parseNameAddress,
    "record-route": parseNameAddress,
    "path": parseNameAddress,
    "service-route": parseNameAddress,
    "reply-to": parseNameAddress,
    "refer-to": parseNameAddress,
    "referred-by": parseNameAddress,
    "p-asserted-identity": parseNameAddress,
    "p-preferred-identity": parseNameAddress,
    "cseq": parseCSeq,
    "max-forwards": parseMaxForwards,
    "content-length": parseContentLength,
    "www-authenticate": parseChallenge,
    "proxy-authenticate": parseChallenge,
    "authorization": parseCredentials,
    "proxy-authorization": parseCredentials,
}
