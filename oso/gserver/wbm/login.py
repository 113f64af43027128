"""
The login page and its protection against login CSRF.

There is no session before the login, so the site's CSRF token cannot
guard the login form: the form carries a random value that is also in a
cookie of its own (C{Secure}, C{HttpOnly}, C{SameSite=Strict}, for
C{/login} only), and a login is only tried when both are there and equal.
Another site can make a browser post the form, but neither read nor set
that cookie.
"""

import hmac
import secrets

from twisted.web.template import tags

from oso.gserver.wbm.layout import page

#: The login form's own cookie.
LOGIN_COOKIE = b"oso-wbm-login"


def newLoginToken(request):
    """
    Make the login form's token and set its cookie on the response.

    @return: the token, for the form's hidden field.
    """
    token = secrets.token_urlsafe(24)
    request.addCookie(
        LOGIN_COOKIE, token.encode("ascii"), path=b"/login", secure=True, httpOnly=True,
        sameSite="strict",
    )
    return token


def loginTokenMatches(request):
    """
    Whether the posted form's token is the one in its cookie.
    """
    cookie = request.getCookie(LOGIN_COOKIE)
    posted = request.args.get(b"login", [])
    if not cookie or len(posted) != 1:
        return False
    return hmac.compare_digest(cookie, posted[0])


def forgetLoginToken(request):
    """
    Expire the login form's cookie once it has served.
    """
    request.addCookie(
        LOGIN_COOKIE, b"", path=b"/login", secure=True, httpOnly=True, sameSite="strict",
        max_age=b"0",
    )


def loginPage(token, user="", error=None):
    """
    The login page.

    @param token: the login form's token (L{newLoginToken}).
    @param user: the name to fill in again after a refusal.
    @param error: why the last attempt was refused, or L{None}.
    """
    form = tags.form(method="post", action="/login", id="login", class_="settings")(
        tags.input(type="hidden", name="login", value=token),
        tags.label(tags.span("Name"),
                   tags.input(type="text", name="user", value=user, required="required",
                              autocomplete="username", maxlength="64", autofocus="autofocus")),
        tags.label(tags.span("Password"),
                   tags.input(type="password", name="password", required="required",
                              autocomplete="current-password", maxlength="128")),
        tags.button("Log in", type="submit"),
    )
    return page(
        "Log in", [tags.p("The management of this oso server, for administrators."), form],
        error=error,
    )
