"""
The G-Server's optional plain-HTTP listener: it serves nothing, and answers
every request with a redirect to the same path on HTTPS (301 for GET and
HEAD, 308 for other methods, which keeps the method and body).
"""

import re

from twisted.web.resource import Resource

from oso.gserver.site import SECURITY_HEADERS

# A host name or IPv4 address, or a bracketed IPv6 address: what the Host
# header may put into the Location (anything else gets the listener's own
# address, never a header injection).
_HOST = re.compile(rb"[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]")


class RedirectToHTTPS(Resource):
    """
    Redirects every request to C{https://<host>:<port><path and query>}.
    """

    isLeaf = True

    def __init__(self, httpsPort):
        """
        @param httpsPort: a function returning the HTTPS port number to
            send clients to (known once the listener listens).
        """
        super().__init__()
        self._httpsPort = httpsPort

    def render(self, request):
        host = (request.getHeader(b"host") or b"").rpartition(b":")
        name = host[0] if host[0] and not host[2].endswith(b"]") else b"".join(host)
        if not _HOST.fullmatch(name):
            name = request.getHost().host.encode("ascii")
            if b":" in name:
                name = b"[" + name + b"]"
        target = request.uri if request.uri.startswith(b"/") else b"/"
        location = b"https://%s:%d%s" % (name, self._httpsPort(), target)
        for header, value in SECURITY_HEADERS.items():
            request.setHeader(header, value)
        request.setResponseCode(301 if request.method in (b"GET", b"HEAD") else 308)
        request.setHeader(b"Location", location)
        request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
        return b"moved to HTTPS\n"
