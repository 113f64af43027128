"""
The user agent core of the C{sip} component (RFC 3261 8.2, 10.3, 11): the
transaction layer over the transports, answering REGISTER (registrar with
digest authentication) and out-of-dialog OPTIONS itself, refusing methods
nobody takes (405, 501), and passing the rest to the attached applications
(L{oso.interfaces.sip.ISIPApplication}: trunks, and the sip-lines port as
the fallback).

It knows the sockets only as a C{send(message, destination, transport)}
callable and the addresses they listen on, so it runs on an in-memory
clock and network in tests as well as on the reactor.
"""

from weakref import WeakKeyDictionary

from twisted.logger import Logger
from zope.interface import implementer

from oso.interfaces.sip import IUserAgent
from oso.sip.client import ClientTransaction
from oso.sip.dialog import newTag
from oso.sip.digest import AuthOutcome
from oso.sip.headers import KnownAddress, Via
from oso.sip.transaction import TransactionError, makeResponse, newBranch, sentResponse
from oso.sip.transactions import TransactionLayer
from oso.sip.transport import hostReference, reasonFor, viaTransport
from oso.sip.uri import SIPParseError, SIPURI

#: The methods of RFC 3261 and its common extensions: a request with one
#: of these that nobody here takes gets 405, any other method 501
#: (RFC 3261 8.2.1, 21.5.2).
KNOWN_METHODS = frozenset(
    "INVITE ACK BYE CANCEL OPTIONS REGISTER PRACK SUBSCRIBE NOTIFY PUBLISH "
    "INFO REFER MESSAGE UPDATE".split()
)

#: What the core answers itself.
OWN_METHODS = frozenset({"REGISTER", "OPTIONS"})

#: The digest outcomes a REGISTER is challenged for (a tuple: an enum
#: member is found in it by identity, where looking each up on the enum
#: class costs an attribute lookup of the enum's own, per request).
_STALE = AuthOutcome.stale
_CHALLENGED = (AuthOutcome.missing, _STALE)


