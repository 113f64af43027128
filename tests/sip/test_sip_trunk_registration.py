"""
Tests for L{oso.sip.trunkregistration}: a trunk's registration as a UAC
(RFC 3261 10.2) on a L{Clock}, through a user agent that records the
requests, the provider's side played with L{oso.sip.digest} (the server's
digest check) and L{oso.sip.transaction.makeResponse}.
"""

from aka_network import K, OPC, HomeNetwork
from twisted.internet.task import Clock

from oso.secrets import digestHA1
from oso.sip.aka import AKAClient
from oso.sip.digest import DigestAuthenticator
from oso.sip.headers import Via
from oso.sip.locator import LocatorError, Target
from oso.sip.transaction import makeResponse, newBranch
from oso.sip.trunkregistration import TrunkRegistration
from oso.sip.uacauth import ClientAuthenticator, ClientCredentials
from oso.sip.uri import SIPURI, parseURI

REALM = "provider.example"
USER = "4930555"
PASSWORD = "trunk-pw"
HA1 = {USER: digestHA1(USER, REALM, PASSWORD)}


class Sent:
    """
    One request given to the fake user agent.
    """

    def __init__(self, request, destination, transport, owner):
        self.request = request
        self.destination = destination
        self.transport = transport
        self.owner = owner


class FakeUA:
    """
    The parts of L{oso.interfaces.sip.IUserAgent} a registration uses:
    records each request (its transaction is the L{Sent}).
    """

    def __init__(self):
        self.sent = []

    def via(self, transport):
        return Via(transport, "192.0.2.10", 5070, {"branch": newBranch(), "rport": None})

    def contact(self, transport):
        return SIPURI("192.0.2.10", port=5070)

    def request(self, request, destination, transport, owner=None):
        sent = Sent(request, destination, transport, owner)
        self.sent.append(sent)
        return sent


class FakeLocator:
    """
    Gives fixed targets (or fails), counting the lookups.
    """

    def __init__(self, targets):
        self.targets = targets
        self.lookups = []

    async def locate(self, host, port=None, transport=None, secure=False):
        self.lookups.append((host, port, transport, secure))
        if not self.targets:
            raise LocatorError(f"no address for {host}")
        return self.targets


TARGETS = [Target("UDP", "198.51.100.1", 5060, "a.provider.example"),
           Target("UDP", "198.51.100.2", 5060, "b.provider.example")]


class Harness:
    """
    A registration with a fake user agent and locator on a clock.
    """

    def __init__(self, password=PASSWORD, targets=TARGETS, interval=600, contactAddress=None,
                 outboundProxy=None, locator=True, registrar="sip:provider.example", aka=None):
        self.clock = Clock()
        self.ua = FakeUA()
        self.status = []
        self.locator = FakeLocator(list(targets)) if locator else None
        self.server = DigestAuthenticator(REALM, b"s" * 32, self.clock)
        self.owner = object()
        self.registration = TrunkRegistration(
            self.ua,
            self.clock,
            owner=self.owner,
            aor=parseURI(f"sip:{USER}@provider.example"),
            registrarURI=parseURI(registrar),
            transport=None,
            outboundProxy=outboundProxy,
            authenticator=ClientAuthenticator(ClientCredentials(USER, password, aka)),
            interval=interval,
            locator=self.locator,
            contactAddress=contactAddress,
            statusChanged=self.status.append,
            retryDelay=30,
            retryCap=240,
        )

    @property
    def last(self):
        return self.ua.sent[-1]

    def answer(self, status, sent=None, **headers):
        """
        The provider answers C{sent} (the last request) with C{status}.
        """
        sent = sent or self.last
        response = makeResponse(sent.request, status, toTag="prov")
        for name, value in headers.items():
            response.headers.add(name.replace("_", "-"), value)
        return self.registration.responseReceived(response, sent)

    def challenge(self, stale=False):
        response = makeResponse(self.last.request, 401, toTag="prov")
        response.headers.add("www-authenticate", self.server.challenge(stale=stale))
        return self.registration.responseReceived(response, self.last)

    def accept(self, expires=None):
        """
        The provider checks the credentials and answers 200 (or 403),
        echoing the Contact with its expiry.
        """
        request = self.last.request
        result = self.server.verify(request, HA1.get)
        if not result.ok:
            return self.answer(403)
        response = makeResponse(request, 200, toTag="prov")
        granted = expires if expires is not None else request.headers.get("expires")
        response.headers.add("contact", f"{request.headers.get('contact')};expires={granted}")
        return self.registration.responseReceived(response, self.last)

    def register(self, expires=None):
        self.registration.start()
        self.challenge()
        self.accept(expires)


