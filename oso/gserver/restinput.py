"""
What a REST request carries, checked: its JSON body (read within a size
limit) and its typed fields.

Each field is declared once as a L{Field} of a L{Kind}; the same
declaration checks a request and writes the field's schema in the OpenAPI
document, so the document says exactly what the server accepts.  Anything
else is an L{APIError}, answered as JSON with a 4xx status.
"""

import json
import re
from dataclasses import dataclass, field

from oso.callmodel.ids import ConnectionID

#: The largest request body read, in bytes.
MAX_BODY = 64 * 1024


class APIError(Exception):
    """
    A request the REST API refuses: an HTTP status, a short error name and
    a sentence saying why.

    @ivar status: the HTTP status code.
    @ivar error: the error's name, for programs (C{"badJSON"}).
    @ivar detail: a sentence for people.
    @ivar headers: extra response headers (C{{name: value}}).
    """

    def __init__(self, status, error, detail, headers=None):
        super().__init__(f"{status} {error}: {detail}")
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers or {}


def badParameter(name, expected):
    """
    @return: the L{APIError} for a field of the wrong type or value.
    """
    return APIError(400, "badParameter", f"{name}: expected {expected}")


def readBody(request, limit=MAX_BODY):
    """
    The request's body as a JSON object.

    @param request: a L{twisted.web.iweb.IRequest}.
    @param limit: the most bytes accepted.
    @return: a L{dict}; an empty body is an empty object.
    @raise APIError: 413 for a body over C{limit}, 400 for one that is not
        UTF-8 JSON holding an object.
    """
    length = request.getHeader(b"content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise _tooLarge(limit)
    content = request.content
    if content is None:
        return {}
    content.seek(0, 2)
    if content.tell() > limit:
        raise _tooLarge(limit)
    content.seek(0)
    data = content.read()
    if not data.strip():
        return {}
    try:
        body = json.loads(data.decode("utf-8"), parse_constant=_noConstant)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise APIError(400, "badJSON", f"the body is not UTF-8 JSON: {e}") from None
    if not isinstance(body, dict):
        raise APIError(400, "badJSON", "the body must be a JSON object")
    return body


def _tooLarge(limit):
    return APIError(413, "bodyTooLarge", f"a request body holds at most {limit} bytes")


def _noConstant(name):
    raise ValueError(f"{name} is not a JSON number")


@dataclass(frozen=True)
class Kind:
    """
    A type of field: how to check a JSON value and its OpenAPI schema.

    @ivar schema: the OpenAPI 3.0 schema object.
    @ivar check: C{value -> bool}, whether a JSON value is of this kind.
    @ivar convert: C{value -> value}, the checked value as the call model
        wants it.
    @ivar expected: what a valid value is, for the error sentence.
    """

    schema: dict
    check: object
    expected: str
    convert: object = None

    def parse(self, name, value):
        """
        @return: C{value} checked and converted.
        @raise APIError: 400 when it is not of this kind.
        """
        if not self.check(value):
            raise badParameter(name, self.expected)
        return self.convert(value) if self.convert is not None else value

    def orNull(self):
        """
        @return: this kind, or JSON C{null}.
        """
        return Kind(
            dict(self.schema, nullable=True),
            lambda v: v is None or self.check(v),
            f"{self.expected} or null",
            None if self.convert is None else lambda v: v if v is None else self.convert(v),
        )


def text(maxLength, minLength=0, pattern=None, expected=None):
    """
    @return: the L{Kind} of a string of C{minLength} to C{maxLength}
        characters, matching C{pattern} (a regular expression without
        anchors) when given.
    """
    schema = {"type": "string", "minLength": minLength, "maxLength": maxLength}
    compiled = None
    if pattern is not None:
        schema["pattern"] = f"^{pattern}$"
        compiled = re.compile(pattern)

    def check(value):
        return (
            isinstance(value, str)
            and minLength <= len(value) <= maxLength
            and (compiled is None or compiled.fullmatch(value) is not None)
        )

    return Kind(schema, check, expected or f"a string of {minLength} to {maxLength} characters")


def choice(names, convert=None):
    """
    @return: the L{Kind} of one of the strings C{names}, converted with
        C{convert} when given.
    """
    names = list(names)
    return Kind(
        {"type": "string", "enum": names},
        lambda v: isinstance(v, str) and v in names,
        "one of " + ", ".join(names),
        convert,
    )


def member(enumType):
    """
    @return: the L{Kind} of an enumeration member given by name.
    """
    return choice([m.name for m in enumType], lambda name: enumType[name])


def integer(minimum, maximum):
    """
    @return: the L{Kind} of a whole number from C{minimum} to C{maximum}.
    """
    return Kind(
        {"type": "integer", "minimum": minimum, "maximum": maximum},
        lambda v: type(v) is int and minimum <= v <= maximum,
        f"a whole number from {minimum} to {maximum}",
    )


def listOf(kind, maxItems):
    """
    @return: the L{Kind} of an array of up to C{maxItems} values of C{kind},
        converted to a tuple.
    """
    return Kind(
        {"type": "array", "items": kind.schema, "maxItems": maxItems},
        lambda v: isinstance(v, list) and len(v) <= maxItems and all(map(kind.check, v)),
        f"an array of up to {maxItems} of {kind.expected}",
        lambda v: tuple(kind.parse("item", item) for item in v),
    )


BOOLEAN = Kind({"type": "boolean"}, lambda v: isinstance(v, bool), "true or false")

#: A device or directory number as the call model takes it; the model
#: itself says whether there is such a device or route.
NUMBER = text(32, 1, expected="a number (a string of 1 to 32 characters)")

#: The number of a new device: 1 to 15 digits, like the configuration's.
DEVICE_NUMBER = text(15, 1, "[0-9]+", "1 to 15 digits")

CALL_ID = text(32, 1, expected="a call id (a string of 1 to 32 characters)")

CONNECTION = Kind(
    {
        "type": "object",
        "required": ["callID", "deviceID"],
        "additionalProperties": False,
        "properties": {"callID": CALL_ID.schema, "deviceID": NUMBER.schema},
    },
    lambda v: isinstance(v, dict)
    and set(v) == {"callID", "deviceID"}
    and CALL_ID.check(v["callID"])
    and NUMBER.check(v["deviceID"]),
    'a connection {"callID": ..., "deviceID": ...}',
    lambda v: ConnectionID(v["callID"], v["deviceID"]),
)


@dataclass(frozen=True)
class Field:
    """
    One member of a request's JSON object.
    """

    name: str
    kind: Kind
    required: bool = True
    description: str = ""


@dataclass(frozen=True)
class Body:
    """
    The JSON object a request sends: its fields, nothing else.
    """

    fields: tuple = field(default_factory=tuple)

    def parse(self, obj, partial=False):
        """
        Check a request's object against the fields.

        @param obj: the decoded body.
        @param partial: whether required fields may be left out (an update).
        @return: C{{name: converted value}} for the fields given.
        @raise APIError: 400 naming the first field that is unknown,
            missing or of the wrong kind.
        """
        known = {f.name: f for f in self.fields}
        for name in obj:
            if name not in known:
                raise APIError(400, "badParameter", f"{name}: unknown field")
        result = {}
        for f in self.fields:
            if f.name in obj:
                result[f.name] = f.kind.parse(f.name, obj[f.name])
            elif f.required and not partial:
                raise APIError(400, "badParameter", f"{f.name}: required")
        return result

    def schema(self, partial=False):
        """
        @return: the OpenAPI schema of the object.
        """
        schema = {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                f.name: dict(f.kind.schema, description=f.description)
                if f.description
                else f.kind.schema
                for f in self.fields
            },
        }
        required = [f.name for f in self.fields if f.required]
        if required and not partial:
            schema["required"] = required
        return schema


