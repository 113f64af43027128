"""
Tests for L{oso.csta.escape}: private operations a component registers,
invoked by clients with the Escape service in both encodings.
"""

import pytest
from twisted.internet.defer import succeed

from cstadesk import Desk

from oso.callmodel import errors
from oso.callmodel.errors import UniversalFailure
from oso.csta import messages as m
from oso.csta.escape import EscapeOperations, escapeRequest
from oso.plugins.csta import csta
from oso.testing import Exchange


def desk(xml):
    desk = Desk(xml=xml)
    escapes = EscapeOperations()
    desk.registry.register(m.EscapeService, escapes.serve)
    return desk, escapes


@pytest.mark.parametrize("xml", [False, True], ids=["BER", "XML"])
def test_privateOperation(xml):
    """
    A registered operation gets the payload and the link; its answer comes
    back as the response's private data.
    """
    client, escapes = desk(xml)
    seen = []

    def echo(link, payload):
        seen.append((link, payload))
        return succeed(payload.upper())

    escapes.register("acme.shout", echo)
    answer = client.request(escapeRequest("acme.shout", b"hello"))
    assert answer == m.EscapeServiceResponse(privateData=(b"HELLO",))
    assert seen == [(client.link, b"hello")]


@pytest.mark.parametrize(
    "request_, failure",
    [
        (escapeRequest("acme.nothing"), "serviceNotSupported"),
        (m.EscapeService(privateData=b"no newline"), "invalidParameterValue"),
        (escapeRequest("acme.refuse"), "invalidDeviceID"),
    ],
)
def test_refusals(request_, failure):
    client, escapes = desk(False)

    def refuse(link, payload):
        raise errors.invalidDeviceID("no such thing")

    escapes.register("acme.refuse", refuse)
    assert client.request(request_) == UniversalFailure("operation", failure)


def test_names():
    escapes = EscapeOperations()
    escapes.register("b.two", lambda link, payload: b"")
    escapes.register("a.one", lambda link, payload: b"")
    assert escapes.names() == ["a.one", "b.two"]
    for bad in ("", "with space", "caf\u00e9"):
        with pytest.raises(ValueError, match="printable ASCII"):
            escapes.register(bad, lambda link, payload: b"")
    with pytest.raises(ValueError, match="already served"):
        escapes.register("a.one", lambda link, payload: b"")
    escapes.unregister("a.one")
    assert escapes.names() == ["b.two"]


def test_componentOffersEscapes():
    """
    The csta component's service offers the registry other components
    add their operations to.
    """

    class Context:
        reactor = None
        dataDirectory = None

        def __init__(self):
            from twisted.internet import reactor

            self.reactor = reactor
            self.callModel = Exchange().model

    service = csta.makeService(csta.validateConfig({"listen": ["tcp:0:interface=127.0.0.1"]}, "x"), Context())
    assert isinstance(service.escapes, EscapeOperations)
    assert service.registry.handlerFor(m.EscapeService) == service.escapes.serve
