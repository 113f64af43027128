"""
Tests for L{oso.gserver.cstahttp}: ECMA-323 requests POSTed over the real
TLS listener, served by the real C{csta} component's services on virtual
phones; who may use what; and hostile or wrong input answered with 4xx,
an ECMA-323 error body and a log line.
"""

from twisted.logger import globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface.verify import verifyObject

from gserverharness import ADMIN_PRINCIPAL, GServerHarness

from oso.callmodel.errors import UniversalFailure
from oso.callmodel.ids import ConnectionID
from oso.csta import messages as m
from oso.csta.xml import Edition, modelCodec
from oso.gserver.accounts import Principal
from oso.gserver.cstahttp import MAX_BODY, SUBJECTS, mayUse, subjectDevices
from oso.interfaces.gserver import IGServerPart
from oso.plugins.csta import csta
from oso.plugins.gserver_csta import cstaHTTP

CODEC = modelCodec()
NOW = m.AutoOriginate.doNotPrompt
SECURITY = UniversalFailure("operation", "securityViolation")
INVALID = UniversalFailure("operation", "invalidParameterValue")
UNSUPPORTED = UniversalFailure("operation", "serviceNotSupported")

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<MakeCall xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed5">
<callingDevice>&lol2;</callingDevice><calledDirectoryNumber>1</calledDirectoryNumber></MakeCall>"""


class AuthorisationTests(SynchronousTestCase):
    """
    What an extension's user may send: the requests of SUBJECTS whose
    subject devices are its own.
    """

    user = Principal.forExtension("100")

    def test_part(self):
        self.assertTrue(verifyObject(IGServerPart, cstaHTTP))
        self.assertEqual(cstaHTTP.path, "csta")

    def test_subjects(self):
        own, other = ConnectionID("1", "100"), ConnectionID("1", "101")
        self.assertTrue(mayUse(self.user, m.MakeCall(callingDevice="100", calledDirectoryNumber="101")))
        self.assertFalse(mayUse(self.user, m.MakeCall(callingDevice="101", calledDirectoryNumber="100")))
        self.assertTrue(mayUse(self.user, m.TransferCall(heldCall=own, activeCall=ConnectionID("2", "100"))))
        self.assertFalse(mayUse(self.user, m.TransferCall(heldCall=own, activeCall=other)))
        self.assertTrue(mayUse(self.user, m.DirectedPickupCall(callToBePickedUp=other, requestingDevice="100")))
        self.assertFalse(mayUse(self.user, m.AnswerCall(callToBeAnswered=ConnectionID("1", None))))
        self.assertFalse(mayUse(self.user, m.RequestSystemStatus()))
        self.assertTrue(mayUse(ADMIN_PRINCIPAL, m.RequestSystemStatus()))
        self.assertIsNone(subjectDevices(m.MonitorStop(monitorCrossRefID="1")))

    def test_everySubjectFieldExists(self):
        for requestType, names in SUBJECTS.items():
            for name in names:
                self.assertIn(name, requestType.__dataclass_fields__, requestType.__name__)


class CSTAOverHTTPTests(TestCase):
    async def start(self):
        self.harness = GServerHarness(self.mktemp(), parts=[cstaHTTP])
        self.addCleanup(self.harness.close)
        service = csta.makeService(
            csta.validateConfig({"listen": ["tcp:0:interface=127.0.0.1"]}, "csta"), self.harness.context
        )
        self.harness.context.components["csta"] = service
        service.startService()
        self.addCleanup(service.stopService)
        self.url = await self.harness.listen() + "/csta"
        self.admin = await self.token(ADMIN_PRINCIPAL)
        self.logged = []
        globalLogPublisher.addObserver(self.logged.append)
        self.addCleanup(globalLogPublisher.removeObserver, self.logged.append)

    async def token(self, principal):
        return {"Authorization": "Bearer " + await self.harness.accounts.issueToken(principal, "t")}

    async def post(self, body, headers=None, contentType="application/xml", edition=Edition.ED5, **kw):
        """
        POST a message (or raw bytes); return the status and the decoded
        answer document.
        """
        if not isinstance(body, bytes):
            body = CODEC.encode(body, edition)
        response = await self.harness.client.post(
            self.url, data=body,
            headers={"Content-Type": contentType, **(headers if headers is not None else self.admin)},
            **kw,
        )
        content = await response.content()
        return response.code, CODEC.decode(content)

    def refusals(self):
        return [e for e in self.logged if "CSTA over HTTP refused" in e.get("log_format", "")]

    async def test_makeCallAndSnapshot(self):
        """
        MakeCall places a call on the virtual phones and answers with its
        connection; SnapshotDevice shows it; the system services of the link
        answer too; each answer is in the request's edition.
        """
        await self.start()
        code, (edition, answer) = await self.post(
            m.MakeCall(callingDevice="100", calledDirectoryNumber="101", autoOriginate=NOW)
        )
        self.assertEqual((code, edition), (200, Edition.ED5))
        self.assertIsInstance(answer, m.MakeCallResponse)
        self.assertEqual(answer.callingDevice.deviceID, "100")
        self.assertEqual(len(self.harness.exchange.model.calls()), 1)
        code, (edition, snapshot) = await self.post(m.SnapshotDevice(snapshotObject="101"), edition=Edition.ED3)
        self.assertEqual((code, edition), (200, Edition.ED3))
        self.assertEqual(snapshot.snapshotData[0].connectionIdentifier.callID, answer.callingDevice.callID)
        code, (_, status) = await self.post(m.RequestSystemStatus(), contentType="text/xml; charset=utf-8")
        self.assertEqual((code, status), (200, m.RequestSystemStatusResponse(systemStatus=m.SystemStatusValue.normal)))
        self.assertEqual(self.refusals(), [])

    async def test_serviceRefusal(self):
        """
        A service's own refusal is the CSTA answer: 200 with CSTAErrorCode.
        """
        await self.start()
        code, (_, answer) = await self.post(m.MakeCall(callingDevice="999", calledDirectoryNumber="101"))
        self.assertEqual(code, 200)
        self.assertIsInstance(answer, UniversalFailure)
        self.assertEqual(len(self.harness.exchange.model.calls()), 0)

    async def test_extensionUser(self):
        """
        An extension's user may call from its own extension, not another's,
        and may not use services without a device of its own.
        """
        await self.start()
        user = await self.token(Principal.forExtension("100"))
        code, (_, answer) = await self.post(
            m.MakeCall(callingDevice="101", calledDirectoryNumber="100", autoOriginate=NOW), headers=user
        )
        self.assertEqual((code, answer), (403, SECURITY))
        self.assertEqual(len(self.harness.exchange.model.calls()), 0)
        code, (_, answer) = await self.post(m.RequestSystemStatus(), headers=user)
        self.assertEqual((code, answer), (403, SECURITY))
        code, (_, answer) = await self.post(
            m.MakeCall(callingDevice="100", calledDirectoryNumber="101", autoOriginate=NOW), headers=user
        )
        self.assertEqual(code, 200)
        self.assertIsInstance(answer, m.MakeCallResponse)
        self.assertEqual(len(self.refusals()), 2)

    async def test_sessionNeedsCSRF(self):
        """
        A browser session's POST needs its CSRF token; without credentials
        at all: 401.
        """
        await self.start()
        session = self.harness.session(Principal.forExtension("100"))
        request = m.SetDoNotDisturb(device="100", doNotDisturbOn=True)
        code, (_, answer) = await self.post(request, headers={})
        self.assertEqual((code, answer), (401, SECURITY))
        code, (_, answer) = await self.post(request, headers={}, cookies=session.cookies)
        self.assertEqual((code, answer), (403, SECURITY))
        code, (_, answer) = await self.post(
            request, headers={"X-CSRF-Token": session.csrf}, cookies=session.cookies
        )
        self.assertEqual((code, answer), (200, m.SetDoNotDisturbResponse()))
        self.assertTrue(self.harness.exchange.model.getDoNotDisturb("100"))

    async def test_hostileAndWrongInput(self):
        """
        Entities, a huge body, another content type, bad UTF-8, an unknown
        message, a response posted as a request: 4xx with a CSTAErrorCode
        and a log line each; nothing reaches the call model.
        """
        await self.start()
        cases = [
            (BILLION_LAUGHS, "application/xml", 400, INVALID),
            (b"<MakeCall>" + b"x" * MAX_BODY + b"</MakeCall>", "application/xml", 413, INVALID),
            (CODEC.encode(m.RequestSystemStatus(), Edition.ED5), "application/json", 415, INVALID),
            (b"<?xml version='1.0'?><MakeCall><callingDevice>\xff</callingDevice></MakeCall>",
             "text/xml", 400, INVALID),
            (b"<Nonsense xmlns='http://www.ecma-international.org/standards/ecma-323/csta/ed3'/>",
             "text/xml", 400, UNSUPPORTED),
            (CODEC.encode(m.MakeCallResponse(callingDevice=ConnectionID("1", "100")), Edition.ED5),
             "text/xml", 400, UNSUPPORTED),
            (b"<MakeCall><callingDevice>100", "text/xml", 400, INVALID),
        ]
        for body, contentType, status, failure in cases:
            code, (_, answer) = await self.post(body, contentType=contentType)
            self.assertEqual((code, answer), (status, failure), body[:60])
        self.assertEqual(len(self.refusals()), len(cases))
        self.assertEqual(self.harness.exchange.model.calls(), [])

    async def test_getRefused(self):
        await self.start()
        response = await self.harness.client.get(self.url, headers=self.admin)
        self.assertEqual(response.code, 405)
        await response.content()
