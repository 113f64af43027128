"""
Tests for the C{gserver} component: its configuration and errors, its
service on real TLS and plain-HTTP listeners (certificate checks on), the
first administrator's password, and that no secret reaches the log.
"""

import pathlib
import re

import treq
from gserverharness import HarnessContext, trustingClient
from twisted.internet import ssl
from twisted.logger import formatEvent, globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface.verify import verifyObject

from oso import config
from oso.certificates import makeSelfSigned
from oso.config import ConfigError
from oso.gserver.errors import LoginRefused
from oso.gserver.settings import GServerSettings
from oso.interfaces import IComponent
from oso.plugins.gserver import gserver
from oso.testing import Exchange

WHERE = "oso.toml: components.gserver"
FIRST_ADMIN = re.compile(r"G-Server administrator admin password (\S+) ")
LISTENING = re.compile(r"G-Server on (https?)://127\.0\.0\.1:(\d+)/")
LOOPBACK = "ssl:0:interface=127.0.0.1"
DOC = pathlib.Path(__file__).resolve().parents[2] / "doc" / "configuration.md"


class ConfigTests(SynchronousTestCase):
    """
    L{GServerComponent.validateConfig}.
    """

    def test_interface(self):
        """
        The component provides L{IComponent}.
        """
        self.assertTrue(verifyObject(IComponent, gserver))

    def test_defaults(self):
        """
        An empty section gives the defaults: HTTPS on 8802, no redirect,
        sessions of 30 minutes, 10000 events of history, 1000 per gadget
        session.
        """
        settings = gserver.validateConfig({}, WHERE)
        self.assertEqual(settings, GServerSettings())
        self.assertEqual(settings.listen, ("ssl:8802",))
        self.assertIsNone(settings.redirect)
        self.assertEqual(
            (settings.sessionTimeout, settings.eventHistory, settings.gadgetQueue),
            (1800.0, 10000, 1000),
        )

    def test_values(self):
        """
        Every key is read into the settings.
        """
        settings = gserver.validateConfig(
            {"listen": ["ssl:9443", "ssl:9444:interface=127.0.0.1"], "redirect": "tcp:9080",
             "session-timeout": 60, "event-history": 5, "gadget-queue": 7},
            WHERE,
        )
        self.assertEqual(settings.listen, ("ssl:9443", "ssl:9444:interface=127.0.0.1"))
        self.assertEqual(settings.redirect, "tcp:9080")
        self.assertEqual(
            (settings.sessionTimeout, settings.eventHistory, settings.gadgetQueue), (60.0, 5, 7)
        )

    def test_errors(self):
        """
        Bad values are errors naming the file and the key.
        """
        cases = [
            ({"lsiten": []}, "lsiten"),
            ({"listen": "ssl:8802"}, "listen"),
            ({"listen": []}, "listen"),
            ({"listen": ["tcp:8802"]}, "listen[0]"),
            ({"listen": ["ssl:8802", "ssl:port=x"]}, "listen[1]"),
            ({"redirect": "ssl:8801"}, "redirect"),
            ({"redirect": "tcp:nonsense"}, "redirect"),
            ({"session-timeout": 0}, "session-timeout"),
            ({"session-timeout": "1800"}, "session-timeout"),
            ({"event-history": 0}, "event-history"),
            ({"event-history": 1.5}, "event-history"),
            ({"gadget-queue": True}, "gadget-queue"),
            ({"certificate": "/nonexistent.crt"}, "private-key"),
            ({"private-key": "/nonexistent.key"}, "certificate"),
            ({"certificate": "/nonexistent.crt", "private-key": "/nonexistent.key"}, "certificate"),
        ]
        for section, key in cases:
            with self.assertRaises(ConfigError) as caught:
                gserver.validateConfig(section, WHERE)
            self.assertEqual(caught.exception.where, f"{WHERE}.{key}", section)

    def test_certificateNotMatching(self):
        """
        A certificate with another certificate's key is refused.
        """
        folder = pathlib.Path(self.mktemp())
        folder.mkdir()
        key, _ = makeSelfSigned(["localhost"])
        _, certificate = makeSelfSigned(["localhost"])
        (folder / "site.key").write_bytes(key)
        (folder / "site.crt").write_bytes(certificate)
        with self.assertRaises(ConfigError) as caught:
            gserver.validateConfig(
                {"certificate": str(folder / "site.crt"), "private-key": str(folder / "site.key")},
                WHERE,
            )
        self.assertEqual(caught.exception.where, f"{WHERE}.certificate")


class LogCapture:
    """
    Every log line while a test runs, formatted.
    """

    def __init__(self, testCase):
        self.lines = []
        globalLogPublisher.addObserver(self)
        testCase.addCleanup(globalLogPublisher.removeObserver, self)

    def __call__(self, event):
        self.lines.append(formatEvent(event) or "")


