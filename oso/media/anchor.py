"""
One call's media anchored on the relay, as a trunk uses it.

A trunk whose calls go through the relay has a L{MediaRelays}; each call
gets a L{MediaAnchor}, which the trunk asks to rewrite every description
crossing it:

  - L{MediaAnchor.toPhone}: the provider's description, pointing the
    relay's provider-side peers at the provider's addresses, becomes one
    naming the relay's phone-facing sockets (oso's own address), for the
    call model and the phones;
  - L{MediaAnchor.toProvider}: the other side's description (a phone's),
    pointing the phone-side peers, becomes one naming the provider-facing
    sockets: their public address as STUN found it, else oso's own.

Each stream (m-line) gets its sockets the first time a description has
it, and keeps them until L{MediaAnchor.close}.  With a STUN server, each
provider-facing socket asks it for its public address at once and every
C{stun-interval} seconds after (which also keeps a NAT's binding open);
L{MediaAnchor.ready} fires once the first answers are in (or after
C{stunWait} seconds, when the local address is used), and a later change
is reported to C{changed} so the trunk can offer the new address.
"""

from dataclasses import dataclass

from twisted.internet.defer import Deferred, gatherResults, succeed
from twisted.logger import Logger

from oso.media.relay import PHONE, PROVIDER, RTCP, RTP, Stream
from oso.media.sdpanchor import anchored, streamTargets
from oso.media.udp import MediaPortsExhausted, PortRange, StreamSockets
from oso.sip.legmedia import parsed
from oso.sip.stunclient import StunClient, StunRefresher

log = Logger()

#: Seconds from a changed STUN mapping to the report of it.
MOVE_DELAY = 0.5


@dataclass(frozen=True)
class RelaySettings:
    """
    How one trunk's calls are relayed.

    @ivar ports: the L{PortRange} the sockets listen on.
    @ivar stun: the STUN server's C{(ip, port)}, or C{None}.
    @ivar stunInterval: seconds between binding requests on a socket.
    @ivar stunWait: seconds a call waits for the first answers before it
        goes on with the local address.
    """

    ports: PortRange
    stun: tuple | None = None
    stunInterval: int = 300
    stunWait: float = 2.0


class MediaRelays:
    """
    The anchors of one trunk's calls.

    @ivar anchors: the open L{MediaAnchor}s.
    """

    def __init__(self, reactor, settings):
        self.reactor = reactor
        self.settings = settings
        self.anchors = set()

    def anchor(self, providerHost, phoneHost, changed=None):
        """
        A new call's anchor, with sockets on C{providerHost} toward the
        provider and on C{phoneHost} toward the phones.

        @param changed: called with no argument when STUN finds a new
            public address during the call.
        """
        anchor = MediaAnchor(self, providerHost, phoneHost, changed)
        self.anchors.add(anchor)
        return anchor

    def openSockets(self):
        """
        @return: how many relay sockets listen now.
        """
        return sum(anchor.openSockets() for anchor in self.anchors)

    def stop(self):
        """
        Close every anchor (the trunk stops).

        @return: a L{Deferred} that fires once their sockets are closed.
        """
        return gatherResults([anchor.close() for anchor in list(self.anchors)])


class _Mapping:
    """
    STUN on one provider-facing socket: its public address, asked for at
    once and every C{interval} seconds.

    @ivar known: a L{Deferred} that fires once the first answer came (or
        the wait ran out).
    """

    def __init__(self, socket, settings, clock, changed):
        self._changed = changed
        self.known = Deferred()
        self._client = StunClient(socket.transport, settings.stun, clock)
        socket.tap = self._client.datagramReceived
        self._refresher = StunRefresher(self._client, clock, settings.stunInterval, self._answered)
        self._wait = clock.callLater(settings.stunWait, self._settle)
        self._refresher.startService()

    @property
    def address(self):
        return self._refresher.address

    def _answered(self, address):
        if self.known.called:
            self._changed()
        else:
            self._settle()

    def _settle(self):
        if self._wait.active():
            self._wait.cancel()
        if not self.known.called:
            self.known.callback(None)

    def close(self):
        if self._wait.active():
            self._wait.cancel()
        self._refresher.stopService()


