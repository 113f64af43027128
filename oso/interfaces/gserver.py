"""
The seams of the G-Server, the C{gserver} component's HTTPS server.

The G-Server is one klein site on TLS.  Its parts (the OpenScape gadget API,
the REST API and its event stream, CSTA over HTTP, the metrics, the
web-based management pages, and a third party's own pages) each serve one
top-level path of that site.  A part gets the site, which says who is
asking (L{IGServerSite.principal}) and holds what every part shares: the
server's context, the accounts, the clock.
"""

from zope.interface import Attribute, Interface


class IPrincipal(Interface):
    """
    Who made a request: an administrator or the user of one extension.
    """

    name = Attribute("The login name: an administrator's name or an extension number (C{str}).")
    administrator = Attribute("Whether this is an administrator (C{bool}).")
    extension = Attribute(
        "The extension number this user is, L{None} for an administrator (C{str})."
    )

    def mayControl(device):
        """
        Whether this principal may use services on, or watch, a device.

        An administrator may control any device; an extension's user only
        that extension.

        @param device: a device number.
        @type device: L{str}
        @rtype: L{bool}
        """


class IAccounts(Interface):
    """
    Who may use the G-Server, and with what: administrators with salted
    slow password hashes, extensions with their own passwords, API tokens.
    Failed logins lock the login name and the source address out for an
    increasing delay, alike for every part that logs in.
    """

    def login(user, password, source):
        """
        Check a login name and password.

        @param user: an administrator's name or an extension number.
        @type user: L{str}
        @param password: the password given.
        @type password: L{str}
        @param source: the client's address, for the lockout (C{str}).
        @return: a L{Deferred} firing with an L{IPrincipal}, or failing with
            L{oso.gserver.errors.LoginRefused} (wrong name or password) or
            L{oso.gserver.errors.LockedOut} (too many failures: try again
            after its C{retryAfter} seconds).  Neither says which of name
            and password was wrong, and no password is ever logged.
        """

    def tokenPrincipal(token):
        """
        The principal an API token stands for.

        @param token: the bearer token of a request.
        @type token: L{str}
        @return: a L{Deferred} firing with an L{IPrincipal}, or with L{None}
            for an unknown or revoked token.
        """

    def issueToken(principal, label):
        """
        Make a new API token for a principal.

        @param label: what the token is for, shown in the management pages.
        @type label: L{str}
        @return: a L{Deferred} firing with the token (C{str}); only its hash
            is kept, so it is shown once.
        """


class IGServerSite(Interface):
    """
    What the G-Server offers its parts.
    """

    context = Attribute("The L{oso.interfaces.IServerContext} of the running server.")
    accounts = Attribute("The L{IAccounts}.")
    clock = Attribute("The L{twisted.internet.interfaces.IReactorTime} to time sessions with.")
    settings = Attribute(
        "The C{gserver} component's L{oso.gserver.settings.GServerSettings} "
        "(C{eventHistory}, C{gadgetQueue}, C{sessionTimeout}, ...)."
    )

    def principal(request):
        """
        Who is asking, from the request's session cookie or its
        C{Authorization: Bearer} token.

        @param request: a L{twisted.web.iweb.IRequest}.
        @return: a L{Deferred} firing with an L{IPrincipal}, or L{None} when
            the request carries no valid session or token.
        """

    def startSession(request, principal):
        """
        Log a principal in on this browser: a new session, its cookie set
        on the response (C{Secure}, C{HttpOnly}, C{SameSite=Strict}) and a
        new CSRF token.

        @param request: a L{twisted.web.iweb.IRequest}.
        @param principal: the L{IPrincipal} L{IAccounts.login} gave.
        @return: the session's CSRF token (C{str}), for the pages' forms.
        """

    def endSession(request):
        """
        Log the request's session out, if it has one, and expire its cookie.

        @param request: a L{twisted.web.iweb.IRequest}.
        """

    def csrfToken(request):
        """
        The CSRF token of the request's session, for a page's forms.

        @param request: a L{twisted.web.iweb.IRequest}.
        @return: the token (C{str}), or L{None} without a session.
        """

    def onClose(callback):
        """
        Have C{callback()} called when the site closes (the C{gserver}
        component stops): a part that observes the call model or runs
        timers stops them there.  Callbacks run in the reverse order of
        their registration; a failing one is logged and the others still
        run.
        """

    def checkCSRF(request):
        """
        Whether a state-changing request carries the CSRF token of its
        session (a form field C{csrf} or the header C{X-CSRF-Token}).
        Requests authenticated by a bearer token need none.

        @param request: a L{twisted.web.iweb.IRequest}.
        @rtype: L{bool}
        """


class IGServerPart(Interface):
    """
    One top-level path of the G-Server: a built-in part, or a third party's
    plugin in an C{oso/plugins/} folder.
    """

    name = Attribute("A unique name for logs and errors (C{str}).")
    path = Attribute(
        "The first path segment it serves (C{str}, for example C{'api'}); "
        "C{''} for the site's root, the management pages."
    )

    def resource(site):
        """
        The part's resource for one running G-Server.

        @param site: the L{IGServerSite}.
        @return: an L{twisted.web.resource.IResource}.
        """
