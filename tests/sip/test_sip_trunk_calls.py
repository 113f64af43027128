"""
The sip-trunk port on the in-memory SIP network: oso's real user agent
core with the trunk attached as a specific application, virtual phones as
the extensions, and a scripted provider (the harness's SIP user agent) on
a fake clock.  Calls in by DID and out by route; CANCEL and BYE both
ways; the status mapping; which requests the trunk claims.
"""

from types import SimpleNamespace

from zope.interface.verify import verifyObject

from oso.callmodel.causes import EventCause
from oso.callmodel.devices import Device, DeviceType
from oso.callmodel.dialplan import DialPlan, DIDRange, Route
from oso.interfaces import IEventObserver, IPortDriver, ITerminal
from oso.interfaces.sip import ISIPApplication
from oso.ports.numberformat import NumberFormat
from oso.ports.sip_trunk import SIPTrunks, Trunk, TrunkSettings
from oso.sip.digest import DigestAuthenticator
from oso.sip.locator import Target
from oso.sip.message import Request
from oso.sip.registrar import Registrar
from oso.sip.uri import SIPURI
from oso.sip.useragent import UserAgent
from oso.testing import Exchange

from sip_lines_harness import OSO, REALM, Network, Phone

PROVIDER = ("127.0.0.9", 5060)


class _Resolver:
    """
    The locator's resolver: never asked (the provider is an IP literal).
    """

    def lookupService(self, *arguments, **kw):
        raise AssertionError("no DNS lookups for an IP-literal provider")


def trunkSettings(**changes):
    values = dict(
        trunkGroup="carrier",
        provider=PROVIDER[0],
        providerPort=PROVIDER[1],
        transport="UDP",
        numbers=NumberFormat("national", "49"),
        dids=("+4930123456",),
        trusted=True,
    )
    values.update(changes)
    return TrunkSettings(**values)


class TrunkExchange(Exchange):
    """
    Virtual phones 100 and 101 with public numbers, trunk channels 900 and
    901 of the trunk group "carrier" on the provider at L{PROVIDER}, and
    the provider as a scripted SIP user agent.
    """

    def __init__(self, stun=None, **changes):
        plan = DialPlan(
            trunkAccessCode="0",
            routes=[Route("0Z.", "carrier", strip=1, prepend="+49", classOfService="national")],
            dids=[DIDRange("+4930123456")],
        )
        super().__init__(stations=(), dialPlan=plan)
        for number in ("100", "101"):
            self.addDevice(Device(number, name=f"Phone {number}", port=self.phones.name,
                                  publicNumber=f"4930123456{number}"))
        for number in ("900", "901"):
            self.addDevice(Device(number, type=DeviceType.trunk, port="sip-trunk",
                                  trunkGroup="carrier"))
        self.network = Network(self.clock)
        self.ua = UserAgent(
            self.clock,
            lambda message, destination, transport: self.network.send(
                OSO, message, destination, transport),
            lambda transport: OSO,
            Registrar(self.clock, self.store),
            DigestAuthenticator(REALM, b"k" * 32, self.clock),
            lambda username: None,
        )
        self.network.ends[OSO] = SimpleNamespace(layer=SimpleNamespace(receive=self.ua.receive))
        from oso.sip.locator import Locator

        self.trunk = Trunk(trunkSettings(**changes), None, stun)
        self.port = SIPTrunks(self.model, self.ua, [self.trunk], Locator(_Resolver(), self.clock))
        self.model.registerPort(self.port)
        self.model.addObserver(self.port)
        self.ua.attach(self.port)
        self.port.start()
        self.provider = Phone(self.network, "015112345678", "unused", *PROVIDER)

    def run(self, seconds=0.0):
        self.network.run(seconds)


def lastRequest(end, method):
    return [m for m in end.received if getattr(m, "method", None) == method][-1]


