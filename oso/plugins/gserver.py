"""
The C{gserver} component: the G-Server, oso's HTTPS server with its parts
(L{oso.interfaces.gserver.IGServerPart} plugins), on C{ssl:8802} by
default.  C{doc/gserver.md} describes it.

    [components.gserver]
    listen = ["ssl:8802"]        # HTTPS endpoints; ssl: without key files gets the certificate
    certificate = "site.crt"     # a certificate (PEM) and its key replacing the
    private-key = "site.key"     #   self-signed one of the data directory
    redirect = "tcp:8801"        # plain HTTP that only redirects to HTTPS; off when absent
    session-timeout = 1800       # seconds a browser session may stay idle
    event-history = 10000        # events the event stream keeps for reconnecting clients
    gadget-queue = 1000          # events a gadget API session queues between polls

At the first start without any administrator in the store it makes the
administrator C{admin} with a generated password, which it logs this once.
"""

import os

from twisted.application.service import Service
from twisted.internet.defer import Deferred, DeferredList, ensureDeferred
from twisted.internet.endpoints import serverFromString
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.plugin import IPlugin
from twisted.python.filepath import FilePath
from twisted.web.server import Site
from zope.interface import implementer

from oso.certificates import CertificateFiles, ensureCertificate
from oso.config import ConfigError
from oso.gserver.accounts import Accounts
from oso.gserver.redirect import RedirectToHTTPS
from oso.gserver.settings import GServerSettings
from oso.gserver.site import GServerSite, accessLogLine
from oso.interfaces import IComponent
from oso.plugins.csta import _isListenDescription, usesSharedCertificate

_KEYS = frozenset(
    {"listen", "certificate", "private-key", "redirect", "session-timeout",
     "event-history", "gadget-queue"}
)


def _count(section, key, where, default):
    value = section.get(key, default)
    if type(value) is not int or value < 1:
        raise ConfigError(f"{where}.{key}", f"expected a whole number >= 1, not {value!r}")
    return value


def _certificateFiles(section, where):
    """
    @return: the configured L{CertificateFiles}, or L{None}.
    @raise ConfigError: when only one of the two is given, or they do not
        hold a certificate and its key.
    """
    certificate, key = section.get("certificate"), section.get("private-key")
    if certificate is None and key is None:
        return None
    if certificate is None:
        raise ConfigError(f"{where}.certificate", "needed with private-key")
    if key is None:
        raise ConfigError(f"{where}.private-key", "needed with certificate")
    for name, value in (("certificate", certificate), ("private-key", key)):
        if not isinstance(value, str) or not os.path.isfile(value):
            raise ConfigError(f"{where}.{name}", f"expected the path of a PEM file, not {value!r}")
    files = CertificateFiles(FilePath(os.path.abspath(certificate)), FilePath(os.path.abspath(key)))
    try:
        files.contextFactory()
    except Exception as e:
        raise ConfigError(
            f"{where}.certificate", f"{certificate} and {key} are not a certificate and its key ({e})"
        ) from e
    return files


@implementer(IPlugin, IComponent)
class GServerComponent:
    """
    The C{gserver} component.
    """

    name = "gserver"
    kind = "protocol"
    description = "The G-Server: HTTPS with the gadget API, REST, events and the WBM on 8802."

    def validateConfig(self, section, where):
        for key in section:
            if key not in _KEYS:
                raise ConfigError(f"{where}.{key}", "unknown key")
        listen = section.get("listen", list(GServerSettings.listen))
        if not isinstance(listen, list) or not listen:
            raise ConfigError(f"{where}.listen", "expected a list of ssl: endpoint descriptions")
        for i, description in enumerate(listen):
            if (
                not isinstance(description, str)
                or not description.lower().startswith("ssl:")
                or not _isListenDescription(description)
            ):
                raise ConfigError(
                    f"{where}.listen[{i}]", f"expected an ssl: endpoint such as 'ssl:8802', not {description!r}"
                )
        files = _certificateFiles(section, where)
        redirect = section.get("redirect")
        if redirect is not None and (
            not isinstance(redirect, str)
            or not redirect.lower().startswith("tcp")
            or not _isListenDescription(redirect)
        ):
            raise ConfigError(
                f"{where}.redirect", f"expected a tcp: endpoint such as 'tcp:8801', not {redirect!r}"
            )
        timeout = section.get("session-timeout", GServerSettings.sessionTimeout)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ConfigError(f"{where}.session-timeout", "expected seconds (a number > 0)")
        return GServerSettings(
            listen=tuple(listen),
            certificate=None if files is None else files.certificate.path,
            privateKey=None if files is None else files.key.path,
            redirect=redirect,
            sessionTimeout=float(timeout),
            eventHistory=_count(section, "event-history", where, GServerSettings.eventHistory),
            gadgetQueue=_count(section, "gadget-queue", where, GServerSettings.gadgetQueue),
        )

    def makeService(self, settings, context):
        accounts = Accounts(context.store, context.callModel, context.reactor)
        site = GServerSite(context, accounts, context.reactor, settings)
        return GServerService(context.reactor, site)


