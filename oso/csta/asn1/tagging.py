"""
Shorthands for writing ASN.1 tags and named values with pyasn1, and the
SEQUENCE base class the specifications use.
"""

from pyasn1.type import namedval, tag, tagmap, univ

CONTEXT = tag.tagClassContext
APPLICATION = tag.tagClassApplication


def implicit(number, asn1Type, tagClass=CONTEXT):
    """
    C{[number] IMPLICIT asn1Type} (the primitive/constructed form follows
    the tag it replaces).
    """
    return asn1Type.subtype(
        implicitTag=tag.Tag(tagClass, tag.tagFormatSimple, number)
    )


def explicit(number, asn1Type, tagClass=CONTEXT):
    """
    C{[number] EXPLICIT asn1Type}; also what C{[number] asn1Type} means in
    an ECMA-285 module, and the only tagging a CHOICE allows.
    """
    return asn1Type.subtype(
        explicitTag=tag.Tag(tagClass, tag.tagFormatConstructed, number)
    )


def tagged(baseTagSet, number, isImplicit, tagClass=APPLICATION):
    """
    The C{tagSet} of a type defined as C{[APPLICATION n] (IMPLICIT) ...}.
    """
    if isImplicit:
        return baseTagSet.tagImplicitly(
            tag.Tag(tagClass, tag.tagFormatSimple, number)
        )
    return baseTagSet.tagExplicitly(tag.Tag(tagClass, tag.tagFormatConstructed, number))


class Opaque(univ.Any):
    """
    A tagged ANY that matches only its own tag. (pyasn1's ANY also stands
    for any other tag, so two of them in one SEQUENCE would be ambiguous.)
    """

    @property
    def tagMap(self):
        return tagmap.TagMap({self.tagSet: self})


def opaque(number):
    """
    A C{[number]} parameter oso reads past without looking inside (its ASN.1
    type is named where it is used); the tag may be IMPLICIT or EXPLICIT.
    """
    return implicit(number, Opaque())


def names(*pairs):
    """
    Named values (bits or enumerations) from C{(name, number)} pairs, or
    from names numbered in order.
    """
    return namedval.NamedValues(
        *(pair if isinstance(pair, tuple) else (pair, i) for i, pair in enumerate(pairs))
    )


def enumerated(*pairs):
    """
    An ENUMERATED with named values.
    """
    return univ.Enumerated(namedValues=names(*pairs))


class Sequence(univ.Sequence):
    """
    A SEQUENCE whose absent components stay absent when it is encoded.

    pyasn1's encoder walks C{values()}, which creates every absent component
    on the way, and counts a SEQUENCE whose components are all optional as a
    value even when it is only a schema; an absent C{CSTACommonArguments} or
    C{MonitorFilter} would then be encoded empty. Here an absent OPTIONAL
    component is handed out as a placeholder without value (which the
    encoder skips), an absent DEFAULT one as its default (which it skips
    too), and an absent mandatory one as its schema (which the encoder
    refuses).
    """

    def values(self):
        componentType = self.componentType
        for position in range(len(componentType)):
            namedType = componentType[position]
            yield self.getComponentByPosition(
                position,
                default=_ABSENT if namedType.isOptional else namedType.asn1Object,
                instantiate=False,
            )


_ABSENT = univ.Null()
