"""
The sip-lines port, sans-I/O: scripted SIP phones on an in-memory network
call each other and virtual phones through the call model; each scenario
checks the SIP messages on both sides and the call model's events.
"""

from zope.interface.verify import verifyObject

from oso.callmodel.causes import EventCause
from oso.callmodel.states import LocalConnectionState as S
from oso.interfaces import IEventObserver, IPortDriver, ITerminal
from oso.interfaces.sip import ISIPApplication, IUserAgent
from oso.sip.dialog import Dialog
from oso.sip.message import parseMessage
from oso.sip.sdp import parseSDP

from sip_lines_harness import SIPExchange


def names(exchange):
    return exchange.recorder.names()


def test_interfaces():
    x = SIPExchange()
    x.register("200")
    verifyObject(IPortDriver, x.lines)
    verifyObject(IEventObserver, x.lines)
    verifyObject(ISIPApplication, x.lines)
    verifyObject(IUserAgent, x.ua)
    verifyObject(ITerminal, x.lines.terminalFor(x.model.device("200")))


def test_unregistered_phone_is_out_of_service():
    x = SIPExchange()
    assert x.lines.terminalFor(x.model.device("200")) is None
    x.phone("100").offHook("200")
    assert x.recorder.events[-1].name == "Failed"
    assert x.recorder.events[-1].cause is EventCause.destOutOfOrder


def test_invite_is_challenged_then_routed_and_answered():
    x = SIPExchange()
    x.register("200", "201")
    a, b = x.sip("200"), x.sip("201")
    a.call("201")
    x.run()
    assert a.statuses()[:2] == [407, 100]
    assert a.statuses()[2] == 180
    invite = [m for m in b.received if getattr(m, "method", None) == "INVITE"][0]
    assert invite.fromAddress.uri.user == "200"
    assert invite.toAddress.uri.user == "201"
    offered = parseSDP(invite.body)
    assert offered.media[0].port == a.mediaPort
    assert offered.origin.username != "phone"
    assert names(x) == ["ServiceInitiated", "Originated", "Delivered"]
    b.answer()
    x.run()
    assert a.statuses()[-1] == 200
    answer = parseSDP(a.received[-1].body)
    assert answer.media[0].port == b.mediaPort
    assert answer.origin.username != "phone"
    assert names(x)[-1] == "Established"
    assert "ACK" in b.methods()
    call = x.model.calls()[0]
    assert [c.state for c in call.connections.values()] == [S.connected, S.connected]
    # The caller hangs up.
    a.hangUp()
    x.run()
    assert b.methods()[-1] == "BYE"
    assert a.statuses()[-1] == 200
    assert names(x)[-2:] == ["ConnectionCleared", "CallCleared"]
    assert x.model.calls() == []


def test_trying_goes_out_before_the_forks():
    """
    RFC 3261 17.2.1: the caller's 100 Trying is sent before the forked
    INVITEs to the called extension's contacts leave.
    """
    from sip_lines_harness import OSO, Phone

    x = SIPExchange()
    x.register("200", "201")
    second = Phone(x.network, "201", "pw201", "127.0.2.9")
    second.register(x.registrar)
    x.run()
    a = x.sip("200")
    a.call("201")
    x.run()
    fromOso = [
        (destination, data.split(b"\r\n", 1)[0])
        for source, destination, data in x.network.log
        if tuple(source) == OSO
    ]
    trying = fromOso.index((tuple(a.address), b"SIP/2.0 100 Trying"))
    forks = [i for i, (_, line) in enumerate(fromOso) if line.startswith(b"INVITE ")]
    assert len(forks) == 2
    assert trying < min(forks)


def test_wrong_password_is_refused():
    x = SIPExchange()
    x.register("200", "201")
    a = x.sip("200")
    a.password = "wrong"
    a.call("201")
    x.run()
    assert a.statuses() == [407, 403]
    assert names(x) == []


