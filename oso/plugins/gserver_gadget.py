"""
The G-Server's OpenScape web-service API part: C{/cgi-bin/gadgetapi}
(L{oso.gserver.gadgetapi}), for the scripts and gadgets written for
OpenScape systems.
"""

from twisted.plugin import IPlugin
from zope.interface import implementer

from oso.interfaces.gserver import IGServerPart


@implementer(IPlugin, IGServerPart)
class GadgetPart:
    """
    The part at C{/cgi-bin}.
    """

    name = "gadget-api"
    path = "cgi-bin"

    def resource(self, site):
        from oso.gserver.gadgetapi import GadgetAPI

        return GadgetAPI(site).resource()


gadget = GadgetPart()
