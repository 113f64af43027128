"""
The anchor of bench/sip_load.py: the least a Python SIP server on Twisted
can do, a UDP responder that answers every request but ACK with 200 OK and
parses nothing beyond the five header fields a response copies.

    python bench/sip_responder.py PORT [INTERFACE]
"""

import socket
import sys

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


class Responder(DatagramProtocol):
    """
    Answers each request with 200 OK (an INVITE's with a To tag and a
    Contact, so that the caller can send ACK and BYE).
    """

    def __init__(self, contact):
        self.contact = contact

    def datagramReceived(self, data, address):
        head = data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
        method = head[0].split(b" ", 1)[0]
        if method == b"ACK" or head[0].startswith(b"SIP/"):
            return
        out = [b"SIP/2.0 200 OK"]
        for line in head[1:]:
            name, _, value = line.partition(b":")
            canonical = _COPIED.get(name.strip().lower())
            if canonical == b"To" and b"tag=" not in value:
                value += b";tag=bench"
            if canonical is not None:
                out.append(canonical + b":" + value)
        if method == b"INVITE":
            out.append(self.contact)
        out.append(b"Content-Length: 0\r\n\r\n")
        self.transport.write(b"\r\n".join(out), address)


def main(port, interface="127.0.0.1"):
    contact = f"Contact: <sip:bench@{interface}:{port}>".encode()
    listening = reactor.listenUDP(port, Responder(contact), interface=interface)
    # A bigger receive buffer, as a real SIP listener would ask for
    # (../shared/doc/PEERS.md: bursts are dropped otherwise).
    listening.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    reactor.run()


if __name__ == "__main__":
    main(int(sys.argv[1]), *sys.argv[2:])