def test_called_party_hangs_up():
    x = SIPExchange()
    x.register("200", "201")
    a, b = x.answeredCall()
    b.hangUp()
    x.run()
    assert a.methods()[-1] == "BYE"
    assert b.statuses()[-1] == 200
    assert x.model.calls() == []
    assert names(x)[-2:] == ["ConnectionCleared", "CallCleared"]


def test_cancel_before_answer():
    x = SIPExchange()
    x.register("200", "201")
    a, b = x.sip("200"), x.sip("201")
    a.call("201")
    x.run()
    a.cancel()
    x.run()
    assert 487 in a.statuses()
    assert "CANCEL" in b.methods()
    assert 487 in [getattr(m, "status", None) for m in b.sent()]
    assert x.model.calls() == []
    assert names(x)[-1] == "CallCleared"


def test_busy_phone():
    x = SIPExchange()
    x.register("200", "201")
    a, b = x.sip("200"), x.sip("201")
    b.busy = True
    a.call("201")
    x.run()
    assert a.statuses()[-1] == 486
    assert names(x)[-1] == "CallCleared"
    failed = [e for e in x.recorder.events if e.name == "Failed"]
    assert failed and failed[0].cause is EventCause.busy


def test_unknown_number_is_not_found():
    x = SIPExchange()
    x.register("200")
    a = x.sip("200")
    a.call("999")
    x.run()
    assert a.statuses()[-1] in (404, 484)
    assert x.model.calls() == []


def test_sip_phone_calls_virtual_phone():
    x = SIPExchange()
    x.register("200")
    a = x.sip("200")
    a.call("100")
    x.run()
    assert a.statuses()[-1] == 180
    x.phone("100").answer()
    x.run()
    assert a.statuses()[-1] == 200
    answer = parseSDP(a.received[-1].body)
    assert answer.media[0].attribute("inactive") == ""
    x.phone("100").hangUp()
    x.run()
    assert a.methods()[-1] == "BYE"
    assert x.model.calls() == []


def test_virtual_phone_calls_sip_phone_forking():
    x = SIPExchange()
    x.register("200")
    a = x.sip("200")
    from sip_lines_harness import Phone

    second = Phone(x.network, "200", "pw200", "127.0.2.9")
    second.register(x.registrar)
    x.phone("100").offHook("200")
    x.run()
    assert "INVITE" in a.methods() and "INVITE" in second.methods()
    assert names(x)[-1] == "Delivered"
    second.answer()
    x.run()
    assert "CANCEL" in a.methods()
    assert names(x)[-1] == "Established"
    x.phone("100").hangUp()
    x.run()
    assert second.methods()[-1] == "BYE"
    assert x.model.calls() == []


def connected(x, caller="200", called="201"):
    a, b = x.answeredCall(caller, called)
    x.recorder.take()
    return a, b


def lastInvite(phone):
    return [m for m in phone.received if getattr(m, "method", None) == "INVITE"][-1]


def test_phone_holds_and_resumes_by_reinvite():
    x = SIPExchange()
    x.register("200", "201")
    a, b = connected(x)
    a.hold()
    x.run()
    assert names(x) == ["Held"]
    assert x.recorder.events[0].holdingDevice == "200"
    relayed = parseSDP(lastInvite(b).body)
    assert relayed.media[0].attribute("sendonly") == ""
    assert a.statuses()[-1] == 200
    answer = parseSDP(a.received[-1].body)
    assert answer.media[0].attribute("recvonly") == ""
    assert answer.origin.sessionVersion == parseSDP(
        [m for m in a.received if getattr(m, "status", 0) == 200][0].body
    ).origin.sessionVersion + 1
    a.resume()
    x.run()
    assert names(x) == ["Held", "Retrieved"]
    assert lastInvite(b).body.count(b"sendonly") == 0
    a.hold(dir="inactive")
    x.run()
    assert names(x)[-1] == "Held"


