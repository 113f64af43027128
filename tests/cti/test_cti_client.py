"""
Tests for L{oso.cti.client}: the client link, sans-I/O, on a fake clock,
against frames made with the project's codecs and against the server's own
L{oso.csta.link.CSTALink}.
"""

import pytest
from twisted.internet.defer import CancelledError
from twisted.internet.task import Clock
from zope.interface.verify import verifyObject

from oso.callmodel.errors import CSTAError, UniversalFailure, invalidDeviceID
from oso.csta import ber
from oso.csta import messages as m
from oso.csta.framing import BERFramer, Encoding, PrefixedBERFramer, XMLFramer, framePrefixedBER, frameXML
from oso.csta.link import CSTALink, credentials
from oso.csta.xml import Edition, modelCodec
from oso.csta.xmlsafe import XMLCodecError
from oso.cti.client import PHASE_III, ClientSettings, CSTAClientLink
from oso.cti.errors import (
    AssociationRefused,
    InvokeRejected,
    InvokeTimeout,
    LinkClosed,
    ProtocolError,
)
from oso.interfaces.cti import ICSTAClient
from oso.testing import Exchange

CODEC = modelCodec()
NORMAL = m.SystemStatus(systemStatus=m.SystemStatusValue.normal)
ACCEPTED = m.AssociationResponse(applicationContextName=PHASE_III, cstaVersions=frozenset({"versionFive"}))
SERVICE_NOT_SUPPORTED = UniversalFailure("operation", "serviceNotSupported")


def event(crossRef, device="100"):
    return m.DoNotDisturbEvent(monitorCrossRefID=crossRef, device=device, doNotDisturbOn=True)


class Harness:
    """
    A client link on a fake clock; what it sends is kept, decoded.
    """

    def __init__(self, **settings):
        self.clock = Clock()
        self.settings = ClientSettings(**settings)
        self.sent = []
        self.closed = 0
        self.link = CSTAClientLink(self.clock, self.sent.append, self.close, self.settings)
        encoding = self.settings.encoding
        self.framer = {
            Encoding.BER: BERFramer,
            Encoding.PREFIXED_BER: PrefixedBERFramer,
            Encoding.XML: XMLFramer,
        }[encoding]()

    def close(self):
        self.closed += 1

    def take(self):
        """
        @return: the messages sent since the last call: BER messages, or
            C{(invokeID, edition, message)} for XML.
        """
        frames = self.framer.feed(b"".join(self.sent))
        del self.sent[:]
        if self.settings.encoding is Encoding.XML:
            return [(invokeID, *CODEC.decode(document)) for invokeID, document in frames]
        return [ber.decode(frame) for frame in frames]

    def feed(self, *messages):
        """
        Give the link BER messages, framed as its encoding wants.
        """
        data = b""
        for message in messages:
            apdu = ber.encode(message)
            data += framePrefixedBER(apdu) if self.settings.encoding is Encoding.PREFIXED_BER else apdu
        self.link.dataReceived(data)

    def feedXML(self, invokeID, message, edition=Edition.ED5):
        self.link.dataReceived(frameXML(invokeID, CODEC.encode(message, edition)))

    def associate(self):
        """
        Connect and associate; the server's SystemStatus is answered.
        """
        self.link.connectionMade()
        if self.settings.encoding is Encoding.XML:
            [(invokeID, _, _)] = self.take()
            self.feedXML(invokeID, m.RequestSystemStatusResponse(systemStatus=m.SystemStatusValue.normal))
        else:
            self.take()
            self.feed(ACCEPTED, m.Invoke(invokeID=1, operation="systemStatus", argument=NORMAL))
            assert self.take() == [
                m.ReturnResult(invokeID=1, operation="systemStatus", result=m.SystemStatusResponse())
            ]
        assert self.link.associated
        return self.link


def results(deferred):
    """
    @return: a list that gets the result or the failure of C{deferred}.
    """
    outcome = []
    deferred.addBoth(outcome.append)
    return outcome


