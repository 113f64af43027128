"""
The G-Server's Prometheus metrics part: C{/metrics}
(L{oso.gserver.metrics}).
"""

from twisted.plugin import IPlugin
from zope.interface import implementer

from oso.interfaces.gserver import IGServerPart


@implementer(IPlugin, IGServerPart)
class MetricsPart:
    """
    The part at C{/metrics}.
    """

    name = "metrics"
    path = "metrics"

    def resource(self, site):
        from oso.gserver.metrics import MetricsResource

        return MetricsResource(site)


metrics = MetricsPart()
