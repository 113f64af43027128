"""
What a response to a request is, byte for byte (RFC 3261 8.2.6.2: Via,
From, To, Call-ID and CSeq copied from the request, To given a tag), for
a table of requests in the forms a client may send: several Via lines,
Vias joined by commas, compact names and names in any case, display
names quoted and not, addr-specs, parameters written with spaces or
capitals, To with and without a tag, a top Via stamped with C{received}
and C{rport} on arrival. The expected bytes were written by the codec
before the response path was made faster; the shortcuts it takes now
(the fields copied by a plan of the request's field names, the To tag
checked on the copied To, parameters written one by one) must not
change one of them.
"""

import pytest

from oso.sip.sent import sentForm
from oso.sip.transaction import makeResponse, sentResponse, statelessTag
from oso.sip.transport import readMessage, responseDestination

_HEAD = "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
request_OPTIONS = (
    b"OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n"
    b"From: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: c1\r\n"
    b"CSeq: 1 OPTIONS\r\n\r\n"
)

#: (request, where it came from, its Timestamp, the lines from the first
#: Via to CSeq that every response to it writes, where the responses go).
#: In the lines C{{tag}} stands for the To tag a response adds where To
#: has none.
CASES = [
    (
        "REGISTER sip:127.0.0.1:5060 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK-7-False\r\n"
        "From: <sip:300@127.0.0.1>;tag=7SIPpTag\r\nTo: <sip:300@127.0.0.1>\r\n"
        "Call-ID: 7-bench@127.0.0.1\r\nCSeq: 1 REGISTER\r\nContact: <sip:300@127.0.0.1:9>\r\n"
        "Max-Forwards: 70\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n",
        ("127.0.0.1", 40000),
        None,
        'Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK-7-False\r\n'
        'From: <sip:300@127.0.0.1>;tag=7SIPpTag\r\n'
        'To: <sip:300@127.0.0.1>{tag}\r\n'
        'Call-ID: 7-bench@127.0.0.1\r\n'
        'CSeq: 1 REGISTER\r\n',
        ('127.0.0.1', 40000),
    ),
    (
        "REGISTER sip:example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 10.0.0.7:5062;rport;branch=z9hG4bKnat1\r\n"
        'From: "Alice" <sip:alice@example.com>;tag=a1\r\n'
        'To: "Alice" <sip:alice@example.com>\r\n'
        "Call-ID: nat1@10.0.0.7\r\nCSeq: 2 REGISTER\r\n"
        "Contact: <sip:alice@10.0.0.7:5062>;expires=600\r\n" + _HEAD,
        ("198.51.100.4", 61000),
        None,
        'Via: SIP/2.0/UDP 10.0.0.7:5062;rport=61000;branch=z9hG4bKnat1;received=198.51.100.4\r\n'
        'From: "Alice" <sip:alice@example.com>;tag=a1\r\n'
        'To: "Alice" <sip:alice@example.com>{tag}\r\n'
        'Call-ID: nat1@10.0.0.7\r\n'
        'CSeq: 2 REGISTER\r\n',
        ('198.51.100.4', 61000),
    ),
    (
        "INVITE sip:bob@example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bKtop\r\n"
        "Via: SIP/2.0/TCP proxy1.example.com:5061;branch=z9hG4bKmid;received=192.0.2.5\r\n"
        "Via: SIP/2.0/UDP proxy2.example.com;branch=z9hG4bKlow\r\n"
        "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
        "To: Bob <sip:bob@example.com>\r\n"
        "Call-ID: a84b4c76e66710@pc33.example.com\r\nCSeq: 314159 INVITE\r\n"
        "Contact: <sip:alice@pc33.example.com>\r\n" + _HEAD,
        ("192.0.2.101", 5060),
        None,
        'Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bKtop;received=192.0.2.101\r\n'
        'Via: SIP/2.0/TCP proxy1.example.com:5061;branch=z9hG4bKmid;received=192.0.2.5\r\n'
        'Via: SIP/2.0/UDP proxy2.example.com;branch=z9hG4bKlow\r\n'
        'From: "Alice" <sip:alice@example.com>;tag=1928301774\r\n'
        'To: "Bob" <sip:bob@example.com>{tag}\r\n'
        'Call-ID: a84b4c76e66710@pc33.example.com\r\n'
        'CSeq: 314159 INVITE\r\n',
        ('192.0.2.101', 5060),
    ),
    (
        "OPTIONS sip:bob@example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b.example.com:5070"
        ";branch=z9hG4bK2 ,SIP/2.0/UDP c.example.com;branch=z9hG4bK3\r\n"
        "Via: SIP/2.0/UDP d.example.com;branch=z9hG4bK4\r\n"
        "From: <sip:alice@example.com>;tag=x\r\nTo: <sip:bob@example.com>\r\n"
        "Call-ID: joined@example.com\r\nCSeq: 7 OPTIONS\r\n" + _HEAD,
        ("192.0.2.1", 5060),
        None,
        'Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1;received=192.0.2.1\r\n'
        'Via: SIP/2.0/TCP b.example.com:5070;branch=z9hG4bK2\r\n'
        'Via: SIP/2.0/UDP c.example.com;branch=z9hG4bK3\r\n'
        'Via: SIP/2.0/UDP d.example.com;branch=z9hG4bK4\r\n'
        'From: <sip:alice@example.com>;tag=x\r\n'
        'To: <sip:bob@example.com>{tag}\r\n'
        'Call-ID: joined@example.com\r\n'
        'CSeq: 7 OPTIONS\r\n',
        ('192.0.2.1', 5060),
    ),
    (
        "MESSAGE sip:bob@example.com SIP/2.0\r\n"
        "v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcompact\r\n"
        "t: <sip:bob@example.com>\r\nf: <sip:alice@example.com>;tag=c1\r\n"
        "i: compact@192.0.2.1\r\nCSeq: 3 MESSAGE\r\nl: 0\r\n\r\n",
        ("192.0.2.1", 5060),
        None,
        'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcompact\r\n'
        'From: <sip:alice@example.com>;tag=c1\r\n'
        'To: <sip:bob@example.com>{tag}\r\n'
        'Call-ID: compact@192.0.2.1\r\n'
        'CSeq: 3 MESSAGE\r\n',
        ('192.0.2.1', 5060),
    ),
    (
        "OPTIONS sip:bob@example.com SIP/2.0\r\n"
        "via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKcase\r\nFROM: <sip:alice@example.com>;tag=9\r\n"
        "to: <sip:bob@example.com>\r\ncAll-iD: case@192.0.2.1\r\ncseq: 8 OPTIONS\r\n" + _HEAD,
        ("192.0.2.1", 5060),
        None,
        'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKcase\r\n'
        'From: <sip:alice@example.com>;tag=9\r\n'
        'To: <sip:bob@example.com>{tag}\r\n'
        'Call-ID: case@192.0.2.1\r\n'
        'CSeq: 8 OPTIONS\r\n',
        ('192.0.2.1', 5060),
    ),
    (
        "INVITE sip:bob@example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKnames\r\n"
        'From: "Alice \\"Al\\" Smith\\\\" <sip:alice@example.com>;tag=q1;x-Flag\r\n'
        "To: Bob   van  Dijk <sip:bob@example.com;transport=tcp>;x-param;y=1\r\n"
        "Call-ID: names@192.0.2.1\r\nCSeq: 1 INVITE\r\n"
        "Contact: <sip:alice@192.0.2.1>\r\n" + _HEAD,
        ("192.0.2.1", 5060),
        None,
        'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKnames\r\n'
        'From: "Alice \\"Al\\" Smith\\\\" <sip:alice@example.com>;tag=q1;x-flag\r\n'
        'To: "Bob van Dijk" <sip:bob@example.com;transport=tcp>;x-param;y=1{tag}\r\n'
        'Call-ID: names@192.0.2.1\r\n'
        'CSeq: 1 INVITE\r\n',
        ('192.0.2.1', 5060),
    ),
    (
        "OPTIONS sip:carol@example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKspec\r\n"
        "From: sip:alice@example.com ;TAG = a9\r\nTo: sip:carol@example.com\r\n"
        "Call-ID: spec@192.0.2.1\r\nCSeq: 5 OPTIONS\r\n" + _HEAD,
        ("192.0.2.1", 5060),
        None,
        'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKspec\r\n'
        'From: <sip:alice@example.com>;tag=a9\r\n'
        'To: <sip:carol@example.com>{tag}\r\n'
        'Call-ID: spec@192.0.2.1\r\n'
        'CSeq: 5 OPTIONS\r\n',
        ('192.0.2.1', 5060),
    ),
    (
        "BYE sip:alice@192.0.2.1 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.2:5070;branch=z9hG4bKbye\r\n"
        "From: <sip:bob@example.com>;tag=b7\r\nTo: <sip:alice@example.com>;tag=a7\r\n"
        "Call-ID: dialog@192.0.2.1\r\nCSeq: 2 BYE\r\n" + _HEAD,
        ("192.0.2.2", 5070),
        None,
        'Via: SIP/2.0/UDP 192.0.2.2:5070;branch=z9hG4bKbye\r\n'
        'From: <sip:bob@example.com>;tag=b7\r\n'
        'To: <sip:alice@example.com>;tag=a7\r\n'
        'Call-ID: dialog@192.0.2.1\r\n'
        'CSeq: 2 BYE\r\n',
        ('192.0.2.2', 5070),
    ),
    (
        "OPTIONS sip:bob@example.com SIP/2.0\r\n"
        "Via: sip / 2.0 / udp  host.example.com : 5071 ; Branch = z9hG4bKsp ; rport\r\n"
        "From: <sip:alice@example.com>;tag=s1\r\nTo: <sip:bob@example.com>\r\n"
        "Call-ID:   spaced@example.com  \r\nCSeq:   42    OPTIONS\r\n"
        "Timestamp: 54.0 0.2\r\n" + _HEAD,
        ("192.0.2.9", 5071),
        "54.0 0.2",
        'Via: SIP/2.0/UDP host.example.com:5071;branch=z9hG4bKsp;rport=5071;received=192.0.2.9\r\n'
        'From: <sip:alice@example.com>;tag=s1\r\n'
        'To: <sip:bob@example.com>{tag}\r\n'
        'Call-ID: spaced@example.com\r\n'
        'CSeq: 42 OPTIONS\r\n',
        ('192.0.2.9', 5071),
    ),
    (
        "OPTIONS sip:bob@[2001:db8::2] SIP/2.0\r\n"
        "Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKv6;rport\r\n"
        "From: <sip:alice@[2001:db8::1]>;tag=v6\r\nTo: <tel:+1-201-555-0123;phone-context=x>\r\n"
        "Call-ID: v6@[2001:db8::1]\r\nCSeq: 1 OPTIONS\r\nTimestamp: 1\r\n" + _HEAD,
        ("2001:db8::1", 5060),
        "1",
        'Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKv6;rport=5060;received=2001:db8::1\r\n'
        'From: <sip:alice@[2001:db8::1]>;tag=v6\r\n'
        'To: <tel:+1-201-555-0123;phone-context=x>{tag}\r\n'
        'Call-ID: v6@[2001:db8::1]\r\n'
        'CSeq: 1 OPTIONS\r\n',
        ('2001:db8::1', 5060),
    ),
    (
        "SUBSCRIBE sips:bob@example.com SIP/2.0\r\n"
        "Via: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bKtls;received=192.0.2.1\r\n"
        "From: <sips:%61lice@example.com>;tag=e1\r\nTo: <sips:bob@example.com>;Tag=B2\r\n"
        "Call-ID: tls@192.0.2.1\r\nCSeq: 11 SUBSCRIBE\r\nEvent: presence\r\n" + _HEAD,
        ("192.0.2.1", 5061),
        None,
        'Via: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bKtls;received=192.0.2.1\r\n'
        'From: <sips:alice@example.com>;tag=e1\r\n'
        'To: <sips:bob@example.com>;tag=B2\r\n'
        'Call-ID: tls@192.0.2.1\r\n'
        'CSeq: 11 SUBSCRIBE\r\n',
        ('192.0.2.1', 5061),
    ),

]


