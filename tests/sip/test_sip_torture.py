"""
RFC 4475 (SIP torture test messages): each message written here from the
RFC's description of it, and what the codec makes of it. Valid messages
parse, with the values the RFC calls out; invalid ones raise
L{SIPParseError} with the status the RFC expects. Tests of the
transaction and application layers (RFC 4475 3.2, 3.3, 3.4, 3.5) check
that the codec reads what those layers need to decide.
"""

import pytest

from oso.sip import AbsoluteURI, SIPParseError, StreamFramer, parseMessage, parseURI

SDP = (
    b"v=0\r\n"
    b"o=mhandley 29739 7272939 IN IP4 192.0.2.3\r\n"
    b"s=-\r\n"
    b"c=IN IP4 192.0.2.4\r\n"
    b"t=0 0\r\n"
    b"m=audio 49217 RTP/AVP 0 12\r\n"
    b"m=video 3227 RTP/AVP 31\r\n"
    b"a=rtpmap:31 LPC\r\n"
)


def build(head, body=b"", length=None):
    """
    A message from C{head} (text with LF line ends; C{#LENGTH#} stands for
    the body's length unless C{length} is given) and C{body}.
    """
    text = head.strip("\n").replace("#LENGTH#", str(len(body) if length is None else length))
    return text.replace("\n", "\r\n").encode("utf-8") + b"\r\n\r\n" + body


def refused(data, status=400, datagram=True):
    """
    Parse C{data}, expecting a L{SIPParseError} with C{status}.
    """
    with pytest.raises(SIPParseError) as info:
        parseMessage(data, datagram=datagram)
    assert info.value.statusCode == status
    return info.value


# RFC 4475 3.1.1: valid messages.

WSINV = build(
    r"""
INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0
TO :
 sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n
from   : "J Rosenberg \\\""       <sip:jdrosen@example.com>
  ;
  tag = 98asjd8
MaX-fOrWaRdS: 0068
Call-ID: wsinv.ndaksdj@192.0.2.1
Content-Length   : #LENGTH#
cseq: 0009
  INVITE
Via  : SIP  /   2.0
 /UDP
    192.0.2.2;branch=390skdjuw
s :
NewFangledHeader:   newfangled value
 continued newfangled value
UnknownHeaderWithUnusualValue: ;;,,;;,;
Content-Type: application/sdp
Route:
 <sip:services.example.com;lr;unknownwith=value;unknown-no-value>
v:  SIP  / 2.0  / TCP     spindle.example.com   ;
  branch  =   z9hG4bK9ikj8  ,
 SIP  /    2.0   / UDP  192.168.255.111   ; branch=
 z9hG4bK30239
m:"Quoted string \"\"" <sip:jdrosen@example.com> ; newparam =
      newvalue ;
  secondparam ; q = 0.33
""",
    SDP,
)


def test_wsinv():
    """
    RFC 4475 3.1.1.1 (wsinv): whitespace around colons and slashes, line
    folding everywhere LWS may be, mixed-case and compact names, escaped
    quotes in display names, an empty Subject and odd unknown fields all
    parse to the values they stand for.
    """
    m = parseMessage(WSINV)
    assert m.method == "INVITE"
    assert (m.uri.user, m.uri.host, m.uri.params) == (
        "vivekg",
        "chair-dnrc.example.com",
        {"unknownparam": None},
    )
    assert m.toAddress.uri == parseURI("sip:vivekg@chair-dnrc.example.com")
    assert m.toAddress.tag == "1918181833n"
    assert m.fromAddress.displayName == 'J Rosenberg \\"'
    assert m.fromAddress.tag == "98asjd8"
    assert m.maxForwards == 68
    assert m.callID == "wsinv.ndaksdj@192.0.2.1"
    assert (m.cseq.number, m.cseq.method) == (9, "INVITE")
    assert [(v.transport, v.host, v.branch) for v in m.vias] == [
        ("UDP", "192.0.2.2", "390skdjuw"),
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239"),
    ]
    assert m.headers.get("subject") == ""
    assert m.headers.get("newfangledheader") == "newfangled value continued newfangled value"
    assert m.headers.get("UnknownHeaderWithUnusualValue") == ";;,,;;,;"
    [route] = m.routes
    assert route.uri.params == {"lr": None, "unknownwith": "value", "unknown-no-value": None}
    [contact] = m.contacts
    assert contact.displayName == 'Quoted string ""'
    assert contact.params == {"newparam": "newvalue", "secondparam": None, "q": "0.33"}
    assert m.body == SDP


INTMETH_METHOD = "!interesting-Method0123456789_*+`.%~"
INTMETH_USER = "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
INTMETH = build(
    f"{INTMETH_METHOD} sip:{INTMETH_USER}:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    "@example.com SIP/2.0\n"
    "Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~\n"
    'To: "BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f" '
    f"<sip:{INTMETH_USER}@example.com>\n"
    "From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>"
    ";fromParam''~+*_!.-%=\"\u0440\u0430\u0431\u043e\u0442\u0430\u044e\u0449\u0438\u0439\""
    ";tag=_token~1'+`*%!-.\n"
    "Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{\n"
    f"CSeq: 139122385 {INTMETH_METHOD}\n"
    "Max-Forwards: 255\n"
    "extensionHeader-!.%*+_`'~: \ufeff\u5927\u505c\u96fb\n"
    "Content-Length: 0\n"
)