def test_rfc2543_hold():
    x = SIPExchange()
    x.register("200", "201")
    a, b = connected(x)
    dialog = a._dialog(None)
    a.version += 1
    request = dialog.createRequest("INVITE")
    request.body = a.sdp().replace(b"c=IN IP4 127.0.1.1", b"c=IN IP4 0.0.0.0")
    request.headers.add("content-type", "application/sdp")
    a._send(dialog, request)
    x.run()
    assert names(x) == ["Held"]


def test_call_model_holds_and_retrieves_a_sip_phone():
    x = SIPExchange()
    x.register("200", "201")
    a, b = connected(x)
    call = x.model.calls()[0]
    x.model.holdCall(call.connections["201"].id)
    x.run()
    assert names(x) == ["Held"]
    held = parseSDP(lastInvite(b).body)
    # The holding phone neither hears the held party nor sends to it.
    assert held.media[0].attribute("inactive") == ""
    assert held.media[0].attribute("sendonly") is None
    assert held.media[0].port == a.mediaPort
    assert b.sent()[-1].status == 200
    x.model.retrieveCall(call.connections["201"].id)
    x.run()
    assert names(x) == ["Held", "Retrieved"]
    assert b"inactive" not in lastInvite(b).body
    versions = [parseSDP(m.body).origin.sessionVersion for m in b.received
                if getattr(m, "method", None) == "INVITE"]
    assert versions == sorted(set(versions)) and len(versions) == 3


def test_make_call_rings_the_calling_phone_first_with_auto_answer():
    x = SIPExchange()
    x.register("200", "201")
    a, b = x.sip("200"), x.sip("201")
    x.model.makeCall("200", "201")
    x.run()
    invite = lastInvite(a)
    assert invite.headers.get("call-info").endswith(";answer-after=0")
    assert invite.body == b""
    assert invite.fromAddress.uri.user == "201"
    a.answer()
    x.run()
    ack = [m for m in x.network.log if m[0] == ("127.0.0.1", 5060) and m[2].startswith(b"ACK")]
    assert ack and b"a=inactive" in ack[-1][2]
    assert "INVITE" in b.methods()
    assert parseSDP(lastInvite(b).body).media[0].port == a.mediaPort
    b.answer()
    x.run()
    assert names(x)[-1] == "Established"
    # The calling phone's media is pointed at the called phone.
    reinvite = lastInvite(a)
    assert parseSDP(reinvite.body).media[0].port == b.mediaPort
    b.hangUp()
    x.run()
    assert a.methods()[-1] == "BYE"
    assert x.model.calls() == []


def test_no_answer_forwarding_cancels_the_phone():
    from oso.callmodel.devices import ForwardingType

    x = SIPExchange()
    x.register("200", "201")
    x.clock.advance(0)
    d = x.model.setForwarding("201", ForwardingType.forwardNoAns, True, "100")
    x.run()
    a, b = x.sip("200"), x.sip("201")
    a.call("201")
    x.run()
    x.run(16)
    assert "CANCEL" in b.methods()
    assert "Diverted" in names(x)
    assert names(x)[-1] == "Delivered"
    x.phone("100").answer()
    x.run()
    assert a.statuses()[-1] == 200


def test_deflect_and_phone_redirect():
    x = SIPExchange()
    x.register("200", "201", "202")
    a, b, c = x.sip("200"), x.sip("201"), x.sip("202")
    a.call("201")
    x.run()
    call = x.model.calls()[0]
    x.model.deflectCall(call.connections["201"].id, "202")
    x.run()
    assert "CANCEL" in b.methods()
    assert "INVITE" in c.methods()
    # 202 redirects the call itself with a 302.
    request, tx, tag = c.incoming.popitem()[1]
    from oso.sip.headers import NameAddress
    from oso.sip.transaction import makeResponse
    from oso.sip.uri import SIPURI

    moved = makeResponse(request, 302, toTag=tag)
    moved.headers.add("contact", NameAddress(SIPURI("127.0.0.1", user="100")))
    tx.respond(moved)
    x.run()
    assert names(x)[-2:] == ["Diverted", "Delivered"]
    x.phone("100").answer()
    x.run()
    assert a.statuses()[-1] == 200


