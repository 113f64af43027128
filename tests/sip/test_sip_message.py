"""
SIP messages (RFC 3261 section 7): reading requests and responses, the
header fields container, typed fields, the checks every receiver makes,
and writing.
"""

from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oso.sip import (
    CSeq,
    Challenge,
    Credentials,
    Headers,
    NameAddress,
    Request,
    Response,
    SIPParseError,
    SIPURI,
    Via,
    parseMessage,
    parseURI,
    splitList,
)
from oso.sip.headers import COMPACT, parseChallenge, parseCredentials, parseDate


def lines(*text, body=b""):
    """
    A message from its lines (CRLF added), the empty line and C{body}.
    """
    return "".join(line + "\r\n" for line in text).encode("utf-8") + b"\r\n" + body


HEAD = (
    "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds",
    "Max-Forwards: 70",
    'To: "Bob" <sip:bob@biloxi.com>',
    'From: "Alice" <sip:alice@atlanta.com>;tag=1928301774',
    "Call-ID: a84b4c76e66710@pc33.atlanta.com",
)


def invite(*extra, body=b"", length=True):
    """
    An INVITE with the mandatory fields, C{extra} lines and C{body}.
    """
    more = (f"Content-Length: {len(body)}",) if length else ()
    return lines(
        "INVITE sip:bob@biloxi.com SIP/2.0", *HEAD, "CSeq: 314159 INVITE", *extra, *more, body=body
    )


def response(*extra, status="200 OK"):
    """
    A response to L{invite} with C{extra} lines.
    """
    return lines(f"SIP/2.0 {status}", *HEAD, "CSeq: 314159 INVITE", *extra, "Content-Length: 0")


def test_request():
    """
    RFC 3261 7.1: the Request-Line gives method and Request-URI; the
    mandatory fields read into their typed values.
    """
    m = parseMessage(invite("Contact: <sip:alice@pc33.atlanta.com>", body=b"v=0\r\n"))
    assert isinstance(m, Request)
    assert (m.method, str(m.uri)) == ("INVITE", "sip:bob@biloxi.com")
    assert (m.via.transport, m.via.host, m.via.port, m.via.branch) == (
        "UDP",
        "pc33.atlanta.com",
        None,
        "z9hG4bK776asdhds",
    )
    assert m.maxForwards == 70
    assert (m.toAddress.displayName, str(m.toAddress.uri), m.toAddress.tag) == (
        "Bob",
        "sip:bob@biloxi.com",
        None,
    )
    assert m.fromAddress.tag == "1928301774"
    assert m.callID == "a84b4c76e66710@pc33.atlanta.com"
    assert (m.cseq.number, m.cseq.method) == (314159, "INVITE")
    assert [str(c.uri) for c in m.contacts] == ["sip:alice@pc33.atlanta.com"]
    assert m.body == b"v=0\r\n"


def test_response():
    """
    RFC 3261 7.2: the Status-Line gives status code and reason phrase.
    """
    m = parseMessage(response(status="180 Ringing"))
    assert isinstance(m, Response)
    assert (m.status, m.reason) == (180, "Ringing")
    assert m.cseq.method == "INVITE"


def test_namesCaseInsensitive():
    """
    RFC 3261 7.3.1: field names are case-insensitive; they are written in
    their canonical spelling, an unknown one as it came.
    """
    m = parseMessage(invite("cALL-iNFO: <http://x/y>;purpose=icon", "x-MY-header: 1"))
    assert m.headers.get("CALL-INFO") == "<http://x/y>;purpose=icon"
    assert m.headers.get("X-My-Header") == "1"
    assert ("Call-Info", "<http://x/y>;purpose=icon") in m.headers.items()
    assert ("x-MY-header", "1") in m.headers.items()


@pytest.mark.parametrize("letter, name", sorted(COMPACT.items()))
def test_compactForms(letter, name):
    """
    RFC 3261 7.3.3 (and the RFCs that add compact forms): a compact name
    stands for the full one, for reading and adding, and the full name is
    what is written.
    """
    headers = Headers([(letter, "value")])
    assert headers.get(name) == "value"
    assert headers.get(letter.upper()) == "value"
    [(written, _)] = headers.items()
    assert written.lower() == name


