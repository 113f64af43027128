"""
SIP trunks: lines to VoIP providers as trunk devices of the call model.

One L{TrunkSettings} describes one provider account and serves one trunk
group: the devices with C{type = "trunk"}, C{port = "sip-trunk"} and that
C{trunk-group} are its channels, each carrying one call at a time.

The port is the provider-side half of a back-to-back user agent, an
application of the C{sip} component's user agent core beside the
sip-lines port:

  - an INVITE from the provider (its addresses: the targets its host
    resolves to, the outbound proxy, the C{accept-from} addresses) takes
    a free channel, whose call the model routes by the called number (the
    Request-URI's user part, else To's) through the dial plan's DIDs; the
    model's alerting and answer come back as 180 and 200, its failure as
    the matching error status; CANCEL and BYE end it;
  - a call the model sends out through a channel (a dial plan route to
    the trunk group) is an INVITE to the provider: the Request-URI and To
    carry the called number written the way the trunk expects
    (L{oso.ports.numberformat}), From (and P-Asserted-Identity toward a
    trusted trunk) the calling extension's public number, or the one its
    phone preferred among those it may present; 401 and 407
    challenges are answered with the trunk's credentials
    (L{oso.sip.uacauth}).

Early media passes both ways through the call model (a 183 with SDP),
provisional responses are reliable (RFC 3262) toward a provider that asks
and PRACKed when it sends them, and re-INVITEs and UPDATEs (RFC 3311) pass
between the provider's leg and a phone's (L{oso.ports.sip_peers}).

The SIP dialogs are the legs of L{oso.sip.legs}, as for phones; this
module translates between them and the call model.
"""

from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

from twisted.internet.defer import ensureDeferred, gatherResults
from twisted.logger import Logger
from zope.interface import implementer

from oso.callmodel import errors
from oso.callmodel import events as ev
from oso.callmodel.causes import EventCause
from oso.callmodel.devices import DeviceType
from oso.interfaces import IEventObserver, IPortDriver, ITerminal
from oso.interfaces.sip import ISIPApplication
from oso.ports.numberformat import NumberFormat
from oso.ports.sip_peers import callerMedia, peersOf
from oso.ports.trunk_transfers import TrunkTransfers
from oso.sip.dialog import DialogID, dialogIDOf
from oso.sip.headers import NameAddress
from oso.sip.identity import CallerIdentity, applyIdentity, incomingIdentity, numberOf
from oso.sip.legmedia import LegMedia
from oso.sip.legs import (InboundLeg, OutboundLeg, passEarlyMedia, passFarMedia, sdpOf,
                          sdpProblem)
from oso.sip.reliable import ReliableReceiver, badExtension
from oso.sip.locator import LocatorError
from oso.sip.reason import causeOf, reasonForCause
from oso.sip.transaction import makeResponse
from oso.sip.transactions import answerCancel, userFor
from oso.sip.transport import hostReference
from oso.sip.trunkregistration import TrunkRegistration
from oso.sip.uri import SIPParseError, SIPURI

#: What the provider hears when a call from it fails, by the model's
#: cause (RFC 3261 21.4-21.6, as RFC 3398 maps ISDN causes).
STATUS_FOR_CAUSE = {
    EventCause.busy: (486, None),
    EventCause.doNotDisturb: (486, None),
    EventCause.numberUnallocated: (404, None),
    EventCause.destNotObtainable: (404, None),
    EventCause.invalidNumberFormat: (484, None),
    EventCause.destOutOfOrder: (480, None),
    EventCause.callNotAnswered: (480, "Temporarily Unavailable (No Answer)"),
    EventCause.trunksBusy: (503, None),
    EventCause.networkCongestion: (503, None),
}

#: What the provider's final refusal of our INVITE means to the model
#: (RFC 3398 8.2.6.1, the other way round).
CAUSE_FOR_STATUS = {
    404: EventCause.numberUnallocated,
    410: EventCause.numberUnallocated,
    484: EventCause.invalidNumberFormat,
    485: EventCause.invalidNumberFormat,
    486: EventCause.busy,
    600: EventCause.busy,
    480: EventCause.destOutOfOrder,
    408: EventCause.destOutOfOrder,
    603: EventCause.destOutOfOrder,
    503: EventCause.networkCongestion,
    500: EventCause.networkCongestion,
    502: EventCause.networkCongestion,
    504: EventCause.networkCongestion,
}


