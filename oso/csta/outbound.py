"""
A link's outbound queue: frames wait here while the transport says its
buffer is full, so a slow client never makes the server buffer without
bound and never blocks the call model or another link.

The transport pauses and resumes the queue (it is the transport's push
producer); the link asks how many frames wait before it sends an event,
and past its limit tells the client it fell behind instead of queueing
more (see L{oso.csta.link.CSTALink.sendEvent}).
"""

from collections import deque


class OutboundQueue:
    """
    Frames on their way to one client, in order.

    @ivar paused: whether the transport asked to stop writing.
    """

    def __init__(self, write):
        """
        @param write: called with each frame's bytes when the transport
            takes them.
        """
        self._write = write
        self._frames = deque()
        self.paused = False

    def __len__(self):
        return len(self._frames)

    def push(self, frame):
        """
        Send C{frame} after those already waiting.
        """
        if self.paused or self._frames:
            self._frames.append(frame)
        else:
            self._write(frame)

    def pause(self):
        """
        The transport's buffer is full: keep frames here.
        """
        self.paused = True

    def resume(self):
        """
        The transport drained: write waiting frames until it is full again.
        """
        self.paused = False
        while self._frames and not self.paused:
            self._write(self._frames.popleft())

    def clear(self):
        """
        Forget waiting frames (the connection is gone).
        """
        self._frames.clear()
