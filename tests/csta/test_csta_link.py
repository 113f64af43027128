"""
Tests for L{oso.csta.link}: one CSTA link, sans-I/O, on a fake clock.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oso.callmodel.errors import UniversalFailure
from oso.csta import ber
from oso.csta import messages as m
from oso.csta.framing import BERFramer, PrefixedBERFramer, XMLFramer, framePrefixedBER, frameXML
from oso.csta.link import CSTALink, credentials
from oso.csta.xml import Edition, modelCodec
from oso.testing import Exchange

CODEC = modelCodec()
PHASE3 = "1.3.12.0.285.200"


class Peer:
    """
    The far end of a link: what it was sent, and whether it was closed.
    """

    def __init__(self, framer=None, **kw):
        self.exchange = Exchange()
        self.clock = self.exchange.clock
        self.sent = []
        self.closed = 0
        self.link = CSTALink(self.clock, self.exchange.model, self.sent.append, self._close, **kw)

    def _close(self):
        self.closed += 1

    def ber(self, message, prefixed=False):
        """
        Send a BER message; return the messages the link answered with.
        """
        apdu = ber.encode(message)
        return self.raw(framePrefixedBER(apdu) if prefixed else apdu, prefixed)

    def raw(self, data, prefixed=False):
        del self.sent[:]
        self.link.dataReceived(data)
        framer = PrefixedBERFramer() if prefixed else BERFramer()
        return [ber.decode(f) for f in framer.feed(b"".join(self.sent))]

    def xml(self, message, invokeID=1, edition=Edition.ED3):
        return self.rawXML(frameXML(invokeID, CODEC.encode(message, edition)))

    def rawXML(self, data):
        del self.sent[:]
        self.link.dataReceived(data)
        return [(i, CODEC.decode(d)) for i, d in XMLFramer().feed(b"".join(self.sent))]

    def associate(self, **kw):
        return self.ber(m.AssociationRequest(applicationContextName=PHASE3, **kw))


def test_associateThenSystemStatus():
    """
    ECMA-285 / X.227: an AARQ with the Phase III context is accepted with
    the CSTA versions oso offers, and the server then invokes SystemStatus
    (normal).
    """
    peer = Peer()
    aare, invoke = peer.associate(cstaVersions=frozenset({"versionFive", "versionThree"}))
    assert aare == m.AssociationResponse(applicationContextName=PHASE3, cstaVersions=frozenset({"versionFive"}))
    assert invoke.operation == "systemStatus"
    assert invoke.argument == m.SystemStatus(systemStatus=m.SystemStatusValue.normal)
    assert peer.link.associated
    assert peer.ber(m.ReturnResult(invokeID=invoke.invokeID, operation="systemStatus", result=m.SystemStatusResponse())) == []


@pytest.mark.parametrize("context", ["1.3.12.0.218.200", "1.3.12.0.180.1"])
def test_fieldContexts(context):
    """
    The Phase II and OpenScape application contexts are accepted too.
    """
    peer = Peer()
    aare = peer.ber(m.AssociationRequest(applicationContextName=context))[0]
    assert aare.result is m.AssociateResult.accepted
    assert aare.applicationContextName == context


def test_unknownContextRefused():
    """
    X.227: an unknown application context gets an AARE reject with the
    diagnostic application-context-name-not-supported, and the link closes.
    """
    peer = Peer()
    [aare] = peer.ber(m.AssociationRequest(applicationContextName="1.2.3.4"))
    assert aare.result is m.AssociateResult.rejectedPermanent
    assert aare.diagnostic is m.ACSEServiceUserDiagnostic.applicationContextNameNotSupported
    assert peer.closed == 1


def test_credentials():
    """
    Credentials come from OpenScape-style private data or the calling
    authentication value.
    """
    assert credentials(m.AssociationRequest(applicationContextName=PHASE3, privateData=(b"user=ann,passwd=s3cret",))) == ("ann", "s3cret")
    assert credentials(m.AssociationRequest(applicationContextName=PHASE3, callingAuthenticationValue="bob:pw")) == ("bob", "pw")
    assert credentials(m.AssociationRequest(applicationContextName=PHASE3, callingAuthenticationValue="user=c,passwd=d")) == ("c", "d")
    assert credentials(m.AssociationRequest(applicationContextName=PHASE3)) is None


def test_authentication():
    """
    With authentication required, an AARQ without credentials is refused
    (authentication-required), wrong ones are refused
    (authentication-failure), right ones are accepted.
    """
    check = lambda user, password: (user, password) == ("ann", "pw")
    D = m.ACSEServiceUserDiagnostic
    assert Peer(authenticate=check, requireAuth=True).associate()[0].diagnostic is D.authenticationRequired
    wrong = Peer(authenticate=check).associate(privateData=(b"user=ann,passwd=no",))
    assert wrong[0].diagnostic is D.authenticationFailure
    right = Peer(authenticate=check, requireAuth=True).associate(privateData=(b"user=ann,passwd=pw",))
    assert right[0].result is m.AssociateResult.accepted


def test_invokeBeforeAssociation():
    """
    A ROSE invoke before the AARQ is a protocol error: ABRT and close.
    """
    peer = Peer()
    [abort] = peer.ber(m.Invoke(invokeID=1, operation="systemStatus", argument=m.SystemStatus(systemStatus=m.SystemStatusValue.normal)))
    assert abort == m.Abort(source=m.AbortSource.acseServiceProvider, diagnostic=m.AbortDiagnostic.protocolError)
    assert peer.closed == 1


def test_systemServices():
    """
    ECMA-269 12: the client's SystemStatus, RequestSystemStatus and
    SystemRegister / SystemRegisterCancel are answered; cancelling an
    unknown registration is operation/invalidCrossRefID.
    """
    peer = Peer()
    peer.associate()
    normal = m.SystemStatusValue.normal
    assert peer.ber(m.Invoke(invokeID=5, operation="systemStatus", argument=m.SystemStatus(systemStatus=normal))) == [
        m.ReturnResult(invokeID=5, operation="systemStatus", result=m.SystemStatusResponse())
    ]
    assert peer.ber(m.Invoke(invokeID=6, operation="requestSysStat", argument=m.RequestSystemStatus())) == [
        m.ReturnResult(invokeID=6, operation="requestSysStat", result=m.RequestSystemStatusResponse(systemStatus=normal))
    ]
    [registered] = peer.ber(m.Invoke(invokeID=7, operation="systemRegister", argument=m.SystemRegister(requestTypes=frozenset({"systemStatus"}))))
    registration = registered.result.sysStatRegisterID
    cancel = m.Invoke(invokeID=8, operation="systemRegisterCancel", argument=m.SystemRegisterCancel(sysStatRegisterID=registration))
    assert peer.ber(cancel) == [m.ReturnResult(invokeID=8, operation="systemRegisterCancel", result=m.SystemRegisterCancelResponse())]
    assert peer.ber(cancel) == [m.ReturnError(invokeID=8, failure=UniversalFailure("operation", "invalidCrossRefID"))]


def test_switchingFunctionDevices():
    """
    ECMA-269 12.2.4: GetSwitchingFunctionDevices answers with a cross
    reference, then SwitchingFunctionDevices lists the call model's devices.
    """
    peer = Peer()
    peer.associate()
    [result] = peer.ber(m.Invoke(invokeID=9, operation="getSwitchingFunctionDevices", argument=m.GetSwitchingFunctionDevices()))
    crossRef = result.result.serviceCrossRefID
    del peer.sent[:]
    peer.clock.advance(0)
    [invoke] = [ber.decode(f) for f in BERFramer().feed(b"".join(peer.sent))]
    assert invoke.argument.serviceCrossRefID == crossRef
    assert invoke.argument.lastSegment
    assert [e.deviceID for e in invoke.argument.deviceList] == ["100", "101", "102", "103"]


def test_capabilities():
    """
    GetSwitchingFunctionCapabilities answers with the basic telephony
    profile.
    """
    peer = Peer()
    peer.associate()
    [result] = peer.ber(m.Invoke(invokeID=3, operation="getSwitchingFunctionCapabilities", argument=m.GetSwitchingFunctionCapabilities()))
    assert "basicTelephonyProfile" in result.result.profiles


def test_notYetImplemented():
    """
    A call control service the server does not serve yet gets a
    returnError with operation/serviceNotSupported.
    """
    peer = Peer()
    peer.associate()
    invoke = m.Invoke(invokeID=4, operation="makeCall", argument=m.MakeCall(callingDevice="100", calledDirectoryNumber="101"))
    assert peer.ber(invoke) == [m.ReturnError(invokeID=4, failure=UniversalFailure("operation", "serviceNotSupported"))]


def test_unknownOperationRejected():
    """
    X.880: an invoke of an operation code the server does not know gets a
    ROSE reject invoke-unrecognizedOperation with its invoke id.
    """
    peer = Peer()
    peer.associate()
    # invoke { invokeId 7, opcode local 999, argument NULL }
    [reject] = peer.raw(bytes.fromhex("a109020107020203e70500"))
    assert reject == m.Reject(invokeID=7, problem=m.RejectProblem.invokeUnrecognizedOperation)
    assert peer.closed == 0


def test_releaseAndAbort():
    """
    X.227: RLRQ is answered with RLRE (normal) and the link closes; ABRT
    closes it too.
    """
    peer = Peer()
    peer.associate()
    assert peer.ber(m.ReleaseRequest(reason=m.ReleaseRequestReason.normal)) == [m.ReleaseResponse(reason=m.ReleaseResponseReason.normal)]
    assert peer.closed == 1
    other = Peer()
    other.associate()
    assert other.ber(m.Abort(source=m.AbortSource.acseServiceUser)) == []
    assert other.closed == 1


def test_prefixedBER():
    """
    A link that starts with a 2-byte length prefix is answered with
    prefixed APDUs.
    """
    peer = Peer()
    aare, invoke = peer.ber(m.AssociationRequest(applicationContextName=PHASE3), prefixed=True)
    assert aare.result is m.AssociateResult.accepted


def test_silentLinkClosed():
    """
    A link silent for the heartbeat timeout is closed; traffic restarts the
    timer.
    """
    peer = Peer(heartbeatTimeout=30)
    peer.associate()
    peer.clock.advance(20)
    peer.ber(m.Invoke(invokeID=5, operation="systemStatus", argument=m.SystemStatus(systemStatus=m.SystemStatusValue.normal)))
    peer.clock.advance(20)
    assert peer.closed == 0
    peer.clock.advance(10)
    assert peer.closed == 1
    assert not peer.clock.getDelayedCalls()


def test_unrecognisedStart():
    """
    A link whose first bytes are no CSTA encoding is rejected and closed.
    """
    peer = Peer()
    peer.link.dataReceived(b"GET / HTTP/1.1\r\n")
    assert peer.closed == 1
    assert peer.sent


def test_framingLostClosesLink():
    """
    An absurd BER length loses the framing: the link closes.
    """
    peer = Peer()
    peer.associate()
    peer.raw(b"\xa1\x84\xff\xff\xff\xff")
    assert peer.closed == 1


def test_refusedOverLimit():
    """
    A link over the limit: a BER client gets an AARE reject carrying the
    reason, and the link closes.
    """
    peer = Peer(refusal="link limit of 1 reached")
    [aare] = peer.associate()
    assert aare.result is m.AssociateResult.rejectedTransient
    assert aare.privateData == (b"link limit of 1 reached",)
    assert peer.closed == 1


def test_xmlLink():
    """
    ECMA-323: an XML link starts with its first request; it is answered in
    its edition with the same invoke id, then SystemStatus (normal) follows.
    """
    peer = Peer()
    answers = peer.xml(m.SystemRegister(requestTypes=frozenset({"systemStatus"})), invokeID=12, edition=Edition.ED5)
    (invokeID, (edition, response)), (statusID, (statusEdition, status)) = answers
    assert (invokeID, edition, statusEdition) == (12, Edition.ED5, Edition.ED5)
    assert isinstance(response, m.SystemRegisterResponse)
    assert status == m.SystemStatus(systemStatus=m.SystemStatusValue.normal)
    assert peer.xml(m.SystemStatusResponse(), statusID, Edition.ED5) == []
    [(_, (_, failure))] = peer.xml(m.MakeCall(callingDevice="100", calledDirectoryNumber="101"), 13)
    assert failure == UniversalFailure("operation", "serviceNotSupported")


def test_xmlBadInput():
    """
    An unknown element or a refused document (a DTD, invalid UTF-8) gets a
    CSTAErrorCode with the frame's invoke id; the link stays open.
    """
    peer = Peer()
    [(i, (_, failure))] = peer.rawXML(frameXML(3, b"<Nonsense/>"))
    assert (i, failure) == (3, UniversalFailure("operation", "serviceNotSupported"))
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><SystemStatus>&a;</SystemStatus>'
    [(i, (_, failure))] = peer.rawXML(frameXML(4, bomb))
    assert failure.value == "invalidParameterValue"
    [(i, _)] = peer.rawXML(frameXML(5, b"<Syst\xffem/>"))
    assert i == 5
    assert peer.closed == 0


def test_xmlRefusedOverLimit():
    """
    An XML client over the link limit gets a CSTAErrorCode
    (systemResourceAvailability/resourceLimitExceeded) and is closed.
    """
    peer = Peer(refusal="link limit")
    [(_, (_, failure))] = peer.xml(m.RequestSystemStatus())
    assert failure == UniversalFailure("systemResourceAvailability", "resourceLimitExceeded")
    assert peer.closed == 1


AARQ = ber.encode(m.AssociationRequest(applicationContextName=PHASE3))


def test_xmlRefusedWhenAuthRequired():
    """
    With authentication required, an XML link (ECMA-323 has no
    authentication step) gets CSTAErrorCode operation/securityViolation and
    is closed.
    """
    peer = Peer(requireAuth=True)
    [(_, (_, failure))] = peer.xml(m.RequestSystemStatus())
    assert failure == UniversalFailure("operation", "securityViolation")
    assert peer.closed == 1


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.sampled_from([b"", b"\x60", AARQ, b"\x00\x00\x00\x20" + b"0001"]))
def test_arbitraryBytes(data, start):
    """
    Arbitrary bytes, from a link's start or after an association, never
    raise out of the link.
    """
    peer = Peer()
    peer.link.dataReceived(start + data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.integers(0, 9999))
def test_arbitraryXMLDocuments(document, invokeID):
    """
    Any document in a well-framed XML frame is answered (a response or a
    CSTAErrorCode) without raising, and never closes the link.
    """
    peer = Peer()
    peer.rawXML(frameXML(invokeID, b"<SystemStatus/>"))
    peer.rawXML(frameXML(invokeID, document))
    assert peer.closed == 0