def test_interfaces():
    exchange = TrunkExchange()
    verifyObject(IPortDriver, exchange.port)
    verifyObject(ISIPApplication, exchange.port)
    verifyObject(IEventObserver, exchange.port)
    verifyObject(ITerminal, exchange.port.terminalFor(exchange.model.device("900")))


def test_channels_in_service_once_located():
    exchange = TrunkExchange()
    about = [e for e in exchange.recorder.names() if e == "BackInService"]
    assert len(about) == 2
    assert exchange.trunk.target == Target("UDP", PROVIDER[0], PROVIDER[1], PROVIDER[0])


def test_incoming_call_by_did_answered_and_hung_up_by_provider():
    exchange = TrunkExchange()
    exchange.recorder.take()
    exchange.provider.call("030123456101")
    exchange.run()
    assert exchange.provider.statuses()[:2] == [100, 180]
    exchange.phone("101").answer()
    exchange.run()
    assert exchange.provider.statuses()[-1] == 200
    assert exchange.recorder.names()[:2] == ["Delivered", "Established"]
    exchange.provider.hangUp()
    exchange.run()
    assert exchange.provider.statuses()[-1] == 200
    assert exchange.recorder.names()[-1] == "CallCleared"
    assert exchange.port.channelsBusy() == 0


def test_incoming_call_hung_up_by_extension():
    exchange = TrunkExchange()
    exchange.provider.call("030123456100")
    exchange.run()
    exchange.phone("100").answer()
    exchange.run()
    exchange.phone("100").hangUp()
    exchange.run()
    assert lastRequest(exchange.provider, "BYE")
    assert exchange.recorder.names()[-1] == "CallCleared"


def test_incoming_call_cancelled_by_provider():
    exchange = TrunkExchange()
    exchange.provider.call("030123456101")
    exchange.run()
    exchange.provider.cancel()
    exchange.run()
    assert 487 in exchange.provider.statuses()
    assert exchange.recorder.names()[-1] == "CallCleared"
    assert exchange.port.channelsBusy() == 0


def test_incoming_call_busy_extension():
    exchange = TrunkExchange()
    exchange.call("100", "101")
    exchange.phone("101").answer()
    exchange.provider.call("030123456101")
    exchange.run()
    assert exchange.provider.statuses()[-1] == 486
    exchange.run(1)
    assert exchange.port.channelsBusy() == 0


def test_incoming_call_to_unknown_did_or_extension():
    exchange = TrunkExchange()
    exchange.provider.call("040999")
    exchange.run()
    assert exchange.provider.statuses()[-1] == 404
    exchange.provider.call("030123456555")
    exchange.run()
    assert exchange.provider.statuses()[-1] == 404


def test_incoming_call_when_every_channel_is_busy():
    exchange = TrunkExchange(channels=1)
    exchange.provider.call("030123456100")
    exchange.provider.call("030123456101")
    exchange.run()
    statuses = exchange.provider.statuses()
    assert 503 in statuses and 180 in statuses


def test_outgoing_call_in_the_trunks_presentation():
    exchange = TrunkExchange()
    exchange.call("100", "00891234567")
    exchange.run()
    invite = lastRequest(exchange.provider, "INVITE")
    assert invite.uri.user == "0891234567"
    assert invite.fromAddress.uri.user == "030123456100"
    assert invite.headers.getParsed("p-asserted-identity").uri.user == "030123456100"
    assert "NetworkReached" in exchange.recorder.names()
    assert "Delivered" in exchange.recorder.names()
    exchange.provider.answer()
    exchange.run()
    assert "Established" in exchange.recorder.names()
    exchange.phone("100").hangUp()
    exchange.run()
    assert lastRequest(exchange.provider, "BYE")
    assert exchange.recorder.names()[-1] == "CallCleared"


def test_outgoing_call_to_untrusted_trunk_asserts_nothing():
    exchange = TrunkExchange(trusted=False)
    exchange.call("100", "00891234567")
    exchange.run()
    invite = lastRequest(exchange.provider, "INVITE")
    assert "p-asserted-identity" not in invite.headers
    assert invite.fromAddress.uri.user == "030123456100"


