"""
Transfers by REFER through the sip-lines port, sans-I/O: scripted phones on
the in-memory network transfer blind (RFC 3515: the model's single step
transfer) and attended (RFC 3891 Replaces in Refer-To: the model's
transfer), and hear the progress in NOTIFYs before the port hangs up.
"""

from urllib.parse import quote

from oso.callmodel.causes import EventCause
from oso.sip.dialog import makeDialogResponse
from oso.sip.replaces import Replaces
from oso.sip.sdp import parseSDP

from sip_lines_harness import SIPExchange


def names(x):
    return x.recorder.names()


def requests(phone, method):
    return [m for m in phone.received if getattr(m, "method", None) == method]


def connected(x, caller, called):
    a, b = x.sip(caller), x.sip(called)
    request = a.call(called)
    x.run()
    b.answer(_incoming(b))
    x.run()
    return request.callID


def _incoming(phone):
    (callID,) = phone.incoming
    return callID


def refer(x, phone, callID, referTo, **headers):
    dialog = phone.dialogs[callID]
    request = dialog.createRequest("REFER")
    request.headers.add("refer-to", referTo)
    for name, value in headers.items():
        request.headers.add(name.replace("_", "-"), value)
    phone._send(dialog, request)
    x.run()
    return [m for m in phone.received if getattr(m, "status", 0) and m.cseq.method == "REFER"][-1]


def sipfrags(phone):
    return [(n.body, n.headers.get("subscription-state")) for n in requests(phone, "NOTIFY")]


def test_blind_transfer_reports_busy_target():
    """
    RFC 3515 2.4.5: the target's refusal is the final NOTIFY (486); the
    model fails the transferred call as busy, the transferor is hung up.
    """
    x = SIPExchange()
    x.register("200", "201", "202")
    callID = connected(x, "200", "201")
    a, c = x.sip("200"), x.sip("202")
    c.busy = True
    response = refer(x, a, callID, "<sip:202@127.0.0.1>")
    assert response.status == 202
    assert sipfrags(a)[0] == (b"SIP/2.0 100 Trying\r\n", "active;expires=60")
    assert sipfrags(a)[-1] == (b"SIP/2.0 486 Busy Here\r\n", "terminated;reason=noresource")
    assert requests(a, "BYE")
    events = x.recorder.events
    assert names(x).index("Transferred") < names(x).index("Failed")
    assert next(e for e in events if e.name == "Failed").cause is EventCause.busy


def test_refer_sub_false_sends_no_notify():
    """
    RFC 4488 4: REFER with Refer-Sub: false gets a 202 with Refer-Sub:
    false and no NOTIFY; the transfer happens all the same.
    """
    x = SIPExchange()
    x.register("200", "201", "202")
    callID = connected(x, "200", "201")
    a, c = x.sip("200"), x.sip("202")
    response = refer(x, a, callID, "<sip:202@127.0.0.1>", refer_sub="false")
    assert response.status == 202 and response.headers.get("refer-sub") == "false"
    c.answer(_incoming(c))
    x.run()
    assert requests(a, "NOTIFY") == []
    assert requests(a, "BYE")
    assert names(x)[-1] == "Established"


def test_malformed_refer_to_is_refused_and_the_call_goes_on():
    """
    RFC 3515 2.4.2: no usable Refer-To is a 400, a scheme we do not refer
    to a 403; nothing changes in the model.
    """
    x = SIPExchange()
    x.register("200", "201")
    callID = connected(x, "200", "201")
    a = x.sip("200")
    x.recorder.take()
    assert refer(x, a, callID, "<sip:202@127.0.0.1").status == 400
    assert refer(x, a, callID, "<mailto:a@b>").status == 403
    assert names(x) == [] and requests(a, "NOTIFY") == []


