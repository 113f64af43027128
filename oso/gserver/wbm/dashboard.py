"""
The dashboard: the registered phones, the active calls (kept up to date by
the page's script from the event stream) and the CSTA links.
"""

from twisted.web.template import tags

from oso.callmodel.events import Event
from oso.gserver.wbm.layout import table, tableRows

#: The headings of the active calls' table.
CALL_HEADERS = ("Call", "Calling", "Called", "Parties", "Age")


def duration(seconds):
    """
    Seconds as C{m:ss} or C{h:mm:ss}.
    """
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02}:{seconds:02}"
    return f"{minutes}:{seconds:02}"


def callRows(callModel, now):
    """
    One row per active call, oldest first: its id, calling and called
    numbers, each party with its connection state, and its age.
    """
    calls = sorted(callModel.calls(), key=lambda call: (call.created, call.id))
    for call in calls:
        parties = tags.ul(
            [
                tags.li(tags.span(c.device, class_="device"), " ",
                        tags.span(c.state.name, class_=f"state state-{c.state.name}"))
                for c in call.live()
            ],
            class_="parties",
        )
        yield (call.id, call.callingDevice, call.calledDevice or call.dialled, parties,
               duration(now - call.created))


def eventTypes():
    """
    The C{event:} names the event stream sends call model events under
    (L{oso.gserver.eventjson}), and C{gap}, for the script to listen to.
    """
    every, kinds = set(), [Event]
    while kinds:
        kind = kinds.pop()
        every.add(kind)
        kinds.extend(kind.__subclasses__())
    # A slotted dataclass is a subclass of the same name: not a base.
    bases = {
        kind.__name__ for kind in every for sub in kind.__subclasses__()
        if sub.__name__ != kind.__name__
    }
    return sorted({kind.__name__ + "Event" for kind in every if kind.__name__ not in bases}
                  | {"gap"})


def callsBody(callModel, now):
    """
    The rows of the active calls' table: what the live update replaces.
    """
    return tableRows(callRows(callModel, now), "No active calls.", len(CALL_HEADERS))


def registrationRows(bindings, now):
    """
    One row per binding that has not expired, by address of record.
    """
    live = sorted(
        (b for b in bindings if b.remaining(now) > 0), key=lambda b: (b.aor, b.contact)
    )
    for binding in live:
        source = ""
        if binding.host is not None:
            source = f"{binding.transport or ''} {binding.host}:{binding.port}".strip()
        yield binding.aor, binding.contact, source, f"{binding.remaining(now)} s"


def cstaRows(cstaService):
    """
    One row per open CSTA link: the peer, the encoding, whether the
    association is made, the user it authenticated as.
    """
    factory = getattr(cstaService, "factory", None)
    if factory is None:
        return
    links = sorted(factory.links, key=lambda p: str(p.transport.getPeer()))
    for protocol in links:
        peer = protocol.transport.getPeer()
        link = protocol.link
        yield (
            f"{getattr(peer, 'host', peer)}:{getattr(peer, 'port', '')}",
            link.encoding or "not yet known",
            "yes" if link.associated else "no",
            link.user or "",
        )


def dashboard(callModel, bindings, cstaService, now):
    """
    The dashboard's content.

    @param callModel: the L{ICallModel}.
    @param bindings: the SIP registration bindings from the store.
    @param cstaService: the csta component's service, or L{None}.
    @param now: the time, POSIX seconds.
    """
    csta = (
        table(("Peer", "Encoding", "Associated", "User"), cstaRows(cstaService),
              "No CSTA links.", id="csta-links")
        if cstaService is not None
        else tags.p("The csta component is not running.", class_="empty")
    )
    return [
        tags.section(
            tags.h2("Active calls ", tags.span("", id="live", class_="live")),
            table(CALL_HEADERS, callRows(callModel, now), "No active calls.", id="calls",
                  **{"data-events": " ".join(eventTypes())}),
            class_="calls",
        ),
        tags.section(
            tags.h2("Registered phones"),
            table(("Address of record", "Contact", "From", "Expires in"),
                  registrationRows(bindings, now), "No phone is registered.",
                  id="registrations"),
        ),
        tags.section(tags.h2("CSTA links"), csta),
    ]
