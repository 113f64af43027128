"""
The client side of a CSTA link, sans-I/O: requests in as messages, bytes
out; bytes in, answers and events out to Deferreds and callbacks; timers on
an injected clock.

A L{CSTAClientLink} speaks the encoding its L{ClientSettings} name (bare or
length-prefixed BER, or ECMA-323 XML with the 8-byte header), with the
codecs and message model of L{oso.csta}: the server's link
(L{oso.csta.link}) is its counterpart. It associates (BER: AARQ, with
OpenScape-style C{user=...,passwd=...} credentials when given; XML: an
opening SystemRegister or RequestSystemStatus whose answer shows the server
took the link), allocates invoke ids, matches results, errors and rejects
to the pending invokes, hands events to observers per monitor, answers the
server's SystemStatus, sends SystemStatus heartbeats and gives up on an
invoke left unanswered.
"""

from dataclasses import dataclass

from twisted.internet.defer import Deferred, fail, maybeDeferred, succeed
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from zope.interface import implementer

from oso.callmodel.errors import CSTAError, UniversalFailure
from oso.csta import ber
from oso.csta import messages as m
from oso.csta.errors import CSTACodecError
from oso.csta.framing import DEFAULT_MAX_FRAME, EVENT_INVOKE_ID, Encoding, FramingError, framerFor
from oso.csta.operations import BY_ARGUMENT, Direction, operationFor
from oso.csta.wire import UNRECOGNISED_ANSWER, XML_CODEC, berFrame, roseAnswer, xmlFrame
from oso.csta.xml import Edition, UnknownMessageError
from oso.csta.xmlsafe import XMLCodecError
from oso.cti.errors import (
    AssociationRefused,
    CTIError,
    InvokeRejected,
    InvokeTimeout,
    LinkClosed,
    ProtocolError,
)
from oso.interfaces.cti import ICSTAClient

#: The CSTA Phase III application context (ECMA-285).
PHASE_III = "1.3.12.0.285.200"

SERVICE_NOT_SUPPORTED = UniversalFailure("operation", "serviceNotSupported")
INVALID_PARAMETER = UniversalFailure("operation", "invalidParameterValue")
GENERIC = UniversalFailure("operation", "generic")

# Invoke ids the client allocates: four digits in the XML header, 9999
# being the events'.
_MAX_INVOKE_ID = EVENT_INVOKE_ID - 1

@dataclass(frozen=True)
class ClientSettings:
    """
    How a client speaks on its links.

    @ivar encoding: L{Encoding.BER}, L{Encoding.PREFIXED_BER} or
        L{Encoding.XML}.
    @ivar applicationContext: the AARQ's application context (BER).
    @ivar cstaVersions: the C{CSTAVersion} bit names offered in the AARQ.
    @ivar user: the user name to authenticate with (BER), or L{None}.
    @ivar password: its password.
    @ivar edition: the ECMA-323 L{Edition} of the documents sent (XML);
        L{None} for documents in no namespace.
    @ivar register: whether an XML link opens with SystemRegister (and its
        id is kept in C{registerID}) rather than RequestSystemStatus.
    @ivar heartbeatInterval: seconds between SystemStatus heartbeats; 0
        for none.
    @ivar invokeTimeout: seconds an invoke (or the AARQ) may wait for its
        answer.
    @ivar maxFrame: the largest frame accepted from the server, in bytes.
    """

    encoding: Encoding = Encoding.BER
    applicationContext: str = PHASE_III
    cstaVersions: frozenset = frozenset({"versionFive"})
    user: str | None = None
    password: str | None = None
    edition: Edition | None = Edition.ED5
    register: bool = False
    heartbeatInterval: float = 60.0
    invokeTimeout: float = 30.0
    maxFrame: int = DEFAULT_MAX_FRAME

    def __post_init__(self):
        if self.encoding not in (Encoding.BER, Encoding.PREFIXED_BER, Encoding.XML):
            raise ValueError(f"{self.encoding} is no encoding a client can speak")
        if (self.user is None) != (self.password is None):
            raise ValueError("a user needs a password, and a password a user")