def test_compactMessage():
    """
    RFC 3261 7.3.3: a message in compact forms reads like its long form.
    """
    m = parseMessage(
        lines(
            "INVITE sip:bob@biloxi.com SIP/2.0",
            "v: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds",
            "t: <sip:bob@biloxi.com>",
            "f: <sip:alice@atlanta.com>;tag=1",
            "i: abc",
            "CSeq: 1 INVITE",
            "m: <sip:alice@pc33.atlanta.com>",
            "c: application/sdp",
            "k: 100rel, timer",
            "l: 4",
            body=b"v=0\n",
        )
    )
    assert m.callID == "abc"
    assert m.headers.getAll("supported") == ["100rel", "timer"]
    assert m.headers.get("content-type") == "application/sdp"
    assert b"\r\nContent-Type: application/sdp\r\n" in m.serialise()


def test_folding():
    """
    RFC 3261 7.3.1: a line starting with SP or HTAB continues the field
    above; the fold counts as one SP.
    """
    m = parseMessage(
        invite("Subject: I know you're there,", "    pick up the phone", "\tand talk to me!")
    )
    assert m.headers.get("subject") == "I know you're there, pick up the phone and talk to me!"


def test_commaListsAndLines():
    """
    RFC 3261 7.3.1: a list field may come as several lines and as
    comma-separated values; both give one value per element, in order.
    """
    m = parseMessage(
        response(
            "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/UDP b.example.com"
            ";branch=z9hG4bK2",
            "Via: SIP/2.0/TCP c.example.com;branch=z9hG4bK3",
        )
    )
    assert [v.host for v in m.vias] == [
        "pc33.atlanta.com",
        "a.example.com",
        "b.example.com",
        "c.example.com",
    ]
    assert m.headers.get("via") == "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds"


def test_emptyList():
    """
    RFC 3261 7.3.1: an empty value of a list field is an empty list, and
    empty elements are dropped.
    """
    m = parseMessage(invite("Supported:", "Require: ,", "Allow: INVITE,,ACK"))
    assert m.headers.getAll("supported") == []
    assert m.headers.getAll("require") == []
    assert m.headers.getAll("allow") == ["INVITE", "ACK"]


def test_splitRespectsQuotesAndBrackets():
    """
    RFC 3261 7.3.1: commas inside a quoted-string or between angle
    brackets do not split a list.
    """
    m = parseMessage(
        invite('Contact: "Doe, John" <sip:j,k@a.com>;q=0.5, <sip:j@b.com>;p="a,b"')
    )
    contacts = m.contacts
    assert [c.displayName for c in contacts] == ["Doe, John", None]
    assert contacts[0].uri.user == "j,k"
    assert contacts[1].params == {"p": '"a,b"'}
    assert splitList('a, "b\\", c", <d,e>, f') == ["a", '"b\\", c"', "<d,e>", "f"]


def test_unterminatedListQuote():
    """
    An unterminated quoted-string in a list field is malformed.
    """
    m = parseMessage(invite('Route: "open <sip:a@b>, <sip:c@d>'))
    with pytest.raises(SIPParseError) as info:
        m.routes
    assert info.value.reason == "Bad Route"


@pytest.mark.parametrize(
    "name, value",
    [
        ("WWW-Authenticate", 'Digest realm="a", nonce="b", qop="auth,auth-int"'),
        ("Proxy-Authenticate", 'Digest realm="a", nonce="b"'),
        ("Authorization", 'Digest username="a", realm="b", response="c"'),
        ("Proxy-Authorization", 'Digest username="a", realm="b", response="c"'),
        ("Date", "Sat, 13 Nov 2010 23:29:00 GMT"),
        ("User-Agent", "Phone, version 2"),
        ("X-Unknown", "a, b, c"),
    ],
)
def test_neverSplit(name, value):
    """
    RFC 3261 7.3.1: fields that are not comma lists, the authentication
    fields and Date above all, are never split on commas.
    """
    m = parseMessage(invite(f"{name}: {value}"))
    assert m.headers.getAll(name) == [value]


def test_authenticationLines():
    """
    RFC 3261 20.44, 22.3: several challenges come as several lines, one
    value each.
    """
    m = parseMessage(
        response(
            'WWW-Authenticate: Digest realm="a.com", nonce="1"',
            'WWW-Authenticate: Digest realm="b.com", nonce="2"',
            status="401 Unauthorized",
        )
    )
    assert [c.params["realm"] for c in m.headers.getAllParsed("www-authenticate")] == [
        "a.com",
        "b.com",
    ]