@dataclass(frozen=True)
class TrunkSettings:
    """
    One provider account, serving one trunk group (the component's
    C{[[components.sip-trunk.trunks]]} entry; C{doc/configuration.md}).

    @ivar trunkGroup: the trunk group whose C{sip-trunk} devices are the
        channels.
    @ivar provider: the provider's domain, or host (name or address).
    @ivar providerPort: an explicit port, or C{None} (RFC 3263 finds it).
    @ivar transport: C{"UDP"}, C{"TCP"}, C{"TLS"}, or C{None} (RFC 3263).
    @ivar outboundProxy: C{(host, port or None)} every request goes to,
        or C{None}.
    @ivar username: the account's user name (digest and From without a
        public number).
    @ivar password: its password.
    @ivar aka: C{(k, op, opc)} bytes (one of C{op} and C{opc} C{None}) for
        Digest AKA, or C{None}.
    @ivar register: whether the trunk registers.
    @ivar registerInterval: the Expires it asks for, seconds.
    @ivar channels: the number of channels, or C{None} (as many as the
        trunk group has devices).
    @ivar dids: the called numbers the trunk delivers, as E.164 prefixes
        (C{+4930123456}); empty for any.
    @ivar numbers: the L{NumberFormat} the provider expects and sends.
    @ivar trusted: whether the provider is trusted for asserted identity
        (RFC 3325): its P-Asserted-Identity is believed, ours sent.
    @ivar acceptFrom: more addresses (IP, any port) the provider sends new
        requests from.
    @ivar stun: C{(ip, port)} of a STUN server, or C{None}.
    @ivar stunInterval: seconds between STUN binding requests.
    @ivar mediaRelay: whether calls' media goes through oso's relay
        (L{oso.media.anchor}).
    """

    trunkGroup: str
    provider: str
    providerPort: int | None = None
    transport: str | None = None
    outboundProxy: tuple | None = None
    username: str = ""
    password: str = ""
    aka: tuple | None = None
    register: bool = False
    registerInterval: int = 3600
    channels: int | None = None
    dids: tuple = ()
    numbers: NumberFormat = field(default_factory=NumberFormat)
    trusted: bool = False
    acceptFrom: tuple = ()
    stun: tuple | None = None
    stunInterval: int = 300
    mediaRelay: bool = False


class _Session:
    """
    The one call of a channel and the leg that carries it.

    @ivar connection: the model's connection (C{None} while the
        provider's INVITE is being routed).
    @ivar leg: the L{InboundLeg} or L{TrunkOutboundLeg}.
    @ivar media: the origin and version of the SDP we send the provider.
    @ivar offer: the model's L{oso.callmodel.calls.Offer} of a call to the
        provider, else C{None}.
    @cvar legs: no forks: the one leg is C{leg} (L{oso.ports.sip_peers}).
    @ivar anchor: the L{oso.media.anchor.MediaAnchor} relaying its media,
        or C{None} (the parties send to each other).
    """

    legs = ()

    def __init__(self, channel, connection, address):
        self.channel = channel
        self.connection = connection
        self.leg = None
        self.media = LegMedia(address)
        self.offer = None
        self.anchor = None

    def inward(self, body):
        """
        The provider's description as the call model gets it.
        """
        return body if self.anchor is None else self.anchor.toPhone(body)

    def outward(self, media):
        """
        The model's media as the provider's description names it.
        """
        return media if self.anchor is None else self.anchor.toProvider(media)

    def whenReady(self, media, action):
        """
        Call C{action()} once the relay knows the public addresses
        C{media} needs: at once without a relay.
        """
        if self.anchor is None:
            action()
        else:
            self.anchor.whenReady(media, action)


class Trunk:
    """
    One provider account at run time: its settings, the authenticator of
    its credentials, its registration (if it registers) and where its
    requests go.

    @ivar targets: the L{oso.sip.locator.Target}s of the provider (or the
        outbound proxy), located at start.
    @ivar registration: the L{oso.sip.trunkregistration.TrunkRegistration},
        or C{None}.
    @ivar inService: whether calls can go through it: registered, or
        located when it does not register.
    @ivar ua: the L{TrunkUA} its legs send through (set by the port).
    """

    def __init__(self, settings, authenticator, stun=None, media=None):
        """
        @param stun: the L{oso.sip.trunkstun.TrunkStun} that keeps the
            public address of the SIP UDP socket, or C{None}.
        @param media: the L{oso.media.anchor.MediaRelays} of its calls, or
            C{None} (no relay).
        """
        self.settings = settings
        self.authenticator = authenticator
        self.stun = stun
        self.media = media
        self.ua = None
        self.registration = None
        self.targets = []
        self.inService = False

    def publicAddress(self, transport):
        """
        The address the provider sees us at over C{transport}: what STUN
        found for UDP, else C{None} (our own).
        """
        if transport != "UDP" or self.stun is None:
            return None
        return self.stun.currentAddress()

    def registrationFor(self, ua, clock, owner, locator, statusChanged):
        """
        The L{TrunkRegistration} of the account, not started.
        """
        s = self.settings
        proxy = None
        if s.outboundProxy is not None:
            host, port = s.outboundProxy
            proxy = SIPURI(hostReference(host), port=port, params={"lr": None})
        return TrunkRegistration(
            ua, clock,
            owner=owner,
            aor=SIPURI(hostReference(s.provider), user=s.username),
            registrarURI=self.uri(None),
            transport=s.transport,
            outboundProxy=proxy,
            authenticator=self.authenticator,
            interval=s.registerInterval,
            locator=locator,
            contactAddress=self.stun.currentAddress if self.stun is not None else None,
            statusChanged=statusChanged,
        )

    @property
    def target(self):
        """
        Where INVITEs go: the registration's current target, else the
        first located one; C{None} when there is none.
        """
        if self.registration is not None and self.registration.target is not None:
            return self.registration.target
        return self.targets[0] if self.targets else None

    def sendsFrom(self, host, port):
        """
        Whether a new request from C{(host, port)} is the provider's.
        """
        if host in self.settings.acceptFrom:
            return True
        candidates = list(self.targets)
        if self.registration is not None and self.registration.target is not None:
            candidates.append(self.registration.target)
        return any(t.host == host and t.port == port for t in candidates)

    def uri(self, user):
        """
        A SIP URI of the provider's domain with C{user}.
        """
        s = self.settings
        params = {"transport": s.transport.lower()} if s.transport == "TCP" else None
        return SIPURI(hostReference(s.provider), user=user, port=s.providerPort,
                      scheme="sips" if s.transport == "TLS" else "sip", params=params)

    def calledNumber(self, request):
        """
        The number a call from the provider is for, as E.164 where the
        trunk's presentation tells: the Request-URI's user part, unless
        that is the account (a provider that sends to the registered
        Contact), then To's.
        """
        called = numberOf(request.uri)
        if not called or called == self.settings.username:
            called = numberOf(request.toAddress.uri)
        return self.settings.numbers.toE164(called or "")