def test_intmeth():
    """
    RFC 4475 3.1.1.2 (intmeth): every character a token, a user part, a
    password, a quoted-pair (BEL, NUL, DEL), a Call-ID word or a
    quoted-string may hold is accepted where the grammar allows it, and
    written back so that it reads the same.
    """
    m = parseMessage(INTMETH)
    assert m.method == INTMETH_METHOD
    assert m.uri.user == INTMETH_USER
    assert m.uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    assert m.via.branch == "z9hG4bK-.!%66*_+`'~"
    assert m.toAddress.displayName == "BEL:\x07 NUL:\x00 DEL:\x7f"
    assert m.toAddress.uri.user == INTMETH_USER
    assert m.fromAddress.displayName == "token1~` token2'+_ token3*%!.-"
    assert m.fromAddress.params["fromparam''~+*_!.-%"] == '"работающий"'
    assert m.fromAddress.tag == "_token~1'+`*%!-."
    assert m.callID == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
    assert m.cseq.method == INTMETH_METHOD
    assert m.maxForwards == 255
    assert m.headers.get("extensionHeader-!.%*+_`'~") == "\ufeff大停電"
    assert parseMessage(m.serialise()) == m


ESC01 = build(
    """
INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0
To: sip:%75se%72@example.com
From: <sip:I%20have%20spaces@example.net>;tag=938
Max-Forwards: 87
i: esc01.239409asdfakjkn23onasd0-3234
CSeq: 234234 INVITE
Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bKkdjuw
C: application/sdp
Contact:
  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>
Content-Length: #LENGTH#
""",
    SDP,
)


def test_esc01():
    """
    RFC 4475 3.1.1.3 (esc01): %-escapes in the user part and in parameter
    names and values stand for their characters, once: the Request-URI's
    user is C{sips:user@example.com}, To equals C{sip:user@example.com},
    the Contact carries C{lr} and C{name=value%41}.
    """
    m = parseMessage(ESC01)
    assert (m.uri.user, m.uri.host) == ("sips:user@example.com", "example.net")
    assert m.toAddress.uri == parseURI("sip:user@example.com")
    assert m.fromAddress.uri.user == "I have spaces"
    [contact] = m.contacts
    assert contact.uri.user == "caller"
    assert contact.uri.params == {"lr": None, "name": "value%41"}
    assert m.headers.get("content-type") == "application/sdp"


ESCNULL = build(
    """
REGISTER sip:example.com SIP/2.0
To: sip:null-%00-null@example.com
From: sip:null-%00-null@example.com;tag=839923423
Max-Forwards: 70
Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd
CSeq: 14398234 REGISTER
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw
Contact: <sip:%00@host5.example.com>
Contact: <sip:%00%00@host5.example.com>
L:0
"""
)


def test_escnull():
    """
    RFC 4475 3.1.1.4 (escnull): an escaped NUL in a user part is a valid
    character of it, and is escaped again when written.
    """
    m = parseMessage(ESCNULL)
    assert m.toAddress.uri.user == "null-\x00-null"
    assert [c.uri.user for c in m.contacts] == ["\x00", "\x00\x00"]
    assert b"<sip:%00%00@host5.example.com>" in m.serialise()


ESC02 = build(
    """
RE%47IST%45R sip:registrar.example.com SIP/2.0
To: "%Z%45" <sip:resource@example.com>
From: "%Z%45" <sip:resource@example.com>;tag=f232jadfj23
Call-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf
Via: SIP/2.0/TCP host.example.com;rport;branch=z9hG4bK209824
CSeq: 29344 RE%47IST%45R
Max-Forwards: 70
Contact: <sip:alias1@host1.example.com>
C%6Fntact: <sip:alias2@host2.example.com>
Contact: <sip:alias3@host3.example.com>
l: 0
"""
)


def test_esc02():
    """
    RFC 4475 3.1.1.5 (esc02): % is a token character, not an escape, in a
    method and a header name, and plain text in a quoted display name: the
    method is C{RE%47IST%45R} (not REGISTER) and C{C%6Fntact} is an
    unknown field, not a Contact.
    """
    m = parseMessage(ESC02)
    assert m.method == "RE%47IST%45R"
    assert m.toAddress.displayName == "%Z%45"
    assert [c.uri.user for c in m.contacts] == ["alias1", "alias3"]
    assert m.headers.get("C%6Fntact") == "<sip:alias2@host2.example.com>"
    assert "rport" in m.via.params and m.via.rport is None


LWSDISP = build(
    """
OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: caller<sip:caller@example.com>;tag=323
Max-Forwards: 70
Call-ID: lwsdisp.1234abcd@funky.example.com
CSeq: 60 OPTIONS
Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw
l: 0
"""
)


def test_lwsdisp():
    """
    RFC 4475 3.1.1.6 (lwsdisp): no space is needed between a token display
    name and the C{<}.
    """
    m = parseMessage(LWSDISP)
    assert m.fromAddress.displayName == "caller"
    assert m.fromAddress.uri.user == "caller"


