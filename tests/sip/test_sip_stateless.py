"""
The digest challenges answered statelessly (RFC 3261 8.2.7, 26.1.5): a
REGISTER's 401 through the UA core and a phone INVITE's 407 through the
sip-lines port go out once and leave no transaction or timer behind; a
retransmission is challenged again with the same To tag; the ACK of the
407 is dropped quietly; the request with credentials goes on as before.
"""

from twisted.internet.task import Clock
from twisted.logger import LogLevel, globalLogPublisher

from oso import secrets
from oso.sip.transaction import statelessTag
from oso.sip.digest import DigestAuthenticator, digestResponse
from oso.sip.message import parseMessage
from oso.sip.registrar import Registrar
from oso.sip.useragent import UserAgent
from oso.store.memory import MemoryStore

from sip_lines_harness import OSO, SIPExchange

REALM = "oso.test"
PHONE = ("192.0.2.10", 5070)


def register(branch="z9hG4bKr1", callID="c1", cseq=1, authorization="", require=""):
    return parseMessage(
        (
            f"REGISTER sip:192.0.2.1 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {PHONE[0]}:{PHONE[1]};branch={branch};rport\r\n"
            f"From: <sip:200@192.0.2.1>;tag=f1\r\nTo: <sip:200@192.0.2.1>\r\n"
            f"Call-ID: {callID}\r\nCSeq: {cseq} REGISTER\r\n"
            f"Contact: <sip:200@{PHONE[0]}:{PHONE[1]}>\r\n{authorization}{require}"
            f"Max-Forwards: 70\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n"
        ).encode()
    )


def authorization(challenge):
    """
    The Authorization field answering the 401 C{challenge} for 200.
    """
    params = challenge.headers.getParsed("www-authenticate").params
    uri = "sip:192.0.2.1"
    ha1 = secrets.digestHA1("200", REALM, "pw200")
    response = digestResponse(ha1, "REGISTER", uri, params["nonce"], "auth", "00000001", "c")
    return (
        f'Authorization: Digest username="200", realm="{REALM}", nonce="{params["nonce"]}", '
        f'uri="{uri}", response="{response}", algorithm=MD5, qop=auth, nc=00000001, '
        f'cnonce="c", opaque="{params["opaque"]}"\r\n'
    )


class Core:
    """
    The UA core on a fake clock with user 200 known, what it sends kept.
    """

    def __init__(self):
        self.clock = Clock()
        self.sent = []
        self.ua = UserAgent(
            self.clock,
            lambda message, destination, transport: self.sent.append((message, destination)),
            {"UDP": ("192.0.2.1", 5060)}.get,
            Registrar(self.clock, MemoryStore()),
            DigestAuthenticator(REALM, b"k" * 32, self.clock),
            {"200": secrets.digestHA1("200", REALM, "pw200")}.get,
        )

    def receive(self, request):
        self.ua.receive(request, PHONE, "UDP")
        return self.sent[-1][0]


def test_registerChallengeLeavesNothing():
    """
    The 401 goes out once, to the request's source, and the core keeps no
    transaction and no timer for it (no Timer J).
    """
    core = Core()
    challenge = core.receive(register())
    assert core.sent == [(challenge, PHONE)]
    assert challenge.status == 401
    assert core.ua.layer.transactions == []
    assert core.clock.getDelayedCalls() == []


def test_retransmittedRegisterIsChallengedAgainWithTheSameTag():
    """
    RFC 3261 8.2.7: a retransmission is a new request to a stateless UAS
    and gets a new 401, with the To tag of the first; another REGISTER
    gets another tag.
    """
    core = Core()
    first = core.receive(register())
    second = core.receive(register())
    assert [m.status for m, _ in core.sent] == [401, 401]
    assert second.toAddress.tag == first.toAddress.tag == statelessTag(register())
    assert len(first.toAddress.tag) == 12 and int(first.toAddress.tag, 16) >= 0
    other = core.receive(register(branch="z9hG4bKr2", cseq=2))
    assert other.toAddress.tag != first.toAddress.tag