def test_interface():
    """
    The link provides L{ICSTAClient}.
    """
    verifyObject(ICSTAClient, Harness().link)


def test_settings():
    """
    Settings refuse an encoding a client cannot speak, and a user without
    a password.
    """
    with pytest.raises(ValueError):
        ClientSettings(encoding=Encoding.UNRECOGNISED)
    with pytest.raises(ValueError):
        ClientSettings(user="alice")


@pytest.mark.parametrize("encoding", [Encoding.BER, Encoding.PREFIXED_BER])
def test_berAssociation(encoding):
    """
    A BER link sends an AARQ with the application context, the versions and
    the credentials the server's reader finds; the AARE accepts it, the
    server's SystemStatus (arriving in the same read) is recorded and
    answered, and the waiters fire.
    """
    harness = Harness(encoding=encoding, user="alice", password="s3cret")
    associated = results(harness.link.whenAssociated())
    harness.link.connectionMade()
    [aarq] = harness.take()
    assert aarq.applicationContextName == PHASE_III
    assert aarq.cstaVersions == frozenset({"versionFive"})
    assert credentials(aarq) == ("alice", "s3cret")
    assert associated == []
    harness.feed(ACCEPTED, m.Invoke(invokeID=1, operation="systemStatus", argument=NORMAL))
    assert associated == [harness.link]
    assert harness.link.cstaVersions == frozenset({"versionFive"})
    assert harness.link.systemStatus is m.SystemStatusValue.normal
    assert harness.take() == [m.ReturnResult(invokeID=1, operation="systemStatus", result=m.SystemStatusResponse())]
    assert results(harness.link.whenAssociated()) == [harness.link]


def test_prefixedBytesSplitAnywhere():
    """
    Length-prefixed frames split into single bytes are read whole.
    """
    harness = Harness(encoding=Encoding.PREFIXED_BER)
    harness.link.connectionMade()
    data = framePrefixedBER(ber.encode(ACCEPTED))
    for i in range(len(data)):
        harness.link.dataReceived(data[i : i + 1])
    assert harness.link.associated


def test_associationRefused():
    """
    An AARE reject fails the association with its diagnostic and the
    server's reason, and closes the link.
    """
    harness = Harness()
    associated = results(harness.link.whenAssociated())
    harness.link.connectionMade()
    harness.feed(
        m.AssociationResponse(
            applicationContextName=PHASE_III,
            result=m.AssociateResult.rejectedTransient,
            diagnostic=m.ACSEServiceUserDiagnostic.noReasonGiven,
            privateData=(b"CSTA link limit of 1 reached",),
        )
    )
    [failure] = associated
    refusal = failure.value
    assert isinstance(refusal, AssociationRefused)
    assert refusal.diagnostic is m.ACSEServiceUserDiagnostic.noReasonGiven
    assert refusal.reason == "CSTA link limit of 1 reached"
    assert harness.closed == 1 and harness.link.closed
    assert results(harness.link.whenAssociated())[0].value is refusal


def test_associationTimeout():
    """
    No AARE within the invoke timeout: the association fails and the link
    closes.
    """
    harness = Harness(invokeTimeout=5)
    associated = results(harness.link.whenAssociated())
    harness.link.connectionMade()
    harness.clock.advance(5)
    assert associated[0].check(InvokeTimeout)
    assert harness.closed == 1
    assert harness.clock.getDelayedCalls() == []


def test_invokeBeforeAssociation():
    """
    An invoke before the association fails with L{LinkClosed}, sending
    nothing.
    """
    harness = Harness()
    harness.link.connectionMade()
    harness.take()
    assert results(harness.link.invoke(m.GetSwitchingFunctionCapabilities()))[0].check(LinkClosed)
    assert harness.sent == []


