"""
The extensions pages: the list of stations, a new extension, and one
extension's settings (name, class of service, password, forwarding, do not
disturb) and its deletion.

Changes go through the call model (C{addDevice}, C{removeDevice} and its
feature services), so they are on disk before the page says they are done,
and every other interface sees the same refusals.  A password is hashed
(L{oso.secrets.credentialsFor}) off the reactor thread; no page ever shows
one.
"""

from dataclasses import replace

from twisted.internet.threads import deferToThreadPool
from twisted.web.template import tags

from oso import secrets
from oso.callmodel.devices import MAX_PRESENTABLE_NUMBERS, Device, DeviceType, ForwardingType
from oso.callmodel.dialplan import CLASSES_OF_SERVICE
from oso.callmodel import errors
from oso.gserver.wbm import forms
from oso.gserver.wbm.layout import button, definitions, postForm, table

#: The shortest password the pages accept.
MIN_PASSWORD = 8

#: The forwarding types offered, with their labels.
FORWARDING_TYPES = (
    (ForwardingType.forwardImmediate, "immediate"),
    (ForwardingType.forwardBusy, "busy"),
    (ForwardingType.forwardNoAns, "no answer"),
    (ForwardingType.forwardDND, "do not disturb"),
)

_FORWARDING_NAMES = {kind.name: kind for kind, _ in FORWARDING_TYPES}


def _field(label, control):
    return tags.label(tags.span(label), control)


def _textInput(name, value="", **attributes):
    return tags.input(type="text", name=name, value=value, **attributes)


def _classOfService(current):
    return tags.select(
        [
            tags.option(name, value=name, **({"selected": "selected"} if name == current else {}))
            for name in CLASSES_OF_SERVICE
        ],
        name="classOfService",
    )


def _forwardingSummary(device):
    active = [
        f"{label} to {device.features.forwardingFor(kind)}"
        for kind, label in FORWARDING_TYPES
        if device.features.forwardingFor(kind) is not None
    ]
    return ", ".join(active) or "off"


def stations(callModel):
    """
    The call model's stations, by number.
    """
    return [d for d in callModel.devices() if d.type is DeviceType.station]


def listing(callModel, token):
    """
    The list of extensions with a link to each.
    """
    rows = [
        (
            tags.a(d.number, href=f"/extensions/{d.number}"),
            d.name,
            d.port or "",
            d.classOfService,
            "on" if d.features.doNotDisturb else "off",
            _forwardingSummary(d),
        )
        for d in stations(callModel)
    ]
    return [
        tags.p(tags.a("New extension", href="/extensions/new", class_="action")),
        table(("Number", "Name", "Port", "Class of service", "Do not disturb", "Forwarding"),
              rows, "No extensions.", id="extensions"),
    ]


def newForm(token, ports, values=None):
    """
    The form that creates an extension.

    @param ports: the names of the port drivers to offer.
    @param values: the fields as submitted, to show them again after a
        refusal.
    """
    values = values or {}
    portChoice = tags.select(
        [
            tags.option(name, value=name,
                        **({"selected": "selected"} if name == values.get("port") else {}))
            for name in ports
        ],
        name="port",
    )
    return postForm(
        "/extensions/new",
        token,
        _field("Number", _textInput("number", values.get("number", ""), required="required",
                                    pattern="[0-9]{1,15}", inputmode="numeric")),
        _field("Name", _textInput("name", values.get("name", ""), maxlength="64")),
        _field("Port", portChoice),
        _field("Class of service", _classOfService(values.get("classOfService", "international"))),
        _field("Password (at least 8 characters; empty: none yet)",
               tags.input(type="password", name="password", autocomplete="new-password")),
        tags.button("Create", type="submit"),
        id="new-extension",
        class_="settings",
    )


def detail(device, token):
    """
    One extension's settings, each group its own form.
    """
    number = device.number
    base = f"/extensions/{number}"
    features = device.features
    forwarding = table(
        ("Type", "Destination"),
        [(label, features.forwardingFor(kind) or "off") for kind, label in FORWARDING_TYPES],
        "",
        id="forwarding-now",
    )
    dndNext = "off" if features.doNotDisturb else "on"
    return [
        definitions([
            ("Number", number),
            ("Port", device.port or "none"),
            ("Password", "set" if device.credentials.passwordHash else "not set"),
            ("Do not disturb", "on" if features.doNotDisturb else "off"),
            ("Caller id", "withheld" if device.withholdCallerID else "presented"),
        ]),
        _section("Settings", f"{base}/settings", token, "Save", [
            _field("Name", _textInput("name", device.name, maxlength="64")),
            _field("Class of service", _classOfService(device.classOfService)),
        ]),
        _section("Caller identity", f"{base}/identity", token, "Save", [
            _field("Public number (E.164 digits, empty: none)",
                   _textInput("publicNumber", device.publicNumber or "",
                              pattern="[0-9]{0,15}", inputmode="numeric")),
            _field("Withhold caller id on every call (the phone cannot lift it)",
                   tags.input(type="checkbox", name="withholdCallerID", value="on",
                              **({"checked": "checked"} if device.withholdCallerID else {}))),
            _field(f"Further numbers the phone may present (up to {MAX_PRESENTABLE_NUMBERS}, "
                   "separated by blanks)",
                   _textInput("presentableNumbers", " ".join(device.presentableNumbers),
                              pattern="[0-9, ]*")),
        ]),
        _section("Password", f"{base}/password", token, "Set password", [
            _field("New password (at least 8 characters)",
                   tags.input(type="password", name="password", required="required",
                              autocomplete="new-password")),
        ]),
        _section("Forwarding", f"{base}/forwarding", token, "Set forwarding", [
            _field("Type", tags.select(
                [tags.option(label, value=kind.name) for kind, label in FORWARDING_TYPES],
                name="type",
            )),
            _field("Destination (empty: switch off)",
                   _textInput("destination", "", pattern="[0-9*#]{0,32}")),
        ], before=forwarding),
        _section("Do not disturb", f"{base}/dnd", token, f"Switch do not disturb {dndNext}", [
            tags.input(type="hidden", name="on", value=dndNext),
        ]),
        tags.section(
            tags.h2("Delete"),
            button(f"Delete extension {number}", f"{base}/delete", token, id="delete",
                   class_="danger"),
        ),
    ]


