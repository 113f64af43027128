"""
Our Contact over TLS, as the baresip interop run found it must be: a
TLS-only server still has a contact for the UDP host callers ask for, and
a dialog's Contact is C{sips:} only when its INVITE was for a C{sips:}
URI (RFC 3261 12.1.1), else C{sip:} with C{transport=tls}.
"""

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from oso.sip.digest import DigestAuthenticator
from oso.sip.legs import dialogContact
from oso.sip.registrar import Registrar
from oso.sip.uri import SIPURI, parseURI
from oso.sip.useragent import UserAgent
from oso.store.memory import MemoryStore


def userAgent(addresses):
    clock = Clock()
    return UserAgent(
        clock, lambda m, d, t: None, addresses.get, Registrar(clock, MemoryStore()),
        DigestAuthenticator("oso.test", b"k" * 32, clock), lambda user: None,
    )


class ContactTests(SynchronousTestCase):
    def test_transportWithoutListener(self):
        """
        Asked for a transport it does not listen on, a TLS-only server
        gives its TLS contact (its host is what SDP and From name).
        """
        ua = userAgent({"TLS": ("127.0.0.1", 5061)})
        self.assertEqual(str(ua.contact("UDP")), "sips:127.0.0.1:5061")
        self.assertEqual(str(ua.contact("TLS")), "sips:127.0.0.1:5061")

    def test_ownTransportFirst(self):
        """
        With a listener of the transport asked for, that one's contact.
        """
        ua = userAgent({"UDP": ("127.0.0.1", 5060), "TLS": ("127.0.0.1", 5061)})
        self.assertEqual(str(ua.contact("UDP")), "sip:127.0.0.1:5060")

    def test_dialogOverTLSForSIPURI(self):
        """
        A dialog over TLS whose INVITE was for a C{sip:} URI gets a
        C{sip:} Contact naming TLS; the user agent's own is untouched.
        """
        ua = userAgent({"TLS": ("127.0.0.1", 5061)})
        contact = dialogContact(ua, "TLS", parseURI("sip:201@127.0.0.1:5061;transport=tls"))
        self.assertEqual(str(contact), "sip:127.0.0.1:5061;transport=tls")
        self.assertEqual(str(ua.contact("TLS")), "sips:127.0.0.1:5061")

    def test_dialogForSIPSURI(self):
        """
        For a C{sips:} INVITE the Contact is C{sips:}.
        """
        ua = userAgent({"TLS": ("127.0.0.1", 5061)})
        contact = dialogContact(ua, "TLS", SIPURI("127.0.0.1", user="201", scheme="sips"))
        self.assertEqual(str(contact), "sips:127.0.0.1:5061")

    def test_dialogOverUDP(self):
        """
        Over UDP and TCP nothing changes.
        """
        ua = userAgent({"UDP": ("127.0.0.1", 5060), "TCP": ("127.0.0.1", 5060)})
        uri = parseURI("sip:201@127.0.0.1")
        self.assertEqual(str(dialogContact(ua, "UDP", uri)), "sip:127.0.0.1:5060")
        self.assertEqual(str(dialogContact(ua, "TCP", uri)), "sip:127.0.0.1:5060;transport=tcp")