def test_answersMatchInvokes():
    """
    Concurrent invokes get distinct ids; results, errors and rejects,
    arriving in any order, fire the invoke they name.
    """
    harness = Harness()
    link = harness.associate()
    makeCall = m.MakeCall(callingDevice="100", calledDirectoryNumber="101")
    first = results(link.invoke(makeCall))
    second = results(link.invoke(m.RequestSystemStatus()))
    third = results(link.invoke(m.GetSwitchingFunctionCapabilities()))
    invokes = harness.take()
    assert [i.operation for i in invokes] == ["makeCall", "requestSysStat", "getSwitchingFunctionCapabilities"]
    assert invokes[0].argument == makeCall
    ids = [i.invokeID for i in invokes]
    assert len(set(ids)) == 3
    status = m.RequestSystemStatusResponse(systemStatus=m.SystemStatusValue.disabled)
    harness.feed(
        m.Reject(invokeID=ids[2], problem=m.RejectProblem.invokeMistypedArgument),
        m.ReturnResult(invokeID=ids[1], operation="requestSysStat", result=status),
        m.ReturnError(invokeID=ids[0], failure=SERVICE_NOT_SUPPORTED),
    )
    assert second == [status]
    [error] = first
    assert error.check(CSTAError) and error.value.failure == SERVICE_NOT_SUPPORTED
    [reject] = third
    assert reject.check(InvokeRejected) and reject.value.problem is m.RejectProblem.invokeMistypedArgument
    assert len(harness.clock.getDelayedCalls()) == 1  # only the heartbeat waits


def test_invokeTimeout():
    """
    An invoke unanswered within the timeout fails; its late answer is
    refused with a reject, like any answer to no invoke.
    """
    harness = Harness(invokeTimeout=10, heartbeatInterval=0)
    link = harness.associate()
    answer = results(link.invoke(m.GetSwitchingFunctionCapabilities()))
    [invoke] = harness.take()
    harness.clock.advance(10)
    assert answer[0].check(InvokeTimeout)
    harness.feed(m.ReturnError(invokeID=invoke.invokeID, failure=SERVICE_NOT_SUPPORTED))
    assert harness.take() == [
        m.Reject(invokeID=invoke.invokeID, problem=m.RejectProblem.returnErrorUnrecognizedInvocation)
    ]
    assert not link.closed


def test_cancelForgets():
    """
    Cancelling an invoke's Deferred forgets it and its timer; its answer,
    if it comes, answers no invoke.
    """
    harness = Harness(heartbeatInterval=0)
    link = harness.associate()
    deferred = link.invoke(m.GetSwitchingFunctionCapabilities())
    [invoke] = harness.take()
    deferred.cancel()
    assert results(deferred)[0].check(CancelledError)
    assert harness.clock.getDelayedCalls() == []
    harness.feed(m.ReturnError(invokeID=invoke.invokeID, failure=SERVICE_NOT_SUPPORTED))
    assert harness.take() == [
        m.Reject(invokeID=invoke.invokeID, problem=m.RejectProblem.returnErrorUnrecognizedInvocation)
    ]


def test_mistypedAnswer():
    """
    A result that is not the operation's fails the invoke with
    L{ProtocolError}.
    """
    harness = Harness()
    link = harness.associate()
    answer = results(link.invoke(m.GetSwitchingFunctionCapabilities()))
    [invoke] = harness.take()
    harness.feed(m.ReturnResult(invokeID=invoke.invokeID, operation="systemStatus", result=m.SystemStatusResponse()))
    assert answer[0].check(ProtocolError)


def test_notARequest():
    """
    An event, or an operation only the server invokes, is no request.
    """
    link = Harness().associate()
    assert results(link.invoke(event("1")))[0].check(TypeError)
    assert results(link.invoke(m.SwitchingFunctionDevices(serviceCrossRefID="1", lastSegment=True)))[0].check(
        TypeError
    )
    assert results(link.invoke(object()))[0].check(TypeError)


