"""
Tests for the OpenScape gadget API (L{oso.gserver.gadgetapi}) command by
command, in memory through L{treq.testing.StubTreq} on the G-Server's site
(L{gserverharness}): login and its lockout, sessions and their expiry on
the site's clock, call and device control on virtual phones, per-extension
authorisation, polled events with their bounded queue, and hostile input.
"""

import json
import re

from lxml import etree
from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.logger import formatEvent, globalLogPublisher
from twisted.trial.unittest import TestCase

from gserverharness import ADMIN, ADMIN_PASSWORD, USERS, GServerHarness
from oso.gserver.settings import GServerSettings
from oso.plugins.gserver_gadget import gadget

BASE = "https://oso.test/cgi-bin/gadgetapi"


class Reply:
    """
    One reply: its status, and the XML root or the JSON object.
    """

    def __init__(self, code, body, contentType):
        self.code = code
        self.body = body
        self.json = json.loads(body) if contentType.startswith(b"application/json") else None
        self.xml = etree.fromstring(body) if self.json is None else None

    @property
    def root(self):
        return self.xml.tag

    def __getitem__(self, name):
        return self.xml.findtext(name)

    def all(self, name):
        return [{child.tag: child.text or "" for child in part} for part in self.xml.findall(name)]


class GadgetAPITestCase(TestCase):
    """
    A G-Server with only the gadget API part, in memory.
    """

    settings = None

    def setUp(self):
        self.harness = GServerHarness(self.mktemp(), parts=[gadget], settings=self.settings)
        self.stub = self.harness.stubTreq()
        self.exchange = self.harness.exchange

    async def settled(self, deferred):
        """
        Pump the in-memory connection until C{deferred} fires (a password
        check runs on the reactor's thread pool).
        """
        for _ in range(400):
            if deferred.called:
                break
            self.stub.flush()
            await deferLater(reactor, 0.005, lambda: None)
        return await deferred

    async def request(self, method="GET", body=None, **params):
        """
        @return: the L{Reply} to C{cmd=...&...} sent as the query (GET) or a
            form body (POST).
        """
        if body is None and method == "GET":
            response = await self.settled(self.stub.get(BASE, params=params))
        else:
            response = await self.settled(
                self.stub.request(
                    method,
                    BASE,
                    data=body if body is not None else params,
                    headers={b"content-type": [b"application/x-www-form-urlencoded"]},
                )
            )
        content = await self.settled(self.stub.content(response))
        return Reply(response.code, content, response.headers.getRawHeaders(b"content-type")[0])

    async def login(self, user, password=None):
        if password is None:
            password = ADMIN_PASSWORD if user == ADMIN else USERS[user]
        reply = await self.request(cmd="Login", gsUser=user, gsPass=password)
        self.assertNotEqual(reply["ID"], "0")
        return reply["ID"]

    async def command(self, session, cmd, **params):
        return await self.request(cmd=cmd, gsSession=session, **params)

    async def ok(self, session, cmd, **params):
        reply = await self.command(session, cmd, **params)
        self.assertEqual((reply.code, reply.root, reply["RESULT"]), (200, cmd, "OK"), reply.body)
        return reply

    async def events(self, session):
        reply = await self.command(session, "GetEvents")
        self.assertEqual(reply.code, 200)
        return reply.json["events"]


