"""
The ACSE APDUs (ITU-T X.227 ACSE-1, a module of EXPLICIT tags) a CSTA link
uses, and the CSTA user information they carry.

Modules: ACSE-1 (AARQ-apdu, AARE-apdu, RLRQ-apdu, RLRE-apdu, ABRT-apdu and
their parameter types; AP titles, AE qualifiers and invocation identifiers
are read past), X.680 EXTERNAL, CSTA-application-context-information-csta3
(ACSEUserInformationForCSTA).
"""

from pyasn1.type import char, namedtype, tag, univ

from oso.csta.asn1.tagging import Opaque, Sequence, explicit, implicit, names, opaque, tagged

NamedType = namedtype.NamedType
Optional = namedtype.OptionalNamedType
Defaulted = namedtype.DefaultedNamedType

# --- X.680 EXTERNAL -----------------------------------------------------------


class ExternalEncoding(univ.Choice):
    """
    The anonymous CHOICE of C{EXTERNAL.encoding}.
    """

    componentType = namedtype.NamedTypes(
        NamedType("single-ASN1-type", explicit(0, Opaque())),
        NamedType("octet-aligned", implicit(1, univ.OctetString())),
        NamedType("arbitrary", implicit(2, univ.BitString())),
    )


class External(Sequence):
    """
    C{EXTERNAL} (X.690 8.18: C{[UNIVERSAL 8] IMPLICIT SEQUENCE}).
    """

    tagSet = univ.Sequence.tagSet.tagImplicitly(
        tag.Tag(tag.tagClassUniversal, tag.tagFormatConstructed, 8)
    )
    componentType = namedtype.NamedTypes(
        Optional("direct-reference", univ.ObjectIdentifier()),
        Optional("indirect-reference", univ.Integer()),
        Optional("data-value-descriptor", char.GraphicString().subtype(
            implicitTag=tag.Tag(tag.tagClassUniversal, tag.tagFormatSimple, 7)
        )),
        NamedType("encoding", ExternalEncoding()),
    )


class AssociationInformation(univ.SequenceOf):
    """
    C{Association-information}: C{SEQUENCE OF EXTERNAL}.
    """

    componentType = External()


# --- ACSE-1 -------------------------------------------------------------------


class ACSERequirements(univ.BitString):
    namedValues = names("authentication", "applicationContextNegotiation")


class AuthenticationValue(univ.Choice):
    componentType = namedtype.NamedTypes(
        NamedType("charstring", implicit(0, char.GraphicString())),
        NamedType("bitstring", implicit(1, univ.BitString())),
        NamedType("external", opaque(2)),  # [2] IMPLICIT EXTERNAL
        NamedType("other", opaque(3)),  # [3] IMPLICIT SEQUENCE {...}
    )


class ProtocolVersion(univ.BitString):
    namedValues = names("version1")


def _protocolVersion():
    return Defaulted("protocol-version", implicit(0, ProtocolVersion()).clone("version1"))


def _userInformation():
    return Optional("user-information", implicit(30, AssociationInformation()))


class AARQ(Sequence):
    """
    C{AARQ-apdu}.
    """

    tagSet = tagged(univ.Sequence.tagSet, 0, isImplicit=True)
    componentType = namedtype.NamedTypes(
        _protocolVersion(),
        NamedType("application-context-name", explicit(1, univ.ObjectIdentifier())),
        Optional("called-AP-title", opaque(2)),
        Optional("called-AE-qualifier", opaque(3)),
        Optional("called-AP-invocation-identifier", opaque(4)),
        Optional("called-AE-invocation-identifier", opaque(5)),
        Optional("calling-AP-title", opaque(6)),
        Optional("calling-AE-qualifier", opaque(7)),
        Optional("calling-AP-invocation-identifier", opaque(8)),
        Optional("calling-AE-invocation-identifier", opaque(9)),
        Optional("sender-acse-requirements", implicit(10, ACSERequirements())),
        Optional("mechanism-name", implicit(11, univ.ObjectIdentifier())),
        Optional("calling-authentication-value", explicit(12, AuthenticationValue())),
        Optional("application-context-name-list", opaque(13)),
        Optional("implementation-information", implicit(29, char.GraphicString())),
        _userInformation(),
    )


class AssociateSourceDiagnostic(univ.Choice):
    componentType = namedtype.NamedTypes(
        NamedType("acse-service-user", explicit(1, univ.Integer())),
        NamedType("acse-service-provider", explicit(2, univ.Integer())),
    )


