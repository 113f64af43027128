"""
Hardened parsing of XML that arrives from the network.

A CSTA XML client is untrusted: its document must not expand entities
(billion laughs, quadratic blowup), reach files or the network (external
entities, DTDs), nest deeper than any ECMA-323 message does, or be larger than
a frame. L{parseXML} refuses all of that before or while lxml parses, and
hands back the root element of a document that is plain UTF-8 XML.
"""

import re

from lxml import etree

#: The default largest document accepted, in bytes: what fits in one frame.
MAX_SIZE = 0xFFFF

#: The default deepest element nesting accepted (the root is at depth 1).
#: ECMA-323 messages nest about eight deep; private data may add a few.
MAX_DEPTH = 32

_XML_DECLARATION = re.compile(
    rb"\A(?:\xef\xbb\xbf)?<\?xml\s[^>]*?\bencoding\s*=\s*([\"'])([A-Za-z][A-Za-z0-9._-]*)\1"
)

# A parser that never loads a DTD, expands an entity or opens a URL, and reads
# every document as UTF-8 whatever it claims (so a UTF-16 document cannot slip
# past the checks on its bytes). One parser per process is enough, since the
# reactor parses in one thread.
_PARSER = etree.XMLParser(
    encoding="utf-8",
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    attribute_defaults=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
    collect_ids=False,
)

_depthProbes = {}


class XMLCodecError(Exception):
    """
    An XML document or CSTA XML message cannot be read or written.

    @ivar element: the local name of the element at fault, or L{None} when
        the document as a whole is.
    """

    def __init__(self, message, element=None):
        super().__init__(message)
        self.element = element


def _tooDeep(root, maxDepth):
    """
    Say whether any element lies deeper than C{maxDepth}.
    """
    probe = _depthProbes.get(maxDepth)
    if probe is None:
        # /*/*/... with maxDepth + 1 steps selects the elements one level
        # too deep; XPath walks the tree in C.
        probe = etree.XPath("boolean(/" + "/".join(["*"] * (maxDepth + 1)) + ")")
        _depthProbes[maxDepth] = probe
    return probe(root)


def parseXML(data, maxSize=MAX_SIZE, maxDepth=MAX_DEPTH):
    """
    Parse an untrusted XML document.

    The document must be UTF-8 (declared so or undeclared, with or without a
    byte order mark), hold no document type declaration (so no entity
    declarations, internal or external), be at most C{maxSize} bytes and
    nest elements at most C{maxDepth} deep. Comments and processing
    instructions are dropped.

    @param data: the document.
    @type data: L{bytes}
    @param maxSize: the largest document accepted, in bytes.
    @param maxDepth: the deepest element nesting accepted.
    @return: the root element.
    @rtype: L{lxml.etree._Element}
    @raise XMLCodecError: if the document is refused or is not well-formed.
    """
    if not isinstance(data, bytes):
        raise TypeError(f"XML must be bytes, not {type(data).__name__}")
    if len(data) > maxSize:
        raise XMLCodecError(f"XML document of {len(data)} bytes exceeds {maxSize}")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise XMLCodecError(f"XML document is not UTF-8: {e.reason} at byte {e.start}") from None
    declared = _XML_DECLARATION.match(data)
    if declared is not None and declared.group(2).lower() != b"utf-8":
        raise XMLCodecError(f"XML encoding {declared.group(2).decode()} refused: only UTF-8 is accepted")
    if b"<!DOCTYPE" in data:
        raise XMLCodecError("XML document type declarations are refused")
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as e:
        raise XMLCodecError(f"XML is not well-formed: {e}") from None
    # Depth d needs at least 2d - 1 tags, so short documents need no probe.
    if data.count(b"<") > 2 * maxDepth and _tooDeep(root, maxDepth):
        raise XMLCodecError(f"XML elements nest deeper than {maxDepth}")
    return root
