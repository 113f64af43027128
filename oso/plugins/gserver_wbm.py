"""
The G-Server part at the site's root: the web-based management pages
(L{oso.gserver.wbm}), for administrators.
"""

from twisted.plugin import IPlugin
from zope.interface import implementer

from oso.interfaces.gserver import IGServerPart


@implementer(IPlugin, IGServerPart)
class ManagementPart:
    """
    The C{wbm} part of the G-Server.
    """

    name = "wbm"
    path = ""

    def resource(self, site):
        from oso.gserver.wbm import ManagementPages
        from oso.gserver.wbm.logtail import processLogTail

        return ManagementPages(site, processLogTail()).resource()


managementPart = ManagementPart()
