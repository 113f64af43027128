"""
Tests for the G-Server's CDR part (L{oso.plugins.gserver_cdr}): the
C{cdr} component's download served at C{/cdr} on the G-Server's TLS
listener, over a real journal on disk.
"""

import base64
import json
from types import SimpleNamespace

from gserverharness import GServerHarness
from twisted.internet import reactor
from twisted.trial.unittest import TestCase
from zope.interface.verify import verifyObject

from oso.cdr.download import CDRDownload, PasswordCheck
from oso.cdr.formats import JSONLinesFormat
from oso.cdr.journal import Journal
from oso.cdr.record import CallRecord, Direction, Disposition
from oso.interfaces.gserver import IGServerPart
from oso.plugins.gserver_cdr import CDRPart, cdr
from oso.secrets import hashPassword

USER, PASSWORD = "billing", "fetch me"


def basic(password=PASSWORD):
    token = base64.b64encode(f"{USER}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def record(i):
    return CallRecord(
        callID=f"c{i}", endTime=1_795_871_469 + i, ringSeconds=1, durationSeconds=i,
        line="801", subscriber="100", externalNumber="0123456789",
        direction=Direction.outgoing, disposition=Disposition.answered,
    )


class CDRPartTests(TestCase):
    def test_interface(self):
        self.assertTrue(verifyObject(IGServerPart, cdr))

    async def serve(self, component):
        harness = GServerHarness(self.mktemp(), parts=[CDRPart()])
        if component is not None:
            harness.context.components["cdr"] = component
        base = await harness.listen()
        self.addCleanup(harness.close)
        return harness, base

    async def test_download(self):
        """
        Records the cdr component journaled are fetched at /cdr/batch over
        the G-Server's HTTPS with the billing account, acknowledged, and
        not fetched again; a wrong password gets 401.
        """
        journal = Journal(self.mktemp(), reactor)
        await journal.open()
        self.addCleanup(journal.close)
        for i in range(1, 4):
            await journal.append(record(i))
        formats = {"jsonl": JSONLinesFormat()}
        download = CDRDownload(
            reactor, journal, formats.__getitem__, "jsonl",
            PasswordCheck(reactor, {USER: hashPassword(PASSWORD)}),
        )
        harness, base = await self.serve(SimpleNamespace(download=download))
        refused = await harness.client.get(base + "/cdr/batch", headers=basic("wrong"))
        self.assertEqual(refused.code, 401)
        await refused.content()
        response = await harness.client.get(base + "/cdr/batch", headers=basic())
        self.assertEqual(response.code, 200)
        lines = (await response.text()).splitlines()
        self.assertEqual([json.loads(line)["callID"] for line in lines], ["c1", "c2", "c3"])
        batch = response.headers.getRawHeaders("x-cdr-batch")[0]
        acknowledged = await harness.client.post(base + f"/cdr/batch/{batch}/ack", headers=basic())
        self.assertEqual(acknowledged.code, 200)
        await acknowledged.content()
        empty = await harness.client.get(base + "/cdr/batch", headers=basic())
        self.assertEqual(empty.code, 204)
        await empty.content()

    async def test_withoutComponent(self):
        """
        Without a running cdr component the path answers 404 saying so.
        """
        harness, base = await self.serve(None)
        response = await harness.client.get(base + "/cdr/batch")
        self.assertEqual(response.code, 404)
        self.assertIn("cdr component is not running", await response.text())