@implementer(IUserAgent)
class UserAgent:
    """
    The UA core (see the module docstring and L{IUserAgent}).

    @ivar layer: the L{TransactionLayer}.
    """

    log = Logger()

    def __init__(self, clock, send, localAddress, registrar, authenticator, lookupHA1,
                 timers=None):
        """
        @param send: C{send(message, destination, transport)}, raising
            C{OSError} when it cannot.
        @param localAddress: C{transport -> (host, port)} we are reachable
            at, or C{None} for a transport we do not listen on.
        @param registrar: the L{oso.sip.registrar.Registrar}; its
            C{bindingsChanged} hook must be L{bindingsChanged}.
        @param authenticator: the L{oso.sip.digest.DigestAuthenticator}.
        @param lookupHA1: C{username -> HA1 hex or None} for the
            authenticator's realm.
        @param timers: the L{oso.sip.transaction.TimerConfig}.
        """
        self.clock = clock
        self._send = send
        self._localAddress = localAddress
        self.registrar = registrar
        self.authenticator = authenticator
        self._lookupHA1 = lookupHA1
        self.layer = TransactionLayer(
            clock, send, self._requestArrived, self._responseArrived, self._failed, timers
        )
        self.timers = self.layer.config
        #: The attached applications, in the order they are asked.
        self._applications = []
        self._fallback = None
        #: Which application started each live client transaction.
        self._owners = WeakKeyDictionary()
        self._source = None
        self._registered = set()

    # IUserAgent.

    def via(self, transport):
        host, port = self._localAddress(transport)
        return Via(transport, hostReference(host), port, {"branch": newBranch(), "rport": None})

    def contact(self, transport):
        address = self._localAddress(transport)
        if address is None:
            # No listener of that transport (a TLS-only server asked for
            # its UDP contact, the address its SDP and From fields name):
            # the first transport that has one.
            for transport in ("UDP", "TCP", "TLS"):
                if (address := self._localAddress(transport)) is not None:
                    break
        host, port = address
        if transport == "TLS":
            return SIPURI(hostReference(host), port=port, scheme="sips")
        params = {"transport": "tcp"} if transport == "TCP" else None
        return SIPURI(hostReference(host), port=port, params=params)

    def _sized(self, request, transport):
        """
        RFC 3261 18.1.1: a UDP request too large goes over TCP, its Via
        saying so.
        """
        chosen = viaTransport(request.serialise(), transport)
        if chosen != transport and self._localAddress(chosen) is not None:
            request.via.transport = chosen
            return chosen
        return transport

    def request(self, request, destination, transport, owner=None):
        transport = self._sized(request, transport)
        transaction = self.layer.request(request, destination, transport)
        if owner is not None:
            self._owners[transaction] = owner
        return transaction

    def sendAck(self, ack, destination, transport):
        transport = self._sized(ack, transport)
        try:
            self._send(ack, destination, transport)
        except OSError as e:
            self.log.info("ACK to {destination} not sent: {error}", destination=destination, error=e)

    def cancel(self, transaction):
        self.layer.cancel(transaction)

    def attach(self, application, fallback=False):
        if application is self._fallback or application in self._applications:
            raise ValueError(f"{application!r} is attached already")
        if fallback:
            if self._fallback is not None:
                raise ValueError(f"{self._fallback!r} is the fallback application already")
            self._fallback = application
        else:
            self._applications.append(application)
        for aor in sorted(self._registered):
            self._guarded(application.bindingsChanged, aor)

    def detach(self, application):
        if self._fallback is application:
            self._fallback = None
        elif application in self._applications:
            self._applications.remove(application)

    def _attached(self):
        """
        The applications in the order a request is offered to them: the
        specific ones in attach order, the fallback last.
        """
        if self._fallback is None:
            return self._applications
        return self._applications + [self._fallback]

    def _taker(self, request):
        """
        The application a request goes to: the first that takes its
        method and accepts it (the fallback takes every request of its
        methods), or C{None}.
        """
        method = request.method
        for application in self._applications:
            if method in application.methods and application.accepts(request, self._source):
                return application
        fallback = self._fallback
        if fallback is not None and method in fallback.methods:
            return fallback
        return None

    def stop(self):
        """
        End every transaction timer, of live transactions and of completed
        ones waiting to absorb retransmissions (Timers J and K) alike: the
        server is stopping, so no more retransmissions or timeouts.
        """
        self.layer.lanes.stop()

    # The registrar's hook.

    def bindingsChanged(self, aor):
        """
        The registrar changed the contacts of C{aor}: the application
        hears it; the core keeps which AORs have contacts for the next
        L{attach}.
        """
        if self.registrar.contacts(aor):
            self._registered.add(aor)
        else:
            self._registered.discard(aor)
        for application in self._attached():
            self._guarded(application.bindingsChanged, aor)

    # From the transports.

    def receive(self, message, source, transport):
        """
        A well-formed message arrived from C{source} (C{(host, port)}).
        Nothing it holds can raise out of here: what fails is logged.
        """
        self._source = (transport, source[0], source[1])
        try:
            self.layer.receive(message, source, transport)
        except SIPParseError as e:
            # A field the matching reads beyond what parsing checked (a
            # response's lower Via).
            self.log.info("{message} from {source} dropped: {error}",
                          message=message, source=source, error=e.message)
        except Exception:
            self.log.failure("SIP message from {source} not handled", source=source)
        finally:
            self._source = None

    def connectionFailed(self, transport, host, port):
        """
        A connection we made for requests could not be made: their client
        transactions fail with a transport error (RFC 3261 17.1.4).
        """
        for transaction in self.layer.transactions:
            if (
                isinstance(transaction, ClientTransaction)
                and transaction.transport == transport
                and tuple(transaction.destination) == (host, port)
                and transaction.state != "Terminated"
            ):
                transaction._feed("transportError")

    # The transaction user.

    def _requestArrived(self, request, transaction):
        method = request.method
        try:
            if method == "REGISTER":
                self._register(request, transaction)
            elif method == "OPTIONS" and request.toAddress.tag is None:
                transaction.respond(self._capabilities(request))
            else:
                application = self._taker(request)
                if application is not None:
                    application.requestReceived(request, transaction, self._source)
                elif transaction is not None:
                    self._refuse(request, transaction)
        except SIPParseError as e:
            self._answerFailure(request, transaction, 400, reasonFor(e))
        except Exception:
            self.log.failure("{method} from {source} not handled", method=method,
                             source=self._source)
            self._answerFailure(request, transaction, 500, None)

    def _answerFailure(self, request, transaction, status, reason):
        """
        Answer a request whose handling failed, unless it was answered
        already (or is an ACK).
        """
        if transaction is None or transaction.state not in ("Trying", "Proceeding"):
            return
        try:
            transaction.respond(makeResponse(request, status, reason, toTag=newTag()))
        except TransactionError:
            pass

    def _owner(self, transaction):
        """
        The application that started C{transaction}: the one named when
        it was sent, else the fallback.
        """
        return self._owners.get(transaction, self._fallback)

    def _responseArrived(self, response, transaction):
        if transaction is None:
            # A 2xx retransmission matching no transaction: each
            # application acknowledges only its own dialogs.
            for application in self._attached():
                self._guarded(application.responseReceived, response, None)
            return
        owner = self._owner(transaction)
        if owner is not None:
            self._guarded(owner.responseReceived, response, transaction)

    def _failed(self, transaction, reason):
        if isinstance(transaction, ClientTransaction):
            owner = self._owner(transaction)
            if owner is not None:
                self._guarded(owner.transactionFailed, transaction, reason)

    def _guarded(self, call, *arguments):
        try:
            call(*arguments)
        except Exception:
            self.log.failure("the SIP application failed in {call}", call=call.__name__)

    # Answers of the core.

    def allowed(self):
        """
        @return: the methods taken here, sorted (for Allow).
        """
        taken = set(OWN_METHODS)
        for application in self._attached():
            taken |= set(application.methods)
        return sorted(taken)

    def _capabilities(self, request):
        """
        200 to OPTIONS (RFC 3261 11.2): what is allowed, accepted and
        supported.
        """
        response = makeResponse(request, 200, toTag=newTag())
        response.headers.add("allow", ", ".join(self.allowed()))
        response.headers.add("accept", "application/sdp")
        # The option tags the applications serve (the sip-lines port's
        # 100rel): those without a C{supported} attribute serve none.
        tags = set()
        for application in self._attached():
            tags |= set(getattr(application, "supported", ()))
        response.headers.add("supported", ", ".join(sorted(tags)))
        return response

    def _refuse(self, request, transaction):
        if request.method in KNOWN_METHODS:
            response = makeResponse(request, 405, toTag=newTag())
            response.headers.add("allow", ", ".join(self.allowed()))
        else:
            response = makeResponse(request, 501, toTag=newTag())
        transaction.respond(response)

    def _register(self, request, transaction):
        """
        RFC 3261 10.3: steps 2 to 5 here (Require, authentication with
        401 challenges sent statelessly, authorisation of the user for the
        AOR, the AOR from To), 6 to 8 in the registrar.
        """
        requires = request.headers.getAll("require")
        if requires:
            required = [o.strip() for v in requires for o in v.split(",")]
            if any(required):
                response = makeResponse(request, 420, toTag=newTag())
                response.headers.add("unsupported", ", ".join(o for o in required if o))
                transaction.respond(response)
                return
        result = self.authenticator.verify(request, self._lookupHA1)
        if result.outcome in _CHALLENGED:
            # Stateless (RFC 3261 8.2.7): a flood of unauthenticated
            # REGISTERs leaves no transactions waiting for Timer J.
            challenge = self.authenticator.challenge(stale=result.outcome is _STALE)
            transaction.respondStatelessly(
                sentResponse(request, 401, fields=(("WWW-Authenticate", challenge),))
            )
            return
        tag = newTag()
        if not result.ok:
            self.log.info("REGISTER from {source} refused: {reason}",
                          source=self._source, reason=result.reason)
            transaction.respond(sentResponse(request, 403, f"Forbidden ({result.reason})", tag))
            return
        # To as held: an untouched one is read from the codec's shared
        # value (not changed here), without a copy of it made.
        to = request.headers.held("to")[0]
        uri = (to.address if type(to) is KnownAddress else to).uri
        aor = uri.user if isinstance(uri, SIPURI) else None
        if aor != result.username:
            transaction.respond(
                sentResponse(request, 403, "Forbidden (not your address of record)", tag)
            )
            return

        def answer(outcome):
            try:
                transaction.respond(
                    sentResponse(request, outcome.status, outcome.reason, tag, outcome.headers)
                )
            except TransactionError as e:
                self.log.info("REGISTER answer not sent: {error}", error=e)
            except Exception:
                self.log.failure("REGISTER not answered")

        self.registrar.register(request, aor, self._source, answer)
