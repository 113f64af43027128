"""
URIs as SIP carries them: SIP and SIPS URIs (RFC 3261 19.1, grammar in
25.1), tel URIs (RFC 3966) and any other absolute URI kept opaque, with
the comparison rules of RFC 3261 19.1.4 and RFC 3966 4.

This module also holds L{SIPParseError}, the one error type of the codec,
because it is the lowest module of the package and every other one raises
it.
"""

import ipaddress
import re
from urllib.parse import quote, unquote

from oso.sip.memo import Memo


class SIPParseError(Exception):
    """
    Bytes or text that are not a valid SIP message or part of one.

    @ivar message: what is wrong, in words for a log.
    @ivar statusCode: the status a UAS or proxy answers a request with that
        fails this way (400, or 505 for an unsupported SIP version); it has
        no meaning for a malformed response, which is only dropped.
    @ivar reason: the reason phrase for that answer, naming the fault
        (C{"Bad CSeq"}, C{"Missing Call-ID"}, C{"Content-Length mismatch"}).
    @ivar partial: for a request that was readable far enough, a
        L{oso.sip.message.Request} with whatever header fields could be split
        (raw, unvalidated) so that the transport can build the error
        response from its Via, From, To, Call-ID and CSeq; otherwise C{None}.
    """

    def __init__(self, message, statusCode=400, reason="Bad Request", partial=None):
        super().__init__(message)
        self.message = message
        self.statusCode = statusCode
        self.reason = reason
        self.partial = partial


_ESCAPED = r"%[0-9A-Fa-f]{2}"
_UNRESERVED = r"A-Za-z0-9\-_.!~*'()"
# RFC 3261 25.1: user, password, paramchar, hname/hvalue.
_USER = rf"(?:[{_UNRESERVED}&=+$,;?/]|{_ESCAPED})+"
_PASSWORD = rf"(?:[{_UNRESERVED}&=+$,]|{_ESCAPED})*"
_PARAM = rf"(?:[{_UNRESERVED}\[\]/:&+$]|{_ESCAPED})+"
_HNAME = rf"(?:[{_UNRESERVED}\[\]/?:+$]|{_ESCAPED})+"
_HVALUE = rf"(?:[{_UNRESERVED}\[\]/?:+$]|{_ESCAPED})*"
_PARAMS = rf"(?:;{_PARAM}(?:={_PARAM})?)*"
_SIP_RE = re.compile(
    rf"(?:({_USER})(?::({_PASSWORD}))?@)?"
    r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._]+)(?::([0-9]{1,5}))?"
    rf"({_PARAMS})(?:\?({_HNAME}={_HVALUE}(?:&{_HNAME}={_HVALUE})*))?"
)
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*")
_OPAQUE_RE = re.compile(rf"(?:[{_UNRESERVED};/?:@&=+$,\[\]#]|{_ESCAPED})+")
_TEL_RE = re.compile(rf"(\+?[0-9A-Fa-f*#\-.()]+)({_PARAMS})")

# What each component may carry unescaped when written (quote() always
# leaves letters, digits and "_.-~" alone), and a pattern of text that
# needs no escaping at all.
_USER_SAFE = "!*'()&=+$,;?/"
_PASSWORD_SAFE = "!*'()&=+$,"
_PARAM_SAFE = "!*'()[]/:&+$"
_HNV_SAFE = "!*'()[]/?:+$"
_USER_PLAIN = re.compile(rf"[{_UNRESERVED}&=+$,;?/]*")
_PASSWORD_PLAIN = re.compile(rf"[{_UNRESERVED}&=+$,]*")
_PARAM_PLAIN = re.compile(rf"[{_UNRESERVED}\[\]/:&+$]*")
_HNV_PLAIN = re.compile(rf"[{_UNRESERVED}\[\]/?:+$]*")

_URIS = Memo(2048)
# User parts written before (a phone's is in every URI of its requests),
# to their escaped form.
_USERS_WRITTEN = Memo(2048)

# RFC 3261 19.1.4: these parameters take part in the comparison even when
# only one of the two URIs carries them.
_DECISIVE = ("user", "ttl", "method", "maddr", "transport")
_TEL_SEPARATORS = str.maketrans("", "", "-.()")


def _decode(text):
    return unquote(text, errors="surrogateescape") if "%" in text else text


def _encode(text, plain, safe):
    if plain.fullmatch(text):
        return text
    return quote(text, safe=safe, errors="surrogateescape")


def _fail(what, text):
    return SIPParseError(f"{what}: {text!r}", reason=f"Bad {what}")


