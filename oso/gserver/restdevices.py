"""
The devices of the REST API: list, get, create, update and delete them,
and their feature state (forwarding, do not disturb) through the call
model's feature services.

A device is shown without its credentials (only whether it has a
password).  Creating, changing and deleting devices is for administrators;
an extension's user sees and sets the features of its own device only.
"""

from dataclasses import replace

from twisted.internet.threads import deferToThreadPool

from oso import secrets
from oso.callmodel.devices import (
    MAX_PRESENTABLE_NUMBERS,
    Device,
    DeviceType,
    ForwardingType,
    HuntMode,
)
from oso.callmodel.dialplan import CLASSES_OF_SERVICE
from oso.callmodel.errors import CSTAError
from oso.gserver import restinput as i
from oso.gserver.restcalls import partyObject
from oso.gserver.restinput import APIError, Body, Field, refusal

#: The most members a group may list.
MAX_MEMBERS = 100

_DEVICE_FIELDS = (
    Field("name", i.text(64), False, "What the device is called"),
    Field("type", i.member(DeviceType), False, "station (the default), group or trunk"),
    Field("port", i.text(64, 1).orNull(), False, "The port driver that serves it"),
    Field("classOfService", i.choice(CLASSES_OF_SERVICE), False, "Which numbers it may call"),
    Field("pickupGroup", i.integer(0, 9999).orNull(), False, "Its call pickup group"),
    Field("members", i.listOf(i.DEVICE_NUMBER, MAX_MEMBERS), False, "A group's members"),
    Field("huntMode", i.member(HuntMode), False, "How a group rings its members"),
    Field("trunkGroup", i.text(64, 1).orNull(), False, "A trunk's trunk group"),
    Field("publicNumber", i.DEVICE_NUMBER.orNull(), False, "The number the public sees"),
    Field("withholdCallerID", i.BOOLEAN, False,
          "A station's calls never present its number (CLIR); its phone cannot lift it"),
    Field("presentableNumbers", i.listOf(i.DEVICE_NUMBER, MAX_PRESENTABLE_NUMBERS), False,
          "Further public numbers (E.164 digits) a station's phone may prefer to present"),
    Field("password", i.text(128, 8), False, "A station's new password (never shown)"),
)

#: The object that creates a device.
NEW_DEVICE = Body((Field("number", i.DEVICE_NUMBER, True, "Its directory number"),)
                  + _DEVICE_FIELDS)

#: The object that changes a device: any of its fields but the number.
DEVICE_CHANGE = Body(_DEVICE_FIELDS)

#: One forwarding setting to make.
FORWARDING = Body((
    Field("forwardingType", i.member(ForwardingType)),
    Field("active", i.BOOLEAN),
    Field("destination", i.NUMBER.orNull(), False, "Where calls go; needed to activate"),
))

#: Do not disturb, on or off.
DO_NOT_DISTURB = Body((Field("doNotDisturb", i.BOOLEAN),))

_NULLABLE_STRING = {"type": "string", "nullable": True}

FORWARDING_SCHEMA = {
    "type": "object",
    "required": ["forwardingType", "active", "destination"],
    "properties": {
        "forwardingType": i.member(ForwardingType).schema,
        "active": {"type": "boolean"},
        "destination": _NULLABLE_STRING,
    },
}

DEVICE_SCHEMA = {
    "type": "object",
    "required": [
        "number", "name", "type", "port", "classOfService", "pickupGroup", "members",
        "huntMode", "trunkGroup", "publicNumber", "withholdCallerID", "presentableNumbers",
        "hasPassword", "features",
    ],
    "properties": {
        "number": {"type": "string"},
        "name": {"type": "string"},
        "type": i.member(DeviceType).schema,
        "port": _NULLABLE_STRING,
        "classOfService": {"type": "string"},
        "pickupGroup": {"type": "integer", "nullable": True},
        "members": {"type": "array", "items": {"type": "string"}},
        "huntMode": i.member(HuntMode).schema,
        "trunkGroup": _NULLABLE_STRING,
        "publicNumber": _NULLABLE_STRING,
        "withholdCallerID": {"type": "boolean"},
        "presentableNumbers": {"type": "array", "items": {"type": "string"}},
        "hasPassword": {"type": "boolean"},
        "features": {
            "type": "object",
            "required": ["doNotDisturb", "messageWaiting", "noAnswerSeconds", "forwarding"],
            "properties": {
                "doNotDisturb": {"type": "boolean"},
                "messageWaiting": {"type": "boolean"},
                "noAnswerSeconds": {"type": "number"},
                "forwarding": {"type": "array", "items": FORWARDING_SCHEMA},
            },
        },
    },
}

def forwardingObject(setting):
    """
    @param setting: a L{ForwardingSetting}.
    @return: its JSON object.
    """
    return {
        "forwardingType": setting.forwardingType.name,
        "active": setting.active,
        "destination": setting.destination,
    }


def deviceObject(device):
    """
    @param device: a L{oso.callmodel.devices.Device}.
    @return: its JSON object, without credentials.
    """
    features = device.features
    return {
        "number": device.number,
        "name": device.name,
        "type": device.type.name,
        "port": device.port,
        "classOfService": device.classOfService,
        "pickupGroup": device.pickupGroup,
        "members": list(device.members),
        "huntMode": device.huntMode.name,
        "trunkGroup": device.trunkGroup,
        "publicNumber": device.publicNumber,
        "withholdCallerID": device.withholdCallerID,
        "presentableNumbers": list(device.presentableNumbers),
        "hasPassword": device.credentials.passwordHash is not None,
        "features": {
            "doNotDisturb": features.doNotDisturb,
            "messageWaiting": features.messageWaiting,
            "noAnswerSeconds": features.noAnswerSeconds,
            "forwarding": [forwardingObject(s) for s in features.forwarding],
        },
    }


