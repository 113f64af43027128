"""
Offer and answer between the SIP ports of one user agent.

The C{sip-lines} and C{sip-trunk} ports are each the half of a
back-to-back user agent; a call between a phone and a provider has one
leg in each.  An offer one peer makes (a re-INVITE or UPDATE) passes
through the call model to the other party's terminal, and when that is a
SIP leg of either port it is offered on to its peer, whose answer comes
back the same way (L{oso.interfaces.IPortEvents.mediaOffered} both
times); toward any other terminal the port answers the offer itself.  An
UPDATE in an early dialog (RFC 3311 5.1) cannot wait for the model (the
call is not answered) and passes straight to the other party's early
leg.

L{SIPPeers} is what the ports of one user agent share for that: each port
joins it and tells which of its sessions carries a connection (C{session
= port.sessionOf(connection)}, an object with C{connection}, C{leg}, the
forks C{legs}, the leg's L{oso.sip.legmedia.LegMedia} C{media} and
C{anchor}, the media relay between it and the call, or C{None}).  A
session whose media a relay anchors (a trunk's, L{oso.media.anchor})
takes no part in passing offers: its port answers its peer's offers
itself and re-points the relay, and the other parties' offers reach its
peer only where they change what the relay's far side must say.
"""

from contextlib import contextmanager
from weakref import WeakKeyDictionary

from oso.sip.legs import InboundLeg

_peers = WeakKeyDictionary()


def peersOf(ua):
    """
    @return: the L{SIPPeers} of the user agent C{ua}, made on first use.
    """
    peers = _peers.get(ua)
    if peers is None:
        peers = _peers[ua] = SIPPeers()
    return peers


class SIPPeers:
    """
    The SIP ports of one user agent.

    @ivar offerMethod: how an offer the model passes now goes to a peer:
        C{"UPDATE"} while a peer's UPDATE is being passed, else
        C{"INVITE"} (L{oso.sip.legs.passFarMedia}).
    """

    offerMethod = "INVITE"

    def __init__(self):
        self._ports = []

    def join(self, port):
        """
        Add a port (it has C{sessionOf(connection)}).
        """
        self._ports.append(port)

    @contextmanager
    def passing(self, method):
        """
        While the block runs, offers passed on go as C{method}.
        """
        self.offerMethod = method
        try:
            yield
        finally:
            self.offerMethod = "INVITE"

    def otherSessions(self, session):
        """
        The SIP sessions of the other parties in the call of C{session}
        that pass offers (no relay anchors their media).
        """
        connection = session.connection
        if connection is None:
            return
        for other in list(connection.call.connections.values()):
            if other is connection:
                continue
            for port in self._ports:
                found = port.sessionOf(other)
                if found is not None:
                    if found.anchor is None:
                        yield found
                    break

    def relays(self, session, waiting=False):
        """
        Whether another party of the session's call is a SIP leg that takes
        part in offer and answer (C{waiting}: one that waits for an answer
        to its peer's offer).
        """
        return any(
            other.leg is not None and (not waiting or other.leg.peerOffer is not None)
            for other in self.otherSessions(session)
        )

    def earlyLegs(self, session):
        """
        The legs of the other parties in the call of C{session} that are
        not answered yet, with their sessions.
        """
        for other in self.otherSessions(session):
            for leg in [other.leg] + list(other.legs):
                if leg is not None and leg.dialog is None and not leg.ended:
                    yield other, leg

    def earlyOffer(self, model, leg, body):
        """
        A peer offers new media in an UPDATE before the call is answered
        (RFC 3311 5.1): passed as an UPDATE into the other party's early
        dialog where that peer has our answer (or gave one) reliably and
        allows UPDATE, else answered here with the far end's media (or the
        offer's own streams inactive).
        """
        callerMedia(model, leg, body)
        for other, far in self.earlyLegs(leg.session):
            if far.early is not None and far.earlyAnswer is not None:
                if far.reinvite(other.media.offer(body), "UPDATE"):
                    return
        leg.answerPeerOffer(leg.session.media.answer(body))

    def passAnswer(self, model, leg, body):
        """
        A peer answered an offer we made it (L{oso.sip.legs.Leg.reinvite}):
        in an early dialog, back to the peer whose UPDATE it passed; once
        answered, through the model to a party that waits for it.
        """
        if leg.dialog is None:
            self.earlyAnswer(model, leg, body)
        elif self.relays(leg.session, waiting=True):
            model.mediaOffered(leg.session.connection, body)

    def passRefusal(self, leg, response):
        """
        A peer refused an offer we made it (an error to our re-INVITE or
        UPDATE): a peer whose offer it passed, early or confirmed, gets
        the same refusal, so its session stays as it was too.  The
        session of C{leg} is the one its offer was passed from or to.
        """
        for other in self.otherSessions(leg.session):
            for near in [other.leg] + list(other.legs):
                if near is not None and near.peerOffer is not None:
                    near.refusePeerOffer(response.status, response.reason)

    def earlyAnswer(self, model, leg, body):
        """
        The answer to an UPDATE sent in an early dialog: back to the peer
        whose UPDATE it passed.
        """
        callerMedia(model, leg, body)
        for other, near in self.earlyLegs(leg.session):
            if near.peerOffer is not None:
                near.answerPeerOffer(other.media.answer(near.remoteSDP, body))


def callerMedia(model, leg, body):
    """
    New media of the calling peer before the call is answered goes to the
    model as its connection's media: what the called party gets once it
    answers.
    """
    if isinstance(leg, InboundLeg):
        model.mediaOffered(leg.session.connection, body)
