"""
STUN for a trunk, on the C{sip} component's own UDP socket: the public
address the provider sees is the one of that socket, so the binding
requests of L{oso.sip.stunclient.StunClient} go out of it, and its
responses are taken off it by a datagram tap
(L{oso.sip.listeners.SIPTransports.datagramTaps}) before SIP reads it.

A trunk port wires it to its registration::

    stun = stunFor(sipService, ("192.0.2.5", 3478), reactor, 300,
                   changed=lambda address: registration.addressChanged())
    registration = TrunkRegistration(..., contactAddress=stun.currentAddress, ...)

and starts C{stun} (a service) with the registration, after the C{sip}
component (whose UDP port must be listening). Until the first answer
C{currentAddress} gives C{None} and the registration uses the local
address; the first answer re-registers with the public one.
"""

from twisted.application.service import Service

from oso.sip.stunclient import StunClient, StunRefresher


class TrunkStun(Service):
    """
    Keeps the public address of the C{sip} component's UDP socket toward
    one STUN server.

    @ivar client: the L{StunClient} once started, else C{None}.
    @ivar refresher: the L{StunRefresher} once started, else C{None}.
    """

    def __init__(self, transports, server, clock, interval, changed):
        """
        @param transports: the C{sip} component's
            L{oso.sip.listeners.SIPTransports}.
        @param server: the STUN server's C{(ip, port)}.
        @param clock: an L{IReactorTime}.
        @param interval: seconds between binding requests.
        @param changed: called with the new C{(host, port)} when it
            differs from the last one (the first answer included).
        """
        self._transports = transports
        self._server = server
        self._clock = clock
        self._interval = interval
        self._changed = changed
        self.client = None
        self.refresher = None

    def currentAddress(self):
        """
        @return: the last public C{(host, port)}, or C{None} before the
            first answer.
        """
        return None if self.refresher is None else self.refresher.address

    def startService(self):
        """
        Tap the UDP port toward the server and start asking.

        @raise ValueError: when the C{sip} component has no UDP port of
            the server's address family.
        """
        port = self._transports.udpPort(self._server[0])
        if port is None:
            raise ValueError(f"no SIP UDP port to reach the STUN server {self._server[0]}")
        super().startService()
        self.client = StunClient(port, self._server, self._clock)
        self._transports.datagramTaps.append(self.client.datagramReceived)
        self.refresher = StunRefresher(self.client, self._clock, self._interval, self._changed)
        self.refresher.startService()

    def stopService(self):
        super().stopService()
        if self.refresher is not None:
            self.refresher.stopService()
        if self.client is not None and self.client.datagramReceived in self._transports.datagramTaps:
            self._transports.datagramTaps.remove(self.client.datagramReceived)


def stunFor(sipService, server, clock, interval, changed):
    """
    The L{TrunkStun} of the C{sip} component's service (its
    C{transports}), not started.

    @param sipService: the C{sip} component's service
        (L{oso.plugins.sip.SIPService}).
    """
    return TrunkStun(sipService.transports, server, clock, interval, changed)
