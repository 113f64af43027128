"""
The seam between the call model and the things phones and trunks attach
through.

The model asks a device's L{ITerminal} to do things (offer a call, answer,
clear, hold, retrieve, send digits); the terminal reports what happened on
its side through the call model's L{oso.interfaces.IPortEvents}.  Both sides
name a device's part in a call by its L{oso.callmodel.calls.Connection}
object: it stays the same object for the connection's life, while its C{id}
(an ECMA-269 connection id) changes when a transfer or conference merges
calls.  Media stays
between the drivers: the model only carries an opaque media description
from one leg of a call to the other.
"""

from zope.interface import Attribute, Interface


class IPortDriver(Interface):
    """
    A port type: it owns the terminals of the devices whose C{port} names
    it.
    """

    name = Attribute("The port name devices refer to (C{str}).")

    def terminalFor(device):
        """
        Give the terminal that serves a device of this port.

        @param device: the device, an L{oso.callmodel.devices.Device}.
        @return: an L{ITerminal}, or L{None} when the device is not
            attached right now (for example a phone that has not
            registered), which the model treats as out of service.
        """

    def deviceRemoved(number):
        """
        The device C{number} of this port was deleted (it was in no call):
        forget what the port keeps for it, such as a phone's
        registrations, so that a new device with that number starts
        afresh.
        """


class ITerminal(Interface):
    """
    One device's end of the port: a phone, a trunk channel, a virtual phone.

    Every method returns at once.  The terminal reports the outcome later
    (or at once) through L{oso.interfaces.IPortEvents}.
    """

    def offer(connection, offer):
        """
        Present a call: the device should ring, or, for an origination or a
        pickup with C{offer.autoAnswer}, go off-hook by itself.

        @param connection: the device's L{oso.callmodel.calls.Connection}.
        @param offer: what the call is (L{oso.callmodel.calls.Offer}).
        """

    def failed(connection, cause):
        """
        The call this device is making cannot be completed (busy, invalid
        number, no trunk): the device hears busy or reorder tone until it
        hangs up, which it reports as cleared.

        @param cause: the ECMA-269 event cause.
        """

    def answer(connection):
        """
        Answer an alerting call on the user's behalf (the AnswerCall service).

        @raise oso.callmodel.errors.CSTAError: when the device cannot be
            answered remotely (C{invalidCallState} or C{generic}).
        """

    def clear(connection, cause):
        """
        Release the connection; the device returns to idle.

        @param cause: the ECMA-269 event cause (L{oso.callmodel.causes.EventCause}).
        """

    def hold(connection):
        """
        Put the connection on hold (stop media toward the device).
        """

    def retrieve(connection):
        """
        Take the connection off hold.
        """

    def generateDigits(connection, digits):
        """
        Send DTMF digits into the connection's media.

        @param digits: a string of C{0-9*#A-D}.
        """

    def mediaChanged(connection, media):
        """
        The far end of this connection changed (transfer, conference,
        retrieve): re-point media to C{media}, the opaque description the
        other leg gave, or L{None} when there is no far end now.
        """

    def earlyMedia(connection, media):
        """
        The far end of this connection sends media before it answers (a
        called party's ringing tone or announcement): let the device hear
        C{media}, the opaque description the far end's terminal gave (for
        SIP, a 183 with the answer to the device's offer).  It comes while
        this device's own call is not answered; a terminal that cannot
        play it before the answer ignores it.
        """
