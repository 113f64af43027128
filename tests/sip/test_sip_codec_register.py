"""
The shortcuts the codec takes in reading a request such as a REGISTER
(header lines split by the names seen before, a single Via or Contact line
checked without the list split, a Via's sent-by and a Request-Line kept
from the messages before, auth-params found in one pass or read by the
layout of the text outside their quoted-strings, an absent list field,
numbers kept) give what the general code gives, or the same error: each
is compared with its general twin on varied and unusual-but-valid input.
"""

import itertools
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oso.sip import parseMessage
from oso.sip.headers import (
    _ADDRESS_HEADS,
    _ADDRESSES,
    _AUTH_LAYOUTS,
    _AUTH_SCHEME_RE,
    _NAME_ADDR_HEADS,
    _QUOTED,
    _TOKEN,
    _VIA_HEADS,
    _VIA_SENT,
    _plainAuth,
    parseChallenge,
    parseContentLength,
    parseCredentials,
    parseMaxForwards,
    parseNameAddress,
    parseVia,
    unquoteString,
)
from oso.sip.message import Headers, _checkContacts, _checkVia, _quickFields, _splitFields
from oso.sip.transaction import makeResponse
from oso.sip.uri import SIPParseError

_ONE_PARAM_RE = re.compile(
    rf'([{_TOKEN}]+)[ \t]*=[ \t]*({_QUOTED}|[^ \t,"]+)[ \t]*(?:,[ \t]*|$)'
)


def readOneByOne(text):
    """
    Credentials read one auth-param at a time from where the last ended
    (the general reading).
    """
    match = _AUTH_SCHEME_RE.match(text)
    if match is None:
        return "malformed"
    params = {}
    pos = match.end()
    while pos < len(text):
        param = _ONE_PARAM_RE.match(text, pos)
        if param is None:
            return "malformed"
        key, value = param.group(1).lower(), param.group(2)
        if key in params:
            return "malformed"
        params[key] = unquoteString(value) if value.startswith('"') else value
        pos = param.end()
    return (match.group(1), params) if params else "malformed"


def readAtOnce(text):
    try:
        credentials = parseCredentials(text)
    except SIPParseError as error:
        assert error.reason == "Bad Authorization"
        return "malformed"
    return credentials.scheme, credentials.params


def readByLayout(text):
    """
    What reading by the layout makes of credentials, with the layout
    new and then kept: the same both times (or C{None} both times, the
    text left to the general reading).
    """
    _AUTH_LAYOUTS.clear()
    first = _plainAuth(text)
    assert _plainAuth(text) == first
    return first


def inOrder(reading):
    """
    @return: a reading with its parameters as a list of pairs in order.
    """
    return (reading[0], list(reading[1].items())) if reading != "malformed" else reading


def assertSameReading(text):
    """
    Credentials read by their layout read as they read one auth-param at
    a time; those it leaves are read so by L{parseCredentials}, malformed
    ones refused the same way.
    """
    plain = readByLayout(text)
    if plain is not None:
        # In their written order too.
        assert (plain[0], list(plain[1].items())) == inOrder(readOneByOne(text)), text
    assert readAtOnce(text) == readOneByOne(text), text


authParam = st.tuples(
    st.sampled_from(["a", "Nc", "qop", "A", "a-b", "a b", "", "a\"", "x,"]),
    st.sampled_from(["=", " = ", "\t=", "", "=="]),
    st.sampled_from(
        ['"v"', '"v,w"', '"a\\"b"', '"\\\\"', "tok", "", '"', 'a"b', "00000001", '""',
         '"a=b"', '" "', "a=b", 'x"y"'],  # fmt: skip
    ),
    st.sampled_from([",", ", ", " ,", "", " ", ",,", "\t,\t", ",  "]),
).map("".join)


@given(
    st.sampled_from(["Digest ", "Digest  ", "Digest", "", "Dig est ", "Basic\t", '"D" ']),
    st.lists(authParam, max_size=5) | st.text(alphabet='a=", \t\\B1', max_size=30).map(
        lambda text: [text]
    ),
)
def test_authParamsOnePass(scheme, params):
    """
    Credentials read by one pass, or by their layout, are those read one
    auth-param at a time, and text malformed for one is malformed for the
    other.
    """
    assertSameReading(scheme + "".join(params))


