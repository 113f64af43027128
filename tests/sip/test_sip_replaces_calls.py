"""
INVITE with Replaces (RFC 3891) through the sip-lines port, sans-I/O: a
phone takes over another phone's answered call (the model's single step
transfer to it) or picks up a call ringing at another phone (directed
pickup), and the RFC's refusals.
"""

from oso.callmodel.causes import EventCause
from oso.sip.headers import NameAddress
from oso.sip.replaces import Replaces
from oso.sip.sdp import parseSDP
from oso.sip.uri import SIPURI

from sip_lines_harness import OSO, SIPExchange


def names(x):
    return x.recorder.names()


def requests(phone, method):
    return [m for m in phone.received if getattr(m, "method", None) == method]


def finals(phone, callID):
    """
    The final responses to a phone's INVITE after its 407 challenge.
    """
    return [m.status for m in phone.received
            if getattr(m, "status", 0) >= 200 and m.status != 407
            and m.callID == callID and m.cseq.method == "INVITE"]


def inviteReplacing(x, phone, number, replaces):
    """
    The phone's INVITE to C{number} carrying C{Replaces}.
    """
    request = phone._new("INVITE", number)
    request.body = phone.sdp()
    request.headers.add("content-type", "application/sdp")
    request.headers.add("replaces", str(replaces))
    request.headers.add("require", "replaces")
    phone.outgoing = request
    phone.outTx = phone.layer.request(request, OSO, "UDP")
    x.run()
    return request


def ourDialogWith(x, number):
    """
    The Replaces naming the port's dialog with phone C{number}, as the
    port sees it (its own tag is the to-tag).
    """
    (leg,) = [leg for leg in x.lines._dialogs.values()
              if leg.session.phone.number == number and leg.dialog is not None]
    return leg, Replaces(leg.dialog.callID, leg.dialog.localTag, leg.dialog.remoteTag)


def talking(x):
    a, b = x.sip("200"), x.sip("201")
    a.call("201")
    x.run()
    b.answer()
    x.run()
    x.recorder.take()
    return a, b


def test_confirmed_dialog_is_replaced_by_a_transfer():
    """
    RFC 3891 3: 202 replaces 201's answered call with 200: the model's
    single step transfer of 201's connection to 202, answered by the
    INVITE itself; 201 gets a BYE, 200 and 202 each other's media.
    """
    x = SIPExchange()
    x.register("200", "201", "202")
    a, b = talking(x)
    c = x.sip("202")
    old, replaces = ourDialogWith(x, "201")
    request = inviteReplacing(x, c, "201", replaces)
    assert finals(c, request.callID) == [200]
    assert requests(b, "BYE")
    assert names(x)[0] == "Transferred"
    assert x.recorder.events[0].cause is EventCause.singleStepTransfer
    assert names(x)[-1] == "Established"
    (call,) = x.model.calls()
    assert sorted(call.connections) == ["200", "202"]
    ok = [m for m in c.received if getattr(m, "status", 0) == 200][-1]
    assert parseSDP(ok.body).media[0].port == a.mediaPort
    assert parseSDP(requests(a, "INVITE")[-1].body).media[0].port == c.mediaPort
    c.hangUp(request.callID)
    x.run()
    assert x.model.calls() == []


def test_early_dialog_we_started_is_picked_up():
    """
    RFC 3891 3: 202 replaces the early dialog of our INVITE ringing at
    201: a directed pickup; 201's INVITE is cancelled, 202 talks to 200.
    """
    x = SIPExchange()
    x.register("200", "201", "202")
    a, b, c = x.sip("200"), x.sip("201"), x.sip("202")
    a.call("201")
    x.run()
    (invite,) = requests(b, "INVITE")
    (callID,) = b.incoming
    ringing = [m for m in b.sent() if getattr(m, "status", 0) == 180][-1]
    x.recorder.take()
    replaces = Replaces(invite.callID, invite.fromAddress.tag, ringing.toAddress.tag, True)
    request = inviteReplacing(x, c, "201", replaces)
    assert finals(c, request.callID) == [200]
    assert requests(b, "CANCEL")
    assert "Diverted" in names(x)
    assert names(x)[-1] == "Established"
    assert x.recorder.events[-1].cause is EventCause.callPickup
    assert finals(a, a.outgoing.callID)[-1] == 200


def test_no_such_dialog_is_481():
    """
    RFC 3891 3: no dialog matches: 481, nothing in the model.
    """
    x = SIPExchange()
    x.register("200", "202")
    c = x.sip("202")
    request = inviteReplacing(x, c, "201", Replaces("nonesuch", "1", "2"))
    assert finals(c, request.callID) == [481]
    assert x.model.calls() == []


def test_early_only_on_a_confirmed_dialog_is_486():
    """
    RFC 3891 3: early-only names a confirmed dialog: 486, the call stays.
    """
    x = SIPExchange()
    x.register("200", "201", "202")
    talking(x)
    c = x.sip("202")
    old, replaces = ourDialogWith(x, "201")
    early = Replaces(replaces.callID, replaces.toTag, replaces.fromTag, True)
    request = inviteReplacing(x, c, "201", early)
    assert finals(c, request.callID) == [486]
    assert len(x.model.calls()) == 1 and names(x) == []


def test_early_dialog_not_ours_is_481():
    """
    RFC 3891 3: the early dialog of a phone's own INVITE to us (we did not
    start it) cannot be replaced: 481.
    """
    x = SIPExchange()
    x.register("200", "201", "202")
    a, c = x.sip("200"), x.sip("202")
    request = a.call("201")
    x.run()
    (leg,) = [leg for leg in x.lines._dialogs.values() if leg.session.phone.number == "200"]
    replacing = inviteReplacing(x, c, "201", Replaces(request.callID, leg.localTag,
                                                      request.fromAddress.tag))
    assert finals(c, replacing.callID) == [481]


def test_malformed_or_repeated_replaces_is_400():
    """
    RFC 3891 3: more than one Replaces (or a malformed one) is a 400.
    """
    x = SIPExchange()
    x.register("202")
    c = x.sip("202")
    request = c._new("INVITE", "201")
    request.headers.add("replaces", "a;to-tag=1;from-tag=2")
    request.headers.add("replaces", "b;to-tag=1;from-tag=2")
    c.layer.request(request, OSO, "UDP")
    x.run()
    assert finals(c, request.callID) == [400]


def test_replacing_a_dialog_of_its_own_extension_is_forbidden():
    """
    A phone cannot replace its own extension's dialog (the model has no
    party to move): 403, the call stays.
    """
    x = SIPExchange()
    x.register("200", "201")
    talking(x)
    b = x.sip("201")
    b.address = ("127.0.1.9", 5060)
    x.network.ends[b.address] = b
    b.register(x.registrar, contact=SIPURI("127.0.1.9", user="201"))
    old, replaces = ourDialogWith(x, "201")
    request = b._new("INVITE", "200")
    request.headers.set("contact", NameAddress(SIPURI("127.0.1.9", user="201")))
    request.headers.add("replaces", str(replaces))
    b.outgoing = request
    b.outTx = b.layer.request(request, OSO, "UDP")
    x.run()
    assert finals(b, request.callID) == [403]
    assert len(x.model.calls()) == 1
