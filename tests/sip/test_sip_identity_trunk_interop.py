"""
What a trunk and the other parties see of a caller, through a real
C{twistd oso} (components sip, sip-lines, sip-trunk, call-log, cdr)
against SIPp phones and SIPp providers over loopback; the provider's
scenario checks the INVITE's headers itself (C{<ereg check_it>} and
C{check_it_inverse}: a failed check fails SIPp's exit status), and tshark
decodes the whole capture with no malformed packet:

  - extension 200 withholds its caller id (the administrator's
    C{withhold-caller-id}): although its phone sends C{Privacy: none}, a
    trusted provider gets the RFC 3323 anonymous From, C{Privacy: id} and
    the asserted public number, an untrusted one the anonymous From and
    C{Privacy: id} only; an internal call reaches phone 202 anonymous, the
    call log's events about 202 name the caller C{restricted} (what CSTA
    reports) and 202's call record has no number;
  - extension 201 may present the main number 4930123456000: its phone's
    C{P-Preferred-Identity} naming it is what both providers see in From
    (and the trusted one in C{P-Asserted-Identity}), in the trunks'
    national presentation (RFC 3325 9.2); a preferred number it may not
    present is ignored with a log line.
"""

import json
import time
from xml.sax.saxutils import escape

import pytest

from sip_loopback import need
from test_sip_lines_interop import PASSWORDS, SCENARIOS, Capture, events, freeUDPPort, register, sipp

#: The anonymous From of RFC 3323 4.1.1.3, as a regular expression.
ANONYMOUS = "\"Anonymous\" *<sip:anonymous@anonymous\\.invalid>"


def configuration(port, trustedPort, untrustedPort):
    """
    An oso.toml: SIP on UDP C{port}; extensions 200 (caller id withheld),
    201 (the main number presentable) and 202; the trunk group "carrier"
    (trusted, provider at C{trustedPort}, routes 0 0...) and "plain"
    (untrusted, provider at C{untrustedPort}, routes 0 9...), both in the
    national presentation; call records of internal calls too.
    """
    devices = "".join(
        f'[[devices]]\nnumber = "{number}"\nname = "Phone {number}"\nport = "sip-lines"\n'
        f'password = "{PASSWORDS[number]}"\npublic-number = "4930123456{number}"\n{extra}\n'
        for number, extra in (
            ("200", "withhold-caller-id = true"),
            ("201", 'presentable-numbers = ["4930123456000"]'),
            ("202", ""),
        )
    )
    routes, trunks = [], []
    for number, group, first, prepend, providerPort, trust in (
        ("900", "carrier", "0", "+49", trustedPort, "trusted"),
        ("910", "plain", "9", "+4989", untrustedPort, "untrusted"),
    ):
        devices += (f'[[devices]]\nnumber = "{number}"\ntype = "trunk"\nport = "sip-trunk"\n'
                    f'trunk-group = "{group}"\n\n')
        routes.append(f'[[dialplan.routes]]\npattern = "{first}Z."\ntrunk-group = "{group}"\n'
                      f'strip = 1\nprepend = "{prepend}"\n')
        trunks.append(
            f'[[components.sip-trunk.trunks]]\ntrunk-group = "{group}"\n'
            f'provider = "127.0.0.1:{providerPort}"\ntransport = "udp"\n'
            f'username = "4930123456"\nnumber-format = "national"\ncountry-code = "49"\n'
            f'trust = "{trust}"\n'
        )
    return f"""
[server]
realm = "oso"
components = ["sip", "sip-lines", "sip-trunk", "call-log", "cdr"]

[dialplan]
trunk-access-code = "0"

{chr(10).join(routes)}
[[dialplan.dids]]
prefix = "+4930123456"

{devices}
[components.sip]
listen = ["udp:{port}:interface=127.0.0.1"]

[components.cdr]
record-internal = true
format = "jsonl"

{chr(10).join(trunks)}"""


@pytest.fixture
def oso(tmp_path, twistd):
    need("tshark")
    need("sipp")
    port, trusted, untrusted = freeUDPPort(), freeUDPPort(), freeUDPPort()
    (tmp_path / "oso.toml").write_text(configuration(port, trusted, untrusted))
    process = twistd(["-n", "oso", "--config", "oso.toml"], cwd=tmp_path)
    process.waitFor("oso ready:")
    process.port = port
    process.providers = {"trusted": trusted, "untrusted": untrusted}
    process.remote = f"127.0.0.1:{port}"
    yield process
    process.stop()
    assert "Traceback" not in process.output()


def providerScenario(tmp_path, present, absent):
    """
    Write the provider's scenario with its checks of the INVITE.

    @param present: C{(header, regular expression)} pairs that must match.
    @param absent: a regular expression the whole message must not match.
    @return: the scenario's path.
    """
    checks = [
        f'<ereg regexp="{escape(regexp, {chr(34): "&quot;"})}" search_in="hdr" '
        f'header="{header}:" check_it="true" assign_to="c{index}"/>'
        for index, (header, regexp) in enumerate(present)
    ]
    checks.append(f'<ereg regexp="{escape(absent)}" search_in="msg" check_it_inverse="true" '
                  f'assign_to="c{len(present)}"/>')
    used = " ".join(f"[$c{index}]" for index in range(len(checks)))
    template = (SCENARIOS / "trunk_provider_identity.xml").read_text()
    path = tmp_path / "provider.xml"
    path.write_text(template.replace("<!-- checks -->", "\n      ".join(checks)).replace(
        "<!-- log -->", f'<log message="checked: {used}"/>'))
    return path


