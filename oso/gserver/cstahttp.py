"""
CSTA over HTTP: C{POST /csta} with one ECMA-323 request document
(C{application/xml} or C{text/xml}), answered with its ECMA-323 response
document.

The request is read, served and answered by the code of a CSTA XML link:
L{oso.csta.link.readXMLRequest} reads it with the hardened parser, and a
L{oso.csta.link.CSTALink} of its own (one per HTTP request, closed once it
answered) serves it with L{oso.csta.link.CSTALink.answer}: the system
services the link answers itself, and every service the C{csta}
component's L{oso.csta.services.ServiceRegistry} offers (call control,
snapshots, features, monitors, CDR transmission, escapes).  Whatever a
service would send on the link later (a monitor's events) has nowhere to
go once the request is answered: the event stream is the HTTP way to
watch.

Answers:

  - 200 with the service's response, or with the C{CSTAErrorCode} it
    refused with (a CSTA answer, as on a link);
  - 400 with a C{CSTAErrorCode}: a document that cannot be read
    (C{invalidParameterValue}), a message this server does not know or
    that is no request (C{serviceNotSupported});
  - 401 (no session or bearer token) and 403 (an extension's user asking
    for a service on another device, or a browser session's request
    without its CSRF token) with C{securityViolation};
  - 413 for a body over L{MAX_BODY} bytes and 415 for another content
    type, with C{invalidParameterValue};

each refusal with a log line.  An administrator may use every service.
An extension's user may use the requests of L{SUBJECTS} only, and only
when every device the request's subject fields name (a device number, or
the device of a connection id) is its own extension.
"""

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.web.resource import Resource

from oso.callmodel.ids import ConnectionID
from oso.csta import messages as m
from oso.csta.framing import Encoding
from oso.csta.link import (
    AUTHENTICATION_REQUIRED,
    INVALID_PARAMETER,
    SERVICE_NOT_SUPPORTED,
    CSTALink,
    readXMLRequest,
)
from oso.csta.operations import BY_ARGUMENT, Direction
from oso.csta.wire import XML_CODEC
from oso.csta.xmlsafe import MAX_SIZE
from oso.gserver.answering import Departure, answerLater

#: The largest request body accepted, in bytes: what fits in one frame of
#: a CSTA XML link.
MAX_BODY = MAX_SIZE

#: The content types of an ECMA-323 document.
MEDIA_TYPES = frozenset({b"application/xml", b"text/xml"})

#: The fields naming the device a request acts for, by request type: what
#: an extension's user may use, on its own extension only.
SUBJECTS = {
    m.MakeCall: ("callingDevice",),
    m.AnswerCall: ("callToBeAnswered",),
    m.ClearConnection: ("connectionToBeCleared",),
    m.ClearCall: ("callToBeCleared",),
    m.HoldCall: ("callToBeHeld",),
    m.RetrieveCall: ("callToBeRetrieved",),
    m.ConsultationCall: ("existingCall",),
    m.AlternateCall: ("heldCall", "activeCall"),
    m.ReconnectCall: ("activeCall", "heldCall"),
    m.TransferCall: ("heldCall", "activeCall"),
    m.SingleStepTransferCall: ("activeCall",),
    m.ConferenceCall: ("heldCall", "activeCall"),
    m.DeflectCall: ("callToBeDiverted",),
    m.GenerateDigits: ("connectionToSendDigits",),
    m.DirectedPickupCall: ("requestingDevice",),
    m.GroupPickupCall: ("newDestination",),
    m.SetForwarding: ("device",),
    m.GetForwarding: ("device",),
    m.SetDoNotDisturb: ("device",),
    m.GetDoNotDisturb: ("device",),
    m.SnapshotDevice: ("snapshotObject",),
    m.SnapshotCall: ("snapshotObject",),
}


def subjectDevices(request):
    """
    The devices a request acts for, from its L{SUBJECTS} fields.

    @return: a L{list} of device numbers (L{None} for a connection id
        without a device), or L{None} for a request not in L{SUBJECTS}.
    """
    names = SUBJECTS.get(type(request))
    if names is None:
        return None
    values = [getattr(request, name) for name in names]
    return [v.deviceID if isinstance(v, ConnectionID) else v for v in values]