_CHALLENGE = 'Digest realm="oso", nonce="n1", qop="auth"'
_BOUND = (
    ("Contact", "<sip:alice@192.0.2.1:5062>;expires=3600"),
    ("Date", "Sun, 29 Nov 2026 18:40:00 GMT"),
)


def _responses(request):
    """
    The responses a UA sends to C{request}: a 100 Trying, a stateless 401
    with its challenge, and a 200 with a tag, Contact and Date kept in its
    sent form; each with where it goes.
    """
    trying = makeResponse(request, 100)
    challenge = makeResponse(request, 401)
    challenge.headers.add("www-authenticate", _CHALLENGE)
    ok = makeResponse(request, 200, toTag="t200")
    for name, value in _BOUND:
        ok.headers.add(name, value)
    return [
        (message.serialise(), responseDestination(message, "UDP"))
        for message in (trying, challenge, sentForm(ok))
    ]


@pytest.mark.parametrize("request_, source, timestamp, block, destination", CASES)
def test_responseBytes(request_, source, timestamp, block, destination):
    """
    The 100 Trying (with the request's Timestamp), the stateless 401 (its
    To tag L{statelessTag}) and the 200 in its sent form are the bytes
    the codec wrote before, and go where they went.
    """
    request = readMessage(request_.encode(), source, True).message
    stateless = ";tag=" + statelessTag(request)
    stamp = "" if timestamp is None else f"Timestamp: {timestamp}\r\n"
    end = "Content-Length: 0\r\n\r\n"
    expected = [
        f"SIP/2.0 100 Trying\r\n{block.format(tag='')}{stamp}{end}",
        f"SIP/2.0 401 Unauthorized\r\n{block.format(tag=stateless)}"
        f'WWW-Authenticate: Digest realm="oso", nonce="n1", qop="auth"\r\n{end}',
        f"SIP/2.0 200 OK\r\n{block.format(tag=';tag=t200')}"
        "Contact: <sip:alice@192.0.2.1:5062>;expires=3600\r\n"
        f"Date: Sun, 29 Nov 2026 18:40:00 GMT\r\n{end}",
    ]
    assert _responses(request) == [(text.encode(), destination) for text in expected]


