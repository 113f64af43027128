"""
What the codec has read before, kept by its text.

Phones send the same URIs, addresses, Vias and header lines again and
again; the codec keeps what it made of each text so that the next copy
costs a dictionary lookup. A memo is bounded by emptying it when full:
cheaper on every call than keeping an order of use, and under a flood of
new texts it costs only the reading it would have cost anyway.
"""


class Memo(dict):
    """
    A dictionary of at most C{size} entries, emptied when a new one would
    go beyond.
    """

    __slots__ = ("size",)

    def __init__(self, size):
        super().__init__()
        self.size = size

    def keep(self, key, value):
        """
        Remember C{value} for C{key}.

        @return: C{value}.
        """
        if len(self) >= self.size:
            self.clear()
        self[key] = value
        return value
