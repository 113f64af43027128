"""
The dial plan and trunks page, read-only: the trunk access code, the
routes, the incoming numbers (DIDs), the emergency numbers, the trunks and
the hunt groups, as the running call model has them.
"""

from twisted.web.template import tags

from oso.callmodel.devices import DeviceType
from oso.callmodel.dialplan import DID
from oso.gserver.wbm.layout import definitions, table


def dialPlanPage(callModel):
    """
    The page's content.

    @param callModel: the L{ICallModel}; its C{dialPlan} is shown.
    """
    plan = callModel.dialPlan
    devices = callModel.devices()
    routes = [
        (route.pattern, route.trunkGroup, str(route.strip), route.prepend, route.classOfService)
        for route in plan.routes
    ]
    dids = [
        (entry.did, entry.extension) if isinstance(entry, DID)
        else (f"{entry.prefix} + extension", "the extension dialled after it")
        for entry in plan.dids
    ]
    trunks = [
        (d.number, d.name, d.trunkGroup or "", d.port or "", d.publicNumber or "")
        for d in devices
        if d.type is DeviceType.trunk
    ]
    groups = [
        (d.number, d.name, d.huntMode.value, ", ".join(d.members))
        for d in devices
        if d.type is DeviceType.group
    ]
    return [
        tags.p("Read-only: the configuration file sets the dial plan and the trunks.",
               class_="hint"),
        definitions([
            ("Trunk access code", plan.trunkAccessCode or "none"),
            ("Emergency numbers", ", ".join(plan.emergencyNumbers) or "none"),
            ("Emergency trunk group", plan.emergencyTrunkGroup or "the first matching route's"),
        ]),
        tags.section(
            tags.h2("Routes"),
            table(("Pattern", "Trunk group", "Strip", "Prepend", "Lowest class of service"),
                  routes, "No routes: external calls go nowhere.", id="routes"),
        ),
        tags.section(
            tags.h2("Incoming numbers"),
            table(("Called number", "Goes to"), dids, "No incoming numbers.", id="dids"),
        ),
        tags.section(
            tags.h2("Trunks"),
            table(("Number", "Name", "Trunk group", "Port", "Public number"), trunks,
                  "No trunks.", id="trunks"),
        ),
        tags.section(
            tags.h2("Hunt groups"),
            table(("Number", "Name", "Mode", "Members"), groups, "No hunt groups.",
                  id="groups"),
        ),
    ]