class AARE(Sequence):
    """
    C{AARE-apdu}.
    """

    tagSet = tagged(univ.Sequence.tagSet, 1, isImplicit=True)
    componentType = namedtype.NamedTypes(
        _protocolVersion(),
        NamedType("application-context-name", explicit(1, univ.ObjectIdentifier())),
        NamedType("result", explicit(2, univ.Integer())),
        NamedType("result-source-diagnostic", explicit(3, AssociateSourceDiagnostic())),
        Optional("responding-AP-title", opaque(4)),
        Optional("responding-AE-qualifier", opaque(5)),
        Optional("responding-AP-invocation-identifier", opaque(6)),
        Optional("responding-AE-invocation-identifier", opaque(7)),
        Optional("responder-acse-requirements", implicit(8, ACSERequirements())),
        Optional("mechanism-name", implicit(9, univ.ObjectIdentifier())),
        Optional(
            "responding-authentication-value", explicit(10, AuthenticationValue())
        ),
        Optional("application-context-name-list", opaque(11)),
        Optional("implementation-information", implicit(29, char.GraphicString())),
        _userInformation(),
    )


class RLRQ(Sequence):
    """
    C{RLRQ-apdu}.
    """

    tagSet = tagged(univ.Sequence.tagSet, 2, isImplicit=True)
    componentType = namedtype.NamedTypes(
        Optional("reason", implicit(0, univ.Integer())),
        Optional("aso-qualifier", opaque(13)),
        Optional("asoi-identifier", opaque(14)),
        _userInformation(),
    )


class RLRE(Sequence):
    """
    C{RLRE-apdu}.
    """

    tagSet = tagged(univ.Sequence.tagSet, 3, isImplicit=True)
    componentType = RLRQ.componentType


class ABRT(Sequence):
    """
    C{ABRT-apdu}.
    """

    tagSet = tagged(univ.Sequence.tagSet, 4, isImplicit=True)
    componentType = namedtype.NamedTypes(
        NamedType("abort-source", implicit(0, univ.Integer())),
        Optional("abort-diagnostic", implicit(1, univ.Enumerated())),
        Optional("aso-qualifier", opaque(13)),
        Optional("asoi-identifier", opaque(14)),
        _userInformation(),
    )


# --- CSTA-application-context-information-csta3 -------------------------------


class CSTAVersion(univ.BitString):
    namedValues = names(
        "versionOne",
        "versionTwo",
        "versionThree",
        "versionFour",
        "versionFive",
        "versionSix",
        "versionSeven",
        "versionEight",
        "versionNine",
        "versionTen",
        "versionEleven",
        "versionTwelve",
        "versionThirteen",
        "versionFourteen",
        "versionFifteen",
        "versionSixteen",
        "versionSeventeen",
        "versionEighteen",
        "versionNineteen",
        "versionTwenty",
        "versionTwentyone",
        "versionTwentytwo",
        "versionTwentythree",
        "versionTwentyfour",
    )


class CSTAFunctionality(Sequence):
    """
    C{CSTAFunctionality} (its bit maps are read past, bits unnamed).
    """

    componentType = namedtype.NamedTypes(
        *(
            Defaulted(name, implicit(number, univ.BitString()).clone(""))
            for number, name in enumerate(
                (
                    "switchingFunctionServices",
                    "eventReportServices",
                    "computingFunctionServices",
                    "bidirectionalServices",
                    "statusReportingServices",
                    "inputOutputServices",
                    "voiceUnitServices",
                )
            )
        )
    )


class OldACSEUserInformationForCSTA(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("cSTAVersion", CSTAVersion()),
        NamedType("cSTAFunctionsRequiredByApplication", CSTAFunctionality()),
        NamedType("cSTAFunctionsThatCanBeSupplied", CSTAFunctionality()),
    )


class CSTAPrivateDataVersionList(univ.SequenceOf):
    componentType = univ.Integer()


class NewACSEUserInformationForCSTA(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("cSTAVersion", CSTAVersion()),
        Optional("cSTAFunctionsRequiredByApplication", implicit(0, CSTAFunctionality())),
        Optional("cSTAFunctionsThatCanBeSupplied", implicit(1, CSTAFunctionality())),
        Optional("cSTAPrivateDataVersionList", implicit(2, CSTAPrivateDataVersionList())),
    )


class ACSEUserInformationForCSTA(univ.Choice):
    componentType = namedtype.NamedTypes(
        NamedType("oldDefinition", OldACSEUserInformationForCSTA()),
        NamedType("newDefinition", implicit(0, NewACSEUserInformationForCSTA())),
    )
