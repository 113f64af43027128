"""
The sip-trunk component's configuration: the complete example of
doc/sip.md (Trunks) loads and means what its comments say; every bad
value is a ConfigError naming its key; the trunks are checked against the
trunk devices; the caller-id presentations.
"""

import dataclasses
import re
from pathlib import Path

import pytest

from oso import config
from oso.callmodel.devices import Device, DeviceType
from oso.components import configureComponents
from oso.config import ConfigError
from oso.ports.numberformat import NumberFormat
from oso.plugins.sip_trunk import checkChannels, makeTrunk, sipTrunk

DOC = Path(__file__).resolve().parents[2] / "doc" / "sip.md"
WHERE = "oso.toml: components.sip-trunk"
BASE = {"trunk-group": "carrier", "provider": "192.0.2.1"}


def documented():
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Trunks (`sip-trunk`)"):]
    return re.search(r"```toml\n(.*?)```", section, re.S).group(1)


def test_documented_example(tmp_path):
    (tmp_path / "oso.toml").write_text(documented())
    settings = config.load(tmp_path / "oso.toml")
    components = dict((c.name, s) for c, s in configureComponents(settings))
    [trunk] = components["sip-trunk"]["trunks"]
    assert trunk.trunkGroup == "carrier"
    assert (trunk.provider, trunk.providerPort) == ("sip.carrier.example", None)
    assert trunk.outboundProxy == ("192.0.2.10", 5070)
    assert trunk.transport == "UDP"
    assert (trunk.username, trunk.password, trunk.aka) == ("4930123456", "provider-secret", None)
    assert (trunk.register, trunk.registerInterval, trunk.channels) == (True, 600, 2)
    assert trunk.dids == ("+4930123456",)
    assert trunk.numbers == NumberFormat("national", "49", "0", "00")
    assert trunk.trusted and trunk.acceptFrom == ("192.0.2.20",)
    assert (trunk.stun, trunk.stunInterval) == (("192.0.2.30", 3478), 300)
    checkChannels(components["sip-trunk"]["trunks"], settings.devices, WHERE)
    # The channels are the trunk group's devices.
    assert [d.number for d in settings.devices if d.port == "sip-trunk"] == ["900", "901"]


def test_documented_aka_keys(tmp_path):
    text = documented().replace("# aka-k", "aka-k").replace("# aka-opc", "aka-opc")
    (tmp_path / "oso.toml").write_text(text)
    settings = config.load(tmp_path / "oso.toml")
    [trunk] = sipTrunk.validateConfig(settings.componentSections["sip-trunk"], WHERE)["trunks"]
    k, op, opc = trunk.aka
    assert k.hex() == "465b5ce8b199b49faa5f0a2ee238a6bc" and op is None
    withoutSTUN = dataclasses.replace(trunk, stun=None)
    assert makeTrunk(withoutSTUN, None, None, None).authenticator.credentials.aka is not None


def test_defaults():
    [trunk] = sipTrunk.validateConfig({"trunks": [BASE]}, WHERE)["trunks"]
    assert trunk.transport is None and trunk.register is False
    assert trunk.numbers == NumberFormat() and not trunk.trusted
    assert makeTrunk(trunk, None, None, None).authenticator is None
    assert sipTrunk.validateConfig({}, WHERE)["trunks"] == ()


@pytest.mark.parametrize("changes, key, message", [
    ({"colour": "red"}, "trunks[0].colour", "unknown key"),
    ({"trunk-group": ""}, "trunks[0].trunk-group", "empty"),
    ({"provider": None}, "trunks[0].provider", "required"),
    ({"provider": "a b"}, "trunks[0].provider", "no host"),
    ({"provider": "::1"}, "trunks[0].provider", "brackets"),
    ({"provider": "h:99999"}, "trunks[0].provider", "1 to 65535"),
    ({"outbound-proxy": "[::1"}, "trunks[0].outbound-proxy", "unclosed"),
    ({"transport": "sctp"}, "trunks[0].transport", "udp, tcp or tls"),
    ({"register": "yes"}, "trunks[0].register", "true or false"),
    ({"register": True}, "trunks[0].username", "required"),
    ({"username": "u", "register-interval": 5}, "trunks[0].register-interval", ">= 60"),
    ({"channels": 0}, "trunks[0].channels", ">= 1"),
    ({"channels": True}, "trunks[0].channels", ">= 1"),
    ({"dids": "+49"}, "trunks[0].dids", "list"),
    ({"dids": ["4930"]}, "trunks[0].dids[0]", "E.164"),
    ({"number-format": "local"}, "trunks[0].number-format", "e164"),
    ({"number-format": "national"}, "trunks[0].country-code", "country code"),
    ({"country-code": "4x"}, "trunks[0].country-code", "digits"),
    ({"national-prefix": "00"}, "trunks[0].national-prefix", "same"),
    ({"trust": "yes"}, "trunks[0].trust", "trusted or untrusted"),
    ({"accept-from": ["host"]}, "trunks[0].accept-from[0]", "IP address"),
    ({"stun-server": "stun.example"}, "trunks[0].stun-server", "IP address"),
    ({"username": "u", "aka-k": "00"}, "trunks[0].aka-k", "32 hexadecimal"),
    ({"username": "u", "aka-k": "0" * 32}, "trunks[0].aka-k", "exactly one"),
    ({"username": "u", "aka-opc": "0" * 32}, "trunks[0].aka-opc", "needs aka-k"),
    ({"media-relay": "yes"}, "trunks[0].media-relay", "true or false"),
])
def test_bad_values_name_their_key(changes, key, message):
    entry = {**BASE, **changes}
    entry = {k: v for k, v in entry.items() if v is not None}
    with pytest.raises(ConfigError) as info:
        sipTrunk.validateConfig({"trunks": [entry]}, WHERE)
    assert info.value.where == f"{WHERE}.{key}"
    assert message in info.value.message


