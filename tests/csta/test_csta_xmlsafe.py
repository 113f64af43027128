"""
Tests for L{oso.csta.xmlsafe}: hostile XML from a CSTA client is refused with
the codec's error, quickly, and without reading any file or the network.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from oso.csta import xmlsafe
from oso.csta.xmlsafe import XMLCodecError, parseXML

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<MakeCall><callingDevice>&lol9;</callingDevice></MakeCall>"""


def quadraticBlowup():
    """
    One 20 kB entity referenced a thousand times: 20 MB if expanded.
    """
    entity = b"A" * 20000
    refs = b"&a;" * 1000
    return (
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "' + entity + b'">]><MakeCall><callingDevice>'
        + refs
        + b"</callingDevice></MakeCall>"
    )


def externalEntity(uri):
    return (
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY xxe SYSTEM "' + uri.encode() + b'">]>'
        b"<MakeCall><callingDevice>&xxe;</callingDevice></MakeCall>"
    )


def nested(depth):
    return b"<a>" * depth + b"</a>" * depth


@pytest.fixture
def secretFile(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text("TOPSECRET")
    return path


def test_plainDocument():
    """
    An ordinary ECMA-323 request parses to its root element.
    """
    root = parseXML(
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<MakeCall xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed3">'
        b"<callingDevice>100</callingDevice><calledDirectoryNumber>101</calledDirectoryNumber>"
        b"</MakeCall>"
    )
    assert etree.QName(root).localname == "MakeCall"
    assert [c.text for c in root] == ["100", "101"]


@pytest.mark.parametrize(
    "data",
    [
        b"<a>\xc3\xa9</a>",
        b"\xef\xbb\xbf<a>\xc3\xa9</a>",
        b"<?xml version='1.0' encoding='utf-8'?><a>\xc3\xa9</a>",
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><a>\xc3\xa9</a>',
    ],
)
def test_utf8Accepted(data):
    """
    UTF-8, declared or not, with or without a byte order mark, is read as
    UTF-8.
    """
    assert parseXML(data).text == "\u00e9"


def test_commentsAndProcessingInstructionsDropped():
    """
    Comments and processing instructions are no part of a CSTA message.
    """
    root = parseXML(b"<a><!-- note --><?pi data?><b/></a>")
    assert [c.tag for c in root] == ["b"]


def test_billionLaughs():
    """
    Exponential entity expansion is refused at the document type
    declaration, before any expansion.
    """
    with pytest.raises(XMLCodecError, match="document type"):
        parseXML(BILLION_LAUGHS)


def test_quadraticBlowup():
    """
    A large entity referenced many times is refused at the document type
    declaration.
    """
    with pytest.raises(XMLCodecError, match="document type"):
        parseXML(quadraticBlowup())


def test_externalFileEntity(secretFile):
    """
    An external entity naming a local file is refused, and the file's
    content appears nowhere.
    """
    with pytest.raises(XMLCodecError, match="document type") as raised:
        parseXML(externalEntity(secretFile.as_uri()))
    assert "TOPSECRET" not in str(raised.value)


@pytest.mark.parametrize(
    "doc",
    [
        b'<!DOCTYPE m SYSTEM "http://127.0.0.1:9/evil.dtd"><m/>',
        b'<!DOCTYPE m PUBLIC "-//X//EN" "http://127.0.0.1:9/evil.dtd"><m/>',
        b'<!DOCTYPE m [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]><m/>',
    ],
)
def test_externalNetworkDTD(doc):
    """
    External DTDs and parameter entities on the network are refused.
    """
    with pytest.raises(XMLCodecError, match="document type"):
        parseXML(doc)


def test_externalHTTPEntity():
    """
    An external entity naming an http URL is refused.
    """
    with pytest.raises(XMLCodecError, match="document type"):
        parseXML(externalEntity("http://127.0.0.1:9/secret"))


def test_parserExpandsNothingEvenPastTheCheck(secretFile):
    """
    Defence in depth: the parser itself, handed a document with entity
    declarations, expands no entity and reads no file (libxml2 may also
    refuse the document outright for its amplification).
    """
    for doc in [BILLION_LAUGHS, quadraticBlowup(), externalEntity(secretFile.as_uri())]:
        try:
            root = etree.fromstring(doc, xmlsafe._PARSER)
        except etree.XMLSyntaxError as e:
            assert "TOPSECRET" not in str(e)
        else:
            text = etree.tostring(root)
            assert b"TOPSECRET" not in text
            assert len(text) < 200


def test_undefinedEntity():
    """
    Without a DTD, a reference to any but the five predefined entities is
    not well-formed.
    """
    with pytest.raises(XMLCodecError, match="well-formed"):
        parseXML(b"<a>&foo;</a>")
    assert parseXML(b"<a>&lt;&amp;&#65;</a>").text == "<&A"


@pytest.mark.parametrize("depth", [33, 300, 100000])
def test_deepNesting(depth):
    """
    Elements nested deeper than the limit are refused, however deep.
    """
    with pytest.raises(XMLCodecError):
        parseXML(nested(depth), maxSize=10**7)


def test_depthLimitBoundary():
    """
    The depth limit is inclusive, and a document nested one too deep with
    the fewest tags possible is still caught.
    """
    assert parseXML(nested(32)) is not None
    assert parseXML(b"<a><b><c/></b></a>", maxDepth=3) is not None
    with pytest.raises(XMLCodecError, match="deeper than 3"):
        parseXML(b"<a><b><c><d/></c></b></a>", maxDepth=3)
    with pytest.raises(XMLCodecError, match="deeper than 3"):
        parseXML(b"<a><x/><x/><x/><x/><b><c><d/></c></b></a>", maxDepth=3)


def test_wideButShallowAccepted():
    """
    Many siblings are not depth.
    """
    root = parseXML(b"<a>" + b"<b/>" * 1000 + b"</a>")
    assert len(root) == 1000


@pytest.mark.parametrize(
    "data",
    [
        b"<a>\xff</a>",
        b"<a>\xc3</a>",
        b"<a>\xed\xa0\x80</a>",  # an encoded surrogate
        b"<a>\xc0\xaf</a>",  # an overlong '/'
        b"<a>\xf4\x90\x80\x80</a>",  # past U+10FFFF
    ],
)
def test_invalidUTF8(data):
    """
    Bytes that are not UTF-8 are refused.
    """
    with pytest.raises(XMLCodecError, match="not UTF-8"):
        parseXML(data)


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0" encoding="ISO-8859-1"?><a>x</a>',
        b"<?xml version='1.0' encoding='windows-1252'?><a>x</a>",
        b'<?xml version="1.0" encoding="UTF-16"?><a>x</a>',
    ],
)
def test_otherDeclaredEncoding(data):
    """
    A document that declares any encoding but UTF-8 is refused, even when
    its bytes happen to be ASCII.
    """
    with pytest.raises(XMLCodecError, match="only UTF-8"):
        parseXML(data)