def test_challenge():
    """
    RFC 2617 3.2.1 as profiled by RFC 3261 22.4: a challenge's parameters
    unquote, and are written with qop quoted and algorithm and stale bare.
    """
    challenge = parseChallenge(
        'Digest realm="oso", nonce="abc\\"d", qop="auth", algorithm=MD5, stale=TRUE'
    )
    assert challenge.params == {
        "realm": "oso",
        "nonce": 'abc"d',
        "qop": "auth",
        "algorithm": "MD5",
        "stale": "TRUE",
    }
    assert str(challenge) == (
        'Digest realm="oso", nonce="abc\\"d", qop="auth", algorithm=MD5, stale=TRUE'
    )
    assert isinstance(challenge, Challenge)


def test_credentials():
    """
    RFC 2617 3.2.2: credentials are written with qop, nc and algorithm
    bare and everything else quoted, and read back the same.
    """
    credentials = Credentials(
        "Digest",
        {
            "username": "201",
            "realm": "oso",
            "nonce": "n",
            "uri": "sip:oso",
            "response": "6629fae49393a05397450978507c4ef1",
            "qop": "auth",
            "nc": "00000001",
            "cnonce": "0a4f113b",
        },
    )
    text = str(credentials)
    assert 'qop=auth, nc=00000001, cnonce="0a4f113b"' in text
    assert parseCredentials(text).params == credentials.params


@pytest.mark.parametrize(
    "value",
    ["Digest", 'Digest realm="a", realm="b"', 'Digest realm="a" nonce="b"', 'realm="a"'],
)
def test_badAuthentication(value):
    """
    RFC 3261 25.1: an authentication field without parameters, with a
    repeated one or without the commas is malformed.
    """
    with pytest.raises(SIPParseError):
        parseCredentials(value)


def test_date():
    """
    RFC 3261 20.17: Date is an RFC 1123 date in GMT.
    """
    assert parseDate("Sat, 13 Nov 2010 23:29:00 GMT") == datetime(
        2010, 11, 13, 23, 29, tzinfo=timezone.utc
    )
    for bad in ("Sat, 31 Feb 2010 23:29:00 GMT", "Sat, 13 Nov 2010 23:29:00 UTC"):
        with pytest.raises(SIPParseError):
            parseDate(bad)


def test_viaSettersWritten():
    """
    RFC 3261 18.2.1 and RFC 3581 4: received and rport set on the parsed
    top Via are written; a bare rport is filled in.
    """
    m = parseMessage(invite().replace(b"z9hG4bK776asdhds", b"z9hG4bK776asdhds;rport"))
    assert "rport" in m.via.params and m.via.rport is None
    m.via.received = "192.0.2.1"
    m.via.rport = 5061
    assert (
        b"\r\nVia: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds;rport=5061"
        b";received=192.0.2.1\r\n" in m.serialise()
    )
    assert parseMessage(m.serialise()).via.rport == 5061


def test_viaIPv6():
    """
    RFC 5118 4.5, 4.6: a Via with an IPv6 reference as sent-by and an
    IPv6 address in received.
    """
    m = parseMessage(
        invite().replace(
            b"Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds",
            b"Via: SIP/2.0/UDP [2001:db8::9:1]:5070;received=2001:db8::9:255;branch=z9hG4bKas3",
        )
    )
    assert (m.via.host, m.via.port, m.via.received) == ("[2001:db8::9:1]", 5070, "2001:db8::9:255")


@pytest.mark.parametrize(
    "via",
    [
        "SIP/2.0/UDP",
        "SIP/2.0 host.example.com",
        "SIP/2.0/UDP host.example.com:70000",
        "SIP/2.0/UDP [2001:db8::g]",
        "SIP/2.0/UDP host.example.com;rport=abc",
        "SIP/2.0/UDP host.example.com;branch=a;branch=b",
        "SIP/2.0/UDP host.example.com;branch=a b",
    ],
)
def test_badVia(via):
    """
    RFC 3261 20.42: a top Via without transport or host, with a bad port,
    address or rport, or with a repeated or malformed parameter is a 400.
    """
    data = invite().replace(b"SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds", via.encode())
    with pytest.raises(SIPParseError) as info:
        parseMessage(data)
    assert info.value.reason == "Bad Via"


