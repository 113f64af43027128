"""
Tests for the gadget API's request reading (L{oso.gserver.gadgetapi}):
any parameters give text or a L{GadgetError}, never another exception;
replies are XML.
"""

from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from oso.gserver.gadgetapi import MAX_VALUE, readParameters, xmlReply
from oso.gserver.gadgetcommands import GadgetError

names = st.binary(max_size=80) | st.sampled_from([b"cmd", b"gsPass", b"gsSession", b"deviceID"])
args = st.dictionaries(names, st.lists(st.binary(max_size=300), min_size=1, max_size=3),
                       max_size=40)


@given(args)
def test_anyParametersAreTextOrGadgetError(request):
    try:
        values = readParameters(b"/cgi-bin/gadgetapi", request)
    except GadgetError as e:
        assert e.status == 400 and e.reason.isprintable()
        return
    for name, value in values.items():
        assert name.isprintable() and value.isprintable() and len(value) <= MAX_VALUE
        assert [value.encode("utf-8")] == request[name.encode("utf-8")]


def test_refusals():
    for request, words in [
        ({b"a": [b"1", b"2"]}, "more than once"),
        ({b"a": [b"\xff"]}, "not UTF-8"),
        ({b"a": [b"x" * (MAX_VALUE + 1)]}, "longer than"),
        ({b"a": [b"\x00"]}, "control characters"),
        ({b"\n": [b"1"]}, "parameter name"),
        ({str(n).encode(): [b"1"] for n in range(33)}, "more than 32"),
    ]:
        try:
            readParameters(b"/", request)
        except GadgetError as e:
            assert words in e.reason
        else:
            raise AssertionError(f"{request!r} was accepted")
    try:
        readParameters(b"/?" + b"a" * 5000, {})
    except GadgetError as e:
        assert "longer than 4096 bytes" in e.reason


def test_xmlReplyEscapes():
    reply = xmlReply("MakeCall", [("RESULT", "ERROR"), ("REASON", "<&>\"'"),
                                  ("connection", [("callID", "1")])])
    root = etree.fromstring(reply)
    assert root.findtext("REASON") == "<&>\"'"
    assert root.findtext("connection/callID") == "1"
