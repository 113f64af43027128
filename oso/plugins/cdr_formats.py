"""
The four built-in CDR formats as components of kind C{cdr-format}:
C{openscape}, C{hipath-fixed}, C{csv} and C{jsonl}.

A format component runs no work of its own.  The cdr component picks a
format by name and gets the L{ICDRFormat} either from the running
component's service (its C{format} attribute, built from the component's
configuration table) or straight from the component with
C{makeFormat(tz)}.

The formats that show local times take one setting, C{time-zone}: an IANA
zone name such as C{"Europe/Berlin"}; without it they use the host's zone.
"""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from twisted.application.service import Service
from twisted.plugin import IPlugin
from zope.interface import implementer

from oso.cdr.formats import (
    CSVFormat,
    HiPathFixedFormat,
    JSONLinesFormat,
    OpenScapeFormat,
)
from oso.config import ConfigError
from oso.interfaces import IComponent


class CDRFormatService(Service):
    """
    The service of a format component: it only holds the format.

    @ivar format: the configured L{oso.interfaces.ICDRFormat}.
    """

    def __init__(self, format):
        self.format = format


@implementer(IPlugin, IComponent)
class CDRFormatComponent:
    """
    A CDR format as a component.

    @ivar zoned: whether the format shows local times, and so takes the
        C{time-zone} setting.
    """

    kind = "cdr-format"

    def __init__(self, formatClass, description, zoned):
        """
        @param formatClass: the format's class; called with C{tz} when
            C{zoned}, with nothing otherwise.
        @param description: one line for the component list.
        @param zoned: whether the format shows local times.
        """
        self.name = formatClass.name
        self.description = description
        self.zoned = zoned
        self._formatClass = formatClass

    def validateConfig(self, section, where):
        """
        Check the format's table.

        @return: the time zone (L{None} for the host's) of a zoned format,
            L{None} for one that is not.
        @raise ConfigError: for an unknown key or a zone that does not exist.
        """
        for key in section:
            if key != "time-zone" or not self.zoned:
                raise ConfigError(
                    f"{where}.{key}",
                    "unknown key"
                    + (" (this format takes time-zone)" if self.zoned else ""),
                )
        name = section.get("time-zone")
        if name is None:
            return None
        if not isinstance(name, str):
            raise ConfigError(f"{where}.time-zone", "expected a zone name string")
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"{where}.time-zone",
                f"unknown time zone {name!r} (expected an IANA name such as "
                f"'Europe/Berlin')",
            ) from None

    def makeFormat(self, tz=None):
        """
        A format object.

        @param tz: the time zone a zoned format shows times in (L{None}: the
            host's); ignored by a format that is not zoned.
        @rtype: L{oso.interfaces.ICDRFormat}
        """
        return self._formatClass(tz) if self.zoned else self._formatClass()

    def makeService(self, settings, context):
        return CDRFormatService(self.makeFormat(settings))


openscape = CDRFormatComponent(
    OpenScapeFormat,
    "CDR format: OpenScape Office compressed, fields separated by |, CR LF.",
    zoned=True,
)
hipathFixed = CDRFormatComponent(
    HiPathFixedFormat,
    "CDR format: HiPath 3000/5000 fixed width, 111 bytes per record.",
    zoned=True,
)
csvFormat = CDRFormatComponent(
    CSVFormat, "CDR format: CSV (RFC 4180) with a header line.", zoned=True
)
jsonLines = CDRFormatComponent(
    JSONLinesFormat, "CDR format: JSON lines, one record object per line.", zoned=False
)
