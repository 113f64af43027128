"""
The one error type of the CSTA codecs.
"""


class CSTACodecError(Exception):
    """
    Bytes are not a CSTA message oso can read, or a message cannot be
    encoded.

    When the bytes were a readable ROSE APDU whose content was not, the error
    says how the link may answer: C{invokeID} is the invoke id of the
    refused APDU (L{None} when it could not be read) and C{problem} the
    L{oso.csta.messages.RejectProblem} to send in a ROSE reject
    (C{invokeUnrecognizedOperation} for an unknown operation code,
    C{invokeMistypedArgument} for an argument that does not decode, ...).
    C{problem} is L{None} when no reject fits (a malformed ACSE APDU, or a
    message that cannot be encoded).
    """

    def __init__(self, message, invokeID=None, problem=None):
        super().__init__(message)
        self.invokeID = invokeID
        self.problem = problem