def test_consultation_and_transfer_repoint_media_with_reinvites():
    x = SIPExchange()
    x.register("200", "201", "202")
    a, b = connected(x)
    c = x.sip("202")
    first = x.model.calls()[0]
    held, consulting = x.model.consultationCall(first.connections["200"].id, "202")
    x.run()
    invites = [m for m in a.received if getattr(m, "method", None) == "INVITE"]
    reinvite, consultation = invites[-2:]
    assert reinvite.toAddress.tag and consultation.toAddress.tag is None
    assert parseSDP(reinvite.body).media[0].attribute("inactive") == ""
    assert consultation.headers.get("call-info").endswith("answer-after=0")
    a.answer()
    x.run()
    c.answer()
    x.run()
    assert names(x)[-1] == "Established"
    x.recorder.take()
    (active,) = [c for c, state in x.model.snapshotDevice("200") if state is S.connected]
    x.model.transferCall(held, active)
    x.run()
    assert names(x)[0] == "Transferred"
    assert parseSDP(lastInvite(b).body).media[0].port == c.mediaPort
    assert parseSDP(lastInvite(c).body).media[0].port == b.mediaPort
    assert a.methods()[-2:] == ["BYE", "BYE"]
    assert a.dialogs == {}
    b.hangUp()
    x.run()
    assert c.methods()[-1] == "BYE"
    assert x.model.calls() == []


def test_bad_sdp_is_refused_with_400():
    x = SIPExchange()
    x.register("200", "201")
    a = x.sip("200")
    request = a.call("201")
    request.body = b"v=0\r\nthis is no SDP\r\n"
    x.run()
    final = [m for m in a.received if getattr(m, "status", 0) >= 400][-1]
    assert final.status == 400 and "SDP" in final.reason
    assert x.model.calls() == []


def test_ok_is_retransmitted_until_ack_and_the_call_ends_without_one():
    x = SIPExchange()
    x.register("200", "201")
    a, b = x.sip("200"), x.sip("201")
    a.call("201")
    x.run()
    # The caller is gone: no ACK comes.
    x.network.ends.pop(a.address)
    b.answer()
    x.run(40)
    oks = [d for s, _, d in x.network.log if s == ("127.0.0.1", 5060) and d.startswith(b"SIP/2.0 200") and b"INVITE" in d.split(b"CSeq:")[1][:20]]
    assert len(oks) > 3
    assert x.model.calls() == []
    assert b.methods()[-1] == "BYE"


def test_unreachable_contact_times_out_as_out_of_order():
    x = SIPExchange()
    x.register("200")
    x.network.ends.pop(x.sip("200").address)
    x.phone("100").offHook("200")
    x.run(40)
    failed = [e for e in x.recorder.events if e.name == "Failed"]
    assert failed and failed[0].cause is EventCause.destOutOfOrder


def test_answer_call_asks_the_phone_to_answer_by_itself():
    x = SIPExchange()
    x.register("201")
    b = x.sip("201")
    x.phone("100").offHook("201")
    x.run()
    call = x.model.calls()[0]
    x.model.answerCall(call.connections["201"].id)
    x.run()
    assert "CANCEL" in b.methods()
    assert lastInvite(b).headers.get("call-info").endswith("answer-after=0")
    b.answer()
    x.run()
    assert names(x)[-1] == "Established"


def test_generate_digits_sends_info():
    x = SIPExchange()
    x.register("200", "201")
    a, b = connected(x)
    call = x.model.calls()[0]
    x.model.generateDigits(call.connections["201"].id, "12#")
    x.run()
    infos = [m for m in b.received if getattr(m, "method", None) == "INFO"]
    assert [m.body for m in infos] == [b"Signal=1\r\nDuration=160\r\n", b"Signal=2\r\nDuration=160\r\n", b"Signal=#\r\nDuration=160\r\n"]