class ServiceTests(TestCase):
    """
    The component's service on real loopback listeners.
    """

    def setUp(self):
        self.exchange = Exchange()
        self.folder = self.mktemp()
        self.log = LogCapture(self)

    async def start(self, section, store=None):
        context = HarnessContext(self.exchange.model, store or self.exchange.store, self.folder)
        service = gserver.makeService(gserver.validateConfig(section, WHERE), context)
        service.startService()
        self.addCleanup(service.stopService)
        await service.whenStarted()
        return service

    async def test_firstAdministrator(self):
        """
        The first start makes C{admin} with a generated password, logged
        once; it logs in through the accounts.  A second start with that
        store makes none and logs no password.
        """
        service = await self.start({"listen": [LOOPBACK]})
        [password] = [m.group(1) for line in self.log.lines if (m := FIRST_ADMIN.search(line))]
        accounts = service.site.accounts
        principal = await accounts.login("admin", password, "127.0.0.1")
        self.assertTrue(principal.administrator)
        with self.assertRaises(LoginRefused):
            await accounts.login("admin", password + "x", "127.0.0.2")
        await service.stopService()
        before = len(self.log.lines)
        await self.start({"listen": [LOOPBACK]})
        self.assertFalse([line for line in self.log.lines[before:] if FIRST_ADMIN.search(line)])

    def _ports(self):
        return {
            scheme: int(port)
            for line in self.log.lines
            if (m := LISTENING.search(line))
            for scheme, port in [m.groups()]
        }

    async def test_httpsAndRedirect(self):
        """
        The site answers on HTTPS with the data directory's certificate
        (verified, with the security headers); the redirect listener
        answers 301 for GET and 308 for POST to the same path and query on
        the HTTPS port.
        """
        service = await self.start(
            {"listen": [LOOPBACK], "redirect": "tcp:0:interface=127.0.0.1"}
        )
        ports = self._ports()
        self.assertEqual(ports["https"], service.ports[0].getHost().port)
        certificate = ssl.Certificate.loadPEM(
            (service.site.context.dataDirectory.child("tls").child("server.crt")).getContent()
        )
        client = trustingClient(certificate)
        response = await client.get(f"https://127.0.0.1:{ports['https']}/no-such-part/x")
        self.assertEqual(response.code, 404)
        self.assertEqual(response.headers.getRawHeaders("X-Frame-Options"), ["DENY"])
        await response.content()
        base = f"http://127.0.0.1:{ports['http']}"
        for method, code in (("GET", 301), ("POST", 308)):
            response = await treq.request(method, base + "/api/v1?x=1", allow_redirects=False,
                                          persistent=False)
            self.assertEqual(response.code, code)
            self.assertEqual(
                response.headers.getRawHeaders("Location"),
                [f"https://127.0.0.1:{ports['https']}/api/v1?x=1"],
            )
            await response.content()
        response = await treq.get(base + "/", headers={"Host": "evil\r\nX: y"},
                                  allow_redirects=False, persistent=False)
        self.assertEqual(response.headers.getRawHeaders("Location"),
                         [f"https://127.0.0.1:{ports['https']}/"])
        await response.content()

    async def test_configuredCertificate(self):
        """
        A configured certificate and key replace the self-signed one: a
        client trusting the configured one connects, one trusting the
        data directory's does not.
        """
        folder = pathlib.Path(self.mktemp())
        folder.mkdir()
        key, certificate = makeSelfSigned(["127.0.0.1"])
        (folder / "site.key").write_bytes(key)
        (folder / "site.crt").write_bytes(certificate)
        service = await self.start({
            "listen": [LOOPBACK],
            "certificate": str(folder / "site.crt"), "private-key": str(folder / "site.key"),
        })
        url = f"https://127.0.0.1:{service.ports[0].getHost().port}/x"
        response = await trustingClient(ssl.Certificate.loadPEM(certificate)).get(url)
        self.assertEqual(response.headers.getRawHeaders("X-Content-Type-Options"), ["nosniff"])
        await response.content()
        self.assertFalse(
            service.site.context.dataDirectory.child("tls").exists(),
            "no self-signed certificate is made when one is configured",
        )

    async def test_noSecretLogged(self):
        """
        Logins (right and wrong), an API token and its use, a session and
        a password in a query string leave no password, token, session id
        or CSRF token in the log; only the first administrator's password
        appears, once, in its own line.
        """
        service = await self.start({"listen": [LOOPBACK]})
        site = service.site
        [password] = [m.group(1) for line in self.log.lines if (m := FIRST_ADMIN.search(line))]
        principal = await site.accounts.login("admin", password, "127.0.0.1")
        with self.assertRaises(LoginRefused):
            await site.accounts.login("admin", "Wrong-Secret-42", "127.0.0.3")
        token = await site.accounts.issueToken(principal, "script")
        session = site.sessions.start(principal)
        certificate = ssl.Certificate.loadPEM(
            site.context.dataDirectory.child("tls").child("server.crt").getContent()
        )
        client = trustingClient(certificate)
        base = f"https://127.0.0.1:{service.ports[0].getHost().port}"
        for url, headers in [
            (f"/x?gsUser=100&gsPass={password}", {}),
            (f"/x?gsSession={session.id}", {"Referer": f"{base}/?csrf={session.csrf}"}),
            ("/x", {"Authorization": f"Bearer {token}"}),
            ("/x", {"Cookie": f"__Host-oso-session={session.id}"}),
        ]:
            response = await client.get(base + url, headers=headers)
            await response.content()
        await service.stopService()
        text = "\n".join(self.log.lines)
        self.assertIn('"GET /x HTTP/1.1" 404', text, "the access log is there")
        self.assertEqual(text.count(password), 1)
        for secret in (token, session.id, session.csrf, "Wrong-Secret-42"):
            self.assertNotIn(secret, text)


def test_documentedSection(tmp_path):
    """
    The C{[components.gserver]} table of the complete example in
    doc/configuration.md is valid for the component.
    """
    [block] = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    (tmp_path / "oso.toml").write_text(block)
    section = config.load(tmp_path / "oso.toml").componentSections["gserver"]
    settings = gserver.validateConfig(section, WHERE)
    assert settings.redirect == "tcp:8801"
