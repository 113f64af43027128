"""
The G-Server's REST API part: JSON under C{/api/v1} (L{oso.gserver.rest}),
with its OpenAPI document at C{/api/v1/openapi.json}.
"""

from twisted.plugin import IPlugin
from zope.interface import implementer

from oso.interfaces.gserver import IGServerPart


@implementer(IPlugin, IGServerPart)
class RestPart:
    """
    The part at C{/api}.
    """

    name = "rest"
    path = "api"

    def resource(self, site):
        from oso.gserver.rest import RestAPI

        return RestAPI(site).resource()


rest = RestPart()