def _parseParams(text, escaped, whole):
    """
    Split C{;name[=value]} parameters (RFC 3261 19.1.1 uri-parameters, RFC
    3966 par), already checked against the grammar, into a dict of
    lowercased, unescaped names to unescaped values (C{None} for a
    parameter without a value).

    @raise SIPParseError: when a name is repeated.
    """
    params = {}
    for item in text.split(";")[1:]:
        name, eq, value = item.partition("=")
        if escaped:
            name = _decode(name)
            value = _decode(value)
        name = name.lower()
        if name in params:
            raise _fail("URI", whole)
        params[name] = value if eq else None
    return params


def _writeParams(params):
    if _PARAM_PLAIN.fullmatch("".join([name + (value or "") for name, value in params.items()])):
        # Nothing to escape (the common case), checked at once.
        return "".join(
            [f";{name}" if value is None else f";{name}={value}" for name, value in params.items()]
        )
    return "".join(
        f";{_encodeParam(name)}"
        if value is None
        else f";{_encodeParam(name)}={_encodeParam(value)}"
        for name, value in params.items()
    )


def _encodeParam(text):
    return _encode(text, _PARAM_PLAIN, _PARAM_SAFE)


def _encodeHeader(text):
    return _encode(text, _HNV_PLAIN, _HNV_SAFE)


def _foldValue(value):
    return None if value is None else value.lower()


class SIPURI:
    """
    A C{sip:} or C{sips:} URI (RFC 3261 19.1.1).

    Every component holds its unescaped value; writing the URI escapes
    what its component may not carry literally. Parameter names are kept
    lowercased (they compare case-insensitively).

    @ivar scheme: C{"sip"} or C{"sips"}.
    @ivar user: the user part, or C{None}.
    @ivar password: the password, or C{None}.
    @ivar host: a domain name, an IPv4 address or an IPv6 reference in
        brackets (C{"[2001:db8::1]"}), as written.
    @ivar port: an C{int}, or C{None} when absent.
    @ivar params: the uri-parameters, name to value (C{None} for a bare
        name such as C{lr}), in their order.
    @ivar headers: the header components after C{?}, name to value.
    """

    __slots__ = ("scheme", "user", "password", "host", "port", "params", "headers")

    def __init__(
        self, host, user=None, password=None, port=None, params=None, headers=None, scheme="sip"
    ):
        self.scheme = scheme
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.params = {} if params is None else params
        self.headers = {} if headers is None else headers

    @property
    def secure(self):
        """
        C{True} for a C{sips:} URI.
        """
        return self.scheme == "sips"

    def copy(self):
        """
        @return: an equal L{SIPURI} whose parameter and header dicts are new.
        """
        # Made without __init__ (a call from C into Python, and its
        # defaults): every request read copies its Request-URI.
        uri = SIPURI.__new__(SIPURI)
        uri.scheme = self.scheme
        uri.user = self.user
        uri.password = self.password
        uri.host = self.host
        uri.port = self.port
        uri.params = self.params.copy()
        uri.headers = self.headers.copy()
        return uri

    def __str__(self):
        user = self.user
        if user is None:
            text = f"{self.scheme}:{self.host}"
        else:
            written = _USERS_WRITTEN.get(user)
            if written is None:
                written = _USERS_WRITTEN.keep(user, _encode(user, _USER_PLAIN, _USER_SAFE))
            user = written
            if self.password is not None:
                user = f"{user}:{_encode(self.password, _PASSWORD_PLAIN, _PASSWORD_SAFE)}"
            text = f"{self.scheme}:{user}@{self.host}"
        if self.port is not None:
            text = f"{text}:{self.port}"
        if self.params:
            text += _writeParams(self.params)
        if self.headers:
            text += "?" + "&".join(
                f"{_encodeHeader(name)}={_encodeHeader(value)}"
                for name, value in self.headers.items()
            )
        return text

    def __repr__(self):
        return f"<SIPURI {self}>"

    def _hostKey(self):
        host = self.host.lower()
        if host.startswith("["):
            return ipaddress.IPv6Address(host[1:-1]).compressed
        return host

    def __eq__(self, other):
        """
        RFC 3261 19.1.4: the user part compares case-sensitively, all else
        case-insensitively, escapes compare equal to the characters they
        stand for; C{user}, C{ttl}, C{method}, C{maddr} and C{transport}
        must match when either URI has them, other parameters only when
        both have them; header components must all match.

        One simplification: escapes are decoded before comparison, so an
        escaped reserved character equals its literal form.
        """
        if not isinstance(other, SIPURI):
            return NotImplemented
        if (
            self.scheme != other.scheme
            or self.user != other.user
            or self.password != other.password
            or self.port != other.port
            or self._hostKey() != other._hostKey()
        ):
            return False
        mine, theirs = self.params, other.params
        for name in mine.keys() & theirs.keys():
            if _foldValue(mine[name]) != _foldValue(theirs[name]):
                return False
        for name in _DECISIVE:
            if (name in mine) != (name in theirs):
                return False
        return _foldHeaders(self.headers) == _foldHeaders(other.headers)

    def __hash__(self):
        return hash((self.scheme, self.user, self.password, self.port, self._hostKey()))


