"""
The C{csta} component: the CSTA interface (ECMA-285 BER or ECMA-323 XML,
detected per link) on one or more listening endpoints, TCP 8800 by default.
C{doc/csta.md} describes it.

An C{ssl:} endpoint that names no key file of its own is served with the
server's shared certificate (L{oso.certificates}), so C{"ssl:8801"} is all
a CSTA-over-TLS listener needs.
"""

from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import MultiService
from twisted.internet.endpoints import serverFromString
from twisted.plugin import IPlugin
from zope.interface import implementer

from oso.callmodel.errors import CSTAError
from oso.certificates import ensureCertificate
from oso.config import ConfigError
from oso.csta import messages as m
from oso.csta.callcontrol import CallControl
from oso.csta.escape import EscapeOperations
from oso.csta.link import DEFAULT_EVENT_LIMIT, DEFAULT_HEARTBEAT_TIMEOUT
from oso.csta.monitors import Monitors
from oso.csta.protocol import DEFAULT_MAX_LINKS, CSTAFactory
from oso.interfaces import IComponent
from oso.secrets import verifyPassword

_DEFAULTS = {
    "listen": ["tcp:8800"],
    "max-links": DEFAULT_MAX_LINKS,
    "heartbeat-timeout": DEFAULT_HEARTBEAT_TIMEOUT,
    "require-auth": False,
    "event-limit": DEFAULT_EVENT_LIMIT,
}


class _ParseOnly:
    """
    A stand-in reactor for checking endpoint descriptions: parsing needs
    one, listening is never asked of it.
    """


def _isEndpoint(description):
    try:
        serverFromString(_ParseOnly(), description)
    except Exception:
        return False
    return True


def usesSharedCertificate(description):
    """
    Whether an endpoint description asks for TLS with the server's shared
    certificate: an C{ssl:} description without C{privateKey=}.
    """
    kind, _, arguments = description.partition(":")
    return kind.strip().lower() == "ssl" and "privatekey=" not in arguments.lower()


def _isListenDescription(description):
    """
    Whether C{description} is a listening endpoint the component can serve.
    A shared-certificate C{ssl:} description is checked as the TCP port it
    listens on (its key files exist only once the server starts), so it
    may name the C{port}, C{interface} and C{backlog} of a TCP endpoint.
    """
    if usesSharedCertificate(description):
        return _isEndpoint("tcp:" + description.partition(":")[2])
    return _isEndpoint(description)


def passwordChecker(callModel):
    """
    A C{(user, password) -> bool} that accepts a device number and the
    password its credentials hold.
    """

    def check(user, password):
        try:
            stored = callModel.device(user).credentials.passwordHash
        except CSTAError:
            return False
        return stored is not None and verifyPassword(password, stored)

    return check


@implementer(IPlugin, IComponent)
class CSTAComponent:
    """
    The C{csta} component.
    """

    name = "csta"
    kind = "protocol"
    description = "CSTA for CTI applications: ECMA-285 BER or ECMA-323 XML on TCP 8800."

    def validateConfig(self, section, where):
        settings = dict(_DEFAULTS)
        for key, value in section.items():
            if key not in _DEFAULTS:
                raise ConfigError(f"{where}.{key}", "unknown key")
            settings[key] = value
        listen = settings["listen"]
        if not isinstance(listen, list) or not listen:
            raise ConfigError(f"{where}.listen", "expected a list of endpoint descriptions")
        for i, description in enumerate(listen):
            if not isinstance(description, str) or not _isListenDescription(description):
                raise ConfigError(f"{where}.listen[{i}]", "not an endpoint description")
        for key in ("max-links", "event-limit"):
            value = settings[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{where}.{key}", "expected a whole number >= 1")
        timeout = settings["heartbeat-timeout"]
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ConfigError(f"{where}.heartbeat-timeout", "expected seconds (a number > 0)")
        settings["heartbeat-timeout"] = float(timeout)
        if not isinstance(settings["require-auth"], bool):
            raise ConfigError(f"{where}.require-auth", "expected true or false")
        return settings

    def makeService(self, settings, context):
        factory = CSTAFactory(
            context.reactor,
            context.callModel,
            maxLinks=settings["max-links"],
            heartbeatTimeout=settings["heartbeat-timeout"],
            authenticate=passwordChecker(context.callModel),
            requireAuth=settings["require-auth"],
            eventLimit=settings["event-limit"],
        )
        CallControl(context.callModel).register(factory.services)
        service = MultiService()
        # The G-Server's metrics count its links and their events.
        service.factory = factory
        # Other components register the services they supply here, and
        # their private (Escape) operations in escapes.
        service.registry = factory.services
        service.escapes = EscapeOperations()
        factory.services.register(m.EscapeService, service.escapes.serve)
        for description in settings["listen"]:
            if usesSharedCertificate(description):
                files = ensureCertificate(context.dataDirectory)
                description += ":" + files.endpointArguments()
            endpoint = serverFromString(context.reactor, description)
            StreamServerEndpointService(endpoint, factory).setServiceParent(service)
        monitors = Monitors(context.callModel)
        monitors.register(factory.services)
        monitors.setServiceParent(service)
        return service


csta = CSTAComponent()
