"""
oso's CSTA client: the client side of the CSTA link of L{oso.csta}, on the
same codecs and message model, for tests, tools and CTI libraries.

L{oso.cti.client} holds the sans-I/O link, L{oso.cti.protocol} the Twisted
adapter, the connect helper and the reconnecting service.
"""
