"""
A running G-Server for tests of its parts.

L{GServerHarness} builds a L{GServerSite} over a L{MemoryStore} and a call
model with virtual phones (L{oso.testing.Exchange}, on a fake clock), with
accounts: the administrator L{ADMIN} and the extensions of L{USERS}, each
with a known password.  Use it two ways::

    harness = GServerHarness(tmp_path)           # parts: every plugin, or parts=[...]
    stub = harness.stubTreq()                    # in memory: treq.testing.StubTreq
    response = await stub.get("https://oso.test/api/v1/devices",
                              cookies=harness.session(ADMIN_PRINCIPAL).cookies)

    url = await harness.listen()                 # real TLS on 127.0.0.1, port 0
    response = await harness.client.get(url + "/metrics")   # verifies the certificate
    await harness.close()                        # (or self.addCleanup(harness.close))

Use C{https://} URLs with the stub: the session cookie is C{Secure}.  The
call model runs on C{harness.clock}, a L{Clock}; advance it for timers.
Sessions run on the same clock.  Password hashes are made once per process.
"""

import functools
from dataclasses import dataclass

from treq.client import HTTPClient
from treq.testing import StubTreq
from twisted.internet import reactor, ssl
from twisted.internet.defer import ensureDeferred
from twisted.internet.task import deferLater
from twisted.internet.endpoints import SSL4ServerEndpoint
from twisted.python.filepath import FilePath
from twisted.web.client import Agent, BrowserLikePolicyForHTTPS, HTTPConnectionPool
from zope.interface import implementer

from oso.callmodel.devices import Device
from oso.certificates import ensureCertificate
from oso.config import defaults
from oso.gserver.accounts import Accounts, Principal
from oso.gserver.credentials import Administrator
from oso.gserver.site import SESSION_COOKIE, GServerSite
from oso.interfaces import IServerContext
from oso.secrets import credentialsFor, hashPassword
from oso.testing import Exchange

#: The administrator's name and password.
ADMIN = "admin"
ADMIN_PASSWORD = "adm1n-Secret"
ADMIN_PRINCIPAL = Principal.forAdministrator(ADMIN)

#: The extensions (virtual phones) and their users' passwords.
USERS = {"100": "pass-100", "101": "pass-101", "102": "pass-102", "103": "pass-103"}


@functools.cache
def _adminHash():
    return hashPassword(ADMIN_PASSWORD)


@functools.cache
def _credentials(number):
    return credentialsFor(number, "oso", USERS[number])


@implementer(IServerContext)
class HarnessContext:
    """
    The server context of the harness: the real reactor, the exchange's
    call model and store, a data directory, the default configuration, and
    the components a test adds to C{components}.
    """

    def __init__(self, callModel, store, dataDirectory):
        self.reactor = reactor
        self.callModel = callModel
        self.store = store
        self.dataDirectory = FilePath(str(dataDirectory))
        self.config = defaults()
        self.components = {}

    def component(self, name):
        return self.components.get(name)


@dataclass
class BrowserSession:
    """
    A session started for a principal, as a browser would hold it.

    @ivar cookies: the cookies to send (C{cookies=} of treq).
    @ivar csrf: its CSRF token (form field C{csrf} or header
        C{X-CSRF-Token}).
    """

    cookies: dict
    csrf: str