class TrunkUA:
    """
    The user agent as one trunk's legs see it: the C{sip} component's,
    with the trunk's public address (STUN) in Via and Contact over UDP,
    and the port keeping which leg sent which request.
    """

    def __init__(self, port, trunk):
        self._port = port
        self._trunk = trunk

    @property
    def clock(self):
        return self._port.ua.clock

    @property
    def timers(self):
        return self._port.ua.timers

    @property
    def methods(self):
        return self._port.methods

    def via(self, transport):
        via = self._port.ua.via(transport)
        public = self._trunk.publicAddress(transport)
        if public is not None:
            via.host, via.port = hostReference(public[0]), public[1]
        return via

    def contact(self, transport):
        uri = self._port.ua.contact(transport)
        public = self._trunk.publicAddress(transport)
        if public is not None:
            uri = uri.copy()
            uri.host, uri.port = hostReference(public[0]), public[1]
        return uri

    def request(self, request, destination, transport, leg):
        return self._port.request(request, destination, transport, leg)

    def sendAck(self, ack, destination, transport):
        self._port.ua.sendAck(ack, destination, transport)

    def cancel(self, transaction):
        self._port.ua.cancel(transaction)


@implementer(ITerminal)
class TrunkChannel:
    """
    One channel of a trunk (one trunk device): at most one call.

    @ivar number: the trunk device's number.
    @ivar session: the L{_Session} of its call, or C{None}.
    """

    def __init__(self, port, trunk, number):
        self.port = port
        self.trunk = trunk
        self.number = number
        self.session = None

    # What the call model asks (ITerminal).

    def offer(self, connection, offer):
        port = self.port
        target = self.trunk.target
        if target is None or self.session is not None:
            port.model.rejected(connection, EventCause.trunksBusy)
            return
        session = self.session = _Session(self, connection, port.mediaAddress(target.transport))
        session.offer = offer
        port.anchor(session, target.transport)
        session.whenReady(offer.media, lambda: self._dialReady(session, target))

    def _dialReady(self, session, target):
        if self.session is not session:
            # Cleared while the relay waited for STUN.
            return
        if not self.dial(target):
            self.session = None
            self.port.forget(session)
            self.port.model.rejected(session.connection, EventCause.trunksBusy)

    def dial(self, target):
        """
        Send the session's call to the provider at C{target} (a
        L{oso.sip.locator.Target}) on a new leg.

        @return: whether the INVITE went out.
        """
        port = self.port
        trunk = self.trunk
        session = self.session
        offer = session.offer
        numbers = trunk.settings.numbers
        called = numbers.present(offer.calledDevice)
        caller, name = port.callingParty(offer.callingDevice, offer.presentedNumber)
        identity = CallerIdentity(numbers.present(caller) if caller else trunk.settings.username,
                                  name, offer.callingRestricted)
        leg = TrunkOutboundLeg(trunk.ua, port, (target.host, target.port), target.transport,
                               trunk, identity)
        leg.session = session
        session.leg = leg
        leg.start(trunk.uri(called), NameAddress(trunk.uri(identity.number), name),
                  NameAddress(trunk.uri(called)), session.media.offer(session.outward(offer.media)))
        return not leg.ended

    def failed(self, connection, cause):
        session = self._session(connection)
        if session is None or session.leg is None:
            return
        leg = session.leg
        if isinstance(leg, InboundLeg) and leg.dialog is None:
            status, reason = STATUS_FOR_CAUSE.get(cause, (480, None))
            leg.refuse(status, reason)
        else:
            leg.bye(reasonForCause(cause))
        # The model hears the end later, not from inside its own report.
        self.port.clock.callLater(0, self._gone, session, cause)

    def answer(self, connection):
        raise errors.invalidCallState(f"{self.number} is a trunk: the network answers")

    def clear(self, connection, cause):
        session = self._session(connection)
        if session is None:
            return
        self.session = None
        self.port.forget(session)
        leg = session.leg
        if leg is None:
            return
        if isinstance(leg, InboundLeg) and leg.dialog is None:
            status, reason = STATUS_FOR_CAUSE.get(cause, (480, None))
            leg.refuse(status, reason)
        elif leg.referring:
            # The provider's REFER: its subscription outlives the connection.
            self.port.transfersOf(leg).transferorCleared(leg)
        elif isinstance(leg, InboundLeg):
            leg.bye(reasonForCause(cause))
        else:
            # RFC 3326: the provider hears why (a BYE once answered).
            leg.cancel(reasonForCause(cause))

    def hold(self, connection):
        pass

    def retrieve(self, connection):
        pass

    def generateDigits(self, connection, digits):
        session = self._session(connection)
        if session is not None and session.leg is not None:
            session.leg.sendDigits(digits)

    def mediaChanged(self, connection, media):
        session = self._session(connection)
        if session is None:
            return
        session.whenReady(media, lambda: self._passFar(session, media))

    def _passFar(self, session, media):
        if self.session is session and session.leg is not None:
            passFarMedia(session.leg, session.outward(media), session.media,
                         self.port.answered, self.port.peers.offerMethod)

    def earlyMedia(self, connection, media):
        session = self._session(connection)
        if session is not None:
            session.whenReady(media, lambda: self._passEarly(session, media))

    def _passEarly(self, session, media):
        if self.session is session:
            passEarlyMedia(session.leg, session.outward(media), session.media)

    # Internals.

    def _session(self, connection):
        """
        The channel's session if C{connection} is its call's; the
        provider's INVITE being routed learns its connection here.
        """
        session = self.session
        if session is None:
            return None
        if session.connection is None:
            session.connection = connection
        return session if session.connection is connection else None

    def _gone(self, session, cause):
        if self.session is session:
            self.session = None
            self.port.forget(session)
            self.port.model.cleared(session.connection, cause)