def test_outgoing_call_cancelled_by_extension():
    exchange = TrunkExchange()
    exchange.call("100", "00891234567")
    exchange.run()
    exchange.phone("100").hangUp()
    exchange.run()
    assert lastRequest(exchange.provider, "CANCEL")
    assert exchange.recorder.names()[-1] == "CallCleared"
    assert exchange.port.channelsBusy() == 0


def test_outgoing_call_refused_by_provider():
    exchange = TrunkExchange()
    exchange.call("100", "00891234567")
    exchange.run()
    exchange.provider.refuse(404)
    exchange.run()
    [failed] = [e for e in exchange.recorder.events if e.name == "Failed"]
    assert failed.cause is EventCause.numberUnallocated
    assert exchange.port.channelsBusy() == 0


def test_outgoing_call_hung_up_by_provider():
    exchange = TrunkExchange()
    exchange.call("100", "00891234567")
    exchange.run()
    exchange.provider.answer()
    exchange.run()
    exchange.provider.hangUp()
    exchange.run()
    assert exchange.recorder.names()[-1] == "CallCleared"


def test_claims_only_its_providers_and_dialogs():
    exchange = TrunkExchange()
    port = exchange.port
    request = Request("INVITE", SIPURI("127.0.0.1", user="100"))
    request.headers.add("from", "<sip:1@127.0.0.1>;tag=a")
    request.headers.add("to", "<sip:100@127.0.0.1>")
    request.headers.add("call-id", "x")
    assert port.accepts(request, ("UDP",) + PROVIDER)
    assert not port.accepts(request, ("UDP", PROVIDER[0], 5070))
    assert not port.accepts(request, ("UDP", "127.0.0.5", 5060))
    request.headers.set("to", "<sip:100@127.0.0.1>;tag=b")
    assert not port.accepts(request, ("UDP",) + PROVIDER)


def test_outgoing_call_through_outbound_proxy_has_its_route():
    exchange = TrunkExchange(outboundProxy=PROVIDER, provider="sip.carrier.test", providerPort=None)
    exchange.run()
    exchange.call("100", "00891234567")
    exchange.run()
    invite = lastRequest(exchange.provider, "INVITE")
    assert str(invite.uri) == "sip:0891234567@sip.carrier.test"
    [route] = invite.routes
    assert (route.uri.host, route.uri.port, "lr" in route.uri.params) == (*PROVIDER, True)


def test_restricted_caller_is_anonymous_toward_the_provider():
    exchange = TrunkExchange()
    # Phone 100 dials with CLIR.
    connection = exchange.model.originate("100", "00891234567", restricted=True)
    exchange.run()
    invite = lastRequest(exchange.provider, "INVITE")
    assert invite.fromAddress.uri.user == "anonymous"
    assert invite.headers.get("privacy") == "id"
    assert invite.headers.getParsed("p-asserted-identity").uri.user == "030123456100"
    assert not connection.ended


def test_incoming_call_to_the_account_takes_the_did_from_to():
    exchange = TrunkExchange(username="4930123456")
    exchange.provider.call("030123456101")
    # A second call, sent to the account (the registered Contact's user).
    request = exchange.provider._new("INVITE", "4930123456")
    request.headers.set("to", "<sip:030123456100@127.0.0.1>")
    request.body = exchange.provider.sdp()
    request.headers.add("content-type", "application/sdp")
    exchange.provider.layer.request(request, OSO, "UDP")
    exchange.run()
    about = [e for e in exchange.recorder.events if e.name == "Delivered"]
    assert {e.alertingDevice for e in about} == {"100", "101"}


class _Stun:
    """
    What STUN found for the SIP UDP socket.
    """

    def currentAddress(self):
        return ("203.0.113.5", 40000)


