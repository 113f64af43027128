"""
What the store keeps for logins to the G-Server: administrators (a name and
a salted slow password hash) and API tokens (a hash of the token, the
principal it stands for, and a label).  No password or token is kept.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Administrator:
    """
    An administrator of the G-Server.

    @ivar name: the login name.
    @ivar passwordHash: the scrypt hash of the password (L{oso.secrets}).
    """

    name: str
    passwordHash: str


@dataclass(frozen=True, slots=True)
class APIToken:
    """
    An API token, as kept: only its hash.

    @ivar tokenHash: the SHA-256 of the token, lower-case hex; also what
        names the token to revoke it.
    @ivar name: the login name of the principal it stands for: an
        administrator's name or an extension number.
    @ivar administrator: whether that principal is an administrator.
    @ivar label: what the token is for, shown in the management pages.
    @ivar created: when it was issued, seconds since the epoch.
    """

    tokenHash: str
    name: str
    administrator: bool
    label: str
    created: float
