"""
Tests for L{oso.sip.uacauth}: the client's side of digest authentication
(RFC 2617, RFC 3261 22.2-22.3) and of Digest AKA (RFC 3310), checked by the
server's side of L{oso.sip.digest} and, for AKA, by a home network written
here from the MILENAGE functions (3GPP TS 33.102 6.3) with the keys of
TS 35.208 test set 1.
"""

import hashlib
import itertools
import os

from aka_network import K, OPC, HomeNetwork
from twisted.internet.task import Clock

from oso.secrets import digestHA1
from oso.sip.aka import AKAClient, makeNonce
from oso.sip.digest import AuthOutcome, DigestAuthenticator
from oso.sip.headers import Challenge, parseChallenge
from oso.sip.message import Request, Response
from oso.sip.uacauth import ClientAuthenticator, ClientCredentials
from oso.sip.uri import parseURI

REALM = "provider.example"
USER = "trunk1"
PASSWORD = "s3cret"



def request(cseq=1, method="REGISTER", uri="sip:provider.example", callID="reg1"):
    """
    A request as the trunk sends it.
    """
    return Request(
        method,
        parseURI(uri),
        [
            ("Via", f"SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK{cseq}"),
            ("From", "<sip:trunk1@provider.example>;tag=a"),
            ("To", "<sip:trunk1@provider.example>"),
            ("Call-ID", callID),
            ("CSeq", f"{cseq} {method}"),
        ],
    )


def challengeTo(req, challenges, status=401):
    """
    The 401 (or 407) to C{req} with C{challenges} (field values).
    """
    name = "WWW-Authenticate" if status == 401 else "Proxy-Authenticate"
    fields = [(n, req.headers.get(n)) for n in ("Via", "From", "To", "Call-ID", "CSeq")]
    fields += [(name, str(c)) for c in challenges]
    return Response(status, headers=fields)


def counter():
    numbers = itertools.count(1)
    return lambda: f"cn{next(numbers)}"


def authenticator(password=PASSWORD, aka=None):
    return ClientAuthenticator(ClientCredentials(USER, password, aka), cnonce=counter())


def server(clock=None):
    return DigestAuthenticator(REALM, b"k" * 32, clock or Clock())


USERS = {USER: digestHA1(USER, REALM, PASSWORD)}


def withAlgorithm(text, algorithm):
    """
    The challenge C{text} with another algorithm.
    """
    challenge = parseChallenge(text)
    challenge.params["algorithm"] = algorithm
    return challenge


def test_answers_401_with_authorization():
    """
    RFC 3261 22.2: a 401's WWW-Authenticate is answered with an
    Authorization the server accepts (MD5, qop=auth, nc 00000001, the
    opaque echoed, the realm of the challenge).
    """
    uas = server()
    client = authenticator()
    first = request(1)
    retry = request(2)
    assert client.authorize(retry, challengeTo(first, [uas.challenge()]))
    result = uas.verify(retry, USERS.get)
    assert result.outcome is AuthOutcome.ok
    creds = retry.headers.getParsed("Authorization").params
    assert creds["nc"] == "00000001"
    assert creds["realm"] == REALM
    assert creds["cnonce"] == "cn1"
    assert "Proxy-Authorization" not in retry.headers


def test_answers_407_with_proxy_authorization():
    """
    RFC 3261 22.3: a 407's Proxy-Authenticate is answered with a
    Proxy-Authorization.
    """
    uas = server()
    client = authenticator()
    invite = request(1, "INVITE", "sip:+4930123@provider.example", "call1")
    retry = request(2, "INVITE", "sip:+4930123@provider.example", "call1")
    assert client.authorize(retry, challengeTo(invite, [uas.challenge()], 407))
    assert "Authorization" not in retry.headers
    assert uas.verify(retry, USERS.get, "Proxy-Authorization").ok


def test_wrong_password_not_retried():
    """
    A request that carried a fresh answer and is challenged again without
    stale=true had a wrong password: authorize refuses, so no loop.
    """
    uas = server()
    client = authenticator(password="wrong")
    first = request(1)
    second = request(2)
    assert client.authorize(second, challengeTo(first, [uas.challenge()]))
    assert uas.verify(second, USERS.get).outcome is AuthOutcome.failed
    third = request(3)
    assert not client.authorize(third, challengeTo(second, [uas.challenge()]))
    assert "Authorization" not in third.headers


