"""
Session descriptions (SDP, RFC 4566, also reading the RFC 2327 forms):
reading them from a message body and writing them back.

A B2BUA passes most of a description through untouched, so this codec
keeps every line it read, in the order it read it: a description is a
session section and its media sections, and each section is a list of
lines, each a letter with a value. Lines the codec knows get a typed value
(L{Origin}, L{Connection}, L{Attribute}, ...) that is checked when read;
any other line keeps its text. Writing puts each line back where it was,
so C{parseSDP(body).serialise()} is C{body} for any description written in
the RFC's form (CRLF line ends, single spaces); bare LF line ends and empty
lines are accepted and written as CRLF and dropped.

Text is UTF-8 (RFC 4566 5); bytes that are not are kept as they are, so
a description in another charset (C{a=charset}) passes through unchanged.
"""

import dataclasses
import ipaddress
import re
from dataclasses import dataclass


class SDPParseError(Exception):
    """
    Bytes that are not a session description.

    @ivar message: what is wrong, in words for a log or a reason phrase.
    @ivar lineNumber: the number (from 1) of the offending line, or C{None}
        when the fault is not on one line (a missing mandatory line).
    """

    def __init__(self, message, lineNumber=None):
        where = f"SDP line {lineNumber}: " if lineNumber is not None else "SDP: "
        super().__init__(where + message)
        self.message = message
        self.lineNumber = lineNumber


@dataclass(frozen=True, slots=True)
class Origin:
    """
    The C{o=} line: who made the session, its id and its version.
    """

    username: str
    sessionId: int
    sessionVersion: int
    netType: str
    addrType: str
    address: str

    def __str__(self):
        return (
            f"{self.username} {self.sessionId} {self.sessionVersion} "
            f"{self.netType} {self.addrType} {self.address}"
        )


@dataclass(frozen=True, slots=True)
class Connection:
    """
    A C{c=} line: where media goes. C{ttl} and C{count} are the multicast
    suffixes (C{/ttl/count} for IP4, C{/count} for IP6).
    """

    netType: str
    addrType: str
    address: str
    ttl: int | None = None
    count: int | None = None

    @property
    def isUnspecified(self):
        """
        Whether this is the unspecified address (C{0.0.0.0}, or C{::}):
        the RFC 2543 way of putting the other side on hold (RFC 3264 8.4).
        """
        return self.address in ("0.0.0.0", "::")

    def __str__(self):
        suffix = "".join(f"/{n}" for n in (self.ttl, self.count) if n is not None)
        return f"{self.netType} {self.addrType} {self.address}{suffix}"


@dataclass(frozen=True, slots=True)
class Bandwidth:
    """
    A C{b=} line: a bandwidth type (C{AS}, C{CT}, C{TIAS}, C{RR}, ...) and
    its value.
    """

    type: str
    value: int

    def __str__(self):
        return f"{self.type}:{self.value}"


@dataclass(frozen=True, slots=True)
class Timing:
    """
    A C{t=} line: start and stop time (NTP seconds; 0 for unbounded).
    """

    start: int
    stop: int

    def __str__(self):
        return f"{self.start} {self.stop}"


@dataclass(frozen=True, slots=True)
class Attribute:
    """
    An C{a=} line: a name, and a value unless it is a property attribute
    (C{a=sendonly}). A value may be empty (C{a=name:}) and is then C{""}.
    """

    name: str
    value: str | None = None

    def __str__(self):
        return self.name if self.value is None else f"{self.name}:{self.value}"


@dataclass(frozen=True, slots=True)
class MediaLine:
    """
    An C{m=} line: media type, transport port (and port count), transport
    protocol and formats (payload type numbers for RTP).
    """

    media: str
    port: int
    proto: str
    formats: tuple = ()
    portCount: int | None = None

    def __str__(self):
        port = f"{self.port}" if self.portCount is None else f"{self.port}/{self.portCount}"
        return " ".join((self.media, port, self.proto, *self.formats))