def test_longreq():
    """
    RFC 4475 3.1.1.7 (longreq): very long values (display name, URI
    parameter, tag, Call-ID, a hundred Vias in mixed spellings, long
    Record-Route lists and extension fields) are read in full.
    """
    long = "very" + "long" * 300
    vias = "\n".join(
        f"{('Via', 'v', 'V', 'via')[i % 4]}: SIP/2.0/TCP sip{i}.example.com;branch=z9hG4bK{i}"
        for i in range(100)
    )
    data = build(
        f"""
INVITE sip:user@example.com SIP/2.0
To: "I have a user name of {long} proportion" <sip:user@example.com:6000;unknownparam1={long}>
From: sip:caller@example.net;tag={long}
Call-ID: longreq.{long}
Record-Route: {", ".join(f"<sip:{long}{i}@example.com;lr>" for i in range(30))}
CSeq: 1 INVITE
{vias}
Max-Forwards: 70
Contact: <sip:amazinglylongcallername{long}@host5.example.net>
X-Custom: {long * 4}
Content-Type: application/sdp
l: #LENGTH#
""",
        SDP,
    )
    m = parseMessage(data)
    assert m.toAddress.uri.params["unknownparam1"] == long
    assert m.toAddress.uri.port == 6000
    assert m.fromAddress.tag == long
    assert len(m.vias) == 100 and m.vias[99].host == "sip99.example.com"
    assert len(m.recordRoutes) == 30
    assert m.headers.get("x-custom") == long * 4
    assert parseMessage(m.serialise()) == m


DBLREQ = build(
    """
REGISTER sip:example.com SIP/2.0
To: sip:j.user@example.com
From: sip:j.user@example.com;tag=43251j3j324
Max-Forwards: 8
I: dblreq.0ha0isndaksdj99sdfafnl3lk233412
Contact: sip:j.user@host.example.com
CSeq: 8 REGISTER
Via: SIP/2.0/UDP 192.0.2.125;branch=z9hG4bKkdjuw23492
Content-Length: 0
"""
) + build(
    """
INVITE sip:joe@example.com SIP/2.0
t: sip:joe@example.com
From: sip:caller@example.net;tag=141334
Max-Forwards: 8
Call-ID: dblreq.0ha0isnda977644900765@192.0.2.15
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw380234
Content-Type: application/sdp
Content-Length: #LENGTH#
""",
    SDP,
)


def test_dblreq():
    """
    RFC 4475 3.1.1.8 (dblreq): in a datagram, octets past the
    Content-Length are dropped (RFC 3261 18.3): the datagram is the
    REGISTER alone.
    """
    m = parseMessage(DBLREQ)
    assert m.method == "REGISTER"
    assert m.body == b""


SEMIURI = build(
    """
OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0
To: sip:j_user@example.com
From: sip:caller@example.org;tag=33242
Max-Forwards: 3
Call-ID: semiuri.0ha0isndaksdj
CSeq: 8 OPTIONS
Accept: application/sdp, application/pkcs7-mime,
        multipart/mixed, multipart/signed,
        message/sip, message/sipfrag
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw
l: 0
"""
)


def test_semiuri():
    """
    RFC 4475 3.1.1.9 (semiuri): a semicolon before the C{@} is part of the
    user (C{user;par=u@example.net}), not a URI parameter; a folded Accept
    list splits into its six media types.
    """
    m = parseMessage(SEMIURI)
    assert (m.uri.user, m.uri.host, m.uri.params) == (
        "user;par=u@example.net",
        "example.com",
        {},
    )
    assert len(m.headers.getAll("accept")) == 6


TRANSPORTS = build(
    """
OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: <sip:caller@example.com>;tag=323
Max-Forwards: 70
Call-ID:  transports.kijh4akdnaqjkwendsasfdj
Accept: application/sdp
CSeq: 60 OPTIONS
Via: SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw
Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf
Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj
Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en
Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee
l: 0
"""
)


def test_transports():
    """
    RFC 4475 3.1.1.10 (transports): Vias with known and unknown
    transports all parse.
    """
    m = parseMessage(TRANSPORTS)
    assert [v.transport for v in m.vias] == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]


MPART_BODY = (
    b"--boundary42\r\n"
    b"Content-Type: message/sip\r\n\r\n"
    b"INVITE sip:bob@example.com SIP/2.0\r\n\r\n"
    b"--boundary42\r\n"
    b"Content-Type: application/pkcs7-signature; name=smime.p7s\r\n"
    b"Content-Transfer-Encoding: binary\r\n\r\n"
    + bytes(range(256))
    + b"\r\n\r\n\x00\r\n--boundary42--\r\n"
)
MPART01 = build(
    """
MESSAGE sip:kumiko@example.org SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-;rport
Max-Forwards: 70
Route: <sip:127.0.0.1:5080>
Identity: r5mwreLuyDRYBi/0TiPwEsY3rEVsk/G2WxhgTV1PF7hHuLIK0YWVKZhKv9Mj
Contact: <sip:fluffy@127.0.0.1:5070>
To: <sip:kumiko@example.org>
From: <sip:fluffy@example.com>;tag=2fb0dcc9
Call-ID: 3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..
CSeq: 1 MESSAGE
Content-Transfer-Encoding: binary
Content-Type: multipart/mixed;boundary=boundary42
Content-Length: #LENGTH#
""",
    MPART_BODY,
)


