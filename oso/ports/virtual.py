"""
Virtual phones: terminals driven by programs instead of people.

Tests, demos and CTI developers use them to run calls without hardware: a
virtual phone rings, answers (by itself after a delay if asked to), refuses
calls as busy, hangs up, holds and sends digits, and remembers what the
call model asked of it.
"""

from twisted.logger import Logger
from zope.interface import implementer

from oso.callmodel.causes import EventCause
from oso.callmodel.states import LocalConnectionState as S
from oso.interfaces import IPortDriver, ITerminal


@implementer(ITerminal)
class VirtualPhone:
    """
    One virtual phone.

    @ivar number: its device number.
    @ivar autoAnswerAfter: seconds after which it answers a ringing call by
        itself, or L{None} to wait for L{answer}.
    @ivar refuseCalls: L{None}, or the cause it refuses every offer with
        (C{EventCause.busy} makes it a busy phone).
    @ivar connections: its connections now, oldest first.
    @ivar offers: every L{Offer} it was given, oldest first.
    @ivar tone: C{{connection: cause}} for calls it made that failed.
    @ivar sentDigits: the DTMF digits the model asked it to send.
    @ivar remoteMedia: what each connection's media was last pointed at.
    @ivar earlyRemoteMedia: the early media each connection heard before
        its far end answered.
    @ivar clearedWith: the causes its connections were cleared with.
    @ivar pluggedIn: whether it is in service.
    """

    log = Logger()

    def __init__(self, number, events, clock, autoAnswerAfter=None):
        self.number = number
        self.media = {"virtual-phone": number}
        self._events = events
        self._clock = clock
        self.autoAnswerAfter = autoAnswerAfter
        self.refuseCalls = None
        self.connections = []
        self.offers = []
        self.tone = {}
        self.sentDigits = []
        self.remoteMedia = {}
        self.earlyRemoteMedia = {}
        self.clearedWith = []
        self.pluggedIn = True
        self._timers = {}

    # What the user does.

    def offHook(self, digits=""):
        """
        Lift the handset and dial C{digits} (possibly none yet).

        @return: the new connection.
        """
        connection = self._events.originate(self.number, digits, self.media)
        if not connection.ended:
            self._add(connection)
        return connection

    def dial(self, digits):
        """
        Dial more digits on the call being set up.
        """
        self._events.dialDigits(self._current(S.initiated), digits)

    def answer(self, connection=None):
        """
        Answer the ringing call (the oldest, or C{connection}); also what
        the call model asks for with the AnswerCall service.
        """
        connection = connection or self._ringing()
        self._cancelTimer(connection)
        self._events.answered(connection, self.media)

    def reject(self, connection=None, cause=EventCause.busy):
        """
        Refuse the ringing call.
        """
        connection = connection or self._ringing()
        self._forget(connection)
        self._events.rejected(connection, cause)

    def hangUp(self, connection=None):
        """
        Hang up the current call (the newest connection, or C{connection}).
        """
        connection = connection or self._current()
        self._forget(connection)
        self._events.cleared(connection, EventCause.normalClearing)

    def unplug(self):
        """
        Pull the phone's cable: its calls drop and it is out of service
        until L{plugIn}.
        """
        self.pluggedIn = False
        for connection in list(self.connections):
            self._forget(connection)
            self._events.cleared(connection, EventCause.destOutOfOrder)
        self._events.outOfService(self.number)

    def plugIn(self):
        """
        Put the phone back in service.
        """
        self.pluggedIn = True
        self._events.inService(self.number)

    def pressHold(self, connection=None):
        """
        Put the active call on hold with the phone's hold key.
        """
        self._events.heldByTerminal(connection or self._current(S.connected))

    def pressRetrieve(self, connection=None):
        """
        Take a held call back with the phone's key.
        """
        self._events.retrievedByTerminal(connection or self._current(S.hold))

    # What the call model asks (ITerminal).

    def offer(self, connection, offer):
        self.offers.append(offer)
        if self.refuseCalls is not None and offer.reason == "call":
            self._events.rejected(connection, self.refuseCalls)
            return
        self._add(connection)
        if offer.autoAnswer:
            self._events.answered(connection, self.media)
            return
        self._events.alerting(connection)
        if self.autoAnswerAfter is not None and not connection.ended:
            self._timers[connection] = self._clock.callLater(
                self.autoAnswerAfter, self._autoAnswer, connection
            )

    def failed(self, connection, cause):
        self.tone[connection] = cause

    def clear(self, connection, cause):
        self.clearedWith.append(cause)
        self._forget(connection)

    def hold(self, connection):
        pass

    def retrieve(self, connection):
        pass

    def generateDigits(self, connection, digits):
        self.sentDigits.append(digits)

    def mediaChanged(self, connection, media):
        self.remoteMedia[connection] = media

    def earlyMedia(self, connection, media):
        self.earlyRemoteMedia[connection] = media

    # Internals.

    def _autoAnswer(self, connection):
        self._timers.pop(connection, None)
        if not connection.ended:
            self._events.answered(connection, self.media)

    def _add(self, connection):
        if connection not in self.connections:
            self.connections.append(connection)

    def _forget(self, connection):
        self._cancelTimer(connection)
        if connection in self.connections:
            self.connections.remove(connection)
        self.tone.pop(connection, None)

    def _cancelTimer(self, connection):
        timer = self._timers.pop(connection, None)
        if timer is not None and timer.active():
            timer.cancel()

    def _ringing(self):
        for connection in self.connections:
            if connection.state in (S.alerting, S.null) or connection.origination:
                return connection
        raise LookupError(f"virtual phone {self.number} has no ringing call")

    def _current(self, state=None):
        for connection in reversed(self.connections):
            if state is None or connection.state is state:
                return connection
        raise LookupError(f"virtual phone {self.number} has no such call")


@implementer(IPortDriver)
class VirtualPhones:
    """
    The port driver of virtual phones: every device whose port names it
    gets a L{VirtualPhone}.
    """

    def __init__(self, events, clock, name="virtual-phones", autoAnswer=None):
        self.name = name
        self._events = events
        self._clock = clock
        self._autoAnswer = dict(autoAnswer or {})
        self._phones = {}

    def terminalFor(self, device):
        if device.port != self.name:
            return None
        phone = self.phone(device.number)
        return phone if phone.pluggedIn else None

    def deviceRemoved(self, number):
        self._phones.pop(number, None)

    def phone(self, number):
        """
        @return: the L{VirtualPhone} of device C{number}, made on first use.
        """
        phone = self._phones.get(number)
        if phone is None:
            phone = self._phones[number] = VirtualPhone(
                number, self._events, self._clock, self._autoAnswer.get(number)
            )
        return phone
