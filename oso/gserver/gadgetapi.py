"""
The OpenScape web-service API ("gadget API") of the G-Server:
C{GET /cgi-bin/gadgetapi?cmd=<Command>&...}, as existing scripts and
gadgets speak it to OpenScape systems (doc/gserver.md lists every command).

C{Login} checks C{gsUser}/C{gsPass} with the site's accounts (their lockout
applies) and answers C{<LOGIN><ID>session</ID><CNT>n</CNT></LOGIN>}, ID
C{0} on failure; later requests name the session in C{gsSession}.  Replies
are XML with the command's name as root and C{RESULT} (C{OK}, C{ERROR}
with a C{REASON}, or C{NOT_LOGGED_IN}); C{GetEvents} answers JSON.  A
malformed request is answered 400, a device the user may not control 403,
both with an C{ERROR} reply and a log line; everything else 200.
"""

import json

from klein import Klein
from lxml import etree
from twisted.internet.defer import maybeDeferred
from twisted.logger import Logger

from oso.callmodel.errors import CSTAError
from oso.gserver.errors import LoginRefused
from oso.gserver.gadgetcommands import COMMANDS, GadgetError, Parameters
from oso.gserver.gadgetevents import DEFAULT_QUEUE_LIMIT, GadgetEvents
from oso.gserver.gadgetsessions import DEFAULT_IDLE, GadgetSessions
from oso.gserver.site import clientAddress

#: The longest request target accepted, in bytes.
MAX_URI = 4096
#: The most parameters a request may carry.
MAX_PARAMETERS = 32
#: The longest parameter value, in characters.
MAX_VALUE = 256
#: The longest parameter name, in characters.
MAX_NAME = 64

_XML = b"text/xml; charset=utf-8"
_JSON = b"application/json"


def _setting(site, name, default):
    """
    A G-Server setting (L{oso.gserver.settings.GServerSettings}), or
    C{default} for a site without settings.
    """
    return getattr(getattr(site, "settings", None), name, default)


def readParameters(uri, args):
    """
    A request's parameters as text.

    @param uri: the request target (C{bytes}), for its length.
    @param args: the request's C{args} (C{bytes} name -> C{bytes} values).
    @return: C{{name: value}}.
    @raise GadgetError: for a target too long, too many parameters, one
        given twice, text not UTF-8, a name or value too long or holding
        control characters.
    """
    if len(uri) > MAX_URI:
        raise GadgetError(f"the request is longer than {MAX_URI} bytes")
    if len(args) > MAX_PARAMETERS:
        raise GadgetError(f"more than {MAX_PARAMETERS} parameters")
    values = {}
    for rawName, rawValues in args.items():
        try:
            name = rawName.decode("utf-8")
            texts = [value.decode("utf-8") for value in rawValues]
        except UnicodeDecodeError:
            raise GadgetError("a parameter is not UTF-8 text") from None
        if len(name) > MAX_NAME or not name.isprintable():
            raise GadgetError("a parameter name is too long or holds control characters")
        if len(texts) != 1:
            raise GadgetError(f"parameter {name} is given more than once")
        if len(texts[0]) > MAX_VALUE:
            raise GadgetError(f"parameter {name} is longer than {MAX_VALUE} characters")
        if not texts[0].isprintable():
            raise GadgetError(f"parameter {name} holds control characters")
        values[name] = texts[0]
    return values


def _append(parent, fields):
    for name, value in fields:
        child = etree.SubElement(parent, name)
        if isinstance(value, list):
            _append(child, value)
        else:
            child.text = value


def xmlReply(root, fields):
    """
    @param root: the root element's name.
    @param fields: C{(name, value)} pairs, a value being text or a list of
        pairs.
    @return: the XML document (C{bytes}).
    """
    element = etree.Element(root)
    _append(element, fields)
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8")


