"""
Early media, PRACK (RFC 3262) and UPDATE (RFC 3311) between a SIP trunk
and a SIP phone, on the in-memory network: oso's real user agent core
with the sip-trunk port and the sip-lines port attached, the provider and
phone 200 scripted with 100rel and UPDATE (L{reliable_phones.RelPhone}).
"""

from oso.callmodel.devices import Credentials, Device
from oso.ports.sip_lines import SIPLines
from oso import secrets
from oso.sip.offeranswer import direction as streamDirection
from oso.sip.sdp import parseSDP
from oso.sip.transaction import makeResponse

from reliable_phones import RelPhone
from sip_lines_harness import REALM
from test_sip_trunk_calls import PROVIDER, TrunkExchange, lastRequest


class PhoneAndTrunk(TrunkExchange):
    """
    A L{TrunkExchange} whose provider takes 100rel and UPDATE, with the
    sip-lines port beside the trunk and SIP phone 200 registered.
    """

    def __init__(self, **changes):
        super().__init__(**changes)
        self.lines = SIPLines(self.model, self.ua)
        self.ua.attach(self.lines, fallback=True)
        self.model.registerPort(self.lines)
        self.model.addObserver(self.lines)
        password = "pw200"
        self.addDevice(Device(
            "200", name="Phone 200", port="sip-lines", publicNumber="4930123456200",
            credentials=Credentials(
                digestHA1=((REALM, secrets.digestHA1("200", REALM, password)),)),
        ))
        self.sip = RelPhone(self.network, "200", password, "127.0.1.1")
        self.sip.register(self.ua.registrar)
        self.provider = RelPhone(self.network, "015112345678", "unused", *PROVIDER)
        self.run()


def mediaPort(message):
    return parseSDP(message.body).media[0].port


def direction(message):
    return streamDirection(parseSDP(message.body), 0)


def incoming():
    """
    The provider (with 100rel) calls DID +4930123456200; the phone rings
    and sends its answer in a reliable 183.
    """
    x = PhoneAndTrunk()
    x.recorder.take()
    x.provider.call("030123456200")
    x.run()
    x.sip.progress()
    x.run()
    return x


def test_phone_early_media_reaches_the_provider_reliably():
    """
    The phone's 183 answer goes to the provider in a reliable 183 with
    the phone's media (the answer to the provider's offer); the provider's
    PRACK gets its 200; oso PRACKed the phone's 183. No Established yet.
    """
    x = incoming()
    (prack,) = x.sip.requests("PRACK")
    assert prack.headers.get("rack").startswith("1 ")
    early = [m for m in x.provider.reliables() if m.status == 183]
    assert len(early) == 1
    assert early[0].headers.get("require") == "100rel"
    assert mediaPort(early[0]) == x.sip.mediaPort
    assert "UPDATE" in early[0].headers.getAll("allow")
    acks = [m for m in x.provider.received
            if getattr(m, "status", 0) == 200 and m.cseq.method == "PRACK"]
    assert len(acks) == 2  # the 180's and the 183's
    assert "Established" not in x.recorder.names()
    x.sip.answer()
    x.run()
    assert x.provider.statuses()[-1] == 200
    assert x.recorder.names()[-1] == "Established"


def test_provider_early_update_passes_to_the_phone():
    """
    The provider's UPDATE in the early dialog (hold: sendonly) goes to the
    phone as an UPDATE in its early dialog; the phone's answer comes back
    in the provider's 200.
    """
    x = incoming()
    x.provider.update(dir="sendonly")
    x.run()
    (update,) = x.sip.requests("UPDATE")
    assert direction(update) == "sendonly"
    assert mediaPort(update) == x.provider.mediaPort
    answer = [m for m in x.provider.received
              if getattr(m, "status", 0) == 200 and m.cseq.method == "UPDATE"][-1]
    assert direction(answer) == "recvonly"
    assert mediaPort(answer) == x.sip.mediaPort


def test_phone_early_update_passes_to_the_provider():
    x = incoming()
    x.sip.update(dir="sendonly")
    x.run()
    (update,) = x.provider.requests("UPDATE")
    assert direction(update) == "sendonly"
    answer = [m for m in x.sip.received
              if getattr(m, "status", 0) == 200 and m.cseq.method == "UPDATE"][-1]
    assert direction(answer) == "recvonly"
    assert mediaPort(answer) == x.provider.mediaPort


def outgoing():
    """
    Phone 200 (with 100rel) dials 0 0891234567 on the trunk; the provider
    rings and sends its answer in a reliable 183.
    """
    x = PhoneAndTrunk()
    x.recorder.take()
    x.sip.call("00891234567")
    x.run()
    x.provider.progress()
    x.run()
    return x


def test_trunk_invite_offers_100rel_and_pracks_the_provider():
    x = outgoing()
    invite = lastRequest(x.provider, "INVITE")
    assert invite.headers.get("supported") == "100rel"
    assert {"PRACK", "UPDATE"} <= set(invite.headers.getAll("allow"))
    (prack,) = x.provider.requests("PRACK")
    assert prack.headers.get("rack") == f"1 {invite.cseq.number} INVITE"