# RFC 4566 5: the order of the lines in each section; it decides where a
# line added by code goes. Read lines keep the order they came in.
_SESSION_ORDER = "vosiuepcbtrzka"
_MEDIA_ORDER = "micbka"
# Lines a section may hold at most once.
_SESSION_SINGLE = frozenset("vosiuczk")
_MEDIA_SINGLE = frozenset("mik")

_TOKEN = r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+"
_TOKEN_RE = re.compile(_TOKEN)
_LINE_RE = re.compile(r"([a-zA-Z])=(.*)", re.DOTALL)
_DIGITS_RE = re.compile(r"[0-9]+")
_TYPED_TIME_RE = re.compile(r"-?[0-9]+[dhms]?")
_BANDWIDTH_RE = re.compile(rf"({_TOKEN}):([0-9]+)")
_PORT_RE = re.compile(r"([0-9]+)(?:/([0-9]+))?")
_IP4_LIKE_RE = re.compile(r"[0-9.]+")
_FQDN_RE = re.compile(r"[A-Za-z0-9\-.]+")


def _fields(text, count, what):
    """
    Split C{text} at spaces into exactly C{count} fields.
    """
    fields = text.split()
    if len(fields) != count:
        raise ValueError(f"{what} needs {count} fields, got {len(fields)}")
    return fields


def _number(text, what):
    if not _DIGITS_RE.fullmatch(text):
        raise ValueError(f"{what} {text!r} is not a number")
    return int(text)


def _checkAddress(addrType, address, what):
    """
    Check a unicast address against its address type: a literal of that
    family, or a domain name. Other address types pass as they are.
    """
    if addrType == "IP4":
        if _IP4_LIKE_RE.fullmatch(address):
            try:
                ipaddress.IPv4Address(address)
            except ValueError:
                raise ValueError(f"{what} {address!r} is not an IPv4 address") from None
            return
    elif addrType == "IP6":
        if ":" in address:
            try:
                ipaddress.IPv6Address(address)
            except ValueError:
                raise ValueError(f"{what} {address!r} is not an IPv6 address") from None
            return
    else:
        return
    if not _FQDN_RE.fullmatch(address):
        raise ValueError(f"{what} {address!r} is neither an {addrType} address nor a name")


def _parseOrigin(text):
    username, sessionId, version, netType, addrType, address = _fields(text, 6, "o=")
    _checkAddress(addrType, address, "origin address")
    return Origin(
        username,
        _number(sessionId, "session id"),
        _number(version, "session version"),
        netType,
        addrType,
        address,
    )


def _parseConnection(text):
    netType, addrType, address = _fields(text, 3, "c=")
    address, *suffix = address.split("/")
    numbers = [_number(n, "multicast suffix") for n in suffix]
    _checkAddress(addrType, address, "connection address")
    if addrType == "IP4" and len(numbers) <= 2:
        return Connection(netType, addrType, address, *numbers)
    if len(numbers) <= 1:
        return Connection(netType, addrType, address, None, *numbers)
    raise ValueError(f"connection address {text.split()[2]!r} has too many '/' parts")


def _parseBandwidth(text):
    match = _BANDWIDTH_RE.fullmatch(text)
    if not match:
        raise ValueError(f"b= {text!r} is not <type>:<number>")
    return Bandwidth(match.group(1), int(match.group(2)))


def _parseTiming(text):
    start, stop = _fields(text, 2, "t=")
    return Timing(_number(start, "start time"), _number(stop, "stop time"))


def _parseRepeat(text):
    fields = text.split()
    if len(fields) < 3 or not all(_TYPED_TIME_RE.fullmatch(f) for f in fields):
        raise ValueError(f"r= {text!r} is not <interval> <duration> <offsets>")
    return text


def _parseZone(text):
    fields = text.split()
    if not fields or len(fields) % 2 or not all(_TYPED_TIME_RE.fullmatch(f) for f in fields):
        raise ValueError(f"z= {text!r} is not pairs of <time> <offset>")
    return text


def _parseAttribute(text):
    name, colon, value = text.partition(":")
    if not colon:
        name = name.rstrip()
    if not _TOKEN_RE.fullmatch(name):
        raise ValueError(f"attribute name {name!r} is not a token")
    return Attribute(name, value if colon else None)