def listenDescriptions(settings, dataDirectory):
    """
    The HTTPS endpoint descriptions to listen on: an C{ssl:} description
    without key files gets the configured certificate, or else the data
    directory's (made when absent: file work and a key pair, so this runs
    on a thread).

    @return: a L{list} of endpoint descriptions.
    """
    files = None
    if settings.certificate is not None:
        files = CertificateFiles(FilePath(settings.certificate), FilePath(settings.privateKey))
    descriptions = []
    for description in settings.listen:
        if usesSharedCertificate(description):
            if files is None:
                files = ensureCertificate(dataDirectory)
            description += ":" + files.endpointArguments()
        descriptions.append(description)
    return descriptions


class GServerService(Service):
    """
    The running G-Server: its HTTPS listeners and the redirect listener,
    started after the first administrator is made (when there is none) and
    the certificate is there.

    @ivar site: the L{GServerSite}.
    @ivar ports: the HTTPS L{IListeningPort}s, once listening.
    @ivar redirectPort: the plain-HTTP redirect's port, or L{None}.
    """

    log = Logger()

    def __init__(self, reactor, site):
        self.site = site
        self.ports = []
        self.redirectPort = None
        self._reactor = reactor
        self._started = None

    def startService(self):
        super().startService()
        self._started = ensureDeferred(self._start())
        self._started.addErrback(
            lambda failure: self.log.failure("G-Server failed to start", failure)
        )

    def whenStarted(self):
        """
        @return: a L{Deferred} that fires once every listener listens (or
            was logged as unable to).
        """
        result = Deferred()
        self._started.addBoth(lambda passed: result.callback(None) or passed)
        return result

    async def _start(self):
        try:
            await self.site.accounts.createFirstAdministrator()
        except Exception:
            self.log.failure("G-Server: making the first administrator failed")
        settings = self.site.settings
        try:
            descriptions = await deferToThreadPool(
                self._reactor, self._reactor.getThreadPool(),
                listenDescriptions, settings, self.site.context.dataDirectory,
            )
        except Exception:
            self.log.failure("G-Server: no certificate, so no HTTPS listener")
            return
        web = self.site.webSite()
        for description in descriptions:
            port = await self._listen(description, web, "https")
            if port is not None:
                self.ports.append(port)
        if settings.redirect is not None:
            if not self.ports:
                self.log.error("G-Server: no HTTPS listener, so no redirect to one")
                return
            httpsPort = self.ports[0].getHost().port
            redirect = Site(RedirectToHTTPS(lambda: httpsPort), logFormatter=accessLogLine)
            self.redirectPort = await self._listen(settings.redirect, redirect, "http")

    async def _listen(self, description, factory, scheme):
        shown = description.split(":privateKey=")[0]
        try:
            port = await serverFromString(self._reactor, description).listen(factory)
        except Exception:
            self.log.failure("G-Server cannot listen on {description}", description=shown)
            return None
        address = port.getHost()
        self.log.info(
            "G-Server on {scheme}://{host}:{port}/",
            scheme=scheme, host=address.host, port=address.port,
        )
        return port

    async def _stop(self):
        if self._started is not None:
            await self.whenStarted()
        ports = self.ports + ([self.redirectPort] if self.redirectPort else [])
        self.ports, self.redirectPort = [], None
        await DeferredList([port.stopListening() for port in ports])
        self.site.close()

    def stopService(self):
        super().stopService()
        return ensureDeferred(self._stop())


gserver = GServerComponent()
