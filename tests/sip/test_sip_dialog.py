"""
SIP dialogs (RFC 3261 section 12): creation at the UAC and the UAS, ids,
route sets, requests inside a dialog with loose and strict routing, CSeq
ordering and target refresh.
"""

import pytest

from oso.sip import parseMessage, parseURI
from oso.sip.dialog import Dialog, DialogID, dialogIDOf, makeDialogResponse, newTag
from oso.sip.transaction import makeResponse


def message(*lines):
    return parseMessage(("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode())


def invite(*extra, cseq="1 INVITE", method="INVITE", uri="sip:bob@b.example", toTag=None):
    to = "<sip:bob@b.example>" + (f";tag={toTag}" if toTag else "")
    return message(
        f"{method} {uri} SIP/2.0",
        "Via: SIP/2.0/UDP a.example;branch=z9hG4bK1",
        "Max-Forwards: 70",
        "From: Alice <sip:alice@a.example>;tag=a1",
        f"To: {to}",
        "Call-ID: call1",
        f"CSeq: {cseq}",
        *extra,
    )


RECORD_ROUTES = ("Record-Route: <sip:p1.example;lr>", "Record-Route: <sip:p2.example;lr>")


def answer(request, status=200, *extra):
    """
    A response from bob with tag b1, the request's Record-Route and
    C{extra} fields.
    """
    response = makeResponse(request, status, toTag="b1")
    for value in request.headers.getAll("record-route"):
        response.headers.add("record-route", value)
    for line in extra:
        name, value = line.split(": ", 1)
        response.headers.add(name, value)
    return response


def uacDialog(*extra):
    request = invite(*RECORD_ROUTES)
    response = answer(request, 200, "Contact: <sip:bob@192.0.2.2:5062>", *extra)
    return Dialog.fromResponse(request, response, parseURI("sip:alice@192.0.2.1"))


def test_uacDialogFrom2xx():
    """
    RFC 3261 12.1.2: a UAC's dialog takes the route set from the 2xx's
    Record-Route in reverse, the remote target from its Contact, the local
    CSeq from the request, an empty remote CSeq, the local tag from From,
    the remote tag from To; its id is (Call-ID, local tag, remote tag).
    """
    dialog = uacDialog()
    assert dialog.id == DialogID("call1", "a1", "b1")
    assert [str(route) for route in dialog.routeSet] == [
        "<sip:p2.example;lr>",
        "<sip:p1.example;lr>",
    ]
    assert str(dialog.remoteTarget) == "sip:bob@192.0.2.2:5062"
    assert (dialog.localSeq, dialog.remoteSeq) == (1, None)
    assert (str(dialog.localURI), str(dialog.remoteURI)) == (
        "sip:alice@a.example",
        "sip:bob@b.example",
    )
    assert (dialog.early, dialog.secure) == (False, False)


def test_uacEarlyDialogNeedsATag():
    """
    RFC 3261 12.1.2 and 12.1: a 1xx with a To tag makes an early dialog;
    one without a tag makes none.
    """
    request = invite()
    early = Dialog.fromResponse(request, answer(request, 180, "Contact: <sip:bob@h>"))
    assert early.early
    with pytest.raises(ValueError):
        Dialog.fromResponse(request, makeResponse(request, 180))


def test_uasDialogFromRequest():
    """
    RFC 3261 12.1.1: a UAS's dialog takes the route set from the request's
    Record-Route in order, the remote target from its Contact, the remote
    CSeq from the request, an empty local CSeq, the local tag from its
    response; the id of a request received in it matches (dialogIDOf).
    """
    request = invite(*RECORD_ROUTES, "Contact: <sip:alice@192.0.2.1>", cseq="5 INVITE")
    dialog = Dialog.fromRequest(request, "b1")
    assert dialog.id == DialogID("call1", "b1", "a1")
    assert [str(route.uri) for route in dialog.routeSet] == [
        "sip:p1.example;lr",
        "sip:p2.example;lr",
    ]
    assert str(dialog.remoteTarget) == "sip:alice@192.0.2.1"
    assert (dialog.localSeq, dialog.remoteSeq) == (None, 5)
    bye = invite(method="BYE", cseq="6 BYE", toTag="b1")
    assert dialogIDOf(bye) == dialog.id


def test_dialogIDOfResponses():
    """
    RFC 3261 12: for a response received, the To tag is the remote tag;
    for a message sent, the roles swap.
    """
    request = invite()
    response = answer(request)
    assert dialogIDOf(response) == DialogID("call1", "a1", "b1")
    assert dialogIDOf(request, received=False) == DialogID("call1", "a1", None)
    assert dialogIDOf(response, received=False) == DialogID("call1", "b1", "a1")


def test_secureDialog():
    """
    RFC 3261 12.1.1, 12.1.2: a dialog set up over TLS to a sips: URI is
    secure.
    """
    request = invite(uri="sips:bob@b.example")
    request.headers.set("via", "SIP/2.0/TLS a.example;branch=z9hG4bK1")
    assert Dialog.fromRequest(request, "b1").secure
    assert not Dialog.fromRequest(invite(), "b1").secure


def test_requestWithLooseRouting():
    """
    RFC 3261 12.2.1.1: with a loose router first in the route set, the
    Request-URI is the remote target and Route the route set; To and From
    carry the remote and local URIs and tags, CSeq the next local number;
    Contact is ours.
    """
    dialog = uacDialog()
    bye = dialog.createRequest("BYE")
    assert (bye.method, str(bye.uri)) == ("BYE", "sip:bob@192.0.2.2:5062")
    assert bye.headers.getAll("route") == ["<sip:p2.example;lr>", "<sip:p1.example;lr>"]
    assert (str(bye.toAddress.uri), bye.toAddress.tag) == ("sip:bob@b.example", "b1")
    assert (str(bye.fromAddress.uri), bye.fromAddress.tag) == ("sip:alice@a.example", "a1")
    assert (bye.callID, str(bye.cseq)) == ("call1", "2 BYE")
    assert "contact" not in bye.headers
    reinvite = dialog.createRequest("INVITE", b"v=0\r\n")
    assert str(reinvite.cseq) == "3 INVITE"
    assert reinvite.headers.get("contact") == "<sip:alice@192.0.2.1>"
    assert reinvite.body == b"v=0\r\n"
    assert (reinvite.maxForwards, reinvite.via) == (70, None)


def test_requestWithStrictRouting():
    """
    RFC 3261 12.2.1.1: with a strict router first (no lr), the
    Request-URI is that router's URI without parameters a Request-URI may
    not carry, and Route is the rest of the route set followed by the
    remote target.
    """
    request = invite(
        "Record-Route: <sip:p1.example;lr>", "Record-Route: <sip:strict.example;method=INVITE>"
    )
    response = answer(request, 200, "Contact: <sip:bob@192.0.2.2>")
    dialog = Dialog.fromResponse(request, response)
    bye = dialog.createRequest("BYE")
    assert str(bye.uri) == "sip:strict.example"
    assert bye.headers.getAll("route") == ["<sip:p1.example;lr>", "<sip:bob@192.0.2.2>"]
    assert [str(route) for route in dialog.routeSet][0] == "<sip:strict.example;method=INVITE>"


def test_requestWithoutRouteSet():
    """
    RFC 3261 12.2.1.1: with an empty route set, the Request-URI is the
    remote target and there is no Route.
    """
    request = invite("Contact: <sip:alice@192.0.2.1>")
    dialog = Dialog.fromRequest(request, "b1")
    bye = dialog.createRequest("BYE")
    assert str(bye.uri) == "sip:alice@192.0.2.1"
    assert "route" not in bye.headers
    assert (bye.toAddress.tag, bye.fromAddress.tag) == ("a1", "b1")


def test_uasFirstRequestPicksACSeq():
    """
    RFC 3261 12.2.1.1 and 8.1.1.5: while the local CSeq is empty, the first
    request picks a number below 2**31; the next adds one.
    """
    dialog = Dialog.fromRequest(invite("Contact: <sip:alice@h>"), "b1")
    first = dialog.createRequest("BYE").cseq.number
    assert 0 < first < 2**31
    assert dialog.createRequest("INFO").cseq.number == first + 1


def test_ackFor2xxReusesTheInviteCSeq():
    """
    RFC 3261 13.2.2.4: the ACK for a 2xx is built like a request of the
    dialog but with the INVITE's CSeq number, which is not consumed.
    """
    dialog = uacDialog()
    reinvite = dialog.createRequest("INVITE")
    ack = dialog.createAck(reinvite)
    assert str(ack.cseq) == f"{reinvite.cseq.number} ACK"
    assert dialog.createRequest("BYE").cseq.number == reinvite.cseq.number + 1


def test_lowerCSeqIsRefusedWith500():
    """
    RFC 3261 12.2.2: a request whose CSeq is below the remote sequence
    number is refused with 500 and does not change it; an equal or higher
    one is accepted and kept; ACK and CANCEL are not counted.
    """
    dialog = Dialog.fromRequest(invite("Contact: <sip:alice@h>", cseq="5 INVITE"), "b1")
    refusal = dialog.receiveRequest(invite(method="INFO", cseq="4 INFO", toTag="b1"))
    assert (refusal.status, refusal.toAddress.tag) == (500, "b1")
    assert dialog.remoteSeq == 5
    assert dialog.receiveRequest(invite(method="ACK", cseq="5 ACK", toTag="b1")) is None
    assert dialog.receiveRequest(invite(method="INFO", cseq="9 INFO", toTag="b1")) is None
    assert dialog.remoteSeq == 9
    assert dialog.receiveRequest(invite(method="CANCEL", cseq="5 CANCEL")) is None
    assert dialog.remoteSeq == 9


def test_emptyRemoteSeqAcceptsAny():
    """
    RFC 3261 12.2.2: while the remote sequence number is empty (a UAC's
    dialog), the first request sets it.
    """
    dialog = uacDialog()
    assert dialog.receiveRequest(invite(method="BYE", cseq="77 BYE", toTag="a1")) is None
    assert dialog.remoteSeq == 77


def test_targetRefreshByReceivedReInvite():
    """
    RFC 3261 12.2.2: a re-INVITE (or UPDATE) received replaces the remote
    target with its Contact; another request does not.
    """
    dialog = Dialog.fromRequest(invite("Contact: <sip:alice@old>"), "b1")
    dialog.receiveRequest(
        invite("Contact: <sip:alice@info>", method="INFO", cseq="2 INFO", toTag="b1")
    )
    assert str(dialog.remoteTarget) == "sip:alice@old"
    dialog.receiveRequest(invite("Contact: <sip:alice@new>", cseq="3 INVITE", toTag="b1"))
    assert str(dialog.remoteTarget) == "sip:alice@new"
    dialog.receiveRequest(
        invite("Contact: <sip:alice@upd>", method="UPDATE", cseq="4 UPDATE", toTag="b1")
    )
    assert str(dialog.remoteTarget) == "sip:alice@upd"


def test_targetRefreshBy2xxToOurReInvite():
    """
    RFC 3261 12.2.1.2: a 2xx to our re-INVITE replaces the remote target
    with its Contact; an error response does not, nor a 2xx to a BYE.
    """
    dialog = uacDialog()
    reinvite = dialog.createRequest("INVITE")
    dialog.receiveResponse(reinvite, answer(reinvite, 491, "Contact: <sip:bob@no>"))
    assert str(dialog.remoteTarget) == "sip:bob@192.0.2.2:5062"
    dialog.receiveResponse(reinvite, answer(reinvite, 200, "Contact: <sip:bob@moved>"))
    assert str(dialog.remoteTarget) == "sip:bob@moved"
    bye = dialog.createRequest("BYE")
    dialog.receiveResponse(bye, answer(bye, 200, "Contact: <sip:bob@gone>"))
    assert str(dialog.remoteTarget) == "sip:bob@moved"


def test_earlyDialogConfirmedBy2xx():
    """
    RFC 3261 12.1.2 and 13.2.2.4: the 2xx that confirms an early dialog
    gives its route set (from the 2xx's Record-Route, reversed) and remote
    target.
    """
    request = invite()
    early = Dialog.fromResponse(request, answer(request, 183, "Contact: <sip:bob@early>"))
    assert early.routeSet == []
    request.headers.add("record-route", "<sip:p9.example;lr>")
    early.receiveResponse(request, answer(request, 200, "Contact: <sip:bob@final>"))
    assert not early.early
    assert [str(route) for route in early.routeSet] == ["<sip:p9.example;lr>"]
    assert str(early.remoteTarget) == "sip:bob@final"


def test_newTag():
    """
    RFC 3261 19.3: tags are random and distinct.
    """
    assert len({newTag() for _ in range(50)}) == 50


def test_remoteTargetWithoutContact():
    """
    RFC 3261 12.1.1: a request without Contact (which the RFC requires)
    still gives a usable dialog: the remote target falls back to the
    peer's From URI.
    """
    dialog = Dialog.fromRequest(invite(), "b1")
    assert str(dialog.createRequest("BYE").uri) == "sip:alice@a.example"


def test_makeDialogResponse():
    """
    RFC 3261 12.1.1: a response that sets up a dialog copies the request's
    Record-Route in order, carries our To tag and our Contact; the UAC's
    dialog made from it routes back through the same proxies, reversed.
    """
    request = invite(*RECORD_ROUTES, "Contact: <sip:alice@192.0.2.1>")
    response = makeDialogResponse(request, 200, "b1", parseURI("sip:bob@192.0.2.2"))
    assert response.headers.getAll("record-route") == [
        "<sip:p1.example;lr>",
        "<sip:p2.example;lr>",
    ]
    assert (response.toAddress.tag, response.headers.get("contact")) == (
        "b1",
        "<sip:bob@192.0.2.2>",
    )
    uac = Dialog.fromResponse(request, response)
    uas = Dialog.fromRequest(request, "b1")
    assert uac.id == DialogID(uas.callID, uas.remoteTag, uas.localTag)
    assert str(uac.createRequest("BYE").uri) == "sip:bob@192.0.2.2"
    assert str(uas.createRequest("BYE").uri) == "sip:alice@192.0.2.1"
    assert [str(r.uri) for r in uac.routeSet] == [str(r.uri) for r in reversed(uas.routeSet)]


def test_fromAndToWrittenOnceFollowChanges():
    """
    The From and To of a dialog's requests are written once and reused;
    a replaced tag or URI attribute is in the next request's fields.
    """
    dialog = uacDialog()
    first, second = dialog.createRequest("INFO"), dialog.createRequest("INFO")
    assert first.headers.get("from") == second.headers.get("from") == "<sip:alice@a.example>;tag=a1"
    assert first.headers.get("to") == "<sip:bob@b.example>;tag=b1"
    dialog.remoteTag = "other"
    assert dialog.createRequest("BYE").toAddress.tag == "other"
    dialog.localURI = parseURI("sip:carol@c.example")
    bye = dialog.createRequest("BYE")
    assert (str(bye.fromAddress.uri), bye.fromAddress.tag) == ("sip:carol@c.example", "a1")
    bye.fromAddress.tag = "changed"
    assert dialog.createRequest("BYE").fromAddress.tag == "a1"