def _section(title, action, token, label, fields, before=()):
    """
    A section of an extension's page: a heading and one form, whose id is
    the last segment of its action.
    """
    return tags.section(
        tags.h2(title),
        before,
        postForm(action, token, *fields, tags.button(label, type="submit"),
                 id=action.rsplit("/", 1)[1], class_="settings"),
    )


class ExtensionActions:
    """
    What the extensions forms do, against one running server.

    Each method raises L{forms.FormError} or the call model's
    L{oso.callmodel.errors.CSTAError} to refuse, with a message for the
    page.
    """

    def __init__(self, context):
        """
        @param context: the L{oso.interfaces.IServerContext}.
        """
        self.context = context
        self.model = context.callModel

    def station(self, number):
        """
        @return: the station C{number}.
        @raise CSTAError: when there is none (invalidDeviceID).
        """
        device = self.model.device(number)
        if device.type is not DeviceType.station:
            raise errors.invalidDeviceID(f"{number} is a {device.type.value}, not an extension")
        return device

    def _credentials(self, number, password):
        if len(password) < MIN_PASSWORD:
            raise forms.FormError(f"password: at least {MIN_PASSWORD} characters")
        reactor = self.context.reactor
        return deferToThreadPool(
            reactor, reactor.getThreadPool(),
            secrets.credentialsFor, number, self.context.config.realm, password,
        )

    def _checkNewNumber(self, number):
        if number in {d.number for d in self.model.devices()}:
            raise forms.FormError(f"number: there is already a device {number}")
        dialPlan = self.model.dialPlan
        if dialPlan.trunkAccessCode and number.startswith(dialPlan.trunkAccessCode):
            raise forms.FormError(
                f"number: begins with the trunk access code {dialPlan.trunkAccessCode}"
            )
        if number in dialPlan.emergencyNumbers:
            raise forms.FormError(f"number: {number} is an emergency number")

    async def create(self, request, ports):
        """
        Create the extension the form describes.

        @param ports: the port names the form may choose from.
        @return: the new L{Device}.
        """
        number = forms.deviceNumber(request)
        name = forms.field(request, "name", required=False, maxLength=64)
        port = forms.choice(request, "port", ports)
        classOfService = forms.choice(request, "classOfService", CLASSES_OF_SERVICE)
        password = forms.field(request, "password", required=False, maxLength=128,
                               strip=False)
        self._checkNewNumber(number)
        device = Device(number, name=name, port=port, classOfService=classOfService)
        if password:
            device = replace(device, credentials=await self._credentials(number, password))
            # Hashing took a while: the number may have been taken meanwhile.
            self._checkNewNumber(number)
        return await self.model.addDevice(device)

    async def update(self, request, number):
        """
        Change an extension's name and class of service.
        """
        self.station(number)
        name = forms.field(request, "name", required=False, maxLength=64)
        classOfService = forms.choice(request, "classOfService", CLASSES_OF_SERVICE)
        device = replace(self.station(number), name=name, classOfService=classOfService)
        await self.model.addDevice(device)

    async def setIdentity(self, request, number):
        """
        Set what an extension presents: its public number, whether its
        caller id is withheld on every call, the further numbers its phone
        may present.
        """
        self.station(number)
        publicNumber = forms.optionalNumber(request, "publicNumber")
        withhold = forms.checkbox(request, "withholdCallerID")
        presentable = forms.numbers(request, "presentableNumbers", MAX_PRESENTABLE_NUMBERS)
        await self.model.addDevice(replace(
            self.station(number), publicNumber=publicNumber, withholdCallerID=withhold,
            presentableNumbers=presentable,
        ))

    async def setPassword(self, request, number):
        """
        Give an extension a new password (its hash and digest HA1).
        """
        self.station(number)
        password = forms.field(request, "password", maxLength=128, strip=False)
        credentials = await self._credentials(number, password)
        # Read the device again after the hashing: a feature may have
        # changed meanwhile.
        await self.model.addDevice(replace(self.station(number), credentials=credentials))

    async def setForwarding(self, request, number):
        """
        Switch one kind of forwarding on (with a destination) or off.
        """
        self.station(number)
        kind = _FORWARDING_NAMES[forms.choice(request, "type", tuple(_FORWARDING_NAMES))]
        destination = forms.dialString(request, "destination", required=False)
        await self.model.setForwarding(number, kind, bool(destination), destination or None)

    async def setDoNotDisturb(self, request, number):
        """
        Switch do not disturb on or off.
        """
        self.station(number)
        on = forms.choice(request, "on", ("on", "off")) == "on"
        await self.model.setDoNotDisturb(number, on)

    async def delete(self, number):
        """
        Delete an extension that is in no call and no group.
        """
        self.station(number)
        groups = [d.number for d in self.model.devices() if number in d.members]
        if groups:
            raise forms.FormError(f"{number} is a member of group {', '.join(groups)}")
        await self.model.removeDevice(number)

