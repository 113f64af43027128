"""
Tests for L{oso.sip.identity}: RFC 3325 asserted and preferred identity
and RFC 3323 privacy, read from requests and written by trust.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oso.callmodel.devices import Device
from oso.sip.identity import (
    CallerIdentity,
    applyIdentity,
    hidesIdentity,
    incomingIdentity,
    isAnonymous,
    numberOf,
    phoneIdentity,
    preferredIdentity,
    privacyOf,
)
from oso.sip.message import parseMessage
from oso.sip.uri import SIPParseError, parseURI


def invite(*fields, sender='"Bob" <sip:200@pbx.example>;tag=a1'):
    head = (
        "INVITE sip:201@pbx.example SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
        f"From: {sender}\r\n"
        "To: <sip:201@pbx.example>\r\n"
        "Call-ID: c1\r\nCSeq: 1 INVITE\r\n"
        + "".join(f"{f}\r\n" for f in fields)
        + "Content-Length: 0\r\n\r\n"
    )
    return parseMessage(head.encode())


def test_fromWithoutAssertion():
    """
    Without P-Asserted-Identity the From names the caller, presented.
    """
    assert incomingIdentity(invite(), trusted=True) == CallerIdentity("200", "Bob", False)


def test_assertedFromTrusted():
    """
    RFC 3325 5: a trusted peer's P-Asserted-Identity names the caller; a
    tel URI gives the number when the SIP URI has none of its own.
    """
    request = invite('P-Asserted-Identity: "Alice" <sip:+4930123@carrier>, <tel:+4930999>')
    assert incomingIdentity(request, trusted=True) == CallerIdentity("+4930123", "Alice", False)
    request = invite("P-Asserted-Identity: <tel:+4930999>")
    assert incomingIdentity(request, trusted=True) == CallerIdentity("+4930999", "Bob", False)


def test_assertedFromUntrustedIgnored():
    """
    RFC 3325 5: an untrusted peer's P-Asserted-Identity is not believed.
    """
    request = invite('P-Asserted-Identity: "Boss" <sip:999@pbx.example>')
    assert incomingIdentity(request, trusted=False) == CallerIdentity("200", "Bob", False)


@pytest.mark.parametrize(
    "privacy, restricted",
    [("id", True), ("header", True), ("user", True), ("id;critical", True),
     ("none", False), ("session", False), ("id;none", False), ("ID", True)],
)
def test_privacy(privacy, restricted):
    """
    RFC 3323 4.2 / RFC 3325 7: id, header and user withhold the caller;
    none says it may be shown; session alone says nothing about identity.
    """
    request = invite(f"Privacy: {privacy}")
    assert hidesIdentity(privacyOf(request)) is restricted
    assert incomingIdentity(request, trusted=True).restricted is restricted


def test_privacyMalformed():
    """
    A Privacy value that is not a token is the codec's error.
    """
    with pytest.raises(SIPParseError):
        privacyOf(invite("Privacy: id;<x>"))


def test_anonymousFrom():
    """
    RFC 3323 4.1.1.3: an anonymous From names nobody and is restricted; a
    trusted peer's assertion still gives the number.
    """
    anonymous = '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=x'
    assert incomingIdentity(invite(sender=anonymous), trusted=False) == CallerIdentity(None, None, True)
    request = invite("P-Asserted-Identity: <sip:+4930123@carrier>", "Privacy: id", sender=anonymous)
    assert incomingIdentity(request, trusted=True) == CallerIdentity("+4930123", None, True)
    assert isAnonymous(parseURI("sip:Anonymous@192.0.2.1"))


def test_numberOf():
    """
    The number of a SIP URI is its user part without user parameters; a
    tel URI's is its number.
    """
    assert numberOf(parseURI("sip:+4989123;phone-context=x@h;user=phone")) == "+4989123"
    assert numberOf(parseURI("tel:+4989123")) == "+4989123"
    assert numberOf(parseURI("sip:h")) is None
    assert numberOf(parseURI("mailto:a@b")) is None


def test_preferredOwned():
    """
    RFC 3325 9.2: a phone's preferred identity is taken when the
    extension may use it (its number or one of its public numbers).
    """
    request = invite("P-Preferred-Identity: <sip:999@pbx.example>, <sip:+498955500200@pbx.example>")
    assert str(preferredIdentity(request, {"200", "+498955500200"}.__contains__).uri) == (
        "sip:+498955500200@pbx.example"
    )
    assert preferredIdentity(invite(), {"200"}.__contains__) is None


def test_preferredNotOwned():
    """
    A preferred identity the extension does not own is refused.
    """
    with pytest.raises(ValueError):
        preferredIdentity(invite("P-Preferred-Identity: <sip:999@pbx.example>"), "200".__eq__)


def test_applyTrusted():
    """
    Toward a trusted peer the identity is asserted; PPI never goes on.
    """
    request = invite("P-Preferred-Identity: <sip:200@pbx.example>",
                     "P-Asserted-Identity: <sip:666@elsewhere>")
    applyIdentity(request, CallerIdentity("200", "Bob"), trusted=True, domain="pbx.example")
    headers = request.headers
    assert headers.getAll("p-asserted-identity") == ['"Bob" <sip:200@pbx.example>']
    assert headers.getAll("p-preferred-identity") == []
    assert headers.get("privacy") is None
    assert str(request.fromAddress) == '"Bob" <sip:200@pbx.example>;tag=a1'


def test_applyTrustedRestricted():
    """
    RFC 3325 7: toward a trusted peer a restricted identity is asserted
    with Privacy: id, and the From is anonymous.
    """
    request = invite()
    applyIdentity(request, CallerIdentity("200", "Bob", True), trusted=True, domain="pbx.example")
    assert request.headers.getAll("p-asserted-identity") == ['"Bob" <sip:200@pbx.example>']
    assert request.headers.get("privacy") == "id"
    assert str(request.fromAddress) == '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=a1'


def test_applyUntrusted():
    """
    Toward an untrusted peer no identity is asserted (an assertion the
    request held is stripped); a restricted identity leaves only the
    anonymous From and Privacy: id.
    """
    request = invite("P-Asserted-Identity: <sip:200@pbx.example>", "Privacy: none")
    applyIdentity(request, CallerIdentity("200", "Bob"), trusted=False, domain="pbx.example")
    assert request.headers.getAll("p-asserted-identity") == []
    assert request.headers.get("privacy") is None
    assert str(request.fromAddress) == '"Bob" <sip:200@pbx.example>;tag=a1'
    request = invite("P-Asserted-Identity: <sip:200@pbx.example>")
    applyIdentity(request, CallerIdentity("200", "Bob", True), trusted=False, domain="pbx.example")
    assert request.headers.getAll("p-asserted-identity") == []
    assert request.headers.get("privacy") == "id"
    assert str(request.fromAddress) == '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=a1'
    assert "200" not in request.serialise().decode().split("\r\n\r\n")[0].split("To:")[0]


def test_applyUnknown():
    """
    An identity without a number is an anonymous From, no privacy asked.
    """
    request = invite()
    applyIdentity(request, CallerIdentity(None), trusted=True, domain="pbx.example")
    assert request.headers.getAll("p-asserted-identity") == []
    assert request.headers.get("privacy") is None
    assert isAnonymous(request.fromAddress.uri)


@given(st.booleans(), st.booleans(), st.from_regex(r"\+?[0-9]{1,15}", fullmatch=True),
       st.none() | st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=20))
def test_writeThenRead(trusted, restricted, number, display):
    """
    What L{applyIdentity} writes toward a peer, that peer reads back with
    L{incomingIdentity}: the whole identity when it trusts us, the
    presented one (or nobody, restricted) when it does not.
    """
    identity = CallerIdentity(number, display or None, restricted)
    request = applyIdentity(invite(), identity, trusted, "pbx.example")
    read = incomingIdentity(parseMessage(request.serialise()), trusted)
    if trusted:
        assert read == identity
    elif restricted:
        assert read == CallerIdentity(None, None, True)
    else:
        assert read == identity


def test_phoneIdentity():
    """
    RFC 3325 9.2 for an authenticated phone: its extension is the caller;
    a preferred identity it owns (its public number) is chosen, one it
    does not own is ignored; what it asserts counts for nothing; Privacy
    restricts.
    """
    device = Device("200", publicNumber="498955500200", presentableNumbers=("498955500000",))
    request = invite("P-Asserted-Identity: <sip:999@pbx.example>")
    assert phoneIdentity(request, "200", device.mayPresent) == CallerIdentity("200", "Bob", False)
    request = invite('P-Preferred-Identity: "Sales" <sip:+498955500200@pbx.example>', "Privacy: id")
    assert phoneIdentity(request, "200", device.mayPresent) == CallerIdentity(
        "+498955500200", "Sales", True
    )
    request = invite("P-Preferred-Identity: <tel:+498955500000>")
    assert phoneIdentity(request, "200", device.mayPresent) == CallerIdentity(
        "+498955500000", "Bob", False
    )
    request = invite("P-Preferred-Identity: <sip:498955500000@pbx.example>")
    assert phoneIdentity(request, "200", device.mayPresent).number == "498955500000"
    request = invite("P-Preferred-Identity: <sip:200@pbx.example>")
    assert phoneIdentity(request, "200", device.mayPresent).number == "200"
    request = invite("P-Preferred-Identity: <sip:498955500999@pbx.example>")
    assert phoneIdentity(request, "200", device.mayPresent).number == "200"
    request = invite("P-Preferred-Identity: <sip:999@pbx.example>")
    assert phoneIdentity(request, "200") == CallerIdentity("200", "Bob", False)


def test_phoneIdentityMalformed():
    """
    A malformed preferred identity is the codec's error (the port's 400).
    """
    with pytest.raises(SIPParseError):
        phoneIdentity(invite("P-Preferred-Identity: <sip:200@pbx.example"), "200")


@given(st.text(st.characters(min_codepoint=32, max_codepoint=0x7e), max_size=40))
def test_privacyArbitrary(text):
    """
    Any Privacy value is read or refused with the codec's error.
    """
    try:
        privacy = privacyOf(invite(f"Privacy: {text}"))
    except SIPParseError:
        return
    assert all(value == value.lower() for value in privacy)