def test_typedValuesWritten():
    """
    Changes to a parsed value (To's tag, a Contact's URI) are written.
    """
    m = parseMessage(invite("Contact: <sip:alice@pc33.atlanta.com>"))
    m.toAddress.tag = "a6c85cf"
    m.contacts[0].uri.port = 5080
    data = m.serialise()
    assert b'\r\nTo: "Bob" <sip:bob@biloxi.com>;tag=a6c85cf\r\n' in data
    assert b"\r\nContact: <sip:alice@pc33.atlanta.com:5080>\r\n" in data


def test_parsedValuesNotShared():
    """
    Two messages with the same field text get values of their own:
    changing one message's To or Request-URI leaves the other's alone.
    """
    first, second = parseMessage(invite()), parseMessage(invite())
    first.toAddress.tag = "changed"
    first.toAddress.uri.params["transport"] = "tcp"
    first.uri.user = "carol"
    assert second.toAddress.tag is None
    assert second.toAddress.uri.params == {}
    assert parseMessage(invite()).uri.user == "bob"


def test_serialise():
    """
    RFC 3261 7.4.1, 18.3: writing uses CRLF, puts Content-Length where it
    was (counting the body whatever it said) or at the end, and ends the
    header with an empty line.
    """
    m = parseMessage(invite(body=b"abc"))
    m.body = b"abcdef"
    data = m.serialise()
    assert data.endswith(b"\r\nContent-Length: 6\r\n\r\nabcdef")
    assert b"\n" not in data.replace(b"\r\n", b"")
    built = Request(
        "OPTIONS",
        parseURI("sip:bob@biloxi.com"),
        [("Via", Via("UDP", "192.0.2.1", 5060, {"branch": "z9hG4bKx"})), ("Call-ID", "c")],
    )
    assert built.serialise() == (
        b"OPTIONS sip:bob@biloxi.com SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx\r\n"
        b"Call-ID: c\r\n"
        b"Content-Length: 0\r\n\r\n"
    )


def test_responseReasons():
    """
    RFC 3261 21: a response built without a reason phrase gets the
    standard one for its code.
    """
    assert Response(486).reason == "Busy Here"
    assert Response(299).reason == ""
    assert Response(200, "Fine").serialise().startswith(b"SIP/2.0 200 Fine\r\n")


def test_datagramLength():
    """
    RFC 3261 18.3: in a datagram, no Content-Length means the body is the
    rest of the datagram, and octets past the Content-Length are dropped.
    """
    assert parseMessage(invite(body=b"xyz", length=False)).body == b"xyz"
    assert parseMessage(invite(body=b"abc") + b"junk").body == b"abc"


def test_streamLength():
    """
    RFC 3261 18.3: a message from a stream must carry Content-Length and
    it must count the body exactly.
    """
    with pytest.raises(SIPParseError) as info:
        parseMessage(invite(body=b"xyz", length=False), datagram=False)
    assert info.value.reason == "Missing Content-Length"
    with pytest.raises(SIPParseError) as info:
        parseMessage(invite(body=b"abc") + b"junk", datagram=False)
    assert info.value.reason == "Content-Length mismatch"
    assert parseMessage(invite(body=b"abc"), datagram=False).body == b"abc"


@pytest.mark.parametrize("missing", ["Via", "From", "To", "Call-ID", "CSeq"])
def test_mandatory(missing):
    """
    RFC 3261 8.1.1: a request without Via, From, To, Call-ID or CSeq is a
    400 whose reason names the field; the partial request keeps the
    rest for the answer.
    """
    data = b"\r\n".join(
        line for line in invite().split(b"\r\n") if not line.startswith(missing.encode() + b":")
    )
    with pytest.raises(SIPParseError) as info:
        parseMessage(data)
    assert (info.value.statusCode, info.value.reason) == (400, f"Missing {missing}")
    assert info.value.partial.method == "INVITE"
    assert info.value.partial.headers.get("max-forwards") == "70"


def test_missingMandatoryResponse():
    """
    A response without its Call-ID is malformed, with nothing to answer.
    """
    data = response().replace(b"Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n", b"")
    with pytest.raises(SIPParseError) as info:
        parseMessage(data)
    assert info.value.partial is None