def test_mpart01():
    """
    RFC 4475 3.1.1.11 (mpart01): a multipart body with binary octets
    (NULs, CRLFs, a blank line) is carried octet for octet; the codec
    never looks inside a body.
    """
    m = parseMessage(MPART01)
    assert m.body == MPART_BODY
    assert m.headers.get("y").startswith("r5mwreLuyDRYBi")
    assert parseMessage(m.serialise()).body == MPART_BODY


UNREASON_PHRASE = "= 2**3 * 5**2 но сто девяносто девять - простое"
UNREASON = build(
    f"""
SIP/2.0 200 {UNREASON_PHRASE}
Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923
Call-ID: unreason.1234ksdfak3j2erwedfsASdf
CSeq: 35 INVITE
From: sip:user@example.com;tag=11141343
To: sip:user@example.edu;tag=2229
Content-Length: #LENGTH#
Content-Type: application/sdp
Contact: <sip:user@host198.example.com>
""",
    SDP,
)


def test_unreason():
    """
    RFC 4475 3.1.1.12 (unreason): a reason phrase in UTF-8 with digits and
    symbols is read as text.
    """
    m = parseMessage(UNREASON)
    assert (m.status, m.reason) == (200, UNREASON_PHRASE)
    assert m.body == SDP


NOREASON = build(
    """
SIP/2.0 100 
Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
Call-ID: noreason.asndj203insdf99223ndf
CSeq: 35 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0
Contact: <sip:user@host105.example.com>
"""
)


def test_noreason():
    """
    RFC 4475 3.1.1.13 (noreason): an empty reason phrase is valid.
    """
    m = parseMessage(NOREASON)
    assert (m.status, m.reason) == (100, "")


# RFC 4475 3.1.2: invalid messages.

BADINV01 = build(
    """
INVITE sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;;tag=134161461246
Max-Forwards: 7
Call-ID: badinv01.0ha0isndaksdjasdf3234nas
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;;,;,,
Contact: "Joe" <sip:joe@example.org>;;;;
Content-Length: #LENGTH#
Content-Type: application/sdp
""",
    SDP,
)


def test_badinv01():
    """
    RFC 4475 3.1.2.1 (badinv01): empty header parameters (C{;;}) and empty
    Via elements (C{,,}) are malformed: 400, with the readable part of the
    request kept to build the answer from.
    """
    error = refused(BADINV01)
    assert error.partial.method == "INVITE"
    assert error.partial.headers.get("call-id") == "badinv01.0ha0isndaksdjasdf3234nas"
    assert error.partial.headers.get("via") == "SIP/2.0/UDP 192.0.2.15;;,;,,"


def test_badinv01Via():
    """
    RFC 4475 3.1.2.1 (badinv01): the Via C{192.0.2.15;;,;,,} alone is
    enough for a 400.
    """
    data = BADINV01.replace(b";;tag", b";tag").replace(b";;;;", b"")
    assert refused(data).reason == "Bad Via"


def test_badinv01Contact():
    """
    RFC 4475 3.1.2.1 (badinv01): the Contact C{;;;;} alone is enough for
    a 400.
    """
    data = BADINV01.replace(b";;tag", b";tag").replace(b"192.0.2.15;;,;,,", b"192.0.2.15")
    assert refused(data).reason == "Bad Contact"


CLERR = build(
    """
INVITE sip:user@example.com SIP/2.0
Max-Forwards: 80
To: sip:j.user@example.com
From: sip:caller@example.net;tag=93942939o2
Contact: <sip:caller@hungry.example.net>
Call-ID: clerr.0ha0isndaksdjweiafasdk3
CSeq: 8 INVITE
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bK-39234-23523
Content-Type: application/sdp
Content-Length: 9999
""",
    SDP,
)


def test_clerr():
    """
    RFC 4475 3.1.2.2 (clerr): over UDP, a Content-Length larger than the
    body is a 400 (RFC 3261 18.3); the error keeps the request's fields.
    """
    error = refused(CLERR)
    assert error.reason == "Content-Length mismatch"
    assert error.partial.headers.get("cseq") == "8 INVITE"


NCL = build(
    """
INVITE sip:user@example.com SIP/2.0
Max-Forwards: 254
To: sip:j.user@example.com
From: sip:caller@example.net;tag=32394234
Call-ID: ncl.0ha0isndaksdj2193423r542w35
CSeq: 0 INVITE
Via: SIP/2.0/UDP 192.0.2.53;branch=z9hG4bKkdjuw
Contact: <sip:caller@example53.example.net>
Content-Type: application/sdp
Content-Length: -999
""",
    SDP,
)