def test_eventsPerMonitor():
    """
    Events go to the observers of their monitor and to those of every
    monitor; a failing observer is logged and does not stop the others.
    """
    harness = Harness()
    link = harness.associate()
    seven, every = [], []

    def broken(e):
        raise RuntimeError("observer bug")

    link.addEventObserver(broken, "7")
    link.addEventObserver(seven.append, "7")
    link.addEventObserver(every.append)
    harness.feed(
        m.Invoke(invokeID=2, operation="cSTAEventReport", argument=event("7")),
        m.Invoke(invokeID=3, operation="cSTAEventReport", argument=event("8", "101")),
    )
    assert seven == [event("7")]
    assert every == [event("7"), event("8", "101")]
    link.removeEventObserver(seven.append, "7")
    link.removeEventObserver(broken, "7")
    harness.feed(m.Invoke(invokeID=4, operation="cSTAEventReport", argument=event("7")))
    assert seven == [event("7")] and len(every) == 3
    assert harness.take() == []  # events are not answered
    assert not link.closed


def test_serverRequests():
    """
    The server's requests go to their handler; one without a handler, or a
    handler refusing with L{CSTAError}, gets the universal failure back.
    """
    harness = Harness()
    link = harness.associate()
    harness.feed(m.Invoke(invokeID=5, operation="escape", argument=m.EscapeService(privateData=b"x")))
    assert harness.take() == [m.ReturnError(invokeID=5, failure=SERVICE_NOT_SUPPORTED)]

    def refuse(request):
        raise invalidDeviceID("no such device")

    link.setHandler(m.EscapeService, refuse)
    harness.feed(m.Invoke(invokeID=6, operation="escape", argument=m.EscapeService(privateData=b"x")))
    assert harness.take() == [m.ReturnError(invokeID=6, failure=invalidDeviceID().failure)]
    devices = []
    link.setHandler(m.SwitchingFunctionDevices, devices.append)
    listing = m.SwitchingFunctionDevices(
        serviceCrossRefID="3",
        lastSegment=True,
        deviceList=(m.DeviceListEntry(deviceID="100", deviceCategory=m.DeviceCategory.station),),
    )
    harness.feed(m.Invoke(invokeID=7, operation="switchingFunctionDevices", argument=listing))
    assert devices == [listing]
    assert harness.take() == []  # no result for this operation
    link.setHandler(m.EscapeService, None)
    harness.feed(m.Invoke(invokeID=8, operation="escape", argument=m.EscapeService(privateData=b"x")))
    assert harness.take() == [m.ReturnError(invokeID=8, failure=SERVICE_NOT_SUPPORTED)]


def test_heartbeat():
    """
    Each interval the client sends SystemStatus (normal); an answered one
    keeps the link, an unanswered one closes it with an ABRT.
    """
    harness = Harness(heartbeatInterval=30, invokeTimeout=10)
    link = harness.associate()
    harness.clock.advance(30)
    [beat] = harness.take()
    assert (beat.operation, beat.argument) == ("systemStatus", NORMAL)
    harness.feed(m.ReturnResult(invokeID=beat.invokeID, operation="systemStatus", result=m.SystemStatusResponse()))
    harness.clock.advance(30)
    [beat] = harness.take()
    harness.clock.advance(10)
    assert harness.take() == [m.Abort(source=m.AbortSource.acseServiceUser)]
    assert link.closed and harness.closed == 1
    assert harness.clock.getDelayedCalls() == []


def test_connectionLost():
    """
    A lost transport fails every pending invoke with L{LinkClosed}, calls
    the close observers once and stops every timer.
    """
    harness = Harness()
    link = harness.associate()
    answer = results(link.invoke(m.GetSwitchingFunctionCapabilities()))
    closes = []
    link.whenClosed(lambda: closes.append(1))
    link.connectionLost()
    link.connectionLost()
    assert answer[0].check(LinkClosed)
    assert closes == [1]
    assert harness.clock.getDelayedCalls() == []
    assert results(link.invoke(m.GetSwitchingFunctionCapabilities()))[0].check(LinkClosed)
    link.whenClosed(lambda: closes.append(2))
    assert closes == [1, 2]


def test_serverAbort():
    """
    An ABRT from the server closes the link.
    """
    harness = Harness()
    link = harness.associate()
    answer = results(link.invoke(m.GetSwitchingFunctionCapabilities()))
    harness.feed(m.Abort(source=m.AbortSource.acseServiceProvider, diagnostic=m.AbortDiagnostic.noReasonGiven))
    assert answer[0].check(LinkClosed)
    assert link.closed and harness.closed == 1


