"""
SIP, SIPS, tel and other URIs: reading, writing and comparing
(RFC 3261 19.1, 25.1; RFC 3966; RFC 5118 for IPv6 references).
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oso.sip import AbsoluteURI, SIPParseError, SIPURI, TelURI, parseURI


def test_components():
    """
    RFC 3261 19.1.1: user, password, host, port, uri-parameters and
    headers are each read into their place.
    """
    uri = parseURI("sips:alice:secretword@atlanta.com:5061;transport=tcp;lr?subject=project&x=")
    assert uri.scheme == "sips" and uri.secure
    assert (uri.user, uri.password, uri.host, uri.port) == (
        "alice",
        "secretword",
        "atlanta.com",
        5061,
    )
    assert uri.params == {"transport": "tcp", "lr": None}
    assert uri.headers == {"subject": "project", "x": ""}


def test_schemeAndParameterNamesCaseInsensitive():
    """
    RFC 3261 19.1.4: the scheme and parameter names are case-insensitive;
    they are kept lowercased.
    """
    uri = parseURI("SIP:bob@Biloxi.COM;Transport=TCP")
    assert uri.scheme == "sip"
    assert uri.params == {"transport": "TCP"}
    assert uri.host == "Biloxi.COM"


def test_escapesDecoded():
    """
    RFC 3261 19.1.2: %-escapes in every component stand for the octets
    they encode (UTF-8 text), and are written again only where needed.
    """
    uri = parseURI("sip:%61lice%20%C3%A9@atlanta.com;na%6De=v%3Bal?h%3D=%3Cv%3E")
    assert uri.user == "alice é"
    assert uri.params == {"name": "v;al"}
    assert uri.headers == {"h=": "<v>"}
    assert str(uri) == "sip:alice%20%C3%A9@atlanta.com;name=v%3Bal?h%3D=%3Cv%3E"


def test_invalidUTF8Escapes():
    """
    An escape that is not UTF-8 survives reading and writing unchanged.
    """
    uri = parseURI("sip:%FF%FE@example.com")
    assert str(uri) == "sip:%FF%FE@example.com"


@pytest.mark.parametrize(
    "text, host, port",
    [
        ("sip:[2001:db8::10]", "[2001:db8::10]", None),
        ("sip:user@[2001:db8::10]:5070", "[2001:db8::10]", 5070),
        ("sip:[2001:db8::10:5070]", "[2001:db8::10:5070]", None),
        ("sip:[::ffff:192.0.2.1];transport=udp", "[::ffff:192.0.2.1]", None),
        ("sip:192.0.2.1:5060", "192.0.2.1", 5060),
    ],
)
def test_ipReferences(text, host, port):
    """
    RFC 3261 19.1.1 and RFC 5118 4.1, 4.10: an IPv6 reference is the host
    in brackets (a port inside the brackets is part of the address); IPv4
    addresses and ports read as usual.
    """
    uri = parseURI(text)
    assert (uri.host, uri.port) == (host, port)
    assert str(uri) == text


@pytest.mark.parametrize(
    "text",
    [
        "sip:2001:db8::10",
        "sip:[2001:db8:::192.0.2.1]",
        "sip:[2001:db8::10",
        "sip:user@[fe80::1%eth0]",
    ],
)
def test_badIPv6(text):
    """
    RFC 5118 4.4, 4.9: an IPv6 address without brackets or with a
    malformed address is not a URI.
    """
    with pytest.raises(SIPParseError):
        parseURI(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "sip:",
        "sip:user@",
        "sip:@example.com",
        "sip:example.com:99999",
        "sip:example.com:",
        "sip:example.com;",
        "sip:example.com;;lr",
        "sip:example.com;lr;LR",
        "sip:us er@example.com",
        "sip:example.com?",
        "sip:example.com?novalue",
        "sip:%zz@example.com",
        "sip:a@b@c",
        "<sip:example.com>",
        "example.com",
        "1sip:example.com",
        "tel:",
        "tel:+1 555",
        "http:",
        "http://example.com/a b",
    ],
)
def test_malformed(text):
    """
    RFC 3261 25.1: text outside the URI grammar raises L{SIPParseError}
    with reason C{Bad URI}.
    """
    with pytest.raises(SIPParseError) as info:
        parseURI(text)
    assert info.value.reason == "Bad URI"


def test_writeEscapes():
    """
    RFC 3261 19.1.2: writing escapes what a component may not carry
    literally, and nothing else.
    """
    uri = SIPURI(
        "example.com",
        user="I have @ spaces;and?",
        password="p:w",
        params={"maddr": "[::1]", "x y": None},
        headers={"Route": "<sip:a@b>"},
    )
    assert str(uri) == (
        "sip:I%20have%20%40%20spaces;and?:p%3Aw@example.com;maddr=[::1];x%20y"
        "?Route=%3Csip:a%40b%3E"
    )
    assert parseURI(str(uri)) == uri


def test_writtenUserKeptByItsText():
    """
    A user part is escaped once and its written form kept by its text:
    every URI with that user writes the same escapes, and a URI whose
    user is changed writes the new one.
    """
    first = SIPURI("example.com", user="a b")
    second = SIPURI("example.org", user="a b")
    assert str(first) == "sip:a%20b@example.com"
    assert str(second) == "sip:a%20b@example.org"
    second.user = "a@b"
    assert str(second) == "sip:a%40b@example.org"
    assert str(first) == "sip:a%20b@example.com"


@pytest.mark.parametrize(
    "a, b",
    [
        ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"),
        ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
        ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"),
        ("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"),
        (
            "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
            "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com",
        ),
        (
            "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
            "sip:alice@atlanta.com?priority=urgent&subject=project%20x",
        ),
        ("sip:[::1]:5060", "sip:[0:0:0:0:0:0:0:1]:5060"),
    ],
)
def test_equal(a, b):
    """
    RFC 3261 19.1.4 (its examples of equal URIs): escapes equal their
    characters, host and parameters compare case-insensitively, parameter
    and header order does not count, a parameter only one URI has is
    ignored unless it is user, ttl, method, maddr or transport; RFC 5118
    4.7: IPv6 references compare as addresses.
    """
    assert parseURI(a) == parseURI(b)
    assert hash(parseURI(a)) == hash(parseURI(b))


@pytest.mark.parametrize(
    "a, b",
    [
        ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),
        ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),
        ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"),
        ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"),
        ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"),
        ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"),
        ("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"),
        ("sip:alice@atlanta.com", "sips:alice@atlanta.com"),
        ("sip:alice:a@atlanta.com", "sip:alice:b@atlanta.com"),
        ("sip:alice@atlanta.com;maddr=x.com", "sip:alice@atlanta.com"),
        ("sip:alice@atlanta.com;user=phone", "sip:alice@atlanta.com"),
    ],
)
def test_notEqual(a, b):
    """
    RFC 3261 19.1.4 (its examples of unequal URIs): the user part is
    case-sensitive, an explicit port or transport differs from none, a
    header component is never ignored, a name is not its address, sip is
    not sips, and user, ttl, method, maddr, transport must match.
    """
    assert parseURI(a) != parseURI(b)


def test_equalityAcrossKinds():
    """
    A SIP URI never equals a tel URI or an opaque URI.
    """
    assert parseURI("sip:+1555@example.com") != parseURI("tel:+1555")
    assert parseURI("tel:+1555") != parseURI("urn:x:+1555")


def test_tel():
    """
    RFC 3966 3: a tel URI holds a global or local number (with visual
    separators) and parameters.
    """
    uri = parseURI("tel:+1-201-555-0123;ext=22")
    assert isinstance(uri, TelURI) and uri.isGlobal
    assert (uri.number, uri.params) == ("+1-201-555-0123", {"ext": "22"})
    local = parseURI("tel:7042;phone-context=example.com")
    assert not local.isGlobal
    assert local.params == {"phone-context": "example.com"}
    assert str(local) == "tel:7042;phone-context=example.com"


@pytest.mark.parametrize(
    "a, b, equal",
    [
        ("tel:+1-201-555-0123", "tel:+1(201)5550123", True),
        ("tel:7042;phone-context=EXAMPLE.com", "tel:7042;phone-context=example.com", True),
        ("tel:7042;phone-context=+1-201", "tel:7042;phone-context=+1201", True),
        ("tel:+1555;a=1;b=2", "tel:+1555;b=2;a=1", True),
        ("tel:+1555;a=1", "tel:+1555", False),
        ("tel:+1555", "tel:1555", False),
    ],
)
def test_telEquality(a, b, equal):
    """
    RFC 3966 4: numbers compare without visual separators, a numeric
    phone-context likewise, parameters regardless of order but all of
    them.
    """
    assert (parseURI(a) == parseURI(b)) is equal


def test_absolute():
    """
    RFC 3261 25.1 absoluteURI: any other scheme is kept opaque, scheme
    lowercased, and written as read.
    """
    uri = parseURI("URN:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6")
    assert isinstance(uri, AbsoluteURI)
    assert (uri.scheme, uri.rest) == ("urn", "uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6")
    assert parseURI(str(uri)) == uri


def test_copy():
    """
    A copy equals the original and does not share its parameters.
    """
    uri = parseURI("sip:alice@atlanta.com;transport=tcp")
    other = uri.copy()
    other.params["transport"] = "udp"
    assert uri.params == {"transport": "tcp"}
    assert uri == parseURI(str(uri.copy()))


def test_copyEveryComponent():
    """
    A copy (made without the constructor) holds every component of the
    original, and dicts of parameters and headers of its own.
    """
    uri = parseURI("sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=x")
    other = uri.copy()
    assert type(other) is SIPURI
    for name in SIPURI.__slots__:
        assert getattr(other, name) == getattr(uri, name)
    assert str(other) == str(uri)
    other.headers["subject"] = "y"
    other.params["lr"] = "1"
    assert uri.headers == {"subject": "x"}
    assert uri.params == {"transport": "tcp", "lr": None}


_TEXT = st.text(min_size=1, max_size=12)
_HOSTS = st.one_of(
    st.from_regex(r"[a-z][a-z0-9\-]{0,10}(\.[a-z][a-z0-9\-]{0,10}){0,3}", fullmatch=True),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda address: f"[{address}]"),
)
_SIP_URIS = st.builds(
    SIPURI,
    host=_HOSTS,
    user=st.none() | _TEXT,
    password=st.none() | st.text(max_size=8),
    port=st.none() | st.integers(0, 65535),
    params=st.dictionaries(_TEXT.map(str.lower), st.none() | _TEXT, max_size=4),
    headers=st.dictionaries(_TEXT, st.text(max_size=8), max_size=3),
    scheme=st.sampled_from(["sip", "sips"]),
).filter(lambda uri: uri.user is not None or uri.password is None)


@settings(max_examples=300)
@given(_SIP_URIS)
def test_roundTrip(uri):
    """
    Any SIP URI, whatever characters its components hold, is written so
    that reading it gives an equal URI written the same way.
    """
    again = parseURI(str(uri))
    assert again == uri
    assert str(again) == str(uri)
    assert (again.user, again.password, again.port, again.params, again.headers) == (
        uri.user,
        uri.password,
        uri.port,
        uri.params,
        uri.headers,
    )


@settings(max_examples=300)
@given(st.text(max_size=60))
def test_arbitraryText(text):
    """
    Reading arbitrary text gives a URI or raises L{SIPParseError}, nothing
    else.
    """
    try:
        parseURI(text)
    except SIPParseError:
        pass
