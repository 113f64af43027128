"""
One CSTA link, sans-I/O: the bytes a client sends in, the bytes to answer
out, on a clock.

A L{CSTALink} detects the link's encoding from its first bytes
(L{oso.csta.framing.detect}) and keeps it: bare or length-prefixed BER
(ECMA-285, ROSE over an ACSE association) or XML (ECMA-323 with the 8-byte
header). It associates the client, sends SystemStatus (normal), answers
the system services from the call model, hands other requests to the
handlers of a L{oso.csta.services.ServiceRegistry} and refuses the rest
with the CSTA universal failure C{operation/serviceNotSupported}, so a
service handler never needs to know the encoding.
"""

from dataclasses import fields

from twisted.internet.defer import Deferred, fail
from twisted.internet.error import ConnectionDone
from twisted.logger import Logger

from oso.callmodel.devices import DeviceType
from oso.callmodel.errors import CSTAError, UniversalFailure
from oso.csta import ber
from oso.csta import messages as m
from oso.csta.errors import CSTACodecError
from oso.csta.framing import (
    DEFAULT_MAX_FRAME,
    EVENT_INVOKE_ID,
    Encoding,
    FramingError,
    detect,
    framerFor,
)
from oso.csta.operations import BY_ARGUMENT, BY_NAME, Direction, operationFor
from oso.csta.wire import UNRECOGNISED_ANSWER, XML_CODEC, berFrame, roseAnswer, xmlFrame
from oso.csta.xml import UnknownMessageError
from oso.csta.xmlsafe import XMLCodecError

#: The application contexts accepted in an AARQ: CSTA Phase III
#: (ECMA-285), Phase II (ECMA-218) and the one OpenScape clients send.
APPLICATION_CONTEXTS = frozenset({"1.3.12.0.285.200", "1.3.12.0.218.200", "1.3.12.0.180.1"})

#: The CSTA versions oso offers in the AARE (ECMA-285 C{CSTAVersion}).
CSTA_VERSIONS = frozenset({"versionFour", "versionFive"})

#: Frames that may wait for a slow client before its events overflow.
DEFAULT_EVENT_LIMIT = 10000

#: Seconds a link may stay silent before it is closed.
DEFAULT_HEARTBEAT_TIMEOUT = 120.0

SERVICE_NOT_SUPPORTED = UniversalFailure("operation", "serviceNotSupported")
INVALID_PARAMETER = UniversalFailure("operation", "invalidParameterValue")
INVALID_CROSS_REF = UniversalFailure("operation", "invalidCrossRefID")
AUTHENTICATION_REQUIRED = UniversalFailure("operation", "securityViolation")
LINK_LIMIT = UniversalFailure("systemResourceAvailability", "resourceLimitExceeded")

_MAX_LENGTH_FIELDS = [f.name for f in fields(m.MaxLengthParameters)]

log = Logger()

#: A call model device type -> its ECMA-285 DeviceCategory and the
#: ReqDeviceCategory that asks for it.
_CATEGORIES = {
    DeviceType.station: (m.DeviceCategory.station, m.ReqDeviceCategory.station),
    DeviceType.group: (m.DeviceCategory.group, m.ReqDeviceCategory.groupHunt),
    DeviceType.trunk: (m.DeviceCategory.networkInterface, m.ReqDeviceCategory.networkInterface),
}


def credentials(request):
    """
    Find a user name and password in an AARQ.

    OpenScape-style clients send C{user=NAME,passwd=SECRET} as private user
    information; others put the same form, or C{NAME:SECRET}, in the
    calling authentication value.

    @param request: an L{m.AssociationRequest}.
    @return: C{(user, password)}, or L{None} when the AARQ carries neither.
    """
    candidates = [item.decode("utf-8", "replace") for item in request.privateData]
    if request.callingAuthenticationValue is not None:
        candidates.append(request.callingAuthenticationValue)
    for text in candidates:
        fields = dict(
            part.strip().partition("=")[::2] for part in text.split(",") if "=" in part
        )
        if "user" in fields and "passwd" in fields:
            return fields["user"], fields["passwd"]
    value = request.callingAuthenticationValue
    if value is not None and ":" in value:
        user, _, password = value.partition(":")
        return user, password
    return None


