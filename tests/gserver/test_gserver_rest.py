"""
Tests for the REST API (L{oso.gserver.rest}) on the G-Server harness, in
memory (StubTreq): authentication and tokens, devices and their features,
calls and the call control services on virtual phones, registrations, the
CSTA links of a real csta component and the journal of a real cdr
component, authorisation per extension, and hostile requests answered
with 4xx JSON and a log line.
"""

import json
import socket

from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.logger import capturedLogs, formatEvent
from twisted.plugin import getPlugins
from twisted.trial.unittest import TestCase
from zope.interface.verify import verifyObject

import oso.plugins
from gserverharness import ADMIN, ADMIN_PASSWORD, ADMIN_PRINCIPAL, USERS, GServerHarness
from oso.callmodel.devices import Device, DeviceType
from oso.callmodel.states import LocalConnectionState as S
from oso.gserver.accounts import Principal, tokenHash
from oso.interfaces.gserver import IGServerPart
from oso.plugins.cdr import CDR
from oso.plugins.csta import CSTAComponent
from oso.plugins.gserver_rest import rest
from oso.sip.registrar import Binding

BASE = "https://oso.test/api/v1"


class LogLines:
    """
    The formatted log lines written while a test runs.
    """

    def __init__(self, testCase):
        capture = capturedLogs()
        self.events = capture.__enter__()
        testCase.addCleanup(capture.__exit__, None, None, None)

    @property
    def lines(self):
        return [formatEvent(event) for event in self.events]

    def having(self, text):
        return [line for line in self.lines if text in line]


class RestTestCase(TestCase):
    """
    A harness serving the REST part, an administrator's token and helpers
    to send JSON.
    """

    timeout = 60

    async def setUpHarness(self):
        self.harness = GServerHarness(self.mktemp(), parts=[rest])
        self.addCleanup(self.harness.close)
        self.model = self.harness.exchange.model
        self.stub = self.harness.stubTreq()
        self.log = LogLines(self)
        self.admin = await self.harness.accounts.issueToken(ADMIN_PRINCIPAL, "test")
        self.user100 = await self.harness.accounts.issueToken(
            Principal.forExtension("100"), "test"
        )

    async def send(self, method, path, body=None, token=None, data=None, headers=None,
                   **kw):
        """
        @return: C{(status, decoded JSON or None, response)}.
        """
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        response = await self.stub.request(method, BASE + path, headers=headers, data=data, **kw)
        content = await response.content()
        decoded = json.loads(content) if content else None
        if content:
            self.assertEqual(response.headers.getRawHeaders("content-type"),
                             ["application/json"])
        return response.code, decoded, response

    async def adminSend(self, method, path, body=None, **kw):
        return await self.send(method, path, body, token=self.admin, **kw)

    def connected(self, caller, called):
        """
        @return: the caller's connection in a call the called phone has
            answered.
        """
        connection = self.model.makeCall(caller, called, autoOriginate=True)
        self.harness.exchange.phone(called).answer()
        return connection

    async def service(self, name, body, token=None):
        code, result, _ = await self.send(
            "POST", f"/services/{name}", body, token=token or self.admin
        )
        return code, result