def _parseMedia(text):
    fields = text.split()
    if len(fields) < 3:
        raise ValueError("m= needs <media> <port> <proto> <formats>")
    media, port, proto, *formats = fields
    match = _PORT_RE.fullmatch(port)
    if not match or int(match.group(1)) > 65535:
        raise ValueError(f"media port {port!r} is not a port number")
    if not _TOKEN_RE.fullmatch(media):
        raise ValueError(f"media type {media!r} is not a token")
    count = match.group(2)
    return MediaLine(media, int(match.group(1)), proto, tuple(formats), count and int(count))


def _parseVersion(text):
    if text != "0":
        raise ValueError(f"v={text} is not version 0")
    return 0


# Typed lines: letter -> reader. Letters without one keep their text.
_READERS = {
    "v": _parseVersion,
    "o": _parseOrigin,
    "c": _parseConnection,
    "b": _parseBandwidth,
    "t": _parseTiming,
    "r": _parseRepeat,
    "z": _parseZone,
    "a": _parseAttribute,
    "m": _parseMedia,
}
# RFC 4566 5 (and RFC 2327 6): letters that only the session section holds.
_SESSION_ONLY = frozenset("vosueptrz")


class _Section:
    """
    The lines of one section, in order, as C{[letter, value]} pairs, with
    the typed access both sections share.
    """

    __slots__ = ("lines",)
    _order = ""

    def __init__(self, lines=()):
        self.lines = [list(line) for line in lines]

    def _first(self, letter):
        for kind, value in self.lines:
            if kind == letter:
                return value
        return None

    def _all(self, letter):
        return [value for kind, value in self.lines if kind == letter]

    def _insertAt(self, letter):
        """
        Where a new line of C{letter} goes: after the last line that RFC 4566
        puts at or before it.
        """
        rank = self._order.index(letter)
        at = 0
        for i, (kind, _) in enumerate(self.lines):
            if kind in self._order and self._order.index(kind) <= rank:
                at = i + 1
        return at

    def _set(self, letter, value):
        """
        Make C{value} the one line of C{letter}, in place of the first such
        line if there is one; C{None} removes every line of C{letter}.
        """
        self._setAll(letter, [] if value is None else [value])

    def _setAll(self, letter, values):
        """
        Replace the lines of C{letter} by C{values}, where the first of
        them was (or where RFC 4566 puts them).
        """
        first = next((i for i, (k, _) in enumerate(self.lines) if k == letter), None)
        at = first if first is not None else self._insertAt(letter)
        kept = [line for line in self.lines[:at] if line[0] != letter]
        rest = [line for line in self.lines[at:] if line[0] != letter]
        self.lines = kept + [[letter, v] for v in values] + rest

    @property
    def information(self):
        """
        The C{i=} text, or C{None}.
        """
        return self._first("i")

    @information.setter
    def information(self, value):
        self._set("i", value)

    @property
    def connection(self):
        """
        The (first) C{c=} line of this section, or C{None}.
        """
        return self._first("c")

    @connection.setter
    def connection(self, value):
        self._set("c", value)

    @property
    def bandwidths(self):
        """
        The C{b=} lines, as a list of L{Bandwidth}.
        """
        return self._all("b")

    @bandwidths.setter
    def bandwidths(self, values):
        self._setAll("b", list(values))

    @property
    def key(self):
        """
        The C{k=} text (RFC 4566 5.12, obsolete but passed on), or C{None}.
        """
        return self._first("k")

    @property
    def attributes(self):
        """
        The C{a=} lines, in order, as a list of L{Attribute} (a copy: change
        them with the methods below).
        """
        return self._all("a")

    def attribute(self, name):
        """
        The value of the first attribute C{name}: C{None} if there is none,
        C{""} for a property attribute or an empty value.
        """
        for value in self._all("a"):
            if value.name == name:
                return "" if value.value is None else value.value
        return None

    def attributeValues(self, name):
        """
        The values of every attribute C{name}, in order (C{a=rtpmap},
        C{a=candidate}, ...).
        """
        return [a.value for a in self._all("a") if a.name == name]

    def hasAttribute(self, name):
        return any(a.name == name for a in self._all("a"))

    def addAttribute(self, name, value=None):
        """
        Add C{a=name[:value]} after the last attribute of this section.
        """
        self.lines.insert(self._insertAt("a"), ["a", Attribute(name, value)])

    def removeAttributes(self, *names):
        """
        Remove every attribute named in C{names}.
        """
        self.lines = [
            line for line in self.lines if line[0] != "a" or line[1].name not in names
        ]

    def replaceAttributes(self, names, attribute):
        """
        Put C{attribute} in the place of the first attribute named in
        C{names} and remove the others; add it if there is none. This is
        how a direction attribute is changed without moving it.
        """
        at = next(
            (i for i, (k, v) in enumerate(self.lines) if k == "a" and v.name in names), None
        )
        if at is None:
            self.lines.insert(self._insertAt("a"), ["a", attribute])
            return
        self.lines[at] = ["a", attribute]
        self.lines = [
            line
            for i, line in enumerate(self.lines)
            if i == at or line[0] != "a" or line[1].name not in names
        ]

    def _serialiseInto(self, out):
        for letter, value in self.lines:
            out.append(f"{letter}={value}\r\n")

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self.lines == other.lines


