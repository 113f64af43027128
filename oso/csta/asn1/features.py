"""
Arguments and results of the ECMA-285 logical device feature services oso
offers (forwarding, do not disturb) and of the escape service.

Modules: CSTA-set-forwarding, CSTA-get-forwarding, CSTA-set-do-not-disturb,
CSTA-get-do-not-disturb, CSTA-device-feature-types (ForwardList),
CSTA-escape-service, CSTA-escape-types.
"""

from pyasn1.type import namedtype, univ

from oso.csta.asn1.common import (
    CallOrigination,
    CSTACommonArguments,
    CSTAPrivateData,
    CSTASecurityData,
    DeviceID,
    DeviceIDList,
    ForwardDefault,
    ForwardingType,
)
from oso.csta.asn1.tagging import Sequence, explicit, implicit

NamedType = namedtype.NamedType
Optional = namedtype.OptionalNamedType


class SetForwardingArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("device", DeviceID()),
        Optional("forwardingType", ForwardingType()),
        NamedType("activateForward", univ.Boolean()),
        Optional("forwardDN", DeviceID()),
        Optional("ringCount", univ.Integer()),
        Optional("ringDuration", implicit(3, univ.Integer())),
        Optional("extensions", CSTACommonArguments()),
    )


class DeviceArgument(Sequence):
    """
    C{SEQUENCE { device DeviceID, extensions CSTACommonArguments OPTIONAL }}:
    GetForwardingArgument and GetDoNotDisturbArgument.
    """

    componentType = namedtype.NamedTypes(
        NamedType("device", DeviceID()),
        Optional("extensions", CSTACommonArguments()),
    )


GetForwardingArgument = GetDoNotDisturbArgument = DeviceArgument


class ForwardListItem(Sequence):
    """
    The anonymous SEQUENCE of a C{ForwardList} item.
    """

    componentType = namedtype.NamedTypes(
        Optional("forwardingType", ForwardingType()),
        NamedType("forwardStatus", univ.Boolean()),
        Optional("forwardDN", DeviceID()),
        Optional("forwardDefault", ForwardDefault()),
        Optional("ringDuration", implicit(0, univ.Integer())),
        Optional("ringCount", univ.Integer()),
    )


class ForwardList(univ.SequenceOf):
    componentType = ForwardListItem()


class GetForwardingResult(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("forwardingList", ForwardList()),
        Optional("extensions", CSTACommonArguments()),
    )


class SetDoNotDisturbArgument(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("device", DeviceID()),
        NamedType("doNotDisturbOn", univ.Boolean()),
        Optional("callOrigination", CallOrigination()),
        Optional("callingDeviceList", DeviceIDList()),
        Optional("extensions", CSTACommonArguments()),
    )


class GetDoNotDisturbResult(Sequence):
    componentType = namedtype.NamedTypes(
        NamedType("doNotDisturbOn", univ.Boolean()),
        Optional("callOrigination", CallOrigination()),
        Optional("callingDeviceList", DeviceIDList()),
        Optional("extensions", CSTACommonArguments()),
    )


class EscapeArgument(Sequence):
    componentType = namedtype.NamedTypes(
        Optional("escapeRegisterID", explicit(0, univ.OctetString())),
        Optional("security", CSTASecurityData()),
        NamedType("privateData", CSTAPrivateData()),
    )
