"""
Live tests of L{oso.cti}: the client on real loopback TCP against the
server's own L{oso.csta.protocol.CSTAFactory} over a real call model.
"""

from twisted.internet import defer, reactor
from twisted.internet.endpoints import serverFromString
from twisted.trial.unittest import TestCase

from oso.callmodel.errors import CSTAError, UniversalFailure
from oso.csta import messages as m
from oso.csta.framing import Encoding
from oso.csta.protocol import CSTAFactory
from oso.csta.services import ServiceRegistry
from oso.cti.client import ClientSettings
from oso.cti.errors import AssociationRefused
from oso.cti.protocol import CSTAClientService, connect
from oso.testing import Exchange

ENCODINGS = (Encoding.BER, Encoding.PREFIXED_BER, Encoding.XML)
SERVICE_NOT_SUPPORTED = UniversalFailure("operation", "serviceNotSupported")


def closing(link):
    """
    @return: a L{Deferred} firing when C{link} is gone.
    """
    gone = defer.Deferred()
    link.whenClosed(lambda: gone.callback(None))
    return gone


class ServerTestCase(TestCase):
    """
    A CSTA server on a loopback port, stopped with every link closed.
    """

    async def serve(self, **options):
        """
        Listen with a L{CSTAFactory} taking C{options}.

        @return: the client endpoint string that reaches it.
        """
        self.exchange = Exchange()
        self.factory = CSTAFactory(reactor, self.exchange.model, **options)
        port = await serverFromString(reactor, "tcp:0:interface=127.0.0.1").listen(self.factory)
        self.addCleanup(self.stopServer, port)
        return f"tcp:127.0.0.1:{port.getHost().port}"

    async def stopServer(self, port):
        await port.stopListening()
        gone = [closing(p.link) for p in self.factory.links]
        for protocol in list(self.factory.links):
            protocol.transport.abortConnection()
        await defer.gatherResults(gone)

    async def connect(self, description, **settings):
        link = await connect(reactor, description, ClientSettings(**settings))
        self.addCleanup(self.hangUp, link)
        return link

    def hangUp(self, link):
        gone = closing(link)
        link.abort()
        return gone


class SessionTests(ServerTestCase):
    """
    A session in each encoding.
    """

    async def session(self, encoding):
        description = await self.serve()
        link = await self.connect(description, encoding=encoding, register=True)
        self.assertTrue(link.associated)
        capabilities = await link.invoke(m.GetSwitchingFunctionCapabilities())
        self.assertEqual(capabilities.systemStatusTimer, 120)
        # The server's SystemStatus came before any answer, and was answered.
        self.assertIs(link.systemStatus, m.SystemStatusValue.normal)
        status = await link.invoke(m.SystemStatus(systemStatus=m.SystemStatusValue.normal))
        self.assertEqual(status, m.SystemStatusResponse())

        listings = []
        listed = defer.Deferred()

        def devices(listing):
            listings.append(listing)
            if listing.lastSegment:
                listed.callback(None)

        link.setHandler(m.SwitchingFunctionDevices, devices)
        response = await link.invoke(m.GetSwitchingFunctionDevices(requestedDeviceCategory=m.ReqDeviceCategory.station))
        await listed
        self.assertEqual({listing.serviceCrossRefID for listing in listings}, {response.serviceCrossRefID})
        found = sorted(entry.deviceID for listing in listings for entry in listing.deviceList)
        self.assertEqual(found, ["100", "101", "102", "103"])

        with self.assertRaises(CSTAError) as raised:
            await link.invoke(m.MakeCall(callingDevice="100", calledDirectoryNumber="101"))
        self.assertEqual(raised.exception.failure, SERVICE_NOT_SUPPORTED)
        # The link is still there after the error.
        await link.invoke(m.RequestSystemStatus())

        await link.release()
        self.assertTrue(link.closed)

    def test_ber(self):
        """
        Bare BER: associate, SystemStatus, capabilities, devices, the
        error of a service not implemented, release.
        """
        return defer.ensureDeferred(self.session(Encoding.BER))

    def test_prefixedBER(self):
        """
        The same with length-prefixed BER.
        """
        return defer.ensureDeferred(self.session(Encoding.PREFIXED_BER))

    def test_xml(self):
        """
        The same in XML, opening with SystemRegister and releasing with
        SystemRegisterCancel.
        """
        return defer.ensureDeferred(self.session(Encoding.XML))


class EventTests(ServerTestCase):
    """
    Events from a service of the server's registry.
    """

    async def events(self, encoding):
        services = ServiceRegistry()

        def monitorStart(serverLink, request):
            crossRef = f"mon-{request.monitorObject}"
            for device in ("100", request.monitorObject):
                event = m.DoNotDisturbEvent(monitorCrossRefID=crossRef, device=device, doNotDisturbOn=True)
                reactor.callLater(0, serverLink.invoke, event)
            return m.MonitorStartResponse(monitorCrossRefID=crossRef)

        services.register(m.MonitorStart, monitorStart)
        description = await self.serve(services=services)
        link = await self.connect(description, encoding=encoding)
        other = defer.Deferred()
        link.addEventObserver(lambda e: other.callback(e), "mon-999")
        started = await link.invoke(m.MonitorStart(monitorObject="101"))
        received = []
        both = defer.Deferred()

        def observe(event):
            received.append(event)
            if len(received) == 2:
                both.callback(None)

        link.addEventObserver(observe, started.monitorCrossRefID)
        await both
        self.assertEqual([(e.monitorCrossRefID, e.device) for e in received], [("mon-101", "100"), ("mon-101", "101")])
        self.assertFalse(other.called)

    def test_berEvents(self):
        """
        Events reach the observers of their monitor over BER.
        """
        return defer.ensureDeferred(self.events(Encoding.BER))

    def test_xmlEvents(self):
        """
        And over XML.
        """
        return defer.ensureDeferred(self.events(Encoding.XML))


