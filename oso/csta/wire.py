"""
Messages to frames for one link's encoding, and the ROSE answer to an
invoke: what both ends of a CSTA link write alike, the server's
L{oso.csta.link} and the client of L{oso.cti.client}.
"""

from oso.callmodel.errors import UniversalFailure
from oso.csta import ber
from oso.csta import messages as m
from oso.csta.framing import Encoding, framePrefixedBER, frameXML
from oso.csta.xml import modelCodec

#: The ECMA-323 codec of the shared message model.
XML_CODEC = modelCodec()

#: The reject problem for an answer that names no invoke waiting for one.
UNRECOGNISED_ANSWER = {
    m.ReturnResult: m.RejectProblem.returnResultUnrecognizedInvocation,
    m.ReturnError: m.RejectProblem.returnErrorUnrecognizedInvocation,
}


def berFrame(encoding, message):
    """
    Encode a ROSE or ACSE message as a frame of a BER link.

    @param encoding: L{Encoding.BER} or L{Encoding.PREFIXED_BER}.
    @param message: a message L{oso.csta.ber.encode} takes.
    @rtype: L{bytes}
    @raise oso.csta.errors.CSTACodecError: if it cannot be encoded.
    """
    apdu = ber.encode(message)
    return framePrefixedBER(apdu) if encoding is Encoding.PREFIXED_BER else apdu


def xmlFrame(invokeID, message, edition):
    """
    Encode a message as a frame of an XML link.

    @param invokeID: the header's invoke id.
    @param message: a message of the shared model, or a L{UniversalFailure}
        (C{CSTAErrorCode}).
    @param edition: the L{oso.csta.xml.Edition}, or L{None}.
    @rtype: L{bytes}
    @raise oso.csta.xmlsafe.XMLCodecError: if it cannot be encoded.
    """
    return frameXML(invokeID, XML_CODEC.encode(message, edition))


def roseAnswer(invoke, answer):
    """
    The ROSE answer to an invoke.

    @param invoke: the L{m.Invoke} answered.
    @param answer: its result message, or the L{UniversalFailure} refusing
        it.
    @return: an L{m.ReturnResult} or L{m.ReturnError}.
    """
    if isinstance(answer, UniversalFailure):
        return m.ReturnError(invokeID=invoke.invokeID, failure=answer)
    return m.ReturnResult(invokeID=invoke.invokeID, operation=invoke.operation, result=answer)