def test_register_with_digest():
    """
    RFC 3261 10.2: REGISTER to the located target with To/From the AOR,
    Contact the account's user at our address, Expires the interval; the
    401 is answered once with credentials the provider accepts, and the
    200 puts the trunk in service.
    """
    h = Harness()
    h.registration.start()
    first = h.last
    assert first.destination == ("198.51.100.1", 5060) and first.transport == "UDP"
    assert first.owner is h.owner
    request = first.request
    assert str(request.uri) == "sip:provider.example"
    assert str(request.toAddress.uri) == f"sip:{USER}@provider.example"
    assert request.fromAddress.tag
    assert str(request.contacts[0].uri) == f"sip:{USER}@192.0.2.10:5070"
    assert request.headers.get("expires") == "600"
    assert "Authorization" not in request.headers
    assert h.challenge()
    second = h.last
    assert second is not first
    assert second.request.callID == request.callID
    assert second.request.cseq.number == request.cseq.number + 1
    assert second.request.via.branch != request.via.branch
    assert h.accept()
    assert h.registration.inService and h.status == [True]
    assert h.registration.target == TARGETS[0]
    assert h.registration.granted == 600
    assert h.registration.contactSource == "local"


def test_not_ours():
    """
    A transaction the registration did not start is not claimed.
    """
    h = Harness()
    h.registration.start()
    other = Sent(h.last.request, None, "UDP", None)
    response = makeResponse(h.last.request, 200)
    assert not h.registration.responseReceived(response, other)
    assert not h.registration.transactionFailed(other, "timeout")


def test_refresh_at_half_the_granted_expiry():
    """
    RFC 3261 10.2.4: the 200's expires for our Contact is honoured (120,
    not the 600 asked); the refresh goes before it ends, reusing the
    nonce with the next nonce count (no new 401).
    """
    h = Harness()
    h.register(expires=120)
    count = len(h.ua.sent)
    h.clock.advance(59)
    assert len(h.ua.sent) == count
    h.clock.advance(2)
    assert len(h.ua.sent) == count + 1
    creds = h.last.request.headers.getParsed("authorization").params
    assert creds["nc"] == "00000002"
    assert h.accept(expires=120)
    assert h.status == [True]


def test_expires_header_used_without_contact_expiry():
    """
    Without an expires parameter on our Contact, the Expires field counts.
    """
    h = Harness()
    h.registration.start()
    h.challenge()
    assert h.answer(200, expires="90")
    assert h.registration.granted == 90


def test_wrong_password_out_of_service_without_loop():
    """
    A refused password (401 again after our answer) is not answered
    again: out of service, and the next attempt waits the backoff.
    """
    h = Harness(password="wrong")
    h.register()
    assert h.last.request.headers.getParsed("authorization")
    # The provider's 403 for the bad digest: out of service.
    assert h.status == []
    h2 = Harness(password="wrong")
    h2.registration.start()
    h2.challenge()
    h2.challenge()
    assert len(h2.ua.sent) == 2
    assert not h2.registration.inService
    h2.clock.advance(29)
    assert len(h2.ua.sent) == 2
    h2.clock.advance(1)
    assert len(h2.ua.sent) == 3