def test_transferor_hanging_up_early_is_fine():
    """
    RFC 3515: the transferor may end its dialog before the final NOTIFY;
    the transfer goes on and no NOTIFY follows the BYE.
    """
    x = SIPExchange()
    x.register("200", "201", "202")
    callID = connected(x, "200", "201")
    a, c = x.sip("200"), x.sip("202")
    refer(x, a, callID, "<sip:202@127.0.0.1>")
    a.hangUp(callID)
    x.run()
    count = len(requests(a, "NOTIFY"))
    c.answer(_incoming(c))
    x.run()
    assert len(requests(a, "NOTIFY")) == count
    assert names(x)[-1] == "Established"
    assert all(leg.session.phone.number != "200" for leg in x.lines._dialogs.values())


def test_subscription_expires_while_the_target_rings():
    """
    RFC 3515 2.4.4: no answer within the subscription's 60 s: the last
    NOTIFY says terminated;reason=timeout with the last status, then BYE.
    """
    x = SIPExchange()
    x.register("200", "201", "202")
    callID = connected(x, "200", "201")
    a = x.sip("200")
    refer(x, a, callID, "<sip:202@127.0.0.1>")
    x.run(61)
    assert sipfrags(a)[-1] == (b"SIP/2.0 180 Ringing\r\n", "terminated;reason=timeout")
    assert requests(a, "BYE")


def consultation(x):
    """
    200 talks to 201, holds it, and calls 202 who answers.

    @return: the two Call-IDs of 200's dialogs.
    """
    held = connected(x, "200", "201")
    a = x.sip("200")
    a.hold(held)
    x.run()
    consult = connected(x, "200", "202")
    x.recorder.take()
    return held, consult


def replacesFor(phone, callID):
    """
    The Refer-To Replaces naming a phone's dialog as its far end (oso)
    sees it: our To tag is oso's tag.
    """
    dialog = phone.dialogs[callID]
    return Replaces(dialog.callID, dialog.remoteTag, dialog.localTag)


def test_attended_transfer_with_replaces():
    """
    RFC 3891 4 / RFC 5589 7: REFER on the held dialog whose Refer-To names
    the consultation dialog in Replaces: the model's transfer joins 201
    and 202, both of 200's dialogs end, and 201 and 202 get each other's
    media.
    """
    x = SIPExchange()
    x.register("200", "201", "202")
    held, consult = consultation(x)
    a, b, c = x.sip("200"), x.sip("201"), x.sip("202")
    replaces = quote(str(replacesFor(a, consult)), safe="")
    response = refer(x, a, held, f"<sip:202@127.0.0.1?Replaces={replaces}>")
    assert response.status == 202
    assert names(x)[0] == "Transferred"
    event = x.recorder.events[0]
    assert event.transferringDevice == "200" and event.transferredToDevice == "202"
    assert [body for body, _ in sipfrags(a)] == [b"SIP/2.0 100 Trying\r\n", b"SIP/2.0 200 OK\r\n"]
    byes = requests(a, "BYE")
    assert sorted(m.callID for m in byes) == sorted([held, consult])
    assert a.dialogs == {}
    (call,) = x.model.calls()
    assert sorted(call.connections) == ["201", "202"]
    assert parseSDP(requests(b, "INVITE")[-1].body).media[0].port == c.mediaPort
    assert parseSDP(requests(c, "INVITE")[-1].body).media[0].port == b.mediaPort


def test_attended_transfer_from_the_consultation_dialog():
    """
    The REFER may come on either dialog (RFC 5589 leaves the choice): on
    the consultation dialog naming the held one, the same transfer.
    """
    x = SIPExchange()
    x.register("200", "201", "202")
    held, consult = consultation(x)
    a = x.sip("200")
    replaces = quote(str(replacesFor(a, held)), safe="")
    assert refer(x, a, consult, f"<sip:201@127.0.0.1?Replaces={replaces}>").status == 202
    assert names(x)[0] == "Transferred"
    assert sipfrags(a)[-1][0] == b"SIP/2.0 200 OK\r\n"


