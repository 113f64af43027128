"""
A real C{twisted.names} authoritative server on loopback for the tests of
server location: records given as a dict, the queries it answered counted.
"""

from sip_loopback import freePort
from twisted.internet import reactor
from twisted.names import authority, common, dns, server

#: The zone C{test.}, with a 60 s negative TTL.
SOA = (
    b"test",
    dns.Record_SOA(mname=b"ns.test", rname=b"root.test", serial=1, refresh=60, retry=60, expire=60, minimum=60),
)


class MemoryAuthority(authority.FileAuthority):
    """
    An authority over records given as a dict, counting the queries it
    answers.

    @ivar queries: C{(name, type name)} of each query, in order.
    """

    def __init__(self, soa, records):
        common.ResolverBase.__init__(self)
        self.soa = soa
        self.records = records
        self.queries = []

    def _lookup(self, name, cls, type, timeout=None):
        self.queries.append((name.decode(), dns.QUERY_TYPES.get(type, type)))
        return super()._lookup(name, cls, type, timeout)


def startDNS(test, records):
    """
    Run an authoritative server for C{test.} holding C{records} (lower-case
    names as bytes to record lists) on loopback, UDP and TCP on one free
    port, until the test ends.

    @param test: the trial test case (for its cleanups).
    @return: C{(authority, port)}.
    """
    memory = MemoryAuthority(SOA, records)
    factory = server.DNSServerFactory(authorities=[memory])
    port = freePort()
    udp = reactor.listenUDP(port, dns.DNSDatagramProtocol(factory), interface="127.0.0.1")
    tcp = reactor.listenTCP(port, factory, interface="127.0.0.1")
    test.addCleanup(udp.stopListening)
    test.addCleanup(tcp.stopListening)
    return memory, port
