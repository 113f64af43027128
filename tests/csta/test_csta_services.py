"""
Tests for L{oso.csta.services}: services other components register, served
on BER and XML links alike, at once or later, refusals carried back as the
universal failure, and the link's close ending what they started.
"""

from twisted.internet.defer import Deferred

import pytest

from oso.callmodel import errors
from oso.callmodel.errors import UniversalFailure
from oso.callmodel.ids import ConnectionID
from oso.csta import ber
from oso.csta import messages as m
from oso.csta.framing import BERFramer, XMLFramer, frameXML
from oso.csta.link import CSTALink
from oso.csta.services import ServiceRegistry
from oso.csta.xml import Edition, modelCodec
from oso.testing import Exchange

CODEC = modelCodec()
PHASE3 = "1.3.12.0.285.200"
MAKE_CALL = m.MakeCall(callingDevice="100", calledDirectoryNumber="101")
ANSWER = m.MakeCallResponse(callingDevice=ConnectionID("7", "100"))


class Client:
    """
    A client on one link with a registry: what the link sent it, decoded.
    """

    def __init__(self, registry):
        self.exchange = Exchange()
        self.sent = []
        self.closed = 0
        self.link = CSTALink(
            self.exchange.clock, self.exchange.model, self.sent.append,
            self._close, services=registry,
        )

    def _close(self):
        self.closed += 1

    def received(self):
        data, self.sent[:] = b"".join(self.sent), []
        if self.link.encoding is not None and self.link.encoding.name == "XML":
            return [CODEC.decode(d) for _, d in XMLFramer().feed(data)]
        return [ber.decode(f) for f in BERFramer().feed(data)]

    def associate(self):
        self.link.dataReceived(ber.encode(m.AssociationRequest(applicationContextName=PHASE3)))
        self.received()

    def invoke(self, argument, invokeID=5):
        self.link.dataReceived(ber.encode(m.Invoke(invokeID=invokeID, operation="makeCall", argument=argument)))
        return self.received()

    def xml(self, message, invokeID=5):
        self.link.dataReceived(frameXML(invokeID, CODEC.encode(message, Edition.ED3)))
        return self.received()


def test_registeredServiceAnswersOnBER():
    """
    A request with a registered handler gets the handler's result as the
    ROSE returnResult of its invoke; the handler saw the message and link.
    """
    seen = []
    registry = ServiceRegistry()
    registry.register(m.MakeCall, lambda link, request: seen.append((link, request)) or ANSWER)
    client = Client(registry)
    client.associate()
    [result] = client.invoke(MAKE_CALL)
    assert result == m.ReturnResult(invokeID=5, operation="makeCall", result=ANSWER)
    assert seen == [(client.link, MAKE_CALL)]


def test_laterAnswerOnXML():
    """
    A handler may answer later with a Deferred; an XML link gets the
    response then, in the request's edition, followed by its first
    SystemStatus.
    """
    pending = Deferred()
    registry = ServiceRegistry()
    registry.register(m.MakeCall, lambda link, request: pending)
    client = Client(registry)
    assert client.xml(MAKE_CALL) == []
    pending.callback(ANSWER)
    (edition, response), (_, status) = client.received()
    assert (edition, response) == (Edition.ED3, ANSWER)
    assert isinstance(status, m.SystemStatus)


def test_refusalIsTheUniversalFailure():
    """
    A handler refusing with a call model L{errors.CSTAError} gives a ROSE
    returnError with its universal failure.
    """
    registry = ServiceRegistry()

    def refuse(link, request):
        raise errors.invalidCallingDeviceID("no such device")

    registry.register(m.MakeCall, refuse)
    client = Client(registry)
    client.associate()
    [error] = client.invoke(MAKE_CALL)
    assert error == m.ReturnError(
        invokeID=5, failure=UniversalFailure("operation", "invalidCallingDeviceID")
    )


def test_brokenHandlerIsGenericFailure(caplog):
    """
    A handler that fails with anything else is logged and answered with
    the generic failure; the link goes on.
    """
    registry = ServiceRegistry()
    registry.register(m.MakeCall, lambda link, request: 1 / 0)
    client = Client(registry)
    client.associate()
    [error] = client.invoke(MAKE_CALL)
    assert error.failure == UniversalFailure("operation", "generic")
    assert not client.link.closed


def test_unregisteredIsNotSupported():
    """
    Without a handler the request is refused as serviceNotSupported, as
    before; after C{unregister} too.
    """
    registry = ServiceRegistry()
    registry.register(m.MakeCall, lambda link, request: ANSWER)
    registry.unregister(m.MakeCall)
    client = Client(registry)
    client.associate()
    [error] = client.invoke(MAKE_CALL)
    assert error.failure == UniversalFailure("operation", "serviceNotSupported")


def test_registerTwiceRefused():
    registry = ServiceRegistry()
    registry.register(m.MakeCall, lambda link, request: ANSWER)
    with pytest.raises(ValueError, match="MakeCall is already served"):
        registry.register(m.MakeCall, lambda link, request: ANSWER)


def test_noAnswerAfterClose():
    """
    An answer arriving after the link closed is dropped, and the link's
    close callbacks ran once.
    """
    pending = Deferred()
    ended = []
    registry = ServiceRegistry()

    def start(link, request):
        link.whenClosed(lambda: ended.append(link))
        return pending

    registry.register(m.MakeCall, start)
    client = Client(registry)
    client.associate()
    assert client.invoke(MAKE_CALL) == []
    client.link.close()
    client.link.connectionLost()
    pending.callback(ANSWER)
    assert client.received() == []
    assert ended == [client.link]
    ended2 = []
    client.link.whenClosed(lambda: ended2.append(True))
    assert ended2 == [True]


def test_eventsInTheLinksEncoding():
    """
    What a handler started sends its events with C{link.invoke}: on a BER
    link as cSTAEventReport invokes.
    """
    registry = ServiceRegistry()
    client = Client(registry)
    client.associate()
    event = m.ConnectionClearedEvent(
        monitorCrossRefID="1", droppedConnection=ConnectionID("7", "100"),
        releasingDevice="100", cause=m.EventCause.normalClearing,
    )
    client.link.invoke(event)
    [invoke] = client.received()
    assert invoke.operation == "cSTAEventReport"
    assert invoke.argument == event