class LoginTests(GadgetAPITestCase):
    async def test_loginAnswersSessionAndCount(self):
        """
        Login answers LOGIN with an unguessable session ID and CNT, the
        number of sessions the user now holds.
        """
        first = await self.request(cmd="Login", gsUser="100", gsPass=USERS["100"])
        second = await self.request(cmd="Login", gsUser="100", gsPass=USERS["100"])
        admin = await self.request(cmd="Login", gsUser=ADMIN, gsPass=ADMIN_PASSWORD)
        self.assertEqual([r.root for r in (first, second, admin)], ["LOGIN"] * 3)
        self.assertEqual([r["CNT"] for r in (first, second, admin)], ["1", "2", "1"])
        for reply in (first, second, admin):
            self.assertRegex(reply["ID"], "^[0-9a-f]{32}$")
        self.assertNotEqual(first["ID"], second["ID"])
        self.assertEqual(first.code, 200)

    async def test_wrongPasswordIsIDZeroAndLocksOut(self):
        """
        A wrong password answers ID 0; the lockout that follows refuses
        even the right password with ID 0 until its delay has passed on
        the clock.
        """
        refused = await self.request(cmd="Login", gsUser="100", gsPass="wrong")
        self.assertEqual((refused.code, refused["ID"], refused["CNT"]), (200, "0", "0"))
        locked = await self.request(cmd="Login", gsUser="100", gsPass=USERS["100"])
        self.assertEqual(locked["ID"], "0")
        self.harness.clock.advance(3600)
        await self.login("100")

    async def test_unknownUserIsIDZero(self):
        reply = await self.request(cmd="Login", gsUser="999", gsPass="whatever")
        self.assertEqual(reply["ID"], "0")

    async def test_missingCredentialsAre400(self):
        reply = await self.request(cmd="Login", gsUser="100")
        self.assertEqual((reply.code, reply["ID"], reply["RESULT"]), (400, "0", "ERROR"))
        self.assertIn("gsPass", reply["REASON"])

    async def test_passwordNeverLogged(self):
        """
        No log line of a login, good or bad, holds the password.
        """
        logged = []
        globalLogPublisher.addObserver(logged.append)
        self.addCleanup(globalLogPublisher.removeObserver, logged.append)
        await self.request(cmd="Login", gsUser="101", gsPass="not-the-password")
        self.harness.clock.advance(3600)
        await self.login("101")
        text = "\n".join(formatEvent(event) + repr(event) for event in logged)
        self.assertNotIn("not-the-password", text)
        self.assertNotIn(USERS["101"], text)

    async def test_unknownOrMissingSessionIsNotLoggedIn(self):
        for session in ("", "0", "f" * 32):
            reply = await self.command(session, "GetDoNotDisturb", deviceID="100")
            self.assertEqual((reply.code, reply["RESULT"]), (200, "NOT_LOGGED_IN"))
            events = await self.command(session, "GetEvents")
            self.assertEqual(events.json, {"result": "NOT_LOGGED_IN"})

    async def test_logoutEndsTheSession(self):
        session = await self.login("100")
        await self.ok(session, "MonitorStart")
        reply = await self.command(session, "Logout")
        self.assertEqual((reply.root, reply["RESULT"]), ("LOGOUT", "OK"))
        again = await self.command(session, "Logout")
        self.assertEqual(again["RESULT"], "NOT_LOGGED_IN")


class ExpiryTests(GadgetAPITestCase):
    settings = GServerSettings(sessionTimeout=60.0)

    async def test_idleSessionExpiresOnTheSiteClock(self):
        """
        A session named by a request at least every sessionTimeout seconds
        lives on; one left idle for longer answers NOT_LOGGED_IN.
        """
        session = await self.login("100")
        for _ in range(3):
            self.harness.clock.advance(50)
            self.assertEqual(await self.events(session), [])
        self.harness.clock.advance(61)
        reply = await self.command(session, "GetDeviceState", deviceID="100")
        self.assertEqual(reply["RESULT"], "NOT_LOGGED_IN")


