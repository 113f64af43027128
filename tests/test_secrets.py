"""
Tests for L{oso.secrets}: generated passwords, password hashes and digest
credentials.
"""

import base64

from hypothesis import given, settings
from hypothesis import strategies as st

from oso.callmodel.devices import Credentials
from oso.secrets import (
    PASSWORD_ALPHABET,
    credentialsFor,
    digestHA1,
    generatePassword,
    hashPassword,
    verifyPassword,
)


def test_generatedPasswordLength():
    """
    A generated password has twelve characters unless asked for another
    length.
    """
    assert len(generatePassword()) == 12
    assert len(generatePassword(20)) == 20


def test_generatedPasswordAlphabet():
    """
    Generated passwords use letters and digits only, none of them one a
    reader could mistake for another (0/O, 1/l/I, ...).
    """
    assert set(PASSWORD_ALPHABET) <= set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    )
    assert not set(PASSWORD_ALPHABET) & set("0Oo1lI")
    text = "".join(generatePassword(50) for _ in range(20))
    assert set(text) <= set(PASSWORD_ALPHABET)


def test_generatedPasswordsDiffer():
    """
    Each generated password is drawn afresh from a cryptographic source.
    """
    assert len({generatePassword() for _ in range(10)}) == 10


def test_hashDescribesItself():
    """
    A password hash names its scheme and scrypt parameters and carries its
    salt and key in base64, so it can be verified without outside context.
    """
    scheme, n, r, p, salt, key = hashPassword("secret").split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(base64.b64decode(salt)) == 16
    assert len(base64.b64decode(key)) == 32


def test_hashIsSalted():
    """
    Two hashes of one password differ (fresh salt), and both verify.
    """
    first, second = hashPassword("secret"), hashPassword("secret")
    assert first != second
    assert verifyPassword("secret", first)
    assert verifyPassword("secret", second)


def test_verifyRightAndWrongPassword():
    """
    Only the hashed password verifies, including non-ASCII passwords.
    """
    stored = hashPassword("Grüße 123")
    assert verifyPassword("Grüße 123", stored)
    assert not verifyPassword("Grüsse 123", stored)
    assert not verifyPassword("", stored)


def test_verifyMalformed():
    """
    A stored value that is not a hash this module understands verifies
    nothing and raises nothing: wrong scheme, missing parts, bad base64,
    impossible or memory-hungry scrypt parameters, an empty key, no string.
    """
    stored = hashPassword("secret")
    scheme, n, r, p, salt, key = stored.split("$")
    for bad in [
        None,
        42,
        "",
        "secret",
        stored.replace("scrypt", "bcrypt"),
        "$".join([scheme, n, r, p, salt]),
        "$".join([scheme, n, r, p, salt, key, "x"]),
        "$".join([scheme, n, r, p, "!!!", key]),
        "$".join([scheme, n, r, p, salt, "not base64"]),
        "$".join([scheme, n, r, p, salt, ""]),
        "$".join([scheme, "1000", r, p, salt, key]),
        "$".join([scheme, "x", r, p, salt, key]),
        "$".join([scheme, str(2**40), r, p, salt, key]),
        "$".join([scheme, n, "0", p, salt, key]),
        "$".join([scheme, n, r, "-1", salt, key]),
    ]:
        assert verifyPassword("secret", bad) is False, bad


@settings(max_examples=200, deadline=None)
@given(st.text(), st.text())
def test_verifyNeverRaises(password, stored):
    """
    Whatever the stored text, verifying gives a boolean and never raises.
    """
    assert verifyPassword(password, stored) in (True, False)


def test_digestHA1():
    """
    RFC 2617 section 3.5: HA1 for Mufasa, realm testrealm@host.com and
    password "Circle Of Life" is MD5 of the three joined by colons.
    """
    assert (
        digestHA1("Mufasa", "testrealm@host.com", "Circle Of Life")
        == "939e7578ed9e3c518a452acee763bce9"
    )


def test_credentialsFor():
    """
    A device's credentials hold a verifiable password hash and the digest
    HA1 of its number in the given realm, and nothing for other realms.
    """
    credentials = credentialsFor("100", "oso", "pa55word")
    assert isinstance(credentials, Credentials)
    assert verifyPassword("pa55word", credentials.passwordHash)
    assert credentials.ha1For("oso") == digestHA1("100", "oso", "pa55word")
    assert credentials.ha1For("other") is None