class PartTests(RestTestCase):
    """
    The part, its document and who may use it.
    """

    def test_plugin(self):
        """
        The part is an IGServerPart plugin at C{/api}.
        """
        self.assertTrue(verifyObject(IGServerPart, rest))
        self.assertIn(rest, list(getPlugins(IGServerPart, oso.plugins)))
        self.assertEqual(rest.path, "api")

    async def test_openAPI(self):
        """
        The OpenAPI document needs no login and names the API's base.
        """
        await self.setUpHarness()
        code, document, _ = await self.send("GET", "/openapi.json")
        self.assertEqual(code, 200)
        self.assertEqual(document["servers"], [{"url": "/api/v1"}])
        self.assertIn("/services/makeCall", document["paths"])

    async def test_unauthorized(self):
        """
        Without a token, or with a wrong one, every resource is 401 with a
        JSON error and a WWW-Authenticate challenge, and a log line.
        """
        await self.setUpHarness()
        for token in (None, "wrong"):
            code, error, response = await self.send("GET", "/devices", token=token)
            self.assertEqual(code, 401)
            self.assertEqual(error["error"], "unauthorized")
            self.assertTrue(response.headers.getRawHeaders("www-authenticate"))
        self.assertEqual(len(self.log.having("401 unauthorized")), 2)

    async def test_tokens(self):
        """
        POST /tokens logs in and makes a bearer token for the principal; GET
        /tokens lists it by its hash and DELETE revokes it.
        """
        await self.setUpHarness()
        code, issued, _ = await self.send(
            "POST", "/tokens", {"user": "101", "password": USERS["101"], "label": "script"}
        )
        self.assertEqual(code, 201)
        self.assertEqual(issued["principal"],
                         {"name": "101", "administrator": False, "extension": "101"})
        token = issued["token"]
        code, me, _ = await self.send("GET", "/me", token=token)
        self.assertEqual((code, me["name"]), (200, "101"))
        code, listed, _ = await self.send("GET", "/tokens", token=token)
        self.assertEqual([t["label"] for t in listed], ["script"])
        self.assertEqual(listed[0]["tokenHash"], tokenHash(token))
        # Someone else's token is no token of yours.
        code, _, _ = await self.send("DELETE", f"/tokens/{tokenHash(self.user100)}", token=token)
        self.assertEqual(code, 404)
        code, _, _ = await self.send("DELETE", f"/tokens/{tokenHash(token)}", token=token)
        self.assertEqual(code, 204)
        code, _, _ = await self.send("GET", "/me", token=token)
        self.assertEqual(code, 401)
        code, listed, _ = await self.adminSend("GET", "/tokens")
        self.assertEqual(len(listed), 2)

    async def test_loginRefusedAndLockout(self):
        """
        A wrong password is 401; failures lock the name out, answered 429
        with Retry-After, and the password is never logged.
        """
        await self.setUpHarness()
        code, error, _ = await self.send(
            "POST", "/tokens", {"user": ADMIN, "password": "not-it-1"}
        )
        self.assertEqual((code, error["error"]), (401, "loginRefused"))
        code, error, response = await self.send(
            "POST", "/tokens", {"user": ADMIN, "password": ADMIN_PASSWORD}
        )
        self.assertEqual((code, error["error"]), (429, "lockedOut"))
        retry = int(response.headers.getRawHeaders("retry-after")[0])
        self.assertGreaterEqual(retry, 1)
        self.harness.clock.advance(retry)
        code, issued, _ = await self.send(
            "POST", "/tokens", {"user": ADMIN, "password": ADMIN_PASSWORD}
        )
        self.assertEqual((code, issued["principal"]["administrator"]), (201, True))
        self.assertFalse([line for line in self.log.lines if ADMIN_PASSWORD in line])

    async def test_sessionNeedsCSRF(self):
        """
        The management's session cookie works for the API; a state-changing
        request on it needs the session's X-CSRF-Token.
        """
        await self.setUpHarness()
        session = self.harness.session(ADMIN_PRINCIPAL)
        code, me, _ = await self.send("GET", "/me", cookies=session.cookies)
        self.assertEqual((code, me["name"]), (200, ADMIN))
        body = {"doNotDisturb": True}
        code, error, _ = await self.send(
            "PUT", "/devices/101/donotdisturb", body, cookies=session.cookies
        )
        self.assertEqual((code, error["error"]), (403, "csrf"))
        self.assertFalse(self.model.getDoNotDisturb("101"))
        code, _, _ = await self.send(
            "PUT", "/devices/101/donotdisturb", body, cookies=session.cookies,
            headers={"X-CSRF-Token": session.csrf},
        )
        self.assertEqual(code, 200)
        self.assertTrue(self.model.getDoNotDisturb("101"))

    async def test_hostile(self):
        """
        Bad JSON, wrong types, unknown fields and huge bodies are 400 or
        413 with a JSON error and a log line, never a 500; unknown paths
        are 404 and wrong methods 405, as JSON.
        """
        await self.setUpHarness()
        cases = [
            (b"{not json", 400, "badJSON"),
            (b"\xff\xfe\x00{}", 400, "badJSON"),
            (b"[1]", 400, "badJSON"),
            (json.dumps({"callingDevice": 100, "calledDirectoryNumber": "101"}).encode(),
             400, "badParameter"),
            (json.dumps({"callingDevice": "100"}).encode(), 400, "badParameter"),
            (json.dumps({"callingDevice": "100", "calledDirectoryNumber": "101",
                         "extra": 1}).encode(), 400, "badParameter"),
            (b'{"a": "' + b"x" * 70_000 + b'"}', 413, "bodyTooLarge"),
        ]
        for data, status, name in cases:
            code, error, _ = await self.adminSend("POST", "/services/makeCall", data=data)
            self.assertEqual((code, error["error"]), (status, name), data[:40])
            self.assertTrue(self.log.having(f"{status} {name}"))
        self.assertEqual(self.model.calls(), [])
        code, error, _ = await self.adminSend("GET", "/nothing/here")
        self.assertEqual((code, error["error"]), (404, "notFound"))
        code, error, response = await self.adminSend("DELETE", "/calls")
        self.assertEqual((code, error["error"]), (405, "methodNotAllowed"))
        self.assertIn("GET", response.headers.getRawHeaders("allow")[0])
        code, error = await self.service("noSuchService", {})
        self.assertEqual((code, error["error"]), (404, "unknownService"))
        self.assertFalse(self.log.having("REST POST /api/v1/services/makeCall failed"))


