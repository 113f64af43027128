"""
The REST API of the G-Server: JSON under C{/api/v1}, one klein app.

Every route but the OpenAPI document and C{POST /tokens} needs a principal
(L{IGServerSite.principal}: a bearer token or the management's session
cookie), answered 401 without one; a state-changing request on a session
cookie must carry its CSRF token (403).  The handlers live with their
resources (L{oso.gserver.restdevices}, L{oso.gserver.restcalls},
L{oso.gserver.reststatus}, L{oso.gserver.resttokens}), and the event
stream at C{/events} is L{oso.gserver.eventstream}; this module routes to them and turns what
they return or raise into the response: JSON with the status, or an error
object C{{"error": name, "detail": sentence}} and a log line.
"""

import json

from klein import Klein
from twisted.internet.defer import ensureDeferred
from twisted.logger import Logger
from werkzeug.exceptions import MethodNotAllowed, NotFound

from oso.gserver import openapi
from oso.gserver.eventstream import EventStream
from oso.gserver.restcalls import CallResources
from oso.gserver.restdevices import DeviceResources
from oso.gserver.restinput import APIError
from oso.gserver.reststatus import StatusResources
from oso.gserver.resttokens import TokenResources, clientAddress

_SAFE_METHODS = (b"GET", b"HEAD")