class EventCounts:
    """
    How many events links sent and dropped, for the server's metrics: one
    count shared by every link of a listener outlives each link.

    @ivar delivered: events handed to a link's client.
    @ivar overflowed: events dropped because a client had fallen behind
        past the event limit.
    """

    def __init__(self):
        self.delivered = 0
        self.overflowed = 0


def readXMLRequest(document, maxSize, edition=None):
    """
    Read one ECMA-323 document a client sent, or say how to refuse it: the
    one reading a CSTA XML link and CSTA over HTTP share.

    @param document: the document's bytes.
    @param maxSize: the largest document accepted, in bytes.
    @param edition: the L{oso.csta.xml.Edition} to refuse an unreadable
        document in (the link's, once known).
    @return: C{(edition, message, refusal)}: the document's edition and
        message, or the edition to answer in, L{None} and the
        L{UniversalFailure} to answer with (C{serviceNotSupported} for a
        message this server does not know, C{invalidParameterValue} for a
        document it cannot read).
    """
    try:
        found, message = XML_CODEC.decode(document, maxSize=maxSize)
    except UnknownMessageError as e:
        log.warn("CSTA XML {name} unknown", name=e.element)
        return e.edition, None, SERVICE_NOT_SUPPORTED
    except XMLCodecError as e:
        log.warn("CSTA XML document refused: {why}", why=str(e))
        return edition, None, INVALID_PARAMETER
    return found, message, None


