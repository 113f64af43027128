"""
The OpenScape gadget API end to end: treq over the G-Server's real TLS
listener on loopback, the certificate and host checked, a script's whole
session (Login, MonitorStart, MakeCall on virtual phones, GetEvents,
Logout), and no password in any log line of the running site.
"""

import json

from lxml import etree
from twisted.logger import formatEvent, globalLogPublisher
from twisted.trial.unittest import TestCase

from gserverharness import USERS, GServerHarness
from oso.plugins.gserver_gadget import gadget


class GadgetOverTLSTests(TestCase):
    async def test_scriptSession(self):
        harness = GServerHarness(self.mktemp(), parts=[gadget])
        self.addCleanup(harness.close)
        base = await harness.listen()
        logged = []
        globalLogPublisher.addObserver(logged.append)
        self.addCleanup(globalLogPublisher.removeObserver, logged.append)

        async def get(**params):
            response = await harness.client.get(base + "/cgi-bin/gadgetapi", params=params)
            self.assertEqual(response.code, 200)
            return response, await response.content()

        _, body = await get(cmd="Login", gsUser="100", gsPass=USERS["100"])
        login = etree.fromstring(body)
        self.assertEqual((login.tag, login.findtext("CNT")), ("LOGIN", "1"))
        session = login.findtext("ID")
        self.assertRegex(session, "^[0-9a-f]{32}$")

        _, body = await get(cmd="MonitorStart", gsSession=session)
        self.assertEqual(etree.fromstring(body).findtext("RESULT"), "OK")
        harness.exchange.phone("101").autoAnswerAfter = 0
        _, body = await get(cmd="MakeCall", gsSession=session, callingDevice="100",
                            calledDirectoryNumber="101", autoOriginate="doNotPrompt")
        made = etree.fromstring(body)
        self.assertEqual(made.findtext("RESULT"), "OK", body)
        harness.clock.advance(0)

        response, body = await get(cmd="GetEvents", gsSession=session)
        self.assertEqual(response.headers.getRawHeaders("content-type"), ["application/json"])
        events = json.loads(body)["events"]
        types = [event["type"] for event in events]
        self.assertIn("DeliveredEvent", types)
        self.assertIn("EstablishedEvent", types)
        self.assertEqual({event["deviceID"] for event in events}, {"100"})
        self.assertEqual({event["connection"]["callID"] for event in events
                          if "connection" in event}, {made.findtext("callID")})

        _, body = await get(cmd="Logout", gsSession=session)
        self.assertEqual(etree.fromstring(body).findtext("RESULT"), "OK")
        _, body = await get(cmd="GetEvents", gsSession=session)
        self.assertIn(b"NOT_LOGGED_IN", body)

        text = "\n".join(formatEvent(event) + repr(event) for event in logged)
        self.assertIn("gadget session of 100", text)
        self.assertNotIn(USERS["100"], text)
        self.assertNotIn(session, text)
