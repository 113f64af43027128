"""
A trunk's registration (L{oso.sip.trunkregistration}) from the real C{sip}
component on loopback to Kamailio acting as the VoIP provider: an
in-memory registrar (C{usrloc} with C{db_mode 0}) with digest
authentication of a plain password (C{pv_www_authenticate}, qop=auth,
nonce counts checked), C{min_expires} 3 with 423 answers. Kamailio's own
view of the binding is read with C{kamcmd ul.dump}.

Also: failover per RFC 3263 from a silent first SRV target (a bound UDP
socket that never answers) to Kamailio, located through a C{twisted.names}
server on loopback; and the Contact at the address coturn's STUN answer
gave the sip component's own UDP socket.
"""

import os
import re
import socket
import subprocess
from types import SimpleNamespace

from dns_loopback import startDNS
from sip_loopback import freePort, need
from twisted.application.service import MultiService
from twisted.internet import reactor
from twisted.internet.task import Clock, deferLater
from twisted.internet.utils import getProcessOutputAndValue
from twisted.names import client, dns
from twisted.python.filepath import FilePath
from twisted.trial.unittest import TestCase
from zope.interface import implementer

from oso.interfaces.sip import ISIPApplication
from oso.plugins.sip import sip
from oso.service import ServerContext
from oso.sip.locator import Locator
from oso.sip.trunkregistration import TrunkRegistration
from oso.sip.trunkstun import stunFor
from oso.sip.uacauth import ClientAuthenticator, ClientCredentials
from oso.sip.uri import parseURI
from oso.testing import Exchange

DOMAIN = "provider.test"
USER = "trunk1"
PASSWORD = "trunk-pw-interop"

KAMAILIO_CFG = """#!KAMAILIO
debug=2
log_stderror=yes
children=1
tcp_children=1
auto_aliases=no
listen=udp:127.0.0.1:{port}
listen=tcp:127.0.0.1:{port}
maxbuffer=4194304

loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "ctl.so"
loadmodule "xlog.so"

modparam("usrloc", "db_mode", 0)
modparam("registrar", "min_expires", 3)
modparam("registrar", "min_expires_mode", 1)
modparam("auth", "nonce_count", 1)
modparam("ctl", "binrpc", "udp:127.0.0.1:{ctl}")

request_route {{
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if (is_method("REGISTER")) {{
        xlog("L_INFO", "oso-test REGISTER cseq $cs contact $ct auth $hdr(Authorization)\\n");
        if (!pv_www_authenticate("$td", "{password}", "0")) {{
            auth_challenge("$td", "1");
            exit;
        }}
        if (!save("location")) {{
            sl_reply_error();
        }}
        exit;
    }}
    sl_send_reply("404", "Not Here");
}}
"""


class Kamailio:
    """
    Kamailio as the provider, on a free UDP port of 127.0.0.1, until the
    test ends.
    """

    def __init__(self, test, password=PASSWORD):
        need("kamailio")
        need("kamcmd")
        self.port = freePort()
        self.folder = os.path.abspath(test.mktemp())
        os.makedirs(self.folder)
        self.ctl = freePort()
        config = os.path.join(self.folder, "kamailio.cfg")
        with open(config, "w") as f:
            f.write(KAMAILIO_CFG.format(port=self.port, ctl=self.ctl, password=password))
        self.logPath = os.path.join(self.folder, "kamailio.log")
        log = open(self.logPath, "wb")
        test.addCleanup(log.close)
        self.process = subprocess.Popen(
            ["kamailio", "-DD", "-E", "-x", "tlsf", "-m", "64", "-M", "8",
             "-Y", self.folder, "-w", self.folder, "-f", config],
            stdout=log, stderr=subprocess.STDOUT,
        )
        test.addCleanup(self.stop)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    async def ready(self):
        for _ in range(200):
            if self.process.poll() is not None:
                raise AssertionError(f"kamailio ended: {self.log()}")
            out, _, code = await self.kamcmd("ul.dump")
            if code == 0:
                return
            await deferLater(reactor, 0.05)
        raise AssertionError("kamailio did not start")

    def kamcmd(self, *command):
        return getProcessOutputAndValue(
            "kamcmd", ("-s", f"udp:127.0.0.1:{self.ctl}") + command, env=os.environ
        )

    async def contacts(self):
        """
        The contacts Kamailio's location table holds for the trunk's user.
        """
        out, err, code = await self.kamcmd("ul.dump")
        assert code == 0, err
        return re.findall(rf"Address: (sip:{USER}@\S+)", out.decode())

    def registers(self):
        """
        The REGISTER requests Kamailio's script saw, as its log lines.
        """
        return [line for line in self.log().splitlines() if "oso-test REGISTER" in line]

    def log(self):
        with open(self.logPath, encoding="utf-8", errors="replace") as f:
            return f.read()