class MediaAnchor:
    """
    The relay of one call: its streams' sockets, and the rewriting of the
    descriptions between the provider and the phones.

    @ivar far: the last description given to L{toProvider}.
    """

    def __init__(self, relays, providerHost, phoneHost, changed):
        self._relays = relays
        self._providerHost = providerHost
        self._phoneHost = phoneHost
        self._changed = changed
        self._streams = {}
        self._mappings = {}
        self.far = None
        self.closed = False
        self._queue = None
        self._origins = {}
        self._moved = None

    def _sockets(self, index):
        """
        The sockets of stream C{index}, opened (and STUN started on the
        provider's side) the first time; C{None} when there are no free
        ports (logged).
        """
        sockets = self._streams.get(index)
        if sockets is not None or self.closed:
            return sockets
        relays = self._relays
        settings = relays.settings
        sockets = StreamSockets(Stream(relays.reactor, f"stream {index}"))
        try:
            sockets.listen(relays.reactor, settings.ports, self._providerHost, self._phoneHost)
        except MediaPortsExhausted as e:
            log.warn("media relay: {error}; stream {index} rejected", error=e, index=index)
            return None
        self._streams[index] = sockets
        if settings.stun is not None:
            for component in (RTP, RTCP):
                self._mappings[index, component] = _Mapping(
                    sockets.sockets[PROVIDER, component], settings, relays.reactor,
                    self._addressChanged)
        return sockets

    def _addressChanged(self):
        """
        A provider-facing socket's mapping changed: reported once the
        others asked at the same time had time to answer, so that one new
        offer carries them all.
        """
        if self._moved is None or not self._moved.active():
            self._moved = self._relays.reactor.callLater(MOVE_DELAY, self._reportMove)

    def _reportMove(self):
        log.info("media relay: the provider-facing sockets' public addresses changed")
        if self._changed is not None and not self.closed:
            self._changed()

    def _public(self, index, sockets):
        """
        Stream C{index}'s provider-facing C{(rtp, rtcp)} as the provider
        reaches them: what STUN found, else the local addresses.
        """
        local = dict(zip((RTP, RTCP), sockets.local(PROVIDER)))
        return tuple(
            (mapping.address if (mapping := self._mappings.get((index, c))) is not None
             and mapping.address is not None else local[c])
            for c in (RTP, RTCP)
        )

    def _rewrite(self, body, side, local):
        description = parsed(body)
        if description is None:
            return body
        addresses = []
        for index, target in enumerate(streamTargets(description)):
            sockets = self._sockets(index) if target is not None else None
            if sockets is None:
                addresses.append(None)
                continue
            sockets.stream.point(side, *target)
            addresses.append(local(index, sockets))
        out = anchored(description, addresses)
        # A party's new offer that only moves its media (a new address,
        # so a new version) is the same description through the relay:
        # the other side hears of nothing.  Each leg stamps its own origin.
        out.origin = self._origins.setdefault(side, description.origin)
        return out.serialise()

    def toPhone(self, body):
        """
        The provider's description (C{bytes}, or C{None}) as the phones
        get it: the relay's phone-facing sockets in it.
        """
        return self._rewrite(body, PROVIDER, lambda index, sockets: sockets.local(PHONE))

    def toProvider(self, media):
        """
        The other side's description as the provider gets it: the relay's
        provider-facing sockets (public addresses) in it.  Media that is
        no SDP (a virtual phone's) passes as it is.
        """
        self.far = media
        return self._rewrite(media, PHONE, self._public)

    def ready(self, media):
        """
        Open the sockets C{media}'s streams need.

        @return: a L{Deferred} that fires once their public addresses are
            known (at once without STUN).
        """
        description = parsed(media)
        if description is None:
            return succeed(None)
        for index, target in enumerate(streamTargets(description)):
            if target is not None:
                self._sockets(index)
        waiting = [m.known for m in self._mappings.values() if not m.known.called]
        if not waiting:
            return succeed(None)
        return gatherResults(waiting).addCallback(lambda _: None)

    def whenReady(self, media, action):
        """
        Call C{action()} once L{ready} for C{media} fired, after the
        actions asked for before (in order), unless the anchor closed
        meanwhile.
        """
        waiting = self.ready(media)
        if self._queue is not None and not self._queue.called:
            waiting = gatherResults([self._queue, waiting])
        self._queue = waiting
        waiting.addCallback(lambda _: None if self.closed else action())
        waiting.addErrback(lambda failure: log.failure("media relay: action failed", failure))

    def local(self, index, side):
        """
        @return: the C{(rtp, rtcp)} addresses stream C{index}'s sockets on
            C{side} (L{PROVIDER} or L{PHONE}) listen on.
        """
        return self._streams[index].local(side)

    def relayed(self):
        """
        @return: packets relayed per stream index, by C{(side they came
            from, component)}.
        """
        return {index: s.stream.relayed() for index, s in self._streams.items()}

    def openSockets(self):
        return sum(len(s.ports) for s in self._streams.values())

    def close(self):
        """
        Stop STUN and close every socket (the call ended or failed).

        @return: a L{Deferred} that fires once the sockets are closed.
        """
        if self.closed:
            return succeed(None)
        self.closed = True
        self._relays.anchors.discard(self)
        if self._moved is not None and self._moved.active():
            self._moved.cancel()
        for mapping in self._mappings.values():
            mapping.close()
        closing = [sockets.close() for sockets in self._streams.values()]
        self._mappings.clear()
        self._streams.clear()
        return gatherResults(closing).addCallback(lambda _: None)
