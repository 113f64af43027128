"""
Tests for L{oso.sip.digest}: server-side digest authentication (RFC 2617,
RFC 3261 22.4).
"""

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.task import Clock

from oso.secrets import digestHA1
from oso.sip.digest import (
    AuthOutcome,
    DigestAuthenticator,
    NonceMint,
    digestResponse,
    sessionHA1,
)
from oso.sip.headers import Credentials, parseChallenge
from oso.sip.message import Request, parseMessage
from oso.sip.uri import parseURI

REALM = "oso"
USERS = {"201": digestHA1("201", REALM, "secret201")}
SECRET = b"k" * 32

# RFC 2617 3.5.
RFC_REALM = "testrealm@host.com"
RFC_NONCE = "dcd98b7102dd2f0e8b11d0f600bfb0c093"
RFC_OPAQUE = "5ccc069c403ebaf9f0171e9517f40e41"
RFC_HA1 = digestHA1("Mufasa", RFC_REALM, "Circle Of Life")


class FixedMint:
    """
    A nonce mint that only knows the nonce of RFC 2617's example, made at
    time 0.
    """

    def make(self):
        return RFC_NONCE

    def issuedAt(self, nonce):
        return 0 if nonce == RFC_NONCE else None


def register(authorization=None, uri="sip:oso.example", method="REGISTER"):
    """
    @return: a request as a phone sends it, with C{authorization} as its
        Authorization field(s).
    """
    fields = [
        ("Via", "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1"),
        ("From", "<sip:201@oso.example>;tag=a"),
        ("To", "<sip:201@oso.example>"),
        ("Call-ID", "c1"),
        ("CSeq", f"1 {method}"),
    ]
    if authorization is not None:
        for value in [authorization] if isinstance(authorization, str) else authorization:
            fields.append(("Authorization", value))
    return Request(method, parseURI(uri) if uri.startswith("sip") else uri, fields)


def answer(challenge, password="secret201", username="201", uri="sip:oso.example",
           method="REGISTER", nc="00000001", cnonce="0a4f113b", qop="auth", **override):
    """
    @return: the Authorization value a client computes for C{challenge}.
    """
    params = parseChallenge(challenge).params
    ha1 = digestHA1(username, params["realm"], password)
    nonce = override.pop("nonce", params["nonce"])
    response = digestResponse(ha1, method, uri, nonce, qop, nc if qop else None,
                              cnonce if qop else None)
    values = {
        "username": username,
        "realm": params["realm"],
        "nonce": nonce,
        "uri": uri,
        "response": response,
        "opaque": params["opaque"],
        "algorithm": "MD5",
    }
    if qop:
        values.update(qop=qop, nc=nc, cnonce=cnonce)
    values.update(override)
    return "Digest " + ", ".join(
        f"{k}={v}" if k in ("qop", "nc", "algorithm") else f'{k}="{v}"' for k, v in values.items()
    )


def authenticator(clock=None, lifetime=300):
    return DigestAuthenticator(REALM, SECRET, clock or Clock(), nonceLifetime=lifetime)


def test_rfc2617Example():
    """
    RFC 2617 3.5: the request-digest of the example (Mufasa, "Circle Of
    Life", qop=auth, nc=00000001, cnonce 0a4f113b, GET /dir/index.html) is
    6629fae49393a05397450978507c4ef1.
    """
    assert RFC_HA1 == "939e7578ed9e3c518a452acee763bce9"
    assert (
        digestResponse(RFC_HA1, "GET", "/dir/index.html", RFC_NONCE, "auth", "00000001",
                       "0a4f113b")
        == "6629fae49393a05397450978507c4ef1"
    )