def _foldHeaders(headers):
    return {name.lower(): value.lower() for name, value in headers.items()}


def _telValue(name, value):
    if value is None:
        return None
    if name == "phone-context" and value.startswith("+"):
        return value.translate(_TEL_SEPARATORS)
    return value.lower()


class TelURI:
    """
    A C{tel:} URI (RFC 3966): a global (C{+}...) or local number with
    parameters such as C{phone-context} and C{ext}.

    @ivar number: the telephone-subscriber number as written, visual
        separators included.
    @ivar params: parameter name (lowercased) to value or C{None}.
    """

    __slots__ = ("number", "params")
    scheme = "tel"

    def __init__(self, number, params=None):
        self.number = number
        self.params = {} if params is None else params

    @property
    def isGlobal(self):
        """
        C{True} for a global number (one that starts with C{+}).
        """
        return self.number.startswith("+")

    def copy(self):
        """
        @return: an equal L{TelURI} whose parameter dict is new.
        """
        return TelURI(self.number, dict(self.params))

    def __str__(self):
        return f"tel:{self.number}{_writeParams(self.params)}"

    def __repr__(self):
        return f"<TelURI {self}>"

    def _key(self):
        return (
            self.number.translate(_TEL_SEPARATORS).lower(),
            {name: _telValue(name, value) for name, value in self.params.items()},
        )

    def __eq__(self, other):
        """
        RFC 3966 4: numbers compare without visual separators, parameters
        regardless of order but all of them, everything case-insensitively.
        """
        if not isinstance(other, TelURI):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self):
        return hash(self._key()[0])


class AbsoluteURI:
    """
    Any other absolute URI (RFC 3261 25.1 absoluteURI), kept opaque:
    C{http:}, C{urn:}, C{isbn:} and schemes nobody knows.

    @ivar scheme: the scheme, lowercased.
    @ivar rest: everything after the first colon, as written.
    """

    __slots__ = ("scheme", "rest")

    def __init__(self, scheme, rest):
        self.scheme = scheme
        self.rest = rest

    def copy(self):
        """
        @return: an equal L{AbsoluteURI}.
        """
        return AbsoluteURI(self.scheme, self.rest)

    def __str__(self):
        return f"{self.scheme}:{self.rest}"

    def __repr__(self):
        return f"<AbsoluteURI {self}>"

    def __eq__(self, other):
        if not isinstance(other, AbsoluteURI):
            return NotImplemented
        return self.scheme == other.scheme and self.rest == other.rest

    def __hash__(self):
        return hash((self.scheme, self.rest))


def _parseSIP(scheme, rest, text):
    match = _SIP_RE.fullmatch(rest)
    if match is None:
        raise _fail("URI", text)
    user, password, host, port, params, query = match.groups()
    if host[0] == "[":
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise _fail("URI", text) from None
    if port is not None:
        port = int(port)
        if port > 65535:
            raise _fail("URI", text)
    escaped = "%" in rest
    if escaped and user is not None:
        user = _decode(user)
        password = None if password is None else _decode(password)
    params = _parseParams(params, escaped, text) if params else None
    if query is not None:
        query = {
            _decode(name): _decode(value)
            for name, _, value in (item.partition("=") for item in query.split("&"))
        }
    return SIPURI(host, user, password, port, params, query, scheme)


def parseURI(text):
    """
    Read a URI as it stands in a Request-Line or between angle brackets.

    @param text: the URI, without surrounding whitespace.
    @return: a new L{SIPURI}, L{TelURI} or L{AbsoluteURI}.
    @raise SIPParseError: when C{text} is not a URI of that grammar.
    """
    # The same URIs come again and again: keep what was read, hand out
    # copies.
    known = _URIS.get(text)
    if known is None:
        known = _URIS.keep(text, _readURI(text))
    return known.copy()


def _readURI(text):
    scheme, colon, rest = text.partition(":")
    if not colon or not rest or not _SCHEME_RE.fullmatch(scheme):
        raise _fail("URI", text)
    scheme = scheme.lower()
    if scheme == "sip" or scheme == "sips":
        return _parseSIP(scheme, rest, text)
    if scheme == "tel":
        match = _TEL_RE.fullmatch(rest)
        if match is None:
            raise _fail("URI", text)
        return TelURI(match.group(1), _parseParams(match.group(2), "%" in rest, text))
    if not _OPAQUE_RE.fullmatch(rest):
        raise _fail("URI", text)
    return AbsoluteURI(scheme, rest)
