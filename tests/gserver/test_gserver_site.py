"""
Tests for the G-Server's site: parts served at their paths, the root part,
sessions and CSRF, bearer tokens, security headers and hostile targets,
in memory (StubTreq) and over the real TLS listener with certificate
checks on.
"""

import pathlib
import re
import socket
import ssl as stdssl

import pytest

from gserverharness import ADMIN_PRINCIPAL, GServerHarness, trustingClient
from klein import Klein
from twisted.internet import ssl
from twisted.internet.task import Clock
from twisted.internet.threads import deferToThread
from twisted.logger import formatEvent, globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web import pages
from twisted.web.resource import Resource
from zope.interface import implementer
from zope.interface.verify import verifyObject

import oso.plugins
from oso.certificates import makeSelfSigned
from oso.gserver.accounts import Principal
from oso.gserver.sessions import Sessions
from oso.gserver.settings import GServerSettings
from oso.gserver.site import SESSION_COOKIE, GServerSite
from oso.interfaces.gserver import IGServerPart, IGServerSite


class WhoAmI:
    """
    A klein resource that says who is asking and checks CSRF on POST.
    """

    app = Klein()

    def __init__(self, site):
        self.site = site

    @app.route("/", methods=["GET"])
    async def who(self, request):
        principal = await self.site.principal(request)
        return "nobody" if principal is None else principal.name

    @app.route("/change", methods=["POST"])
    def change(self, request):
        if not self.site.checkCSRF(request):
            request.setResponseCode(403)
            return "csrf"
        return "changed"

    @app.route("/login", methods=["POST"])
    async def login(self, request):
        principal = await self.site.accounts.login(
            request.args[b"user"][0].decode(), request.args[b"password"][0].decode(),
            request.getClientAddress().host,
        )
        return self.site.startSession(request, principal)

    @app.route("/logout", methods=["POST"])
    def logout(self, request):
        self.site.endSession(request)
        return "bye"


@implementer(IGServerPart)
class WhoAmIPart:
    name = "whoami"
    path = "who"

    def resource(self, site):
        return WhoAmI(site).app.resource()


@implementer(IGServerPart)
class RootPart:
    """
    A root part of plain twisted.web resources: C{/} and C{/page}.
    """

    name = "pages"
    path = ""

    def resource(self, site):
        root = _Folder()
        root.putChild(b"", _Text(b"home"))
        root.putChild(b"page", _Text(b"page"))
        return root


class _Folder(Resource):
    def getChild(self, name, request):
        return pages.notFound()


class _Text(Resource):
    isLeaf = True

    def __init__(self, text):
        super().__init__()
        self.text = text

    def render_GET(self, request):
        return self.text


class LogCapture:
    """
    Collects formatted log events while installed.
    """

    def __init__(self, testCase):
        self.lines = []
        globalLogPublisher.addObserver(self)
        testCase.addCleanup(globalLogPublisher.removeObserver, self)

    def __call__(self, event):
        self.lines.append(formatEvent(event))

    def text(self):
        return "\n".join(self.lines)


class SessionsTests(SynchronousTestCase):
    """
    L{Sessions} on a fake clock.
    """

    def test_idleExpiry(self):
        """
        A session used within the timeout lives on; one idle longer is
        gone.
        """
        clock = Clock()
        sessions = Sessions(clock, 60)
        session = sessions.start(ADMIN_PRINCIPAL)
        clock.advance(59)
        self.assertIs(sessions.get(session.id), session)
        clock.advance(59)
        self.assertIs(sessions.get(session.id), session)
        clock.advance(61)
        self.assertIsNone(sessions.get(session.id))

    def test_sweep(self):
        """
        Expired sessions are swept when a new one starts after a timeout.
        """
        clock = Clock()
        sessions = Sessions(clock, 60)
        for _ in range(5):
            sessions.start(ADMIN_PRINCIPAL)
        clock.advance(61)
        sessions.start(ADMIN_PRINCIPAL)
        self.assertEqual(len(sessions), 1)

    def test_randomAndCSRF(self):
        """
        Ids and CSRF tokens are fresh and long; only the session's own
        token passes.
        """
        sessions = Sessions(Clock(), 60)
        a, b = sessions.start(ADMIN_PRINCIPAL), sessions.start(ADMIN_PRINCIPAL)
        self.assertNotEqual(a.id, b.id)
        self.assertNotEqual(a.csrf, b.csrf)
        self.assertGreaterEqual(len(a.id), 43)
        self.assertTrue(a.checkCSRF(a.csrf))
        self.assertFalse(a.checkCSRF(b.csrf))
        self.assertFalse(a.checkCSRF(None))
        self.assertFalse(a.checkCSRF("é"))


