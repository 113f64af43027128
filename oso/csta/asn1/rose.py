"""
The ROSE APDUs (ITU-T X.880 Remote-Operations-Generic-ROS-PDUs, a module of
IMPLICIT TAGS) for local operation and error codes, as ECMA-285 carries
them.

Arguments, results and error parameters are open types in X.880; here they
are ANY, and L{oso.csta.ber} decodes them in a second step with the type the
operation code names.
"""

from pyasn1.type import namedtype, univ

from oso.csta.asn1.tagging import Sequence, implicit

NamedType = namedtype.NamedType
Optional = namedtype.OptionalNamedType


class InvokeId(univ.Choice):
    componentType = namedtype.NamedTypes(
        NamedType("present", univ.Integer()),
        NamedType("absent", univ.Null()),
    )


class Code(univ.Choice):
    componentType = namedtype.NamedTypes(
        NamedType("local", univ.Integer()),
        NamedType("global", univ.ObjectIdentifier()),
    )


class LinkedId(univ.Choice):
    """
    The anonymous CHOICE of C{Invoke.linkedId}.
    """

    componentType = namedtype.NamedTypes(
        NamedType("present", implicit(0, univ.Integer())),
        NamedType("absent", implicit(1, univ.Null())),
    )


class Invoke(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("invokeId", InvokeId()),
        Optional("linkedId", LinkedId()),
        NamedType("opcode", Code()),
        Optional("argument", univ.Any()),
    )


class ReturnResultResult(Sequence):
    """
    The anonymous SEQUENCE of C{ReturnResult.result}.
    """

    componentType = namedtype.NamedTypes(
        NamedType("opcode", Code()),
        NamedType("result", univ.Any()),
    )


class ReturnResult(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("invokeId", InvokeId()),
        Optional("result", ReturnResultResult()),
    )


class ReturnError(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("invokeId", InvokeId()),
        NamedType("errcode", Code()),
        Optional("parameter", univ.Any()),
    )


class RejectProblem(univ.Choice):
    """
    The anonymous CHOICE of C{Reject.problem} (GeneralProblem,
    InvokeProblem, ReturnResultProblem, ReturnErrorProblem).
    """

    componentType = namedtype.NamedTypes(
        NamedType("general", implicit(0, univ.Integer())),
        NamedType("invoke", implicit(1, univ.Integer())),
        NamedType("returnResult", implicit(2, univ.Integer())),
        NamedType("returnError", implicit(3, univ.Integer())),
    )


class Reject(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("invokeId", InvokeId()),
        NamedType("problem", RejectProblem()),
    )


class ROS(univ.Choice):
    componentType = namedtype.NamedTypes(
        NamedType("invoke", implicit(1, Invoke())),
        NamedType("returnResult", implicit(2, ReturnResult())),
        NamedType("returnError", implicit(3, ReturnError())),
        NamedType("reject", implicit(4, Reject())),
    )
