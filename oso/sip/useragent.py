"""
The user agent core of the C{sip} component (RFC 3261 8.2, 10.3, 11): the
transaction layer over the transports, answering REGISTER (registrar with
digest authentication) and out-of-dialog OPTIONS itself, refusing methods
nobody takes (405, 501), and passing the rest to the attached application
(L{oso.interfaces.sip.ISIPApplication}, the sip-lines port).

It knows the sockets only as a C{send(message, destination, transport)}
callable and the addresses they listen on, so it runs on an in-memory
clock and network in tests as well as on the reactor.
"""

from twisted.logger import Logger
from zope.interface import implementer

from oso.interfaces.sip import IUserAgent
from oso.sip.client import ClientTransaction
from oso.sip.dialog import newTag
from oso.sip.digest import AuthOutcome
from oso.sip.headers import Via
from oso.sip.transaction import TransactionError, makeResponse, newBranch
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
        self._application = None
        self._source = None
        self._registered = set()

    # IUserAgent.

    def via(self, transport):
        host, port = self._localAddress(transport)
        return Via(transport, hostReference(host), port, {"branch": newBranch(), "rport": None})

    def contact(self, transport):
        host, port = self._localAddress(transport)
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

    def request(self, request, destination, transport):
        transport = self._sized(request, transport)
        return self.layer.request(request, destination, transport)

    def sendAck(self, ack, destination, transport):
        transport = self._sized(ack, transport)
        try:
            self._send(ack, destination, transport)
        except OSError as e:
            self.log.info("ACK to {destination} not sent: {error}", destination=destination, error=e)

    def cancel(self, transaction):
        self.layer.cancel(transaction)

    def attach(self, application):
        if self._application is not None:
            raise ValueError(f"{self._application!r} is attached already")
        self._application = application
        for aor in sorted(self._registered):
            self.bindingsChanged(aor)

    def detach(self, application):
        if self._application is application:
            self._application = None

    def stop(self):
        """
        End every live transaction's timers (the server is stopping; no
        more retransmissions or timeouts).
        """
        for transaction in self.layer.transactions:
            for call in transaction._timers.values():
                if call.active():
                    call.cancel()
            transaction._timers.clear()

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
        if self._application is not None:
            self._guarded(self._application.bindingsChanged, aor)

    # From the transports.

    def receive(self, message, source, transport):
        """
        A well-formed message arrived from C{source} (C{(host, port)}).
        Nothing it holds can raise out of here: what fails is logged.
        """
        self._source = (transport,) + tuple(source)
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
            elif self._application is not None and method in self._application.methods:
                self._application.requestReceived(request, transaction, self._source)
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

    def _responseArrived(self, response, transaction):
        if self._application is not None:
            self._guarded(self._application.responseReceived, response, transaction)

    def _failed(self, transaction, reason):
        if self._application is not None and isinstance(transaction, ClientTransaction):
            self._guarded(self._application.transactionFailed, transaction, reason)

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
        if self._application is not None:
            taken |= set(self._application.methods)
        return sorted(taken)

    def _capabilities(self, request):
        """
        200 to OPTIONS (RFC 3261 11.2): what is allowed, accepted and
        supported.
        """
        response = makeResponse(request, 200, toTag=newTag())
        response.headers.add("allow", ", ".join(self.allowed()))
        response.headers.add("accept", "application/sdp")
        response.headers.add("supported", "")
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
        401 challenges, authorisation of the user for the AOR, the AOR from
        To), 6 to 8 in the registrar.
        """
        tag = newTag()
        required = [o.strip() for v in request.headers.getAll("require") for o in v.split(",")]
        if any(required):
            response = makeResponse(request, 420, toTag=tag)
            response.headers.add("unsupported", ", ".join(o for o in required if o))
            transaction.respond(response)
            return
        result = self.authenticator.verify(request, self._lookupHA1)
        if result.outcome in (AuthOutcome.missing, AuthOutcome.stale):
            response = makeResponse(request, 401, toTag=tag)
            response.headers.add(
                "www-authenticate",
                self.authenticator.challenge(stale=result.outcome is AuthOutcome.stale),
            )
            transaction.respond(response)
            return
        if not result.ok:
            self.log.info("REGISTER from {source} refused: {reason}",
                          source=self._source, reason=result.reason)
            transaction.respond(makeResponse(request, 403, f"Forbidden ({result.reason})", tag))
            return
        uri = request.toAddress.uri
        aor = uri.user if isinstance(uri, SIPURI) else None
        if aor != result.username:
            transaction.respond(
                makeResponse(request, 403, "Forbidden (not your address of record)", tag)
            )
            return

        def answer(outcome):
            response = makeResponse(request, outcome.status, outcome.reason, tag)
            for name, value in outcome.headers:
                response.headers.add(name, value)
            try:
                transaction.respond(response)
            except TransactionError as e:
                self.log.info("REGISTER answer not sent: {error}", error=e)

        self.registrar.handle(request, aor, self._source).addCallback(answer).addErrback(
            lambda f: self.log.failure("REGISTER not answered", f)
        )