def test_registration_lost_then_back():
    """
    A refresh that every target leaves unanswered puts the trunk out of
    service; a later success puts it back.
    """
    h = Harness(interval=60)
    h.register()
    h.clock.advance(30)
    assert h.registration.transactionFailed(h.last, "timeout")
    assert h.last.destination == ("198.51.100.2", 5060)
    assert h.registration.transactionFailed(h.last, "timeout")
    assert h.status == [True, False]
    h.clock.advance(30)
    h.challenge()
    h.accept()
    assert h.status == [True, False, True]
    assert h.registration.target == TARGETS[0]


def test_expiry_without_refresh_is_loss():
    """
    A registration whose refresh gets no answer by the time it expires
    is lost even while a request is in flight.
    """
    h = Harness(interval=60)
    h.register()
    h.clock.advance(30)
    h.clock.advance(30)
    assert h.status == [True, False]


def test_failover_on_timeout_and_503():
    """
    RFC 3263 4.3: a timeout moves to the next target; so does a 503,
    whose Retry-After lengthens the wait when no target is left.
    """
    h = Harness()
    h.registration.start()
    assert h.registration.transactionFailed(h.last, "timeout")
    assert h.last.destination == ("198.51.100.2", 5060)
    assert h.registration.target == TARGETS[1]
    h.challenge()
    h.accept()
    assert h.registration.target == TARGETS[1] and h.registration.inService

    h = Harness()
    h.registration.start()
    h.answer(503)
    assert h.last.destination == ("198.51.100.2", 5060)
    h.answer(503, retry_after="100")
    count = len(h.ua.sent)
    h.clock.advance(99)
    assert len(h.ua.sent) == count
    h.clock.advance(1)
    assert len(h.ua.sent) == count + 1
    assert len(h.locator.lookups) == 2


def test_backoff_doubles_to_cap():
    """
    When every target fails each time, the waits double up to the cap
    (30, 60, 120, 240, 240).
    """
    h = Harness(targets=TARGETS[:1])
    h.registration.start()
    waits = []
    for _ in range(5):
        h.registration.transactionFailed(h.last, "timeout")
        count = len(h.ua.sent)
        waited = 0
        while len(h.ua.sent) == count:
            h.clock.advance(1)
            waited += 1
        waits.append(waited)
    assert waits == [30, 60, 120, 240, 240]


def test_not_located_backs_off():
    """
    A provider that cannot be located: out of service (never in), retry
    after the backoff.
    """
    h = Harness(targets=[])
    h.registration.start()
    assert h.ua.sent == []
    h.clock.advance(30)
    assert len(h.locator.lookups) == 2


def test_interval_too_brief():
    """
    RFC 3261 10.2.8: 423 with Min-Expires: asked again with that expiry;
    a second 423 for the same value is not retried.
    """
    h = Harness(interval=60)
    h.registration.start()
    h.answer(423, min_expires="300")
    assert h.last.request.headers.get("expires") == "300"
    h.answer(423, min_expires="300")
    count = len(h.ua.sent)
    assert not h.registration.inService and count == 2


def test_other_failure_backs_off():
    """
    A final failure other than 401/407/423/503 (403, 404): no failover,
    the backoff.
    """
    h = Harness()
    h.registration.start()
    h.answer(404)
    assert len(h.ua.sent) == 1
    h.clock.advance(30)
    assert len(h.ua.sent) == 2


def test_stop_unregisters():
    """
    stop sends Expires 0 for our Contact (with the credentials), and its
    Deferred fires on the answer; the trunk is then out of service and
    nothing more is sent.
    """
    h = Harness()
    h.register()
    done = h.registration.stop()
    assert not done.called
    request = h.last.request
    assert request.headers.get("expires") == "0"
    assert request.headers.getParsed("authorization")
    assert h.accept()
    assert done.called
    assert h.status == [True, False]
    count = len(h.ua.sent)
    h.clock.advance(10000)
    assert len(h.ua.sent) == count


