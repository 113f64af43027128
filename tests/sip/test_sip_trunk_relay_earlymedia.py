"""
Early media, UPDATE and the media relay together, on the in-memory network:
the sip-trunk port with its relay (L{test_sip_trunk_relay_calls}'s UDP
reactor and STUN answers) and the sip-lines port with SIP phone 200
(L{test_sip_trunk_earlymedia}).  Early media crosses the relay like the
final answer does: the provider's 183 names the relay's public address,
the phone's 183 the relay's phone-facing pair; an offer on a call whose
media the relay anchors is answered by the port it reached, and the
other side hears only of what changes in its view.
"""

from oso.media.anchor import MediaRelays, RelaySettings
from oso.media.sdpanchor import streamTargets
from oso.media.udp import PortRange
from oso.sip.sdp import parseSDP

from test_sip_trunk_earlymedia import PhoneAndTrunk, direction, mediaPort
from test_sip_trunk_relay_calls import STUN, UDPReactor, answerStun

PUBLIC = "203.0.113.5"


def relayed():
    x = PhoneAndTrunk()
    reactor = UDPReactor(x.clock)
    x.trunk.media = MediaRelays(
        reactor, RelaySettings(PortRange(20000, 20999), STUN, stunInterval=60, stunWait=2))
    x.recorder.take()
    return x, reactor


def relayPorts(reactor):
    return {port.port for port in reactor.ports}


def test_phone_early_media_reaches_the_provider_through_the_relay():
    """
    A call from the provider: the phone's reliable 183 reaches the provider
    as a 183 naming the relay's public (STUN) address, never the phone's
    own port.
    """
    x, reactor = relayed()
    x.provider.call("030123456200")
    x.run()
    assert answerStun(reactor, PUBLIC) == 2
    x.run()
    x.sip.progress()
    x.run()
    early = [m for m in x.provider.reliables() if m.status == 183]
    assert len(early) == 1
    assert streamTargets(parseSDP(early[0].body)) == [((PUBLIC, 50000), (PUBLIC, 50007))]
    assert mediaPort(early[0]) != x.sip.mediaPort
    # The phone was offered the relay's phone-facing pair.
    invites = [m for m in x.sip.received if getattr(m, "method", None) == "INVITE"]
    assert mediaPort(invites[0]) in relayPorts(reactor)
    assert "Established" not in x.recorder.names()


def test_provider_early_media_reaches_the_phone_through_the_relay():
    """
    A call to the provider: its 183 answer reaches the calling phone with
    the relay's phone-facing pair in it, not the provider's address.
    """
    x, reactor = relayed()
    x.sip.call("00891234567")
    x.run()
    assert answerStun(reactor, PUBLIC) == 2
    x.run()
    x.provider.progress()
    x.run()
    early = [m for m in x.sip.reliables() if m.status == 183]
    assert len(early) == 1
    assert mediaPort(early[0]) in relayPorts(reactor)
    assert mediaPort(early[0]) != x.provider.mediaPort
    assert "Established" not in x.recorder.names()


def test_anchored_call_answers_offers_where_they_arrive():
    """
    Once answered, the provider's UPDATE that moves nothing the phone sees
    but the direction is answered by oso and reaches the phone as an offer
    of that direction only; the phone's hold reaches the provider as a
    re-INVITE naming the relay, answered to the phone by oso at once.
    """
    x, reactor = relayed()
    x.provider.call("030123456200")
    x.run()
    answerStun(reactor, PUBLIC)
    x.run()
    x.sip.answer()
    x.run()
    assert x.provider.statuses()[-1] == 200
    assert x.recorder.names()[-1] == "Established"

    x.sip.update(dir="sendonly")
    x.run()
    answer = [m for m in x.sip.received
              if getattr(m, "status", 0) == 200 and m.cseq.method == "UPDATE"][-1]
    assert direction(answer) == "recvonly"
    assert mediaPort(answer) in relayPorts(reactor)
    offers = [m for m in x.provider.received
              if getattr(m, "method", None) in ("INVITE", "UPDATE") and m.toAddress.tag]
    assert offers, "the provider hears of the hold"
    assert direction(offers[-1]) == "sendonly"
    assert streamTargets(parseSDP(offers[-1].body))[0][0] == (PUBLIC, 50000)
