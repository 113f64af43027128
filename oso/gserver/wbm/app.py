"""
The management pages as one klein app: the routes, who may see them, and
the answers to their forms.

Only administrators use the management.  Without a session a page
redirects to C{/login} (a POST is refused with C{403}); an extension's user
is refused its login here, and any request that carries an extension's
session or token gets a C{403} page that only offers to log out.  Every
POST must carry the session's CSRF token (C{403} otherwise, logged).
Forms follow post/redirect/get: a change done redirects (C{303}) to the
page that shows it; a refusal shows the page again with the reason and a
4xx code.
"""

import functools
import math
from importlib import resources

from klein import Klein
from twisted.logger import Logger
from twisted.web.template import tags

from oso.callmodel.errors import CSTAError
from oso.components import findComponents
from oso.gserver.errors import LockedOut, LoginRefused
from oso.gserver.site import clientAddress
from oso.gserver.wbm import callrecords, dashboard, extensions, forms, login
from oso.gserver.wbm.dialplan import dialPlanPage
from oso.gserver.wbm.layout import button, page, render
from oso.gserver.wbm.system import systemPage

#: The static files: name -> media type.
STATIC = {
    "wbm.css": b"text/css; charset=utf-8",
    "wbm.js": b"text/javascript; charset=utf-8",
    "oso.svg": b"image/svg+xml",
}

#: What a redirect after a change says, by the code in its query.
NOTICES = {
    "created": "The extension was created.",
    "saved": "Saved.",
    "deleted": "The extension was deleted.",
}

#: The forms of an extension's page: C{/extensions/<number>/<setting>}
#: -> the L{extensions.ExtensionActions} method that does it.
CHANGES = {
    "settings": "update",
    "identity": "setIdentity",
    "password": "setPassword",
    "forwarding": "setForwarding",
    "dnd": "setDoNotDisturb",
}

log = Logger()


def _redirect(request, location):
    request.setResponseCode(303)
    request.setHeader(b"Location", location.encode("ascii"))
    request.setHeader(b"Cache-Control", b"no-store")
    return b""


class Visit:
    """
    An administrator's request: who it is and the session's CSRF token,
    for the page's navigation and forms.
    """

    def __init__(self, principal, token):
        self.principal = principal
        self.token = token

    def page(self, title, content, current=None, notice=None, error=None):
        """
        A page with this visit's navigation and logout form.
        """
        return page(title, content, self.principal, self.token, current, notice, error)


def administrator(handler):
    """
    Let only an administrator's request with a valid CSRF token (for a
    POST) reach C{handler}, which is called with a L{Visit} after the
    request.
    """

    @functools.wraps(handler)
    async def guarded(self, request, *args, **kwargs):
        principal = await self.site.principal(request)
        method = request.method.decode("ascii", "replace")
        path = request.path.decode("ascii", "replace")[:200]
        if principal is None:
            if request.method in (b"GET", b"HEAD"):
                return _redirect(request, "/login")
            log.info("WBM: {method} {path} from {peer} refused: not logged in",
                     method=method, path=path, peer=clientAddress(request))
            return await render(request, page(
                "Not logged in", tags.p(tags.a("Log in", href="/login"), " first.")
            ), 403)
        token = self.site.csrfToken(request)
        if not principal.administrator:
            log.info("WBM: {method} {path} by {user} from {peer} refused: not an administrator",
                     method=method, path=path, user=principal.name, peer=clientAddress(request))
            return await render(request, page("Administrators only", [
                tags.p("The management pages are for administrators. You are logged in "
                       "as extension ", principal.name, "."),
                button("Log out", "/logout", token),
            ]), 403)
        # checkCSRF logs a refusal itself.
        if request.method == b"POST" and not self.site.checkCSRF(request):
            return await render(request, Visit(principal, token).page("Refused", tags.p(
                "The form was not sent from a page of this server's management, or your "
                "session changed. Open the page again and repeat."
            )), 403)
        return await handler(self, request, Visit(principal, token), *args, **kwargs)

    return guarded


def componentNames(kind):
    """
    The names of the installed components of one kind, sorted.
    """
    return sorted(c.name for _, c in findComponents().components if c.kind == kind)


