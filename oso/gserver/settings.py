"""
The validated settings of the C{gserver} component, which every part can
read from L{oso.interfaces.gserver.IGServerSite.settings}.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class GServerSettings:
    """
    @ivar listen: the HTTPS endpoint descriptions; an C{ssl:} description
        without key files gets the server's certificate.
    @ivar certificate: the path of a configured certificate (PEM), or
        L{None} for the shared self-signed one.
    @ivar privateKey: the path of its private key (PEM), or L{None}.
    @ivar redirect: a plain-HTTP endpoint description that only redirects
        to HTTPS, or L{None} (the default: no plain HTTP at all).
    @ivar sessionTimeout: seconds a browser session may stay idle.
    @ivar eventHistory: how many events the event stream keeps for clients
        that reconnect.
    @ivar gadgetQueue: the most events one gadget API session queues
        between polls.
    """

    listen: tuple = ("ssl:8802",)
    certificate: str | None = None
    privateKey: str | None = None
    redirect: str | None = None
    sessionTimeout: float = 1800.0
    eventHistory: int = 10000
    gadgetQueue: int = 1000
