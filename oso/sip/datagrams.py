"""
Sending datagrams on a SIP UDP port: one at once, with the errors the
sender must see, or the port's responses together, in batches.

Why responses wait: under load the peer that sends the requests (a phone,
a proxy, a load generator) sleeps between the datagrams it gets, and the
kernel wakes it in the sender's system call.  On this machine that wakeup
cost the sender about 6 us of system time per datagram, as much as all the
rest of sending and receiving it (doc/sip.md "Responses in batches"), and
the peer woke once for each response.  Responses sent one right after the
other find the peer awake already: it wakes once for many.

So a port's responses wait until the reactor's turn has read what came
in, or until L{BATCH_SIZE} of them wait, and then go out in their order.
On an idle server a response waits only for the end of the turn that
made it; under load, for at most L{BATCH_SIZE} requests' work (about a
millisecond and a half), far inside T1.

Only responses wait.  A response goes back to the address its request
came from (or the one its Via names), and what can go wrong sending it
is what UDP is allowed to do anyway: a datagram lost, which the client's
retransmission and the server transaction's stored response make good
(RFC 3261 17.2.2); such an error is logged.  A request goes to an
address not heard from, and an error sending it is the transport error
of RFC 3261 17.1.4 that its transaction must see at once: it is sent at
once, after the responses waiting on its port (the order on the wire is
the order of sending).  So is a response too long to be sure of going
out as one datagram, whose L{MessageLengthError} the sender must see.
"""

from errno import ECONNREFUSED, EMSGSIZE

from twisted.internet.error import MessageLengthError
from twisted.logger import Logger

log = Logger()

#: The most responses that wait on one port.
BATCH_SIZE = 32

#: The longest UDP payload over IPv4 (65,535 less the IP and UDP headers);
#: a longer response is sent at once.
LONGEST_WAITING = 65_507


def sendDatagram(port, data, address):
    """
    Send one datagram on a listening UDP port at once: C{port.write(data,
    address)} without its checks of the address.

    Twisted's C{Port.write} asks C{isIPAddress} and C{isIPv6Address} twice
    each whether the host is an address of the port's family, about 3% of
    the reactor thread's time under REGISTER load (two datagrams per
    REGISTER, doc/sip.md "Sixth pass").  L{oso.sip.listeners.SIPTransports}
    chose the port by the host's family, which is C{None} for anything but
    an address, so every host that reaches here passed those checks
    already: this goes to the port's socket and turns errors into what
    C{Port.write} makes of them: a datagram too long is
    L{MessageLengthError}, a refusal (an ICMP error of an earlier datagram)
    is ignored, anything else (C{EWOULDBLOCK} when the send buffer is full)
    is raised as the C{OSError} it is.  (C{EINTR} is retried by Python
    itself, PEP 475.)
    """
    try:
        port.socket.sendto(data, address)
    except OSError as error:
        if error.errno == EMSGSIZE:
            raise MessageLengthError("message too long")
        if error.errno != ECONNREFUSED:
            raise


class ResponseBatch:
    """
    The responses waiting to go out on one UDP port.

    @ivar port: the Twisted UDP port they go out on.
    """

    def __init__(self, port, reactor):
        """
        @param port: the Twisted UDP port (its C{socket} is used).
        @param reactor: an L{IReactorTime}: the end of the turn is a
            C{callLater(0)}.
        """
        self.port = port
        self._reactor = reactor
        self._waiting = []
        self._due = None

    def add(self, data, address):
        """
        Send a response's bytes to C{address} with the others of this
        turn.

        @raise MessageLengthError: for a response too long for UDP, which
            is sent at once (L{LONGEST_WAITING}).
        @raise OSError: the other errors sending such a response at once.
        """
        if len(data) > LONGEST_WAITING:
            self.now(data, address)
            return
        waiting = self._waiting
        waiting.append((data, address))
        if len(waiting) >= BATCH_SIZE:
            self.flush()
        elif self._due is None:
            self._due = self._reactor.callLater(0, self._endOfTurn)

    def now(self, data, address):
        """
        Send C{data} at once, after the responses waiting (L{sendDatagram}:
        its errors are raised).
        """
        if self._waiting:
            self.flush()
        sendDatagram(self.port, data, address)

    def _endOfTurn(self):
        self._due = None
        self.flush()

    def flush(self):
        """
        Send every response waiting, in order; one that cannot be sent is
        logged and dropped, as a lost datagram.
        """
        waiting = self._waiting
        if not waiting:
            return
        self._waiting = []
        sendto = self.port.socket.sendto
        for data, address in waiting:
            try:
                sendto(data, address)
            except OSError as error:
                if error.errno != ECONNREFUSED:
                    log.info(
                        "SIP UDP: response to {address} not sent: {error}",
                        address=address, error=error,
                    )  # fmt: skip

    def close(self):
        """
        Send what waits and stop waiting for the end of the turn (the port
        is about to close).
        """
        if self._due is not None and self._due.active():
            self._due.cancel()
        self._due = None
        self.flush()
