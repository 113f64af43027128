"""
The shortcuts the codec takes in reading a request with values of its
own (credentials read by their layout) give what the general code gives,
or leave the text to it: each is compared with its general twin on
varied and unusual-but-valid input.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oso.sip import parseMessage
from oso.sip.headers import (
    _AUTH_LAYOUTS,
    _plainAuth,
    _readAuth,
    parseChallenge,
    parseContentLength,
    parseCredentials,
    parseMaxForwards,
)
from oso.sip.uri import SIPParseError


def readGenerally(text):
    """
    What the general reading makes of credentials: C{(scheme, params)},
    or C{"malformed"}.
    """
    try:
        return _readAuth(text, "Authorization")
    except SIPParseError as error:
        assert error.reason == "Bad Authorization"
        return "malformed"


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


def read(text):
    """
    What L{parseCredentials} makes of credentials: C{(scheme, params)},
    or C{"malformed"}.
    """
    try:
        credentials = parseCredentials(text)
    except SIPParseError as error:
        assert error.reason == "Bad Authorization"
        return "malformed"
    return credentials.scheme, credentials.params


def assertSameReading(text):
    """
    Credentials read by their layout read as the general reading reads
    them; those it leaves are read generally, malformed ones refused the
    same way.
    """
    plain = readByLayout(text)
    if plain is not None:
        assert plain == readGenerally(text), text
    assert read(text) == readGenerally(text), text


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
            assert plain == readGenerally(text), text
        assert read(text) == readGenerally(text), text


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


authParam = st.tuples(
    st.sampled_from(["a", "Nc", "qop", "A", "a-b", "a b", "", 'a"', "x,"]),
    st.sampled_from(["=", " = ", "\t=", "", "=="]),
    st.sampled_from(
        ['"v"', '"v,w"', '"a\\"b"', '"\\\\"', "tok", "", '"', 'a"b', "00000001", '""',
         '"a=b"', '" "', "a=b", 'x"y"'],  # fmt: skip
    ),
    st.sampled_from([",", ", ", " ,", "", " ", ",,", "\t,\t", ",  "]),
).map("".join)


@given(
    st.sampled_from(["Digest ", "Digest  ", "Digest", "", "Dig est ", "Basic\t", '"D" ']),
    st.lists(authParam, max_size=5)
    | st.text(alphabet='a=", \t\\B1', max_size=30).map(lambda text: [text]),
)
def test_layoutReadsAsGeneral(scheme, params):
    """
    On varied text, reading by the layout gives what the general reading
    gives, or leaves the text to it.
    """
    assertSameReading(scheme + "".join(params))


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