@pytest.mark.parametrize(
    "line, status, reason",
    [
        ("INVITE sip:bob@biloxi.com SIP/2.1", 505, "Version Not Supported"),
        ("INVITE sip:bob@biloxi.com HTTP/1.1", 400, "Bad SIP-Version"),
        ("INVITE sip:bob@biloxi.com", 400, "Bad Request-Line"),
        ("INV ITE sip:bob@biloxi.com SIP/2.0", 400, "Bad Request-Line"),
        ("INVITE\tsip:bob@biloxi.com SIP/2.0", 400, "Bad Request-Line"),
        ("INVITE sip:bob@biloxi.com SIP/2.0", 400, "CSeq method mismatch"),
    ],
)
def test_requestLine(line, status, reason):
    """
    RFC 3261 7.1, 8.2.2: a Request-Line with another SIP version is a 505,
    one that is not a Request-Line a 400; CSeq must name the request's
    method.
    """
    data = invite().replace(b"INVITE sip:bob@biloxi.com SIP/2.0", line.encode())
    if reason == "CSeq method mismatch":
        data = data.replace(b"314159 INVITE", b"314159 invite")
    with pytest.raises(SIPParseError) as info:
        parseMessage(data)
    assert (info.value.statusCode, info.value.reason) == (status, reason)


def test_versionCaseInsensitive():
    """
    RFC 3261 7.1: "SIP" in the version is case-insensitive.
    """
    assert parseMessage(invite().replace(b" SIP/2.0\r\n", b" sip/2.0\r\n", 1)).method == "INVITE"


@pytest.mark.parametrize(
    "line", ["SIP/2.0 99 Too Low", "SIP/2.0 700 Too High", "SIP/2.0 2000 OK", "SIP/3.0 200 OK"]
)
def test_statusLine(line):
    """
    RFC 3261 7.2: the status code has three digits from 100 to 699, and
    the version is SIP/2.0.
    """
    with pytest.raises(SIPParseError):
        parseMessage(response().replace(b"SIP/2.0 200 OK", line.encode()))


@pytest.mark.parametrize(
    "line, reason",
    [
        ("Call-ID: has space", "Bad Call-ID"),
        ("Max-Forwards: 256", "Bad Max-Forwards"),
        ("CSeq: 1", "Bad CSeq"),
        ("CSeq: -1 INVITE", "Bad CSeq"),
        ("Content-Length: 1.5", "Bad Content-Length"),
        ("Contact: *, <sip:a@b.com>", "Bad Contact"),
    ],
)
def test_badFields(line, reason):
    """
    RFC 3261 20: malformed Call-ID, Max-Forwards, CSeq, Content-Length
    and Contact values are a 400 naming the field.
    """
    name = line.split(":")[0].encode()
    data = b"\r\n".join(
        item for item in invite().split(b"\r\n") if not item.startswith(name + b":")
    )
    data = data.replace(b"\r\n\r\n", f"\r\n{line}\r\n\r\n".encode())
    with pytest.raises(SIPParseError) as info:
        parseMessage(data)
    assert info.value.reason == reason


def test_contactWildcard():
    """
    RFC 3261 10.2.2: C{Contact: *} reads as the wildcard.
    """
    data = lines(
        "REGISTER sip:registrar.biloxi.com SIP/2.0",
        *HEAD,
        "CSeq: 2 REGISTER",
        "Contact: *",
        "Expires: 0",
        "Content-Length: 0",
    )
    assert parseMessage(data).contacts == ["*"]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\r\n\r\n",
        b"INVITE sip:bob@biloxi.com SIP/2.0\nVia: x\n\n",
        b"INVITE sip:bob@biloxi.com SIP/2.0\r\nTo: a\rb\r\n\r\n",
        b"INVITE sip:bob@biloxi.com SIP/2.0\r\n continuation first\r\n\r\n",
        b"INVITE sip:bob@biloxi.com SIP/2.0\r\nno colon here\r\n\r\n",
        b"INVITE sip:bob@biloxi.com SIP/2.0\r\nBad Name: x\r\n\r\n",
    ],
)
def test_malformedLines(data):
    """
    RFC 3261 7: an empty message, bare LF or CR line ends, a continuation
    before any field, and a line that is not C{name: value} are
    malformed.
    """
    with pytest.raises(SIPParseError):
        parseMessage(data)


def test_noEmptyLine():
    """
    RFC 3261 7: a message must end its header with an empty line; the
    error still keeps the request's fields.
    """
    data = invite()[:-2]
    with pytest.raises(SIPParseError) as info:
        parseMessage(data)
    assert info.value.partial.callID == "a84b4c76e66710@pc33.atlanta.com"


