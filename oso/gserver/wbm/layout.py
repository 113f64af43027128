"""
The chrome every management page shares: the document head, the
navigation, the logout form, notices, and the small builders of tables and
forms the pages are made of.

Everything is a L{twisted.web.template} tag, so every text put into a page
is escaped when the page is flattened.
"""

from twisted.web.template import Tag, flattenString, tags

#: The navigation: (path, label), in the order shown.
NAVIGATION = (
    ("/", "Dashboard"),
    ("/extensions", "Extensions"),
    ("/dialplan", "Dial plan and trunks"),
    ("/call-records", "Call records"),
    ("/system", "System"),
)

#: The headers of every page, besides the security headers the site sets
#: on every response: no cache keeps what an administrator saw.
PAGE_HEADERS = {
    b"Content-Type": b"text/html; charset=utf-8",
    b"Cache-Control": b"no-store",
}


def head(title):
    """
    The document head: the title, the style sheet, the script, the icon.
    """
    return tags.head(
        tags.meta(charset="utf-8"),
        tags.meta(name="viewport", content="width=device-width, initial-scale=1"),
        tags.title(f"{title} - oso"),
        tags.link(rel="stylesheet", href="/static/wbm.css"),
        tags.link(rel="icon", href="/static/oso.svg", type="image/svg+xml"),
        tags.script(src="/static/wbm.js", defer="defer"),
    )


def csrfField(token):
    """
    The hidden field carrying the session's CSRF token.
    """
    return tags.input(type="hidden", name="csrf", value=token or "")


def postForm(action, token, *content, **attributes):
    """
    A POST form with the CSRF field.

    @param action: where it posts to.
    @param token: the session's CSRF token.
    @param content: the form's fields and buttons.
    """
    return tags.form(method="post", action=action, **attributes)(csrfField(token), *content)


def button(label, action, token, **attributes):
    """
    A form of one button that posts to C{action}.
    """
    return postForm(action, token, tags.button(label, type="submit"), **attributes)


def page(title, content, principal=None, token=None, current=None, notice=None,
         error=None):
    """
    A whole page.

    @param title: the page's heading.
    @param content: the tags of its main part.
    @param principal: the logged in L{IPrincipal}, for the navigation and
        the logout form; L{None} on the login page.
    @param token: the session's CSRF token.
    @param current: the navigation path of this page.
    @param notice: a message saying what was done, or L{None}.
    @param error: a message saying what was refused, or L{None}.
    """
    body = tags.body()
    if principal is not None:
        links = [
            tags.li(
                tags.a(label, href=path, **({"aria-current": "page"} if path == current else {}))
            )
            for path, label in NAVIGATION
        ]
        body(
            tags.header(
                tags.span("oso", class_="brand"),
                tags.nav(tags.ul(links)),
                tags.div(
                    tags.span(principal.name, class_="user"),
                    button("Log out", "/logout", token, class_="logout"),
                    class_="account",
                ),
            )
        )
    # twisted.web.template's tags predate HTML5's main.
    main = Tag("main")(tags.h1(title))
    if notice:
        main(tags.p(notice, class_="notice", role="status"))
    if error:
        main(tags.p(error, class_="error", role="alert"))
    body(main(content))
    return tags.html(head(title), body, lang="en")


def tableRows(rows, empty, columns):
    """
    The rows of a table's body, or one row saying there is nothing.

    @param rows: each row a sequence of cell contents.
    @param empty: what to say without rows.
    @param columns: how many columns the table has.
    @return: a L{list} of C{tr} tags.
    """
    return [tags.tr([tags.td(cell) for cell in row]) for row in rows] or [
        tags.tr(tags.td(empty, colspan=str(columns), class_="empty"))
    ]


def table(headers, rows, empty, **attributes):
    """
    A table with headings, its body made by L{tableRows}.
    """
    return tags.table(
        tags.thead(tags.tr([tags.th(h) for h in headers])),
        tags.tbody(tableRows(rows, empty, len(headers))),
        **attributes,
    )


def definitions(pairs):
    """
    A definition list of C{(term, description)} pairs.
    """
    items = []
    for term, description in pairs:
        items += [tags.dt(term), tags.dd(description)]
    return tags.dl(items)


async def render(request, document, code=200):
    """
    Flatten a page into the response's body, with the page headers.

    @param request: the L{IRequest}.
    @param document: the page's C{html} tag, or tags of a fragment.
    @param code: the response code.
    @return: the body (L{bytes}).
    """
    request.setResponseCode(code)
    for name, value in PAGE_HEADERS.items():
        request.setHeader(name, value)
    html = await flattenString(request, document)
    if getattr(document, "tagName", None) == "html":
        html = b"<!DOCTYPE html>\n" + html
    return html