class DeviceTests(RestTestCase):
    """
    Devices: list, get, create, update, delete; their features.
    """

    async def test_listAndGet(self):
        """
        An administrator sees every device, an extension's user only its
        own; another's device is 403 for it, an unknown one 404.
        """
        await self.setUpHarness()
        code, devices, _ = await self.adminSend("GET", "/devices")
        self.assertEqual([d["number"] for d in devices], sorted(USERS))
        self.assertTrue(all(d["hasPassword"] for d in devices))
        self.assertNotIn("credentials", devices[0])
        code, devices, _ = await self.send("GET", "/devices", token=self.user100)
        self.assertEqual([d["number"] for d in devices], ["100"])
        code, _, _ = await self.send("GET", "/devices/101", token=self.user100)
        self.assertEqual(code, 403)
        code, error, _ = await self.adminSend("GET", "/devices/999")
        self.assertEqual((code, error["error"]), (404, "invalidDeviceID"))

    async def test_createUpdateDelete(self):
        """
        An administrator creates a device (in the model and on disk, its
        password as hashes that let its user log in), changes it and
        deletes it; a number already taken is 409.
        """
        await self.setUpHarness()
        store = self.harness.exchange.store
        code, device, _ = await self.adminSend("POST", "/devices", {
            "number": "200", "name": "Reception", "port": "virtual-phones",
            "password": "a-good-password", "pickupGroup": 3,
        })
        self.assertEqual(code, 201)
        self.assertEqual((device["name"], device["pickupGroup"], device["hasPassword"]),
                         ("Reception", 3, True))
        self.assertEqual(self.model.device("200").name, "Reception")
        self.assertIn("200", [d.number for d in await store.loadDevices()])
        code, issued, _ = await self.send(
            "POST", "/tokens", {"user": "200", "password": "a-good-password"}
        )
        self.assertEqual(code, 201)
        code, error, _ = await self.adminSend("POST", "/devices", {"number": "200"})
        self.assertEqual((code, error["error"]), (409, "deviceExists"))
        code, device, _ = await self.adminSend("PATCH", "/devices/200", {"name": "Front desk"})
        self.assertEqual((code, device["name"], device["pickupGroup"]), (200, "Front desk", 3))
        self.assertTrue(device["hasPassword"])
        code, _, _ = await self.adminSend("DELETE", "/devices/200")
        self.assertEqual(code, 204)
        self.assertNotIn("200", [d.number for d in self.model.devices()])
        self.assertNotIn("200", [d.number for d in await store.loadDevices()])
        code, _, _ = await self.adminSend("DELETE", "/devices/200")
        self.assertEqual(code, 404)

    async def test_groups(self):
        """
        A group needs existing members; a member of a group cannot be
        deleted (409), and a group has no password.
        """
        await self.setUpHarness()
        code, error, _ = await self.adminSend(
            "POST", "/devices", {"number": "300", "type": "group", "members": ["999"]}
        )
        self.assertEqual((code, error["error"]), (400, "badParameter"))
        code, error, _ = await self.adminSend("POST", "/devices", {
            "number": "300", "type": "group", "members": ["101"], "password": "12345678",
        })
        self.assertEqual(code, 400)
        code, group, _ = await self.adminSend("POST", "/devices", {
            "number": "300", "type": "group", "members": ["101", "102"],
            "huntMode": "parallel",
        })
        self.assertEqual((code, group["members"], group["huntMode"]),
                         (201, ["101", "102"], "parallel"))
        self.assertIs(self.model.device("300").type, DeviceType.group)
        code, error, _ = await self.adminSend("DELETE", "/devices/101")
        self.assertEqual((code, error["error"]), (409, "deviceInGroup"))

    async def test_deleteInCall(self):
        """
        A device in a call is not deleted: 409 resourceBusy, and it stays.
        """
        await self.setUpHarness()
        self.model.makeCall("100", "101", autoOriginate=True)
        code, error, _ = await self.adminSend("DELETE", "/devices/101")
        self.assertEqual((code, error["error"]), (409, "resourceBusy"))
        self.assertEqual(self.model.device("101").number, "101")

    async def test_onlyAdministratorsChangeDevices(self):
        """
        An extension's user may not create, change or delete devices, not
        even its own.
        """
        await self.setUpHarness()
        for method, path, body in [
            ("POST", "/devices", {"number": "201"}),
            ("PATCH", "/devices/100", {"name": "mine"}),
            ("DELETE", "/devices/100", None),
        ]:
            code, error, _ = await self.send(method, path, body, token=self.user100)
            self.assertEqual((code, error["error"]), (403, "forbidden"))
        self.assertEqual(self.model.device("100").name, "")

    async def test_features(self):
        """
        DND and forwarding go through the call model's feature services:
        stored, announced as events; a user sets its own device's only.
        """
        await self.setUpHarness()
        recorder = self.harness.exchange.recorder
        recorder.take()
        code, dnd, _ = await self.send(
            "PUT", "/devices/100/donotdisturb", {"doNotDisturb": True}, token=self.user100
        )
        self.assertEqual((code, dnd), (200, {"doNotDisturb": True}))
        self.assertTrue(self.model.getDoNotDisturb("100"))
        self.assertEqual(recorder.names(), ["DoNotDisturb"])
        code, _, _ = await self.send(
            "PUT", "/devices/101/donotdisturb", {"doNotDisturb": True}, token=self.user100
        )
        self.assertEqual(code, 403)
        code, settings, _ = await self.adminSend("PUT", "/devices/101/forwarding", {
            "forwardingType": "forwardImmediate", "active": True, "destination": "102",
        })
        self.assertEqual(code, 200)
        self.assertIn({"forwardingType": "forwardImmediate", "active": True,
                       "destination": "102"}, settings)
        stored = {d.number: d for d in await self.harness.exchange.store.loadDevices()}
        self.assertEqual(stored["101"].features.forwarding[0].destination, "102")
        code, error, _ = await self.adminSend("PUT", "/devices/102/forwarding", {
            "forwardingType": "forwardImmediate", "active": True, "destination": "101",
        })
        self.assertEqual((code, error["error"]), (400, "invalidForwardingDestination"))
        code, settings, _ = await self.adminSend("GET", "/devices/101/forwarding")
        self.assertEqual(len(settings), 4)

    async def test_trunkFeatures(self):
        """
        A trunk has no features: 409 requestIncompatibleWithDevice.
        """
        await self.setUpHarness()
        self.harness.exchange.addDevice(Device("900", type=DeviceType.trunk, port="none"))
        code, error, _ = await self.adminSend("GET", "/devices/900/donotdisturb")
        self.assertEqual((code, error["error"]), (409, "requestIncompatibleWithDevice"))