def test_leadingCRLF():
    """
    RFC 3261 7.5: CRLFs before the start line are ignored.
    """
    assert parseMessage(b"\r\n\r\n\r\n" + invite()).method == "INVITE"


def test_lazyFields():
    """
    Fields no receiver needs at once are parsed on first use: a malformed
    Route does not stop reading, and raises when asked for.
    """
    m = parseMessage(invite("Route: <sip:proxy.example.com;lr", "Record-Route: bad"))
    with pytest.raises(SIPParseError):
        m.routes
    with pytest.raises(SIPParseError):
        m.recordRoutes


def test_headersAPI():
    """
    The container: C{add} (at the end or before the same field), C{set}
    in place of the first value, C{remove}, C{removeFirst} (per list
    element), membership, and copies that do not share the field list.
    """
    headers = Headers([("Via", "SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2")])
    headers.add("Call-ID", "x")
    headers.add("v", "SIP/2.0/UDP c;branch=z9hG4bK3", first=True)
    assert [str(v) for v in headers.getAllParsed("via")][0] == "SIP/2.0/UDP c;branch=z9hG4bK3"
    assert headers.removeFirst("via").host == "c"
    assert headers.get("via") == "SIP/2.0/UDP a;branch=z9hG4bK1"
    copy = headers.copy()
    headers.set("via", "SIP/2.0/TCP d;branch=z9hG4bK4")
    assert headers.items() == [("Via", "SIP/2.0/TCP d;branch=z9hG4bK4"), ("Call-ID", "x")]
    assert len(copy.getAll("via")) == 2
    headers.set("Subject", "hi")
    assert headers.items()[-1] == ("Subject", "hi")
    headers.remove("i")
    assert "call-id" not in headers and "VIA" in headers
    assert headers.removeFirst("route") is None
    assert headers.get("route", "none") == "none"
    with pytest.raises(ValueError):
        headers.add("Subject", "a\r\nInjected: yes")
    with pytest.raises(KeyError):
        headers.getParsed("subject")


def test_displayNameWritten():
    """
    RFC 3261 25.1: a display name is written as a quoted-string with
    quotes, backslashes and control characters escaped; CR and LF cannot
    be written at all.
    """
    address = NameAddress(parseURI("sip:a@b.com"), 'say "hi" \\ \x00', {"tag": "1"})
    assert str(address) == '"say \\"hi\\" \\\\ \\\x00" <sip:a@b.com>;tag=1'
    with pytest.raises(ValueError):
        str(NameAddress(parseURI("sip:a@b.com"), "two\r\nlines"))


def test_equality():
    """
    Messages are equal with the same start line, fields and body;
    Content-Length does not count; a list written on one line equals it
    written on several.
    """
    a = parseMessage(invite("Allow: INVITE, ACK"))
    b = parseMessage(invite("Allow: INVITE", "Allow: ACK"))
    assert a == b
    b.body = b"x"
    assert a != b
    assert a != parseMessage(invite("Allow: INVITE"))
    assert parseMessage(response()) != parseMessage(response(status="200 Fine"))
    assert a != parseMessage(response())


# Property tests.

_TOKENS = st.text(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~",
    min_size=1,
    max_size=10,
)
_LINE_TEXT = st.text(
    st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=20
)
_VALUES = _LINE_TEXT.map(lambda text: text.strip(" \t"))
_URIS = st.builds(
    SIPURI,
    host=st.sampled_from(["example.com", "192.0.2.1", "[2001:db8::1]"]),
    user=st.none() | st.text(min_size=1, max_size=8),
    port=st.none() | st.integers(1, 65535),
    params=st.dictionaries(_TOKENS.map(str.lower), st.none() | _TOKENS, max_size=2),
)
_ADDRESSES = st.builds(
    NameAddress,
    _URIS,
    st.none() | _LINE_TEXT,
    st.dictionaries(st.just("tag"), _TOKENS, max_size=1),
)
_VIAS = st.builds(
    Via,
    st.sampled_from(["UDP", "TCP", "TLS", "SCTP"]),
    st.sampled_from(["pc33.atlanta.com", "192.0.2.7", "[::1]"]),
    st.none() | st.integers(1, 65535),
    st.fixed_dictionaries({"branch": _TOKENS.map("z9hG4bK".__add__)}),
)
_EXTRA = st.lists(
    st.one_of(
        st.tuples(_TOKENS.map("X-".__add__), _VALUES),
        st.tuples(st.just("Supported"), st.lists(_TOKENS, min_size=1).map(", ".join)),
        st.tuples(st.just("Route"), _ADDRESSES),
    ),
    max_size=5,
)


