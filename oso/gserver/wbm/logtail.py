"""
The log tail the system page shows: a bounded twisted.logger observer that
keeps the process's latest log lines.

A field whose name says it holds a secret (it contains C{password},
C{secret} or C{token}) is shown as C{[hidden]}: the demo extensions'
passwords and the first administrator's, logged once at the first start,
never reach a page.
"""

import collections

from twisted.logger import ILogObserver, formatEvent, globalLogPublisher
from zope.interface import implementer

#: Lines kept.
TAIL_LINES = 200

#: The longest line kept, in characters; longer ones are cut.
LINE_LENGTH = 500

_SECRET_WORDS = ("password", "secret", "token")


def _hidden(event):
    """
    The event with every secret-named field replaced by C{[hidden]}.
    """
    return {
        key: "[hidden]" if any(word in key.lower() for word in _SECRET_WORDS) else value
        for key, value in event.items()
    }


@implementer(ILogObserver)
class LogTail:
    """
    The latest log lines: C{(time, level, namespace, text)}.
    """

    def __init__(self, size=TAIL_LINES):
        self._lines = collections.deque(maxlen=size)

    def __call__(self, event):
        text = formatEvent(_hidden(event))
        if "log_failure" in event:
            text += f" ({event['log_failure'].getErrorMessage()})"
        if len(text) > LINE_LENGTH:
            text = text[: LINE_LENGTH - 1] + "\u2026"
        level = event.get("log_level")
        self._lines.append((
            event.get("log_time", 0.0),
            level.name if level is not None else "",
            event.get("log_namespace", ""),
            text,
        ))

    def lines(self):
        """
        @return: the kept lines, newest last.
        """
        return list(self._lines)


_processTail = None


def processLogTail():
    """
    The one L{LogTail} of this process, observing the global log publisher
    from its first use on (it lives as long as the process).
    """
    global _processTail
    if _processTail is None:
        _processTail = LogTail()
        globalLogPublisher.addObserver(_processTail)
    return _processTail