class SiteTests(TestCase):
    """
    The site in memory, through L{StubTreq}.
    """

    def setUp(self):
        self.harness = GServerHarness(self.mktemp(), parts=[WhoAmIPart(), RootPart()])
        self.stub = self.harness.stubTreq()
        self.log = LogCapture(self)

    def test_interface(self):
        """
        L{GServerSite} provides L{IGServerSite}.
        """
        self.assertTrue(verifyObject(IGServerSite, self.harness.site))

    def test_closeCallbacks(self):
        """
        L{GServerSite.close} runs the parts' cleanups newest first; one
        that fails is logged and the others still run.
        """
        ran = []
        self.harness.site.onClose(lambda: ran.append("first"))
        self.harness.site.onClose(lambda: 1 / 0)
        self.harness.site.onClose(lambda: ran.append("last"))
        self.harness.site.close()
        self.assertEqual(ran, ["last", "first"])
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)
        self.harness.site.close()
        self.assertEqual(ran, ["last", "first"])

    async def get(self, path, **kw):
        response = await self.stub.get("https://oso.test" + path, **kw)
        return response, await response.text()

    async def test_parts(self):
        """
        A part serves its path; the root part serves the rest, with its
        own paths.
        """
        self.assertEqual((await self.get("/who/"))[1], "nobody")
        self.assertEqual((await self.get("/"))[1], "home")
        self.assertEqual((await self.get("/page"))[1], "page")
        response, _ = await self.get("/nothing")
        self.assertEqual(response.code, 404)

    async def test_noRootPart(self):
        """
        Without a root part an unknown path is 404.
        """
        harness = GServerHarness(self.mktemp(), parts=[WhoAmIPart()])
        response = await harness.stubTreq().get("https://oso.test/elsewhere")
        self.assertEqual(response.code, 404)

    def test_duplicatePaths(self):
        """
        Two parts with one path are an error naming both.
        """
        class Other(WhoAmIPart):
            name = "other"

        with self.assertRaises(ValueError) as caught:
            GServerSite(self.harness.context, self.harness.accounts, Clock(),
                        parts=[WhoAmIPart(), Other()])
        self.assertIn("'other'", str(caught.exception))
        self.assertIn("'whoami'", str(caught.exception))

    async def test_securityHeaders(self):
        """
        Every response carries the security headers, HSTS on HTTPS, 404s
        included.
        """
        for path in ("/who/", "/", "/nothing"):
            response, _ = await self.get(path)
            headers = response.headers
            self.assertEqual(headers.getRawHeaders("X-Content-Type-Options"), ["nosniff"])
            self.assertEqual(headers.getRawHeaders("X-Frame-Options"), ["DENY"])
            [csp] = headers.getRawHeaders("Content-Security-Policy")
            self.assertIn("script-src 'self'", csp)
            self.assertIn("frame-ancestors 'none'", csp)
            self.assertTrue(headers.getRawHeaders("Strict-Transport-Security"))

    async def test_session(self):
        """
        A login starts a session: a Secure, HttpOnly, SameSite=Strict
        cookie; requests with it are the principal; logout ends it.
        """
        response = await self.stub.post(
            "https://oso.test/who/login", data={"user": "101", "password": "pass-101"}
        )
        csrf = await response.text()
        [cookie] = response.headers.getRawHeaders("Set-Cookie")
        attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
        for attribute in ("secure", "httponly", "samesite=strict", "path=/"):
            self.assertIn(attribute, attributes)
        self.assertTrue(cookie.startswith(SESSION_COOKIE.decode() + "="))
        sessionID = cookie.split(";")[0].split("=", 1)[1]
        cookies = {SESSION_COOKIE.decode(): sessionID}
        self.assertEqual((await self.get("/who/", cookies=cookies))[1], "101")
        self.assertEqual(len(csrf), 43)
        response = await self.stub.post("https://oso.test/who/logout", cookies=cookies)
        self.assertIn("Max-Age=0", response.headers.getRawHeaders("Set-Cookie")[0])
        self.assertEqual((await self.get("/who/", cookies=cookies))[1], "nobody")

    async def test_sessionExpires(self):
        """
        A session idle longer than the timeout is no one.
        """
        harness = GServerHarness(self.mktemp(), parts=[WhoAmIPart()],
                                 settings=GServerSettings(sessionTimeout=60))
        session = harness.session(ADMIN_PRINCIPAL)
        stub = harness.stubTreq()
        response = await stub.get("https://oso.test/who/", cookies=session.cookies)
        self.assertEqual(await response.text(), "admin")
        harness.clock.advance(61)
        response = await stub.get("https://oso.test/who/", cookies=session.cookies)
        self.assertEqual(await response.text(), "nobody")

    async def test_newSessionAtLogin(self):
        """
        A login with a session cookie ends that session (no fixation).
        """
        old = self.harness.session(ADMIN_PRINCIPAL)
        await self.stub.post(
            "https://oso.test/who/login", data={"user": "101", "password": "pass-101"},
            cookies=old.cookies,
        )
        self.assertEqual((await self.get("/who/", cookies=old.cookies))[1], "nobody")

    async def test_csrf(self):
        """
        A state change needs the session's CSRF token as form field or
        header; without it, or with another session's, it is refused and
        logged.
        """
        session = self.harness.session(Principal.forExtension("101"))
        other = self.harness.session(Principal.forExtension("102"))
        url = "https://oso.test/who/change"
        for kw, code in [
            ({"data": {"csrf": session.csrf}}, 200),
            ({"headers": {"X-CSRF-Token": session.csrf}}, 200),
            ({}, 403),
            ({"data": {"csrf": other.csrf}}, 403),
            ({"headers": {"X-CSRF-Token": "x" * 43}}, 403),
        ]:
            response = await self.stub.post(url, cookies=session.cookies, **kw)
            self.assertEqual(response.code, code, kw)
        # A new client: treq keeps the cookies it was given.
        response = await self.harness.stubTreq().post(url, data={"csrf": session.csrf})
        self.assertEqual(response.code, 403)
        self.assertIn("CSRF check failed", self.log.text())

    async def test_bearer(self):
        """
        An API token in C{Authorization: Bearer} is its principal and needs
        no CSRF token; a wrong token is no one, even with a session cookie.
        """
        token = await self.harness.accounts.issueToken(ADMIN_PRINCIPAL, "test")
        bearer = {"Authorization": f"Bearer {token}"}
        self.assertEqual((await self.get("/who/", headers=bearer))[1], "admin")
        response = await self.stub.post("https://oso.test/who/change", headers=bearer)
        self.assertEqual(response.code, 200)
        session = self.harness.session(ADMIN_PRINCIPAL)
        _, text = await self.get(
            "/who/", headers={"Authorization": "Bearer wrong"}, cookies=session.cookies
        )
        self.assertEqual(text, "nobody")
        _, text = await self.get("/who/", headers={"Authorization": "Basic YWRtaW46eA=="})
        self.assertEqual(text, "nobody")