class GadgetAPI:
    """
    The gadget API of one running G-Server.

    @ivar sessions: the L{GadgetSessions}.
    """

    app = Klein()
    log = Logger()

    def __init__(self, site):
        self.site = site
        self.model = site.context.callModel
        self.events = GadgetEvents(self.model)
        self.sessions = GadgetSessions(
            site.clock,
            self.events,
            idle=_setting(site, "sessionTimeout", DEFAULT_IDLE),
            queueLimit=_setting(site, "gadgetQueue", DEFAULT_QUEUE_LIMIT),
        )
        site.onClose(self.close)

    def close(self):
        """
        The site stops: every session ends, the events stop.
        """
        self.sessions.close()
        self.events.close()

    def resource(self):
        """
        @return: the resource serving C{gadgetapi} below the part's path.
        """
        return self.app.resource()

    @app.route("/gadgetapi", methods=["GET", "POST"])
    async def gadgetapi(self, request):
        request.setHeader(b"cache-control", b"no-store")
        source = clientAddress(request)
        try:
            values = readParameters(request.uri, request.args)
        except GadgetError as e:
            return self._refuse(request, source, "gadgetapi", None, e)
        command = values.get("cmd", "")
        if command == "Login":
            return await self._login(request, source, values)
        if command not in COMMANDS and command not in ("Logout", "GetEvents"):
            error = GadgetError(
                f"unknown command {command[:40]!r}" if command else "missing parameter cmd"
            )
            return self._refuse(request, source, "gadgetapi", None, error)
        session = self.sessions.get(values.get("gsSession", ""))
        if session is None:
            return self._reply(request, command, [("RESULT", "NOT_LOGGED_IN")])
        if command == "Logout":
            self.sessions.logout(session)
            return self._reply(request, "LOGOUT", [("RESULT", "OK")])
        if command == "GetEvents":
            request.setHeader(b"content-type", _JSON)
            return json.dumps({"events": session.poll()}, separators=(",", ":"))
        try:
            fields = await maybeDeferred(
                COMMANDS[command], self.model, session, Parameters(values, session.principal)
            )
        except GadgetError as e:
            return self._refuse(request, source, command, session, e)
        except CSTAError as e:
            self.log.info(
                "gadget API {command} of {user} refused: {failure} {reason}",
                command=command,
                user=session.principal.name,
                failure=str(e.failure),
                reason=e.reason,
            )
            return self._reply(
                request,
                command,
                [("RESULT", "ERROR"), ("REASON", e.failure.value), ("DETAIL", e.reason)],
            )
        return self._reply(request, command, [("RESULT", "OK")] + fields)

    async def _login(self, request, source, values):
        user, password = values.get("gsUser", ""), values.get("gsPass", "")
        if not user or not password:
            error = GadgetError("Login needs gsUser and gsPass")
            self._logRefusal(source, "Login", None, error)
            request.setResponseCode(error.status)
            return self._reply(
                request, "LOGIN", [("ID", "0"), ("CNT", "0"), ("RESULT", "ERROR"),
                                   ("REASON", error.reason)]
            )
        try:
            principal = await self.site.accounts.login(user, password, source)
        except LoginRefused as e:
            self.log.info(
                "gadget API login of {user!r} from {source} refused: {why}",
                user=user[:MAX_NAME],
                source=source,
                why=str(e) or "wrong name or password",
            )
            return self._reply(request, "LOGIN", [("ID", "0"), ("CNT", "0")])
        session = self.sessions.open(principal)
        count = len(self.sessions.sessionsOf(principal.name))
        return self._reply(request, "LOGIN", [("ID", session.id), ("CNT", str(count))])

    def _refuse(self, request, source, command, session, error):
        self._logRefusal(source, command, session, error)
        request.setResponseCode(error.status)
        return self._reply(request, command, [("RESULT", "ERROR"), ("REASON", error.reason)])

    def _logRefusal(self, source, command, session, error):
        self.log.warn(
            "gadget API {command} from {source}{user} refused ({status}): {reason}",
            command=command,
            source=source,
            user=f" ({session.principal.name})" if session is not None else "",
            status=error.status,
            reason=error.reason,
        )

    def _reply(self, request, root, fields):
        """
        A reply as XML, or as a JSON object with the fields' names in lower
        case for GetEvents, whose client reads JSON.
        """
        if root == "GetEvents":
            request.setHeader(b"content-type", _JSON)
            return json.dumps({name.lower(): value for name, value in fields})
        request.setHeader(b"content-type", _XML)
        return xmlReply(root, fields)