def test_release():
    """
    release sends an RLRQ; the RLRE closes the link and fires it.
    """
    harness = Harness()
    link = harness.associate()
    released = results(link.release())
    assert harness.take() == [m.ReleaseRequest(reason=m.ReleaseRequestReason.normal)]
    assert released == []
    harness.feed(m.ReleaseResponse(reason=m.ReleaseResponseReason.normal))
    assert released == [None]
    assert harness.closed == 1
    assert harness.clock.getDelayedCalls() == []


def test_serverRelease():
    """
    An RLRQ from the server is answered and closes the link.
    """
    harness = Harness()
    link = harness.associate()
    harness.feed(m.ReleaseRequest(reason=m.ReleaseRequestReason.normal))
    assert harness.take() == [m.ReleaseResponse(reason=m.ReleaseResponseReason.normal)]
    assert link.closed


def test_badBER():
    """
    An invoke the codec cannot read gets the reject it names; bytes that
    lose the framing close the link.
    """
    harness = Harness()
    link = harness.associate()
    # An invoke of an operation code no module defines.
    unknown = bytes.fromhex("a10c020109020203e73003800131")
    link.dataReceived(unknown)
    assert harness.take() == [m.Reject(invokeID=9, problem=m.RejectProblem.invokeUnrecognizedOperation)]
    assert not link.closed
    answer = results(link.invoke(m.GetSwitchingFunctionCapabilities()))
    harness.take()
    link.dataReceived(b"\x30\x80")
    assert answer[0].check(ProtocolError)
    assert link.closed and harness.closed == 1


def test_berBeforeAARE():
    """
    A ROSE APDU before the AARE aborts the link.
    """
    harness = Harness()
    associated = results(harness.link.whenAssociated())
    harness.link.connectionMade()
    harness.take()
    harness.feed(m.Invoke(invokeID=1, operation="systemStatus", argument=NORMAL))
    assert harness.take() == [m.Abort(source=m.AbortSource.acseServiceUser)]
    assert associated[0].check(LinkClosed)


@pytest.mark.parametrize("register", [False, True])
def test_xmlStart(register):
    """
    An XML link opens with RequestSystemStatus, or SystemRegister whose id
    it keeps, in its edition; the answer associates it.
    """
    harness = Harness(encoding=Encoding.XML, edition=Edition.ED3, register=register)
    associated = results(harness.link.whenAssociated())
    harness.link.connectionMade()
    [(invokeID, edition, opening)] = harness.take()
    assert edition is Edition.ED3
    if register:
        assert opening == m.SystemRegister(requestTypes=frozenset({"systemStatus"}))
        harness.feedXML(invokeID, m.SystemRegisterResponse(sysStatRegisterID="4"), Edition.ED3)
        assert harness.link.registerID == "4"
        assert harness.link.systemStatus is None
    else:
        assert opening == m.RequestSystemStatus()
        harness.feedXML(invokeID, m.RequestSystemStatusResponse(systemStatus=m.SystemStatusValue.normal), Edition.ED3)
        assert harness.link.systemStatus is m.SystemStatusValue.normal
    assert associated == [harness.link]
    harness.feedXML(1, NORMAL, Edition.ED3)
    assert harness.take() == [(1, Edition.ED3, m.SystemStatusResponse())]


def test_xmlRefused():
    """
    A CSTAErrorCode answering the opening request refuses the link.
    """
    harness = Harness(encoding=Encoding.XML)
    associated = results(harness.link.whenAssociated())
    harness.link.connectionMade()
    [(invokeID, _, _)] = harness.take()
    failure = UniversalFailure("operation", "securityViolation")
    harness.feedXML(invokeID, failure)
    refusal = associated[0].value
    assert isinstance(refusal, AssociationRefused) and refusal.failure == failure
    assert harness.link.closed and harness.closed == 1