def call(tmp_path, oso, caller, dialled, fields, called=None):
    """
    Phone C{caller} (SIPp, L{uac_identity.xml} with the two header C{fields})
    dials C{dialled}; the far end is C{called}: C{(scenario path, port)}
    of a provider (the trunk's), or of phone 202, which registers first.

    @return: the call model events.
    """
    scenario, farPort = called
    phonePort = freeUDPPort()
    ports = [oso.port, farPort, phonePort]
    capture = Capture(tmp_path / "identity.pcapng", ports[:2])
    try:
        if farPort not in oso.providers.values():
            register(tmp_path, oso, "202", farPort)
        far = sipp(str(scenario), port=farPort, background=True, cwd=tmp_path)
        time.sleep(0.3)
        csv = tmp_path / "caller.csv"
        csv.write_text(f"SEQUENTIAL\n{caller};{fields[0]};{fields[1]}\n")
        status = sipp(
            "uac_identity.xml", "-inf", str(csv), "-s", dialled, "-au", caller,
            "-ap", PASSWORDS[caller], "-auth_uri", f"{dialled}@{oso.remote}",
            port=phonePort, remote=oso.remote, cwd=tmp_path,
        )
        assert status == 0, "SIPp phone failed"
        assert far.wait(30) == 0, f"SIPp far end {scenario} failed its checks"
    finally:
        capture.stop()
    malformed, sip, _ = capture.decode(ports)
    assert malformed == []
    assert any("INVITE" in line for line in sip)
    return events(oso)


def cdrRecords(tmp_path):
    """
    @return: the call records in the cdr component's journal, as dicts.
    """
    deadline = time.monotonic() + 10
    while True:
        records = [
            json.loads(line.split(" ", 2)[2])
            for segment in sorted((tmp_path / "oso-data" / "cdr").glob("cdr-*.jsonl"))
            for line in segment.read_text().splitlines()
        ]
        if records or time.monotonic() > deadline:
            return records
        time.sleep(0.2)


def test_withheld_caller_id_to_a_trusted_trunk(tmp_path, oso):
    """
    The phone's Privacy: none does not lift the administrator's CLIR.
    """
    scenario = providerScenario(
        tmp_path,
        [("From", ANONYMOUS), ("Privacy", "^ *id *$"),
         ("P-Asserted-Identity", "<sip:030123456200@")],
        "P-Preferred-Identity|From:[^\\r\\n]*030123456200",
    )
    names = call(tmp_path, oso, "200", "00891234567", ("Privacy: none", "Subject: clir"),
                 (scenario, oso.providers["trusted"]))
    assert "Established" in names and names[-1] == "CallCleared"
    assert any(" NetworkReached " in line and "callingDevice=restricted" in line
               for line in oso.lines)


def test_withheld_caller_id_to_an_untrusted_trunk(tmp_path, oso):
    scenario = providerScenario(
        tmp_path,
        [("From", ANONYMOUS), ("Privacy", "^ *id *$")],
        "P-Asserted-Identity|P-Preferred-Identity|030123456200|4930123456200",
    )
    names = call(tmp_path, oso, "200", "09891234567", ("Subject: clir", "Subject: again"),
                 (scenario, oso.providers["untrusted"]))
    assert "Established" in names and names[-1] == "CallCleared"


def test_withheld_caller_id_to_an_extension(tmp_path, oso):
    """
    The called phone gets the anonymous From (its scenario checks it); the
    events about 202 say restricted, the caller's own name 200; 202's call
    record has no number, 200's names 202.
    """
    names = call(tmp_path, oso, "200", "202", ("Privacy: none", "Subject: clir"),
                 (SCENARIOS / "uas_privacy.xml", freeUDPPort()))
    assert "Established" in names and names[-1] == "CallCleared"
    delivered = [line for line in oso.lines if " Delivered " in line]
    assert delivered and all("callingDevice=restricted" in line for line in delivered)
    assert any(" Originated " in line and "callingDevice=200" in line for line in oso.lines)
    records = {r["subscriber"]: r for r in cdrRecords(tmp_path)}
    assert records["202"]["externalNumber"] == ""
    assert records["200"]["externalNumber"] == "202"


@pytest.mark.parametrize("trust, dialled", [("trusted", "00891234567"),
                                            ("untrusted", "09891234567")])
def test_preferred_main_number_reaches_the_trunk(tmp_path, oso, trust, dialled):
    """
    RFC 3325 9.2: the main number 201 may present, preferred by its phone,
    is the From (and, to the trusted provider, the asserted identity).
    """
    present = [("From", "<sip:030123456000@")]
    absent = "Privacy|P-Preferred-Identity|030123456201"
    if trust == "trusted":
        present.append(("P-Asserted-Identity", "<sip:030123456000@"))
    else:
        absent += "|P-Asserted-Identity"
    scenario = providerScenario(tmp_path, present, absent)
    names = call(tmp_path, oso, "201", dialled,
                 ("P-Preferred-Identity: <sip:+4930123456000@127.0.0.1>", "Subject: main"),
                 (scenario, oso.providers[trust]))
    assert "Established" in names and names[-1] == "CallCleared"


def test_preferred_number_not_allowed_is_ignored(tmp_path, oso):
    """
    Another extension's public number, preferred, is not presented: the
    trunk shows 201's own public number, and the log says why.
    """
    scenario = providerScenario(
        tmp_path,
        [("From", "<sip:030123456201@"), ("P-Asserted-Identity", "<sip:030123456201@")],
        "030123456202|P-Preferred-Identity",
    )
    names = call(tmp_path, oso, "201", "00891234567",
                 ("P-Preferred-Identity: <sip:+4930123456202@127.0.0.1>", "Subject: other"),
                 (scenario, oso.providers["trusted"]))
    assert "Established" in names and names[-1] == "CallCleared"
    assert "P-Preferred-Identity names no identity of the extension" in oso.output()
