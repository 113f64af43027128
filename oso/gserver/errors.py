"""
Why the G-Server refused a login: the one error type of its accounts, in
two kinds, which every part turns into its own reply (a page, a 401, the
gadget API's C{ID 0}).
"""


class LoginRefused(Exception):
    """
    A login was refused: a wrong name or password, never saying which.
    """


class LockedOut(LoginRefused):
    """
    Too many failed logins for this login name or source address: no
    password is checked until the delay has passed.

    @ivar retryAfter: the seconds until a login may be tried again (for an
        HTTP C{Retry-After} header: round it up).
    """

    def __init__(self, retryAfter):
        super().__init__(f"locked out for {retryAfter:.1f} s after failed logins")
        self.retryAfter = retryAfter
