"""
The management pages in a real headless Chromium (Debian's C{chromium} and
C{chromedriver}, driven by selenium) against the G-Server harness on a
real TLS listener with every part: log in, create an extension, make a
call between two virtual phones through the REST API, see it appear on the
dashboard without a reload (the event stream), see it go when cleared and
its record on the call records page, open every page with no error in the
browser's console, log out.

Screenshots of each step are kept under C{$OSO_TEST_ARTEFACTS} (or the
test's temporary folder).
"""

import json
import os
import shutil
from pathlib import Path

from gserverharness import ADMIN, ADMIN_PASSWORD, GServerHarness
from twisted.internet import reactor
from twisted.internet.defer import ensureDeferred
from twisted.internet.task import deferLater
from twisted.internet.threads import blockingCallFromThread, deferToThread
from twisted.trial.unittest import SkipTest, TestCase

from oso.cdr.recorder import RecorderSettings
from oso.plugins.cdr import CDRService, CDRSettings
from oso.plugins.csta import csta

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

#: Seconds the browser waits for a page to change.
WAIT = 30


def browserPrograms():
    """
    Chromium and its driver; a skip when one is missing, a failure under
    CI, which installs both.
    """
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if shutil.which(path) is None]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package")
    if missing:
        message = f"{', '.join(missing)} missing (apt-get install chromium chromium-driver)"
        if os.environ.get("CI") == "true":
            raise AssertionError(message)
        raise SkipTest(message)