def test_public_address_in_via_and_contact():
    exchange = TrunkExchange(stun=_Stun())
    exchange.call("100", "00891234567")
    exchange.run()
    invite = lastRequest(exchange.provider, "INVITE")
    assert (invite.via.host, invite.via.port) == ("203.0.113.5", 40000)
    [contact] = invite.contacts
    assert (contact.uri.host, contact.uri.port) == ("203.0.113.5", 40000)
    exchange.provider.call("030123456101")
    exchange.run()
    exchange.phone("101").answer()
    exchange.run()
    ok = [m for m in exchange.provider.received if getattr(m, "status", None) == 200][-1]
    [contact] = ok.contacts
    assert (contact.uri.host, contact.uri.port) == ("203.0.113.5", 40000)


def test_outgoing_call_fails_over_to_the_next_target():
    """
    RFC 3263 4.3: the first target is silent (timer B), the second says
    503, the third takes the call.
    """
    exchange = TrunkExchange()
    second = Phone(exchange.network, "015112345679", "unused", "127.0.0.10", 5060)
    exchange.trunk.targets = [
        Target("UDP", "127.0.0.8", 5060, "127.0.0.8"),
        Target("UDP", "127.0.0.10", 5060, "127.0.0.10"),
        Target("UDP", *PROVIDER, PROVIDER[0]),
    ]
    exchange.call("100", "00891234567")
    exchange.run(40)
    assert "INVITE" in second.methods()
    second.refuse(503)
    exchange.run()
    assert lastRequest(exchange.provider, "INVITE").uri.user == "0891234567"
    exchange.provider.answer()
    exchange.run()
    assert "Established" in exchange.recorder.names()


def test_outgoing_call_fails_when_every_target_failed():
    exchange = TrunkExchange()
    exchange.call("100", "00891234567")
    exchange.run()
    exchange.provider.refuse(503)
    exchange.run()
    [failed] = [e for e in exchange.recorder.events if e.name == "Failed"]
    assert failed.cause is EventCause.networkCongestion



def test_provider_reinvite_is_answered():
    exchange = TrunkExchange()
    exchange.provider.call("030123456101")
    exchange.run()
    exchange.phone("101").answer()
    exchange.run()
    exchange.provider.hold()
    exchange.run()
    ok = [m for m in exchange.provider.received if getattr(m, "status", None) == 200][-1]
    assert ok.cseq.method == "INVITE" and ok.cseq.number == 2
    assert b"m=audio" in ok.body
    exchange.provider.hangUp()
    exchange.run()
    assert exchange.recorder.names()[-1] == "CallCleared"


def test_reason_both_ways():
    """
    RFC 3326: our BYE and CANCEL toward the provider say the model's
    cause as Q.850; the provider's BYE gives the cause of the clearing.
    """
    exchange = TrunkExchange()
    exchange.call("100", "00891234567")
    exchange.run()
    exchange.phone("100").hangUp()
    exchange.run()
    assert lastRequest(exchange.provider, "CANCEL").headers.get("reason").startswith("Q.850;cause=16")
    exchange.call("100", "00891234567")
    exchange.run()
    exchange.provider.answer()
    exchange.run()
    exchange.phone("100").hangUp()
    exchange.run()
    assert lastRequest(exchange.provider, "BYE").headers.get("reason").startswith("Q.850;cause=16")
    exchange.provider.call("030123456101")
    exchange.run()
    exchange.phone("101").answer()
    exchange.run()
    exchange.recorder.take()
    dialog = exchange.provider._dialog(None)
    bye = dialog.createRequest("BYE")
    bye.headers.add("reason", 'Q.850;cause=38;text="Network out of order"')
    exchange.provider._send(dialog, bye)
    exchange.run()
    cleared = [e for e in exchange.recorder.events if e.name == "ConnectionCleared"]
    assert cleared[0].cause is EventCause.networkOutOfOrder