class LinkTests(ServerTestCase):
    """
    Heartbeats, refusals and reconnection.
    """

    def test_heartbeat(self):
        """
        A client sending heartbeats outlives the server's silence timeout;
        one that does not, connected after it, is closed by the server.
        """

        async def run():
            description = await self.serve(heartbeatTimeout=0.5)
            beating = await self.connect(description, heartbeatInterval=0.1)
            silent = await self.connect(description, encoding=Encoding.XML, heartbeatInterval=0)
            await closing(silent)
            self.assertFalse(beating.closed)
            await beating.invoke(m.RequestSystemStatus())

        return defer.ensureDeferred(run())

    async def refused(self, description, **settings):
        with self.assertRaises(AssociationRefused) as raised:
            await self.connect(description, **settings)
        return raised.exception

    def test_authentication(self):
        """
        Wrong credentials get the AARE's authenticationFailure, none its
        authenticationRequired, and an XML link securityViolation; good
        ones associate.
        """

        async def run():
            description = await self.serve(
                authenticate=lambda user, password: (user, password) == ("alice", "s3cret"),
                requireAuth=True,
            )
            wrong = await self.refused(description, user="alice", password="guess")
            self.assertIs(wrong.diagnostic, m.ACSEServiceUserDiagnostic.authenticationFailure)
            missing = await self.refused(description, encoding=Encoding.PREFIXED_BER)
            self.assertIs(missing.diagnostic, m.ACSEServiceUserDiagnostic.authenticationRequired)
            xml = await self.refused(description, encoding=Encoding.XML)
            self.assertEqual(xml.failure, UniversalFailure("operation", "securityViolation"))
            link = await self.connect(description, user="alice", password="s3cret")
            await link.invoke(m.RequestSystemStatus())

        return defer.ensureDeferred(run())

    def test_linkLimit(self):
        """
        A link over the server's limit is refused with its reason.
        """

        async def run():
            description = await self.serve(maxLinks=1)
            await self.connect(description)
            refusal = await self.refused(description)
            self.assertEqual(refusal.reason, "CSTA link limit of 1 reached")
            xml = await self.refused(description, encoding=Encoding.XML)
            self.assertEqual(xml.failure, UniversalFailure("systemResourceAvailability", "resourceLimitExceeded"))

        return defer.ensureDeferred(run())

    def test_reconnect(self):
        """
        The client service associates, and when the server drops the link
        connects and associates again, calling C{onAssociated} each time.
        """

        async def run():
            description = await self.serve()
            associations = []
            service = CSTAClientService(
                reactor,
                description,
                ClientSettings(encoding=Encoding.PREFIXED_BER),
                onAssociated=associations.append,
                retryPolicy=lambda failures: 0.05,
            )
            service.startService()
            self.addCleanup(service.stopService)
            first = await service.whenAssociated()
            self.assertEqual(associations, [first])
            gone = closing(first)
            [serverSide] = self.factory.links
            serverSide.transport.loseConnection()
            await gone
            second = await service.whenAssociated()
            self.assertIsNot(second, first)
            self.assertEqual(associations, [first, second])
            await second.invoke(m.RequestSystemStatus())

        return defer.ensureDeferred(run())

    def test_serviceRefused(self):
        """
        A client service whose association is refused tries again with a
        delay that grows with each refusal in a row, and is associated once
        the server lets it.
        """

        async def run():
            description = await self.serve(requireAuth=True)
            failures = []
            refusedThrice = defer.Deferred()

            def policy(count):
                failures.append(count)
                if count == 3:
                    self.factory.requireAuth = False
                    refusedThrice.callback(None)
                return 0.05

            service = CSTAClientService(reactor, description, retryPolicy=policy)
            service.startService()
            self.addCleanup(service.stopService)
            link = await service.whenAssociated()
            self.assertEqual(failures[:3], [1, 2, 3])
            self.assertTrue(refusedThrice.called)
            await link.invoke(m.RequestSystemStatus())

        return defer.ensureDeferred(run())

    def test_preparationFails(self):
        """
        A link whose C{onAssociated} fails is aborted and made again; the
        waiter gets the one prepared.
        """

        async def run():
            description = await self.serve()
            prepared = []

            def onAssociated(link):
                prepared.append(link)
                if len(prepared) == 1:
                    raise RuntimeError("cannot start the monitors")

            service = CSTAClientService(reactor, description, onAssociated=onAssociated, retryPolicy=lambda n: 0.05)
            service.startService()
            self.addCleanup(service.stopService)
            link = await service.whenAssociated()
            self.assertEqual(len(prepared), 2)
            self.assertIs(link, prepared[1])
            self.assertTrue(prepared[0].closed)
            self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

        return defer.ensureDeferred(run())