class GServerHarness:
    """
    @ivar exchange: the L{Exchange} (C{model}, C{store}, C{phones}, C{clock}).
    @ivar clock: the exchange's L{Clock}, also the site's.
    @ivar context: the L{HarnessContext}.
    @ivar accounts: the L{Accounts} (lockout on C{clock}).
    @ivar site: the L{GServerSite}.
    @ivar client: after L{listen}, a treq L{HTTPClient} that trusts only
        the site's certificate and checks it and the host name.
    @ivar certificate: after L{listen}, the L{ssl.Certificate} served.
    """

    def __init__(self, dataDirectory, parts=None, settings=None, users=USERS):
        """
        @param dataDirectory: a folder for the certificate (C{tmp_path}).
        @param parts: the L{IGServerPart}s to serve; every plugin when
            L{None}.
        @param settings: a L{oso.gserver.settings.GServerSettings}.
        @param users: the extension numbers to make (keys of L{USERS}).
        """
        self.exchange = Exchange(stations=())
        for number in users:
            self.exchange.addDevice(Device(number, port=self.exchange.phones.name,
                                           credentials=_credentials(number)))
        self.exchange.store.saveAdministrator(Administrator(ADMIN, _adminHash()))
        self.clock = self.exchange.clock
        self.context = HarnessContext(self.exchange.model, self.exchange.store, dataDirectory)
        self.accounts = Accounts(self.exchange.store, self.exchange.model, reactor,
                                 clock=self.clock)
        self.site = GServerSite(self.context, self.accounts, self.clock, settings, parts)
        self.client = None
        self.certificate = None
        self._port = None

    def stubTreq(self):
        """
        @return: a L{FlushingStubTreq} over the site's resource (use
            https:// URLs).
        """
        return FlushingStubTreq(self.site.resource())

    def session(self, principal):
        """
        Start a browser session for a principal without a login page.

        @return: a L{BrowserSession}.
        """
        session = self.site.sessions.start(principal)
        return BrowserSession({SESSION_COOKIE.decode("ascii"): session.id}, session.csrf)

    async def listen(self):
        """
        Serve the site on TLS on 127.0.0.1, port 0, with a certificate made
        by L{oso.certificates} in the data directory.

        @return: the base URL, C{https://127.0.0.1:<port>}.
        """
        files = ensureCertificate(self.context.dataDirectory)
        endpoint = SSL4ServerEndpoint(reactor, 0, files.contextFactory(),
                                      interface="127.0.0.1")
        self._port = await endpoint.listen(self.site.webSite())
        self.certificate = ssl.Certificate.loadPEM(files.certificate.getContent())
        self._pool = HTTPConnectionPool(reactor)
        self.client = trustingClient(self.certificate, self._pool)
        return f"https://127.0.0.1:{self._port.getHost().port}"

    async def close(self):
        """
        Stop listening and drop the client's connections.
        """
        if self.client is not None:
            await self._pool.closeCachedConnections()
        if self._port is not None:
            await self._port.stopListening()
            self._port = None


class FlushingStubTreq:
    """
    L{StubTreq} for resources that answer later (a password check on a
    thread, a store write): its request methods keep flushing the
    in-memory connection until the response is there.  Everything else
    (C{flush}, C{json_content}, ...) is L{StubTreq}'s own.
    """

    REQUESTS = frozenset({"request", "get", "head", "post", "put", "patch", "delete"})

    def __init__(self, resource):
        self.stub = StubTreq(resource)

    def __getattr__(self, name):
        function = getattr(self.stub, name)
        if name not in self.REQUESTS:
            return function

        def pumped(*args, **kwargs):
            return ensureDeferred(self._pump(function(*args, **kwargs)))

        return pumped

    async def _pump(self, response):
        # A Deferred's "called" is true while it waits on a chained one.
        done = []
        response.addBoth(lambda result: done.append(result) or result)
        self.stub.flush()
        while not done:
            await deferLater(reactor, 0.001, lambda: None)
            self.stub.flush()
        return await response


def trustingClient(certificate, pool=None):
    """
    A treq client that trusts C{certificate} as its only CA and verifies
    the server's certificate and host name against it.

    @param pool: the L{HTTPConnectionPool}; a non-persistent one when
        absent.
    """
    if pool is None:
        pool = HTTPConnectionPool(reactor, persistent=False)
    agent = Agent(reactor, contextFactory=BrowserLikePolicyForHTTPS(trustRoot=certificate),
                  pool=pool)
    return HTTPClient(agent)