def test_unknown_dialog_gets_481():
    x = SIPExchange()
    x.register("200", "201")
    a, b = connected(x)
    dialog = a._dialog(None)
    dialog.remoteTag = "nonesuch"
    a.hangUp()
    x.run()
    assert a.statuses()[-1] == 481
    assert len(x.model.calls()) == 1


def test_phone_calling_without_an_offer_answers_in_its_ack():
    x = SIPExchange()
    x.register("200", "201")
    a, b = x.sip("200"), x.sip("201")
    a.call("201", body=False)
    x.run()
    invite = lastInvite(b)
    assert invite.body == b""
    b.answer()
    x.run()
    ok = [m for m in a.received if getattr(m, "status", 0) == 200][-1]
    assert parseSDP(ok.body).media[0].port == b.mediaPort
    x.run()
    # The ACK's answer (the harness phone answers with its own offer) is
    # offered on to the called phone.
    assert parseSDP(lastInvite(b).body).media[0].port == a.mediaPort


def test_phone_transfers_blind_with_refer():
    x = SIPExchange()
    x.register("200", "201", "202")
    a, b = connected(x)
    c = x.sip("202")
    dialog = a._dialog(None)
    refer = dialog.createRequest("REFER")
    refer.headers.add("refer-to", "<sip:202@127.0.0.1>")
    a._send(dialog, refer)
    x.run()
    assert 202 in a.statuses()
    assert names(x)[0] == "Transferred"
    assert "INVITE" in c.methods()
    c.answer()
    x.run()
    assert names(x)[-1] == "Established"
    # RFC 3515: the transferor hears the target ring, then answer.
    notifies = [m for m in a.received if getattr(m, "method", None) == "NOTIFY"]
    assert [n.body for n in notifies] == [
        b"SIP/2.0 100 Trying\r\n", b"SIP/2.0 180 Ringing\r\n", b"SIP/2.0 200 OK\r\n"]
    assert notifies[-1].headers.get("subscription-state").startswith("terminated")
    assert a.methods()[-1] == "BYE"
    assert parseSDP(lastInvite(b).body).media[0].port == c.mediaPort
    assert parseSDP(lastInvite(c).body).media[0].port == b.mediaPort


def test_refer_to_nowhere_is_refused_in_a_notify():
    x = SIPExchange()
    x.register("200", "201")
    a, b = connected(x)
    dialog = a._dialog(None)
    refer = dialog.createRequest("REFER")
    refer.headers.add("refer-to", "<sip:999@127.0.0.1>")
    a._send(dialog, refer)
    x.run()
    notifies = [m for m in a.received if getattr(m, "method", None) == "NOTIFY"]
    assert notifies[-1].body == b"SIP/2.0 404 Not Found\r\n"
    assert len(x.model.calls()) == 1


def test_malformed_record_route_is_refused_and_a_malformed_answer_dropped():
    x = SIPExchange()
    x.register("200", "201")
    a, b = x.sip("200"), x.sip("201")
    request = a.call("201")
    request.headers.add("record-route", "<sip:proxy@127.0.1.1")
    x.run()
    final = [m for m in a.received if getattr(m, "status", 0) >= 400][-1]
    assert final.status == 400 and "Record-Route" in final.reason
    assert x.model.calls() == []
    x.phone("100").offHook("201")
    x.run()
    callID, (invite, tx, tag) = next(iter(b.incoming.items()))
    from oso.sip.transaction import makeResponse

    broken = makeResponse(invite, 200, toTag=tag)
    broken.headers.add("contact", "<sip:201@")
    tx.respond(broken)
    x.run()
    assert names(x)[-1] == "Delivered"


def test_make_call_to_a_busy_phone_hangs_the_calling_phone_up():
    x = SIPExchange()
    x.register("200")
    a = x.sip("200")
    x.model.makeCall("200", "101")
    x.phone("101").refuseCalls = EventCause.busy
    x.run()
    a.answer()
    x.run()
    assert a.methods()[-1] == "BYE"
    assert x.model.calls() == []
    assert "Failed" in names(x)


