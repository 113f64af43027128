"""
The system page: the licences (CSTA links allowed and in use), the running
components, and the tail of the log.
"""

import datetime

from twisted.web.template import tags

from oso.gserver.wbm.layout import definitions, table


def _logRows(lines):
    for when, level, namespace, text in reversed(lines):
        stamp = datetime.datetime.fromtimestamp(when, datetime.UTC).strftime(
            "%Y-%m-%d %H:%M:%S"
        )
        yield stamp, level, namespace, tags.span(text, class_="log-text")


def systemPage(context, logLines):
    """
    The page's content.

    @param context: the L{oso.interfaces.IServerContext}.
    @param logLines: the log tail's lines, oldest first (shown newest
        first).
    """
    csta = context.component("csta")
    factory = getattr(csta, "factory", None)
    if factory is None:
        licences = [("CSTA links", "the csta component is not running")]
    else:
        licences = [
            ("CSTA links allowed", str(factory.maxLinks)),
            ("CSTA links in use", str(len(factory.links))),
        ]
    components = [
        (name, "running" if context.component(name) is not None else "not running")
        for name in context.config.components
    ]
    return [
        tags.section(tags.h2("Licences"), definitions(licences), id="licences"),
        tags.section(
            tags.h2("Components"),
            table(("Component", "State"), components, "No components.", id="components"),
        ),
        tags.section(
            tags.h2("Log"),
            tags.p(f"The latest {len(logLines)} lines, newest first (times in UTC).",
                   class_="hint"),
            table(("Time", "Level", "Source", "Message"), _logRows(logLines),
                  "Nothing logged yet.", id="log"),
        ),
    ]
