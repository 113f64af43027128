"""
The REST API's request checking (L{oso.gserver.restinput}) and its OpenAPI
document (L{oso.gserver.openapi}), without a server: bodies within the
size limit, typed fields, the call model's refusals as HTTP statuses, and
a document that is valid OpenAPI 3.0 and names exactly the routes the
klein app serves.
"""

import io
import json
import re

import pytest
from openapi_spec_validator import validate
from twisted.web.test.requesthelper import DummyRequest

from oso.callmodel import errors
from oso.callmodel.devices import DeviceType, ForwardingType, HuntMode
from oso.callmodel.ids import ConnectionID
from oso.gserver import openapi
from oso.gserver import restinput as i
from oso.gserver.rest import RestAPI
from oso.gserver.restcalls import SERVICES
from oso.gserver.restdevices import FORWARDING, NEW_DEVICE
from oso.gserver.restinput import APIError


def request(body, contentLength=None):
    req = DummyRequest([b""])
    req.content = io.BytesIO(body)
    if contentLength is not None:
        req.requestHeaders.setRawHeaders(b"content-length", [contentLength])
    return req


def refused(f, *args, **kw):
    with pytest.raises(APIError) as caught:
        f(*args, **kw)
    return caught.value


def test_bodyObject():
    """
    A UTF-8 JSON object is read as a dict; an empty body is an empty
    object.
    """
    assert i.readBody(request(b'{"a": [1, "\xc3\xa9"]}')) == {"a": [1, "\u00e9"]}
    assert i.readBody(request(b"  ")) == {}


@pytest.mark.parametrize(
    "body",
    [b"{bad", b"[1, 2]", b'"text"', b"\xff\xfe{}", b'{"a": NaN}', b"[" * 100_000],
)
def test_badJSON(body):
    """
    A body that is not UTF-8 JSON holding an object (bad syntax, another
    type, bad UTF-8, NaN, nesting deep enough to exhaust the parser) is 400
    badJSON, never another exception.
    """
    error = refused(i.readBody, request(body[: i.MAX_BODY]))
    assert (error.status, error.error) == (400, "badJSON")


def test_tooLarge():
    """
    A body over the limit is 413, whether its Content-Length says so or
    only its length does.
    """
    assert refused(i.readBody, request(b"{}", b"%d" % (i.MAX_BODY + 1))).status == 413
    big = b'{"a": "' + b"x" * i.MAX_BODY + b'"}'
    assert refused(i.readBody, request(big)).status == 413
    assert i.readBody(request(b'{"a": 1}', b"8")) == {"a": 1}


def test_fields():
    """
    A body's fields are checked by kind and converted: enumerations by
    name, connections to L{ConnectionID}s, and null where allowed.
    """
    assert FORWARDING.parse(
        {"forwardingType": "forwardBusy", "active": True, "destination": None}
    ) == {"forwardingType": ForwardingType.forwardBusy, "active": True, "destination": None}
    assert NEW_DEVICE.parse({"number": "300", "type": "group", "huntMode": "parallel"}) == {
        "number": "300", "type": DeviceType.group, "huntMode": HuntMode.parallel,
    }
    (answerCall,) = [s for s in SERVICES if s.name == "answerCall"]
    assert answerCall.body.parse({"callToBeAnswered": {"callID": "3", "deviceID": "100"}}) == {
        "callToBeAnswered": ConnectionID("3", "100")
    }


@pytest.mark.parametrize(
    "obj, field",
    [
        ({"number": "12a"}, "number"),
        ({"number": 100}, "number"),
        ({}, "number"),
        ({"number": "100", "colour": "red"}, "colour"),
        ({"number": "100", "pickupGroup": True}, "pickupGroup"),
        ({"number": "100", "pickupGroup": 1.5}, "pickupGroup"),
        ({"number": "100", "type": "fax"}, "type"),
        ({"number": "100", "members": "101"}, "members"),
        ({"number": "100", "members": ["101", 102]}, "members"),
        ({"number": "100", "password": "short"}, "password"),
        ({"number": "100", "name": None}, "name"),
    ],
)
def test_badFields(obj, field):
    """
    An unknown, missing or mistyped field is 400 badParameter naming it
    (a boolean is no integer, an integer no string).
    """
    error = refused(NEW_DEVICE.parse, obj)
    assert (error.status, error.error) == (400, "badParameter")
    assert error.detail.startswith(field + ":")


def test_partial():
    """
    An update may leave required fields out; a create may not.
    """
    assert FORWARDING.parse({"active": False}, partial=True) == {"active": False}
    assert refused(FORWARDING.parse, {"active": False}).status == 400


@pytest.mark.parametrize(
    "error, status",
    [
        (errors.invalidDeviceID("x"), 404),
        (errors.invalidConnectionID("x"), 404),
        (errors.invalidCallID("x"), 404),
        (errors.invalidDestination("x"), 400),
        (errors.invalidCallState("x"), 409),
        (errors.resourceBusy("x"), 409),
        (errors.deviceOutOfService("x"), 409),
        (errors.generic("x"), 409),
    ],
)
def test_refusal(error, status):
    """
    A call model refusal keeps its universal failure's name and gets the
    status that fits: 404 for unknown objects, 400 for bad values, 409
    for the state of the exchange.
    """
    api = refused(_raise, i.refusal(error))
    assert (api.status, api.error, api.detail) == (status, error.failure.value, "x")


def _raise(error):
    raise error


def test_documentValid():
    """
    The OpenAPI document is valid OpenAPI 3.0 and JSON.
    """
    document = openapi.document()
    validate(document)
    json.dumps(document)


def test_documentNamesEveryRoute():
    """
    The document describes exactly the operations the klein app routes
    (one per service), so no route is undocumented and no documented one
    missing.
    """
    routed = set()
    for rule in RestAPI.app.url_map.iter_rules():
        path = re.sub(r"<(\w+)>", r"{\1}", rule.rule[len("/v1"):])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routed.add((method.lower(), path))
    routed = {
        (method, path.replace("{name}", name))
        for method, path in routed
        for name in ([s.name for s in SERVICES] if "{name}" in path else ["{name}"])
    }
    documented = {
        (method, path)
        for path, operations in openapi.document()["paths"].items()
        for method in operations
    }
    assert routed == documented
