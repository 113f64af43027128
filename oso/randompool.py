"""
Random tokens and numbers for the call path, from the operating system's
generator a buffer at a time.

C{secrets.token_hex} and C{secrets.randbelow} ask the kernel for a few
bytes each (a system call every time); a SIP call needs several (its
tags, our Call-ID, each leg's SDP session id).  A L{RandomPool} reads
C{os.urandom} 4 KiB at a time and hands out its bytes once each: the same
randomness, one system call per hundreds of tokens.  A child process made
by C{fork} starts with an empty buffer, so that it never repeats its
parent's tokens.
"""

import os


class RandomPool:
    """
    Bytes of C{read} (C{os.urandom}), each handed out once.
    """

    def __init__(self, read=os.urandom, size=4096):
        self._read = read
        self._size = size
        self._buffer = b""
        self._at = 0

    def bytes(self, n):
        """
        @return: C{n} random bytes.
        """
        at = self._at
        if at + n > len(self._buffer):
            self._buffer = self._read(max(self._size, n))
            at = 0
        self._at = at + n
        return self._buffer[at : at + n]

    def hex(self, n):
        """
        @return: C{n} random bytes as hexadecimal text (as
            C{secrets.token_hex(n)}).
        """
        return self.bytes(n).hex()

    def below(self, n):
        """
        @return: a random integer in C{[0, n)}, every one as likely (as
            C{secrets.randbelow(n)}: draws of the bits of C{n - 1} until
            one is below C{n}).
        """
        if n <= 0:
            raise ValueError("the upper bound must be positive")
        bits = (n - 1).bit_length()
        size = (bits + 7) // 8
        while True:
            value = int.from_bytes(self.bytes(size), "big") >> (8 * size - bits)
            if value < n:
                return value

    def forget(self):
        """
        Drop the unused bytes (in a child process after C{fork}).
        """
        self._buffer = b""
        self._at = 0


#: The process's pool.
pool = RandomPool()
os.register_at_fork(after_in_child=pool.forget)