def test_registerWithCredentialsAfterTheChallenges():
    """
    The REGISTER answering a stateless 401 is registered as before, through
    a transaction of its own (kept for Timer J).
    """
    core = Core()
    core.receive(register())
    challenge = core.receive(register())
    answer = core.receive(register("z9hG4bKr2", cseq=2, authorization=authorization(challenge)))
    assert answer.status == 200
    assert len(core.ua.layer.transactions) == 1
    assert core.ua.registrar.contacts("200") != []


def test_staleNonceIsChallengedStatelessly():
    """
    A REGISTER with a nonce that expired gets its stale=true 401
    statelessly too.
    """
    core = Core()
    challenge = core.receive(register())
    core.clock.advance(3600)
    stale = core.receive(register("z9hG4bKr2", cseq=2, authorization=authorization(challenge)))
    assert stale.status == 401
    assert stale.headers.getParsed("www-authenticate").params["stale"] == "true"
    assert core.ua.layer.transactions == []


def test_requireIsStillAnsweredStatefully():
    """
    RFC 3261 10.3 step 2 comes before the challenge: a REGISTER that
    requires an extension gets its 420 through a transaction, which
    answers a retransmission with the same 420.
    """
    core = Core()
    refusal = core.receive(register(require="Require: foo\r\n"))
    again = core.receive(register(require="Require: foo\r\n"))
    assert refusal.status == 420
    assert len(core.ua.layer.transactions) == 1
    assert again.serialise() == refusal.serialise()


def errorsLogged(run):
    """
    @return: the events of warning level or above logged while C{run}
        ran.
    """
    events = []

    def observe(event):
        if event.get("log_level", LogLevel.info) >= LogLevel.warn:
            events.append(event)

    globalLogPublisher.addObserver(observe)
    try:
        run()
    finally:
        globalLogPublisher.removeObserver(observe)
    return events


def test_phoneInviteChallengeIsNotRetransmitted():
    """
    The 407 to a phone's INVITE goes out once with no 100 Trying before
    it: no Timer G retransmits it while no ACK comes, no transaction is
    kept.
    """
    x = SIPExchange()
    x.register("200", "201")
    a = x.sip("200")
    invite = a._new("INVITE", "201")
    x.ua.layer.receive(parseMessage(invite.serialise()), a.address, "UDP")
    x.run(10)
    fromOso = [data for source, _, data in x.network.log if tuple(source) == OSO]
    assert [data.split(b"\r\n", 1)[0] for data in fromOso] == [
        b"SIP/2.0 407 Proxy Authentication Required"
    ]
    assert x.ua.layer.transactions == []
    # RFC 3261 8.2.6.2: tagged, as its retransmission's answer will be.
    assert parseMessage(fromOso[0]).toAddress.tag == statelessTag(invite)


def test_phoneCallAfterStatelessChallenge():
    """
    The phone's ACK to the 407 matches no transaction and no dialog: it is
    dropped without a response or an error logged; the INVITE with
    credentials makes the call.
    """
    x = SIPExchange()
    x.register("200", "201")
    a, b = x.sip("200"), x.sip("201")
    a.call("201")
    assert errorsLogged(x.run) == []
    assert sorted(m.method for m in a.sent()) == ["ACK", "INVITE", "INVITE"]
    assert a.statuses() == [407, 100, 180]
    b.answer()
    x.run()
    assert a.statuses()[-1] == 200
    assert x.model.calls() != []


def test_cancelOfAChallengedInviteGets481():
    """
    A CANCEL of the INVITE that was challenged finds no transaction:
    481, as for any CANCEL that matches none (RFC 3261 9.2).
    """
    x = SIPExchange()
    x.register("200")
    a = x.sip("200")
    invite = a._new("INVITE", "201")
    x.ua.layer.receive(parseMessage(invite.serialise()), a.address, "UDP")
    cancel = parseMessage(invite.serialise().replace(b"1 INVITE", b"1 CANCEL").replace(
        b"INVITE sip:", b"CANCEL sip:"))
    x.ua.layer.receive(cancel, a.address, "UDP")
    x.run()
    fromOso = [data.split(b"\r\n", 1)[0] for source, _, data in x.network.log
               if tuple(source) == OSO]
    assert fromOso == [b"SIP/2.0 407 Proxy Authentication Required",
                       b"SIP/2.0 481 Call/Transaction Does Not Exist"]