def test_hold_toward_a_virtual_phone_is_answered_locally():
    x = SIPExchange()
    x.register("200")
    a = x.sip("200")
    a.call("100")
    x.run()
    x.phone("100").answer()
    x.run()
    x.recorder.take()
    a.hold()
    x.run()
    assert names(x) == ["Held"]
    answer = parseSDP(a.received[-1].body)
    assert a.received[-1].status == 200
    assert answer.media[0].attribute("inactive") == ""
    a.resume()
    x.run()
    assert names(x) == ["Held", "Retrieved"]


def heldByTheModel():
    """
    A call between two phones that the model held: the exchange, a
    function counting the ACKs the held phone got, and the held phone's
    server transaction of the hold re-INVITE.
    """
    x = SIPExchange()
    x.register("200", "201")
    a, b = connected(x)
    call = x.model.calls()[0]
    x.model.holdCall(call.connections["201"].id)
    x.run()

    def acks():
        return len([d for s, to, d in x.network.log if to == b.address and d.startswith(b"ACK")])

    # The re-INVITE's transaction: the last INVITE one, its 200 a later CSeq
    # than the first INVITE's.
    tx = [t for t in b.layer.transactions if t.method == "INVITE"][-1]
    assert tx.lastResponse.status == 200 and tx.lastResponse.cseq.number > 1
    return x, acks, tx


def test_retransmitted_ok_to_a_reinvite_is_acknowledged_again():
    x, acks, tx = heldByTheModel()
    before = acks()
    tx.respond(tx.lastResponse)
    x.run()
    assert acks() == before + 1


def test_bye_in_the_early_dialog_ends_the_call():
    """
    RFC 3261 15: the caller may end an early dialog with BYE: it gets 200,
    its INVITE 487, the called phone stops ringing and the call ends.
    """
    x = SIPExchange()
    x.register("200", "201")
    a, b = x.sip("200"), x.sip("201")
    a.call("201")
    x.run()
    [ringing] = [r for r in a.received if getattr(r, "status", None) == 180]
    early = Dialog.fromResponse(a.outgoing, ringing, a.uri)
    a._send(early, early.createRequest("BYE"))
    x.run()
    assert 200 in a.statuses() and 487 in a.statuses()
    assert "CANCEL" in b.methods()
    assert x.model.calls() == []
    assert names(x)[-1] == "CallCleared"


def test_retransmitted_ok_after_its_transaction_is_acknowledged_again():
    """
    A 2xx of a re-INVITE arriving after its client transaction ended (no
    transaction matches it) is acknowledged again; a 2xx of another CSeq
    is ignored, and neither fails.
    """
    x, acks, tx = heldByTheModel()
    before = acks()
    x.lines.responseReceived(tx.lastResponse, None)
    assert acks() == before + 1
    other = parseMessage(tx.lastResponse.serialise())
    other.headers.set("cseq", "999 INVITE")
    x.lines.responseReceived(other, None)
    assert acks() == before + 1


def test_deleted_extension_forgets_its_phone():
    """
    Deleting an extension removes its phone's registrations, in memory and
    in the store: a new extension with the number is out of service until
    a phone registers for it, and calls do not reach the old phone.
    """
    x = SIPExchange()
    x.register("200")
    device = x.model.device("200")
    assert x.registrar.contacts("200")
    removed = []
    x.model.removeDevice("200").addCallback(removed.append)
    x.run()
    assert removed == [None]
    assert x.registrar.contacts("200") == []
    stored = []
    x.store.loadRegistrations().addCallback(stored.extend)
    assert [b for b in stored if b.aor == "200"] == []
    x.addDevice(device)
    assert x.lines.terminalFor(x.model.device("200")) is None
    x.phone("100").offHook("200")
    x.run()
    assert x.recorder.events[-1].cause is EventCause.destOutOfOrder
    assert [m for m in x.sip("200").received if getattr(m, "method", None) == "INVITE"] == []