class RestAPI:
    """
    The REST API of one G-Server.

    @ivar site: the L{oso.interfaces.IGServerSite}.
    """

    app = Klein()
    log = Logger()

    def __init__(self, site):
        self.site = site
        self.devices = DeviceResources(site)
        self.calls = CallResources(site)
        self.status = StatusResources(site)
        self.tokens = TokenResources(site)
        self.events = EventStream(site)
        self._document = json.dumps(openapi.document()).encode("utf-8")

    def resource(self):
        """
        @return: the L{IResource} to serve at C{/api}.
        """
        return self.app.resource()

    # Answers.

    def _json(self, request, status, body):
        request.setResponseCode(status)
        if status == 204:
            return b""
        request.setHeader(b"content-type", b"application/json")
        request.setHeader(b"cache-control", b"no-store")
        return json.dumps(body).encode("utf-8")

    def _error(self, request, error):
        self.log.info(
            "REST {method} {path} from {client}: {status} {error}: {detail}",
            method=request.method.decode("ascii", "replace"),
            path=request.path.decode("ascii", "replace")[:200],
            client=clientAddress(request),
            status=error.status,
            error=error.error,
            detail=error.detail,
        )
        for name, value in error.headers.items():
            request.setHeader(name.encode("ascii"), value.encode("ascii"))
        return self._json(request, error.status, {"error": error.error, "detail": error.detail})

    def _serve(self, request, handler, public=False, **arguments):
        """
        Answer a request with C{handler(principal, request, **arguments)}
        once its principal is known (and its CSRF token checked), or with
        C{handler(request)} for a C{public} route.
        """
        return ensureDeferred(self._answer(request, handler, public, arguments))

    async def _answer(self, request, handler, public, arguments):
        try:
            if public:
                status, body = await handler(request)
                return self._json(request, status, body)
            principal = await self.site.principal(request)
            if principal is None:
                raise APIError(
                    401, "unauthorized", "send a bearer token or log in",
                    {"WWW-Authenticate": 'Bearer realm="oso"'},
                )
            if request.method not in _SAFE_METHODS and not self.site.checkCSRF(request):
                raise APIError(403, "csrf", "a session's request needs its X-CSRF-Token")
            status, body = await handler(principal, request, **arguments)
        except APIError as e:
            return self._error(request, e)
        except Exception:
            self.log.failure("REST {method} {path} failed", method=request.method,
                             path=request.path)
            return self._error(request, APIError(500, "internal", "the server failed"))
        return self._json(request, status, body)

    @app.handle_errors(NotFound)
    def notFound(self, request, failure):
        return self._error(request, APIError(404, "notFound", "there is no such resource"))

    @app.handle_errors(MethodNotAllowed)
    def methodNotAllowed(self, request, failure):
        allowed = ", ".join(failure.value.valid_methods or ())
        return self._error(
            request, APIError(405, "methodNotAllowed", "not a method of this resource",
                              {"Allow": allowed})
        )

    # Routes without a principal.

    @app.route("/v1/openapi.json", methods=["GET"])
    def openAPI(self, request):
        request.setHeader(b"content-type", b"application/json")
        return self._document

    @app.route("/v1/tokens", methods=["POST"])
    def issueToken(self, request):
        return self._serve(request, self.tokens.issue, public=True)

    # Routes for a principal.

    @app.route("/v1/tokens", methods=["GET"])
    def listTokens(self, request):
        return self._serve(request, self.tokens.list)

    @app.route("/v1/tokens/<tokenHash>", methods=["DELETE"])
    def revokeToken(self, request, tokenHash):
        return self._serve(request, self.tokens.revoke, tokenHash=tokenHash)

    @app.route("/v1/me", methods=["GET"])
    def me(self, request):
        return self._serve(request, self.tokens.me)

    @app.route("/v1/devices", methods=["GET"])
    def listDevices(self, request):
        return self._serve(request, self.devices.list)

    @app.route("/v1/devices", methods=["POST"])
    def createDevice(self, request):
        return self._serve(request, self.devices.create)

    @app.route("/v1/devices/<number>", methods=["GET"])
    def getDevice(self, request, number):
        return self._serve(request, self.devices.get, number=number)

    @app.route("/v1/devices/<number>", methods=["PATCH"])
    def updateDevice(self, request, number):
        return self._serve(request, self.devices.update, number=number)

    @app.route("/v1/devices/<number>", methods=["DELETE"])
    def deleteDevice(self, request, number):
        return self._serve(request, self.devices.delete, number=number)

    @app.route("/v1/devices/<number>/forwarding", methods=["GET"])
    def getForwarding(self, request, number):
        return self._serve(request, self.devices.getForwarding, number=number)

    @app.route("/v1/devices/<number>/forwarding", methods=["PUT"])
    def setForwarding(self, request, number):
        return self._serve(request, self.devices.setForwarding, number=number)

    @app.route("/v1/devices/<number>/donotdisturb", methods=["GET"])
    def getDoNotDisturb(self, request, number):
        return self._serve(request, self.devices.getDoNotDisturb, number=number)

    @app.route("/v1/devices/<number>/donotdisturb", methods=["PUT"])
    def setDoNotDisturb(self, request, number):
        return self._serve(request, self.devices.setDoNotDisturb, number=number)

    @app.route("/v1/devices/<number>/snapshot", methods=["GET"])
    def snapshotDevice(self, request, number):
        return self._serve(request, self.devices.snapshot, number=number)

    @app.route("/v1/calls", methods=["GET"])
    def listCalls(self, request):
        return self._serve(request, self.calls.list)

    @app.route("/v1/calls/<callID>", methods=["GET"])
    def getCall(self, request, callID):
        return self._serve(request, self.calls.get, callID=callID)

    @app.route("/v1/services/<name>", methods=["POST"])
    def invoke(self, request, name):
        return self._serve(request, self.calls.invoke, name=name)

    @app.route("/v1/registrations", methods=["GET"])
    def registrations(self, request):
        return self._serve(request, self.status.registrations)

    @app.route("/v1/csta", methods=["GET"])
    def csta(self, request):
        return self._serve(request, self.status.csta)

    @app.route("/v1/cdr", methods=["GET"])
    def cdr(self, request):
        return self._serve(request, self.status.cdr)

    @app.route("/v1/events", methods=["GET"])
    def eventStream(self, request):
        """
        The event stream (L{oso.gserver.eventstream}), which checks its
        principal itself.
        """
        return self.events