class CSTALink:
    """
    The state of one CSTA link.

    @ivar encoding: the link's L{Encoding}, L{None} until detected.
    @ivar associated: whether the client is associated (BER: after the
        AARE accepted; XML: after its first message).
    @ivar closed: whether the link has asked to be closed.
    """

    log = Logger()

    def __init__(
        self,
        clock,
        callModel,
        send,
        close,
        heartbeatTimeout=DEFAULT_HEARTBEAT_TIMEOUT,
        authenticate=None,
        requireAuth=False,
        refusal=None,
        maxFrame=DEFAULT_MAX_FRAME,
        services=None,
        backlog=None,
        eventLimit=DEFAULT_EVENT_LIMIT,
        counts=None,
    ):
        """
        @param clock: an L{IReactorTime} for the silence timer.
        @param callModel: the L{oso.interfaces.ICallModel} the system
            services answer from.
        @param send: called with the bytes of each frame to send.
        @param close: called once when the link is to be closed.
        @param heartbeatTimeout: seconds of silence after which the link is
            closed.
        @param authenticate: C{(user, password) -> bool}, or L{None} to
            accept any credentials.
        @param requireAuth: refuse a BER association without credentials,
            and XML links (ECMA-323 starts with no authentication).
        @param refusal: a reason to refuse this link (over the link limit):
            the client's first message is answered with a rejection that
            says so, and the link closed.
        @param maxFrame: the largest frame accepted, in bytes.
        @param services: the L{oso.csta.services.ServiceRegistry} of the
            services other components supply, or L{None}.
        @param backlog: returns how many frames wait for the client (the
            transport's outbound queue), or L{None} when nothing waits.
        @param eventLimit: the backlog at which events overflow.
        @param counts: the L{EventCounts} this link adds to; its own by
            default.
        """
        self.clock = clock
        self.callModel = callModel
        self._send = send
        self._close = close
        self.heartbeatTimeout = heartbeatTimeout
        self.authenticate = authenticate
        self.requireAuth = requireAuth
        self.refusal = refusal
        self.maxFrame = maxFrame
        self.services = services
        self._backlog = backlog or (lambda: 0)
        self.eventLimit = eventLimit
        self.counts = EventCounts() if counts is None else counts
        self.overflowed = False
        self._overflowCallbacks = []
        self._heldEvents = None
        self.user = None
        self.encoding = None
        self.associated = False
        self.closed = False
        self.edition = None
        self._head = b""
        self._framer = None
        self._nextInvokeID = 1
        self._pending = {}
        self._registrations = set()
        self._nextCrossRef = 1
        self._closedCallbacks = []
        self._timer = clock.callLater(heartbeatTimeout, self._silent)

    def whenOverflowed(self, callback):
        """
        Call C{callback()} each time the client falls behind past the
        event limit, to end what would go on sending it events.
        """
        self._overflowCallbacks.append(callback)

    def sendEvent(self, event):
        """
        Send an event, unless the client has fallen behind past the event
        limit: then it is told so, explicitly, once: a SystemStatus
        C{messagesLost}, then whatever the overflow callbacks send (the
        monitors' MonitorStop), after every event it was already sent.
        The link takes events again once the backlog is under the limit.

        @return: whether the event was sent.
        """
        if self.closed:
            return False
        if self._heldEvents is not None:
            self._heldEvents.append(event)
            return True
        if self._backlog() >= self.eventLimit:
            self.counts.overflowed += 1
            if not self.overflowed:
                self.overflowed = True
                self.log.warn(
                    "CSTA client fell {n} frames behind: events overflow, monitors stopped",
                    n=self._backlog(),
                )
                self.invoke(m.SystemStatus(systemStatus=m.SystemStatusValue.messagesLost))
                for callback in list(self._overflowCallbacks):
                    callback()
            return False
        self.overflowed = False
        self.counts.delivered += 1
        self.invoke(event)
        return True

    def whenClosed(self, callback):
        """
        Call C{callback()} once when the link is gone, to end what a
        service started on it (monitors, transmissions).
        """
        if self.closed:
            callback()
        else:
            self._closedCallbacks.append(callback)

    # --- bytes in -------------------------------------------------------------

    def dataReceived(self, data):
        """
        Take bytes of the link, as they arrived.
        """
        if self.closed:
            return
        self._timer.reset(self.heartbeatTimeout)
        if self._framer is None:
            self._head += data
            encoding = detect(self._head)
            if encoding is None:
                return
            if encoding is Encoding.UNRECOGNISED:
                self.log.warn(
                    "CSTA link starts with {head!r}: no CSTA encoding", head=self._head[:8]
                )
                self._abort()
                return
            self.encoding = encoding
            self._framer = framerFor(encoding, self.maxFrame)
            data, self._head = self._head, b""
        try:
            frames = self._framer.feed(data)
        except FramingError as e:
            self.log.warn("CSTA link lost its framing: {why}", why=str(e))
            self.close()
            return
        for frame in frames:
            if self.closed:
                return
            if self.encoding is Encoding.XML:
                self._xmlFrame(*frame)
            else:
                self._berFrame(frame)

    def connectionLost(self):
        """
        The transport is gone: stop the silence timer.
        """
        if self.closed and not self._closedCallbacks:
            return
        self.closed = True
        if self._timer.active():
            self._timer.cancel()
        callbacks, self._closedCallbacks = self._closedCallbacks, []
        self._failRequests()
        self._overflowCallbacks = []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                self.log.failure("ending a CSTA link's service failed")

    def close(self):
        """
        Close the link (once).
        """
        if not self.closed:
            self.connectionLost()
            self._close()

    def _silent(self):
        self.log.info("CSTA link silent for {seconds}s: closing", seconds=self.heartbeatTimeout)
        if self.associated and self.encoding is not Encoding.XML:
            self._abort(m.AbortDiagnostic.noReasonGiven)
        else:
            self.close()

    # --- BER ------------------------------------------------------------------

    def _sendBER(self, message):
        self._send(berFrame(self.encoding, message))

    def _abort(self, diagnostic=m.AbortDiagnostic.protocolError):
        """
        Send an ABRT from the ACSE service provider and close the link.
        """
        self._sendBER(m.Abort(source=m.AbortSource.acseServiceProvider, diagnostic=diagnostic))
        self.close()

    def _berFrame(self, frame):
        try:
            message = ber.decode(frame)
        except CSTACodecError as e:
            self.log.warn("CSTA BER APDU refused: {why}", why=str(e))
            if e.problem is not None and self.associated:
                self._sendBER(m.Reject(invokeID=e.invokeID, problem=e.problem))
            else:
                self._abort()
            return
        if isinstance(message, m.AssociationRequest):
            self._associate(message)
        elif self.refusal is not None or not self.associated:
            self.log.warn(
                "CSTA BER {what} before association: aborting", what=type(message).__name__
            )
            self._abort()
        elif isinstance(message, m.ReleaseRequest):
            self._sendBER(m.ReleaseResponse(reason=m.ReleaseResponseReason.normal))
            self.close()
        elif isinstance(message, m.Abort):
            self.log.info("CSTA client aborted the association")
            self.close()
        elif isinstance(message, m.Invoke):
            self._berInvoke(message)
        elif isinstance(message, (m.ReturnResult, m.ReturnError)):
            waiting = self._pending.pop(message.invokeID, None)
            if isinstance(waiting, Deferred):
                if isinstance(message, m.ReturnResult):
                    waiting.callback(message.result)
                else:
                    waiting.errback(CSTAError(message.failure))
            elif waiting is None:
                problem = UNRECOGNISED_ANSWER[type(message)]
                self._sendBER(m.Reject(invokeID=message.invokeID, problem=problem))
        elif isinstance(message, m.Reject):
            self.log.warn(
                "CSTA client rejected invoke {id}: {problem}",
                id=message.invokeID,
                problem=message.problem.name,
            )
            waiting = self._pending.pop(message.invokeID, None)
            if isinstance(waiting, Deferred):
                waiting.errback(CSTAError(INVALID_PARAMETER, "rejected: " + message.problem.name))
        else:
            self.log.warn("CSTA BER {what} unexpected: aborting", what=type(message).__name__)
            self._abort()

    def _associate(self, request):
        context = request.applicationContextName
        diagnostic = None
        if self.associated:
            self.log.warn("CSTA AARQ on an associated link: aborting")
            self._abort()
            return
        if self.refusal is not None:
            self.log.warn("CSTA association refused: {reason}", reason=self.refusal)
            diagnostic = m.ACSEServiceUserDiagnostic.noReasonGiven
            result = m.AssociateResult.rejectedTransient
        elif context not in APPLICATION_CONTEXTS:
            self.log.warn("CSTA association refused: application context {c}", c=context)
            diagnostic = m.ACSEServiceUserDiagnostic.applicationContextNameNotSupported
            result = m.AssociateResult.rejectedPermanent
        else:
            diagnostic = self._authenticate(request)
            result = m.AssociateResult.rejectedPermanent
        if diagnostic is not None:
            self._sendBER(
                m.AssociationResponse(
                    applicationContextName=context,
                    result=result,
                    diagnostic=diagnostic,
                    privateData=(self.refusal.encode(),) if self.refusal else (),
                )
            )
            self.close()
            return
        versions = request.cstaVersions & CSTA_VERSIONS or CSTA_VERSIONS
        self._sendBER(m.AssociationResponse(applicationContextName=context, cstaVersions=versions))
        self.associated = True
        self.log.info("CSTA BER link associated ({c})", c=context)
        self._sendSystemStatus()

    def _authenticate(self, request):
        """
        @return: L{None} to accept, or the AARE diagnostic to refuse with.
        """
        found = credentials(request)
        if found is None:
            if self.requireAuth:
                self.log.warn("CSTA association refused: no credentials")
                return m.ACSEServiceUserDiagnostic.authenticationRequired
            return None
        if self.authenticate is not None and not self.authenticate(*found):
            self.log.warn("CSTA association refused: bad credentials for {user}", user=found[0])
            return m.ACSEServiceUserDiagnostic.authenticationFailure
        self.user = found[0]
        return None

    def _berInvoke(self, invoke):
        operation = BY_NAME[invoke.operation]
        if operation.direction is Direction.toClient:
            problem = m.RejectProblem.invokeUnrecognizedOperation
            self._sendBER(m.Reject(invokeID=invoke.invokeID, problem=problem))
            return
        self.answer(invoke.argument, lambda answer: self._sendBER(roseAnswer(invoke, answer)))

    # --- XML ------------------------------------------------------------------

    def _xmlFrame(self, invokeID, document):
        edition, message, refusal = readXMLRequest(document, self.maxFrame, self.edition)
        if refusal is not None:
            self._sendXML(invokeID, refusal, edition)
            return
        if self.edition is None:
            self.edition = edition
        if self.refusal is not None or self.requireAuth:
            why = self.refusal or "authentication required"
            self.log.warn("CSTA XML link refused: {why}", why=why)
            failure = LINK_LIMIT if self.refusal else AUTHENTICATION_REQUIRED
            self._sendXML(invokeID, failure, edition)
            self.close()
            return
        operation = BY_ARGUMENT.get(type(message))
        if operation is None:
            # A response (or CSTAErrorCode) to one of the server's invokes.
            waiting = self._pending.pop(invokeID, None)
            if waiting is None:
                self.log.warn("CSTA XML {what} answers nothing", what=type(message).__name__)
            elif isinstance(waiting, Deferred):
                if isinstance(message, UniversalFailure):
                    waiting.errback(CSTAError(message))
                else:
                    waiting.callback(message)
            return
        if operation.direction is Direction.toClient:
            self._sendXML(invokeID, SERVICE_NOT_SUPPORTED, edition)
            return
        starting = not self.associated
        self.associated = True

        def send(answer):
            self._sendXML(invokeID, answer, edition)
            if starting:
                namespace = edition.name if edition else "no namespace"
                self.log.info("CSTA XML link started ({e})", e=namespace)
                self._sendSystemStatus()

        self.answer(message, send)

    def _sendXML(self, invokeID, message, edition):
        self._send(xmlFrame(invokeID, message, edition))

    # --- services -------------------------------------------------------------

    def invoke(self, argument):
        """
        Send an invoke of the server's own (an event, SystemStatus, ...) in
        the link's encoding.
        """
        if not self.closed:
            self._sendInvoke(argument, operationFor(argument).name)

    def request(self, argument):
        """
        Send an invoke of the server's own that the client answers (a
        CallDetailRecordsReport, ...) and learn the answer: the hook for
        services of other components that must know what the client got.

        @return: a L{Deferred} firing with the client's result message, or
            failing with L{CSTAError} (its error, or C{invalidParameterValue}
            for a reject) or L{ConnectionDone} when the link closes first.
        """
        if self.closed:
            return fail(ConnectionDone("the CSTA link is closed"))
        answered = Deferred()
        self._sendInvoke(argument, answered)
        return answered

    def _failRequests(self):
        waiting = [d for d in self._pending.values() if isinstance(d, Deferred)]
        self._pending = {}
        for d in waiting:
            d.errback(ConnectionDone("the CSTA link closed before the answer"))

    def _sendInvoke(self, argument, waiter):
        """
        Send C{argument}; remember C{waiter} (the operation's name, or the
        L{Deferred} of L{request}) until the answer when it has a result.
        """
        operation = operationFor(argument)
        invokeID = self._nextInvokeID
        self._nextInvokeID = invokeID % (EVENT_INVOKE_ID - 1) + 1
        if operation.result is not None:
            self._pending[invokeID] = waiter
        if self.encoding is Encoding.XML:
            self._sendXML(invokeID, argument, self.edition)
        else:
            self._sendBER(m.Invoke(invokeID=invokeID, operation=operation.name, argument=argument))

    def _sendSystemStatus(self):
        self.invoke(m.SystemStatus(systemStatus=m.SystemStatusValue.normal))

    def answer(self, argument, send):
        """
        Answer one request: call C{send} with its result message or the
        L{UniversalFailure} refusing it, at once or when a registered
        service's handler has answered (unless the link closed meanwhile).
        Events the service causes at once follow its response, as CTI
        clients expect to learn the connection id before its events.

        Both encodings of a link answer through here, and so does CSTA over
        HTTP (L{oso.gserver.cstahttp}) with a link of its own per request.
        """
        self._heldEvents = []
        try:
            answer = self._serve(argument)
        finally:
            held, self._heldEvents = self._heldEvents, None
        if isinstance(answer, Deferred):
            answer.addCallback(lambda result: None if self.closed else send(result))
        else:
            send(answer)
        for event in held:
            self.sendEvent(event)

    def _serve(self, argument):
        handler = getattr(self, "_serve" + type(argument).__name__, None)
        if handler is not None:
            return handler(argument)
        if self.services is not None and self.services.handlerFor(type(argument)):
            return self.services.serve(self, argument)
        self.log.info("CSTA {service} not supported", service=type(argument).__name__)
        return SERVICE_NOT_SUPPORTED

    def _serveSystemStatus(self, argument):
        return m.SystemStatusResponse()

    def _serveRequestSystemStatus(self, argument):
        return m.RequestSystemStatusResponse(systemStatus=m.SystemStatusValue.normal)

    def _serveSystemRegister(self, argument):
        registration = str(self._crossRef())
        self._registrations.add(registration)
        return m.SystemRegisterResponse(
            sysStatRegisterID=registration, actualStatusFilter=argument.requestedStatusFilter
        )

    def _serveSystemRegisterCancel(self, argument):
        if argument.sysStatRegisterID not in self._registrations:
            return INVALID_CROSS_REF
        self._registrations.discard(argument.sysStatRegisterID)
        return m.SystemRegisterCancelResponse()

    def _serveGetSwitchingFunctionCapabilities(self, argument):
        return m.GetSwitchingFunctionCapabilitiesResponse(
            switchingSubDomainName="oso",
            manufacturerName="oso",
            profiles=frozenset({"basicTelephonyProfile"}),
            deviceIDFormat=frozenset({"dialableDigitsAsterix", "dialableDigitsHash"}),
            swDomainFeatures=frozenset(),
            swAppearanceAddressability=frozenset({"nonAddressable"}),
            swAppearanceTypes=frozenset(),
            ignoreUnsupportedParameters=m.IgnoreUnsupportedParameters.ignoreParameters,
            connectionView=m.ConnectionView.fixed,
            maxLengthParameters=m.MaxLengthParameters(**dict.fromkeys(_MAX_LENGTH_FIELDS, 32)),
            systemStatusTimer=int(self.heartbeatTimeout),
        )

    def _serveGetSwitchingFunctionDevices(self, argument):
        wanted = argument.requestedDeviceCategory
        entries = tuple(
            m.DeviceListEntry(deviceID=device.number, deviceCategory=_CATEGORIES[device.type][0])
            for device in self.callModel.devices()
            if argument.requestedDeviceID in (None, device.number)
            and (wanted is None or wanted is _CATEGORIES[device.type][1])
        )
        crossRef = str(self._crossRef())
        # ECMA-269 12.2.4: the devices follow the response, in
        # SwitchingFunctionDevices invokes.
        self.clock.callLater(
            0,
            self.invoke,
            m.SwitchingFunctionDevices(
                serviceCrossRefID=crossRef, lastSegment=True, deviceList=entries
            ),
        )
        return m.GetSwitchingFunctionDevicesResponse(serviceCrossRefID=crossRef)

    def _crossRef(self):
        value = self._nextCrossRef
        self._nextCrossRef += 1
        return value
