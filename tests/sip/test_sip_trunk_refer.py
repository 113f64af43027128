"""
REFER from a VoIP provider (RFC 3515) on the in-memory SIP network: the
trunk exchange of L{test_sip_trunk_calls} (virtual phones 100 and 101,
channels 900 and 901, the scripted provider). A trusted provider's blind
REFER is the model's single-step transfer of the trunk's connection to
the Refer-To number through the dial plan, with the NOTIFY progress; an
untrusted provider's REFER and an attended one are refused.
"""

from urllib.parse import quote

from oso.callmodel.causes import EventCause
from oso.callmodel.devices import Device, DeviceType

from test_sip_trunk_calls import TrunkExchange, lastRequest


def answeredCall(exchange, did="030123456101", number="101"):
    """
    The provider calls C{did}; phone C{number} answers.

    @return: the Call-ID.
    """
    request = exchange.provider.call(did)
    exchange.run()
    exchange.phone(number).answer()
    exchange.run()
    exchange.recorder.take()
    return request.callID


def refer(exchange, callID, referTo):
    provider = exchange.provider
    dialog = provider.dialogs[callID]
    request = dialog.createRequest("REFER")
    request.headers.add("refer-to", referTo)
    provider._send(dialog, request)
    exchange.run()
    return [m for m in provider.received
            if getattr(m, "status", 0) and m.cseq.method == "REFER"][-1]


def sipfrags(exchange):
    return [(n.body.split(b"\r\n")[0], n.headers.get("subscription-state"))
            for n in exchange.provider.received if getattr(n, "method", None) == "NOTIFY"]


def test_blind_transfer_to_a_did():
    """
    The provider transfers its call with 101 to the DID of 100: 202, the
    model's single-step transfer (101 now rings 100), NOTIFYs 100, 180,
    then 200 once 100 answers, and the trunk's BYE; the channel is free.
    """
    exchange = TrunkExchange()
    callID = answeredCall(exchange)
    response = refer(exchange, callID, "<sip:030123456100@127.0.0.9>")
    assert response.status == 202
    exchange.phone("100").answer()
    exchange.run()
    assert sipfrags(exchange) == [
        (b"SIP/2.0 100 Trying", "active;expires=60"),
        (b"SIP/2.0 180 Ringing", "active;expires=60"),
        (b"SIP/2.0 200 OK", "terminated;reason=noresource"),
    ]
    assert lastRequest(exchange.provider, "BYE").callID == callID
    events = exchange.recorder.events
    transferred = next(e for e in events if e.name == "Transferred")
    assert transferred.cause is EventCause.singleStepTransfer
    assert transferred.transferringDevice == "900"
    assert "Established" in exchange.recorder.names()
    assert exchange.port.channelsBusy() == 0


def test_blind_transfer_to_a_group():
    """
    A DID that the dial plan maps to a group: the group hunts its member
    (100), whose answer is the final NOTIFY.
    """
    exchange = TrunkExchange()
    exchange.addDevice(Device("150", type=DeviceType.group, members=("100",)))
    callID = answeredCall(exchange)
    assert refer(exchange, callID, "<sip:030123456150@127.0.0.9>").status == 202
    exchange.phone("100").answer()
    exchange.run()
    assert sipfrags(exchange)[-1] == (b"SIP/2.0 200 OK", "terminated;reason=noresource")
    assert lastRequest(exchange.provider, "BYE").callID == callID


def test_blind_transfer_out_through_a_route():
    """
    A number that is no DID of the trunk is dialled out through the dial
    plan's route (access code and national form): a new INVITE to the
    provider for it, on the trunk's other channel.
    """
    exchange = TrunkExchange()
    callID = answeredCall(exchange)
    assert refer(exchange, callID, "<sip:0891234567@127.0.0.9>").status == 202
    invites = [m for m in exchange.provider.received if getattr(m, "method", None) == "INVITE"]
    assert invites and invites[-1].uri.user == "0891234567"
    assert invites[-1].callID != callID


def test_blind_transfer_to_unknown_number_reports_failure():
    """
    A DID with no extension behind it: the model refuses the service and
    the final NOTIFY says 404; the trunk's call stays.
    """
    exchange = TrunkExchange()
    callID = answeredCall(exchange)
    assert refer(exchange, callID, "<sip:030123456199@127.0.0.9>").status == 202
    assert sipfrags(exchange)[-1] == (b"SIP/2.0 404 Not Found", "terminated;reason=noresource")
    assert exchange.port.channelsBusy() == 1


def test_untrusted_provider_refused():
    exchange = TrunkExchange(trusted=False)
    callID = answeredCall(exchange)
    response = refer(exchange, callID, "<sip:030123456100@127.0.0.9>")
    assert response.status == 403
    assert "Untrusted" in response.reason
    assert sipfrags(exchange) == []
    assert exchange.recorder.names() == []


def test_attended_transfer_refused():
    exchange = TrunkExchange()
    callID = answeredCall(exchange)
    replaces = quote("abc@provider;to-tag=1;from-tag=2", safe="")
    response = refer(exchange, callID, f"<sip:030123456100@127.0.0.9?Replaces={replaces}>")
    assert response.status == 403
    assert "Attended" in response.reason
    assert exchange.recorder.names() == []
