"""
Resources that answer after awaiting something (who is asking, a
service): one way to run the answering coroutine, so that its failure is
logged and answered 500, and to know whether the client is still there
when the await is over (a request whose client went away must not be
written to or finished).
"""

from twisted.internet.defer import ensureDeferred
from twisted.logger import Logger
from twisted.web.server import NOT_DONE_YET

log = Logger()


def answerLater(request, coroutine, what):
    """
    Run C{coroutine}, which answers C{request}.

    @param what: what answers, for the log line of a failure.
    @return: L{NOT_DONE_YET}, for C{render_*} to return.
    """
    ensureDeferred(coroutine).addErrback(_failed, request, what)
    return NOT_DONE_YET


def _failed(failure, request, what):
    log.failure("{what} failed", failure, what=what)
    try:
        request.setResponseCode(500)
        request.finish()
    except RuntimeError:
        pass  # the client went away meanwhile


class Departure:
    """
    Whether a request's client went away (or the request was finished).

    @ivar gone: L{True} once it did.
    @ivar finished: the request's C{notifyFinish} L{Deferred}, for more
        callbacks.
    """

    def __init__(self, request):
        self.gone = False
        self.finished = request.notifyFinish()
        self.finished.addBoth(self._left)

    def _left(self, result):
        self.gone = True