def test_ncl():
    """
    RFC 4475 3.1.2.3 (ncl): a negative Content-Length is a 400, and a
    stream cannot be cut by it at all.
    """
    assert refused(NCL).reason == "Bad Content-Length"
    with pytest.raises(SIPParseError):
        StreamFramer().feed(NCL)


SCALAR02 = build(
    """
REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3
To: <sip:user@example.com>
From: <sip:user@example.com>;tag=239232jh3
CSeq: 36893488147419103232 REGISTER
Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32
Max-Forwards: 300
Expires: 1000000000000000000000000000000000000000000000000000000000000000000000
Contact: <sip:user@host129.example.com>;expires=280297596632815
Content-Length: 0
"""
)


def test_scalar02():
    """
    RFC 4475 3.1.2.4 (scalar02): a CSeq number over 2**32-1 is a 400.
    """
    assert refused(SCALAR02).reason == "Bad CSeq"


def test_scalar02MaxForwards():
    """
    RFC 4475 3.1.2.4 (scalar02): a Max-Forwards over 255 is refused as
    well (RFC 3261 20.22 allows 0 to 255). The RFC lets an element treat
    it as absent instead; this codec chooses the 400.
    """
    data = SCALAR02.replace(b"36893488147419103232", b"1")
    assert refused(data).reason == "Bad Max-Forwards"


SCALARLG = build(
    """
SIP/2.0 503 Service Unavailable
Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bKzzxdiwo34sw;received=192.0.2.129
To: <sip:user@example.com>
From: <sip:other@example.net>;tag=2easdjfejw
CSeq: 9292394834772304023312 OPTIONS
Call-ID: scalarlg.noase0of0234hn2qofoaf0232aewf2394r
Retry-After: 949302838503028349304023988
Warning: 1812 overture "In Progress"
Content-Length: 0
"""
)


def test_scalarlg():
    """
    RFC 4475 3.1.2.5 (scalarlg): a response with a CSeq over 2**32-1 is
    malformed (and a response is only dropped, so nothing is kept).
    """
    error = refused(SCALARLG)
    assert error.partial is None


QUOTBAL = build(
    """
INVITE sip:user@example.com SIP/2.0
To: "Mr. J. User <sip:j.user@example.com>
From: sip:caller@example.net;tag=93334
Max-Forwards: 10
Call-ID: quotbal.aksdj
Contact: <sip:caller@host59.example.net>
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.59:5050;branch=z9hG4bKkdjuw39234
Content-Type: application/sdp
Content-Length: #LENGTH#
""",
    SDP,
)


def test_quotbal():
    """
    RFC 4475 3.1.2.6 (quotbal): an unterminated quoted display name is a
    400.
    """
    assert refused(QUOTBAL).reason == "Bad To"


def request(line, extra="", body=b"", method="INVITE", length=None):
    """
    A request with Request-Line C{line} and otherwise correct fields.
    """
    return build(
        f"""
{line}
To: sip:user@example.com
From: sip:caller@example.net;tag=39291
Max-Forwards: 23
Call-ID: torture.1@192.0.2.5
CSeq: 1 {method}
Via: SIP/2.0/UDP 192.0.2.5;branch=z9hG4bKkdjuw
{extra}
Content-Length: #LENGTH#
""".replace("\n\n", "\n"),
        body,
        length,
    )


def test_ltgtruri():
    """
    RFC 4475 3.1.2.7 (ltgtruri): a Request-URI in angle brackets is a 400.
    """
    error = refused(request("INVITE <sip:user@example.com> SIP/2.0", body=SDP))
    assert error.reason == "Bad Request-URI"
    assert error.partial.method == "INVITE" and error.partial.uri is None


def test_lwsruri():
    """
    RFC 4475 3.1.2.8 (lwsruri): LWS inside the Request-URI is a 400.
    """
    error = refused(request("INVITE sip:user@example.com; lr SIP/2.0", body=SDP))
    assert error.reason == "Bad Request-Line"


def test_lwsstart():
    """
    RFC 4475 3.1.2.9 (lwsstart): more than one SP between the elements of
    the Request-Line. The RFC allows rejecting it or tolerating it; this
    codec keeps to the grammar and answers 400.
    """
    refused(request("INVITE  sip:user@example.com  SIP/2.0", body=SDP))


def test_trws():
    """
    RFC 4475 3.1.2.10 (trws): whitespace after the SIP-Version. The RFC
    allows rejecting it or tolerating it; this codec keeps to the grammar
    and answers 400.
    """
    refused(request("OPTIONS sip:remote-target@example.com SIP/2.0  ", method="OPTIONS"))


def test_escruri():
    """
    RFC 4475 3.1.2.11 (escruri): a Request-URI with a header component
    (RFC 3261 19.1.1: not allowed there) is a 400.
    """
    error = refused(request("INVITE sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0"))
    assert error.reason == "Bad Request-URI"


def test_baddate():
    """
    RFC 4475 3.1.2.12 (baddate): a Date not in GMT (RFC 3261 20.17) is a
    400 in a request.
    """
    data = request(
        "INVITE sip:user@example.com SIP/2.0", "Date: Fri, 01 Jan 2010 16:00:00 EST", SDP
    )
    assert refused(data).reason == "Bad Date"


