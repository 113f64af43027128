"""
The OpenAPI 3 document of the REST API, served at C{/api/v1/openapi.json}.

It is built from the same declarations the server checks requests with
(the L{oso.gserver.restinput.Body} of each request, the services table of
L{oso.gserver.restcalls}) and the schemas of what the handlers answer, so
the document and the server cannot drift apart silently; the tests run
schemathesis with it against a running server.
"""

from oso.gserver import restcalls, restdevices, reststatus, resttokens

#: Where the API lives on the G-Server.
BASE = "/api/v1"

_ERROR = {
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "description": "The error's name"},
        "detail": {"type": "string", "description": "Why, in a sentence"},
    },
}

_REASONS = {
    400: "The request's body or a parameter is not what the operation takes",
    401: "No valid bearer token or session",
    403: "Not allowed to this principal, or a session's request without its CSRF token",
    404: "No such device, call, connection or resource",
    409: "The exchange refuses the request in its present state; the error names "
    "the ECMA-269 universal failure",
    413: "The request body is too large",
    429: "Locked out after failed logins; see Retry-After",
}


#: What each path parameter is: a device number, a call id (the call
#: model numbers its calls), a token's SHA-256 in hex.
_PATTERNS = {"number": "^[0-9]{1,15}$", "callID": "^[0-9]{1,20}$", "tokenHash": "^[0-9a-f]{64}$"}

#: An example value of each path parameter, for people and test tools.
_EXAMPLES = {"number": "100", "callID": "1", "tokenHash": "0" * 64}


def _json(schema):
    return {"application/json": {"schema": schema}}


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _operation(operationID, summary, ok, errors, body=None, parameters=(), public=False,
               okStatus=200):
    """
    One operation: its summary, its request body schema and its responses
    (the success with C{ok}'s schema, and an error object for each of the
    C{errors} statuses).
    """
    responses = {}
    if okStatus == 204:
        responses["204"] = {"description": "Done"}
    else:
        responses[str(okStatus)] = {"description": "Done", "content": _json(ok)}
    codes = set(errors) | ({400, 413} if body is not None else set())
    if not public:
        codes |= {401, 403}
    if parameters:
        codes |= {400, 404}
    for code in sorted(codes):
        responses[str(code)] = {"description": _REASONS[code], "content": _json(_ref("Error"))}
    if parameters:
        # The site refuses a hostile path segment before the API sees it.
        responses["400"]["description"] += (
            "; a path that is not UTF-8 or holds '.', '..', '/', '\\' or NUL "
            "in a segment is refused by the site, as a page"
        )
        responses["400"]["content"]["text/html"] = {"schema": {"type": "string"}}
    operation = {"operationId": operationID, "summary": summary, "responses": responses}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": _json(body)}
    if parameters:
        operation["parameters"] = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {
                    "type": "string",
                    "pattern": _PATTERNS[name],
                    "example": _EXAMPLES[name],
                },
            }
            for name in parameters
        ]
    if public:
        operation["security"] = []
    return operation


def _list(name):
    return {"type": "array", "items": _ref(name)}