@pytest.mark.parametrize(
    "data",
    [
        "<a>x</a>".encode("utf-16"),
        "<a>x</a>".encode("utf-16-le"),
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'.encode("utf-16-le"),
        "<a>x</a>".encode("utf-32"),
    ],
)
def test_utf16And32Refused(data):
    """
    UTF-16 and UTF-32 documents, with or without a byte order mark, are
    refused (and so cannot hide a document type declaration from the
    check).
    """
    with pytest.raises(XMLCodecError):
        parseXML(data)


def test_oversized():
    """
    A document over the size limit is refused before it is parsed; one at
    the limit is parsed.
    """
    doc = b"<a>" + b"x" * 93 + b"</a>"
    assert len(doc) == 100
    assert parseXML(doc, maxSize=100) is not None
    with pytest.raises(XMLCodecError, match="exceeds 100"):
        parseXML(doc + b" ", maxSize=100)
    with pytest.raises(XMLCodecError, match="exceeds"):
        parseXML(b"<a>" + b"x" * 0x10000 + b"</a>")


@pytest.mark.parametrize("data", [b"", b"   ", b"<a>", b"<a/><b/>", b"<a>\x01</a>", b"text"])
def test_notWellFormed(data):
    """
    Documents that are not well-formed XML are refused.
    """
    with pytest.raises(XMLCodecError):
        parseXML(data)


def test_notBytes():
    """
    Only bytes are parsed: text has already lost its encoding.
    """
    with pytest.raises(TypeError):
        parseXML("<a/>")


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_arbitraryBytes(data):
    """
    Arbitrary bytes give an element or an L{XMLCodecError}, nothing else.
    """
    try:
        parseXML(data, maxSize=200, maxDepth=4)
    except XMLCodecError:
        pass


@settings(max_examples=200)
@given(
    st.recursive(
        st.text(alphabet="abc<>/&;! \"'=?x", max_size=8),
        lambda inner: st.tuples(st.sampled_from("abc"), st.lists(inner, max_size=3)).map(
            lambda t: f"<{t[0]}>{''.join(t[1])}</{t[0]}>"
        ),
        max_leaves=20,
    )
)
def test_arbitraryXMLish(text):
    """
    Arbitrary tag soup gives an element or an L{XMLCodecError}, nothing else.
    """
    try:
        parseXML(text.encode("utf-8"), maxDepth=3)
    except XMLCodecError:
        pass
