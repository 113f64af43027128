"""
The G-Server's CSTA over HTTP part: C{POST /csta}
(L{oso.gserver.cstahttp}).
"""

from twisted.plugin import IPlugin
from zope.interface import implementer

from oso.interfaces.gserver import IGServerPart


@implementer(IPlugin, IGServerPart)
class CSTAPart:
    """
    The part at C{/csta}.
    """

    name = "csta-http"
    path = "csta"

    def resource(self, site):
        from oso.gserver.cstahttp import CSTAOverHTTP

        return CSTAOverHTTP(site)


cstaHTTP = CSTAPart()