class _Pending:
    """
    One invoke waiting for its answer.
    """

    def __init__(self, operation, deferred, timer):
        self.operation = operation
        self.deferred = deferred
        self.timer = timer


@implementer(ICSTAClient)
class CSTAClientLink:
    """
    The state of one CSTA link, client side.

    @ivar associated: whether the link is associated.
    @ivar closed: whether the link is gone.
    @ivar systemStatus: the last L{m.SystemStatusValue} the server reported.
    @ivar cstaVersions: the versions the server's AARE accepted (BER).
    @ivar registerID: the XML link's system status registration id.
    @ivar edition: the ECMA-323 edition in use (XML).
    """

    log = Logger()

    def __init__(self, clock, send, close, settings=ClientSettings()):
        """
        @param clock: the L{IReactorTime} for heartbeats and timeouts.
        @param send: called with each frame of bytes to send.
        @param close: called once to close the transport.
        @param settings: the L{ClientSettings}.
        """
        self.clock = clock
        self._send = send
        self._close = close
        self.settings = settings
        self.encoding = settings.encoding
        self.edition = settings.edition
        self.associated = False
        self.closed = False
        self.systemStatus = None
        self.cstaVersions = frozenset()
        self.registerID = None
        self._associationWaiters = []
        self._associationFailure = None
        self._framer = framerFor(settings.encoding, settings.maxFrame)
        self._pending = {}
        self._nextInvokeID = 1
        self._observers = {}
        self._closeObservers = []
        self._handlers = {m.SystemStatus: self._systemStatusReceived}
        self._associationTimer = None
        self._released = None
        self._releaseTimer = None
        self._heartbeat = LoopingCall(self._beat)
        self._heartbeat.clock = clock

    # --- the link -------------------------------------------------------------

    def connectionMade(self):
        """
        The transport is up: ask to associate.
        """
        if self.encoding is Encoding.XML:
            opening = (
                m.SystemRegister(requestTypes=frozenset({"systemStatus"}))
                if self.settings.register
                else m.RequestSystemStatus()
            )
            self._invoke(opening).addCallbacks(self._xmlStarted, self._xmlRefused)
            return
        settings = self.settings
        privateData = ()
        if settings.user is not None:
            privateData = (f"user={settings.user},passwd={settings.password}".encode(),)
        # The timer first: a transport may hand the AARE back while the AARQ
        # is being sent.
        self._associationTimer = self.clock.callLater(
            settings.invokeTimeout, self._associationTimedOut
        )
        self._sendBER(
            m.AssociationRequest(
                applicationContextName=settings.applicationContext,
                cstaVersions=settings.cstaVersions,
                privateData=privateData,
            )
        )

    def dataReceived(self, data):
        """
        Take bytes of the link, as they arrived.
        """
        if self.closed:
            return
        try:
            frames = self._framer.feed(data)
        except FramingError as e:
            self.log.warn("CSTA server's link lost its framing: {why}", why=str(e))
            self._closeWith(ProtocolError(str(e)))
            return
        for frame in frames:
            if self.closed:
                return
            if self.encoding is Encoding.XML:
                self._xmlFrame(*frame)
            else:
                self._berFrame(frame)

    def connectionLost(self, why=None):
        """
        The transport is gone: fail what waits, stop the timers.

        @param why: the exception pending invokes fail with; a
            L{LinkClosed} by default.
        """
        if self.closed:
            return
        self.closed = True
        why = why if why is not None else LinkClosed("the CSTA link closed")
        if self._heartbeat.running:
            self._heartbeat.stop()
        for timer in (self._associationTimer, self._releaseTimer):
            if timer is not None and timer.active():
                timer.cancel()
        pending, self._pending = self._pending, {}
        for entry in pending.values():
            entry.timer.cancel()
            entry.deferred.errback(why)
        if not self.associated:
            self._associationFailure = why
            waiters, self._associationWaiters = self._associationWaiters, []
            for waiter in waiters:
                waiter.errback(why)
        if self._released is not None:
            self._released.callback(None)
        observers, self._closeObservers = self._closeObservers, []
        for callback in observers:
            self._call(callback)

    def whenAssociated(self):
        if self.associated:
            return succeed(self)
        if self._associationFailure is not None:
            return fail(self._associationFailure)
        waiter = Deferred()
        self._associationWaiters.append(waiter)
        return waiter

    def whenClosed(self, callback):
        if self.closed:
            callback()
        else:
            self._closeObservers.append(callback)

    def release(self):
        if self.closed:
            return succeed(None)
        if self._released is None:
            self._released = Deferred()
            if self.encoding is not Encoding.XML and self.associated:
                self._sendBER(m.ReleaseRequest(reason=m.ReleaseRequestReason.normal))
                self._releaseTimer = self.clock.callLater(self.settings.invokeTimeout, self.abort)
            elif self.registerID is not None:
                cancel = m.SystemRegisterCancel(sysStatRegisterID=self.registerID)
                self.invoke(cancel).addBoth(lambda _: self.abort())
            else:
                self.abort()
        released = Deferred()
        self._released.addBoth(lambda result: released.callback(None) or result)
        return released

    def abort(self):
        if self.closed:
            return
        if self.encoding is not Encoding.XML:
            self._sendBER(m.Abort(source=m.AbortSource.acseServiceUser))
        self._closeWith(LinkClosed("the CSTA client closed the link"))

    def _closeWith(self, why):
        if not self.closed:
            self.connectionLost(why)
            self._close()

    def _associationDone(self):
        self.associated = True
        if self._associationTimer is not None and self._associationTimer.active():
            self._associationTimer.cancel()
        interval = self.settings.heartbeatInterval
        if interval:
            self._heartbeat.start(interval, now=False)
        waiters, self._associationWaiters = self._associationWaiters, []
        for waiter in waiters:
            waiter.callback(self)

    def _associationTimedOut(self):
        self.log.warn("CSTA server did not answer the AARQ")
        self._closeWith(InvokeTimeout("no AARE"))

    # --- requests out ---------------------------------------------------------

    def invoke(self, request):
        if self.closed:
            return fail(LinkClosed("the CSTA link is closed"))
        if not self.associated:
            return fail(LinkClosed("the CSTA link is not associated yet"))
        return self._invoke(request)

    def _invoke(self, request):
        try:
            operation = operationFor(request)
        except KeyError:
            return fail(TypeError(f"{type(request).__name__} is no CSTA request"))
        if operation.direction is Direction.toClient:
            return fail(TypeError(f"{operation.name} is invoked by the server only"))
        if len(self._pending) >= _MAX_INVOKE_ID:
            return fail(CTIError("every invoke id is waiting for an answer"))
        invokeID = self._allocateInvokeID()
        # Pending first: a transport may hand the answer back while the
        # invoke is being sent.
        deferred = Deferred(lambda _: self._forget(invokeID))
        timer = self.clock.callLater(self.settings.invokeTimeout, self._timedOut, invokeID)
        self._pending[invokeID] = _Pending(operation, deferred, timer)
        try:
            if self.encoding is Encoding.XML:
                self._sendXML(invokeID, request)
            else:
                self._sendBER(m.Invoke(invokeID=invokeID, operation=operation.name, argument=request))
        except (CSTACodecError, XMLCodecError, FramingError) as e:
            self._forget(invokeID)
            return fail(e)
        return deferred

    def _allocateInvokeID(self):
        invokeID = self._nextInvokeID
        while invokeID in self._pending:
            invokeID = invokeID % _MAX_INVOKE_ID + 1
        self._nextInvokeID = invokeID % _MAX_INVOKE_ID + 1
        return invokeID

    def _forget(self, invokeID):
        entry = self._pending.pop(invokeID, None)
        if entry is not None:
            entry.timer.cancel()
        return entry

    def _timedOut(self, invokeID):
        entry = self._pending.pop(invokeID)
        self.log.warn(
            "CSTA {operation} invoke {id} unanswered", operation=entry.operation.name, id=invokeID
        )
        entry.deferred.errback(
            InvokeTimeout(f"no answer to {entry.operation.name} within {self.settings.invokeTimeout}s")
        )

    def _settle(self, invokeID, answer):
        """
        Fire the pending invoke C{invokeID} with C{answer}: a result
        message, a L{UniversalFailure} or an exception.

        @return: whether an invoke was waiting for it.
        """
        entry = self._forget(invokeID)
        if entry is None:
            return False
        if isinstance(answer, UniversalFailure):
            answer = CSTAError(answer)
        elif not isinstance(answer, Exception) and not isinstance(answer, entry.operation.result):
            answer = ProtocolError(
                f"{type(answer).__name__} answers {entry.operation.name} invoke {invokeID}"
            )
        if isinstance(answer, Exception):
            entry.deferred.errback(answer)
        else:
            entry.deferred.callback(answer)
        return True

    def _beat(self):
        self.invoke(m.SystemStatus(systemStatus=m.SystemStatusValue.normal)).addErrback(
            self._heartbeatFailed
        )

    def _heartbeatFailed(self, failure):
        if failure.check(InvokeTimeout):
            self.log.warn("CSTA server did not answer a heartbeat: closing the link")
            self.abort()
        elif not failure.check(LinkClosed):
            self.log.warn("CSTA heartbeat refused: {why}", why=failure.getErrorMessage())

    # --- events and the server's requests ---------------------------------------

    def addEventObserver(self, callback, monitorCrossRefID=None):
        self._observers.setdefault(monitorCrossRefID, []).append(callback)

    def removeEventObserver(self, callback, monitorCrossRefID=None):
        observers = self._observers.get(monitorCrossRefID, [])
        if callback in observers:
            observers.remove(callback)
        if not observers:
            self._observers.pop(monitorCrossRefID, None)

    def setHandler(self, requestType, handler):
        if handler is None:
            self._handlers.pop(requestType, None)
        else:
            self._handlers[requestType] = handler

    def _event(self, event):
        observers = self._observers.get(event.monitorCrossRefID, []) + self._observers.get(None, [])
        if not observers:
            self.log.debug(
                "CSTA {event} for monitor {id} unobserved",
                event=type(event).__name__,
                id=event.monitorCrossRefID,
            )
        for callback in observers:
            self._call(callback, event)

    def _call(self, callback, *args):
        try:
            callback(*args)
        except Exception:
            self.log.failure("a CSTA client callback failed")

    def _serverRequest(self, operation, request, reply):
        """
        Answer one request the server invoked, with its handler's answer,
        calling C{reply(answer)} with a response message or a
        L{UniversalFailure} when the operation has a response.
        """
        if isinstance(request, (m.CSTAEvent, m.PrivateEvent)):
            self._event(request)
            return
        handler = self._handlers.get(type(request))
        if handler is None or operation.direction is Direction.toServer:
            self.log.info("CSTA server's {request} not handled", request=type(request).__name__)
            if operation.result is not None:
                reply(SERVICE_NOT_SUPPORTED)
            return
        answered = maybeDeferred(handler, request).addErrback(self._handlerFailed, request)
        if operation.result is not None:
            answered.addCallback(lambda answer: None if self.closed else reply(answer))

    def _handlerFailed(self, failure, request):
        if failure.check(CSTAError):
            return failure.value.failure
        self.log.failure(
            "CSTA client's {request} handler failed", failure, request=type(request).__name__
        )
        return GENERIC

    def _systemStatusReceived(self, request):
        self.systemStatus = request.systemStatus
        return m.SystemStatusResponse()

    # --- BER ------------------------------------------------------------------

    def _sendBER(self, message):
        self._send(berFrame(self.encoding, message))

    def _berFrame(self, frame):
        try:
            message = ber.decode(frame)
        except CSTACodecError as e:
            self.log.warn("CSTA server's BER APDU refused: {why}", why=str(e))
            if e.problem is None or not self.associated:
                self.abort()
                return
            if e.invokeID is not None and e.problem >= m.RejectProblem.returnResultUnrecognizedInvocation:
                self._settle(e.invokeID, ProtocolError(str(e)))
            self._sendBER(m.Reject(invokeID=e.invokeID, problem=e.problem))
            return
        if isinstance(message, m.AssociationResponse):
            self._associationResponse(message)
        elif isinstance(message, m.Abort):
            self.log.info("CSTA server aborted the association")
            self._closeWith(LinkClosed("the CSTA server aborted the association"))
        elif not self.associated:
            self.log.warn("CSTA server sent {what} before the AARE", what=type(message).__name__)
            self.abort()
        elif isinstance(message, m.ReleaseResponse):
            self._closeWith(LinkClosed("the CSTA association was released"))
        elif isinstance(message, m.ReleaseRequest):
            self._sendBER(m.ReleaseResponse(reason=m.ReleaseResponseReason.normal))
            self._closeWith(LinkClosed("the CSTA server released the association"))
        elif isinstance(message, m.Invoke):
            self._serverRequest(
                operationFor(message.argument),
                message.argument,
                lambda answer: self._sendBER(roseAnswer(message, answer)),
            )
        elif isinstance(message, m.ReturnResult):
            self._berAnswer(message, message.result)
        elif isinstance(message, m.ReturnError):
            self._berAnswer(message, message.failure)
        elif isinstance(message, m.Reject):
            self.log.warn(
                "CSTA server rejected invoke {id}: {problem}",
                id=message.invokeID,
                problem=message.problem.name,
            )
            if message.invokeID is not None:
                self._settle(message.invokeID, InvokeRejected(message.problem))
        else:
            self.log.warn("CSTA server sent {what}: aborting", what=type(message).__name__)
            self.abort()

    def _berAnswer(self, message, answer):
        if not self._settle(message.invokeID, answer):
            self.log.warn("CSTA server answered unknown invoke {id}", id=message.invokeID)
            self._sendBER(m.Reject(invokeID=message.invokeID, problem=UNRECOGNISED_ANSWER[type(message)]))

    def _associationResponse(self, response):
        if self.associated:
            self.log.warn("CSTA server sent a second AARE: aborting")
            self.abort()
            return
        if response.result is not m.AssociateResult.accepted:
            reason = b"; ".join(response.privateData).decode("utf-8", "replace")
            refusal = AssociationRefused(diagnostic=response.diagnostic, reason=reason)
            self.log.warn("CSTA association refused: {why}", why=str(refusal))
            self._closeWith(refusal)
            return
        self.cstaVersions = response.cstaVersions
        self.log.info("CSTA BER link associated ({c})", c=response.applicationContextName)
        self._associationDone()

    # --- XML ------------------------------------------------------------------

    def _sendXML(self, invokeID, message):
        self._send(xmlFrame(invokeID, message, self.edition))

    def _xmlFrame(self, invokeID, document):
        try:
            edition, message = XML_CODEC.decode(document, maxSize=self.settings.maxFrame)
        except XMLCodecError as e:
            self.log.warn("CSTA server's XML document refused: {why}", why=str(e))
            # An answer to a pending invoke fails it; a request gets the
            # ECMA-323 error response.
            if not self._settle(invokeID, ProtocolError(str(e))) and invokeID != EVENT_INVOKE_ID:
                unknown = isinstance(e, UnknownMessageError)
                self._sendXML(invokeID, SERVICE_NOT_SUPPORTED if unknown else INVALID_PARAMETER)
            return
        operation = BY_ARGUMENT.get(type(message))
        if isinstance(message, (m.CSTAEvent, m.PrivateEvent)):
            self._event(message)
        elif operation is not None:
            self._serverRequest(
                operation, message, lambda answer: self._sendXML(invokeID, answer)
            )
        elif not self._settle(invokeID, message):
            self.log.warn(
                "CSTA server's XML {what} answers no invoke ({id})",
                what=type(message).__name__,
                id=invokeID,
            )

    def _xmlStarted(self, response):
        if isinstance(response, m.SystemRegisterResponse):
            self.registerID = response.sysStatRegisterID
        else:
            self.systemStatus = response.systemStatus
        self.log.info("CSTA XML link started")
        self._associationDone()

    def _xmlRefused(self, failure):
        if failure.check(CSTAError):
            refusal = AssociationRefused(failure=failure.value.failure)
            self.log.warn("CSTA XML link refused: {why}", why=str(refusal))
            self._closeWith(refusal)
        elif not self.closed:
            self._closeWith(failure.value)
        # Closed meanwhile: connectionLost has failed the association already.