@pytest.mark.parametrize("request_, source, timestamp, block, destination", CASES)
def test_sentResponseBytes(request_, source, timestamp, block, destination):
    """
    L{sentResponse}, which writes a final response without making it,
    gives the stateless 401 and the 200 the very bytes, top Via and
    destination that making them and writing them gives (each from a
    request of its own, read afresh, so that neither way profits from
    what the other left in the request).
    """

    def read():
        return readMessage(request_.encode(), source, True).message

    made = _responses(read())[1:]
    request = read()
    challenge = sentResponse(request, 401, fields=(("www-authenticate", _CHALLENGE),))
    ok = sentResponse(read(), 200, toTag="t200", fields=_BOUND)
    assert [
        (message.serialise(), responseDestination(message, "UDP")) for message in (challenge, ok)
    ] == made
    assert (challenge.status, challenge.reason, ok.status, ok.reason) == (
        401, "Unauthorized", 200, "OK",
    )  # fmt: skip
    assert str(ok.via) == str(read().via)


def test_sentResponseFinalOnly():
    """
    A provisional response is not written at once: its transaction keeps
    it to send again as it is, and may replace it.
    """
    request = readMessage(request_OPTIONS, ("192.0.2.1", 5060), True).message
    with pytest.raises(ValueError):
        sentResponse(request, 180)


def test_noToNoTag():
    """
    A request without To (RFC 3261 8.1.1.2 requires one) is refused with a
    400 that has none either: there is no To to tag (8.2.6.2), and reading
    it must not fail on looking for one.
    """
    arrival = readMessage(
        b"OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n"
        b"From: <sip:b@example.com>;tag=1\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n\r\n",
        ("192.0.2.1", 5060),
        True,
    )
    assert arrival.reply.serialise() == (
        b"SIP/2.0 400 Missing To (no To header field)\r\n"
        b"Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n"
        b"From: <sip:b@example.com>;tag=1\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
