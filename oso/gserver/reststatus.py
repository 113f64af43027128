"""
What the REST API reports about the rest of the server: the SIP
registrations in the store, the CSTA links of the C{csta} component and
the fill of the C{cdr} component's journal.

The links and the journal are for administrators; an extension's user
sees its own registrations only.
"""

from oso.gserver import restinput as i

_NULLABLE_STRING = {"type": "string", "nullable": True}

REGISTRATION_SCHEMA = {
    "type": "object",
    "required": [
        "aor", "contact", "expires", "remaining", "q", "transport", "host", "port",
        "instance", "regID",
    ],
    "properties": {
        "aor": {"type": "string"},
        "contact": {"type": "string"},
        "expires": {"type": "number"},
        "remaining": {"type": "integer"},
        "q": {"type": "number", "nullable": True},
        "transport": _NULLABLE_STRING,
        "host": _NULLABLE_STRING,
        "port": {"type": "integer", "nullable": True},
        "instance": _NULLABLE_STRING,
        "regID": {"type": "integer", "nullable": True},
    },
}

CSTA_SCHEMA = {
    "type": "object",
    "required": ["enabled", "links", "maxLinks", "peers"],
    "properties": {
        "enabled": {"type": "boolean"},
        "links": {"type": "integer"},
        "maxLinks": {"type": "integer", "nullable": True},
        "peers": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["host", "port"],
                "properties": {
                    "host": {"type": "string"},
                    "port": {"type": "integer", "nullable": True},
                },
            },
        },
    },
}

CDR_SCHEMA = {
    "type": "object",
    "required": ["enabled", "running", "pending", "capacity", "fill", "refused"],
    "properties": {
        "enabled": {"type": "boolean"},
        "running": {"type": "boolean"},
        "pending": {"type": "integer", "nullable": True},
        "capacity": {"type": "integer", "nullable": True},
        "fill": {"type": "number", "nullable": True},
        "refused": {"type": "integer", "nullable": True},
    },
}


class StatusResources:
    """
    The handlers of C{/registrations}, C{/csta} and C{/cdr}; each returns
    C{(status, JSON value)} or raises L{i.APIError}.
    """

    def __init__(self, site):
        self.site = site
        self.context = site.context

    async def registrations(self, principal, request):
        """
        The bindings in the store that have not expired.
        """
        now = self.site.clock.seconds()
        bindings = await self.context.store.loadRegistrations()
        return 200, [
            {
                "aor": b.aor,
                "contact": b.contact,
                "expires": b.expires,
                "remaining": b.remaining(now),
                "q": b.q,
                "transport": b.transport,
                "host": b.host,
                "port": b.port,
                "instance": b.instance,
                "regID": b.regID,
            }
            for b in sorted(bindings, key=lambda b: (b.aor, b.contact))
            if b.expires > now and principal.mayControl(b.aor)
        ]

    async def csta(self, principal, request):
        """
        The CSTA links open now and the licensed limit.
        """
        i.requireAdministrator(principal)
        factory = getattr(self.context.component("csta"), "factory", None)
        if factory is None:
            return 200, {"enabled": False, "links": 0, "maxLinks": None, "peers": []}
        peers = []
        for protocol in factory.links:
            peer = protocol.transport.getPeer()
            peers.append({
                "host": str(getattr(peer, "host", peer)),
                "port": getattr(peer, "port", None),
            })
        peers.sort(key=lambda p: (p["host"], p["port"] or 0))
        return 200, {
            "enabled": True,
            "links": len(factory.links),
            "maxLinks": factory.maxLinks,
            "peers": peers,
        }

    async def cdr(self, principal, request):
        """
        How full the call data record journal is.
        """
        i.requireAdministrator(principal)
        component = self.context.component("cdr")
        journal = getattr(component, "journal", None)
        if journal is None:
            return 200, {
                "enabled": component is not None,
                "running": False,
                "pending": None,
                "capacity": None,
                "fill": None,
                "refused": None,
            }
        capacity = journal.core.capacity
        return 200, {
            "enabled": True,
            "running": bool(component.running),
            "pending": journal.pending,
            "capacity": capacity,
            "fill": journal.pending / capacity,
            "refused": journal.refusedCount,
        }