def requireAdministrator(principal):
    """
    @raise APIError: 403 unless C{principal} is an administrator.
    """
    if not principal.administrator:
        raise APIError(403, "forbidden", "only an administrator may do this")


def requireControl(principal, device):
    """
    @raise APIError: 403 unless C{principal} may control C{device}.
    """
    if not principal.mayControl(device):
        raise APIError(403, "forbidden", f"{principal.name} may not control {device}")


#: The HTTP status of each ECMA-269 failure the call model gives that is
#: not 409 (the request conflicts with the state of the exchange).
_FAILURE_STATUS = {
    "invalidDeviceID": 404,
    "invalidCallingDeviceID": 404,
    "invalidCalledDeviceID": 404,
    "invalidCallID": 404,
    "invalidConnectionID": 404,
    "invalidDestination": 400,
    "invalidForwardingDestination": 400,
    "invalidParameterValue": 400,
    "privilegeViolationSpecifiedDevice": 403,
}


def refusal(error):
    """
    A call model refusal as an API error named for its universal failure.

    @param error: an L{oso.callmodel.errors.CSTAError}.
    @return: an L{APIError}: 404 for an unknown device, call or
        connection, 400 for a bad destination or value, otherwise 409.
    """
    status = _FAILURE_STATUS.get(error.failure.value, 409)
    return APIError(status, error.failure.value, error.reason or str(error.failure))
