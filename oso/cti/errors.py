"""
What a CSTA client's Deferreds fail with, besides
L{oso.callmodel.errors.CSTAError} (the server refused a service with a
universal failure).
"""


class CTIError(Exception):
    """
    The base of the client's own errors.
    """


class AssociationRefused(CTIError):
    """
    The server refused to associate: an AARE reject (BER) or an error
    response to the link's opening request (XML).

    @ivar diagnostic: the AARE's L{oso.csta.messages.ACSEServiceUserDiagnostic}
        or L{oso.csta.messages.ACSEServiceProviderDiagnostic}, or L{None}.
    @ivar failure: the L{oso.callmodel.errors.UniversalFailure} of an XML
        refusal, or L{None}.
    @ivar reason: the server's own words (AARE private data), or C{""}.
    """

    def __init__(self, diagnostic=None, failure=None, reason=""):
        what = diagnostic.name if diagnostic is not None else str(failure)
        super().__init__(f"{what}: {reason}" if reason else what)
        self.diagnostic = diagnostic
        self.failure = failure
        self.reason = reason


class InvokeRejected(CTIError):
    """
    The server answered an invoke with a ROSE reject.

    @ivar problem: the L{oso.csta.messages.RejectProblem}.
    """

    def __init__(self, problem):
        super().__init__(problem.name)
        self.problem = problem


class InvokeTimeout(CTIError):
    """
    No answer to an invoke (or to the AARQ) within the invoke timeout.
    """


class ProtocolError(CTIError):
    """
    The server's answer to an invoke could not be read or is not the
    operation's result.
    """


class LinkClosed(CTIError):
    """
    The link closed (or was never associated) before the answer came.
    """