def _paths():
    device = ("number",)
    paths = {
        "/openapi.json": {"get": _operation(
            "openAPI", "This document", {"type": "object"}, (), public=True,
        )},
        "/tokens": {
            "post": _operation(
                "issueToken", "Log in and make a bearer token (shown once)", _ref("Token"),
                (401, 429), _ref("TokenRequest"), public=True, okStatus=201,
            ),
            "get": _operation(
                "listTokens", "The tokens issued (an extension's user: its own)",
                _list("TokenInfo"), (),
            ),
        },
        "/tokens/{tokenHash}": {"delete": _operation(
            "revokeToken", "Revoke a token named by its SHA-256 (hex)", None, (), None,
            ("tokenHash",), okStatus=204,
        )},
        "/me": {"get": _operation("me", "Who the token or session is", _ref("Principal"), ())},
        "/devices": {
            "get": _operation(
                "listDevices", "The devices this principal may control", _list("Device"), (),
            ),
            "post": _operation(
                "createDevice", "Create a device (administrators)", _ref("Device"), (409,),
                _ref("NewDevice"), okStatus=201,
            ),
        },
        "/devices/{number}": {
            "get": _operation("getDevice", "One device", _ref("Device"), (), None, device),
            "patch": _operation(
                "updateDevice", "Change a device's fields (administrators)", _ref("Device"),
                (409,), _ref("DeviceChange"), device,
            ),
            "delete": _operation(
                "deleteDevice",
                "Delete a device without calls that no group names (administrators)",
                None, (409,), None, device, okStatus=204,
            ),
        },
        "/devices/{number}/forwarding": {
            "get": _operation(
                "getForwarding", "The device's forwarding, one setting per type",
                _list("ForwardingSetting"), (409,), None, device,
            ),
            "put": _operation(
                "setForwarding", "Switch one type of forwarding on or off",
                _list("ForwardingSetting"), (409,), _ref("Forwarding"), device,
            ),
        },
        "/devices/{number}/donotdisturb": {
            "get": _operation(
                "getDoNotDisturb", "Whether do not disturb is on", _ref("DoNotDisturb"),
                (409,), None, device,
            ),
            "put": _operation(
                "setDoNotDisturb", "Switch do not disturb on or off", _ref("DoNotDisturb"),
                (409,), _ref("DoNotDisturb"), device,
            ),
        },
        "/devices/{number}/snapshot": {"get": _operation(
            "snapshotDevice", "The device's connections now", _list("Party"),
            (), None, device,
        )},
        "/calls": {"get": _operation(
            "listCalls", "The calls in progress this principal takes part in (all for "
            "administrators)", _list("Call"), (),
        )},
        "/calls/{callID}": {"get": _operation(
            "getCall", "A call and its connections (snapshot)", _ref("Call"), (), None,
            ("callID",),
        )},
        "/registrations": {"get": _operation(
            "listRegistrations", "The SIP registrations that have not expired",
            _list("Registration"), (),
        )},
        "/csta": {"get": _operation(
            "cstaLinks", "The CSTA links open now (administrators)", _ref("CSTALinks"), (),
        )},
        "/cdr": {"get": _operation(
            "cdrStatus", "The call data record journal's fill (administrators)",
            _ref("CDRStatus"), (),
        )},
    }
    paths["/events"] = {"get": _eventStream()}
    for service in restcalls.SERVICES:
        paths[f"/services/{service.name}"] = {"post": _operation(
            service.name, service.summary, service.resultSchema(), (404, 409),
            service.body.schema(),
        )}
    return paths


def _eventStream():
    """
    The event stream (L{oso.gserver.eventstream}): Server-Sent Events, its
    refusals plain text.
    """
    text = {"text/plain": {"schema": {"type": "string"}}}
    return {
        "operationId": "events",
        "summary": "Call model events as Server-Sent Events",
        "description": (
            "Each event is `id: <sequence number>`, `event: <type, e.g. "
            "DeliveredEvent>`, `data: <the event as JSON>`. Reconnecting with "
            "Last-Event-ID (or lastEventId) first replays the events missed "
            "from the server's bounded history; `event: gap` with "
            '`{"first": id, "lost": n}` says when it no longer holds them all. '
            "A client that reads too slowly gets `event: overflow` with "
            '`{"lastEventId": n}` and the stream ends. An extension\'s user '
            "sees the events of its own extension."
        ),
        "parameters": [
            {
                "name": "Last-Event-ID",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "pattern": "^[0-9]{1,19}$"},
            },
            {
                "name": "lastEventId",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "pattern": "^[0-9]{1,19}$"},
            },
        ],
        "responses": {
            "200": {
                "description": "The stream, until the client or the server ends it",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            },
            "400": {"description": "A bad Last-Event-ID", "content": text},
            "401": {"description": _REASONS[401], "content": text},
        },
    }


def _schemas():
    return {
        "Error": _ERROR,
        "Principal": resttokens.PRINCIPAL_SCHEMA,
        "TokenRequest": resttokens.TOKEN_REQUEST.schema(),
        "Token": resttokens.TOKEN_SCHEMA,
        "TokenInfo": resttokens.TOKEN_INFO_SCHEMA,
        "Device": restdevices.DEVICE_SCHEMA,
        "NewDevice": restdevices.NEW_DEVICE.schema(),
        "DeviceChange": restdevices.DEVICE_CHANGE.schema(partial=True),
        "ForwardingSetting": restdevices.FORWARDING_SCHEMA,
        "Forwarding": restdevices.FORWARDING.schema(),
        "DoNotDisturb": restdevices.DO_NOT_DISTURB.schema(),
        "Party": restcalls.PARTY_SCHEMA,
        "Call": restcalls.CALL_SCHEMA,
        "Registration": reststatus.REGISTRATION_SCHEMA,
        "CSTALinks": reststatus.CSTA_SCHEMA,
        "CDRStatus": reststatus.CDR_SCHEMA,
    }


def document():
    """
    @return: the OpenAPI 3.0 document as a L{dict}.
    """
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "oso REST API",
            "version": "1",
            "description": (
                "Devices, their features, calls and the ECMA-269 call control "
                "services of oso's call model, registrations, CSTA links and "
                "the call data record journal.  Authenticate with a bearer "
                "token from POST /tokens."
            ),
        },
        "servers": [{"url": BASE}],
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
