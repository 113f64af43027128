"""
A CSTA client link: what a CTI library (TAPI-shaped, a CLI) builds on.
"""

from zope.interface import Attribute, Interface


class ICSTAClient(Interface):
    """
    One associated CSTA link seen from the client: requests out with a
    Deferred answer, the server's events and requests in to callbacks.
    Messages are those of L{oso.csta.messages}, whichever the encoding.
    """

    associated = Attribute("Whether the link is associated.")
    closed = Attribute("Whether the link is gone.")
    systemStatus = Attribute(
        "The last oso.csta.messages.SystemStatusValue the server reported, or None."
    )

    def whenAssociated():
        """
        @return: a Deferred firing with the link once associated, or failing
            with L{oso.cti.errors.AssociationRefused},
            L{oso.cti.errors.InvokeTimeout} or L{oso.cti.errors.LinkClosed}.
        """

    def invoke(request):
        """
        Send a request (an argument message such as
        L{oso.csta.messages.MakeCall}).

        @return: a Deferred firing with the response message, or failing with
            L{oso.callmodel.errors.CSTAError} (the universal failure),
            L{oso.cti.errors.InvokeRejected}, L{oso.cti.errors.InvokeTimeout},
            L{oso.cti.errors.ProtocolError} or L{oso.cti.errors.LinkClosed}.
            Cancelling it forgets the invoke.
        """

    def addEventObserver(callback, monitorCrossRefID=None):
        """
        Call C{callback(event)} for each event of monitor
        C{monitorCrossRefID}, or of every monitor when it is L{None}.
        """

    def removeEventObserver(callback, monitorCrossRefID=None):
        """
        Undo L{addEventObserver}.
        """

    def setHandler(requestType, handler):
        """
        Answer the server's requests of C{requestType} (for example
        L{oso.csta.messages.SwitchingFunctionDevices}) with
        C{handler(request)}, which returns the response message (or a
        Deferred of it; ignored for operations without one) or raises
        L{oso.callmodel.errors.CSTAError}. L{None} removes the handler.
        """

    def whenClosed(callback):
        """
        Call C{callback()} once when the link is gone.
        """

    def release():
        """
        End the association in order (BER RLRQ/RLRE; XML: cancel the
        system registration) and close the link.

        @return: a Deferred firing when the link is closed.
        """

    def abort():
        """
        Close the link at once (BER: with an ABRT).
        """
