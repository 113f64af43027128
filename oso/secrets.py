"""
Passwords and the credentials kept for them.

oso never stores a password.  It keeps a salted slow hash (scrypt) for
interfaces that receive the password itself, and the SIP digest C{HA1} per
realm, which RFC 2617 section 3.2.2.2 lets a registrar keep instead of the
password.
"""

import base64
import binascii
import hashlib
import hmac
import secrets

from oso.callmodel.devices import Credentials

# Letters and digits a person can read back without confusing them:
# no 0/O/o, 1/l/I, 2/Z/z, 5/S/s, 8/B.
PASSWORD_ALPHABET = "34679abcdefghijkmnpqrtuvwxyACDEFGHJKLMNPQRTUVWXY"

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32
# Room for the parameters above; a stored hash asking for more is refused.
SCRYPT_MAXMEM = 64 * 2**20


def generatePassword(length=12):
    """
    Make a random password from L{PASSWORD_ALPHABET}.

    @param length: how many characters.
    @type length: L{int}
    @return: the password.
    @rtype: L{str}
    """
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))


def _scrypt(password, salt, n, r, p, length):
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=SCRYPT_MAXMEM,
        dklen=length,
    )


def _b64(data):
    return base64.b64encode(data).decode("ascii")


def hashPassword(password):
    """
    Hash a password with scrypt and a fresh random salt.

    @param password: the password.
    @type password: L{str}
    @return: C{"scrypt$N$r$p$<salt base64>$<hash base64>"}, which carries
        everything L{verifyPassword} needs.
    @rtype: L{str}
    """
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, HASH_BYTES)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verifyPassword(password, stored):
    """
    Check a password against what L{hashPassword} made of it.

    @param password: the password offered.
    @type password: L{str}
    @param stored: a stored hash.
    @type stored: L{str}
    @return: whether they match; L{False} when C{stored} is not a hash this
        module understands (never an exception).
    @rtype: L{bool}
    """
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        salt = base64.b64decode(salt, validate=True)
        expected = base64.b64decode(expected, validate=True)
        if not expected:
            return False
        key = _scrypt(password, salt, int(n), int(r), int(p), len(expected))
    except (AttributeError, ValueError, TypeError, OverflowError, binascii.Error):
        return False
    return hmac.compare_digest(key, expected)


def digestHA1(username, realm, password):
    """
    Compute the SIP/HTTP digest C{HA1} (RFC 2617 section 3.2.2.2).

    @return: C{MD5(username ":" realm ":" password)} as lower-case hex.
    @rtype: L{str}
    """
    text = f"{username}:{realm}:{password}".encode("utf-8")
    return hashlib.md5(text, usedforsecurity=False).hexdigest()


def credentialsFor(number, realm, password):
    """
    Make the credentials oso keeps for a device's password.

    @param number: the device's number, which is its digest user name.
    @param realm: the digest realm.
    @param password: the password.
    @return: the password's hash and its C{HA1} for C{realm}.
    @rtype: L{oso.callmodel.devices.Credentials}
    """
    return Credentials(
        passwordHash=hashPassword(password),
        digestHA1=((realm, digestHA1(number, realm, password)),),
    )