class TrunkOutboundLeg(OutboundLeg):
    """
    Our INVITE to the provider: an L{OutboundLeg} whose INVITE carries the
    caller's identity as the trunk's trust allows (L{applyIdentity}: From,
    and P-Asserted-Identity toward a trusted trunk), and that answers a
    401 or 407 challenge with the trunk's credentials (the same Call-ID
    and From tag, the next CSeq, a new branch; RFC 3261 22.2).
    """

    def __init__(self, ua, owner, destination, transport, trunk, identity):
        super().__init__(ua, owner, destination, transport)
        self.trunk = trunk
        self.identity = identity

    def _send(self, request):
        if request is self.invite and self.transaction is None:
            settings = self.trunk.settings
            applyIdentity(request, self.identity, settings.trusted, settings.provider)
            if settings.outboundProxy is not None:
                # RFC 3261 8.1.2: the outbound proxy as a route set of one.
                host, port = settings.outboundProxy
                request.headers.add("route", NameAddress(
                    SIPURI(hostReference(host), port=port, params={"lr": None})))
        return super()._send(request)

    def receiveResponse(self, response, transaction):
        if (
            transaction is self.transaction
            and response.status in (401, 407)
            and self.status is None
            and not self.cancelled
            and self._challenged(response)
        ):
            return
        super().receiveResponse(response, transaction)

    def _challenged(self, response):
        """
        Build the INVITE again with credentials; it goes out once this
        response is handled (after the transaction's ACK of the
        challenge).

        @return: C{True} when there is one to send.
        """
        previous = self.invite
        request = previous.__class__("INVITE", previous.uri.copy(), previous.headers.copy(),
                                     previous.body)
        fields = request.headers
        fields.remove("via")
        fields.remove("authorization")
        fields.remove("proxy-authorization")
        fields.set("cseq", f"{previous.cseq.number + 1} INVITE")
        authenticator = self.trunk.authenticator
        if authenticator is None or not authenticator.authorize(request, response):
            return False
        self.invite = request
        # The provider's reliable provisional responses answer this one
        # (RAck, and the early dialogs' CSeq after it).
        self._reliable = ReliableReceiver(request, self._contact)
        self.ua.clock.callLater(0, self._resend, request)
        return True

    def _resend(self, request):
        if self.cancelled:
            # Hung up while challenged: nothing is pending at the provider.
            self.ended = True
            return
        self.transaction = self._send(request)