def test_regbadct():
    """
    RFC 4475 3.1.2.13 (regbadct): a Contact URI with a C{?} outside angle
    brackets (RFC 3261 20: it must be enclosed) is a 400.
    """
    data = request(
        "REGISTER sip:example.com SIP/2.0",
        "Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E",
        method="REGISTER",
    )
    assert refused(data).reason == "Bad Contact"


def test_badaspec():
    """
    RFC 4475 3.1.2.14 (badaspec): whitespace inside the angle brackets
    around an addr-spec is a 400.
    """
    data = build(
        """
OPTIONS sip:user@example.org SIP/2.0
Via: SIP/2.0/UDP host4.example.com:5060;branch=z9hG4bKkdju43234
Max-Forwards: 70
From: "Bell, Alexander" <sip:a.g.bell@example.com>;tag=433423
To: "Watson, Thomas" < sip:t.watson@example.org >
Call-ID: badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3
Accept: application/sdp
CSeq: 3923239 OPTIONS
l: 0
"""
    )
    assert refused(data).reason == "Bad To"


def test_baddn():
    """
    RFC 4475 3.1.2.15 (baddn): an unquoted display name with a comma (not
    a token) is a 400.
    """
    data = build(
        """
OPTIONS sip:t.watson@example.org SIP/2.0
Via:     SIP/2.0/UDP c.example.com:5060;branch=z9hG4bKkdjuw
Max-Forwards:      70
From:    Bell, Alexander <sip:a.g.bell@example.com>;tag=43
To:      Watson, Thomas <sip:t.watson@example.org>
Call-ID: baddn.31415@c.example.com
Accept: application/sdp
CSeq:    3923239 OPTIONS
l: 0
"""
    )
    assert refused(data).reason == "Bad From"


BADVERS = build(
    """
OPTIONS sip:t.watson@example.org SIP/7.0
Via:     SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw
Max-Forwards:     70
From:    A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe
To:      T. Watson <sip:t.watson@example.org>
Call-ID: badvers.31417@c.example.com
CSeq:    1 OPTIONS
l: 0
"""
)


def test_badvers():
    """
    RFC 4475 3.1.2.16 (badvers): SIP/7.0 is answered 505, with the
    request's fields kept for the answer.
    """
    error = refused(BADVERS, 505)
    assert error.reason == "Version Not Supported"
    assert error.partial.headers.get("call-id") == "badvers.31417@c.example.com"
    assert error.partial.headers.get("via") == "SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw"


def test_mismatch01():
    """
    RFC 4475 3.1.2.17 (mismatch01): a CSeq method that differs from the
    request's is a 400.
    """
    data = request("OPTIONS sip:user@example.com SIP/2.0", method="INVITE")
    assert refused(data).reason == "CSeq method mismatch"


def test_mismatch02():
    """
    RFC 4475 3.1.2.18 (mismatch02): an unknown method with a CSeq of
    another method. The RFC prefers 501 and accepts 400; the codec cannot
    know which methods its user implements, so it answers 400.
    """
    data = request("NEWMETHOD sip:user@example.com SIP/2.0", body=SDP)
    assert refused(data).reason == "CSeq method mismatch"


def test_bigcode():
    """
    RFC 4475 3.1.2.19 (bigcode): a status code of more than three digits
    makes a malformed response.
    """
    data = build(
        """
SIP/2.0 4294967301 better not break the receiver
Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i
CSeq: 353494 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0
Contact: <sip:user@host105.example.com>
"""
    )
    refused(data)


# RFC 4475 3.2: transaction layer semantics.


def test_badbranch():
    """
    RFC 4475 3.2.1 (badbranch): a branch of just the magic cookie
    C{z9hG4bK} parses; whether to refuse it or fall back to RFC 2543
    matching is the transaction layer's choice, and it gets the branch.
    """
    m = parseMessage(
        request("OPTIONS sip:user@example.com SIP/2.0", method="OPTIONS").replace(
            b"branch=z9hG4bKkdjuw", b"branch=z9hG4bK"
        )
    )
    assert m.via.branch == "z9hG4bK"


# RFC 4475 3.3: application layer semantics.


def test_insuf():
    """
    RFC 4475 3.3.1 (insuf): a request without Call-ID, From and To is a
    400 naming a missing field.
    """
    data = build(
        """
INVITE sip:user@example.com SIP/2.0
CSeq: 193942 INVITE
Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf
Content-Type: application/sdp
l: #LENGTH#
""",
        SDP,
    )
    error = refused(data)
    assert error.reason.startswith("Missing ")
    assert error.partial.headers.get("cseq") == "193942 INVITE"


def test_unkscm():
    """
    RFC 4475 3.3.2 (unkscm): a Request-URI of an unknown scheme parses as
    an opaque URI, so that the application layer can answer 416.
    """
    m = parseMessage(
        request("OPTIONS nobodyKnowsThisScheme:totallyopaquecontent SIP/2.0", method="OPTIONS")
    )
    assert isinstance(m.uri, AbsoluteURI)
    assert (m.uri.scheme, m.uri.rest) == ("nobodyknowsthisscheme", "totallyopaquecontent")