class MediaDescription(_Section):
    """
    One media section: its C{m=} line first, then its C{i}, C{c}, C{b},
    C{k}, C{a} and unknown lines in the order read.
    """

    __slots__ = ()
    _order = _MEDIA_ORDER

    def __init__(self, mediaLine=None, lines=()):
        """
        @param mediaLine: a L{MediaLine}, when building a section; a section
            read from bytes gets its lines, C{m=} first.
        """
        super().__init__(lines)
        if mediaLine is not None:
            self.lines.insert(0, ["m", mediaLine])

    @property
    def mediaLine(self):
        """
        The L{MediaLine}.
        """
        return self.lines[0][1]

    @mediaLine.setter
    def mediaLine(self, value):
        self.lines[0][1] = value

    @property
    def media(self):
        return self.mediaLine.media

    @property
    def port(self):
        return self.mediaLine.port

    @port.setter
    def port(self, value):
        self.mediaLine = dataclasses.replace(self.mediaLine, port=value)

    @property
    def proto(self):
        return self.mediaLine.proto

    @property
    def formats(self):
        return self.mediaLine.formats

    @property
    def connections(self):
        """
        Every C{c=} line of this section (several only for layered
        multicast).
        """
        return self._all("c")

    @property
    def isRejected(self):
        """
        Whether the stream is rejected or disabled: port 0 (RFC 3264 6, 8.2).
        """
        return self.port == 0

    def copy(self):
        return MediaDescription(lines=self.lines)

    def __repr__(self):
        return f"<MediaDescription {self.mediaLine}>"


