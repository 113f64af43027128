"""
What a trunk presents of an extension, on the in-memory SIP network with
the scripted provider of L{test_sip_trunk_calls}: an extension whose
administrator withholds its caller id (CLIR) is anonymous toward the
provider whatever its phone asks (RFC 3323), and the identity a phone
prefers among those its extension may present (RFC 3325 9.2) is what the
provider sees in From and P-Asserted-Identity, in the trunk's
presentation.
"""

from oso.callmodel import events as ev
from oso.callmodel.devices import Device

from test_sip_trunk_calls import TrunkExchange, lastRequest


def exchangeWith(**changes):
    """
    A L{TrunkExchange} with station 102: public number 4930123456102,
    the company's main number 4930123456000 presentable, and C{changes}.
    """
    exchange = TrunkExchange(**{k: v for k, v in changes.items() if k == "trusted"})
    fields = {k: v for k, v in changes.items() if k != "trusted"}
    exchange.addDevice(Device(
        "102", name="Phone 102", port=exchange.phones.name, publicNumber="4930123456102",
        presentableNumbers=("4930123456000",), **fields,
    ))
    return exchange


def presented(invite):
    """
    @return: the From user, the P-Asserted-Identity user (or C{None}) and
        the Privacy of an INVITE to the provider.
    """
    asserted = invite.headers.getParsed("p-asserted-identity") \
        if "p-asserted-identity" in invite.headers else None
    return (invite.fromAddress.uri.user, asserted and asserted.uri.user,
            invite.headers.get("privacy"))


def test_withheld_caller_id_is_anonymous_to_a_trusted_trunk():
    """
    RFC 3323 4.1.1.3 and RFC 3325 7: the anonymous From and Privacy: id;
    the trusted provider still gets the asserted identity.
    """
    exchange = exchangeWith(withholdCallerID=True)
    exchange.call("102", "00891234567")
    exchange.run()
    invite = lastRequest(exchange.provider, "INVITE")
    assert presented(invite) == ("anonymous", "030123456102", "id")
    assert invite.fromAddress.uri.host == "anonymous.invalid"


def test_withheld_caller_id_asserts_nothing_to_an_untrusted_trunk():
    exchange = exchangeWith(withholdCallerID=True, trusted=False)
    exchange.call("102", "00891234567")
    exchange.run()
    assert presented(lastRequest(exchange.provider, "INVITE")) == ("anonymous", None, "id")


def test_withheld_caller_id_not_lifted_by_the_terminal():
    """
    A terminal that does not ask for privacy (a phone's Privacy: none)
    cannot lift the administrator's CLIR: the call is restricted, and so
    is a MakeCall from the extension (CSTA).
    """
    exchange = exchangeWith(withholdCallerID=True)
    connection = exchange.model.originate("102", "00891234567", restricted=False)
    assert connection.call.callingRestricted
    exchange.run()
    assert presented(lastRequest(exchange.provider, "INVITE"))[0] == "anonymous"
    exchange.model.clearConnection(connection.id)
    exchange.run()
    made = exchange.model.makeCall("102", "101")
    assert exchange.model.call(made.callID).callingRestricted


def test_withheld_caller_id_restricts_internal_events():
    """
    The other extension's events name the caller restricted, exactly as a
    phone's per-call Privacy: id; the caller's own events name it.
    """
    exchange = exchangeWith(withholdCallerID=True)
    exchange.recorder.take()
    exchange.call("102", "101")
    exchange.phone("101").answer()
    events = exchange.recorder.take()
    [delivered] = [e for e in events if isinstance(e, ev.Delivered)]
    assert delivered.callingDevice == ev.RESTRICTED
    [originated] = [e for e in events if isinstance(e, ev.Originated)]
    assert originated.callingDevice == "102"


def test_without_withheld_caller_id_the_number_is_presented():
    exchange = exchangeWith()
    exchange.call("102", "00891234567")
    exchange.run()
    assert presented(lastRequest(exchange.provider, "INVITE")) == (
        "030123456102", "030123456102", None)


def test_preferred_presentable_number_reaches_the_trunk():
    """
    RFC 3325 9.2: the main number the phone preferred, one its extension
    may present, is From and P-Asserted-Identity in the trunk's national
    presentation.
    """
    exchange = exchangeWith()
    exchange.model.originate("102", "00891234567", callingNumber="+4930123456000")
    exchange.run()
    assert presented(lastRequest(exchange.provider, "INVITE")) == (
        "030123456000", "030123456000", None)


def test_preferred_number_with_withheld_caller_id():
    """
    Restricted and preferred: the anonymous From, the preferred number
    asserted to the trusted provider.
    """
    exchange = exchangeWith(withholdCallerID=True)
    exchange.model.originate("102", "00891234567", callingNumber="4930123456000")
    exchange.run()
    assert presented(lastRequest(exchange.provider, "INVITE")) == (
        "anonymous", "030123456000", "id")


def test_preferred_own_number_presents_the_public_number():
    """
    The extension's internal number, preferred, is its public number to
    the network.
    """
    exchange = exchangeWith()
    exchange.model.originate("102", "00891234567", callingNumber="102")
    exchange.run()
    assert presented(lastRequest(exchange.provider, "INVITE"))[0] == "030123456102"


def test_number_not_presentable_is_ignored():
    """
    A number the extension may not present (another extension's public
    number) is ignored: the trunk presents the extension's public number.
    """
    exchange = exchangeWith()
    connection = exchange.model.originate("102", "00891234567", callingNumber="4930123456100")
    assert connection.call.presentedNumber is None
    exchange.run()
    assert presented(lastRequest(exchange.provider, "INVITE"))[0] == "030123456102"


def test_presented_number_leaves_with_its_device():
    """
    After a single step transfer the other party is the calling device: a
    later trunk call of the call presents its number, not the choice of
    the extension that left.
    """
    exchange = exchangeWith()
    connection = exchange.model.originate("102", "101", callingNumber="4930123456000")
    exchange.phone("101").answer()
    assert connection.call.presentedNumber == "4930123456000"
    exchange.model.singleStepTransferCall(connection.id, "00891234567")
    exchange.run()
    assert connection.call.presentedNumber is None
    assert presented(lastRequest(exchange.provider, "INVITE"))[0] == "030123456101"


def test_may_present():
    """
    The identities an extension may use: its number, its public number and
    its presentable numbers, E.164 ones with or without C{+}; nothing else.
    """
    device = Device("102", publicNumber="4930123456102", presentableNumbers=("4930123456000",))
    for number in ("102", "4930123456102", "+4930123456102", "4930123456000",
                   "+4930123456000"):
        assert device.mayPresent(number), number
    for number in ("", "+102", "030123456102", "4930123456100", "+"):
        assert not device.mayPresent(number), number