@implementer(IPortDriver, IEventObserver, ISIPApplication)
class SIPTrunks:
    """
    The C{sip-trunk} port driver: the trunks (one per trunk group) whose
    channels are the trunk devices with C{port = "sip-trunk"}; a specific
    application of the C{sip} component's user agent that takes its
    providers' requests and its own dialogs.

    @ivar model: the call model.
    @ivar ua: the L{oso.interfaces.sip.IUserAgent} it sends through.
    @ivar trunks: the L{Trunk}s by trunk group.
    """

    log = Logger()
    methods = frozenset(
        {"INVITE", "ACK", "BYE", "CANCEL", "INFO", "OPTIONS", "REFER", "PRACK", "UPDATE"}
    )
    #: The option tags the port serves (Supported; an INVITE that
    #: requires anything else gets 420).
    supported = frozenset({"100rel"})

    def __init__(self, model, ua, trunks, locator, name="sip-trunk"):
        """
        @param trunks: the L{Trunk}s.
        @param locator: the L{oso.sip.locator.Locator} that finds the
            providers.
        """
        self.name = name
        self.model = model
        self.ua = ua
        self.locator = locator
        self.trunks = {trunk.settings.trunkGroup: trunk for trunk in trunks}
        for trunk in trunks:
            trunk.ua = TrunkUA(self, trunk)
        self._channels = {}
        self._dialogs = {}
        self._pending = {}
        self._transactions = WeakKeyDictionary()
        self._ringback = set()
        self.peers = peersOf(ua)
        self.peers.join(self)
        self._transfers = {
            group: TrunkTransfers(self, trunk, STATUS_FOR_CAUSE)
            for group, trunk in self.trunks.items()
        }

    # Starting and stopping.

    def start(self):
        """
        Register the trunks that register (each is in service while its
        registration is), locate the others (in service once located).

        @return: a L{Deferred} that fires when every trunk that does not
            register was located (or failed to be, logged).
        """
        for trunk in self.trunks.values():
            if trunk.settings.register:
                trunk.registration = trunk.registrationFor(
                    self.ua, self.clock, self, self.locator,
                    lambda inService, trunk=trunk: self.statusChanged(trunk, inService),
                )
                trunk.registration.start()
        return gatherResults([
            ensureDeferred(self._locate(trunk))
            for trunk in self.trunks.values()
            if trunk.registration is None
        ])

    def addressChanged(self, trunk):
        """
        STUN found a new public address for the trunk's socket: the
        registration (if any) registers it.
        """
        if trunk.registration is not None:
            trunk.registration.addressChanged()

    def stop(self):
        """
        End the registrations and close the media relays.

        @return: a L{Deferred} that fires once they are over.
        """
        relays = [trunk.media.stop() for trunk in self.trunks.values() if trunk.media is not None]
        return gatherResults(relays + [trunk.registration.stop() for trunk in self._registering()])

    async def _locate(self, trunk):
        s = trunk.settings
        host, port = s.outboundProxy or (s.provider, s.providerPort)
        try:
            trunk.targets = await self.locator.locate(
                host, port, s.transport, secure=s.transport == "TLS"
            )
        except LocatorError as e:
            self.log.warn("trunk {group}: {error}", group=s.trunkGroup, error=e)
            return
        self.statusChanged(trunk, True)

    def statusChanged(self, trunk, inService):
        """
        A trunk went in or out of service (located; registered or not):
        its channels' devices follow.
        """
        trunk.inService = inService
        for device in self._devicesOf(trunk):
            if inService:
                self.model.inService(device.number)
            else:
                self.model.outOfService(device.number)

    def _devicesOf(self, trunk):
        return [
            device for device in self.model.devices()
            if device.port == self.name
            and device.type is DeviceType.trunk
            and device.trunkGroup == trunk.settings.trunkGroup
        ]

    # IPortDriver.

    def terminalFor(self, device):
        if device.port != self.name or device.type is not DeviceType.trunk:
            return None
        trunk = self.trunks.get(device.trunkGroup)
        if trunk is None:
            return None
        channel = self._channels.get(device.number)
        if channel is not None and channel.session is not None:
            return channel
        if not trunk.inService or not self._hasRoom(trunk):
            return None
        return self._channel(trunk, device.number)

    def sessionOf(self, connection):
        """
        The session of a channel of ours that carries C{connection}, or
        C{None} (L{oso.ports.sip_peers}).
        """
        channel = self._channels.get(connection.device)
        session = channel.session if channel is not None else None
        return session if session is not None and session.connection is connection else None

    def _channel(self, trunk, number):
        channel = self._channels.get(number)
        if channel is None:
            channel = self._channels[number] = TrunkChannel(self, trunk, number)
        return channel

    def deviceRemoved(self, number):
        self._channels.pop(number, None)

    def channelsBusy(self, trunk=None):
        """
        @return: how many channels (of C{trunk}, else of every trunk)
            carry a call now.
        """
        return sum(1 for c in self._channels.values()
                   if c.session is not None and trunk in (None, c.trunk))

    def _hasRoom(self, trunk):
        """
        Whether the trunk may carry one more call (C{channels} caps it
        below the number of its devices).
        """
        limit = trunk.settings.channels
        return limit is None or self.channelsBusy(trunk) < limit

    # ISIPApplication.

    def accepts(self, request, source):
        """
        Ours: a request of one of our dialogs, a CANCEL of an INVITE from a
        provider, a new request from a provider.
        """
        if request.toAddress.tag is not None:
            return self._legOf(dialogIDOf(request)) is not None
        if (request.callID, request.fromAddress.tag) in self._pending:
            return True
        return self._trunkFrom(source) is not None

    def _trunkFrom(self, source):
        _, host, port = source
        for trunk in self.trunks.values():
            if trunk.sendsFrom(host, port):
                return trunk
        return None

    def bindingsChanged(self, aor):
        pass

    def requestReceived(self, request, transaction, source):
        problem = _fieldProblem(request)
        method = request.method
        if problem is not None:
            self.log.info("{method} from a provider refused: {error}", method=method,
                          error=problem)
            if transaction is not None:
                transaction.respond(makeResponse(request, 400, _oneLine("Bad Request", problem)))
        elif method == "CANCEL":
            self.clock.callLater(0, self._answerCancel, request, transaction)
        elif method == "INVITE" and request.toAddress.tag is None:
            self._invite(request, transaction, source)
        elif self._legOf(dialogIDOf(request)) is not None:
            self._legOf(dialogIDOf(request)).receiveRequest(request, transaction)
        elif transaction is not None:
            transaction.respond(makeResponse(request, 481))

    def responseReceived(self, response, transaction):
        if any(trunk.registration.responseReceived(response, transaction)
               for trunk in self._registering()):
            return
        # No transaction: a retransmitted 2xx, for the dialog it made.
        leg = userFor(self._transactions, transaction, response) or self._dialogs.get(
            dialogIDOf(response))
        problem = _fieldProblem(response)
        if problem is not None:
            self.log.info("{response} dropped: {error}", response=response, error=problem)
        elif leg is not None:
            leg.receiveResponse(response, transaction)

    def transactionFailed(self, transaction, reason):
        if any(trunk.registration.transactionFailed(transaction, reason)
               for trunk in self._registering()):
            return
        leg = self._transactions.pop(transaction, None)
        if leg is not None:
            leg.failed(transaction, reason)

    def _legOf(self, dialogID):
        """
        The leg of a dialog of ours: a confirmed one, the provider's
        INVITE's, or the early dialog a reliable provisional response of
        the provider made with our INVITE (its PRACK and UPDATE).
        """
        leg = self._dialogs.get(dialogID)
        if leg is not None:
            return leg
        for channel in self._channels.values():
            leg = channel.session.leg if channel.session is not None else None
            if leg is not None and leg.dialog is None and leg.early is not None \
                    and leg.early.id == dialogID:
                return leg
        return None

    def _registering(self):
        return [trunk for trunk in self.trunks.values() if trunk.registration is not None]

    # IEventObserver: the provider hears 180 when the called party alerts.

    def eventReceived(self, event):
        for transfers in self._transfers.values():
            transfers.eventReceived(event)
        if not isinstance(event, ev.Delivered) or not self._ringback:
            return
        callID = event.connection.callID
        for leg in list(self._ringback):
            connection = leg.session.connection
            if connection is None or connection.call.id == callID:
                leg.ringing()

    # Sending for the legs (through the component's user agent).

    @property
    def clock(self):
        return self.ua.clock

    def request(self, request, destination, transport, leg):
        transaction = self.ua.request(request, destination, transport, owner=self)
        self._transactions[transaction] = leg
        return transaction

    def mediaAddress(self, transport):
        """
        The address our SDP names (the listener's).
        """
        return self.ua.contact(transport).host.strip("[]")

    def anchor(self, session, transport):
        """
        Give a session a media anchor on its trunk's relay (if it has
        one), its sockets on our address over C{transport}; a public
        address STUN finds later is offered to the provider.
        """
        relays = session.channel.trunk.media
        if relays is not None:
            address = self.mediaAddress(transport)
            session.anchor = relays.anchor(address, address, lambda: self._mediaMoved(session))

    def _mediaMoved(self, session):
        leg = session.leg
        if session.channel.session is session and leg is not None and leg.dialog is not None:
            passFarMedia(leg, session.outward(session.anchor.far), session.media, self.answered)

    def callingParty(self, number, presented=None):
        """
        The public number and name a call from device C{number} shows the
        network: the number it chose to present (C{presented}, one of its
        presentable numbers, RFC 3325 9.2), else its C{public-number}
        (E.164 digits) with a C{+}, else none (the trunk's account then);
        an external caller (a call from the network forwarded out again)
        keeps its number.

        @return: C{(number or None, name or None)}.
        """
        try:
            device = self.model.device(number)
        except errors.CSTAError:
            return (number if number and number.lstrip("+").isdigit() else None), None
        public = presented or device.publicNumber
        return ("+" + public if public else None), device.name or None

    # A call from the provider.

    def _invite(self, request, transaction, source):
        trunk = self._trunkFrom(source)
        if trunk is None:
            # A CANCEL-matched Call-ID that sent a new INVITE: not ours.
            transaction.respond(makeResponse(request, 403))
            return
        refusal = badExtension(request, self.supported)
        if refusal is not None:
            transaction.respond(refusal)
            return
        problem = sdpProblem(sdpOf(request))
        if problem is not None:
            self.log.info("INVITE from {source} refused: {problem}", source=source, problem=problem)
            transaction.respond(makeResponse(request, 400, _oneLine("Bad Request", problem)))
            return
        numbers = trunk.settings.numbers
        called = trunk.calledNumber(request)
        if not called or not _delivers(trunk.settings.dids, called):
            self.log.info("trunk {group}: call to {called!r} is no DID of it",
                          group=trunk.settings.trunkGroup, called=called)
            transaction.respond(makeResponse(request, 404, "Not Found (no such DID)"))
            return
        channel = self._freeChannel(trunk)
        if channel is None:
            transaction.respond(makeResponse(request, 503, "Service Unavailable (All Channels Busy)"))
            return
        try:
            identity = incomingIdentity(request, trunk.settings.trusted)
        except SIPParseError as e:
            transaction.respond(makeResponse(request, 400, _oneLine("Bad Request", e)))
            return
        caller = numbers.toE164(identity.number or "")
        self.log.info("trunk {group}: call from {caller} to {called} on channel {channel}",
                      group=trunk.settings.trunkGroup, caller=caller or "(unknown)",
                      called=called, channel=channel.number)
        leg = InboundLeg(trunk.ua, self, request, transaction, source)
        leg.trying()
        session = channel.session = _Session(channel, None, self.mediaAddress(source[0]))
        session.leg = leg
        leg.session = session
        self.anchor(session, source[0])
        key = (request.callID, request.fromAddress.tag)
        self._pending[key] = leg
        self._dialogs[DialogID(request.callID, leg.localTag, request.fromAddress.tag)] = leg
        self._ringback.add(leg)
        # A caller who asked not to be shown (RFC 3323) is known, not
        # presented.
        connection = self.model.originate(channel.number, called, session.inward(leg.remoteSDP),
                                          callingNumber=caller or None,
                                          restricted=identity.restricted)
        channel._session(connection)

    def _freeChannel(self, trunk):
        if not trunk.inService or not self._hasRoom(trunk):
            return None
        for device in self._devicesOf(trunk):
            channel = self._channel(trunk, device.number)
            if channel.session is None and not self.model.snapshotDevice(device.number):
                return channel
        return None

    def _answerCancel(self, request, transaction):
        leg = self._pending.get((request.callID, request.fromAddress.tag))
        if leg is not None and leg.transaction is not transaction.cancels:
            leg = None
        if not answerCancel(transaction, leg.localTag if leg else None) or leg is None:
            return
        leg.ended = True
        # RFC 3326: the provider may say why (answered elsewhere, ...).
        self._hungUp(leg, causeOf(request))

    # What the legs report.

    def answered(self, leg):
        """
        An inbound leg was answered: it now has a dialog.
        """
        self._ringback.discard(leg)
        self._pending.pop((leg.invite.callID, leg.invite.fromAddress.tag), None)

    def legRinging(self, leg):
        connection = leg.session.connection
        if connection is not None:
            self.model.alerting(connection)

    def legAccepted(self, leg, body):
        session = leg.session
        self._dialogs[leg.dialog.id] = leg
        if session.channel.session is not session or session.connection.ended:
            leg.bye()
            return
        if body is not None:
            leg.remoteSDP = body
        self.model.answered(session.connection, session.inward(body))

    def legRefused(self, leg, response):
        session = leg.session
        if (response is None or response.status == 503) and self._failover(leg):
            return
        status = response.status if response is not None else 408
        cause = CAUSE_FOR_STATUS.get(status, EventCause.destOutOfOrder)
        self.log.info("trunk {group}: INVITE to {uri} refused with {status}",
                      group=session.channel.trunk.settings.trunkGroup,
                      uri=leg.invite.uri, status=status)
        if session.channel.session is session:
            session.channel.session = None
            self.forget(session)
            self.model.rejected(session.connection, cause)

    def _failover(self, leg):
        """
        RFC 3263 4.3: the provider's target did not answer the INVITE (or
        said 503): the call goes to the next located target, if any.

        @return: whether it went.
        """
        session = leg.session
        channel = session.channel
        if channel.session is not session or session.connection.ended:
            return False
        targets = channel.trunk.targets
        tried = [i for i, t in enumerate(targets)
                 if (t.host, t.port, t.transport) == (*leg.destination, leg.transport)]
        for target in targets[tried[0] + 1:] if tried else ():
            self.log.info("trunk {group}: INVITE to {failed} failed, trying {target}",
                          group=channel.trunk.settings.trunkGroup,
                          failed=leg.destination, target=(target.host, target.port))
            if channel.dial(target):
                return True
        return False

    def legHungUp(self, leg):
        self._hungUp(leg, causeOf(leg.endedBy))

    def legReoffered(self, leg, body):
        """
        The provider sent a new offer (a re-INVITE or UPDATE): in an early
        dialog, an UPDATE to the other party's early leg where it can take
        one; in a confirmed one, passed through the model to a SIP peer
        of the other party, whose answer comes back in ours (as an UPDATE
        when the provider sent one); toward any other terminal we answer it
        from what we know of the far end, and the far end hears of the new
        media (L{oso.ports.sip_peers}).
        """
        session = leg.session
        if session.anchor is not None:
            self._reofferedAnchored(leg, body)
        elif leg.dialog is None:
            self.peers.earlyOffer(self.model, leg, body)
        elif self.peers.relays(session):
            with self.peers.passing(leg.peerOffer.request.method):
                self.model.mediaOffered(session.connection, body)
        else:
            leg.answerPeerOffer(session.media.answer(body))
            self.model.mediaOffered(session.connection, body)

    def _reofferedAnchored(self, leg, body):
        """
        A new offer of the provider on a call whose media the relay
        anchors: answered here (the relay's sockets stay what the provider
        has), the relay re-points, and the other party hears of what
        changes in its view (before the answer, only a calling party's
        media is the model's, as in L{oso.ports.sip_peers.callerMedia}).
        """
        session = leg.session
        leg.answerPeerOffer(session.media.answer(body))
        media = session.inward(body)
        if leg.dialog is None:
            callerMedia(self.model, leg, media)
        else:
            self.model.mediaOffered(session.connection, media)

    def legAnswered(self, leg, body):
        session = leg.session
        if session.anchor is not None:
            session.inward(body)
        else:
            self.peers.passAnswer(self.model, leg, body)

    def legOfferRefused(self, leg, response):
        self.peers.passRefusal(leg, response)

    def legEarlyMedia(self, leg, body):
        """
        The provider answered our offer in a provisional response (183
        with SDP): the call model passes that early media to the calling
        party (a calling phone gets it in a 183).
        """
        session = leg.session
        if session.channel.session is session and not session.connection.ended:
            self.model.earlyMedia(session.connection, session.inward(body))

    def legReferred(self, leg, request, transaction):
        """
        The provider asks to transfer the call with REFER: see
        L{oso.ports.trunk_transfers}.
        """
        self.transfersOf(leg).referred(leg, request, transaction)

    def legNotifyRefused(self, leg):
        self.transfersOf(leg).notifyRefused(leg)

    def transfersOf(self, leg):
        """
        The L{TrunkTransfers} of the trunk whose call C{leg} carries.
        """
        return self._transfers[leg.session.channel.trunk.settings.trunkGroup]

    def legMediaChanged(self, leg, body):
        self.model.mediaOffered(leg.session.connection, leg.session.inward(body))

    def currentOffer(self, leg):
        return leg.session.media.offer()

    def answerFor(self, leg, offer):
        return leg.session.media.answer(offer)

    # Internals.

    def _hungUp(self, leg, cause):
        session = leg.session
        channel = session.channel
        if channel.session is not session:
            return
        channel.session = None
        self.forget(session)
        if session.connection is not None:
            self.model.cleared(session.connection, cause)

    def forget(self, session):
        """
        Drop the port's indexes of a session's leg, and close its relay.
        """
        if session.anchor is not None:
            session.anchor.close()
        leg = session.leg
        if leg is None:
            return
        self._ringback.discard(leg)
        if leg.dialog is not None:
            self._dialogs.pop(leg.dialog.id, None)
        if isinstance(leg, InboundLeg):
            self._pending.pop((leg.invite.callID, leg.invite.fromAddress.tag), None)
            self._dialogs.pop(
                DialogID(leg.invite.callID, leg.localTag, leg.invite.fromAddress.tag), None
            )


def _delivers(dids, number):
    """
    Whether C{number} (E.164) is in one of the trunk's DID ranges.
    """
    return not dids or any(number.startswith(prefix) for prefix in dids)


def _fieldProblem(message):
    """
    What the dialogs will read of a message (Contact, Record-Route),
    checked now: a malformed field is the sender's problem, not a failure
    later inside the call model.

    @return: the L{SIPParseError}, or C{None}.
    """
    try:
        message.contacts
        message.recordRoutes
    except SIPParseError as e:
        return e
    return None


def _oneLine(phrase, problem):
    return f"{phrase} ({' '.join(str(problem).split())[:120]})"