headerLine = st.one_of(
    st.text(alphabet="Via: \tab-c;,=", max_size=16),
    st.sampled_from(["Via: x", "v : y", "To:", " folded", "\tx", "a:b:c", "Bad Line", ""]),
)


@given(st.lists(headerLine, max_size=5))
def test_fieldLinesQuick(lines):
    """
    Header lines split by the quick path are those the general path
    splits, and the quick path leaves only folded and malformed lines to
    it.
    """
    quick = _quickFields(lines)
    fields, fault = _splitFields(lines)
    if quick is None:
        assert fault is not None or any(line[:1] in (" ", "\t") for line in lines)
    else:
        assert fault is None
        assert quick == fields


def checked(check, field, several):
    """
    What C{check} makes of a request's fields holding C{field}: the
    fields as written and the list fields split, or the error.
    """
    headers = Headers._fromParsed([("cseq", "CSeq", "1 X"), field, ("expires", "Expires", "1")])
    try:
        check(headers, 1, several)
    except SIPParseError as error:
        return error.reason, error.message
    return [(key, name, str(value)) for key, name, value in headers._fields], [
        str(value) for value in headers.getAllParsed(field[0])
    ]


listValue = st.one_of(
    st.sampled_from(
        [
            "SIP/2.0/UDP h:5060;branch=z9hG4bK1",
            "SIP/2.0/UDP h;rport, SIP/2.0/TCP g",
            "<sip:a@b>;expires=60",
            '"A, B" <sip:a@b>',
            "*",
            "*, <sip:a@b>",
            "",
            ",",
            "<sip:a@b",
        ]
    ),
    st.text(alphabet='SIP/2.0UDP h;,<>:@"*', max_size=20),
)


@given(listValue)
def test_singleListLineChecked(value):
    """
    A single Via or Contact line is checked as the list split would
    check it: the same fields, values and errors.
    """
    for check, field in ((_checkVia, ("via", "Via", value)), (_checkContacts, ("contact", "Contact", value))):
        assert checked(check, field, False) == checked(check, field, True)


def readsAsAlone(parse, clear, starts, firsts, seconds):
    """
    Whether each text of a start and a second part reads as it would with
    nothing kept, after a text of the same start and a first part was
    read: the same value (as C{parse} describes it) or the same error.
    """

    def outcome(text):
        try:
            return parse(text)
        except SIPParseError as error:
            return error.message

    for start, first, second in itertools.product(starts, firsts, seconds):
        clear()
        alone = outcome(start + second)
        clear()
        outcome(start + first)
        assert outcome(start + second) == alone, (start, first, second)


def parsedVia(text):
    """
    What a Via reads as.
    """
    via = parseVia(text)
    return str(via), via.protocol, via.transport, via.host, via.port, via.params, [*via.params]


def clearVias():
    _VIA_SENT.clear()
    _VIA_HEADS.clear()


def parsedAddress(text):
    """
    What an address reads as, and what it writes.
    """
    address = parseNameAddress(text)
    return str(address), address.displayName, str(address.uri), address.params, [*address.params]


def clearAddresses():
    _ADDRESSES.clear()
    _NAME_ADDR_HEADS.clear()
    _ADDRESS_HEADS.clear()


def test_viaSentByKept():
    """
    A Via read after another with the same text before its first
    semicolon reads as it would with nothing kept.
    """
    readsAsAlone(
        parsedVia,
        clearVias,
        ["SIP/2.0/UDP h", "SIP/2.0/UDP [::1]:5060", "SIP / 2.0 / TLS h ", "SIP/2.0/UDP h:99999",
         "x", "SIP/2.0/UDP h:5060 "],
        ["", ";branch=z9hG4bK1", ";rport", ";rport=x", ";;", " ;received=1.2.3.4"],
        ["", ";branch=z9hG4bK2;rport=5", ";a", ";", ";a;a", " ;b"],
    )


def test_nameAddressStartKept():
    """
    An address read after another with the same text up to its first
    C{>} reads as it would with nothing kept.
    """

    readsAsAlone(
        parsedAddress,
        clearAddresses,
        ["<sip:a@h>", '"A" <sip:a@h>', "A B <sip:a@h;lr>", '"a>b" <sip:a@h>', "<sip:a@h", "<bad>",
         "sip:a@h", "sip:a@h;x=>", '"A\\"> <sip:a@h>', "<sip:a@[::1]>", "<sip:a@h?x=y>", ">"],
        ["", ";tag=1", ";tag=1;tag=2", " ; tag = 2", ";", ";x=>", ">"],
        ["", ";tag=3", ";expires=0;q=1", ";;", " x", ">"],
    )