class CallControlTests(GadgetAPITestCase):
    async def setUp(self):
        super().setUp()
        self.admin = await self.login(ADMIN)
        self.user = {number: await self.login(number) for number in ("100", "101", "102")}

    async def state(self, device):
        reply = await self.ok(self.admin, "GetDeviceState", deviceID=device)
        return reply["state"], reply.all("connection")

    async def connectedCall(self):
        """
        100 calls 101 with MakeCall; both answer with AnswerCall.

        @return: the call's id.
        """
        made = await self.ok(
            self.user["100"], "MakeCall", callingDevice="100", calledDirectoryNumber="101"
        )
        self.assertEqual(made["deviceID"], "100")
        callID = made["callID"]
        await self.ok(self.user["100"], "AnswerCall", callID=callID, deviceID="100")
        self.assertEqual(await self.state("101"), ("alerting", [
            {"callID": callID, "deviceID": "101", "localConnectionState": "alerting"}
        ]))
        await self.ok(self.user["101"], "AnswerCall", callID=callID, deviceID="101")
        return callID

    async def test_makeAnswerClear(self):
        callID = await self.connectedCall()
        self.assertEqual(await self.state("100"), ("busy", [
            {"callID": callID, "deviceID": "100", "localConnectionState": "connected"}
        ]))
        await self.ok(self.user["101"], "ClearConnection", callID=callID, deviceID="101")
        self.assertEqual(await self.state("100"), ("idle", []))
        self.assertEqual(self.exchange.model.calls(), [])

    async def test_makeCallDoNotPrompt(self):
        made = await self.ok(self.admin, "MakeCall", callingDevice="102",
                             calledDirectoryNumber="103", autoOriginate="doNotPrompt")
        self.assertEqual((await self.state("103"))[0], "alerting")
        self.assertEqual(made["deviceID"], "102")

    async def test_holdRetrieve(self):
        callID = await self.connectedCall()
        await self.ok(self.user["100"], "HoldCall", callID=callID, deviceID="100")
        self.assertEqual((await self.state("100"))[1][0]["localConnectionState"], "hold")
        await self.ok(self.user["100"], "RetrieveCall", callID=callID, deviceID="100")
        self.assertEqual((await self.state("100"))[1][0]["localConnectionState"], "connected")

    async def consult(self):
        """
        After the connected call, 100 consults 102, who answers.

        @return: C{(heldCallID, activeCallID)}.
        """
        held = await self.connectedCall()
        consulted = await self.ok(self.user["100"], "ConsultationCall", callID=held,
                                  deviceID="100", consultedDevice="102")
        self.assertEqual(consulted["deviceID"], "100")
        active = consulted["callID"]
        self.assertNotEqual(active, held)
        await self.ok(self.user["102"], "AnswerCall", callID=active, deviceID="102")
        return held, active

    async def test_consultationAlternateReconnect(self):
        held, active = await self.consult()
        await self.ok(self.user["100"], "AlternateCall", deviceID="100",
                      activeCallID=active, heldCallID=held)
        states = {c["callID"]: c["localConnectionState"] for c in (await self.state("100"))[1]}
        self.assertEqual(states, {held: "connected", active: "hold"})
        await self.ok(self.user["100"], "ReconnectCall", deviceID="100",
                      activeCallID=held, heldCallID=active)
        self.assertEqual((await self.state("101"))[0], "idle")
        self.assertEqual((await self.state("100"))[1][0]["localConnectionState"], "connected")

    async def test_transfer(self):
        held, active = await self.consult()
        reply = await self.ok(self.user["100"], "TransferCall", deviceID="100",
                              heldCallID=held, activeCallID=active)
        self.assertEqual((await self.state("100"))[0], "idle")
        parties = {c["deviceID"] for c in (await self.state("101"))[1]} | {
            c["deviceID"] for c in (await self.state("102"))[1]}
        self.assertEqual(parties, {"101", "102"})
        self.assertEqual((await self.state("102"))[1][0]["callID"], reply["callID"])

    async def test_conference(self):
        held, active = await self.consult()
        reply = await self.ok(self.user["100"], "ConferenceCall", deviceID="100",
                              heldCallID=held, activeCallID=active)
        self.assertEqual(reply["deviceID"], "100")
        for device in ("100", "101", "102"):
            connections = (await self.state(device))[1]
            self.assertEqual([(c["callID"], c["localConnectionState"]) for c in connections],
                             [(reply["callID"], "connected")])

    async def test_deflect(self):
        self.exchange.call("100", "101")
        callID = (await self.state("101"))[1][0]["callID"]
        await self.ok(self.user["101"], "DeflectCall", callID=callID, deviceID="101",
                      newDestination="102")
        self.assertEqual((await self.state("101"))[0], "idle")
        self.assertEqual((await self.state("102"))[0], "alerting")

    async def test_refusalIsErrorWithTheFailureName(self):
        """
        A service the call model refuses answers ERROR with the ECMA-269
        failure's name and the model's sentence.
        """
        reply = await self.command(self.user["100"], "AnswerCall", callID="C9", deviceID="100")
        self.assertEqual((reply.code, reply["RESULT"]), (200, "ERROR"))
        self.assertEqual(reply["REASON"], "invalidConnectionID")
        self.assertTrue(reply["DETAIL"])
        busy = await self.command(self.admin, "MakeCall", callingDevice="999",
                                  calledDirectoryNumber="100")
        self.assertEqual(busy["REASON"], "invalidCallingDeviceID")

    async def test_extensionControlsOnlyItself(self):
        """
        A user logged in as an extension is refused (403, ERROR with the
        reason) every service on another device; an administrator may use
        any.
        """
        refusals = [
            ("MakeCall", {"callingDevice": "101", "calledDirectoryNumber": "102"}),
            ("AnswerCall", {"callID": "1", "deviceID": "101"}),
            ("HoldCall", {"callID": "1", "deviceID": "101"}),
            ("TransferCall", {"deviceID": "101", "heldCallID": "1", "activeCallID": "2"}),
            ("SetDoNotDisturb", {"deviceID": "101", "doNotDisturbOn": "true"}),
            ("GetForwarding", {"deviceID": "101"}),
            ("GetDeviceState", {"deviceID": "101"}),
            ("MonitorStart", {"deviceObject": "101"}),
            ("EventStart", {"deviceObject": "101"}),
        ]
        for cmd, params in refusals:
            reply = await self.command(self.user["100"], cmd, **params)
            self.assertEqual((reply.code, reply.root, reply["RESULT"]), (403, cmd, "ERROR"))
            self.assertIn("may not control device 101", reply["REASON"])
        self.assertFalse(self.exchange.model.getDoNotDisturb("101"))
        await self.ok(self.admin, "SetDoNotDisturb", deviceID="101", doNotDisturbOn="true")
        await self.ok(self.admin, "MonitorStart", deviceObject="101")


