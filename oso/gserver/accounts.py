"""
Who may use the G-Server: L{Accounts}, the one L{IAccounts} every part logs
in through, and L{Principal}, who a request is.

Administrators log in with a name and a password whose scrypt hash is in
the store; an extension's user logs in with the extension number and the
device's own password (its C{Credentials.passwordHash}).  A scrypt check
takes about a quarter of a second, so it runs on the reactor's thread pool.
An unknown name costs a check as well, so the time taken does not say
which names exist.  Failed logins lock the name and the source address out
for an increasing delay (L{oso.gserver.lockout}).

API tokens are random, shown once when issued; the store keeps their
SHA-256 only, which is enough for a 256-bit random secret.
"""

import hashlib
import secrets
from dataclasses import dataclass

from twisted.internet.defer import ensureDeferred
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from zope.interface import implementer

from oso.callmodel.errors import CSTAError
from oso.gserver.credentials import Administrator, APIToken
from oso.gserver.errors import LockedOut, LoginRefused
from oso.gserver.lockout import Lockout
from oso.interfaces.gserver import IAccounts, IPrincipal
from oso.secrets import (
    SCRYPT_N,
    SCRYPT_P,
    SCRYPT_R,
    generatePassword,
    hashPassword,
    verifyPassword,
)

#: The name of the administrator made at the first start.
FIRST_ADMINISTRATOR = "admin"

# Checked for a name without a password hash, so that a refusal takes as
# long as a wrong password: the parameters of hashPassword, a hash nothing
# matches but by chance.
_DECOY_HASH = (
    f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}$"
    "b3NvLWRlY295LXNhbHQtMQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
)


@implementer(IPrincipal)
@dataclass(frozen=True, slots=True)
class Principal:
    """
    An administrator or the user of one extension.
    """

    name: str
    administrator: bool

    @classmethod
    def forAdministrator(cls, name):
        return cls(name, True)

    @classmethod
    def forExtension(cls, number):
        return cls(number, False)

    @property
    def extension(self):
        return None if self.administrator else self.name

    def mayControl(self, device):
        return self.administrator or device == self.name


def tokenHash(token):
    """
    @return: the hash the store keeps of an API token, SHA-256 in hex.
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@implementer(IAccounts)
class Accounts:
    """
    Logins and API tokens over the store and the call model's devices.

    @ivar lockout: the L{Lockout}.
    """

    log = Logger()

    def __init__(self, store, callModel, reactor, clock=None, lockout=None):
        """
        @param store: the L{oso.interfaces.IStore} holding administrators
            and tokens.
        @param callModel: the call model whose devices' passwords log
            extension users in.
        @param reactor: the reactor whose thread pool checks passwords.
        @param clock: the L{IReactorTime} of the lockout and of tokens'
            issue time; the reactor by default.
        @param lockout: a L{Lockout}; one on C{clock} by default.
        """
        self._store = store
        self._callModel = callModel
        self._reactor = reactor
        self._clock = clock if clock is not None else reactor
        self.lockout = lockout if lockout is not None else Lockout(self._clock)

    def _inThread(self, function, *args):
        return deferToThreadPool(self._reactor, self._reactor.getThreadPool(), function, *args)

    def _devicePasswordHash(self, number):
        try:
            return self._callModel.device(number).credentials.passwordHash
        except CSTAError:
            return None

    def login(self, user, password, source):
        return ensureDeferred(self._login(user, password, source))

    def tokenPrincipal(self, token):
        return ensureDeferred(self._tokenPrincipal(token))

    def issueToken(self, principal, label):
        return ensureDeferred(self._issueToken(principal, label))

    async def _login(self, user, password, source):
        wait = self.lockout.retryAfter(user, source)
        if wait > 0:
            self.log.warn(
                "G-Server login by {user!r} from {source} refused: locked out "
                "for {wait:.1f} s more",
                user=user, source=source, wait=wait,
            )
            raise LockedOut(wait)
        administrator = await self._store.getAdministrator(user)
        if administrator is not None:
            stored, principal = administrator.passwordHash, Principal.forAdministrator(user)
        else:
            stored, principal = self._devicePasswordHash(user), Principal.forExtension(user)
        matches = await self._inThread(verifyPassword, password, stored or _DECOY_HASH)
        if stored is not None and matches:
            self.lockout.succeeded(user, source)
            self.log.info(
                "G-Server login: {user!r} from {source} ({role})",
                user=user, source=source,
                role="administrator" if principal.administrator else "extension",
            )
            return principal
        delay = self.lockout.failed(user, source)
        self.log.warn(
            "G-Server login by {user!r} from {source} refused; next try in {delay:.0f} s",
            user=user, source=source, delay=delay,
        )
        raise LoginRefused("wrong name or password")

    async def _tokenPrincipal(self, token):
        if not isinstance(token, str) or not token:
            return None
        stored = await self._store.getToken(tokenHash(token))
        if stored is None:
            return None
        if stored.administrator:
            if await self._store.getAdministrator(stored.name) is None:
                return None
            return Principal.forAdministrator(stored.name)
        if self._devicePasswordHash(stored.name) is None:
            # The extension is gone, or no longer has a password.
            return None
        return Principal.forExtension(stored.name)

    async def _issueToken(self, principal, label):
        token = secrets.token_urlsafe(32)
        await self._store.saveToken(
            APIToken(
                tokenHash=tokenHash(token),
                name=principal.name,
                administrator=principal.administrator,
                label=label,
                created=self._clock.seconds(),
            )
        )
        self.log.info(
            "G-Server API token {label!r} issued for {name!r}",
            label=label, name=principal.name,
        )
        return token

    def tokens(self):
        """
        @return: a L{Deferred} firing with every issued
            L{oso.gserver.credentials.APIToken} (hashes, never tokens).
        """
        return self._store.loadTokens()

    def revokeToken(self, tokenHash):
        """
        Revoke an API token by the hash L{tokens} shows.

        @return: a L{Deferred} firing with whether there was such a token.
        """
        return self._store.deleteToken(tokenHash)

    def setAdministrator(self, name, password):
        """
        Make an administrator, or give one a new password; the store keeps
        only the password's hash.

        @return: a L{Deferred} that fires once it is stored.
        """
        return ensureDeferred(self._setAdministrator(name, password))

    async def _setAdministrator(self, name, password):
        stored = await self._inThread(hashPassword, password)
        await self._store.saveAdministrator(Administrator(name, stored))

    def createFirstAdministrator(self):
        """
        Make the administrator L{FIRST_ADMINISTRATOR} with a generated
        password when the store has no administrator, and log the password:
        the only time it is shown (the store keeps its hash).

        @return: a L{Deferred} firing with the password, or L{None} when
            there was an administrator already.
        """
        return ensureDeferred(self._createFirstAdministrator())

    async def _createFirstAdministrator(self):
        if await self._store.loadAdministrators():
            return None
        password = generatePassword()
        await self._setAdministrator(FIRST_ADMINISTRATOR, password)
        self.log.info(
            "first start: G-Server administrator {name} password {password} "
            "(shown only now; the store keeps a hash)",
            name=FIRST_ADMINISTRATOR,
            password=password,
        )
        return password

    def administrators(self):
        """
        @return: a L{Deferred} firing with every administrator's name.
        """
        return self._store.loadAdministrators().addCallback(
            lambda found: [administrator.name for administrator in found]
        )