def mayUse(principal, request):
    """
    Whether C{principal} may send C{request}: an administrator any; an
    extension's user a request of L{SUBJECTS} whose subject devices are all
    its own.
    """
    if principal.administrator:
        return True
    devices = subjectDevices(request)
    return bool(devices) and all(d is not None and principal.mayControl(d) for d in devices)


class CSTAOverHTTP(Resource):
    """
    The resource at C{/csta}.
    """

    isLeaf = True
    log = Logger()

    def __init__(self, site):
        """
        @param site: the L{oso.interfaces.gserver.IGServerSite}; the
            services are its context's C{csta} component's registry.
        """
        super().__init__()
        self.site = site

    def render_POST(self, request):
        return answerLater(request, self._post(request), "CSTA over HTTP")

    async def _post(self, request):
        departure = Departure(request)
        principal = await self.site.principal(request)
        if departure.gone:
            return
        if principal is None:
            request.setHeader(b"WWW-Authenticate", b"Bearer")
            self._refuse(request, 401, AUTHENTICATION_REQUIRED, None, "not logged in")
            return
        if not self.site.checkCSRF(request):
            self._refuse(request, 403, AUTHENTICATION_REQUIRED, None, "no CSRF token")
            return
        mediaType = (request.getHeader(b"content-type") or b"").split(b";")[0].strip().lower()
        if mediaType not in MEDIA_TYPES:
            self._refuse(request, 415, INVALID_PARAMETER, None, f"content type {mediaType[:60]!r}")
            return
        length = request.getHeader(b"content-length")
        body = request.content.read(MAX_BODY + 1) if request.content is not None else b""
        if len(body) > MAX_BODY or (length is not None and length.isdigit() and int(length) > MAX_BODY):
            self._refuse(request, 413, INVALID_PARAMETER, None, f"body over {MAX_BODY} bytes")
            return
        edition, message, refusal = readXMLRequest(body, MAX_BODY)
        if refusal is not None:
            self._refuse(request, 400, refusal, edition, "unreadable CSTA document")
            return
        operation = BY_ARGUMENT.get(type(message))
        if operation is None or operation.direction is Direction.toClient:
            name = type(message).__name__
            self._refuse(request, 400, SERVICE_NOT_SUPPORTED, edition, f"{name} is no request")
            return
        if not mayUse(principal, message):
            why = f"{principal.name} may not use {type(message).__name__} on {subjectDevices(message)}"
            self._refuse(request, 403, AUTHENTICATION_REQUIRED, edition, why)
            return
        answer = await self._serve(message, edition, departure.finished)
        if departure.gone:
            return
        self.log.info(
            "CSTA over HTTP: {service} for {name}: {answer}",
            service=type(message).__name__,
            name=principal.name,
            answer=type(answer).__name__,
        )
        self._send(request, 200, answer, edition)

    def _serve(self, message, edition, finished):
        """
        Serve one request on a link of its own.

        @return: a L{Deferred} firing with the answer (a response message or
            a L{oso.callmodel.errors.UniversalFailure}).
        """
        csta = self.site.context.component("csta")
        link = CSTALink(
            self.site.clock,
            self.site.context.callModel,
            _discard,
            _discard,
            maxFrame=MAX_BODY,
            services=getattr(csta, "registry", None),
        )
        link.encoding = Encoding.XML
        link.edition = edition
        link.associated = True
        answered = Deferred()
        finished.addBoth(lambda _: link.close())
        link.answer(message, answered.callback)
        return answered.addBoth(_closing, link)

    def _send(self, request, code, message, edition):
        request.setResponseCode(code)
        request.setHeader(b"Content-Type", b"application/xml; charset=utf-8")
        request.write(XML_CODEC.encode(message, edition))
        request.finish()

    def _refuse(self, request, code, failure, edition, why):
        self.log.warn(
            "CSTA over HTTP refused ({code}) from {client}: {why}",
            code=code,
            client=getattr(request.getClientAddress(), "host", "?"),
            why=why,
        )
        self._send(request, code, failure, edition)


def _discard(*args):
    """
    Where a link of CSTA over HTTP sends after its answer, and how it
    closes: nowhere, nothing.
    """


def _closing(result, link):
    link.close()
    return result
