"""
The REST API of the G-Server: JSON under C{/api/v1}, one klein app.

Every route but the OpenAPI document and C{POST /tokens} needs a principal
(L{IGServerSite.principal}: a bearer token or the management's session
cookie), answered 401 without one; a state-changing request on a session
cookie must carry its CSRF token (403).  The handlers live with their
resources (L{oso.gserver.restdevices}, L{oso.gserver.restcalls},
L{oso.gserver.reststatus}, L{oso.gserver.resttokens}), and the event
stream at C{/events} is L{oso.gserver.eventstream}.  This module routes to
them and turns what they return or raise into the response: JSON with the
status, or an error object C{{"error": name, "detail": sentence}} and a
log line.
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

#: The routes for a principal: path, method, and the handler as the
#: attribute of L{RestAPI} holding the resources and the method's name.
ROUTES = (
    ("/v1/me", "GET", "tokens", "me"),
    ("/v1/tokens", "GET", "tokens", "list"),
    ("/v1/tokens/<tokenHash>", "DELETE", "tokens", "revoke"),
    ("/v1/devices", "GET", "devices", "list"),
    ("/v1/devices", "POST", "devices", "create"),
    ("/v1/devices/<number>", "GET", "devices", "get"),
    ("/v1/devices/<number>", "PATCH", "devices", "update"),
    ("/v1/devices/<number>", "DELETE", "devices", "delete"),
    ("/v1/devices/<number>/forwarding", "GET", "devices", "getForwarding"),
    ("/v1/devices/<number>/forwarding", "PUT", "devices", "setForwarding"),
    ("/v1/devices/<number>/donotdisturb", "GET", "devices", "getDoNotDisturb"),
    ("/v1/devices/<number>/donotdisturb", "PUT", "devices", "setDoNotDisturb"),
    ("/v1/devices/<number>/snapshot", "GET", "devices", "snapshot"),
    ("/v1/calls", "GET", "calls", "list"),
    ("/v1/calls/<callID>", "GET", "calls", "get"),
    ("/v1/services/<name>", "POST", "calls", "invoke"),
    ("/v1/registrations", "GET", "status", "registrations"),
    ("/v1/csta", "GET", "status", "csta"),
    ("/v1/cdr", "GET", "status", "cdr"),
)


def _routeTo(resources, handler):
    """
    A route's function: serve the request with the handler C{handler} of
    the resources C{resources} of the L{RestAPI}.
    """

    def route(self, request, **arguments):
        return self._serve(request, getattr(getattr(self, resources), handler), **arguments)

    return route


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

    for _path, _method, _resources, _handler in ROUTES:
        app.route(_path, methods=[_method], endpoint=f"{_resources}.{_handler}")(
            _routeTo(_resources, _handler)
        )
    del _path, _method, _resources, _handler

    @app.route("/v1/events", methods=["GET"])
    def eventStream(self, request):
        """
        The event stream (L{oso.gserver.eventstream}), which checks its
        principal itself.
        """
        return self.events
