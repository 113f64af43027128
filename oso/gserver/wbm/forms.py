"""
The fields of a submitted form: decoded, bounded and checked, or refused
with a L{FormError} whose message the page shows.
"""

import re

#: The longest value a form field may have.
MAX_FIELD = 256

_NUMBER = re.compile(r"[0-9]{1,15}\Z")
_DIAL_STRING = re.compile(r"[0-9*#]{1,32}\Z")


class FormError(ValueError):
    """
    A form field is missing or unusable; the message names it.
    """


def field(request, name, required=True, maxLength=MAX_FIELD, strip=True):
    """
    One field of a form (or the query), as text.

    @param request: the L{IRequest}.
    @param name: the field's name.
    @param required: whether an empty or missing field is refused.
    @param maxLength: the most characters the value may have.
    @param strip: whether surrounding blanks are removed (not from a
        password).
    @return: the value; C{""} for a missing optional field.
    @raise FormError: when it is missing, too long, not UTF-8 or holds
        control characters.
    """
    values = request.args.get(name.encode("ascii"), [])
    if len(values) > 1:
        raise FormError(f"{name}: given more than once")
    try:
        value = values[0].decode("utf-8") if values else ""
    except UnicodeDecodeError:
        raise FormError(f"{name}: not UTF-8 text") from None
    if strip:
        value = value.strip()
    if len(value) > maxLength:
        raise FormError(f"{name}: longer than {maxLength} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise FormError(f"{name}: control characters are not allowed")
    if required and not value:
        raise FormError(f"{name}: required")
    return value


def deviceNumber(request, name="number"):
    """
    A field holding a device number: 1 to 15 digits.

    @raise FormError: when it is anything else.
    """
    value = field(request, name, maxLength=15)
    if not _NUMBER.match(value):
        raise FormError(f"{name}: 1 to 15 digits")
    return value


def numbers(request, name, most):
    """
    A field holding up to C{most} distinct numbers of 1 to 15 digits,
    separated by blanks or commas.

    @return: the numbers, in order, as a tuple (empty for an empty field).
    @raise FormError: when a number is malformed, listed twice, or there
        are too many.
    """
    text = field(request, name, required=False)
    values = tuple(value for value in re.split(r"[\s,]+", text) if value)
    for value in values:
        if not _NUMBER.match(value):
            raise FormError(f"{name}: {value} is not 1 to 15 digits")
    if len(set(values)) != len(values):
        raise FormError(f"{name}: a number is listed twice")
    if len(values) > most:
        raise FormError(f"{name}: at most {most} numbers")
    return values


def checkbox(request, name):
    """
    A checkbox: C{on} when ticked, absent (or empty) when not.

    @return: whether it is ticked.
    @raise FormError: for any other value.
    """
    value = field(request, name, required=False)
    if value not in ("", "on"):
        raise FormError(f"{name}: on, or nothing")
    return value == "on"


def optionalNumber(request, name):
    """
    A field holding a number of 1 to 15 digits, or nothing.

    @return: the number, or C{None} for an empty field.
    @raise FormError: when it holds anything else.
    """
    value = field(request, name, required=False, maxLength=15)
    if value and not _NUMBER.match(value):
        raise FormError(f"{name}: 1 to 15 digits")
    return value or None


def dialString(request, name, required=True):
    """
    A field holding a number to dial (digits, C{*}, C{#}); C{""} when
    optional and empty.

    @raise FormError: when it holds anything else.
    """
    value = field(request, name, required=required, maxLength=32)
    if value and not _DIAL_STRING.match(value):
        raise FormError(f"{name}: digits, * and # only")
    return value


def choice(request, name, choices):
    """
    A field whose value must be one of C{choices}.

    @raise FormError: when it is not.
    """
    value = field(request, name)
    if value not in choices:
        raise FormError(f"{name}: one of {', '.join(choices)}")
    return value