# Values that end a Via or an address after a start read before: of the
# common form and not, and text that would make the last one not a value.
_LAST_VALUES = ["z9hG4bK1", "Z", "[::1]", "a:b", "5", "99999", "", "a;b", "a;b=c", "a=b", "a b",
                " a", "a ", '"a"', "a,b", "a>", ";", "a;a", "a;branch=b", "a;tag=b", "a;rport=x"]


def test_viaByItsLastValue():
    """
    A Via read after another with the same text up to its last C{=}
    reads as it would with nothing kept: its new value is checked, and a
    text that is not of the common form after that start is read in
    full.
    """
    readsAsAlone(
        parsedVia,
        clearVias,
        ["SIP/2.0/UDP h;branch=", "SIP/2.0/UDP h:5060;rport;branch=", "SIP/2.0/UDP h;rport=",
         "SIP/2.0/UDP h;branch=z;branch=", "SIP/2.0/UDP h ;branch=", "SIP/2.0/UDP h;x=1;BRANCH=",
         "SIP/2.0/UDP h;received=", "sip/2.0/udp [::1]:5;rport=5;branch=", "SIP/2.0/UDP h:99999;a=",
         "SIP/2.0/UDP h;branch = ", "SIP/2.0/UDP h;x=\"a;b=\";branch=", "SIP/2.0/UDP h;;b=", "x="],
        _LAST_VALUES,
        _LAST_VALUES,
    )


def test_addressByItsLastValue():
    """
    An address read after another with the same text up to its last
    C{=} reads, and writes, as it would with nothing kept.
    """
    readsAsAlone(
        parsedAddress,
        clearAddresses,
        ["<sip:a@h>;tag=", '"A" <sip:a@h>;tag=', "A  B <sip:a@h;x=y>;TAG=", "<sip:a@h>;lr;tag=",
         "<sip:a@h>;tag=1;tag=", "<sip:a@h;x=", '"a>b" <sip:a@h>;tag=', "<sip:a@h> ;tag=",
         "sip:a@h;tag=", "<sip:a@h>;q=0.5;expires=", '<sip:a@h>;x="a;b=";tag=', "<sip:a@h>;;tag=",
         '"A\\"> <sip:a@h>;tag='],
        _LAST_VALUES,
        _LAST_VALUES,
    )


def test_requestLineKept():
    """
    A Request-Line read before gives each request a Request-URI of its
    own.
    """
    data = (
        b"REGISTER sip:registrar.example.com;transport=udp SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\n"
        b"To: <sip:a@example.com>\r\nCall-ID: c1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n"
    )
    first, second = parseMessage(data), parseMessage(data)
    first.uri.params["transport"] = "tcp"
    first.uri.host = "changed.example.com"
    assert str(second.uri) == "sip:registrar.example.com;transport=udp"
    assert str(parseMessage(data).uri) == "sip:registrar.example.com;transport=udp"
    assert second.method == "REGISTER"


def test_responseViasStaySplit():
    """
    A response copies the request's Vias one per line; a Via list added
    to it afterwards is split as in any message.
    """
    request = parseMessage(
        b"OPTIONS sip:h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b\r\n"
        b"From: <sip:a@h>;tag=1\r\nTo: <sip:h>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n"
    )
    response = makeResponse(request, 200)
    assert response.headers.getAll("via") == [
        "SIP/2.0/UDP a;branch=z9hG4bK1", "SIP/2.0/UDP b"
    ]
    response.headers.add("Via", "SIP/2.0/UDP c, SIP/2.0/UDP d")
    assert [str(via) for via in response.vias] == [
        "SIP/2.0/UDP a;branch=z9hG4bK1", "SIP/2.0/UDP b", "SIP/2.0/UDP c", "SIP/2.0/UDP d"
    ]
    assert response.serialise().count(b"\r\nVia: ") == 4