def test_same_nonce_refused_not_retried():
    """
    The same nonce challenged again for the request that answered it,
    without stale=true, is not answered again.
    """
    uas = server()
    client = authenticator(password="wrong")
    challenge = uas.challenge()
    first = request(1)
    second = request(2)
    assert client.authorize(second, challengeTo(first, [challenge]))
    assert not client.authorize(request(3), challengeTo(second, [challenge]))


def test_stale_retried():
    """
    RFC 2617 3.2.1: stale=true means the password was right and the nonce
    old: answered again with the new nonce.
    """
    clock = Clock()
    uas = server(clock)
    client = authenticator()
    first = request(1)
    second = request(2)
    assert client.authorize(second, challengeTo(first, [uas.challenge()]))
    clock.advance(301)
    assert uas.verify(second, USERS.get).outcome is AuthOutcome.stale
    third = request(3)
    assert client.authorize(third, challengeTo(second, [uas.challenge(stale=True)]))
    assert uas.verify(third, USERS.get).ok


def test_preauthorize_counts_up():
    """
    preauthorize reuses the last nonce with the next nonce count (a
    re-REGISTER without a new challenge); the server accepts each count
    once.
    """
    uas = server()
    client = authenticator()
    first = request(1)
    second = request(2)
    client.authorize(second, challengeTo(first, [uas.challenge()]))
    assert uas.verify(second, USERS.get).ok
    counts = []
    for cseq in (3, 4):
        again = request(cseq)
        client.preauthorize(again)
        assert uas.verify(again, USERS.get).ok
        counts.append(again.headers.getParsed("Authorization").params["nc"])
    assert counts == ["00000002", "00000003"]


def test_preauthorize_without_challenge_adds_nothing():
    """
    Before any challenge there is nothing to reuse.
    """
    req = request(1)
    authenticator().preauthorize(req)
    assert "Authorization" not in req.headers


def test_reused_nonce_refused_gets_one_fresh_answer():
    """
    Some servers do not mark an expired nonce stale: reused credentials
    refused get one fresh answer (and a refusal of that one stops).
    """
    uas = server()
    client = authenticator()
    client.authorize(request(2), challengeTo(request(1), [uas.challenge()]))
    reused = request(3)
    client.preauthorize(reused)
    fresh = request(4)
    assert client.authorize(fresh, challengeTo(reused, [uas.challenge()]))
    assert uas.verify(fresh, USERS.get).ok
    assert not client.authorize(request(5), challengeTo(fresh, [uas.challenge()]))


def test_md5_sess():
    """
    RFC 2617 3.2.2.2: MD5-sess, H(A1) with the nonce and cnonce; later
    requests on the nonce repeat the session's cnonce.
    """
    uas = server()
    client = authenticator()
    challenge = withAlgorithm(uas.challenge(), "MD5-sess")
    second = request(2)
    assert client.authorize(second, challengeTo(request(1), [challenge]))
    assert uas.verify(second, USERS.get).ok
    third = request(3)
    client.preauthorize(third)
    assert uas.verify(third, USERS.get).ok
    cnonces = {r.headers.getParsed("Authorization").params["cnonce"] for r in (second, third)}
    assert len(cnonces) == 1


def test_no_qop():
    """
    RFC 2069 (RFC 2617 3.2.2.1 without qop): response =
    MD5(HA1:nonce:HA2), and no nc or cnonce.
    """
    client = authenticator()
    challenge = Challenge("Digest", {"realm": REALM, "nonce": "abc123"})
    second = request(2)
    assert client.authorize(second, challengeTo(request(1), [challenge]))
    creds = second.headers.getParsed("Authorization").params
    md5 = lambda t: hashlib.md5(t.encode()).hexdigest()  # noqa: E731
    ha1 = md5(f"{USER}:{REALM}:{PASSWORD}")
    ha2 = md5("REGISTER:sip:provider.example")
    assert creds["response"] == md5(f"{ha1}:abc123:{ha2}")
    assert "nc" not in creds and "cnonce" not in creds and "opaque" not in creds


def test_unanswerable_challenges():
    """
    An unknown algorithm, qop auth-int only, an AKA challenge without AKA
    keys, or a response that is not 401/407: nothing added, no retry.
    """
    for params in (
        {"realm": REALM, "nonce": "n", "algorithm": "SHA-512-256"},
        {"realm": REALM, "nonce": "n", "qop": "auth-int"},
        {"realm": REALM, "nonce": makeNonce(os.urandom(16), os.urandom(16)),
         "algorithm": "AKAv1-MD5"},
        {"realm": REALM},
    ):
        retry = request(2)
        assert not authenticator().authorize(
            retry, challengeTo(request(1), [Challenge("Digest", params)])
        )
        assert "Authorization" not in retry.headers
    assert not authenticator().authorize(request(2), Response(403, headers=[
        ("Call-ID", "reg1"), ("CSeq", "1 REGISTER")]))