class ManagementPages:
    """
    The management pages of one running G-Server; C{resource()} is served
    at the site's root.
    """

    app = Klein()

    def __init__(self, site, logTail):
        """
        @param site: the L{oso.interfaces.IGServerSite}.
        @param logTail: the L{oso.gserver.wbm.logtail.LogTail} the system
            page shows.
        """
        self.site = site
        self.context = site.context
        self.model = site.context.callModel
        self.logTail = logTail
        self.extensions = extensions.ExtensionActions(site.context)
        kinds = set(componentNames("port"))
        # The ports a new extension may be put on: the running port
        # components (each port driver is named as its component).
        self.ports = [name for name in self.context.config.components if name in kinds]
        self.formatNames = componentNames("cdr-format")
        package = resources.files(__package__).joinpath("static")
        self.static = {name: package.joinpath(name).read_bytes() for name in STATIC}

    def resource(self):
        """
        @return: the klein resource.
        """
        return self.app.resource()

    # Login and logout.

    @app.route("/login", methods=["GET"])
    async def loginForm(self, request):
        principal = await self.site.principal(request)
        if principal is not None and principal.administrator:
            return _redirect(request, "/")
        return await render(request, login.loginPage(login.newLoginToken(request)))

    @app.route("/login", methods=["POST"])
    async def loginSubmit(self, request):
        if not login.loginTokenMatches(request):
            log.warn("WBM: login from {peer} refused: the form's token is missing or wrong",
                     peer=clientAddress(request))
            return await render(request, login.loginPage(
                login.newLoginToken(request),
                error="The login form was not sent from this server's login page. Try again.",
            ), 403)
        try:
            user = forms.field(request, "user", maxLength=64)
            password = forms.field(request, "password", maxLength=128, strip=False)
        except forms.FormError as e:
            return await render(
                request, login.loginPage(login.newLoginToken(request), error=str(e)), 400
            )
        try:
            principal = await self.site.accounts.login(user, password, clientAddress(request))
        except LockedOut as e:
            seconds = math.ceil(e.retryAfter)
            request.setHeader(b"Retry-After", str(seconds).encode("ascii"))
            return await render(request, login.loginPage(
                login.newLoginToken(request), user,
                f"Too many failed logins: try again in {seconds} seconds.",
            ), 429)
        except LoginRefused:
            return await render(request, login.loginPage(
                login.newLoginToken(request), user, "Wrong name or password."
            ), 403)
        if not principal.administrator:
            log.info("WBM: login of extension {user} from {peer} refused: not an administrator",
                     user=principal.name, peer=clientAddress(request))
            return await render(request, login.loginPage(
                login.newLoginToken(request), user,
                "The management pages are for administrators.",
            ), 403)
        login.forgetLoginToken(request)
        self.site.startSession(request, principal)
        return _redirect(request, "/")

    @app.route("/logout", methods=["POST"])
    async def logout(self, request):
        principal = await self.site.principal(request)
        # checkCSRF logs a refusal itself.
        if principal is not None and not self.site.checkCSRF(request):
            return await render(request, page("Refused", tags.p(
                "The form was not sent from a page of this server's management."
            )), 403)
        self.site.endSession(request)
        return _redirect(request, "/login")

    # Static files.

    @app.route("/static/<name>", methods=["GET"])
    def staticFile(self, request, name):
        if name not in STATIC:
            request.setResponseCode(404)
            request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
            return b"not found\n"
        request.setHeader(b"Content-Type", STATIC[name])
        request.setHeader(b"Cache-Control", b"no-cache")
        return self.static[name]

    @app.route("/favicon.ico", methods=["GET"])
    def favicon(self, request):
        # Browsers ask for it on pages without an icon link (errors).
        return self.staticFile(request, "oso.svg")

    # Dashboard.

    @app.route("/", methods=["GET"])
    @administrator
    async def home(self, request, visit):
        bindings = await self.context.store.loadRegistrations()
        content = dashboard.dashboard(
            self.model, bindings, self.context.component("csta"), self.site.clock.seconds()
        )
        return await render(request, visit.page("Dashboard", content, "/"))

    @app.route("/dashboard/calls", methods=["GET"])
    @administrator
    async def callsFragment(self, request, visit):
        # The body's rows only: the page's script puts them in its table.
        return await render(request, dashboard.callsBody(self.model, self.site.clock.seconds()))

    # Extensions.

    @app.route("/extensions", methods=["GET"])
    @administrator
    async def extensionList(self, request, visit):
        return await render(request, visit.page(
            "Extensions", extensions.listing(self.model, visit.token), "/extensions",
            notice=self._notice(request),
        ))

    @app.route("/extensions/new", methods=["GET"])
    @administrator
    async def extensionNew(self, request, visit):
        return await render(request, visit.page(
            "New extension", extensions.newForm(visit.token, self.ports), "/extensions"
        ))

    @app.route("/extensions/new", methods=["POST"])
    @administrator
    async def extensionCreate(self, request, visit):
        try:
            device = await self.extensions.create(request, self.ports)
        except (forms.FormError, CSTAError) as e:
            values = {
                name: request.args.get(name.encode(), [b""])[0].decode("utf-8", "replace")
                for name in ("number", "name", "port", "classOfService")
            }
            return await render(request, visit.page(
                "New extension", extensions.newForm(visit.token, self.ports, values),
                "/extensions", error=_reason(e),
            ), 400)
        log.info("WBM: {user} created extension {number}",
                 user=visit.principal.name, number=device.number)
        return _redirect(request, f"/extensions/{device.number}?notice=created")

    @app.route("/extensions/<number>", methods=["GET"])
    @administrator
    async def extensionDetail(self, request, visit, number):
        return await self._extensionPage(request, visit, number, notice=self._notice(request))

    @app.route("/extensions/<number>/<setting>", methods=["POST"])
    @administrator
    async def extensionChange(self, request, visit, number, setting):
        if setting == "delete":
            return await self._delete(request, visit, number)
        change = CHANGES.get(setting)
        if change is None:
            return await self._extensionPage(request, visit, number,
                                             error="No such setting.", code=404)
        try:
            await getattr(self.extensions, change)(request, number)
        except (forms.FormError, CSTAError) as e:
            return await self._extensionPage(request, visit, number, error=_reason(e),
                                             code=400)
        log.info("WBM: {user} changed the {setting} of extension {number}",
                 user=visit.principal.name, setting=setting, number=number)
        return _redirect(request, f"/extensions/{number}?notice=saved")

    async def _delete(self, request, visit, number):
        try:
            await self.extensions.delete(number)
        except (forms.FormError, CSTAError) as e:
            return await self._extensionPage(request, visit, number, error=_reason(e),
                                             code=409)
        log.info("WBM: {user} deleted extension {number}",
                 user=visit.principal.name, number=number)
        return _redirect(request, "/extensions?notice=deleted")

    async def _extensionPage(self, request, visit, number, notice=None, error=None, code=200):
        try:
            device = self.extensions.station(number)
        except CSTAError:
            return await render(request, visit.page(
                "No such extension", tags.p(tags.a("All extensions", href="/extensions")),
                "/extensions", error=f"There is no extension {number}.",
            ), 404)
        return await render(request, visit.page(
            f"Extension {number}", extensions.detail(device, visit.token), "/extensions",
            notice=notice, error=error,
        ), code)

    def _notice(self, request):
        code = request.args.get(b"notice", [b""])[0].decode("ascii", "replace")
        return NOTICES.get(code)

    # Dial plan, call records, system.

    @app.route("/dialplan", methods=["GET"])
    @administrator
    async def dialPlan(self, request, visit):
        return await render(request, visit.page(
            "Dial plan and trunks", dialPlanPage(self.model), "/dialplan"
        ))

    @app.route("/call-records", methods=["GET"])
    @administrator
    async def callRecords(self, request, visit):
        cdr = self.context.component("cdr")
        records = []
        if cdr is not None and cdr.journal is not None:
            records = await callrecords.latestRecords(cdr.journal)
        return await render(request, visit.page(
            "Call records", callrecords.callRecordsPage(cdr, records, self.formatNames),
            "/call-records",
        ))

    @app.route("/call-records/download", methods=["GET"])
    @administrator
    async def callRecordsDownload(self, request, visit):
        cdr = self.context.component("cdr")
        if cdr is None or cdr.journal is None:
            return await render(request, visit.page(
                "Call records", [], "/call-records", error="The cdr component is not running."
            ), 503)
        try:
            name = forms.choice(request, "format", self.formatNames)
        except forms.FormError as e:
            return await render(request, visit.page(
                "Call records", [], "/call-records", error=str(e)
            ), 400)
        format = cdr.formatNamed(name)
        first, last, body = await callrecords.download(cdr, format)
        request.setHeader(b"Content-Type", format.mediaType.encode("ascii"))
        request.setHeader(b"Cache-Control", b"no-store")
        request.setHeader(
            b"Content-Disposition",
            f'attachment; filename="oso-cdr-{first}-{last}.{format.fileExtension}"'.encode(
                "ascii"
            ),
        )
        return body

    @app.route("/system", methods=["GET"])
    @administrator
    async def system(self, request, visit):
        return await render(request, visit.page(
            "System", systemPage(self.context, self.logTail.lines()), "/system"
        ))


def _reason(error):
    """
    What a refusal says on a page.
    """
    if isinstance(error, CSTAError):
        return f"Refused: {error.reason or error.failure}"
    return str(error)