def test_media_relay_default_follows_the_stun_server():
    """
    The relay is on for a trunk with a STUN server (its SDP then names
    the public address), off without one, as configured otherwise.
    """
    plain, stun, off = sipTrunk.validateConfig({"trunks": [
        BASE,
        {**BASE, "trunk-group": "b", "stun-server": "192.0.2.30"},
        {**BASE, "trunk-group": "c", "stun-server": "192.0.2.30", "media-relay": False},
    ]}, WHERE)["trunks"]
    assert (plain.mediaRelay, stun.mediaRelay, off.mediaRelay) == (False, True, False)
    assert makeTrunk(plain, None, None, None).media is None
    relayed = makeTrunk(dataclasses.replace(plain, mediaRelay=True), None, None, None)
    assert relayed.media.settings.stun is None


@pytest.mark.parametrize("value", ["20000", "20001-20001", "a-b", 5, "0-100", "30000-70000"])
def test_bad_media_ports_name_the_key(value):
    with pytest.raises(ConfigError) as info:
        sipTrunk.validateConfig({"trunks": [], "media-ports": value}, WHERE)
    assert info.value.where == f"{WHERE}.media-ports"


def test_media_ports():
    ports = sipTrunk.validateConfig({"media-ports": "10001-10100"}, WHERE)["media-ports"]
    assert (ports.first, ports.last, len(ports)) == (10002, 10100, 49)


def test_one_trunk_per_group():
    with pytest.raises(ConfigError) as info:
        sipTrunk.validateConfig({"trunks": [BASE, BASE]}, WHERE)
    assert info.value.where == f"{WHERE}.trunks[1].trunk-group"


def test_section_shape():
    with pytest.raises(ConfigError) as info:
        sipTrunk.validateConfig({"trunk": []}, WHERE)
    assert info.value.where == f"{WHERE}.trunk"
    with pytest.raises(ConfigError) as info:
        sipTrunk.validateConfig({"trunks": {}}, WHERE)
    assert info.value.where == f"{WHERE}.trunks"


def trunkDevice(number, group="carrier", port="sip-trunk"):
    return Device(number, type=DeviceType.trunk, port=port, trunkGroup=group)


def test_trunks_checked_against_devices():
    [trunk] = sipTrunk.validateConfig({"trunks": [{**BASE, "channels": 2}]}, WHERE)["trunks"]
    checkChannels([trunk], [trunkDevice("900"), trunkDevice("901")], WHERE)
    with pytest.raises(ConfigError) as info:
        checkChannels([trunk], [trunkDevice("900")], WHERE)
    assert info.value.where == f"{WHERE}.trunks[0].channels"
    with pytest.raises(ConfigError) as info:
        checkChannels([trunk], [trunkDevice("900", port="virtual-phones")], WHERE)
    assert info.value.where == f"{WHERE}.trunks[0].trunk-group"
    with pytest.raises(ConfigError) as info:
        checkChannels([trunk], [trunkDevice("900"), trunkDevice("901"),
                                trunkDevice("902", "other")], WHERE)
    assert info.value.where == f"{WHERE}.trunks" and "'other'" in info.value.message
    with pytest.raises(ConfigError) as info:
        checkChannels([trunk], [Device("100", port="sip-trunk")], WHERE)
    assert "no trunk" in info.value.message


@pytest.mark.parametrize("style, written, e164", [
    ("e164", "+4930123", "+4930123"),
    ("international", "4930123", "+4930123"),
    ("national", "030123", "+4930123"),
    ("national", "0044207", "+44207"),
])
def test_presentations_both_ways(style, written, e164):
    numbers = NumberFormat(style, "49")
    assert numbers.toE164(written) == e164
    assert numbers.present(e164) == written


def test_numbers_whose_country_is_unknown_stay():
    assert NumberFormat("national", "49").toE164("123456") == "123456"
    assert NumberFormat("e164").toE164("030123") == "030123"
    assert NumberFormat("e164").present("**21#") == "**21#"
    assert NumberFormat("international", "49").present("+44207") == "44207"