SIPP = (
    'Digest username="300",realm="oso",cnonce="6b8b4567",nc=00000001,qop=auth,'
    'uri="sip:127.0.0.1:5060",nonce="65a1.00112233.aabb",response="0123456789abcdef",'
    'algorithm=MD5,opaque="5555"'
)


def test_commonFormsByLayout():
    """
    The forms clients write are read by their layout, as the general
    reading reads them.
    """
    for text in (
        SIPP,
        SIPP.replace(",", ", "),
        'Digest username="a", realm="b", nonce="c", uri="sip:h", response="d"',
        'digest USERNAME="a",Realm="b",NONCE=""',
        'Basic realm="x"',
        "Digest nc=00000001",
        'Digest realm="=,; <>",nonce="a=b",opaque="\'"',
    ):
        assert readByLayout(text) is not None, text
        assertSameReading(text)


def test_unusualFormsLeftToTheGeneralReading():
    """
    Valid forms other than the common one (escapes, commas and quotes in
    quoted-strings, whitespace around C{=} or at the end, a trailing
    comma, tabs, an C{=} in a token) read as the general reading reads
    them; malformed ones are refused as it refuses them.
    """
    for text in (
        'Digest username="a\\"b", realm="c"',
        'Digest username="a\\\\", realm="c"',
        'Digest uri="sip:a@h,b", realm="c"',
        'Digest realm = "c", nonce= "d"',
        'Digest realm="c" ',
        'Digest realm="c",',
        'Digest realm="c",\tnonce="d"',
        'Digest\trealm="c"',
        'Digest  realm="c",  nonce="d"',
        'Digest realm="c" ,nonce="d"',
        "Digest response=abc==",
        'Digest nc=1, NC=2',
        'Digest realm="c",,nonce="d"',
        'Digest realm="c"nonce="d"',
        'Digest realm="c',
        'Digest realm="a"b"',
        'Digest realm=""""',
        'Digest realm=a"b"',
        "Digest realm=",
        "Digest ,realm=a",
        "Digest",
        "Digest ",
        '"Digest" realm="c"',
        'Digest re alm="c"',
        'Digest realm=a b',
    ):
        assertSameReading(text)


def test_sameLayoutOtherContents():
    """
    Credentials whose layout was kept read as the general reading reads
    them, whatever their quoted-strings hold.
    """
    _AUTH_LAYOUTS.clear()
    layout = 'Digest username="{}", nc=00000001, uri="{}"'
    for contents in (("a", "b"), ("a,b", "c"), ('a", nc="b', "c"), ("", ""), ("a=b", " c ")):
        text = layout.format(*contents)
        plain = _plainAuth(text)
        if plain is not None:
            assert plain == readOneByOne(text), text
        assert readAtOnce(text) == readOneByOne(text), text


def test_challengeByLayout():
    """
    A challenge of the common form is read by its layout too.
    """
    challenge = parseChallenge(
        'Digest realm="oso", nonce="abc", opaque="x", algorithm=MD5, qop="auth", stale=TRUE'
    )
    assert challenge.scheme == "Digest"
    assert challenge.params == {
        "realm": "oso", "nonce": "abc", "opaque": "x", "algorithm": "MD5", "qop": "auth",
        "stale": "TRUE",
    }  # fmt: skip


def test_absentListField():
    """
    An absent list field reads as no values, and one added afterwards is
    split as in any message.
    """
    request = parseMessage(
        b"REGISTER sip:h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\n"
        b"From: <sip:a@h>;tag=1\r\nTo: <sip:a@h>\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n\r\n"
    )
    assert request.headers.getAll("require") == []
    assert request.headers.getAll("Supported") == []
    request.headers.add("Require", "a, b")
    assert request.headers.getAll("require") == ["a", "b"]
    assert request.headers.getAll("supported") == []


def test_numbersKeptChecked():
    """
    A number read before is checked against each field's own maximum,
    and a malformed one is refused every time.
    """
    assert parseContentLength("300") == 300
    with pytest.raises(SIPParseError) as error:
        parseMaxForwards("300")
    assert error.value.reason == "Bad Max-Forwards"
    assert parseMaxForwards("70") == parseMaxForwards("70") == 70
    for text in ("+1", "1 ", "\u0661", "12345678901", ""):
        for _ in range(2):
            with pytest.raises(SIPParseError):
                parseContentLength(text)