class DeviceResources:
    """
    The handlers of C{/devices}, bound to one G-Server.

    Each takes the request's principal and the request (and the route's
    arguments) and returns C{(status, JSON value)}, or raises L{APIError}.
    """

    def __init__(self, site):
        """
        @param site: the L{oso.interfaces.IGServerSite}.
        """
        self.site = site
        self.model = site.context.callModel

    def _device(self, principal, number):
        i.requireControl(principal, number)
        try:
            return self.model.device(number)
        except CSTAError as e:
            raise refusal(e) from None

    async def list(self, principal, request):
        return 200, [
            deviceObject(d) for d in self.model.devices() if principal.mayControl(d.number)
        ]

    async def get(self, principal, request, number):
        return 200, deviceObject(self._device(principal, number))

    async def create(self, principal, request):
        i.requireAdministrator(principal)
        values = NEW_DEVICE.parse(i.readBody(request))
        number = values.pop("number")
        if number in {d.number for d in self.model.devices()}:
            raise APIError(409, "deviceExists", f"there is already a device {number}")
        device = await self._apply(number, values, None)
        return 201, deviceObject(device)

    async def update(self, principal, request, number):
        i.requireAdministrator(principal)
        self._device(principal, number)
        values = DEVICE_CHANGE.parse(i.readBody(request), partial=True)
        device = await self._apply(number, values, number)
        return 200, deviceObject(device)

    async def _apply(self, number, values, existing):
        """
        Make, check and store the device C{number} with C{values} (over the
        stored device C{existing}, if any).
        """
        password = values.pop("password", None)
        credentials = None
        if password is not None:
            credentials = await self._credentials(number, password)
        # Read the device again after the hashing: a feature may have
        # changed meanwhile.
        base = self.model.device(existing) if existing is not None else Device(number)
        device = replace(base, **values)
        if credentials is not None:
            device = replace(device, credentials=credentials)
        self._check(device, password)
        return await self.model.addDevice(device)

    def _credentials(self, number, password):
        """
        Hash a password off the reactor thread (scrypt takes a while).
        """
        reactor = self.site.context.reactor
        return deferToThreadPool(
            reactor, reactor.getThreadPool(),
            secrets.credentialsFor, number, self.site.context.config.realm, password,
        )

    def _check(self, device, password):
        """
        Refuse a device whose fields do not fit together.
        """
        kind = device.type
        if kind is DeviceType.group:
            if not device.members:
                raise APIError(400, "badParameter", "members: a group needs a member")
            known = {d.number: d for d in self.model.devices()}
            for number in device.members:
                member = known.get(number)
                if member is None or member.type is DeviceType.group or number == device.number:
                    raise APIError(
                        400, "badParameter",
                        f"members: {number} is not the number of a station or trunk",
                    )
        elif device.members:
            raise APIError(400, "badParameter", "members: only a group has members")
        if kind is not DeviceType.trunk and device.trunkGroup is not None:
            raise APIError(400, "badParameter", "trunkGroup: only a trunk has a trunk group")
        if kind is not DeviceType.station:
            if device.withholdCallerID:
                raise APIError(400, "badParameter",
                               "withholdCallerID: only a station withholds its caller id")
            if device.presentableNumbers:
                raise APIError(400, "badParameter",
                               "presentableNumbers: only a station presents numbers")
        if len(set(device.presentableNumbers)) != len(device.presentableNumbers):
            raise APIError(400, "badParameter", "presentableNumbers: a number is listed twice")
        if kind is not DeviceType.station and (
            password is not None or device.credentials.passwordHash is not None
        ):
            raise APIError(400, "badParameter", "password: only a station has a password")

    async def delete(self, principal, request, number):
        i.requireAdministrator(principal)
        self._device(principal, number)
        groups = [d.number for d in self.model.devices() if number in d.members]
        if groups:
            raise APIError(
                409, "deviceInGroup", f"{number} is a member of group {', '.join(groups)}"
            )
        try:
            await self.model.removeDevice(number)
        except CSTAError as e:
            raise refusal(e) from None
        return 204, None

    # Features.

    async def getForwarding(self, principal, request, number):
        self._device(principal, number)
        try:
            settings = self.model.getForwarding(number)
        except CSTAError as e:
            raise refusal(e) from None
        return 200, [forwardingObject(s) for s in settings]

    async def setForwarding(self, principal, request, number):
        self._device(principal, number)
        values = FORWARDING.parse(i.readBody(request))
        try:
            await self.model.setForwarding(
                number, values["forwardingType"], values["active"], values.get("destination")
            )
        except CSTAError as e:
            raise refusal(e) from None
        return await self.getForwarding(principal, request, number)

    async def getDoNotDisturb(self, principal, request, number):
        self._device(principal, number)
        try:
            return 200, {"doNotDisturb": self.model.getDoNotDisturb(number)}
        except CSTAError as e:
            raise refusal(e) from None

    async def setDoNotDisturb(self, principal, request, number):
        self._device(principal, number)
        values = DO_NOT_DISTURB.parse(i.readBody(request))
        try:
            await self.model.setDoNotDisturb(number, values["doNotDisturb"])
        except CSTAError as e:
            raise refusal(e) from None
        return await self.getDoNotDisturb(principal, request, number)

    async def snapshot(self, principal, request, number):
        self._device(principal, number)
        return 200, [partyObject(c, state) for c, state in self.model.snapshotDevice(number)]
