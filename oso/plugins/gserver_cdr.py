"""
The G-Server's call data record part: the CDR download of the C{cdr}
component (L{oso.cdr.download}) at C{/cdr} on the G-Server's own HTTPS
listener, so billing fetches records from the same address as everything
else.  It is the same resource as on the C{cdr} component's own C{https}
listener, with the same HTTP Basic accounts (C{https-user}).
"""

from twisted.plugin import IPlugin
from twisted.web.pages import errorPage
from zope.interface import implementer

from oso.interfaces.gserver import IGServerPart


@implementer(IPlugin, IGServerPart)
class CDRPart:
    """
    The part at C{/cdr}: C{GET /cdr/batch}, C{POST /cdr/batch/<id>/ack},
    C{DELETE /cdr/batch/<id>}, C{GET /cdr/file} (doc/cdr.md).
    """

    name = "cdr"
    path = "cdr"

    def resource(self, site):
        component = site.context.component("cdr")
        download = getattr(component, "download", None)
        if download is None:
            return errorPage(404, "No call data records",
                             "The cdr component is not running on this server.")
        return download.resource()


cdr = CDRPart()