def startBrowser(profile):
    """
    A headless Chromium that trusts any certificate (the harness's is
    self-signed) and keeps its console log.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--ignore-certificate-errors", f"--user-data-dir={profile}",
        "--window-size=1280,900",
    ]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


class Browser:
    """
    The blocking steps of the scenario, run on a thread: selenium waits
    for the browser while the reactor serves the pages.
    """

    def __init__(self, driver, base, artefacts, api):
        """
        @param api: C{(method, path, body) -> JSON}, a REST request made
            in the reactor thread.
        """
        self.driver = driver
        self.base = base
        self.artefacts = artefacts
        self.api = api
        self.consoleErrors = []

    def open(self, path):
        self.driver.get(self.base + path)
        self.checkConsole(path)

    def checkConsole(self, where):
        """
        Keep every console message at level SEVERE (errors: scripts,
        failed loads, CSP violations).
        """
        for entry in self.driver.get_log("browser"):
            if entry["level"] == "SEVERE":
                self.consoleErrors.append(f"{where}: {entry['message']}")

    def screenshot(self, name):
        self.driver.save_screenshot(str(self.artefacts / f"{name}.png"))

    def wait(self, condition, what):
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(self.driver, WAIT, poll_frequency=0.1).until(
            lambda driver: condition(), message=what
        )

    def element(self, selector):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def fill(self, form, values):
        from selenium.webdriver.support.ui import Select

        for name, value in values.items():
            field = self.element(f"{form} [name='{name}']")
            if field.tag_name == "select":
                Select(field).select_by_value(value)
            else:
                field.clear()
                field.send_keys(value)
        self.element(f"{form} button[type='submit']").click()

    def callsText(self):
        # In one script: the live update replaces the body at any time.
        return self.driver.execute_script(
            "return document.querySelector('#calls tbody').innerText;"
        )

    def recordShown(self):
        self.open("/call-records")
        return "150" in self.element("#records").text

    def consoleCheckWorks(self):
        """
        A page that is not there is an error in the console: the check
        sees errors.
        """
        self.open("/no-such-page")
        assert any("404" in error for error in self.consoleErrors), self.consoleErrors
        self.consoleErrors.clear()

    def run(self):
        self.consoleCheckWorks()
        self.open("/")
        self.wait(lambda: "/login" in self.driver.current_url, "redirect to the login page")
        self.screenshot("01-login")
        self.fill("#login", {"user": ADMIN, "password": ADMIN_PASSWORD})
        self.wait(lambda: self.driver.title.startswith("Dashboard"), "the dashboard")
        self.checkConsole("/ after login")

        self.open("/extensions/new")
        self.fill("#new-extension", {
            "number": "150", "name": "Reception <desk>", "port": "virtual-phones",
            "classOfService": "internal", "password": "browser-pass-1",
        })
        self.wait(lambda: self.driver.title.startswith("Extension 150"), "the new extension")
        assert "The extension was created." in self.element("main").text
        self.checkConsole("/extensions/150")
        self.screenshot("02-extension-created")
        self.open("/extensions")
        assert "Reception <desk>" in self.element("#extensions").text

        self.open("/")
        self.wait(lambda: self.element("#live").text == "live", "the event stream")
        assert "No active calls." in self.callsText()
        self.driver.execute_script("window.osoNotReloaded = true;")
        made = self.api("POST", "/services/makeCall", {
            "callingDevice": "150", "calledDirectoryNumber": "100", "autoOriginate": True,
        })
        callID = made["callingDevice"]["callID"]
        self.wait(lambda: "alerting" in self.callsText(), "the call alerting at 100")
        self.screenshot("03-call-alerting")
        self.api("POST", "/services/answerCall",
                 {"callToBeAnswered": {"callID": callID, "deviceID": "100"}})
        self.wait(lambda: self.callsText().count("connected") == 2, "the call connected")
        text = self.callsText()
        assert "150" in text and "100" in text, text
        self.screenshot("04-call-connected")
        self.api("POST", "/services/clearConnection",
                 {"connectionToBeCleared": {"callID": callID, "deviceID": "150"}})
        self.wait(lambda: "No active calls." in self.callsText(), "the call cleared")
        self.screenshot("05-call-cleared")
        assert self.driver.execute_script("return window.osoNotReloaded === true;"), (
            "the dashboard was reloaded instead of updated"
        )
        self.checkConsole("/ with the call")

        self.wait(lambda: self.recordShown(), "the call's record")
        for path, name in [("/extensions", "06-extensions"), ("/extensions/150", "07-extension"),
                           ("/dialplan", "08-dialplan"), ("/call-records", "09-call-records"),
                           ("/system", "10-system")]:
            self.open(path)
            assert self.element("h1").text, path
            self.screenshot(name)

        self.element("header form.logout button").click()
        self.wait(lambda: "/login" in self.driver.current_url, "the login page after logout")
        self.checkConsole("/login after logout")
        self.open("/extensions")
        self.wait(lambda: "/login" in self.driver.current_url, "logged out")


class BrowserTests(TestCase):
    """
    The scenario in Chromium.
    """

    timeout = 300

    async def test_scenario(self):
        browserPrograms()
        harness = GServerHarness(self.mktemp())
        context = harness.context
        context.components["csta"] = csta.makeService(
            csta.validateConfig({"listen": ["tcp:0:interface=127.0.0.1"]}, "test"), context
        )
        cdr = CDRService(CDRSettings(recorder=RecorderSettings(recordInternal=True)), context)
        context.components["cdr"] = cdr
        await cdr.startService()
        self.addCleanup(cdr.stopService)
        base = await harness.listen()
        self.addCleanup(harness.close)
        answer = await harness.client.post(base + "/api/v1/tokens", json={
            "user": ADMIN, "password": ADMIN_PASSWORD, "label": "browser test",
        })
        self.assertEqual(answer.code, 201, await answer.text())
        token = (await answer.json())["token"]

        async def request(method, path, body):
            response = await harness.client.request(
                method, base + "/api/v1" + path, data=json.dumps(body).encode(),
                headers={"Authorization": f"Bearer {token}",
                         "Content-Type": "application/json"},
            )
            text = await response.text()
            assert response.code == 200, (path, response.code, text)
            return json.loads(text)

        def api(method, path, body):
            return blockingCallFromThread(
                reactor, lambda: ensureDeferred(request(method, path, body))
            )

        artefacts = Path(os.environ.get("OSO_TEST_ARTEFACTS") or self.mktemp())
        artefacts = artefacts / "wbm-browser"
        artefacts.mkdir(parents=True, exist_ok=True)
        profile = Path(self.mktemp()).absolute()
        profile.mkdir(parents=True)
        driver = await deferToThread(startBrowser, profile)
        browser = Browser(driver, base, artefacts, api)
        try:
            await deferToThread(browser.run)
        except Exception:
            await deferToThread(browser.screenshot, "failed")
            raise
        finally:
            await deferToThread(driver.quit)
            # Let the server see the browser's connections close.
            await deferLater(reactor, 0.2, lambda: None)
        self.assertEqual(browser.consoleErrors, [])
        self.assertEqual(sorted(p.name for p in artefacts.glob("*.png"))[:2],
                         ["01-login.png", "02-extension-created.png"])