class DeviceControlTests(GadgetAPITestCase):
    async def setUp(self):
        super().setUp()
        self.session = await self.login("100")

    async def test_doNotDisturb(self):
        reply = await self.ok(self.session, "GetDoNotDisturb", deviceID="100")
        self.assertEqual(reply["doNotDisturbOn"], "false")
        await self.ok(self.session, "SetDoNotDisturb", deviceID="100", doNotDisturbOn="true")
        self.assertTrue(self.exchange.model.getDoNotDisturb("100"))
        reply = await self.ok(self.session, "GetDoNotDisturb", deviceID="100")
        self.assertEqual(reply["doNotDisturbOn"], "true")
        state = await self.ok(self.session, "GetDeviceState", deviceID="100")
        self.assertEqual((state["state"], state["doNotDisturbOn"]), ("idle", "true"))

    async def test_forwarding(self):
        await self.ok(self.session, "SetForwarding", deviceID="100", forwardingType="forwardBusy",
                      activateForward="true", forwardDN="102")
        reply = await self.ok(self.session, "GetForwarding", deviceID="100")
        busy = [f for f in reply.all("forwarding") if f["forwardingType"] == "forwardBusy"]
        self.assertEqual(busy, [{"forwardingType": "forwardBusy", "forwardStatus": "true",
                                 "forwardDN": "102"}])
        await self.ok(self.session, "SetForwarding", deviceID="100", activateForward="false",
                      forwardingType="forwardBusy")
        reply = await self.ok(self.session, "GetForwarding", deviceID="100")
        self.assertNotIn("true", [f["forwardStatus"] for f in reply.all("forwarding")])

    async def test_badValuesAre400(self):
        for cmd, params, words in [
            ("SetForwarding", {"deviceID": "100", "activateForward": "true",
                               "forwardingType": "sometimes"}, "forwardingType"),
            ("SetDoNotDisturb", {"deviceID": "100", "doNotDisturbOn": "maybe"}, "true or false"),
            ("SetDoNotDisturb", {"deviceID": "100"}, "missing parameter doNotDisturbOn"),
            ("MakeCall", {"callingDevice": "100"}, "missing parameter calledDirectoryNumber"),
            ("MakeCall", {"callingDevice": "100", "calledDirectoryNumber": "101",
                          "autoOriginate": "x"}, "autoOriginate"),
            ("MonitorStart", {"filter": "RingingEvent"}, "RingingEvent"),
        ]:
            reply = await self.command(self.session, cmd, **params)
            self.assertEqual((reply.code, reply["RESULT"]), (400, "ERROR"))
            self.assertIn(words, reply["REASON"])


class EventTests(GadgetAPITestCase):
    async def test_pollingGivesEachEventOnce(self):
        """
        After MonitorStart (own extension by default), GetEvents gives the
        events covering the device since the last poll as JSON, ECMA-269
        names and fields with deviceID the monitored device.
        """
        session = await self.login("101")
        reply = await self.ok(session, "MonitorStart")
        self.assertEqual(reply["deviceObject"], "101")
        self.assertEqual(await self.events(session), [])
        self.exchange.call("100", "101")
        events = await self.events(session)
        # The called device takes part in the call from its Delivered on.
        self.assertEqual([e["type"] for e in events], ["DeliveredEvent"])
        delivered = events[0]
        self.assertEqual(delivered["seq"], self.exchange.recorder.events[-1].seq)
        self.assertEqual((delivered["deviceID"], delivered["alertingDevice"]), ("101", "101"))
        self.assertEqual(delivered["connection"]["deviceID"], "101")
        self.assertEqual(await self.events(session), [])

    async def test_filterAndStop(self):
        """
        EventStart's filter keeps the named types; EventStop ends the
        monitor; stopping a device not monitored is an ERROR.
        """
        session = await self.login(ADMIN, ADMIN_PASSWORD)
        await self.ok(session, "EventStart", deviceObject="101",
                      filter="DeliveredEvent,EstablishedEvent")
        self.exchange.call("100", "101")
        self.exchange.phone("101").answer()
        events = await self.events(session)
        self.assertEqual([e["type"] for e in events], ["DeliveredEvent", "EstablishedEvent"])
        await self.ok(session, "EventStop", deviceObject="101")
        self.exchange.phone("101").hangUp()
        self.assertEqual(await self.events(session), [])
        reply = await self.command(session, "MonitorStop", deviceObject="101")
        self.assertEqual((reply.code, reply["RESULT"]), (200, "ERROR"))
        self.assertIn("not monitored", reply["REASON"])

    async def test_adminMustNameTheDevice(self):
        session = await self.login(ADMIN, ADMIN_PASSWORD)
        reply = await self.command(session, "MonitorStart")
        self.assertEqual((reply.code, reply["REASON"]), (400, "missing parameter deviceObject"))
        unknown = await self.command(session, "MonitorStart", deviceObject="999")
        self.assertEqual((unknown.code, unknown["REASON"]), (200, "invalidDeviceID"))


