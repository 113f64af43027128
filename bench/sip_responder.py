"""
The anchors of bench/sip_load.py: the least a Python SIP server on Twisted
can do.

- L{Responder}: a UDP responder that answers every request but ACK with
  200 OK and parses nothing beyond the five header fields a response
  copies.
- L{DigestResponder} (C{--digest PASSWORD}): the same, but a REGISTER is
  challenged and checked as a registrar must at least do it (RFC 2617
  digest, MD5 and qop=auth): a REGISTER without credentials gets a 401
  with a nonce that carries its own time and MAC; one with credentials
  has its nonce's MAC and age checked and its response computed from the
  user's HA1, and gets 200 with its Contact bound in a dict, or 403. It
  keeps no transactions, no nonce counts, no store, and checks no syntax:
  the floor under any real registrar written in Python, which does all
  of those.

    python bench/sip_responder.py PORT [INTERFACE] [--digest PASSWORD]
"""

import argparse
import hashlib
import hmac
import os
import re
import socket
import time

from twisted.internet import reactor
from twisted.internet.protocol import DatagramProtocol

# Header fields a response copies from its request (RFC 3261 8.2.6.2), by
# every name they may arrive under.
_COPIED = {
    b"via": b"Via",
    b"v": b"Via",
    b"from": b"From",
    b"f": b"From",
    b"to": b"To",
    b"t": b"To",
    b"call-id": b"Call-ID",
    b"i": b"Call-ID",
    b"cseq": b"CSeq",
}
#: What the digest responder reads besides them.
_READ = {b"authorization": b"authorization", b"contact": b"contact", b"m": b"contact"}
#: One digest parameter: name=token or name="quoted".
_PARAMETER = re.compile(rb'([A-Za-z-]+)\s*=\s*(?:"([^"]*)"|([^\s,]+))')
#: How long a nonce is good for, seconds.
_NONCE_LIFE = 300


def readHead(data, wanted=None):
    """
    Split a request's head into its start line, the response lines copied
    from it (with a To tag added where there is none) and the values of
    the fields in C{wanted} (lowercase name to key).

    @return: C{(startLine, copiedLines, values)}.
    """
    head = data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    copied, values = [], {}
    for line in head[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        canonical = _COPIED.get(name)
        if canonical is not None:
            if canonical == b"To" and b"tag=" not in value:
                value += b";tag=bench"
            copied.append(canonical + b":" + value)
        elif wanted is not None and name in wanted:
            values[wanted[name]] = value.strip()
    return head[0], copied, values


def _answer(status, copied, extra=()):
    return b"\r\n".join([status, *copied, *extra, b"Content-Length: 0\r\n\r\n"])


class Responder(DatagramProtocol):
    """
    Answers each request with 200 OK (an INVITE's with a To tag and a
    Contact, so that the caller can send ACK and BYE).
    """

    def __init__(self, contact):
        self.contact = contact

    def datagramReceived(self, data, address):
        start, copied, values = readHead(data, self.wanted)
        if start.startswith(b"ACK ") or start.startswith(b"SIP/"):
            return
        self.transport.write(self.respond(start, copied, values), address)

    wanted = None

    def respond(self, start, copied, values):
        extra = (self.contact,) if start.startswith(b"INVITE ") else ()
        return _answer(b"SIP/2.0 200 OK", copied, extra)


class DigestResponder(Responder):
    """
    A L{Responder} that challenges and checks each REGISTER (RFC 2617
    digest with MD5 and qop=auth) and binds its Contact.
    """

    wanted = _READ

    def __init__(self, contact, password, realm=b"oso"):
        super().__init__(contact)
        self.password = password
        self.realm = realm
        self.key = os.urandom(32)
        self.ha1 = {}
        self.bindings = {}

    def respond(self, start, copied, values):
        if not start.startswith(b"REGISTER "):
            return super().respond(start, copied, values)
        credentials = values.get(b"authorization")
        if credentials is None:
            return _answer(b"SIP/2.0 401 Unauthorized", copied, (self._challenge(),))
        params = {m[0].lower(): m[1] or m[2] for m in _PARAMETER.findall(credentials)}
        try:
            user = params[b"username"]
            accepted = self._fresh(params[b"nonce"]) and hmac.compare_digest(
                self._expected(user, params), params[b"response"]
            )
        except KeyError:
            accepted = False
        if not accepted:
            return _answer(b"SIP/2.0 403 Forbidden", copied)
        contact = values.get(b"contact", b"")
        self.bindings[user] = (contact, time.time() + 3600)
        return _answer(b"SIP/2.0 200 OK", copied, (b"Contact: " + contact + b";expires=3600",))

    def _mac(self, stamp):
        return hmac.digest(self.key, stamp, "sha256")[:16].hex().encode()

    def _challenge(self):
        stamp = b"%x" % int(time.time())
        nonce = stamp + b"." + self._mac(stamp)
        return (
            b'WWW-Authenticate: Digest realm="' + self.realm + b'", nonce="' + nonce
            + b'", algorithm=MD5, qop="auth"'
        )  # fmt: skip

    def _fresh(self, nonce):
        stamp, _, mac = nonce.partition(b".")
        try:
            age = time.time() - int(stamp, 16)
        except ValueError:
            return False
        return 0 <= age < _NONCE_LIFE and hmac.compare_digest(mac, self._mac(stamp))

    def _expected(self, user, params):
        ha1 = self.ha1.get(user)
        if ha1 is None:
            secret = b":".join((user, self.realm, self.password))
            ha1 = self.ha1[user] = hashlib.md5(secret).hexdigest().encode()
        ha2 = hashlib.md5(b"REGISTER:" + params[b"uri"]).hexdigest().encode()
        parts = (ha1, params[b"nonce"], params[b"nc"], params[b"cnonce"], b"auth", ha2)
        return hashlib.md5(b":".join(parts)).hexdigest().encode()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("port", type=int)
    parser.add_argument("interface", nargs="?", default="127.0.0.1")
    parser.add_argument("--digest", metavar="PASSWORD", help="challenge and check REGISTERs")
    args = parser.parse_args()
    contact = f"Contact: <sip:bench@{args.interface}:{args.port}>".encode()
    if args.digest is None:
        protocol = Responder(contact)
    else:
        protocol = DigestResponder(contact, args.digest.encode())
    listening = reactor.listenUDP(args.port, protocol, interface=args.interface)
    # A bigger receive buffer, as a real SIP listener would ask for
    # (../shared/doc/PEERS.md: bursts are dropped otherwise).
    listening.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    reactor.run()


if __name__ == "__main__":
    main()