def test_xmlInvokesAndEvents():
    """
    XML answers match invokes by the header's invoke id, an error response
    is a L{CSTAError}, events (id 9999) reach observers, a mistyped answer
    is a L{ProtocolError}.
    """
    harness = Harness(encoding=Encoding.XML)
    link = harness.associate()
    first = results(link.invoke(m.MakeCall(callingDevice="100", calledDirectoryNumber="101")))
    second = results(link.invoke(m.GetSwitchingFunctionDevices()))
    third = results(link.invoke(m.RequestSystemStatus()))
    [(one, _, _), (two, _, _), (three, _, _)] = harness.take()
    assert len({one, two, three}) == 3
    events = []
    link.addEventObserver(events.append, "2")
    harness.feedXML(9999, event("2"))
    harness.feedXML(two, m.GetSwitchingFunctionDevicesResponse(serviceCrossRefID="1"))
    harness.feedXML(one, SERVICE_NOT_SUPPORTED)
    harness.feedXML(three, m.SystemStatusResponse())
    assert events == [event("2")]
    assert second == [m.GetSwitchingFunctionDevicesResponse(serviceCrossRefID="1")]
    assert first[0].value.failure == SERVICE_NOT_SUPPORTED
    assert third[0].check(ProtocolError)


def test_xmlBadDocuments():
    """
    A document the codec cannot read fails the invoke it answers; as a
    request it gets the ECMA-323 error response; neither closes the link.
    """
    harness = Harness(encoding=Encoding.XML)
    link = harness.associate()
    answer = results(link.invoke(m.GetSwitchingFunctionCapabilities()))
    [(invokeID, _, _)] = harness.take()
    link.dataReceived(frameXML(invokeID, b"<NoSuchResponse/>"))
    assert answer[0].check(ProtocolError)
    link.dataReceived(frameXML(42, b"<NoSuchRequest/>"))
    link.dataReceived(frameXML(43, b"<SystemStatus><systemStatus>bogus</systemStatus></SystemStatus>"))
    link.dataReceived(frameXML(9999, b"<not xml"))
    assert harness.take() == [
        (42, Edition.ED5, SERVICE_NOT_SUPPORTED),
        (43, Edition.ED5, UniversalFailure("operation", "invalidParameterValue")),
    ]
    assert not link.closed


class Wire:
    """
    A client link and the server's L{CSTALink} on one fake clock, each
    side's bytes handed to the other.
    """

    def __init__(self, heartbeatInterval, **server):
        exchange = Exchange()
        self.clock = exchange.clock
        self.server = CSTALink(self.clock, exchange.model, self._toClient, self._serverClose, **server)
        self.client = CSTAClientLink(
            self.clock,
            self.server.dataReceived,
            self._clientClose,
            ClientSettings(heartbeatInterval=heartbeatInterval),
        )
        self.client.connectionMade()

    def _toClient(self, data):
        self.client.dataReceived(data)

    def _serverClose(self):
        self.client.connectionLost()

    def _clientClose(self):
        self.server.connectionLost()


@pytest.mark.parametrize("interval, survives", [(60, True), (0, False)])
def test_heartbeatKeepsServerLink(interval, survives):
    """
    Against the server's own link on the same clock: heartbeats keep the
    association past many silence timeouts; without them the server closes
    the link.
    """
    wire = Wire(interval, heartbeatTimeout=120)
    assert wire.client.associated
    assert wire.client.systemStatus is m.SystemStatusValue.normal
    for _ in range(20):
        wire.clock.advance(30)
    assert wire.client.closed is not survives
    assert wire.server.closed is not survives


def test_unencodableRequest():
    """
    A request the codec cannot write fails at once, sends nothing and
    leaves nothing pending.
    """
    harness = Harness(encoding=Encoding.XML, heartbeatInterval=0)
    link = harness.associate()
    answer = results(link.invoke(m.MakeCall(callingDevice="a\x00b", calledDirectoryNumber="101")))
    assert answer[0].check(XMLCodecError)
    assert harness.sent == [] and harness.clock.getDelayedCalls() == []
