"""
The web-based management (WBM): the administrator's pages at the root of
the G-Server, rendered on the server with L{twisted.web.template} (every
text escaped), with a little JavaScript for the dashboard's live calls.
"""

from oso.gserver.wbm.app import ManagementPages
from oso.gserver.wbm.logtail import LogTail

__all__ = ["ManagementPages", "LogTail"]