def test_stop_times_out():
    """
    An unregistration nobody answers ends after the stop timeout.
    """
    h = Harness()
    h.register()
    done = h.registration.stop()
    h.clock.advance(31)
    assert not done.called
    h.clock.advance(1)
    assert done.called


def test_stop_unregistered_at_once():
    """
    stop before any registration sends nothing.
    """
    h = Harness()
    h.registration.start()
    done = h.registration.stop()
    assert done.called and len(h.ua.sent) == 1


def test_public_address_in_contact_and_via():
    """
    The Contact and Via carry the STUN-discovered address; a change
    registers the new Contact at once and removes the old one.
    """
    address = [("203.0.113.7", 40001)]
    h = Harness(contactAddress=lambda: address[0])
    h.register()
    request = h.last.request
    assert str(request.contacts[0].uri) == f"sip:{USER}@203.0.113.7:40001"
    assert (request.via.host, request.via.port) == ("203.0.113.7", 40001)
    assert h.registration.contactSource == "stun"
    address[0] = ("203.0.113.7", 40999)
    h.registration.addressChanged()
    contacts = h.last.request.contacts
    assert [str(c.uri) for c in contacts] == [
        f"sip:{USER}@203.0.113.7:40999", f"sip:{USER}@203.0.113.7:40001"]
    assert contacts[1].params["expires"] == "0"
    assert h.accept()
    h.registration.addressChanged()
    assert len(h.last.request.contacts) == 1


def test_address_change_during_request():
    """
    A change while a REGISTER is in flight is registered after its 200.
    """
    address = [("203.0.113.7", 40001)]
    h = Harness(contactAddress=lambda: address[0])
    h.register()
    h.clock.advance(300)
    address[0] = ("203.0.113.8", 40001)
    h.registration.addressChanged()
    count = len(h.ua.sent)
    h.accept()
    assert len(h.ua.sent) == count + 1
    assert str(h.last.request.contacts[0].uri) == f"sip:{USER}@203.0.113.8:40001"


def test_outbound_proxy_and_ip_literal():
    """
    Without a locator an IP registrar is used as it is; an outbound
    proxy is where requests go, with a loose Route.
    """
    h = Harness(locator=False, registrar="sip:198.51.100.9:5080")
    h.registration.start()
    h.clock.advance(0)
    assert h.last.destination == ("198.51.100.9", 5080)
    proxy = parseURI("sip:198.51.100.20:5062")
    h = Harness(locator=False, outboundProxy=proxy)
    h.registration.start()
    assert h.last.destination == ("198.51.100.20", 5062)
    assert str(h.last.request.routes[0].uri) == "sip:198.51.100.20:5062;lr"
    assert str(h.last.request.uri) == "sip:provider.example"
    h = Harness(locator=False, registrar="sip:provider.example")
    h.registration.start()
    assert h.ua.sent == []


def test_aka_registration_with_resync():
    """
    RFC 3310 with a trunk whose credentials hold AKA keys (TS 35.208 test
    set 1): the provider's first challenge has a SQN the client's window
    refuses, the client answers with AUTS, the provider resynchronises and
    challenges again, and RES registers the trunk; the refresh reuses the
    nonce with nonce count 2.
    """
    network = HomeNetwork(realm=REALM, sqn=7)
    aka = AKAClient.fromKeys(USER, K, opc=OPC, sqn=50000)
    h = Harness(password="", aka=aka)

    def send401():
        response = makeResponse(h.last.request, 401, toTag="prov")
        response.headers.add("www-authenticate", str(network.challenge()))
        h.registration.responseReceived(response, h.last)

    h.registration.start()
    send401()
    assert network.check(h.last.request) == "resync"
    assert network.sqn == 50000
    send401()
    assert network.check(h.last.request) == "ok"
    h.answer(200, expires="60")
    assert h.registration.inService and aka.sqn == 50001
    h.clock.advance(30)
    assert network.check(h.last.request) == "ok"
    assert h.last.request.headers.getParsed("authorization").params["nc"] == "00000002"