class CallTests(RestTestCase):
    """
    Calls and the call control services on virtual phones.
    """

    async def test_makeAnswerClear(self):
        """
        MakeCall, AnswerCall and ClearCall through the API drive the model;
        the calls list and snapshot show the connections.
        """
        await self.setUpHarness()
        code, made = await self.service(
            "makeCall",
            {"callingDevice": "100", "calledDirectoryNumber": "101", "autoOriginate": True},
        )
        self.assertEqual(code, 200)
        callID = made["callingDevice"]["callID"]
        self.assertEqual(made["callingDevice"]["deviceID"], "100")
        code, calls, _ = await self.adminSend("GET", "/calls")
        self.assertEqual([c["callID"] for c in calls], [callID])
        self.assertEqual(
            {c["deviceID"]: c["state"] for c in calls[0]["connections"]},
            {"100": "connected", "101": "alerting"},
        )
        code, _ = await self.service(
            "answerCall", {"callToBeAnswered": {"callID": callID, "deviceID": "101"}}
        )
        self.assertEqual(code, 200)
        code, call, _ = await self.adminSend("GET", f"/calls/{callID}")
        self.assertEqual({c["state"] for c in call["connections"]}, {"connected"})
        self.assertIsNotNone(call["answered"])
        code, snapshot, _ = await self.adminSend("GET", "/devices/101/snapshot")
        self.assertEqual(snapshot, [{"callID": callID, "deviceID": "101",
                                     "state": "connected"}])
        code, _ = await self.service("clearCall", {"callToBeCleared": callID})
        self.assertEqual(code, 200)
        self.assertEqual(self.model.calls(), [])
        code, error, _ = await self.adminSend("GET", f"/calls/{callID}")
        self.assertEqual((code, error["error"]), (404, "invalidCallID"))

    async def test_consultTransfer(self):
        """
        Hold, retrieve, consultation and transfer through the API; the
        transfer's result names the resulting call and its parties.
        """
        await self.setUpHarness()
        first = self.connected("100", "101")
        held = {"callID": first.callID, "deviceID": "100"}
        code, _ = await self.service("holdCall", {"callToBeHeld": held})
        self.assertEqual(code, 200)
        self.assertEqual(self.model.snapshotDevice("100"), [(first, S.hold)])
        code, _ = await self.service("retrieveCall", {"callToBeRetrieved": held})
        self.assertEqual(code, 200)
        code, consulted = await self.service(
            "consultationCall", {"existingCall": held, "consultedDevice": "102"}
        )
        self.assertEqual((code, consulted["heldCall"]), (200, held))
        active = consulted["initiatedCall"]
        self.harness.exchange.phone("102").answer()
        code, result = await self.service("transferCall", {"heldCall": held,
                                                           "activeCall": active})
        self.assertEqual(code, 200)
        self.assertEqual(result["transferredCall"], first.callID)
        self.assertEqual(
            sorted((c["deviceID"], c["state"]) for c in result["connections"]),
            [("101", "connected"), ("102", "connected")],
        )

    async def test_refusals(self):
        """
        The call model's refusals keep their ECMA-269 names: an unknown
        connection is 404, a service in the wrong state 409.
        """
        await self.setUpHarness()
        code, error = await self.service(
            "answerCall", {"callToBeAnswered": {"callID": "77", "deviceID": "101"}}
        )
        self.assertEqual((code, error["error"]), (404, "invalidConnectionID"))
        connection = self.model.makeCall("100", "101", autoOriginate=True)
        code, error = await self.service(
            "holdCall", {"callToBeHeld": {"callID": connection.callID, "deviceID": "101"}}
        )
        self.assertEqual((code, error["error"]), (409, "invalidConnectionState"))
        code, error = await self.service(
            "makeCall", {"callingDevice": "100", "calledDirectoryNumber": "102"}
        )
        self.assertEqual((code, error["error"]), (409, "invalidDeviceState"))
        code, error = await self.service(
            "generateDigits",
            {"connectionToSendDigits": {"callID": connection.callID, "deviceID": "100"},
             "charactersToSend": "12x"},
        )
        self.assertEqual((code, error["error"]), (400, "badParameter"))
        self.assertTrue(self.log.having("409 invalidConnectionState"))

    async def test_digitsAndPickup(self):
        """
        GenerateDigits reaches the phone; a directed pickup takes a call
        alerting at another device.
        """
        await self.setUpHarness()
        connection = self.connected("100", "101")
        code, _ = await self.service("generateDigits", {
            "connectionToSendDigits": {"callID": connection.callID, "deviceID": "100"},
            "charactersToSend": "12#",
        })
        self.assertEqual(code, 200)
        self.assertEqual(self.harness.exchange.phone("100").sentDigits, ["12#"])
        ringing = self.model.makeCall("102", "103", autoOriginate=True)
        code, picked = await self.service(
            "directedPickupCall", {"callToBePickedUp": "103", "requestingDevice": "101"}
        )
        self.assertEqual(code, 409)  # 101 is busy in its call
        code, _ = await self.service(
            "clearConnection",
            {"connectionToBeCleared": {"callID": connection.callID, "deviceID": "100"}},
        )
        self.assertEqual(code, 200)
        code, picked = await self.service(
            "directedPickupCall",
            {"callToBePickedUp": {"callID": ringing.callID, "deviceID": "103"},
             "requestingDevice": "101"},
        )
        self.assertEqual((code, picked["pickedCall"]["deviceID"]), (200, "101"))

    async def test_restrictedCaller(self):
        """
        A caller who restricted the presentation (CLIR) is "restricted" in
        the call list of the called extension's user, as in the call's
        events; an administrator sees the number.
        """
        await self.setUpHarness()
        self.model.originate("101", "100", restricted=True)
        code, calls, _ = await self.send("GET", "/calls", token=self.user100)
        self.assertEqual((code, [c["callingDevice"] for c in calls]), (200, ["restricted"]))
        code, calls, _ = await self.adminSend("GET", "/calls")
        self.assertEqual([c["callingDevice"] for c in calls], ["101"])

    async def test_extensionUser(self):
        """
        An extension's user controls its own device only: services naming
        another device are 403, and it sees only the calls it is in.
        """
        await self.setUpHarness()
        code, error = await self.service(
            "makeCall", {"callingDevice": "101", "calledDirectoryNumber": "102"},
            token=self.user100,
        )
        self.assertEqual((code, error["error"]), (403, "forbidden"))
        other = self.model.makeCall("102", "103", autoOriginate=True)
        code, made = await self.service(
            "makeCall",
            {"callingDevice": "100", "calledDirectoryNumber": "101", "autoOriginate": True},
            token=self.user100,
        )
        self.assertEqual(code, 200)
        code, calls, _ = await self.send("GET", "/calls", token=self.user100)
        self.assertEqual([c["callID"] for c in calls], [made["callingDevice"]["callID"]])
        code, _, _ = await self.send("GET", f"/calls/{other.callID}", token=self.user100)
        self.assertEqual(code, 403)
        code, _ = await self.service("clearCall", {"callToBeCleared": other.callID},
                                     token=self.user100)
        self.assertEqual(code, 403)
        self.assertEqual(len(self.model.calls()), 2)
        code, _ = await self.service(
            "answerCall",
            {"callToBeAnswered": {"callID": other.callID, "deviceID": "103"}},
            token=self.user100,
        )
        self.assertEqual(code, 403)


