"""
The Replaces header field of RFC 3891, sans-I/O: reading, writing, and the
UAS rules of section 3 that accept or refuse an INVITE carrying it.
"""

import pytest
from hypothesis import given, strategies as st

from oso.sip.dialog import DialogID
from oso.sip.message import Request
from oso.sip.replaces import Replaces, ReplacedDialog, parseReplaces, refusal, replacesOf
from oso.sip.uri import SIPParseError, SIPURI


def test_parse_rfc3891_example():
    """
    RFC 3891 6.1: the Call-ID, to-tag and from-tag (any order of the
    parameters), early-only; the named dialog seen from the recipient.
    """
    r = parseReplaces("98732@sip.example.com ;from-tag=r33th4x0r;to-tag=ff87ff;early-only")
    assert r == Replaces("98732@sip.example.com", "ff87ff", "r33th4x0r", True)
    assert r.dialogID == DialogID("98732@sip.example.com", "ff87ff", "r33th4x0r")


def test_write_and_read_again():
    """
    What is written reads back the same, with and without early-only.
    """
    for r in (Replaces("a@b", "1", "2"), Replaces("x", "t", "f", True)):
        assert parseReplaces(str(r)) == r
    assert str(Replaces("a@b", "1", "2")) == "a@b;to-tag=1;from-tag=2"


@pytest.mark.parametrize("text", [
    "", ";to-tag=1;from-tag=2", "abc;to-tag=1", "abc;from-tag=2", "abc;to-tag=;from-tag=2",
    "abc;to-tag=1;to-tag=1;from-tag=2", "a b;to-tag=1;from-tag=2", "abc;to-tag=1;from-tag=2;",
])
def test_malformed_values_are_refused(text):
    """
    RFC 3891 6.1: both tags are required; anything else is a parse error
    (400).
    """
    with pytest.raises(SIPParseError):
        parseReplaces(text)


@given(st.text(max_size=60))
def test_arbitrary_text_gives_only_the_codec_error(text):
    """
    Arbitrary text either reads or raises SIPParseError.
    """
    try:
        parseReplaces(text)
    except SIPParseError:
        pass


def _invite(*values):
    request = Request("INVITE", SIPURI("127.0.0.1", user="201"))
    for value in values:
        request.headers.add("replaces", value)
    return request


def test_replaces_of_a_request():
    """
    RFC 3891 3: none is None; one is read; more than one is a 400.
    """
    assert replacesOf(_invite()) is None
    assert replacesOf(_invite("c;to-tag=1;from-tag=2")).callID == "c"
    with pytest.raises(SIPParseError):
        replacesOf(_invite("c;to-tag=1;from-tag=2", "d;to-tag=1;from-tag=2"))


def test_no_matching_dialog_is_481():
    """
    RFC 3891 3: no match (or several) gets 481.
    """
    assert refusal(Replaces("c", "1", "2"), None)[0] == 481


def test_ended_dialog_is_declined():
    """
    RFC 3891 3: a dialog already over gets 603.
    """
    assert refusal(Replaces("c", "1", "2"), ReplacedDialog(False, True, True))[0] == 603


def test_confirmed_dialog_is_replaced_unless_early_only():
    """
    RFC 3891 3: a confirmed dialog is replaced (BYE), unless early-only
    asks for an early one: 486.
    """
    confirmed = ReplacedDialog(early=False, initiatedHere=False)
    assert refusal(Replaces("c", "1", "2"), confirmed) is None
    assert refusal(Replaces("c", "1", "2", True), confirmed)[0] == 486


def test_early_dialog_only_when_we_started_it():
    """
    RFC 3891 3: an early dialog this UA started is replaced (CANCEL); one
    it did not start cannot be, 481.
    """
    assert refusal(Replaces("c", "1", "2", True), ReplacedDialog(True, True)) is None
    assert refusal(Replaces("c", "1", "2"), ReplacedDialog(True, False))[0] == 481
