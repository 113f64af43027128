"""
Tests for the management pages (L{oso.gserver.wbm}) over the G-Server
harness in memory (L{treq.testing.StubTreq}): who may see them, the
login and its CSRF and lockout, CSRF on every form, escaping, and what
each page shows and changes in the call model, the store and the CDR
journal.
"""

import re
from urllib.parse import urlencode

from gserverharness import ADMIN, ADMIN_PASSWORD, ADMIN_PRINCIPAL, USERS, GServerHarness
from twisted.internet import reactor
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport
from twisted.internet.task import deferLater
from twisted.logger import Logger
from twisted.trial.unittest import TestCase
from zope.interface.verify import verifyObject

from oso.cdr.recorder import RecorderSettings
from oso.gserver.accounts import Principal
from oso.gserver.eventjson import eventObject
from oso.gserver.site import SESSION_COOKIE
from oso.gserver.wbm.login import LOGIN_COOKIE
from oso.interfaces.gserver import IGServerPart
from oso.plugins.cdr import CDRService, CDRSettings
from oso.plugins.csta import csta
from oso.plugins.gserver_wbm import managementPart
from oso.secrets import verifyPassword

BASE = "https://oso.test"

#: Every page an administrator can open.
PAGES = ("/", "/dashboard/calls", "/extensions", "/extensions/new", "/extensions/100",
         "/dialplan", "/call-records", "/system")

#: Every form's action.
FORMS = ("/extensions/new", "/extensions/100/settings", "/extensions/100/identity",
         "/extensions/100/password",
         "/extensions/100/forwarding", "/extensions/100/dnd", "/extensions/100/delete",
         "/logout")

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Answer:
    """
    A response read whole: its code, headers, body text and cookies.
    """

    def __init__(self, response, body):
        self.code = response.code
        self.headers = response.headers
        self.text = body.decode("utf-8")
        self.cookies = {c.name: c.value for c in response.cookies()}

    def header(self, name):
        values = self.headers.getRawHeaders(name)
        return values[0] if values else None