def test_choice_among_challenges():
    """
    RFC 3261 22.3: of several challenges the one this client can answer
    is answered (qop lists with auth), one credentials field per realm.
    """
    uas = server()
    challenges = [
        Challenge("Digest", {"realm": REALM, "nonce": "x", "algorithm": "SHA-256"}),
        withAlgorithm(uas.challenge(), "MD5"),
        Challenge("Basic", {"realm": REALM}),
    ]
    challenges[1].params["qop"] = "auth-int,auth"
    retry = request(2)
    assert authenticator().authorize(retry, challengeTo(request(1), challenges))
    assert len(retry.headers.getAllParsed("Authorization")) == 1
    assert uas.verify(retry, USERS.get).ok


def test_aka_answer_accepted():
    """
    RFC 3310 3.3: AUTN checked, RES as the password; the home network
    accepts the digest, and a preauthorised request with the next nc too.
    """
    network = HomeNetwork(realm=REALM, sqn=5000)
    aka = AKAClient.fromKeys(USER, K, opc=OPC, sqn=4990)
    client = authenticator(aka=aka)
    second = request(2)
    assert client.authorize(second, challengeTo(request(1), [network.challenge()]))
    assert network.check(second) == "ok"
    assert aka.sqn == 5001
    third = request(3)
    client.preauthorize(third)
    assert network.check(third) == "ok"
    assert third.headers.getParsed("Authorization").params["nc"] == "00000002"


def test_aka_resync():
    """
    RFC 3310 3.4: a SQN out of the window is answered with AUTS; the
    network resynchronises and its next challenge is answered with RES. A
    second resynchronisation in a row is not answered.
    """
    network = HomeNetwork(realm=REALM, sqn=10)
    aka = AKAClient.fromKeys(USER, K, opc=OPC, sqn=90000)
    client = authenticator(aka=aka)
    second = request(2)
    assert client.authorize(second, challengeTo(request(1), [network.challenge()]))
    assert network.check(second) == "resync"
    assert network.sqn == 90000
    third = request(3)
    assert client.authorize(third, challengeTo(second, [network.challenge()]))
    assert network.check(third) == "ok"
    # A network that ignores AUTS: a second resync is not answered.
    stuck = HomeNetwork(realm=REALM, sqn=10)
    client = authenticator(aka=AKAClient.fromKeys(USER, K, opc=OPC, sqn=90000))
    second = request(2, callID="reg2")
    assert client.authorize(second, challengeTo(request(1, callID="reg2"), [stuck.challenge()]))
    stuck.sqn = 10
    assert not client.authorize(request(3, callID="reg2"),
                                challengeTo(second, [stuck.challenge()]))


def test_aka_mac_failure():
    """
    RFC 3310 3.3: a network that fails to authenticate (MAC-A wrong) gets
    the empty password and no AUTS, once; its next challenge is refused.
    """
    network = HomeNetwork(realm=REALM, sqn=100)
    aka = AKAClient.fromKeys(USER, K, opc=OPC, sqn=50)
    client = authenticator(aka=aka)
    second = request(2)
    assert client.authorize(second, challengeTo(request(1), [network.challenge(badMAC=True)]))
    assert network.check(second) == "failed"
    assert "auts" not in second.headers.getParsed("Authorization").params
    assert aka.sqn == 50
    reused = request(3)
    client.preauthorize(reused)
    assert "Authorization" not in reused.headers
    assert not client.authorize(request(3), challengeTo(second, [network.challenge()]))


def test_one_realm_refused_stops_all():
    """
    With two realms challenged (two proxies), a refusal in one stops the
    retry even though the other could be answered again: no loop.
    """
    other = DigestAuthenticator("other.example", b"o" * 32, Clock())
    uas = server()
    client = authenticator()
    first = request(1, "INVITE", "sip:+4930123@provider.example", "call2")
    second = request(2, "INVITE", "sip:+4930123@provider.example", "call2")
    assert client.authorize(second, challengeTo(first, [uas.challenge(), other.challenge()], 407))
    assert len(second.headers.getAllParsed("Proxy-Authorization")) == 2
    third = request(3, "INVITE", "sip:+4930123@provider.example", "call2")
    assert not client.authorize(third, challengeTo(second, [other.challenge(), uas.challenge()], 407))