def test_novelsc():
    """
    RFC 4475 3.3.3 (novelsc): a Request-URI of a novel scheme with a
    hierarchical part parses as an opaque URI (416 is the application's).
    """
    m = parseMessage(request("OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0", method="OPTIONS"))
    assert (m.uri.scheme, m.uri.rest) == ("soap.beep", "//192.0.2.103:3002")


def test_unksm2():
    """
    RFC 4475 3.3.4 (unksm2): unknown schemes in To, From and Contact
    parse; refusing them is the application's business.
    """
    data = build(
        """
REGISTER sip:example.com SIP/2.0
To: isbn:2983792873
From: <http://www.example.com>;tag=3234233
Call-ID: unksm2.daksdj@hyphenated-host.example.com
CSeq: 234902 REGISTER
Max-Forwards: 70
Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw
Contact: <name:John_Smith>
l: 0
"""
    )
    m = parseMessage(data)
    assert str(m.toAddress.uri) == "isbn:2983792873"
    assert str(m.fromAddress.uri) == "http://www.example.com"
    assert str(m.contacts[0].uri) == "name:John_Smith"


def test_bext01():
    """
    RFC 4475 3.3.5 (bext01): Require and Proxy-Require lists split into
    their option tags (for the 420 the application gives).
    """
    m = parseMessage(
        request(
            "OPTIONS sip:user@example.com SIP/2.0",
            "Require: nothingSupportsThis, nothingSupportsThisEither\n"
            "Proxy-Require: noProxiesSupportThis, norDoAnyProxiesSupportThis",
            method="OPTIONS",
        )
    )
    assert m.headers.getAll("require") == ["nothingSupportsThis", "nothingSupportsThisEither"]
    assert m.headers.getAll("proxy-require") == [
        "noProxiesSupportThis",
        "norDoAnyProxiesSupportThis",
    ]


def test_invut():
    """
    RFC 4475 3.3.6 (invut): an unknown body type parses (415 is the
    application's) and its body is kept.
    """
    body = b"<audio> <pcmu port=\"443\"/> </audio>\r\n"
    m = parseMessage(
        request(
            "INVITE sip:user@example.com SIP/2.0",
            "Content-Type: application/unknownformat",
            body,
        )
    )
    assert m.headers.get("content-type") == "application/unknownformat"
    assert m.body == body


def test_regaut01():
    """
    RFC 4475 3.3.7 (regaut01): an Authorization for an unknown nonce
    parses into its digest parameters (the 401 is the registrar's).
    """
    m = parseMessage(
        request(
            "REGISTER sip:example.com SIP/2.0",
            'Authorization: Digest username="user", realm="example.com", '
            'nonce="ea9c8e88df84f1cec4341ae6cbe5a359", opaque="", '
            'uri="sip:example.com", response="dfe56131d1958046689d83306477ecc"',
            method="REGISTER",
        )
    )
    credentials = m.headers.getParsed("authorization")
    assert credentials.scheme == "Digest"
    assert credentials.params == {
        "username": "user",
        "realm": "example.com",
        "nonce": "ea9c8e88df84f1cec4341ae6cbe5a359",
        "opaque": "",
        "uri": "sip:example.com",
        "response": "dfe56131d1958046689d83306477ecc",
    }


def test_multi01():
    """
    RFC 4475 3.3.8 (multi01): more than one To, From, Call-ID or CSeq is a
    400.
    """
    data = build(
        """
INVITE sip:user@company.com SIP/2.0
Contact: <sip:caller@host25.example.net>
Via: SIP/2.0/UDP 192.0.2.25;branch=z9hG4bKkdjuw
Max-Forwards: 70
CSeq: 5 INVITE
Call-ID: multi01.98asdh@192.0.2.1
CSeq: 59 INVITE
Call-ID: multi01.98asdh@192.0.2.2
From: sip:caller@example.com;tag=3413415
To: sip:user@example.com
To: sip:other@example.net
From: sip:caller@example.net;tag=2923420123
Content-Type: application/sdp
l: #LENGTH#
""",
        SDP,
    )
    assert refused(data).reason.startswith("Bad ")


MCL01 = build(
    """
OPTIONS sip:user@example.com SIP/2.0
Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bK293423
To: sip:user@example.com
From: sip:other@example.net;tag=3923942
Call-ID: mcl01.fhn2323orihawfdoa3o4r52o3irsdf
CSeq: 15932 OPTIONS
Content-Length: 13
Max-Forwards: 60
Content-Length: 5
Content-Type: text/plain
""",
    b"There's no way to know how many octets are supposed to be here.\r\n",
)


def test_mcl01():
    """
    RFC 4475 3.3.9 (mcl01): two Content-Lengths are a 400, and a stream
    cannot be cut by them.
    """
    assert refused(MCL01).reason == "Bad Content-Length"
    with pytest.raises(SIPParseError):
        StreamFramer().feed(MCL01)