class HostileTests(TestCase):
    """
    Hostile request targets get a 4xx and a log line; raw requests over a
    real socket, since HTTP clients normalise paths.
    """

    async def setUpHarness(self):
        self.harness = GServerHarness(self.mktemp(), parts=[WhoAmIPart(), RootPart()])
        self.addCleanup(self.harness.close)
        self.url = await self.harness.listen()
        self.port = int(self.url.rsplit(":", 1)[1])
        self.log = LogCapture(self)
        self.context = stdssl.create_default_context(
            cadata=self.harness.certificate.dumpPEM().decode()
        )

    def _raw(self, target):
        with socket.create_connection(("127.0.0.1", self.port)) as plain:
            with self.context.wrap_socket(plain, server_hostname="127.0.0.1") as tls:
                tls.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            b"Connection: close\r\n\r\n")
                answer = b""
                while chunk := tls.recv(65536):
                    answer += chunk
        return answer

    async def status(self, target):
        answer = await deferToThread(self._raw, target)
        self.assertTrue(answer.startswith(b"HTTP/1.1 "), (target[:40], answer[:100]))
        return int(answer.split(b" ", 2)[1])

    async def test_hostile(self):
        """
        Path traversal (plain and encoded), an encoded slash, bad UTF-8 in
        the path or query, and huge query strings are refused with 4xx,
        each with a log line.
        """
        await self.setUpHarness()
        cases = [
            (b"/../etc/passwd", 400),
            (b"/who/%2e%2e/secret", 400),
            (b"/page/..%2fsecret", 400),
            (b"/%ff%fe", 400),
            (b"/who/\xff", 400),
            (b"/who/?x=%ff", 400),
            (b"/who/?q=" + b"a" * 10000, 414),
            (b"/who/?q=" + b"a" * 20000, 400),
        ]
        for target, code in cases:
            before = len(self.log.lines)
            self.assertEqual(await self.status(target), code, target[:40])
            self.assertTrue(
                any("G-Server" in line for line in self.log.lines[before:]), target[:40]
            )
        self.assertEqual(await self.status(b"/who/"), 200)