@st.composite
def messages(draw):
    """
    Requests and responses with the mandatory fields, extra fields and a
    body.
    """
    method = draw(_TOKENS)
    fields = [("Via", via) for via in draw(st.lists(_VIAS, min_size=1, max_size=3))]
    fields += [
        ("From", draw(_ADDRESSES)),
        ("To", draw(_ADDRESSES)),
        ("Call-ID", draw(_TOKENS)),
        ("CSeq", CSeq(draw(st.integers(0, 2**32 - 1)), method)),
        ("Max-Forwards", str(draw(st.integers(0, 255)))),
    ]
    fields += draw(_EXTRA)
    fields = draw(st.permutations(fields))
    body = draw(st.binary(max_size=64))
    if draw(st.booleans()):
        return Request(method, draw(_URIS), fields, body)
    return Response(draw(st.integers(100, 699)), draw(_LINE_TEXT), fields, body)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(messages(), st.booleans())
def test_roundTrip(message, datagram):
    """
    RFC 3261 7: any request or response is written so that reading it
    gives an equal message, from a datagram or a stream.
    """
    assert parseMessage(message.serialise(), datagram=datagram) == message


@settings(max_examples=300)
@given(st.binary(max_size=300), st.booleans())
def test_arbitraryBytes(data, datagram):
    """
    Arbitrary bytes give a message or a L{SIPParseError}, nothing else.
    """
    try:
        parseMessage(data, datagram=datagram)
    except SIPParseError:
        pass


_SAMPLES = [
    invite("Contact: <sip:alice@pc33.atlanta.com>;q=0.5", "Route: <sip:p.example.com;lr>"),
    response(
        'WWW-Authenticate: Digest realm="a", nonce="b"',
        'Contact: "A, B" <sip:a@b.com>',
        status="401 Unauthorized",
    ),
]


@settings(max_examples=300)
@given(
    st.sampled_from(_SAMPLES),
    st.lists(st.tuples(st.integers(0, 400), st.integers(0, 4), st.binary(max_size=4)), max_size=4),
)
def test_mutatedMessages(data, edits):
    """
    Valid messages with random edits give a L{SIPParseError} or a message
    whose typed fields raise nothing else, and which reads back equal
    after writing.
    """
    data = bytearray(data)
    for at, size, replacement in edits:
        data[at : at + size] = replacement
    try:
        message = parseMessage(bytes(data))
    except SIPParseError:
        return
    for name in ("via", "vias", "fromAddress", "toAddress", "cseq", "contacts", "routes"):
        try:
            getattr(message, name)
        except SIPParseError:
            pass
    assert parseMessage(message.serialise()) == message


def test_copyFromCopiesFieldsIndependently():
    """
    L{Headers.copyFrom} appends the named fields of another message in the
    order asked, every element of a list field, the addresses as copies:
    a tag set on the copy's To leaves the original alone.
    """
    request = parseMessage(
        b"OPTIONS sip:bob@example.com SIP/2.0\r\n"
        b"v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1,"
        b" SIP/2.0/UDP b.example.com;branch=z9hG4bK2\r\n"
        b"t: <sip:bob@example.com>\r\n"
        b"f: Alice <sip:alice@example.com>;tag=x\r\n"
        b"i: c1@example.com\r\nCSeq: 7 OPTIONS\r\nMax-Forwards: 70\r\n\r\n"
    )
    response = Response(200)
    response.headers.copyFrom(request.headers, ("via", "from", "to", "call-id", "cseq"))
    assert [name for name, _ in response.headers.items()] == [
        "Via", "Via", "From", "To", "Call-ID", "CSeq",
    ]  # fmt: skip
    assert [v.host for v in response.vias] == ["a.example.com", "b.example.com"]
    response.toAddress.tag = "mine"
    assert request.toAddress.tag is None
    assert response.headers.get("to") == "<sip:bob@example.com>;tag=mine"
    assert response.fromAddress.displayName == "Alice"
    assert response.cseq.number == 7
