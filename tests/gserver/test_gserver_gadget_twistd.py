"""
The OpenScape gadget API of a real C{twistd -n oso} from a fresh start:
a script logs in with a demo extension's printed password over HTTPS (the
server's own self-signed certificate checked), monitors its extension,
calls another demo extension (a virtual phone answering by itself), sees
the call's events with GetEvents, clears it and logs out; no password or
session id reaches the server's output.
"""

import http.client
import json
import re
import ssl
import time
from urllib.parse import urlencode

from lxml import etree

DEMO = re.compile(r"demo extension (\d+) password (\S+)$")
LISTENING = re.compile(r"G-Server on https://127\.0\.0\.1:(\d+)/")

CONFIG = """\
[server]
components = ["virtual-phones", "gserver"]

[components.virtual-phones.auto-answer]
101 = 0

[components.gserver]
listen = ["ssl:0:interface=127.0.0.1"]
"""


class Client:
    """
    Blocking HTTPS requests to the gadget API, the server's certificate
    verified against the one in its data directory.
    """

    def __init__(self, port, certificate):
        context = ssl.create_default_context(cafile=str(certificate))
        self.connection = http.client.HTTPSConnection("127.0.0.1", port, context=context,
                                                      timeout=30)

    def get(self, **params):
        self.connection.request("GET", "/cgi-bin/gadgetapi?" + urlencode(params))
        response = self.connection.getresponse()
        body = response.read()
        assert response.status == 200, body
        if response.getheader("content-type") == "application/json":
            return json.loads(body)
        return etree.fromstring(body)


def test_scriptAgainstFreshServer(tmp_path, twistd):
    (tmp_path / "oso.toml").write_text(CONFIG)
    process = twistd(["-n", "oso", "--config", "oso.toml"], cwd=tmp_path)
    process.waitFor("oso ready:")  # logged once the G-Server listens
    passwords = dict(m.groups() for line in process.lines if (m := DEMO.search(line)))
    [port] = [int(m.group(1)) for line in process.lines if (m := LISTENING.search(line))]
    client = Client(port, tmp_path / "oso-data" / "tls" / "server.crt")

    login = client.get(cmd="Login", gsUser="100", gsPass=passwords["100"])
    session = login.findtext("ID")
    assert re.fullmatch("[0-9a-f]{32}", session) and login.findtext("CNT") == "1"
    assert client.get(cmd="MonitorStart", gsSession=session).findtext("RESULT") == "OK"
    made = client.get(cmd="MakeCall", gsSession=session, callingDevice="100",
                      calledDirectoryNumber="101", autoOriginate="doNotPrompt")
    assert made.findtext("RESULT") == "OK"
    callID = made.findtext("callID")

    types = []
    deadline = time.monotonic() + 20
    while "EstablishedEvent" not in types and time.monotonic() < deadline:
        events = client.get(cmd="GetEvents", gsSession=session)["events"]
        types += [event["type"] for event in events]
        assert {event["deviceID"] for event in events} <= {"100"}
        time.sleep(0.05)
    assert "DeliveredEvent" in types and "EstablishedEvent" in types

    cleared = client.get(cmd="ClearConnection", gsSession=session, callID=callID, deviceID="100")
    assert cleared.findtext("RESULT") == "OK"
    state = client.get(cmd="GetDeviceState", gsSession=session, deviceID="100")
    assert state.findtext("state") == "idle"
    assert client.get(cmd="Logout", gsSession=session).findtext("RESULT") == "OK"
    assert client.get(cmd="GetEvents", gsSession=session) == {"result": "NOT_LOGGED_IN"}
    client.connection.close()

    process.stop()
    output = process.output()
    assert "Traceback" not in output
    assert session not in output
    assert output.count(passwords["100"]) == 1  # the first start's demo line only