def test_attended_transfer_to_a_ringing_consultation():
    """
    RFC 5589 7.3: transfer while the consulted phone still rings, Replaces
    naming the transferor's early dialog: the model's transfer, the
    transferor's INVITE ends, and the final NOTIFY (200) waits for the
    answer.
    """
    x = SIPExchange()
    x.register("200", "201", "202")
    held = connected(x, "200", "201")
    a, b, c = x.sip("200"), x.sip("201"), x.sip("202")
    a.hold(held)
    x.run()
    request = a.call("202")
    x.run()
    ringing = [m for m in a.received if getattr(m, "status", 0) == 180][-1]
    replaces = Replaces(request.callID, ringing.toAddress.tag, request.fromAddress.tag)
    x.recorder.take()
    refer(x, a, held, f"<sip:202@127.0.0.1?Replaces={quote(str(replaces), safe='')}>")
    assert names(x)[0] == "Transferred"
    assert [body for body, _ in sipfrags(a)] == [b"SIP/2.0 100 Trying\r\n"]
    final = [m for m in a.received if getattr(m, "status", 0) and m.callID == request.callID][-1]
    assert final.status >= 400
    c.answer(_incoming(c))
    x.run()
    assert names(x)[-1] == "Established"
    assert sipfrags(a)[-1] == (b"SIP/2.0 200 OK\r\n", "terminated;reason=noresource")
    assert requests(a, "BYE")[-1].callID == held
    assert parseSDP(requests(c, "INVITE")[-1].body).media[0].port == b.mediaPort


def test_replaces_naming_an_unknown_dialog_notifies_481():
    """
    RFC 3891 3 as the referenced INVITE would hear it: no such dialog is
    a final NOTIFY with 481; the calls stay as they are.
    """
    x = SIPExchange()
    x.register("200", "201", "202")
    held, consult = consultation(x)
    a = x.sip("200")
    replaces = quote(str(Replaces("nonesuch", "1", "2")), safe="")
    assert refer(x, a, held, f"<sip:202@127.0.0.1?Replaces={replaces}>").status == 202
    assert sipfrags(a)[-1] == (
        b"SIP/2.0 481 Call/Transaction Does Not Exist\r\n", "terminated;reason=noresource")
    assert len(x.model.calls()) == 2 and names(x) == []
    assert requests(a, "BYE") == []


def test_second_refer_while_one_goes_on_is_491():
    """
    One transfer at a time per dialog: a REFER while the first one's
    subscription runs gets 491.
    """
    x = SIPExchange()
    x.register("200", "201", "202")
    callID = connected(x, "200", "201")
    a = x.sip("200")
    refer(x, a, callID, "<sip:202@127.0.0.1>")
    assert refer(x, a, callID, "<sip:100@127.0.0.1>").status == 491


def test_attended_transfer_with_both_calls_held():
    """
    A phone that holds its consultation call too before it REFERs: the
    consultation counts as retrieved, and the transfer goes ahead.
    """
    x = SIPExchange()
    x.register("200", "201", "202")
    held, consult = consultation(x)
    a = x.sip("200")
    a.hold(consult)
    x.run()
    x.recorder.take()
    replaces = quote(str(replacesFor(a, consult)), safe="")
    assert refer(x, a, held, f"<sip:202@127.0.0.1?Replaces={replaces}>").status == 202
    assert names(x)[:2] == ["Retrieved", "Transferred"]
    assert sipfrags(a)[-1][0] == b"SIP/2.0 200 OK\r\n"
    (call,) = x.model.calls()
    assert sorted(call.connections) == ["201", "202"]


def test_notify_refused_ends_the_subscription():
    """
    RFC 6665 4.1.3: the transferor answers a NOTIFY with 481: no NOTIFY
    follows, and its dialog is hung up.
    """
    x = SIPExchange()
    x.register("200", "201", "202")
    callID = connected(x, "200", "201")
    a, c = x.sip("200"), x.sip("202")
    c.autoRing = False
    refer(x, a, callID, "<sip:202@127.0.0.1>")
    assert len(requests(a, "NOTIFY")) == 1
    # The phone forgets the dialog: the 180's NOTIFY gets its 481.
    del a.dialogs[callID]
    request, tx, tag = c.incoming[_incoming(c)]
    tx.respond(makeDialogResponse(request, 180, tag, c.uri))
    x.run()
    assert len(requests(a, "NOTIFY")) == 2
    assert requests(a, "BYE")
    c.answer(_incoming(c))
    x.run()
    assert len(requests(a, "NOTIFY")) == 2
    assert names(x)[-1] == "Established"