class WBMTests(TestCase):
    """
    The management pages of a harness G-Server with only the WBM part, a
    running cdr component (recording internal calls) and a csta component
    that listens nowhere.
    """

    def setUp(self):
        self.harness = GServerHarness(self.mktemp(), parts=[managementPart])
        context = self.harness.context
        self.cdr = CDRService(CDRSettings(recorder=RecorderSettings(recordInternal=True)),
                              context)
        context.components["cdr"] = self.cdr
        context.components["csta"] = csta.makeService(
            csta.validateConfig({"listen": ["tcp:0:interface=127.0.0.1"]}, "test"), context
        )
        self.model = self.harness.exchange.model
        self.admin = self.harness.session(ADMIN_PRINCIPAL)
        d = self.cdr.startService()
        self.addCleanup(self.cdr.stopService)
        return d

    async def request(self, method, path, cookies=None, form=None, headers=None):
        """
        Make a request with only the given cookies (a new stub each time:
        a stub keeps the cookies it was sent), pumping it until answered.
        """
        self.stub = self.harness.stubTreq()
        kwargs = {"cookies": cookies or {}, "allow_redirects": False}
        if form is not None:
            kwargs["data"] = urlencode(form).encode("utf-8")
            kwargs["headers"] = dict(FORM, **(headers or {}))
        d = self.stub.request(method, BASE + path, **kwargs)
        while not d.called:
            self.stub.flush()
            await deferLater(reactor, 0.002, lambda: None)
        response = await d
        body = self.stub.content(response)
        while not body.called:
            self.stub.flush()
            await deferLater(reactor, 0.002, lambda: None)
        return Answer(response, await body)

    def get(self, path, session=None):
        return self.request("GET", path, session.cookies if session else None)

    def post(self, path, form, session=None, csrf=True):
        if session is not None and csrf:
            form = dict(form, csrf=session.csrf)
        return self.request("POST", path, session.cookies if session else None, form)

    def test_plugin(self):
        """
        The part is a plugin at the site's root.
        """
        self.assertTrue(verifyObject(IGServerPart, managementPart))
        self.assertEqual(managementPart.path, "")

    # Who may see the pages.

    async def test_withoutSessionRedirectsToLogin(self):
        """
        Without a session every page redirects to the login page, and
        every form is refused with 403, changing nothing.
        """
        for path in PAGES:
            answer = await self.get(path)
            self.assertEqual((answer.code, answer.header("Location")), (303, "/login"), path)
        for path in FORMS[:-1]:
            answer = await self.post(path, {"number": "150", "name": "x", "on": "on"})
            self.assertEqual(answer.code, 403, path)
        self.assertNotIn("150", [d.number for d in self.model.devices()])
        self.assertFalse(self.model.getDoNotDisturb("100"))

    async def test_extensionUserRefused(self):
        """
        An extension's user, with a session from elsewhere, gets a 403
        page on every page and form, which offers only to log out.
        """
        session = self.harness.session(Principal.forExtension("100"))
        for path in PAGES:
            answer = await self.get(path, session)
            self.assertEqual(answer.code, 403, path)
            self.assertIn("Administrators only", answer.text)
            self.assertNotIn('href="/extensions"', answer.text)
        answer = await self.post("/extensions/100/dnd", {"on": "on"}, session)
        self.assertEqual(answer.code, 403)
        self.assertFalse(self.model.getDoNotDisturb("100"))

    async def test_everyPageForAdministrator(self):
        """
        An administrator gets every page, each with the navigation, the
        logout form with the session's CSRF token, and the page headers.
        """
        for path in PAGES:
            answer = await self.get(path, self.admin)
            self.assertEqual(answer.code, 200, path)
            self.assertEqual(answer.header("Cache-Control"), "no-store")
            if path != "/dashboard/calls":
                self.assertTrue(answer.text.startswith("<!DOCTYPE html>"), path)
                self.assertIn(f'value="{self.admin.csrf}"', answer.text)
                self.assertIn('action="/logout"', answer.text)

    # Login and logout.

    async def loginForm(self):
        answer = await self.get("/login")
        self.assertEqual(answer.code, 200)
        token = answer.cookies[LOGIN_COOKIE.decode()]
        self.assertIn(f'value="{token}"', answer.text)
        return {LOGIN_COOKIE.decode(): token}, token

    async def test_login(self):
        """
        The login form's own token and cookie and the administrator's
        password start a session: its cookie is set and the dashboard
        opens with it.  The password appears in no page.
        """
        cookies, token = await self.loginForm()
        answer = await self.request("POST", "/login", cookies, {
            "login": token, "user": ADMIN, "password": ADMIN_PASSWORD,
        })
        self.assertEqual((answer.code, answer.header("Location")), (303, "/"))
        session = {SESSION_COOKIE.decode(): answer.cookies[SESSION_COOKIE.decode()]}
        home = await self.request("GET", "/", session)
        self.assertEqual(home.code, 200)
        self.assertIn("Dashboard", home.text)
        self.assertNotIn(ADMIN_PASSWORD, home.text + answer.text)
        again = await self.request("GET", "/login", session)
        self.assertEqual((again.code, again.header("Location")), (303, "/"))

    async def test_loginWithoutFormTokenRefused(self):
        """
        A login post without the login page's token (login CSRF) is
        refused without checking the password.
        """
        cookies, token = await self.loginForm()
        for cookieJar, form in [
            ({}, {"login": token}),
            (cookies, {}),
            (cookies, {"login": token + "x"}),
        ]:
            answer = await self.request("POST", "/login", cookieJar, dict(
                form, user=ADMIN, password=ADMIN_PASSWORD
            ))
            self.assertEqual(answer.code, 403)
            self.assertNotIn(SESSION_COOKIE.decode(), answer.cookies)

    async def test_loginRefusedAndLockedOut(self):
        """
        A wrong password is refused without saying which field was wrong;
        the next try within the lockout delay gets 429 with Retry-After,
        even with the right password.
        """
        cookies, token = await self.loginForm()
        form = {"login": token, "user": ADMIN, "password": "wrong"}
        answer = await self.request("POST", "/login", cookies, form)
        self.assertEqual(answer.code, 403)
        self.assertIn("Wrong name or password.", answer.text)
        answer = await self.request("POST", "/login", cookies,
                                    dict(form, password=ADMIN_PASSWORD))
        self.assertEqual(answer.code, 429)
        self.assertEqual(answer.header("Retry-After"), "1")
        self.assertNotIn(SESSION_COOKIE.decode(), answer.cookies)

    async def test_extensionUserLoginRefused(self):
        """
        An extension's user with the right password gets no session here.
        """
        cookies, token = await self.loginForm()
        answer = await self.request("POST", "/login", cookies, {
            "login": token, "user": "100", "password": USERS["100"],
        })
        self.assertEqual(answer.code, 403)
        self.assertIn("for administrators", answer.text)
        self.assertNotIn(SESSION_COOKIE.decode(), answer.cookies)

    async def test_logout(self):
        """
        Logging out needs the CSRF token; then the session is gone.
        """
        answer = await self.post("/logout", {}, self.admin, csrf=False)
        self.assertEqual(answer.code, 403)
        self.assertEqual((await self.get("/", self.admin)).code, 200)
        answer = await self.post("/logout", {}, self.admin)
        self.assertEqual((answer.code, answer.header("Location")), (303, "/login"))
        self.assertEqual((await self.get("/", self.admin)).code, 303)

    # CSRF and escaping.

    async def test_formsRefusedWithoutCSRF(self):
        """
        Every form of an administrator's session without its CSRF token,
        or with another, is refused with 403 and changes nothing.
        """
        for token in (None, "forged"):
            for path in FORMS:
                form = {"number": "150", "name": "x", "on": "on", "password": "long-enough",
                        "classOfService": "internal", "port": "virtual-phones",
                        "type": "forwardImmediate", "destination": "101",
                        "withholdCallerID": "on", "presentableNumbers": "4930123456000"}
                if token is not None:
                    form["csrf"] = token
                answer = await self.post(path, form, self.admin, csrf=False)
                self.assertEqual(answer.code, 403, path)
        self.assertNotIn("150", [d.number for d in self.model.devices()])
        device = self.model.device("100")
        self.assertFalse(device.features.doNotDisturb)
        self.assertIsNone(device.features.forwardingFor(0))
        self.assertEqual(device.name, "")
        self.assertEqual((device.withholdCallerID, device.presentableNumbers), (False, ()))
        self.assertEqual((await self.get("/", self.admin)).code, 200)

    async def test_namesEscaped(self):
        """
        A name with markup is shown as text on the list and the
        extension's page.
        """
        hostile = '<script>alert("x")</script>&'
        answer = await self.post("/extensions/100/settings", {
            "name": hostile, "classOfService": "internal",
        }, self.admin)
        self.assertEqual(answer.code, 303)
        self.assertEqual(self.model.device("100").name, hostile)
        for path in ("/extensions", "/extensions/100"):
            text = (await self.get(path, self.admin)).text
            self.assertNotIn("<script>alert", text)
            self.assertIn("&lt;script&gt;alert", text)

    async def test_badInput(self):
        """
        Fields that are not UTF-8, repeated, too long or hold control
        characters are refused with 400 and the field's name.
        """
        for form, field in [
            ([("number", b"\xff\xfe")], "number"),
            ([("number", "150"), ("number", "151")], "number"),
            ([("number", "150"), ("name", "x" * 65)], "name"),
            ([("number", "150"), ("name", "a\x00b")], "name"),
            ([("number", "15a")], "number"),
        ]:
            body = urlencode(form + [("csrf", self.admin.csrf), ("port", "virtual-phones"),
                                     ("classOfService", "internal")])
            self.stub = self.harness.stubTreq()
            d = self.stub.post(BASE + "/extensions/new", data=body.encode(),
                               headers=FORM, cookies=self.admin.cookies,
                               allow_redirects=False)
            while not d.called:
                self.stub.flush()
                await deferLater(reactor, 0.002, lambda: None)
            response = await d
            self.assertEqual(response.code, 400, form)
            text = (await self.stub.content(response)).decode()
            self.assertIn(f"{field}:", text)
        self.assertNotIn("150", [d.number for d in self.model.devices()])

    # Extensions.

    async def test_createExtension(self):
        """
        A new extension with a password is in the model and the store;
        only the password's hashes are kept and no page shows it.
        """
        answer = await self.post("/extensions/new", {
            "number": "150", "name": "Reception", "port": "virtual-phones",
            "classOfService": "national", "password": "s3cret-pass",
        }, self.admin)
        self.assertEqual((answer.code, answer.header("Location")),
                         (303, "/extensions/150?notice=created"))
        device = self.model.device("150")
        self.assertEqual((device.name, device.port, device.classOfService),
                         ("Reception", "virtual-phones", "national"))
        self.assertTrue(verifyPassword("s3cret-pass", device.credentials.passwordHash))
        stored = {d.number: d for d in await self.harness.exchange.store.loadDevices()}
        self.assertEqual(stored["150"], device)
        page = await self.get("/extensions/150?notice=created", self.admin)
        self.assertIn("The extension was created.", page.text)
        self.assertNotIn("s3cret-pass", page.text)
        self.assertIn("Reception", (await self.get("/extensions", self.admin)).text)

    async def test_createRefused(self):
        """
        A number in use, one beginning with the trunk access code, an
        emergency number and a short password are refused with the reason.
        """
        for number, password, reason in [
            ("100", "", "there is already a device 100"),
            ("0123", "", "trunk access code"),
            ("112", "", "emergency number"),
            ("150", "short", "at least 8 characters"),
        ]:
            answer = await self.post("/extensions/new", {
                "number": number, "port": "virtual-phones", "classOfService": "internal",
                "password": password,
            }, self.admin)
            self.assertEqual(answer.code, 400, number)
            self.assertIn(reason, answer.text)
        self.assertNotIn("150", [d.number for d in self.model.devices()])

    async def test_callerIdentity(self):
        """
        The caller identity form sets the public number, withholds the
        caller id (CLIR) and lists the further presentable numbers, in the
        model and the store; the page shows them; an empty form clears
        them; malformed numbers are refused naming the field.
        """
        answer = await self.post("/extensions/101/identity", {
            "publicNumber": "4930123456101", "withholdCallerID": "on",
            "presentableNumbers": "4930123456000, 4930123456999",
        }, self.admin)
        self.assertEqual((answer.code, answer.header("Location")),
                         (303, "/extensions/101?notice=saved"))
        device = self.model.device("101")
        self.assertEqual(
            (device.publicNumber, device.withholdCallerID, device.presentableNumbers),
            ("4930123456101", True, ("4930123456000", "4930123456999")),
        )
        stored = {d.number: d for d in await self.harness.exchange.store.loadDevices()}
        self.assertEqual(stored["101"], device)
        page = (await self.get("/extensions/101", self.admin)).text
        self.assertIn('value="4930123456000 4930123456999"', page)
        self.assertRegex(page, r'<input[^>]*name="withholdCallerID"[^>]*checked')
        self.assertIn("withheld", page)
        answer = await self.post("/extensions/101/identity", {}, self.admin)
        self.assertEqual(answer.code, 303)
        device = self.model.device("101")
        self.assertEqual(
            (device.publicNumber, device.withholdCallerID, device.presentableNumbers),
            (None, False, ()),
        )
        for form, problem in [
            ({"publicNumber": "+4930"}, "publicNumber: 1 to 15 digits"),
            ({"presentableNumbers": "4930 +4931"}, "presentableNumbers: +4931 is not"),
            ({"presentableNumbers": "4930 4930"}, "presentableNumbers: a number is listed twice"),
            ({"presentableNumbers": " ".join(str(n) for n in range(21))},
             "presentableNumbers: at most 20 numbers"),
            ({"withholdCallerID": "yes"}, "withholdCallerID: on, or nothing"),
        ]:
            answer = await self.post("/extensions/101/identity", form, self.admin)
            self.assertEqual(answer.code, 400, form)
            self.assertIn(problem, answer.text)
        self.assertFalse(self.model.device("101").withholdCallerID)

    async def test_setPassword(self):
        """
        A new password replaces the credentials, digest HA1 included.
        """
        answer = await self.post("/extensions/101/password", {"password": "new-password-1"},
                                 self.admin)
        self.assertEqual(answer.code, 303)
        device = self.model.device("101")
        self.assertTrue(verifyPassword("new-password-1", device.credentials.passwordHash))
        self.assertIsNotNone(device.credentials.ha1For("oso"))
        self.assertFalse(verifyPassword(USERS["101"], device.credentials.passwordHash))

    async def test_forwardingAndDoNotDisturb(self):
        """
        The forwarding and DND forms use the call model's feature
        services: the state changes (in the store too) and the page says so;
        a forwarding to the extension itself is refused with the model's
        reason.
        """
        answer = await self.post("/extensions/100/forwarding", {
            "type": "forwardImmediate", "destination": "101",
        }, self.admin)
        self.assertEqual(answer.code, 303)
        self.assertEqual(self.model.device("100").features.forwardingFor(0), "101")
        answer = await self.post("/extensions/100/dnd", {"on": "on"}, self.admin)
        self.assertEqual(answer.code, 303)
        self.assertTrue(self.model.getDoNotDisturb("100"))
        stored = {d.number: d for d in await self.harness.exchange.store.loadDevices()}
        self.assertTrue(stored["100"].features.doNotDisturb)
        page = (await self.get("/extensions", self.admin)).text
        self.assertIn("immediate to 101", page)
        answer = await self.post("/extensions/100/forwarding", {
            "type": "forwardBusy", "destination": "100",
        }, self.admin)
        self.assertEqual(answer.code, 400)
        self.assertIn("Refused", answer.text)
        answer = await self.post("/extensions/100/forwarding", {
            "type": "forwardImmediate", "destination": "",
        }, self.admin)
        self.assertEqual(answer.code, 303)
        self.assertIsNone(self.model.device("100").features.forwardingFor(0))

    async def test_delete(self):
        """
        An extension in a call cannot be deleted (409, the model's
        reason); once the call is over it is deleted from model and store.
        """
        connection = self.harness.exchange.call("102", "103")
        answer = await self.post("/extensions/103/delete", {}, self.admin)
        self.assertEqual(answer.code, 409)
        self.assertIn("in a call", answer.text)
        self.harness.exchange.phone("102").hangUp(connection)
        answer = await self.post("/extensions/103/delete", {}, self.admin)
        self.assertEqual((answer.code, answer.header("Location")),
                         (303, "/extensions?notice=deleted"))
        self.assertNotIn("103", [d.number for d in self.model.devices()])
        self.assertNotIn("103", [d.number for d in
                                 await self.harness.exchange.store.loadDevices()])
        self.assertEqual((await self.get("/extensions/103", self.admin)).code, 404)

    # Dashboard, dial plan, call records, system.

    async def test_dashboardCalls(self):
        """
        A call shows on the dashboard and in the fragment the live update
        fetches, with each party's state; once cleared it is gone.  The
        page's script listens to the stream's type of each of its events.
        """
        exchange = self.harness.exchange
        connection = exchange.call("100", "101")
        fragment = (await self.get("/dashboard/calls", self.admin)).text
        self.assertRegex(fragment, r"100.*initiated|100.*connected")
        self.assertIn("alerting", fragment)
        self.assertIn("101", fragment)
        exchange.phone("101").answer()
        page = (await self.get("/", self.admin)).text
        self.assertEqual(len(re.findall("state-connected", page)), 2)
        # The script listens to every type the event stream sends them as.
        listened = re.search('data-events="([^"]*)"', page).group(1).split()
        for event in exchange.recorder.events:
            self.assertIn(eventObject(event)["type"], listened)
        exchange.phone("100").hangUp(connection)
        fragment = (await self.get("/dashboard/calls", self.admin)).text
        self.assertIn("No active calls.", fragment)
        self.assertNotIn("<html", fragment)

    async def test_callRecords(self):
        """
        A finished call's record is listed; each format downloads it
        without acknowledging it; an unknown format is refused.
        """
        exchange = self.harness.exchange
        connection = exchange.call("100", "101")
        exchange.phone("101").answer()
        exchange.clock.advance(42)
        exchange.phone("100").hangUp(connection)
        while self.cdr.journal.pending < 2:
            await deferLater(reactor, 0.01, lambda: None)
        page = await self.get("/call-records", self.admin)
        self.assertIn("42 s", page.text)
        for name in ("csv", "jsonl", "openscape", "hipath-fixed"):
            self.assertIn(f"/call-records/download?format={name}", page.text)
            answer = await self.get(f"/call-records/download?format={name}", self.admin)
            self.assertEqual(answer.code, 200, name)
            self.assertIn("attachment", answer.header("Content-Disposition"))
            self.assertIn("100", answer.text)
        self.assertEqual(self.cdr.journal.pending, 2)
        answer = await self.get("/call-records/download?format=../../etc", self.admin)
        self.assertEqual(answer.code, 400)

    async def test_dialPlan(self):
        """
        The dial plan page shows the trunk access code and emergency
        numbers of the model's dial plan.
        """
        text = (await self.get("/dialplan", self.admin)).text
        self.assertIn("Trunk access code", text)
        for number in self.model.dialPlan.emergencyNumbers:
            self.assertIn(number, text)

    async def test_cstaLinks(self):
        """
        An open CSTA link is listed on the dashboard with its peer, and
        counted on the system page against the licensed links.
        """
        factory = self.harness.context.components["csta"].factory
        protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 4242))
        peer = IPv4Address("TCP", "192.0.2.9", 4242)
        protocol.makeConnection(StringTransport(peerAddress=peer))
        self.addCleanup(protocol.connectionLost, None)
        text = (await self.get("/", self.admin)).text
        self.assertIn("192.0.2.9:4242", text)
        self.assertIn("not yet known", text)
        system = (await self.get("/system", self.admin)).text
        self.assertRegex(system, r"CSTA links in use</dt><dd>1<")
        self.assertRegex(system, rf"CSTA links allowed</dt><dd>{factory.maxLinks}<")

    async def test_system(self):
        """
        The system page shows the CSTA link licences and the log tail,
        with fields that hold secrets hidden.
        """
        Logger(namespace="test").info("the password of {number} is {password}",
                                      number="100", password="very-secret-value")
        text = (await self.get("/system", self.admin)).text
        self.assertIn("CSTA links allowed", text)
        self.assertIn("the password of 100 is [hidden]", text)
        self.assertNotIn("very-secret-value", text)

    async def test_static(self):
        """
        The style sheet, script and icon are served with their types;
        other names are not found.
        """
        for name, kind in [("wbm.css", "text/css"), ("wbm.js", "text/javascript"),
                           ("oso.svg", "image/svg+xml")]:
            answer = await self.get(f"/static/{name}")
            self.assertEqual(answer.code, 200)
            self.assertTrue(answer.header("Content-Type").startswith(kind))
        self.assertEqual((await self.get("/static/app.py")).code, 404)
        icon = await self.get("/favicon.ico")
        self.assertEqual((icon.code, icon.header("Content-Type")), (200, "image/svg+xml"))