class OverflowTests(GadgetAPITestCase):
    settings = GServerSettings(gadgetQueue=3)

    async def test_overflowEntry(self):
        """
        A session that polls too seldom gets gadgetQueue events and then one
        EventsLost entry with the number it missed; polling empties it.
        """
        session = await self.login("100")
        await self.ok(session, "MonitorStart")
        self.exchange.call("100", "101")
        self.exchange.phone("101").answer()
        self.exchange.phone("100").hangUp()
        events = await self.events(session)
        self.assertEqual(len(events), 4)
        self.assertEqual(events[-1]["type"], "EventsLost")
        self.assertGreater(events[-1]["count"], 0)
        self.assertEqual(await self.events(session), [])


class HostileInputTests(GadgetAPITestCase):
    async def setUp(self):
        super().setUp()
        self.session = await self.login("100")
        self.logged = []
        globalLogPublisher.addObserver(self.logged.append)
        self.addCleanup(globalLogPublisher.removeObserver, self.logged.append)

    def assertLogged(self, words):
        self.assertTrue(
            any(words in formatEvent(event) for event in self.logged),
            f"no log line says {words!r}",
        )

    async def assertRefused(self, reply, words, root="gadgetapi"):
        self.assertEqual((reply.code, reply.root, reply["RESULT"]), (400, root, "ERROR"))
        self.assertIn(words, reply["REASON"])
        self.assertLogged(words)

    async def test_unknownAndMissingCommand(self):
        await self.assertRefused(await self.command(self.session, "Reboot"), "unknown command")
        await self.assertRefused(await self.request(gsSession=self.session), "missing parameter cmd")

    async def test_hugeValue(self):
        reply = await self.command(self.session, "GetDeviceState", deviceID="1" * 5000)
        await self.assertRefused(reply, "longer than 4096 bytes")

        reply = await self.command(self.session, "GetDeviceState", deviceID="1" * 300)
        await self.assertRefused(reply, "longer than 256")

    async def test_controlCharacters(self):
        reply = await self.command(self.session, "GetDeviceState", deviceID="10\x010")
        await self.assertRefused(reply, "control characters")

    async def test_repeatedParameter(self):
        reply = await self.request(
            body=f"cmd=GetDeviceState&gsSession={self.session}&deviceID=100&deviceID=101".encode(),
            method="POST",
        )
        await self.assertRefused(reply, "more than once")

    async def test_badUTF8Body(self):
        """
        A form body that is not UTF-8 (the site checks the query string
        itself) is answered 400 ERROR, never a 500.
        """
        reply = await self.request(
            body=b"cmd=GetDeviceState&gsSession=" + self.session.encode() + b"&deviceID=%ff%fe",
            method="POST",
        )
        await self.assertRefused(reply, "not UTF-8")

    async def test_tooManyParameters(self):
        body = "&".join(f"p{n}=1" for n in range(40)) + f"&cmd=GetEvents&gsSession={self.session}"
        reply = await self.request(body=body.encode(), method="POST")
        await self.assertRefused(reply, "more than 32 parameters")

    async def test_badUTF8QueryNever500(self):
        response = await self.settled(self.stub.get(BASE + "?cmd=Login&gsUser=%ff"))
        self.assertEqual(response.code, 400)
        await self.settled(self.stub.content(response))
        self.assertTrue(re.search("not UTF-8", "\n".join(
            str(event.get("reason", "")) for event in self.logged)))
