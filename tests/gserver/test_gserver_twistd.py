"""
C{twistd -n oso} as a real process serves the G-Server: the first start
prints the administrator's password once and the HTTPS address; a client
that trusts the data directory's certificate (and checks it and the host
name) gets answers with the security headers; a second start prints no
password.
"""

import re
import signal
import ssl
import urllib.error
import urllib.request

FIRST_ADMIN = re.compile(r"G-Server administrator admin password (\S+) ")
LISTENING = re.compile(r"G-Server on https://127\.0\.0\.1:(\d+)/")


def configure(folder):
    """
    The default installation with its listeners on free loopback ports.

    @return: the twistd arguments.
    """
    (folder / "oso.toml").write_text(
        '[components.csta]\nlisten = ["tcp:0:interface=127.0.0.1"]\n'
        '[components.gserver]\nlisten = ["ssl:0:interface=127.0.0.1"]\n'
    )
    return ["-n", "oso", "--config", "oso.toml"]


def fetch(url, certificate):
    """
    GET C{url}, trusting only C{certificate} (PEM file), verifying it.

    @return: C{(status, headers)}.
    """
    context = ssl.create_default_context(cafile=str(certificate))
    try:
        with urllib.request.urlopen(url, context=context, timeout=30) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


def test_twistdServesGServer(tmp_path, twistd):
    """
    The default installation serves HTTPS with its self-signed
    certificate, prints the first administrator's password once, and
    stops cleanly.
    """
    first = twistd(configure(tmp_path), cwd=tmp_path)
    password = FIRST_ADMIN.search(first.waitFor("G-Server administrator admin password")).group(1)
    port = int(LISTENING.search(first.waitFor("G-Server on https://")).group(1))
    status, headers = fetch(
        f"https://127.0.0.1:{port}/no-such-page", tmp_path / "oso-data" / "tls" / "server.crt"
    )
    assert status == 404
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert first.stop() == -signal.SIGTERM
    assert "Traceback" not in first.output()
    assert first.output().count(password) == 1

    second = twistd(configure(tmp_path), cwd=tmp_path)
    second.waitFor("G-Server on https://")
    assert second.stop() == -signal.SIGTERM
    assert "G-Server administrator admin password" not in second.output()
