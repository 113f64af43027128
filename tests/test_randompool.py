"""
Tests for L{oso.randompool}: random bytes a buffer at a time, each handed
out once, and none repeated across a fork.
"""

import os
from collections import Counter

import pytest

from oso.randompool import RandomPool, pool


class CountingRead:
    """
    A stand-in for C{os.urandom} that counts its reads and gives bytes
    that follow on from each other, so that a repeat would show.
    """

    def __init__(self):
        self.reads = []
        self._next = 0

    def __call__(self, n):
        self.reads.append(n)
        out = bytes((self._next + i) % 256 for i in range(n))
        self._next += n
        return out


def test_bytesOnceEach():
    """
    The pool reads a buffer at a time and hands out each of its bytes
    once, in order; a request past its end reads a new buffer.
    """
    read = CountingRead()
    p = RandomPool(read, size=8)
    assert p.bytes(3) == bytes([0, 1, 2])
    assert p.bytes(5) == bytes([3, 4, 5, 6, 7])
    assert read.reads == [8]
    assert p.bytes(2) == bytes([8, 9])
    assert read.reads == [8, 8]


def test_largerThanBuffer():
    """
    A request larger than the buffer reads as many bytes as it needs.
    """
    read = CountingRead()
    p = RandomPool(read, size=4)
    assert len(p.bytes(10)) == 10
    assert read.reads == [10]


def test_hex():
    """
    L{RandomPool.hex} is C{n} bytes in hexadecimal, as C{secrets.token_hex}.
    """
    p = RandomPool(CountingRead())
    assert p.hex(3) == "000102"
    token = pool.hex(6)
    assert len(token) == 12 and int(token, 16) >= 0


def test_belowRange():
    """
    L{RandomPool.below} gives every integer of C{[0, n)} and nothing else.
    """
    p = RandomPool()
    seen = Counter(p.below(5) for _ in range(2000))
    assert set(seen) == {0, 1, 2, 3, 4}
    assert p.below(1) == 0
    big = [p.below(2**62) for _ in range(100)]
    assert all(0 <= value < 2**62 for value in big)
    assert len(set(big)) == 100
    with pytest.raises(ValueError):
        p.below(0)


def test_belowRejects():
    """
    A draw at or above C{n} is thrown away, not folded into the range
    (which would make the low values likelier).
    """
    # 5 - 1 has 3 bits, the top ones of a byte: 7 is drawn and refused,
    # then 2 is taken.
    p = RandomPool(lambda n: bytes([7 << 5, 2 << 5]) * (n // 2))
    assert p.below(5) == 2


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_forkForgets():
    """
    A child process made by C{fork} does not hand out the bytes its parent
    still holds: its next token differs from the parent's next one.
    """
    pool.hex(1)
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            os.write(writer, pool.hex(16).encode())
        finally:
            os._exit(0)
    os.close(writer)
    childToken = os.read(reader, 64).decode()
    os.close(reader)
    os.waitpid(child, 0)
    assert len(childToken) == 32
    assert childToken != pool.hex(16)