class TLSTests(TestCase):
    """
    The site on a real TLS listener, with the client checking the
    certificate.
    """

    async def test_verified(self):
        """
        A client trusting the site's certificate gets the parts, cookies
        work across requests, and the headers are there.
        """
        harness = GServerHarness(self.mktemp(), parts=[WhoAmIPart(), RootPart()])
        self.addCleanup(harness.close)
        url = await harness.listen()
        response = await harness.client.post(
            url + "/who/login", data={"user": "admin", "password": "adm1n-Secret"}
        )
        self.assertEqual(response.code, 200)
        await response.text()
        response = await harness.client.get(url + "/who/")
        self.assertEqual(await response.text(), "admin")
        self.assertEqual(response.headers.getRawHeaders("X-Frame-Options"), ["DENY"])

    async def test_untrusted(self):
        """
        A client trusting another certificate refuses the connection.
        """
        harness = GServerHarness(self.mktemp(), parts=[WhoAmIPart()])
        self.addCleanup(harness.close)
        url = await harness.listen()
        _, otherPEM = makeSelfSigned(["127.0.0.1"])
        client = trustingClient(ssl.Certificate.loadPEM(otherPEM))
        with self.assertRaises(Exception) as caught:
            await client.get(url + "/who/")
        self.assertIn("certificate verify failed", repr(caught.exception))


DOC = pathlib.Path(__file__).resolve().parents[2] / "doc" / "gserver.md"


class WorkedExampleTests(TestCase):
    """
    The third-party part of doc/gserver.md, dropped into an C{oso/plugins}
    folder, is found and served.
    """

    @pytest.fixture(autouse=True)
    def _dropIn(self, dropIn):
        self.dropIn = dropIn

    async def test_helloPart(self):
        """
        The documented part answers at its path for a bearer token, and
        401 without one.
        """
        [source] = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
        root = self.dropIn({"hello_part": source})
        # As if the folder had been on sys.path when oso.plugins was
        # imported (the fixture restores __path__).
        oso.plugins.__path__.append(str(root / "oso" / "plugins"))
        harness = GServerHarness(self.mktemp())
        self.assertIn("hello", [part.name for part in harness.site.parts.values()])
        stub = harness.stubTreq()
        token = await harness.accounts.issueToken(Principal.forExtension("101"), "doc")
        response = await stub.get(
            "https://oso.test/hello/", headers={"Authorization": f"Bearer {token}"}
        )
        self.assertEqual(await response.text(), "hello 101: 101")
        response = await harness.stubTreq().get("https://oso.test/hello/")
        self.assertEqual(response.code, 401)


class PartsCloseTests(SynchronousTestCase):
    def test_observersRemoved(self):
        """
        The built-in parts observe the call model while the site runs
        (event history, metrics, gadget events) and stop when it closes.
        """
        harness = GServerHarness(self.mktemp())
        bus = harness.exchange.model._bus
        before = list(bus._observers)
        harness.site.resource()
        self.assertGreaterEqual(len(bus._observers) - len(before), 3)
        harness.site.close()
        self.assertEqual(bus._observers, before)
