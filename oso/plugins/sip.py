"""
The C{sip} component: SIP on UDP, TCP and TLS (by default 5060, 5060 and
5061), the registrar with digest authentication against the extensions'
credentials, OPTIONS, and the user agent core other components attach to
(L{oso.interfaces.sip.IUserAgent}, found with C{context.component("sip")}).
C{doc/sip.md} describes it.
"""

import os
import socket

from twisted.application.service import Service
from twisted.internet.defer import ensureDeferred
from twisted.plugin import IPlugin
from zope.interface import implementer

from oso.callmodel.errors import CSTAError
from oso.certificates import ensureCertificate
from oso.config import ConfigError
from oso.interfaces import IComponent
from oso.sip.digest import DigestAuthenticator
from oso.sip.listeners import SIPTransports, parseListen
from oso.sip.registrar import Registrar
from oso.sip.transaction import TimerConfig
from oso.sip.useragent import UserAgent

_DEFAULTS = {
    "listen": ["udp:5060", "tcp:5060", "tls:5061"],
    "address": "",
    "t1": 0.5,
    "t2": 4.0,
    "t4": 5.0,
    "min-expires": 60,
    "max-expires": 3600,
    "default-expires": 3600,
    "max-contacts": 10,
}


def primaryAddress(family=socket.AF_INET):
    """
    The address this host sends from toward the outside: what a wildcard
    listener advertises in Via and Contact.  A UDP socket's connect sends
    nothing.
    """
    probe = "2001:db8::1" if family == socket.AF_INET6 else "192.0.2.1"
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        try:
            s.connect((probe, 9))
            return s.getsockname()[0]
        except OSError:
            return "::1" if family == socket.AF_INET6 else "127.0.0.1"


def ha1Lookup(callModel, realm):
    """
    A C{username -> HA1 or None}: the stored digest credentials of the
    device whose number is the user name.
    """

    def lookup(username):
        try:
            credentials = callModel.device(username).credentials
        except CSTAError:
            return None
        return credentials.ha1For(realm) if credentials is not None else None

    return lookup


class SIPService(UserAgent, Service):
    """
    The component's service: the user agent core on real sockets.

    @ivar transports: the L{SIPTransports}.
    """

    def __init__(self, settings, context):
        self.settings = settings
        self.context = context
        reactor = context.reactor
        realm = context.config.realm
        tlsArguments = None
        if any(spec.transport == "TLS" for spec in settings["listen"]):
            tlsArguments = ensureCertificate(context.dataDirectory).endpointArguments()
        self.transports = SIPTransports(
            reactor, self.receive, tlsArguments, self.connectionFailed
        )
        registrar = Registrar(
            reactor,
            context.store,
            minExpires=settings["min-expires"],
            maxExpires=settings["max-expires"],
            defaultExpires=settings["default-expires"],
            maxContacts=settings["max-contacts"],
            bindingsChanged=self.bindingsChanged,
        )
        UserAgent.__init__(
            self,
            reactor,
            self.transports.send,
            self.localAddress,
            registrar,
            DigestAuthenticator(realm, os.urandom(32), reactor),
            ha1Lookup(context.callModel, realm),
            TimerConfig(t1=settings["t1"], t2=settings["t2"], t4=settings["t4"]),
        )

    def localAddress(self, transport):
        """
        Where we are reachable over C{transport}: the listener's address,
        a wildcard one replaced by the configured C{address} or the
        host's primary address.
        """
        address = self.transports.addresses.get(transport)
        if address is None:
            return None
        host, port = address
        if host in ("0.0.0.0", "::"):
            family = socket.AF_INET6 if host == "::" else socket.AF_INET
            host = self.settings["address"] or primaryAddress(family)
        return host, port

    def startService(self):
        for spec in self.settings["listen"]:
            host, port = self.transports.listen(spec)
            self.log.info("SIP on {transport} {host} port {port}",
                          transport=spec.transport, host=host, port=port)
        Service.startService(self)
        self.registrar.start().addErrback(
            lambda f: self.log.failure("stored SIP registrations not loaded", f)
        )

    def stopService(self):
        Service.stopService(self)
        written = self.registrar.stop()
        self.stop()
        return ensureDeferred(self._stopped(written))

    async def _stopped(self, written):
        """
        The listeners closed, and the refreshes the registrar had not
        written yet on disk (before the store closes).
        """
        await self.transports.stop()
        await written


def _number(settings, key, where, minimum, whole=False):
    value = settings[key]
    kinds = int if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value < minimum:
        kind = "a whole number" if whole else "seconds (a number)"
        raise ConfigError(f"{where}.{key}", f"expected {kind} >= {minimum}")
    return value


def _listeners(listen, where):
    """
    @return: the L{ListenSpec}s of the C{listen} setting.
    @raise ConfigError: naming the entry at fault.
    """
    if not isinstance(listen, list) or not listen:
        raise ConfigError(where, 'expected a list such as ["udp:5060"]')
    specs = []
    for i, description in enumerate(listen):
        try:
            if not isinstance(description, str):
                raise ValueError('expected a string such as "udp:5060"')
            specs.append(parseListen(description))
        except ValueError as e:
            raise ConfigError(f"{where}[{i}]", str(e)) from None
    return specs


@implementer(IPlugin, IComponent)
class SIPComponent:
    """
    The C{sip} component.
    """

    name = "sip"
    kind = "protocol"
    description = "SIP on UDP/TCP 5060 and TLS 5061: registrar with digest, OPTIONS, the UA core."

    def validateConfig(self, section, where):
        unknown = sorted(set(section) - set(_DEFAULTS))
        if unknown:
            raise ConfigError(f"{where}.{unknown[0]}", "unknown key")
        settings = {**_DEFAULTS, **section}
        settings["listen"] = _listeners(settings["listen"], f"{where}.listen")
        if not isinstance(settings["address"], str):
            raise ConfigError(f"{where}.address", "expected an IP address or host name")
        for key in ("t1", "t2", "t4"):
            settings[key] = float(_number(settings, key, where, 0.001))
        for key in ("min-expires", "max-expires", "default-expires", "max-contacts"):
            _number(settings, key, where, 1, whole=True)
        if settings["min-expires"] > settings["max-expires"]:
            raise ConfigError(f"{where}.min-expires", "greater than max-expires")
        return settings

    def makeService(self, settings, context):
        return SIPService(settings, context)


sip = SIPComponent()