def test_bcast():
    """
    RFC 4475 3.3.10 (bcast): a response whose second Via names a
    broadcast address parses; not sending there is the transport's part.
    """
    data = build(
        """
SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923
Via: SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK1saber23
Call-ID: bcast.0384840201234ksdfak3j2erwedfsASdf
CSeq: 35 INVITE
From: sip:user@example.com;tag=11141343
To: sip:user@example.edu;tag=2229
Content-Length: #LENGTH#
Content-Type: application/sdp
Contact: <sip:user@host28.example.com>
""",
        SDP,
    )
    assert [v.host for v in parseMessage(data).vias] == ["192.0.2.198", "255.255.255.255"]


def test_zeromf():
    """
    RFC 4475 3.3.11 (zeromf): Max-Forwards 0 parses as 0 (the 483, or an
    answer to OPTIONS, is the proxy's or UA's).
    """
    m = parseMessage(
        request("OPTIONS sip:user@example.com SIP/2.0", method="OPTIONS").replace(
            b"Max-Forwards: 23", b"Max-Forwards: 0"
        )
    )
    assert m.maxForwards == 0


def test_cparam01():
    """
    RFC 4475 3.3.12 (cparam01): in a Contact without angle brackets, a
    parameter after the URI belongs to the Contact, not the URI.
    """
    m = parseMessage(
        request(
            "REGISTER sip:example.com SIP/2.0",
            "Contact: sip:+19725552222@gw1.example.net;unknownparam",
            method="REGISTER",
        )
    )
    [contact] = m.contacts
    assert contact.uri.params == {}
    assert contact.params == {"unknownparam": None}


def test_cparam02():
    """
    RFC 4475 3.3.13 (cparam02): inside angle brackets the same parameter
    belongs to the URI.
    """
    m = parseMessage(
        request(
            "REGISTER sip:example.com SIP/2.0",
            "Contact: <sip:+19725552222@gw1.example.net;unknownparam>",
            method="REGISTER",
        )
    )
    [contact] = m.contacts
    assert contact.uri.params == {"unknownparam": None}
    assert contact.params == {}


def test_regescrt():
    """
    RFC 4475 3.3.14 (regescrt): an escaped header in a bracketed Contact
    URI is valid and unescapes to C{<sip:sip.example.com>}.
    """
    m = parseMessage(
        request(
            "REGISTER sip:example.com SIP/2.0",
            "Contact: <sip:user@example.com?Route=%3Csip:sip.example.com%3E>",
            method="REGISTER",
        )
    )
    assert m.contacts[0].uri.headers == {"Route": "<sip:sip.example.com>"}


def test_sdp01():
    """
    RFC 4475 3.4.1 (sdp01): an INVITE whose Accept names only an unknown
    type parses (the 406/488 is the application's).
    """
    m = parseMessage(
        request(
            "INVITE sip:user@example.com SIP/2.0",
            "Accept: text/nobodyKnowsThis\nContent-Type: application/sdp",
            SDP,
        )
    )
    assert m.headers.getAll("accept") == ["text/nobodyKnowsThis"]


def test_inv2543():
    """
    RFC 4475 3.5 (inv2543): an RFC 2543 INVITE, without Max-Forwards, with
    no branch and no From tag, parses; RFC 3261 tolerates the missing
    Max-Forwards (a proxy adds one, 16.6 step 3).
    """
    data = build(
        """
INVITE sip:UserB@example.com SIP/2.0
Via: SIP/2.0/UDP iftgw.example.com
From: <sip:+13035551111@ift.client.example.net;user=phone>
Record-Route: <sip:UserB@example.com;maddr=ss1.example.com>
To: sip:+16505552222@ss1.example.net;user=phone
Call-ID: inv2543.1717@ift.client.example.com
CSeq: 56 INVITE
Content-Type: application/sdp
Content-Length: #LENGTH#
""",
        SDP.replace(b"IN IP4 192.0.2.4", b"IN IP4 0.0.0.0"),
    )
    m = parseMessage(data)
    assert m.maxForwards is None
    assert m.via.branch is None
    assert m.fromAddress.tag is None
    assert m.toAddress.params == {"user": "phone"}


# RFC 5118 (IPv6 torture tests), in whole messages.


def ipv6Register(uri):
    """
    A REGISTER from an IPv6 host to C{uri}.
    """
    return build(
        f"""
REGISTER {uri} SIP/2.0
To: sip:user@example.com
From: sip:user@example.com;tag=81x2
Via: SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111
Call-ID: SSG9559905523997077@hlau_4100
Max-Forwards: 70
Contact: "Caller" <sip:caller@[2001:db8::1]>
CSeq: 98176 REGISTER
Content-Length: 0
"""
    )


def test_ipv6Valid():
    """
    RFC 5118 4.1: IPv6 references in the Request-URI, the Via sent-by and
    the Contact parse, brackets kept in the host.
    """
    m = parseMessage(ipv6Register("sip:[2001:db8::10]"))
    assert m.uri.host == "[2001:db8::10]"
    assert (m.via.host, m.via.port) == ("[2001:db8::9:1]", None)
    assert m.contacts[0].uri.host == "[2001:db8::1]"


def test_ipv6Invalid():
    """
    RFC 5118 4.2: an IPv6 address without brackets in the Request-URI is
    a 400.
    """
    assert refused(ipv6Register("sip:2001:db8::10")).reason == "Bad Request-URI"
