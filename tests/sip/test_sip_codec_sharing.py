"""
What the SIP codec shares between messages to spend less per message, and
that sharing never shows: addresses checked on reading are held as shared
cached values until asked for, a response shares the fields it copies from
its request, parameters without whitespace or quotes are read by one
pattern, URI parameters are checked for escaping at once. Each is checked
against what the message (or the general code path) gives without it.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oso.sip import Request, Response, parseMessage
from oso.sip.headers import KnownAddress, NameAddress, _readParams, parseParams, sharedAddress
from oso.sip.transaction import makeResponse
from oso.sip.uri import SIPURI, SIPParseError, _encodeParam, _writeParams


def register(fromText="<sip:alice@example.com>;tag=a1", toText="<sip:alice@example.com>",
             contact="<sip:alice@192.0.2.1:5062>;expires=60"):
    return (
        "REGISTER sip:example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKr1;rport\r\n"
        "Via: SIP/2.0/TCP proxy.example.com;branch=z9hG4bKr0\r\n"
        f"From: {fromText}\r\nTo: {toText}\r\n"
        "Call-ID: r1@192.0.2.1\r\nCSeq: 7 REGISTER\r\nMax-Forwards: 70\r\n"
        f"Contact: {contact}\r\nContent-Length: 0\r\n\r\n"
    ).encode()


def fieldLines(data, *names):
    """
    The lines of C{data} (bytes) whose field name is one of C{names}.
    """
    return [
        line for line in data.split(b"\r\n") if line.split(b":", 1)[0] in names
    ]


def test_mutationNotShared():
    """
    Changing the From, To or a Contact parsed from one message (whose
    value came from the shared cache) changes neither another message
    read from the same bytes nor one read later, nor what they write.
    """
    first, second = parseMessage(register()), parseMessage(register())
    written = second.serialise()
    first.fromAddress.tag = "changed"
    first.toAddress.uri.params["transport"] = "tcp"
    first.contacts[0].uri.port = 5999
    first.contacts[0].params["expires"] = "0"
    assert second.fromAddress.tag == "a1"
    assert second.toAddress.uri.params == {}
    assert second.serialise() == written
    third = parseMessage(register())
    assert third.contacts[0].uri.port == 5062
    assert third.contacts[0].params == {"expires": "60"}
    assert third.serialise() == written
    changed = first.serialise()
    assert b"\r\nFrom: <sip:alice@example.com>;tag=changed\r\n" in changed
    assert b"\r\nTo: <sip:alice@example.com;transport=tcp>\r\n" in changed
    assert b"\r\nContact: <sip:alice@192.0.2.1:5999>;expires=0\r\n" in changed


def test_unaskedAddressesShared():
    """
    A checked From that nobody asked for is the cache's shared value; once
    asked for, the message has a value of its own.
    """
    first, second = parseMessage(register()), parseMessage(register())
    assert type(first.headers._fields[2][2]) is KnownAddress
    assert first.headers._fields[2][2] is second.headers._fields[2][2]
    own = first.fromAddress
    assert own is not second.headers._fields[2][2].address
    assert first.fromAddress is own


def test_heldValues():
    """
    L{Headers.held} gives the values as the message holds them: the
    shared value of an address nobody asked for (the same object for two
    messages with the same text), the message's own value once it was
    asked for, and text or typed values for other fields; list values
    split, a wildcard Contact as its text. Nothing is made the message's
    own by looking.
    """
    first, second = parseMessage(register()), parseMessage(register())
    [to] = first.headers.held("to")
    assert type(to) is KnownAddress and [to] == second.headers.held("To")
    [contact] = first.headers.held("contact")
    assert contact is second.headers.held("m")[0]
    assert str(contact) == "<sip:alice@192.0.2.1:5062>;expires=60"
    assert first.headers.held("to")[0] is to
    own = first.toAddress
    assert first.headers.held("to") == [own] and type(own) is NameAddress
    assert own.shared() is to
    assert first.headers.held("call-id") == ["r1@192.0.2.1"]
    assert [str(via) for via in first.headers.held("via")] == [
        "SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKr1;rport",
        "SIP/2.0/TCP proxy.example.com;branch=z9hG4bKr0",
    ]
    assert first.headers.held("expires") == []
    several = parseMessage(register(contact="<sip:a@192.0.2.1>, <sip:b@192.0.2.2>;q=0.5"))
    assert [type(value) for value in several.headers.held("contact")] == [KnownAddress] * 2
    assert parseMessage(register(contact="*")).headers.held("contact") == ["*"]


def test_responseCopiesBytes():
    """
    RFC 3261 8.2.6.2: a response's Via, From, Call-ID and CSeq lines are
    the request's as the request writes them, and its To the request's
    with the tag added, whether the request's addresses were asked for
    before or not.
    """
    for ask in (False, True):
        request = parseMessage(register())
        if ask:
            request.fromAddress, request.toAddress
        response = makeResponse(request, 200, toTag="t9")
        requestBytes, responseBytes = request.serialise(), response.serialise()
        names = (b"Via", b"From", b"Call-ID", b"CSeq")
        assert fieldLines(responseBytes, *names) == fieldLines(requestBytes, *names)
        assert fieldLines(responseBytes, b"To") == [
            fieldLines(requestBytes, b"To")[0] + b";tag=t9"
        ]
        assert request.toAddress.tag is None
        assert response.toAddress.tag == "t9"


def test_responseWritesAddressesAsParsed():
    """
    An address written otherwise than its parsed value writes it (an
    addr-spec, spaces, a capital parameter name) is copied into a response
    as the parsed value writes it, the tag after it, as before the
    sharing.
    """
    request = parseMessage(
        register("sip:alice@example.com ;TAG = a1", '"Al" <sip:alice@example.com>  ')
    )
    written = makeResponse(request, 200, toTag="t9").serialise()
    assert b"\r\nFrom: <sip:alice@example.com>;tag=a1\r\n" in written
    assert b'\r\nTo: "Al" <sip:alice@example.com>;tag=t9\r\n' in written


@given(
    st.sampled_from(
        ("<sip:alice@example.com>", '"Al" <sip:alice@example.com>', 'Al  B <sip:al%41@h>',
         '"A\\"l" <tel:+1>', "<sip:a@h;Lr>")
    ),
    st.text(alphabet=';=: \t"aBt1', max_size=14),
)
def test_knownHeadWritten(head, params):
    """
    A shared address whose text up to its ">" was read before (a new
    From tag on a known name-addr) writes what its parsed value writes,
    whatever the parameters' spelling.
    """
    sharedAddress(head + ";first=" + str(len(params)))
    try:
        known = sharedAddress(head + params)
    except SIPParseError:
        return
    address = known.address
    assert str(known) == str(NameAddress(address.uri.copy(), address.displayName,
                                         dict(address.params)))


def _reorder(via):
    branch = via.params.pop("branch")
    via.params["branch"] = branch


@pytest.mark.parametrize(
    "change, line",
    [
        (lambda via: None, b"Via: SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKr1;x=1"),
        (lambda via: setattr(via, "received", "192.0.2.9"),
         b"Via: SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKr1;x=1;received=192.0.2.9"),
        (lambda via: via.params.update(branch="z9hG4bKr2"),
         b"Via: SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKr2;x=1"),
        (_reorder, b"Via: SIP/2.0/UDP 192.0.2.1:5062;x=1;branch=z9hG4bKr1"),
        (lambda via: setattr(via, "host", "192.0.2.2"),
         b"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bKr1;x=1"),
        (lambda via: setattr(via, "port", 5063),
         b"Via: SIP/2.0/UDP 192.0.2.1:5063;branch=z9hG4bKr1;x=1"),
        (lambda via: setattr(via, "transport", "TCP"),
         b"Via: SIP/2.0/TCP 192.0.2.1:5062;branch=z9hG4bKr1;x=1"),
    ],
)
def test_responseWritesChangedVia(change, line):
    """
    A top Via read as it is written is copied into a response as its
    text while it is unchanged, and as its changed value otherwise.
    """
    request = parseMessage(register().replace(b";branch=z9hG4bKr1;rport", b";branch=z9hG4bKr1;x=1"))
    change(request.via)
    assert fieldLines(makeResponse(request, 200, toTag="t").serialise(), b"Via")[0] == line


def test_responseWritesChangedFrom():
    """
    A From on a name-addr read before (its text kept as the shared value
    writes it) is written as changed once the request's own value is.
    """
    parseMessage(register(fromText="<sip:alice@example.com>;tag=a0"))
    request = parseMessage(register(fromText="<sip:alice@example.com>;tag=a1"))
    request.fromAddress.params["x"] = "y"
    assert fieldLines(makeResponse(request, 200, toTag="t").serialise(), b"From") == [
        b"From: <sip:alice@example.com>;tag=a1;x=y"
    ]


def test_responseKeepsTag():
    """
    A To that has a tag keeps it, held as text or parsed.
    """
    for ask in (False, True):
        request = parseMessage(register(toText="<sip:alice@example.com>;tag=old"))
        if ask:
            request.toAddress
        response = makeResponse(request, 200, toTag="new")
        assert b";tag=old\r\n" in response.serialise()
        assert response.toAddress.tag == "old"


def test_responseOwnsCopies():
    """
    Changing a response's To changes neither its request nor another
    response to it.
    """
    request = parseMessage(register())
    one, two = makeResponse(request, 200, toTag="x"), makeResponse(request, 100)
    one.toAddress.displayName = "Changed"
    assert two.toAddress.displayName is None
    assert two.toAddress.tag is None
    assert request.toAddress.displayName is None
    assert request.toAddress.tag is None


def test_getIsFirstOfGetAll():
    """
    L{Headers.get} gives what L{Headers.getAll} gives first, list fields
    split, a malformed one by line.
    """
    request = parseMessage(register())
    request.headers.add("Route", '<sip:a@h;lr>, "x')
    request.headers.add("Supported", "timer, 100rel")
    for name in ("via", "v", "Route", "supported", "From", "call-id", "Contact", "Date"):
        values = request.headers.getAll(name)
        assert request.headers.get(name, "none") == (values[0] if values else "none")


def test_contentLengthWrittenOnce():
    """
    However many Content-Length fields a message holds, one is written, in
    the first one's place, counting the body.
    """
    message = Response(200, headers=[("Content-Length", "9"), ("Call-ID", "c"),
                                     ("Content-Length", "3")], body=b"ab")
    assert message.serialise() == (
        b"SIP/2.0 200 OK\r\nContent-Length: 2\r\nCall-ID: c\r\n\r\nab"
    )
    assert Request("OPTIONS", SIPURI("h")).serialise() == (
        b"OPTIONS sip:h SIP/2.0\r\nContent-Length: 0\r\n\r\n"
    )


def outcome(read, text):
    try:
        return read(text, 0, "X")
    except SIPParseError as error:
        return (error.reason, error.message)


@given(st.text(alphabet=';=: \t"[]aB.-!%1,<>\\\'~', max_size=24))
def test_paramsFastPath(text):
    """
    L{parseParams} gives what the general loop gives, or the same error.
    """
    assert outcome(parseParams, text) == outcome(_readParams, text)


paramText = st.text(alphabet="ab=;%[]/:&+$ x-_.!~*'()\u00e9", max_size=5)


@given(st.dictionaries(paramText.filter(bool), st.none() | paramText, max_size=3))
def test_uriParamsWritten(params):
    """
    URI parameters are written as each escaped on its own would be.
    """
    assert _writeParams(params) == "".join(
        f";{_encodeParam(name)}" if value is None
        else f";{_encodeParam(name)}={_encodeParam(value)}"
        for name, value in params.items()
    )


def test_fieldPlanPerMessage():
    """
    Messages whose fields come in the same order share where each field
    is, but each is read from its own fields; an order refused is refused
    again, with the same reason, each time it comes.
    """
    first = parseMessage(register(fromText="<sip:alice@example.com>;tag=a1"))
    second = parseMessage(register(fromText="<sip:bob@example.com>;tag=b2",
                                   contact="<sip:bob@192.0.2.2>"))
    assert (first.fromAddress.tag, second.fromAddress.tag) == ("a1", "b2")
    assert str(second.contacts[0]) == "<sip:bob@192.0.2.2>"
    assert [str(via) for via in second.vias] == [str(via) for via in first.vias]
    noCallID = register().replace(b"Call-ID: r1@192.0.2.1\r\n", b"")
    twoTo = register().replace(b"To:", b"To: <sip:x@example.com>\r\nTo:")
    for data, reason in [(noCallID, "Missing Call-ID"), (twoTo, "Bad To")] * 2:
        with pytest.raises(SIPParseError) as caught:
            parseMessage(data)
        assert caught.value.reason == reason