class SessionDescription(_Section):
    """
    A whole description: the session section's lines and the media
    sections in order.
    """

    __slots__ = ("media",)
    _order = _SESSION_ORDER

    def __init__(self, lines=(), media=()):
        super().__init__(lines)
        #: The L{MediaDescription}s, in order.
        self.media = list(media)

    @classmethod
    def build(cls, origin, name="-", connection=None, timing=Timing(0, 0), media=()):
        """
        A description with the mandatory lines, for a UA that makes one
        (RFC 3264 5: C{s=-} and C{t=0 0} when nothing better is known).
        """
        lines = [["v", 0], ["o", origin], ["s", name]]
        if connection is not None:
            lines.append(["c", connection])
        lines.append(["t", timing])
        return cls(lines, media)

    @property
    def origin(self):
        """
        The L{Origin} (C{o=}).
        """
        return self._first("o")

    @origin.setter
    def origin(self, value):
        self._set("o", value)

    @property
    def name(self):
        """
        The session name (C{s=}); RFC 2327 allowed it empty, and so do we.
        """
        return self._first("s")

    @name.setter
    def name(self, value):
        self._set("s", value)

    @property
    def timings(self):
        """
        The C{t=} lines as L{Timing}s (their C{r=} lines stay with them).
        """
        return self._all("t")

    def mediaConnection(self, index):
        """
        The connection that media stream C{index} uses: its own C{c=} line,
        else the session's (RFC 4566 5.7).
        """
        return self.media[index].connection or self.connection

    def serialise(self, origin=None):
        """
        The description as bytes, with CRLF line ends.

        @param origin: an L{Origin} written in place of the C{o=} line's
            (the description is not changed), or C{None}.
        """
        if origin is not None and self.origin is not None:
            return self.template().fill(origin)
        out = []
        self._serialiseInto(out)
        for media in self.media:
            media._serialiseInto(out)
        return _encode("".join(out))

    def template(self):
        """
        The description as it is now, written around its C{o=} line: for
        one that goes out with several origins (L{serialise}C{(origin=)}
        writes through it).

        @return: a L{Template}; it does not follow later changes.
        @raise ValueError: when there is no C{o=} line.
        """
        head, tail = [], []
        out = head
        for letter, value in self.lines:
            if letter == "o":
                # As the origin setter would leave it: one o= line, where
                # the first was.
                out = tail
            else:
                out.append(f"{letter}={value}\r\n")
        if out is head:
            raise ValueError("no o= line to write an origin in")
        for media in self.media:
            media._serialiseInto(tail)
        return Template(_encode("".join(head)), _encode("".join(tail)))

    def copy(self):
        """
        An independent copy (the values are immutable; the lists are new).
        """
        return SessionDescription(self.lines, [m.copy() for m in self.media])

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self.lines == other.lines and self.media == other.media

    def __repr__(self):
        return f"<SessionDescription {self.origin} with {len(self.media)} media>"


def _encode(text):
    return text.encode("utf-8", "surrogateescape")


class Template:
    """
    A description written once but for its C{o=} line
    (L{SessionDescription.template}).
    """

    __slots__ = ("_head", "_tail")

    def __init__(self, head, tail):
        self._head = head
        self._tail = tail

    def fill(self, origin):
        """
        @return: the description's bytes with the L{Origin} C{origin}.
        """
        return self._head + _encode(f"o={origin}\r\n") + self._tail


def parseSDP(data):
    """
    Read a session description. v= (first), o= and s= are required; a
    missing t= line, which some gateways leave out, is accepted.

    @param data: a message body (C{bytes}, or C{str}).
    @return: a L{SessionDescription}.
    @raise SDPParseError: naming the line and what is wrong with it.
    """
    if isinstance(data, bytes):
        data = data.decode("utf-8", "surrogateescape")
    session = SessionDescription()
    section = session
    seen = set()
    for number, line in enumerate(data.split("\n"), 1):
        if line.endswith("\r"):
            line = line[:-1]
        if not line.strip():
            continue
        match = _LINE_RE.fullmatch(line)
        if not match or "\x00" in line or "\r" in line:
            raise SDPParseError(f"{_show(line)} is not <letter>=<value>", number)
        letter, text = match.groups()
        if not session.lines and letter != "v":
            raise SDPParseError(f"the first line must be v=0, not {_show(line)}", number)
        if letter == "m":
            section = MediaDescription()
            session.media.append(section)
            seen = set()
        elif section is not session and letter in _SESSION_ONLY:
            raise SDPParseError(f"{letter}= inside a media description", number)
        single = _SESSION_SINGLE if section is session else _MEDIA_SINGLE
        if letter in single and letter in seen:
            raise SDPParseError(f"a second {letter}= line in one section", number)
        seen.add(letter)
        if letter == "r" and (not section.lines or section.lines[-1][0] not in "tr"):
            raise SDPParseError("r= does not follow a t= line", number)
        reader = _READERS.get(letter)
        try:
            value = reader(text) if reader else text
        except ValueError as e:
            raise SDPParseError(str(e), number) from None
        section.lines.append([letter, value])
    for letter, name in (("v", "v= (version)"), ("o", "o= (origin)"), ("s", "s= (session name)")):
        if session._first(letter) is None:
            raise SDPParseError(f"no {name} line")
    return session


def _show(line, limit=40):
    """
    A line as an error message quotes it: shortened, escaped.
    """
    shown = repr(line[:limit].encode("utf-8", "surrogateescape"))[1:]
    return shown + ("..." if len(line) > limit else "")