class StatusTests(RestTestCase):
    """
    Registrations, CSTA links and the CDR journal.
    """

    async def test_registrations(self):
        """
        The bindings in the store that have not expired; a user sees its
        own.
        """
        await self.setUpHarness()
        self.harness.clock.advance(1000)
        store = self.harness.exchange.store
        await store.saveRegistration(Binding("100", "sip:100@127.0.0.1:5070", 1500.0,
                                             transport="UDP", host="127.0.0.1", port=5070))
        await store.saveRegistration(Binding("101", "sip:101@127.0.0.1:5071", 1600.0))
        await store.saveRegistration(Binding("102", "sip:102@127.0.0.1:5072", 900.0))
        code, bindings, _ = await self.adminSend("GET", "/registrations")
        self.assertEqual([(b["aor"], b["remaining"]) for b in bindings],
                         [("100", 500), ("101", 600)])
        self.assertEqual(bindings[0]["port"], 5070)
        code, bindings, _ = await self.send("GET", "/registrations", token=self.user100)
        self.assertEqual([b["aor"] for b in bindings], ["100"])

    async def test_cstaLinks(self):
        """
        The links of a real csta component: none, then one for a client
        connected over TCP, with its address; for administrators only.
        """
        await self.setUpHarness()
        code, links, _ = await self.adminSend("GET", "/csta")
        self.assertEqual(links, {"enabled": False, "links": 0, "maxLinks": None, "peers": []})
        port = _freePort()
        component = CSTAComponent()
        settings = component.validateConfig(
            {"listen": [f"tcp:{port}:interface=127.0.0.1"], "max-links": 3}, "csta"
        )
        service = component.makeService(settings, self.harness.context)
        service.startService()
        self.addCleanup(service.stopService)
        self.harness.context.components["csta"] = service
        client = socket.create_connection(("127.0.0.1", port))
        self.addCleanup(client.close)
        for _ in range(100):
            code, links, _ = await self.adminSend("GET", "/csta")
            if links["links"]:
                break
            await deferLater(reactor, 0.02, lambda: None)
        self.assertEqual((links["enabled"], links["links"], links["maxLinks"]), (True, 1, 3))
        self.assertEqual(links["peers"], [{"host": "127.0.0.1",
                                           "port": client.getsockname()[1]}])
        code, _, _ = await self.send("GET", "/csta", token=self.user100)
        self.assertEqual(code, 403)

    async def test_cdr(self):
        """
        The journal of a real cdr component: its capacity, and a record
        pending once a call has ended.
        """
        await self.setUpHarness()
        component = CDR()
        service = component.makeService(
            component.validateConfig({"capacity": 1000, "record-internal": True}, "cdr"),
            self.harness.context,
        )
        await service.startService()
        self.addCleanup(service.stopService)
        self.harness.context.components["cdr"] = service
        connection = self.connected("100", "101")
        self.model.clearCall(connection.callID)
        for _ in range(200):
            if service.journal.pending:
                break
            await deferLater(reactor, 0.02, lambda: None)
        code, status, _ = await self.adminSend("GET", "/cdr")
        self.assertEqual(code, 200)
        self.assertEqual((status["enabled"], status["running"], status["capacity"]),
                         (True, True, 1000))
        self.assertGreater(status["pending"], 0)
        self.assertEqual(status["fill"], status["pending"] / 1000)
        code, _, _ = await self.send("GET", "/cdr", token=self.user100)
        self.assertEqual(code, 403)


def _freePort():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