@implementer(ISIPApplication)
class TrunkApplication:
    """
    Stands for the trunk port: owns the REGISTER transactions and passes
    their outcomes to the registration, recording them.
    """

    methods = frozenset()

    def __init__(self):
        self.registration = None
        self.answers = []
        self.failures = []

    def accepts(self, request, source):
        return False

    def requestReceived(self, request, transaction, source):
        pass

    def responseReceived(self, response, transaction):
        if response.status >= 200:
            self.answers.append((response.status, transaction.request))
        assert self.registration.responseReceived(response, transaction)

    def transactionFailed(self, transaction, reason):
        self.failures.append((reason, transaction.destination))
        assert self.registration.transactionFailed(transaction, reason)

    def bindingsChanged(self, aor):
        pass


async def until(predicate, timeout=15.0, step=0.05):
    for _ in range(int(timeout / step)):
        if predicate():
            return True
        await deferLater(reactor, step)
    return predicate()


class TrunkRegistrationInteropTests(TestCase):
    timeout = 90

    def setUp(self):
        self.services = MultiService()
        exchange = Exchange(stations=())
        context = ServerContext(
            reactor, exchange.model, exchange.store, FilePath(self.mktemp()),
            SimpleNamespace(realm="oso"), self.services,
        )
        context.dataDirectory.makedirs()
        # T1 of 50 ms: Timer F gives up on a silent server in 3.2 s.
        settings = sip.validateConfig(
            {"listen": ["udp:0:interface=127.0.0.1", "tcp:0:interface=127.0.0.1"],
             "t1": 0.05, "t4": 0.05},
            "components.sip",
        )
        self.sip = sip.makeService(settings, context)
        self.sip.setName("sip")
        self.sip.setServiceParent(self.services)
        self.services.startService()
        self.addCleanup(self.services.stopService)
        self.app = TrunkApplication()
        self.sip.attach(self.app)
        self.addCleanup(self.sip.detach, self.app)

    def registration(self, registrar, password=PASSWORD, locator=None, interval=2,
                     contactAddress=None):
        self.status = []
        registration = TrunkRegistration(
            self.sip,
            reactor,
            owner=self.app,
            aor=parseURI(f"sip:{USER}@{DOMAIN}"),
            registrarURI=parseURI(registrar),
            transport=None,
            outboundProxy=None,
            authenticator=ClientAuthenticator(ClientCredentials(USER, password)),
            interval=interval,
            locator=locator,
            contactAddress=contactAddress,
            statusChanged=self.status.append,
        )
        self.app.registration = registration

        async def stop():
            await registration.stop()
            # Timer K (T4, 50 ms) of the last transaction.
            await deferLater(reactor, 0.2)

        self.addCleanup(stop)
        return registration

    @property
    def sipPort(self):
        return self.sip.transports.addresses["UDP"][1]

    async def test_register_refresh_unregister(self):
        """
        The trunk registers with digest (401, then 200), asks again with
        Min-Expires after 423, refreshes before the 3 s granted run out
        reusing the nonce with rising nonce counts, and Kamailio's location
        table holds its Contact; stop removes it.
        """
        kamailio = Kamailio(self)
        await kamailio.ready()
        registration = self.registration(f"sip:127.0.0.1:{kamailio.port}")
        registration.start()
        self.assertTrue(await until(lambda: registration.inService))
        self.assertEqual(self.status, [True])
        self.assertEqual(registration.granted, 3)
        statuses = [status for status, _ in self.app.answers]
        self.assertIn(423, statuses)
        self.assertIn(401, statuses)
        contact = f"sip:{USER}@127.0.0.1:{self.sipPort}"
        self.assertEqual(await kamailio.contacts(), [contact])

        # Refreshes at about 1.5 s: wait for two more 200s.
        oks = statuses.count(200)
        self.assertTrue(await until(lambda: [s for s, _ in self.app.answers].count(200) >= oks + 2))
        counts = [
            int(request.headers.getParsed("authorization").params["nc"], 16)
            for status, request in self.app.answers
            if status == 200
        ]
        self.assertGreater(max(counts), 1)
        self.assertEqual(self.status, [True])
        self.assertEqual(await kamailio.contacts(), [contact])

        await registration.stop()
        self.assertEqual(self.status, [True, False])
        self.assertEqual(await kamailio.contacts(), [])

    async def test_register_over_tcp(self):
        """
        The same over TCP (the registrar URI's C{transport=tcp}): the
        Contact Kamailio stores says TCP and names the sip component's
        TCP listener.
        """
        kamailio = Kamailio(self)
        await kamailio.ready()
        registration = self.registration(
            f"sip:127.0.0.1:{kamailio.port};transport=tcp", interval=60
        )
        registration.start()
        self.assertTrue(await until(lambda: registration.inService))
        self.assertEqual(registration.target.transport, "TCP")
        tcpPort = self.sip.transports.addresses["TCP"][1]
        self.assertEqual(await kamailio.contacts(),
                         [f"sip:{USER}@127.0.0.1:{tcpPort};transport=tcp"])
        await registration.stop()
        self.assertEqual(await kamailio.contacts(), [])

    async def test_wrong_password(self):
        """
        A wrong password: 401, one answer, 401 again, and no further
        REGISTER (the backoff is 30 s); the trunk stays out of service.
        """
        kamailio = Kamailio(self)
        await kamailio.ready()
        registration = self.registration(
            f"sip:127.0.0.1:{kamailio.port}", password="wrong", interval=60
        )
        registration.start()
        self.assertTrue(await until(lambda: len(self.app.answers) >= 2))
        await deferLater(reactor, 1.5)
        self.assertEqual([status for status, _ in self.app.answers], [401, 401])
        self.assertEqual(len(kamailio.registers()), 2)
        self.assertFalse(registration.inService)
        self.assertEqual(self.status, [])
        self.assertEqual(await kamailio.contacts(), [])

    async def test_failover_to_second_target(self):
        """
        RFC 3263: the provider's SRV records name a silent server first
        and Kamailio second; the REGISTER times out at the first (Timer F)
        and the trunk registers at the second, which becomes its target.
        """
        kamailio = Kamailio(self)
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.1", 0))
        silent.setblocking(False)
        self.addCleanup(silent.close)
        silentPort = silent.getsockname()[1]
        _, dnsPort = startDNS(self, {
            b"_sip._udp.provider.test": [
                dns.Record_SRV(10, 0, silentPort, b"primary.provider.test", ttl=60),
                dns.Record_SRV(20, 0, kamailio.port, b"backup.provider.test", ttl=60),
            ],
            b"primary.provider.test": [dns.Record_A("127.0.0.1", ttl=60)],
            b"backup.provider.test": [dns.Record_A("127.0.0.1", ttl=60)],
        })
        await kamailio.ready()
        resolver = client.Resolver(servers=[("127.0.0.1", dnsPort)], timeout=(2,))
        locator = Locator(resolver, Clock(), transports=("UDP",), ipv6=False)
        registration = self.registration(f"sip:{DOMAIN}", locator=locator, interval=60)
        registration.start()
        self.assertTrue(await until(lambda: registration.inService, timeout=20))
        self.assertEqual(self.app.failures, [("timeout", ("127.0.0.1", silentPort))])
        self.assertEqual((registration.target.port, registration.target.name),
                         (kamailio.port, "backup.provider.test"))
        self.assertEqual(await kamailio.contacts(), [f"sip:{USER}@127.0.0.1:{self.sipPort}"])
        data, _ = silent.recvfrom(65535)
        self.assertTrue(data.startswith(b"REGISTER sip:provider.test SIP/2.0"))

    async def test_contact_from_stun(self):
        """
        The sip component's UDP socket learns its public address from
        coturn (the binding request goes out of that socket and its answer
        is taken off it before SIP); the Contact Kamailio stores is that
        address, and the registration says it came from STUN.
        """
        need("turnserver")
        kamailio = Kamailio(self)
        stunPort = freePort()
        folder = os.path.abspath(self.mktemp())
        os.makedirs(folder)
        with open(os.path.join(folder, "turnserver.log"), "wb") as log:
            coturn = subprocess.Popen(
                ["turnserver", "-n", "--stun-only", "--listening-ip=127.0.0.1",
                 f"--listening-port={stunPort}", "--no-cli", "--no-tls", "--no-dtls", "--no-tcp",
                 "--log-file=stdout", "--simple-log",
                 f"--pidfile={os.path.join(folder, 'turnserver.pid')}"],
                stdout=log, stderr=subprocess.STDOUT,
            )

        def stopCoturn():
            coturn.terminate()
            try:
                coturn.wait(10)
            except subprocess.TimeoutExpired:
                coturn.kill()
                coturn.wait()

        self.addCleanup(stopCoturn)
        need("tshark")
        capture = os.path.join(folder, "trunk.pcapng")
        tshark = subprocess.Popen(
            ["tshark", "-q", "-i", "lo", "-f",
             f"udp port {stunPort} or udp port {kamailio.port}", "-w", capture],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

        def stopTshark():
            if tshark.poll() is None:
                tshark.terminate()
                tshark.wait(20)

        self.addCleanup(stopTshark)
        self.assertTrue(await until(
            lambda: os.path.exists(capture) and os.path.getsize(capture) > 0, timeout=20))
        await kamailio.ready()
        changes = []
        registration = None

        def changed(address):
            changes.append(address)
            registration.addressChanged()

        stun = stunFor(self.sip, ("127.0.0.1", stunPort), reactor, 0.5, changed)
        registration = self.registration(
            f"sip:127.0.0.1:{kamailio.port}", interval=60, contactAddress=stun.currentAddress
        )
        stun.startService()
        self.addCleanup(stun.stopService)
        self.assertTrue(await until(lambda: changes))
        registration.start()
        self.assertTrue(await until(lambda: registration.inService))
        self.assertEqual(registration.contactSource, "stun")
        self.assertEqual(changes, [("127.0.0.1", self.sipPort)])
        host, port = stun.currentAddress()
        self.assertEqual(await kamailio.contacts(), [f"sip:{USER}@{host}:{port}"])
        # What went over the wire: coturn's Binding success response to
        # the SIP socket carried the address the REGISTER's Contact
        # names; tshark finds no malformed packet.
        await deferLater(reactor, 0.3)
        stopTshark()
        decodeAs = ["-d", f"udp.port=={kamailio.port},sip", "-d", f"udp.port=={stunPort},stun"]

        def read(display, *fields):
            out = subprocess.run(
                ["tshark", "-r", capture, *decodeAs, "-Y", display, "-T", "fields",
                 *[arg for field in fields for arg in ("-e", field)]],
                capture_output=True, text=True, timeout=60,
            )
            return [line for line in out.stdout.splitlines() if line.strip()]

        self.assertEqual(read("_ws.malformed || _ws.expert.severity >= error", "frame.number"), [])
        mapped = set()
        for line in read("stun.type == 0x0101", "udp.dstport", "stun.att.ipv4-xord",
                         "stun.att.port-xord"):
            # tshark shows XOR-MAPPED-ADDRESS as sent (RFC 5389 15.2).
            dstport, xordIP, xordPort = line.split("\t")
            address = socket.inet_ntoa((int(xordIP, 16) ^ 0x2112A442).to_bytes(4, "big"))
            mapped.add((int(dstport), address, int(xordPort, 16) ^ 0x2112))
        self.assertIn((self.sipPort, host, port), mapped)
        contacts = read("sip.Method == REGISTER", "udp.srcport", "sip.contact.uri")
        self.assertIn(f"{self.sipPort}\t{USER}@{host}:{port}", [c.replace("sip:", "") for c in contacts])
        # Refreshes go on through the same socket while SIP works on it.
        self.assertIn(stun.client.datagramReceived, self.sip.transports.datagramTaps)
        stun.stopService()
        self.assertNotIn(stun.client.datagramReceived, self.sip.transports.datagramTaps)
