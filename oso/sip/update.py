"""
UPDATE (RFC 3311), sans-I/O: whether a peer takes it, and what an UPDATE
that arrives gets while offers are in flight.

A B2BUA leg takes an UPDATE much as it takes a re-INVITE: without a body
it only refreshes the remote target (and a session timer) and gets a 200
at once; with an offer it is passed to the other side of the call, whose
answer comes back in the 200. What this module decides is the part that
differs: the glare rules of RFC 3311 5.2 and whether the other side may be
sent an UPDATE at all (RFC 3311 5.1: only to a peer whose Allow lists it).
"""

import secrets

from oso.sip.transaction import makeResponse


def allowedMethods(message):
    """
    The methods a message's Allow lists (upper-case), or C{None} when it
    has no Allow (what the peer takes is then unknown).
    """
    values = message.headers.getAll("allow")
    if not values:
        return None
    return frozenset(value.strip().upper() for value in values if value.strip())


def allows(methods, method):
    """
    Whether a peer whose Allow gave C{methods} (L{allowedMethods}) takes
    C{method}.
    """
    return methods is not None and method in methods


def refusal(request, localTag, offering, answering):
    """
    RFC 3311 5.2: an UPDATE with an offer that crosses offers in flight.

    @param offering: whether we sent an offer still unanswered (491).
    @param answering: whether an offer from the peer is still unanswered
        (500 with Retry-After between 0 and 10 seconds).
    @return: the refusal, or C{None} when the offer can be taken.
    """
    if offering:
        return makeResponse(request, 491, toTag=localTag)
    if answering:
        response = makeResponse(request, 500, "Server Internal Error (Offer Pending)", toTag=localTag)
        response.headers.set("retry-after", str(secrets.randbelow(11)))
        return response
    return None