def test_rfc2617ExampleVerified():
    """
    RFC 2617 3.5: the example's Authorization, checked against a server
    whose nonce generation hands out the example's nonce, is accepted; and
    the challenge carries the example's realm, nonce and opaque.
    """
    server = DigestAuthenticator(RFC_REALM, SECRET, Clock(), opaque=RFC_OPAQUE,
                                 mint=FixedMint())
    challenge = parseChallenge(server.challenge())
    assert challenge.params["nonce"] == RFC_NONCE
    assert challenge.params["opaque"] == RFC_OPAQUE
    assert challenge.params["realm"] == RFC_REALM
    authorization = (
        'Digest username="Mufasa", realm="testrealm@host.com", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", '
        'qop=auth, nc=00000001, cnonce="0a4f113b", '
        'response="6629fae49393a05397450978507c4ef1", '
        'opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    request = register(authorization, uri="/dir/index.html", method="GET")
    result = server.verify(request, {"Mufasa": RFC_HA1}.get)
    assert result.outcome is AuthOutcome.ok
    assert result.username == "Mufasa"


def test_challengeForm():
    """
    RFC 2617 3.2.1, RFC 3261 22.4: a challenge names the realm, MD5, qop
    "auth", a nonce and an opaque value, and says stale=true only when
    asked; each challenge has a new nonce.
    """
    server = authenticator()
    first = parseChallenge(server.challenge())
    assert first.scheme == "Digest"
    assert first.params["realm"] == REALM
    assert first.params["algorithm"] == "MD5"
    assert first.params["qop"] == "auth"
    assert first.params["opaque"]
    assert "stale" not in first.params
    again = parseChallenge(server.challenge(stale=True))
    assert again.params["stale"] == "true"
    assert again.params["nonce"] != first.params["nonce"]
    assert 'qop="auth"' in server.challenge()


def test_goodCredentials():
    """
    RFC 2617 3.2.2: an answer with the right password is accepted and
    names the user.
    """
    server = authenticator()
    result = server.verify(register(answer(server.challenge())), USERS.get)
    assert result.ok
    assert result.username == "201"


def test_missing():
    """
    RFC 3261 22.1: a request without digest credentials (none, or of
    another scheme) is to be challenged.
    """
    server = authenticator()
    assert server.verify(register(), USERS.get).outcome is AuthOutcome.missing
    other = server.verify(register('Other realm="oso", token="x"'), USERS.get)
    assert other.outcome is AuthOutcome.missing


def test_wrongPassword():
    """
    RFC 2617 3.2.2: a response computed with another password fails.
    """
    server = authenticator()
    result = server.verify(register(answer(server.challenge(), password="guess")), USERS.get)
    assert result.outcome is AuthOutcome.failed
    assert result.reason == "wrong response (password)"


def test_unknownUser():
    """
    A user name without stored credentials fails.
    """
    server = authenticator()
    result = server.verify(register(answer(server.challenge(), username="999")), USERS.get)
    assert result.outcome is AuthOutcome.failed
    assert result.reason == "unknown user"


def test_wrongRealm():
    """
    RFC 3261 22.4: credentials for another realm fail; among several
    Authorization fields the one for our realm is used.
    """
    server = authenticator()
    other = answer(server.challenge(), realm="elsewhere")
    assert server.verify(register(other), USERS.get).outcome is AuthOutcome.failed
    good = answer(server.challenge())
    assert server.verify(register([other, good]), USERS.get).ok


def test_wrongURI():
    """
    RFC 2617 3.2.2.5: credentials whose uri is not the Request-URI fail,
    even with a digest that is right for that uri; an equal URI written
    otherwise (RFC 3261 19.1.4) is the same.
    """
    server = authenticator()
    other = answer(server.challenge(), uri="sip:other.example")
    result = server.verify(register(other), USERS.get)
    assert result.outcome is AuthOutcome.failed
    assert result.reason == "uri is not the Request-URI"
    same = answer(server.challenge(), uri="sip:OSO.example")
    assert server.verify(register(same), USERS.get).ok


def test_opaqueEchoed():
    """
    RFC 2617 3.2.1: the opaque value must come back unchanged.
    """
    server = authenticator()
    changed = answer(server.challenge(), opaque="0123")
    assert server.verify(register(changed), USERS.get).outcome is AuthOutcome.failed


def test_algorithm():
    """
    RFC 2617 3.2.2.2: MD5-sess is accepted with its own HA1; any other
    algorithm fails.
    """
    server = authenticator()
    params = parseChallenge(server.challenge()).params
    ha1 = sessionHA1(USERS["201"], params["nonce"], "c0")
    response = digestResponse(ha1, "REGISTER", "sip:oso.example", params["nonce"], "auth",
                              "00000001", "c0")
    sess = answer(server.challenge(), nonce=params["nonce"], algorithm="MD5-sess",
                  cnonce="c0", response=response)
    assert server.verify(register(sess), USERS.get).ok
    sha = answer(server.challenge(), algorithm="SHA-256")
    assert server.verify(register(sha), USERS.get).outcome is AuthOutcome.failed


def test_noQop():
    """
    RFC 2617 3.2.2.1 (RFC 2069 compatibility): a response without qop,
    nc and cnonce is accepted, and again with the same nonce.
    """
    server = authenticator()
    challenge = server.challenge()
    old = answer(challenge, qop=None)
    assert "qop" not in old and "nc=" not in old
    assert server.verify(register(old), USERS.get).ok
    assert server.verify(register(old), USERS.get).ok


def test_unsupportedQop():
    """
    Only qop=auth is offered: auth-int, or qop without nc, fails.
    """
    server = authenticator()
    assert (
        server.verify(register(answer(server.challenge(), qop="auth-int")), USERS.get).outcome
        is AuthOutcome.failed
    )
    noCount = answer(server.challenge()).replace("nc=00000001, ", "")
    assert server.verify(register(noCount), USERS.get).outcome is AuthOutcome.failed


def test_countTextsReadOnce():
    """
    A nonce count read before is known to be valid, and the checks around
    it stay: a count of another form is refused (not read by C{int}, which
    takes a sign), as is a known count without a cnonce, each with the
    same reason; a known count is read as the number it is.
    """
    server = authenticator()
    assert server.verify(register(answer(server.challenge())), USERS.get).ok
    reason = "qop without a valid nc and cnonce"
    noCnonce = answer(server.challenge()).replace(', cnonce="0a4f113b"', "")
    assert "cnonce" not in noCnonce
    for value in (noCnonce, answer(server.challenge(), nc="+0000001"),
                  answer(server.challenge(), nc="0000001g")):
        assert server.verify(register(value), USERS.get).reason == reason
    challenge = server.challenge()
    assert server.verify(register(answer(challenge, nc="00000002")), USERS.get).ok
    late = server.verify(register(answer(challenge, nc="00000001")), USERS.get)
    assert late.reason == "nonce count replayed"


def test_replayRefused():
    """
    RFC 2617 3.2.2: a nonce count not higher than the last one seen for
    the nonce is a replay: refused with stale (the digest is right); the
    next count is accepted.
    """
    server = authenticator()
    challenge = server.challenge()
    first = register(answer(challenge, nc="00000001"))
    assert server.verify(first, USERS.get).ok
    assert server.verify(first, USERS.get).outcome is AuthOutcome.stale
    assert server.verify(register(answer(challenge, nc="00000003")), USERS.get).ok
    late = server.verify(register(answer(challenge, nc="00000002")), USERS.get)
    assert late.outcome is AuthOutcome.stale
    assert late.reason == "nonce count replayed"


def test_failureDoesNotSpendCount():
    """
    A wrong answer with a high nonce count does not stop the real client
    from using lower counts.
    """
    server = authenticator()
    challenge = server.challenge()
    bad = answer(challenge, password="guess", nc="000000ff")
    assert server.verify(register(bad), USERS.get).outcome is AuthOutcome.failed
    assert server.verify(register(answer(challenge)), USERS.get).ok


def test_staleAfterExpiry():
    """
    RFC 2617 3.2.1: once the nonce's lifetime is over, a right answer gets
    stale (challenge again with stale=true); until then it is accepted.
    """
    clock = Clock()
    server = authenticator(clock, lifetime=300)
    challenge = server.challenge()
    clock.advance(300)
    assert server.verify(register(answer(challenge)), USERS.get).ok
    clock.advance(1)
    result = server.verify(register(answer(challenge, nc="00000002")), USERS.get)
    assert result.outcome is AuthOutcome.stale
    assert result.username == "201"


def test_expiredWrongPasswordFails():
    """
    RFC 2617 3.2.1: stale is said only when the digest is right; a wrong
    password on an expired nonce fails.
    """
    clock = Clock()
    server = authenticator(clock)
    challenge = server.challenge()
    clock.advance(301)
    result = server.verify(register(answer(challenge, password="guess")), USERS.get)
    assert result.outcome is AuthOutcome.failed


def test_tamperedNonce():
    """
    A nonce changed by the client (here its time moved on) is not ours:
    an answer computed for the original nonce fails, and one computed
    for the changed nonce is only stale, never accepted.
    """
    clock = Clock()
    clock.advance(1000)
    server = authenticator(clock)
    challenge = server.challenge()
    nonce = parseChallenge(challenge).params["nonce"]
    stamp, rest = nonce.split(".", 1)
    forged = f"{int(stamp, 16) + 1000:x}.{rest}"
    clock.advance(1500)
    original = answer(challenge)
    swapped = original.replace(nonce, forged)
    assert server.verify(register(swapped), USERS.get).outcome is AuthOutcome.failed
    recomputed = answer(challenge, nonce=forged)
    assert server.verify(register(recomputed), USERS.get).outcome is AuthOutcome.stale


def test_otherServerNonce():
    """
    A nonce made under another secret (before a restart) with the right
    password gets stale, so the phone retries without asking its user.
    """
    clock = Clock()
    before = DigestAuthenticator(REALM, b"a" * 32, clock)
    after = DigestAuthenticator(REALM, b"b" * 32, clock, opaque=None)
    challenge = before.challenge()
    params = parseChallenge(after.challenge()).params
    result = after.verify(register(answer(challenge, opaque=params["opaque"])), USERS.get)
    assert result.outcome is AuthOutcome.stale


def test_countsForgotten():
    """
    Nonce counts are kept only while their nonce lives: memory stays
    bounded.
    """
    clock = Clock()
    server = authenticator(clock, lifetime=10)
    for _ in range(50):
        assert server.verify(register(answer(server.challenge())), USERS.get).ok
        clock.advance(1)
    assert len(server._counts) <= 11


def test_countsForgottenAfterAllExpired():
    """
    Once every count kept has expired and been dropped, the counts of
    nonces used later are dropped in their turn when they expire; a
    count still within its nonce's lifetime is kept (a replay of it is
    stale).
    """
    clock = Clock()
    server = authenticator(clock, lifetime=10)
    first = server.challenge()
    assert server.verify(register(answer(first)), USERS.get).ok
    clock.advance(20)
    second = server.challenge()
    assert server.verify(register(answer(second)), USERS.get).ok
    assert list(server._counts) == [parseChallenge(second).params["nonce"]]
    clock.advance(5)
    third = server.challenge()
    assert server.verify(register(answer(third)), USERS.get).ok
    replay = server.verify(register(answer(second)), USERS.get)
    assert replay.reason == "nonce count replayed"
    clock.advance(10)
    assert server.verify(register(answer(server.challenge())), USERS.get).ok
    assert parseChallenge(second).params["nonce"] not in server._counts
    assert parseChallenge(third).params["nonce"] in server._counts


def test_countsBounded():
    """
    At most C{maxCounted} nonce counts are kept: the count of the nonce
    first used longest ago is dropped for a new one, and from then on a
    nonce issued no later than it that comes without a count kept is
    stale (its count may be the one dropped: never replayable), while
    the counts kept go on as before and later nonces are taken.
    """
    clock = Clock()
    server = DigestAuthenticator(REALM, SECRET, clock, maxCounted=2)
    early, middle = server.challenge(), None
    clock.advance(1)
    middle = server.challenge()
    unused = server.challenge()
    clock.advance(1)
    late = server.challenge()
    for challenge in (early, middle, late):
        assert server.verify(register(answer(challenge)), USERS.get).ok
    assert len(server._counts) == 2
    for challenge, nc in ((early, "00000001"), (early, "00000002")):
        result = server.verify(register(answer(challenge, nc=nc)), USERS.get)
        assert (result.outcome, result.reason) == (AuthOutcome.stale, "nonce count forgotten")
    assert server.verify(register(answer(middle, nc="00000002")), USERS.get).ok
    assert server.verify(register(answer(late, nc="00000002")), USERS.get).ok
    replay = server.verify(register(answer(late, nc="00000002")), USERS.get)
    assert replay.reason == "nonce count replayed"
    # The middle nonce's count goes for a later one; the one issued with
    # it but never used is stale from then on, a newer one is taken.
    clock.advance(1)
    assert server.verify(register(answer(server.challenge())), USERS.get).ok
    result = server.verify(register(answer(unused)), USERS.get)
    assert result.reason == "nonce count forgotten"
    clock.advance(1)
    assert server.verify(register(answer(server.challenge())), USERS.get).ok
    assert len(server._counts) == 2


def test_mintRoundTrip():
    """
    A nonce tells the time it was made; a malformed one is not ours.
    """
    clock = Clock()
    clock.advance(12345.6)
    mint = NonceMint(SECRET, clock)
    assert mint.issuedAt(mint.make()) == 12345
    for bad in ("", ".", "x.y.z", "3039.00.é", "3039"):
        assert mint.issuedAt(bad) is None


def test_mintSerials():
    """
    The nonces made in one second are each their own, and each is told
    by its MAC alone (by a mint of the same secret that did not make
    it); one with its serial changed, or its numbers written otherwise,
    is not ours. Two mints start their serials apart (at random).
    """
    clock = Clock()
    clock.advance(12345.6)
    mint = NonceMint(SECRET, clock)
    stranger = NonceMint(SECRET, clock)
    made = [mint.make() for _ in range(50)]
    assert len(set(made)) == 50
    assert {stranger.issuedAt(n) for n in made} == {12345}
    stamp, serial, mac = made[0].split(".")
    changed = f"{stamp}.{int(serial, 16) + 1:x}.{mac}"
    assert changed != made[0] and stranger.issuedAt(changed) is None
    assert mint.issuedAt(changed) is None
    # The same numbers written otherwise are not a nonce made here.
    for other in (f"0{stamp}.{serial}.{mac}", f"{stamp}.0{serial}.{mac}",
                  f"{stamp}.+{serial}.{mac}", f"{stamp}.0x{serial}.{mac}"):
        assert stranger.issuedAt(other) is None
    # A new second starts a new block; an unfinished one is left.
    clock.advance(1)
    later = mint.make()
    assert stranger.issuedAt(later) == 12346
    assert int(later.split(".")[1], 16) % 4 == 0
    assert stranger.make().split(".")[1] not in {n.split(".")[1] for n in made}


def test_mintRemembersWhatItMade():
    """
    The nonces made last are told without their MAC, as their MAC tells
    them; once forgotten, by their MAC.
    """
    clock = Clock()
    clock.advance(12345.6)
    mint = NonceMint(SECRET, clock, remembered=2)
    stranger = NonceMint(SECRET, clock)
    first = mint.make()
    clock.advance(10)
    second = mint.make()
    macs = []
    made = mint._macs
    mint._macs = lambda issued, block: macs.append(block) or made(issued, block)
    assert (mint.issuedAt(first), mint.issuedAt(second)) == (12345, 12355)
    assert macs == []
    third = mint.make()
    del macs[:]
    assert [mint.issuedAt(n) for n in (first, second, third)] == [12345, 12355, 12355]
    assert [stranger.issuedAt(n) for n in (first, second, third)] == [12345, 12355, 12355]
    assert len(macs) == 2
    assert mint.issuedAt(third[:-1] + ("0" if third[-1] != "0" else "1")) is None


def test_fromTheWire():
    """
    A REGISTER read from bytes, with folded, quoted credentials as a phone
    writes them, is accepted.
    """
    server = authenticator()
    value = answer(server.challenge())
    data = (
        "REGISTER sip:oso.example SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n"
        "From: <sip:201@oso.example>;tag=a\r\nTo: <sip:201@oso.example>\r\n"
        "Call-ID: c1\r\nCSeq: 2 REGISTER\r\n"
        f"Authorization: {value.replace(', ', ',' + chr(13) + chr(10) + '  ', 2)}\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()
    assert server.verify(parseMessage(data), USERS.get).ok


headerText = st.text(
    st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=80
)
paramValues = st.text(max_size=12) | st.sampled_from(["auth", "MD5", "00000001", "00000000"])
paramNames = st.sampled_from(
    ["username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce", "opaque",
     "algorithm", "x"]
)


@settings(max_examples=200, deadline=None)
@given(headerText)
def test_arbitraryHeaderNeverRaises(text):
    """
    Any Authorization value is answered with an outcome, never an
    exception.
    """
    server = authenticator()
    assert server.verify(register(text), USERS.get).outcome in AuthOutcome


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(paramNames, paramValues), st.booleans())
def test_arbitraryParamsNeverRaise(params, withNonce):
    """
    Digest credentials with any parameter values (surrogates, odd
    characters, a nonce of ours or not) get an outcome, never an
    exception, and never ok without the password.
    """
    server = authenticator()
    if withNonce:
        params["nonce"] = parseChallenge(server.challenge()).params["nonce"]
    params["realm"] = REALM
    request = register()
    request.headers.add("Authorization", Credentials("Digest", params))
    result = server.verify(request, USERS.get)
    assert result.outcome in AuthOutcome
    assert not result.ok
