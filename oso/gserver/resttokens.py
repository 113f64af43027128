"""
Who uses the REST API: C{POST /tokens} logs in with a name and password
and makes a bearer token, C{GET /tokens} lists and C{DELETE
/tokens/<hash>} revokes them, and C{/me} says whom a token or session
stands for.

A login goes through L{oso.interfaces.IAccounts.login}, so a client that
guesses passwords is locked out here as on every other part (429 with
C{Retry-After}); the password is never logged, and the token is shown
once (the accounts keep its hash).
"""

import math

from twisted.logger import Logger

from oso.gserver import restinput as i
from oso.gserver.errors import LockedOut, LoginRefused
from oso.gserver.restinput import APIError, Body, Field

#: The request that asks for an API token.
TOKEN_REQUEST = Body((
    Field("user", i.text(64, 1), True, "An administrator's name or an extension number"),
    Field("password", i.text(128, 1)),
    Field("label", i.text(64), False, "What the token is for"),
))

PRINCIPAL_SCHEMA = {
    "type": "object",
    "required": ["name", "administrator", "extension"],
    "properties": {
        "name": {"type": "string"},
        "administrator": {"type": "boolean"},
        "extension": {"type": "string", "nullable": True},
    },
}

TOKEN_SCHEMA = {
    "type": "object",
    "required": ["token", "principal"],
    "properties": {"token": {"type": "string"}, "principal": PRINCIPAL_SCHEMA},
}


TOKEN_INFO_SCHEMA = {
    "type": "object",
    "required": ["tokenHash", "name", "administrator", "label", "created"],
    "properties": {
        "tokenHash": {"type": "string", "description": "SHA-256 of the token, hex"},
        "name": {"type": "string"},
        "administrator": {"type": "boolean"},
        "label": {"type": "string"},
        "created": {"type": "number"},
    },
}


def principalObject(principal):
    """
    @return: the JSON object of an L{oso.interfaces.IPrincipal}.
    """
    return {
        "name": principal.name,
        "administrator": bool(principal.administrator),
        "extension": principal.extension,
    }


def clientAddress(request):
    """
    @return: the address a request came from, as text (for the lockout and
        the logs).
    """
    address = request.getClientAddress()
    return str(getattr(address, "host", address))


class TokenResources:
    """
    The handlers of C{/tokens} and C{/me}.
    """

    log = Logger()

    def __init__(self, site):
        self.site = site

    async def issue(self, request):
        """
        Log in and make a bearer token: 201 with the token, 401 for a
        wrong login, 429 while locked out.
        """
        values = TOKEN_REQUEST.parse(i.readBody(request))
        accounts = self.site.accounts
        try:
            principal = await accounts.login(
                values["user"], values["password"], clientAddress(request)
            )
        except LockedOut as e:
            seconds = str(max(1, math.ceil(e.retryAfter)))
            raise APIError(
                429, "lockedOut", f"too many failed logins: retry after {seconds} s",
                {"Retry-After": seconds},
            ) from None
        except LoginRefused:
            raise APIError(401, "loginRefused", "wrong user name or password") from None
        token = await accounts.issueToken(principal, values.get("label") or "REST API")
        self.log.info("REST API token issued for {name}", name=principal.name)
        return 201, {"token": token, "principal": principalObject(principal)}

    async def _mine(self, principal):
        """
        The tokens C{principal} may see and revoke: every one for an
        administrator, its own for an extension's user.
        """
        return [
            token
            for token in await self.site.accounts.tokens()
            if principal.administrator
            or (token.name == principal.name and not token.administrator)
        ]

    async def list(self, principal, request):
        return 200, [
            {
                "tokenHash": token.tokenHash,
                "name": token.name,
                "administrator": token.administrator,
                "label": token.label,
                "created": token.created,
            }
            for token in await self._mine(principal)
        ]

    async def revoke(self, principal, request, tokenHash):
        """
        Revoke a token named by its hash (the SHA-256 of the token in hex,
        as C{GET /tokens} lists it).
        """
        if tokenHash not in {token.tokenHash for token in await self._mine(principal)}:
            raise APIError(404, "unknownToken", "no such token of yours")
        await self.site.accounts.revokeToken(tokenHash)
        self.log.info("REST API token revoked by {name}", name=principal.name)
        return 204, None

    async def me(self, principal, request):
        return 200, principalObject(principal)
