"""
The CDR download's settings and its own HTTPS listener, for when no
G-Server serves it: the cdr component's keys C{https}, C{https-user},
C{https-password} or C{https-password-hash}, and C{batch-size}.

The listener is off by default: a billing system needs a password for it,
which the configuration has to give.  Its certificate is the server's
shared one (L{oso.certificates}).
"""

from dataclasses import dataclass

from twisted.internet.defer import Deferred, succeed
from twisted.internet.endpoints import serverFromString
from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.server import Site

from oso.certificates import ensureCertificate
from oso.config import ConfigError
from oso.secrets import hashPassword

#: The cdr component's keys this module reads.
KEYS = ("https", "https-user", "https-password", "https-password-hash", "batch-size")

#: Where the listener mounts the download.
PATH = b"cdr"


@dataclass(frozen=True)
class DownloadSettings:
    """
    @ivar listen: the C{ssl:} endpoint description of the own listener, or
        L{None} for none.
    @ivar user: the user name billing authenticates with.
    @ivar passwordHash: its scrypt hash, or L{None} when no password is
        configured (then nobody can fetch).
    @ivar batchSize: records in a batch when the request gives no limit.
    """

    listen: str | None = None
    user: str = "billing"
    passwordHash: str | None = None
    batchSize: int = 100_000

    def accounts(self):
        """
        @return: C{{user: passwordHash}} for L{oso.cdr.download.PasswordCheck}.
        """
        return {} if self.passwordHash is None else {self.user: self.passwordHash}


def parseDownloadSettings(section, where):
    """
    Check the download's keys of the cdr component's table.

    @raise ConfigError: naming the key at fault.
    @rtype: L{DownloadSettings}
    """
    listen = section.get("https")
    if listen is not None and (not isinstance(listen, str) or not listen.startswith("ssl:")):
        raise ConfigError(
            f"{where}.https", f"expected an ssl: endpoint such as 'ssl:8803', not {listen!r}"
        )
    user = section.get("https-user", DownloadSettings.user)
    if not isinstance(user, str) or not user or ":" in user:
        raise ConfigError(f"{where}.https-user", "expected a user name without ':'")
    plain = section.get("https-password")
    stored = section.get("https-password-hash")
    if plain is not None and stored is not None:
        raise ConfigError(
            f"{where}.https-password", "give https-password or https-password-hash, not both"
        )
    if plain is not None:
        if not isinstance(plain, str) or not plain:
            raise ConfigError(f"{where}.https-password", "expected a non-empty string")
        stored = hashPassword(plain)
    elif stored is not None and (not isinstance(stored, str) or not stored.startswith("scrypt$")):
        raise ConfigError(
            f"{where}.https-password-hash",
            "expected a hash made by oso.secrets.hashPassword ('scrypt$...')",
        )
    if listen is not None and stored is None:
        raise ConfigError(
            f"{where}.https", "the CDR download needs https-password or https-password-hash"
        )
    batchSize = section.get("batch-size", DownloadSettings.batchSize)
    if type(batchSize) is not int or batchSize < 1:
        raise ConfigError(
            f"{where}.batch-size", f"expected a positive number, not {batchSize!r}"
        )
    return DownloadSettings(listen, user, stored, batchSize)


def withCertificate(description, dataDirectory):
    """
    An C{ssl:} endpoint description with the server's certificate files
    added, unless it names a key of its own.
    """
    if "privateKey=" in description:
        return description
    return description + ":" + ensureCertificate(dataDirectory).endpointArguments()


class DownloadListener:
    """
    The download's own HTTPS listener: the resource mounted at C{/cdr}.

    @ivar port: the L{IListeningPort} while listening.
    """

    log = Logger()

    def __init__(self, reactor, description, dataDirectory, download):
        """
        @param description: the C{ssl:} endpoint description.
        @param dataDirectory: the data directory (its certificate).
        @param download: the L{oso.cdr.download.CDRDownload}.
        """
        self._reactor = reactor
        self._description = description
        self._dataDirectory = dataDirectory
        self._download = download
        self.port = None
        self._started = None

    def start(self):
        """
        Listen; a listener that cannot (the port is taken) is logged as an
        error, and records stay in the journal for the next try.

        @return: a L{Deferred} that fires when listening or given up, never
            failing; L{port} then tells which.
        """
        root = Resource()
        root.putChild(PATH, self._download.resource())
        site = Site(root)
        site.noisy = False
        endpoint = serverFromString(
            self._reactor, withCertificate(self._description, self._dataDirectory)
        )

        def listening(port):
            self.port = port
            address = port.getHost()
            self.log.info(
                "CDR download on https://{host}:{port}/cdr/",
                host=address.host,
                port=address.port,
            )

        def failed(failure):
            self.log.failure(
                "CDR download cannot listen on {description}",
                failure,
                description=self._description,
            )

        self._started = endpoint.listen(site).addCallbacks(listening, failed)
        return self._started

    def whenListening(self):
        """
        @return: a L{Deferred} firing with the L{IListeningPort} once
            L{start} listened, or with L{None} when it could not.
        """
        done = Deferred()

        def tell(result):
            done.callback(self.port)
            return result

        self._started.addBoth(tell)
        return done

    def stop(self):
        """
        @return: a L{Deferred} that fires when no longer listening.
        """
        port, self.port = self.port, None
        if port is None:
            return succeed(None)
        return port.stopListening()
