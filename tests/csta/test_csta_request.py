"""
L{oso.csta.link.CSTALink.request}: a server invoke whose answer a service
of another component waits for (the CDR reports), in BER and XML.
"""

from datetime import datetime, timezone

import pytest
from test_csta_link import Peer
from twisted.internet.error import ConnectionDone

from oso.callmodel.errors import CSTAError, UniversalFailure
from oso.csta import ber
from oso.csta import messages as m
from oso.csta.framing import BERFramer, XMLFramer
from oso.csta.xml import Edition, modelCodec

CODEC = modelCodec()

REPORT = m.CallDetailRecordsReport(
    cdrCrossRefID="1",
    numberOfRecordsSent=1,
    cdrInfo=(m.CDRInformationItem(recordCreationTime=datetime(2026, 1, 1, tzinfo=timezone.utc)),),
)
FAILURE = UniversalFailure("operation", "generic")


def berPeer():
    peer = Peer()
    peer.associate()
    del peer.sent[:]
    answered = peer.link.request(REPORT)
    [invoke] = [ber.decode(f) for f in BERFramer().feed(b"".join(peer.sent))]
    assert invoke.operation == "cDRReport" and invoke.argument == REPORT
    return peer, invoke, answered


def test_berResult():
    """
    The client's returnResult fires the request's Deferred with the result.
    """
    peer, invoke, answered = berPeer()
    results = []
    answered.addCallback(results.append)
    response = m.CallDetailRecordsReportResponse()
    assert peer.ber(m.ReturnResult(invokeID=invoke.invokeID, operation="cDRReport", result=response)) == []
    assert results == [response]


@pytest.mark.parametrize(
    "answer",
    [
        lambda i: m.ReturnError(invokeID=i, failure=FAILURE),
        lambda i: m.Reject(invokeID=i, problem=m.RejectProblem.invokeMistypedArgument),
    ],
    ids=["returnError", "reject"],
)
def test_berRefused(answer):
    """
    A returnError or a reject fails the request with L{CSTAError}.
    """
    peer, invoke, answered = berPeer()
    failures = []
    answered.addErrback(failures.append)
    peer.ber(answer(invoke.invokeID))
    [failure] = failures
    assert failure.check(CSTAError)


def test_closedBeforeTheAnswer():
    """
    A link that closes before the answer fails every request waiting with
    L{ConnectionDone}; a request on a closed link fails at once.
    """
    peer, invoke, answered = berPeer()
    failures = []
    answered.addErrback(failures.append)
    peer.link.connectionLost()
    [failure] = failures
    assert failure.check(ConnectionDone)
    late = []
    peer.link.request(REPORT).addErrback(late.append)
    assert late[0].check(ConnectionDone)


def test_xmlAnswers():
    """
    XML: the response with the invoke's id fires the request; a
    CSTAErrorCode fails it with the client's failure.
    """
    peer = Peer()
    peer.xml(m.RequestSystemStatus(), edition=Edition.ED5)
    del peer.sent[:]
    results, failures = [], []
    peer.link.request(REPORT).addCallbacks(results.append, failures.append)
    peer.link.request(REPORT).addCallbacks(results.append, failures.append)
    first, second = [(i, CODEC.decode(d)[1]) for i, d in XMLFramer().feed(b"".join(peer.sent))]
    assert first[1] == REPORT
    peer.xml(m.CallDetailRecordsReportResponse(), invokeID=first[0], edition=Edition.ED5)
    assert results == [m.CallDetailRecordsReportResponse()]
    peer.xml(FAILURE, invokeID=second[0], edition=Edition.ED5)
    assert failures[0].value.failure == FAILURE
