"""
The G-Server's site: L{GServerSite} finds the parts (every
L{IGServerPart} plugin in C{oso.plugins}), serves each at its top-level
path, and gives them what they share: who is asking (a browser session's
cookie or an API token), sessions with CSRF tokens, the accounts and the
clock.

Every response carries the security headers of L{SECURITY_HEADERS}.
Hostile request targets (bad UTF-8, C{..} or an encoded C{/} in a path
segment, an over-long query) are answered with a 4xx and a log line before
any part sees them; what Twisted's HTTP parser refuses itself is logged by
L{GServerChannel}.
"""

from urllib.parse import unquote_to_bytes

from twisted.internet.defer import succeed
from twisted.logger import Logger
from twisted.plugin import getPlugins
from twisted.web import pages
from twisted.web.http import HTTPChannel
from twisted.web.resource import Resource
from twisted.web.server import Site
from zope.interface import implementer

import oso.plugins
from oso.gserver.sessions import Sessions
from oso.gserver.settings import GServerSettings
from oso.interfaces.gserver import IGServerPart, IGServerSite

log = Logger()

#: The session cookie.  The C{__Host-} prefix makes browsers refuse it
#: unless it is C{Secure}, for C{/} and without a domain.
SESSION_COOKIE = b"__Host-oso-session"