def test_provider_early_media_reaches_the_phone():
    """
    The provider's 183 answer reaches the calling phone in a reliable 183
    with the provider's media and oso's own origin; no Established until
    the provider answers.
    """
    x = outgoing()
    early = [m for m in x.sip.reliables() if m.status == 183]
    assert len(early) == 1
    assert mediaPort(early[0]) == x.provider.mediaPort
    assert parseSDP(early[0].body).origin.username != "phone"
    assert "Established" not in x.recorder.names()
    x.provider.answer()
    x.run()
    assert x.sip.statuses()[-1] == 200
    assert x.recorder.names()[-1] == "Established"


def test_provider_early_update_on_our_invite_passes_to_the_phone():
    x = outgoing()
    x.provider.update(dir="sendonly")
    x.run()
    (update,) = x.sip.requests("UPDATE")
    assert direction(update) == "sendonly"
    answer = [m for m in x.provider.received
              if getattr(m, "status", 0) == 200 and m.cseq.method == "UPDATE"][-1]
    assert direction(answer) == "recvonly"


def test_confirmed_updates_pass_both_ways():
    """
    Once answered, the provider's UPDATE reaches the phone as an UPDATE and
    the phone's answer comes back; the phone's UPDATE reaches the provider
    likewise.
    """
    x = outgoing()
    x.provider.answer()
    x.run()
    x.provider.update(dir="sendonly")
    x.run()
    (update,) = x.sip.requests("UPDATE")
    assert direction(update) == "sendonly"
    answer = [m for m in x.provider.received
              if getattr(m, "status", 0) == 200 and m.cseq.method == "UPDATE"][-1]
    assert direction(answer) == "recvonly"
    assert mediaPort(answer) == x.sip.mediaPort
    x.sip.update(dir="sendrecv")
    x.run()
    assert len(x.provider.requests("UPDATE")) == 1
    answer = [m for m in x.sip.received
              if getattr(m, "status", 0) == 200 and m.cseq.method == "UPDATE"][-1]
    assert mediaPort(answer) == x.provider.mediaPort


def test_unknown_require_from_provider_gets_420():
    x = PhoneAndTrunk()
    x.provider.fields = [("require", "100rel, foo")]
    x.provider.call("030123456200")
    x.run()
    assert x.provider.statuses()[-1] == 420
    response = x.provider.received[-1]
    assert response.headers.get("unsupported") == "foo"
    assert x.sip.requests("INVITE") == []


def answered():
    x = outgoing()
    x.provider.answer()
    x.run()
    return x


def test_phone_reinvite_passes_to_the_provider():
    """
    A phone's hold by re-INVITE reaches the provider as a re-INVITE (no
    longer answered at the trunk), and the provider's answer comes back.
    """
    x = answered()
    x.sip.hold()
    x.run()
    reinvite = [m for m in x.provider.requests("INVITE")][-1]
    assert reinvite.toAddress.tag is not None
    assert direction(reinvite) == "sendonly"
    assert mediaPort(reinvite) == x.sip.mediaPort
    answer = [m for m in x.sip.received
              if getattr(m, "status", 0) == 200 and m.cseq.method == "INVITE"][-1]
    assert direction(answer) == "recvonly"
    assert mediaPort(answer) == x.provider.mediaPort
    assert "Held" in x.recorder.names()


def test_update_glare_on_the_trunk_leg():
    """
    RFC 3311 5.2 on the provider's side: an UPDATE of the provider while
    the phone's UPDATE passed to it waits for its answer gets 491; the
    answer it then gives reaches the phone.
    """
    x = answered()
    x.provider.answerUpdates = False
    x.sip.update(dir="sendonly")
    x.run()
    ((request, tx),) = x.provider.heldUpdates
    x.provider.update(dir="inactive")
    x.run()
    assert x.provider.statuses()[-1] == 491
    assert x.sip.requests("UPDATE") == []
    x.provider.answerUpdate(request, tx)
    x.run()
    answer = [m for m in x.sip.received
              if getattr(m, "status", 0) == 200 and m.cseq.method == "UPDATE"][-1]
    assert direction(answer) == "recvonly"


def test_refused_update_is_refused_to_the_phone_too():
    """
    The provider refuses the phone's UPDATE that oso passed it (488, a
    codec it cannot take): the phone's UPDATE gets the same refusal at
    once instead of waiting for its transaction to time out, and a later
    UPDATE still passes.
    """
    x = answered()
    x.provider.answerUpdates = False
    x.sip.update(dir="sendonly")
    x.run()
    [(request, transaction)] = x.provider.heldUpdates
    transaction.respond(makeResponse(request, 488, toTag=request.toAddress.tag))
    x.run()
    refusal = [m for m in x.sip.received
               if getattr(m, "status", 0) >= 200 and m.cseq.method == "UPDATE"]
    assert [m.status for m in refusal] == [488]
    x.provider.answerUpdates = True
    x.sip.update(dir="sendonly")
    x.run()
    answers = [m for m in x.sip.received
               if getattr(m, "status", 0) >= 200 and m.cseq.method == "UPDATE"]
    assert [m.status for m in answers] == [488, 200]
