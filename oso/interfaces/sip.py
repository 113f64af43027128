"""
The seam between the C{sip} component (transports, transactions,
registrar) and what runs on top of it (the C{sip-lines} port, a future
trunk or proxy).

The C{sip} component's service provides L{IUserAgent}: another component
finds it with C{context.component("sip")} and, in its own
C{startService}, L{IUserAgent.attach}es an L{ISIPApplication}.  Several
applications share the stack: a request the component does not answer
itself goes to the first specific application (in attach order) that
takes its method and L{accepts <ISIPApplication.accepts>} it (a trunk
claims its provider's requests and its own dialogs), else to the one
fallback application (the sip-lines port: the phones' requests).
Responses go to the application that sent the request.  The component
answers by itself:

  - REGISTER (registrar with digest authentication, 401 challenges);
  - OPTIONS outside a dialog (no To tag): 200 with Allow, Accept,
    Supported;
  - requests whose method no attached application takes: 405 with Allow
    for a method of RFC 3261 and its usual extensions, else 501;
  - malformed requests: 400 with a reason phrase that says what is wrong.

Everything else (INVITE, ACK, BYE, CANCEL, in-dialog OPTIONS, INFO, REFER,
NOTIFY, ...; see L{ISIPApplication.methods}) goes to the application.

Addresses are C{(host, port)} tuples with the host as text (an IPv6
address without brackets); a transport is named C{"UDP"}, C{"TCP"} or
C{"TLS"}; a C{source} is C{(transport, host, port)}.
"""

from zope.interface import Attribute, Interface


class IUserAgent(Interface):
    """
    The user agent core of the C{sip} component, as an application sees
    it.  Every method is called in the reactor thread and returns at once.
    """

    clock = Attribute(
        "The L{twisted.internet.interfaces.IReactorTime} the transactions run on; "
        "its C{seconds()} are epoch seconds."
    )
    timers = Attribute("The L{oso.sip.transaction.TimerConfig} (T1, T2, T4) of the transactions.")
    registrar = Attribute(
        "The L{oso.sip.registrar.Registrar}: C{contacts(aor)} gives the L{Binding}s "
        "a request for an extension forks to (the extension's number is the AOR)."
    )
    authenticator = Attribute(
        "The L{oso.sip.digest.DigestAuthenticator} of the server's realm, to "
        "challenge requests other than REGISTER (407 for INVITE)."
    )

    def via(transport):
        """
        The Via a new request (or the ACK of a 2xx) sent over
        C{transport} carries as its top Via: our address on that
        transport, a fresh RFC 3261 branch and an empty C{rport} (RFC
        3581).

        @param transport: C{"UDP"}, C{"TCP"} or C{"TLS"}.
        @return: a new L{oso.sip.headers.Via}.
        """

    def contact(transport):
        """
        Our address for C{transport}, for Contact and the host part of
        From/To: a L{oso.sip.uri.SIPURI} without user part (C{sips:} for
        TLS, C{transport=tcp} for TCP).  Callers may copy and set a user.
        """

    def request(request, destination, transport, owner=None):
        """
        Send a request (not ACK) in a new client transaction.

        @param request: an L{oso.sip.message.Request} whose top Via came
            from L{via}.
        @param destination: C{(host, port)}.
        @param transport: C{"UDP"}, C{"TCP"} or C{"TLS"}.  A UDP request
            larger than the path allows goes over TCP instead (RFC 3261
            18.1.1); its Via is rewritten to say so.
        @return: the L{oso.sip.client.ClientTransaction}; its responses
            reach L{ISIPApplication.responseReceived}, its timeout or
            transport failure L{ISIPApplication.transactionFailed}.  Over
            TCP/TLS the connection is made if none is open to the
            destination (a failure to connect is a transport failure).
        @param owner: the L{ISIPApplication} that gets the responses and
            the failure; C{None} for the fallback application.
        """

    def sendAck(ack, destination, transport):
        """
        Send an ACK for a 2xx (RFC 3261 13.2.2.4), outside any transaction.
        Its top Via comes from L{via}.  Errors are logged, never raised.
        """

    def cancel(transaction):
        """
        Cancel a client INVITE transaction started with L{request} (RFC
        3261 9.1; see L{oso.sip.transactions.TransactionLayer.cancel}).
        """

    def attach(application, fallback=False):
        """
        Give C{application} (an L{ISIPApplication}) the requests it
        accepts among those the component does not answer itself, the
        responses to its L{request}s, and the registrar's changes.  Right
        after attaching, C{application.bindingsChanged(aor)} is called for
        every address of record that has bindings then (those loaded from
        the store at start), so the application learns who is reachable.

        @param fallback: C{True} for the one application that gets every
            request of its methods no specific application accepted, and
            the responses of requests sent without an C{owner}.
        @raise ValueError: when C{application} is attached already, or a
            second fallback is attached.
        """

    def detach(application):
        """
        Stop giving anything to C{application} (from its C{stopService});
        requests for its methods then get 405 again.
        """


class ISIPApplication(Interface):
    """
    What an application (the sip-lines port) gives the C{sip} component.
    """

    methods = Attribute(
        "The request methods (upper-case C{str}s) the application takes, for "
        "example C{{'INVITE', 'ACK', 'BYE', 'CANCEL', 'INFO', 'REFER', "
        "'NOTIFY', 'OPTIONS'}}; they are listed in the component's Allow. "
        "OPTIONS reaches the application only inside a dialog (with a To tag)."
    )

    def accepts(request, source):
        """
        Whether a request of one of L{methods} is this application's: one
        of its dialogs, or a new request it serves (for a trunk: from its
        provider).  Asked of specific applications only; it must not
        answer or keep the request.

        @param source: C{(transport, host, port)} it came from.
        """

    def requestReceived(request, transaction, source):
        """
        A well-formed request of one of L{methods} arrived.

        @param request: the L{oso.sip.message.Request}; its top Via has
            C{received}/C{rport} filled in per RFC 3581 already.
        @param transaction: its L{oso.sip.server.ServerTransaction}: answer
            with C{transaction.respond(response)} (responses follow the
            Via, RFC 3261 18.2.2), or with one final non-2xx response that
            leaves no state, C{transaction.respondStatelessly(response)}
            (a digest challenge, RFC 3261 8.2.7); C{None} for an ACK that
            matched no transaction (the ACK of a 2xx, or of a response
            sent statelessly).  A CANCEL's transaction has
            C{cancels}, the INVITE's server transaction or C{None}.
        @param source: C{(transport, host, port)} it came from.
        """

    def responseReceived(response, transaction):
        """
        A well-formed response to one of our requests arrived.

        @param transaction: the client transaction it belongs to, or
            C{None} for a response matching none (a retransmitted 2xx of an
            INVITE: every application hears it and acknowledges it again
            if the dialog is its own).
        """

    def transactionFailed(transaction, reason):
        """
        A client transaction started with L{IUserAgent.request} ended
        without a final response.

        @param reason: C{"timeout"} or C{"transport"}.
        """

    def bindingsChanged(aor):
        """
        The set of contacts of an address of record changed (a REGISTER
        added or removed one, one expired); L{IUserAgent.registrar} already
        shows the new set.
        """