#: The headers of every response.  The pages' own scripts and styles load
#: from the site; no inline script runs and no other site frames a page.
SECURITY_HEADERS = {
    b"X-Content-Type-Options": b"nosniff",
    b"X-Frame-Options": b"DENY",
    b"Content-Security-Policy": (
        b"default-src 'self'; script-src 'self'; style-src 'self'; "
        b"img-src 'self' data:; connect-src 'self'; object-src 'none'; "
        b"base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    b"Referrer-Policy": b"same-origin",
}
#: Sent on HTTPS only (RFC 6797 7.2).
HSTS = b"max-age=31536000"

#: The longest query string answered (bytes as sent); longer gets 414.
MAX_QUERY = 8192


class GServerChannel(HTTPChannel):
    """
    Twisted's HTTP/1.1 channel, answering 400 to a request line or header
    over its line limit (Twisted would only drop the connection), and
    logging every request it refuses before any resource sees it (those,
    and malformed request lines such as raw non-ASCII bytes in the
    target), which Twisted answers without a word in the log.
    """

    def _respondToBadRequestAndDisconnect(self):
        # Twisted's one path for malformed requests (private; the test of
        # hostile input notices if it goes).
        log.warn(
            "G-Server: 400 for a malformed or over-long request from {peer}",
            peer=_peer(self.transport),
        )
        return super()._respondToBadRequestAndDisconnect()

    def lineLengthExceeded(self, line):
        # LineReceiver would only drop the connection, without an answer.
        self._respondToBadRequestAndDisconnect()


def _peer(transport):
    try:
        return transport.getPeer().host
    except AttributeError:
        return "?"


def accessLogLine(timestamp, request):
    """
    One access log line: the combined log format without the query string
    and the referrer, which can hold secrets (the gadget API's C{gsPass}
    and C{gsSession} travel in the query).

    @param timestamp: the formatted time.
    @param request: the finished request.
    @rtype: L{str}
    """

    def text(value):
        return (value or b"-").decode("utf-8", "backslashreplace").replace('"', "\\x22")

    length = request.sentLength or "-"
    return (
        f'"{clientAddress(request)}" - - {timestamp} '
        f'"{text(request.method)} {text(request.path)[:1000]} {text(request.clientproto)}" '
        f'{request.code} {length} "{text(request.getHeader(b"user-agent"))[:200]}"'
    )


def clientAddress(request):
    """
    @return: the client's address (C{str}), for logs and the lockout.
    """
    return getattr(request.getClientAddress(), "host", None) or "?"


def refuse(request, code, reason):
    """
    Log a refused request and answer it with a short plain-text error.

    @return: the error resource to render.
    """
    log.warn(
        "G-Server: {code} for {method} from {client}: {reason}",
        code=code,
        method=request.method.decode("ascii", "replace"),
        client=clientAddress(request),
        reason=reason,
    )
    return pages.errorPage(code, reason, reason)


def _badTarget(request, segments):
    """
    @return: why the request's target is refused, as C{(code, reason)}, or
        L{None} when it is acceptable.
    """
    for segment in segments:
        try:
            text = segment.decode("utf-8")
        except UnicodeDecodeError:
            return 400, "path is not UTF-8"
        if text in (".", "..") or any(c in text for c in "/\\\0"):
            return 400, "path segment not allowed"
    _, _, query = request.uri.partition(b"?")
    if len(query) > MAX_QUERY:
        return 414, "query string too long"
    try:
        unquote_to_bytes(query.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return 400, "query string is not UTF-8"
    return None


class _Root(Resource):
    """
    The site's root: checks the target, sets the security headers, and
    hands the request to the part of its first path segment (or to the
    root part, with the segment put back).
    """

    def __init__(self, parts, rootPart):
        super().__init__()
        self._parts = parts
        self._rootPart = rootPart

    def getChildWithDefault(self, name, request):
        for header, value in SECURITY_HEADERS.items():
            request.setHeader(header, value)
        if request.isSecure():
            request.setHeader(b"Strict-Transport-Security", HSTS)
        refused = _badTarget(request, [name, *request.postpath])
        if refused is not None:
            return refuse(request, *refused)
        part = self._parts.get(name)
        if part is not None:
            return part
        if self._rootPart is not None:
            request.postpath.insert(0, request.prepath.pop())
            return self._rootPart
        return pages.notFound()

    def render(self, request):
        # Only reached for a request without any path, which HTTP has not.
        return self.getChildWithDefault(b"", request).render(request)


@implementer(IGServerSite)
class GServerSite:
    """
    The G-Server of one running server.

    @ivar sessions: the browser L{Sessions}.
    @ivar parts: the L{IGServerPart}s served, by path.
    """

    def __init__(self, context, accounts, clock, settings=None, parts=None):
        """
        @param context: the L{oso.interfaces.IServerContext}.
        @param accounts: the L{oso.interfaces.gserver.IAccounts}.
        @param clock: the L{IReactorTime} of sessions.
        @param settings: the L{GServerSettings}; the defaults when absent.
        @param parts: the parts to serve; every L{IGServerPart} plugin in
            C{oso.plugins} by default.
        @raise ValueError: when two parts want the same path.
        """
        self.context = context
        self.accounts = accounts
        self.clock = clock
        self.settings = settings if settings is not None else GServerSettings()
        self.sessions = Sessions(clock, self.settings.sessionTimeout)
        if parts is None:
            parts = getPlugins(IGServerPart, oso.plugins)
        self.parts = {}
        for part in sorted(parts, key=lambda p: (p.path, p.name)):
            other = self.parts.get(part.path)
            if other is not None:
                raise ValueError(
                    f"the G-Server parts {other.name!r} and {part.name!r} both "
                    f"want the path /{part.path}"
                )
            self.parts[part.path] = part
        self._resource = None
        self._closers = []

    def onClose(self, callback):
        self._closers.append(callback)

    def close(self):
        """
        The G-Server stops: every part's L{onClose} callback, newest first.
        """
        closers, self._closers = self._closers, []
        for callback in reversed(closers):
            try:
                callback()
            except Exception:
                log.failure("G-Server part cleanup {callback!r} failed", callback=callback)

    def resource(self):
        """
        The site's root resource, the parts' resources made on the first
        call (when every component of the server exists).  A part whose
        C{resource} fails is logged and left out.

        @return: an L{twisted.web.resource.IResource}.
        """
        if self._resource is None:
            resources = {}
            for path, part in self.parts.items():
                try:
                    resources[path.encode("utf-8")] = part.resource(self)
                except Exception:
                    log.failure("G-Server part {name!r} failed to start", name=part.name)
            rootPart = resources.pop(b"", None)
            self._resource = _Root(resources, rootPart)
        return self._resource

    def webSite(self):
        """
        A L{Site} serving L{resource} with L{GServerChannel}, its access
        log without query strings (L{accessLogLine}).
        """
        site = Site(self.resource(), logFormatter=accessLogLine)
        site.protocol = GServerChannel
        site.displayTracebacks = False
        return site

    def _session(self, request):
        sessionID = request.getCookie(SESSION_COOKIE)
        if sessionID is None:
            return None
        return self.sessions.get(sessionID.decode("ascii", "replace"))

    def _bearer(self, request):
        """
        @return: the bearer token of the request (C{str}), C{""} for an
            C{Authorization} header of another scheme, L{None} without one.
        """
        header = request.getHeader(b"authorization")
        if header is None:
            return None
        scheme, _, token = header.strip().partition(b" ")
        if scheme.lower() != b"bearer":
            return ""
        return token.strip().decode("ascii", "replace")

    def principal(self, request):
        token = self._bearer(request)
        if token is not None:
            # A request with credentials of its own is judged by them only.
            return self.accounts.tokenPrincipal(token) if token else succeed(None)
        session = self._session(request)
        return succeed(None if session is None else session.principal)

    def startSession(self, request, principal):
        previous = self._session(request)
        if previous is not None:
            # A new login never keeps a session id someone may have planted.
            self.sessions.end(previous.id)
        session = self.sessions.start(principal)
        request.addCookie(
            SESSION_COOKIE, session.id.encode("ascii"),
            path=b"/", secure=True, httpOnly=True, sameSite="Strict",
        )
        return session.csrf

    def endSession(self, request):
        session = self._session(request)
        if session is not None:
            self.sessions.end(session.id)
        request.addCookie(
            SESSION_COOKIE, b"", path=b"/", max_age=b"0",
            expires=b"Thu, 01 Jan 1970 00:00:00 GMT",
            secure=True, httpOnly=True, sameSite="Strict",
        )

    def csrfToken(self, request):
        session = self._session(request)
        return None if session is None else session.csrf

    def checkCSRF(self, request):
        if self._bearer(request):
            # A browser never adds an Authorization header of its own.
            return True
        session = self._session(request)
        given = request.getHeader(b"x-csrf-token")
        if given is None:
            given = (request.args or {}).get(b"csrf", [None])[0]
        if given is not None:
            given = given.decode("utf-8", "replace")
        if session is not None and session.checkCSRF(given):
            return True
        log.warn(
            "G-Server: CSRF check failed for {method} {path} from {client} ({why})",
            method=request.method.decode("ascii", "replace"),
            path=request.path.decode("utf-8", "replace")[:200],
            client=clientAddress(request),
            why="no session" if session is None else "wrong or missing token",
        )
        return False
