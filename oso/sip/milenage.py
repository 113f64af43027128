"""
The MILENAGE authentication functions (3GPP TS 35.206): f1, f1*, f2, f3,
f4, f5 and f5* over AES-128, the kernel TS 35.206 names (Rijndael with a
128-bit block and key).

Digest AKA (RFC 3310, L{oso.sip.aka}) needs them on the client side: f5
unmasks the sequence number in AUTN, f1 checks the network's MAC-A, f2 gives
RES (the digest password), f5* and f1* make AUTS for resynchronisation. f3
and f4 (CK, IK) are here for completeness of the algorithm set and for the
server-side generator of the tests.

All values are C{bytes}: K, OP, OPc and RAND 16 octets, SQN 6, AMF 2.
"""

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


class MilenageError(ValueError):
    """
    A parameter of the wrong length.
    """


def _xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def _rotate(block, octets):
    """
    Rotate a 128-bit block left by C{octets} * 8 bits (TS 35.206 uses
    r1..r5 that are all multiples of 8).
    """
    return block[octets:] + block[:octets]


def _constant(n):
    """
    c1..c5 of TS 35.206 4.1: zero but for the low bits of the last octet.
    """
    return bytes(15) + bytes((n,))


def _check(name, value, length):
    if not isinstance(value, bytes | bytearray) or len(value) != length:
        raise MilenageError(f"{name} must be {length} octets")
    return bytes(value)


# (rotation in octets, constant) of OUT1..OUT5: r1..r5 = 64, 0, 32, 64,
# 96 bits and c1..c5 (TS 35.206 4.1).
_R1, _C1 = 8, _constant(0)
_R2, _C2 = 0, _constant(1)
_R3, _C3 = 4, _constant(2)
_R4, _C4 = 8, _constant(4)
_R5, _C5 = 12, _constant(8)


class Milenage:
    """
    The functions for one subscriber key K and operator variant OPc.

    @ivar opc: OPc, 16 octets.
    """

    def __init__(self, k, opc):
        """
        @param k: the subscriber key K, 16 octets.
        @param opc: OPc (see L{computeOPc} to derive it from OP).
        @raise MilenageError: on a wrong length.
        """
        self._encryptor = _aes(_check("K", k, 16))
        self.opc = _check("OPc", opc, 16)

    @classmethod
    def fromOP(cls, k, op):
        """
        The functions for K and the operator's OP (OPc derived).
        """
        return cls(k, computeOPc(k, op))

    def _e(self, block):
        return self._encryptor.update(block)

    def _temp(self, rand):
        return self._e(_xor(_check("RAND", rand, 16), self.opc))

    def _out(self, temp, rotation, constant):
        return _xor(self._e(_xor(_rotate(_xor(temp, self.opc), rotation), constant)), self.opc)

    def f1both(self, rand, sqn, amf):
        """
        f1 and f1* at once (they share OUT1).

        @return: C{(MAC-A, MAC-S)}, 8 octets each.
        """
        in1 = _check("SQN", sqn, 6) + _check("AMF", amf, 2)
        in1 = in1 + in1
        temp = self._temp(rand)
        out1 = _xor(self._e(_xor(temp, _xor(_rotate(_xor(in1, self.opc), _R1), _C1))), self.opc)
        return out1[:8], out1[8:]

    def f1(self, rand, sqn, amf):
        """
        The network authentication code MAC-A, 8 octets.
        """
        return self.f1both(rand, sqn, amf)[0]

    def f1star(self, rand, sqn, amf):
        """
        The resynchronisation authentication code MAC-S, 8 octets.
        """
        return self.f1both(rand, sqn, amf)[1]

    def f2f5(self, rand):
        """
        f2 and f5 at once (they share OUT2).

        @return: C{(RES, AK)}, 8 and 6 octets.
        """
        out2 = self._out(self._temp(rand), _R2, _C2)
        return out2[8:], out2[:6]

    def f2(self, rand):
        """
        The response RES, 8 octets.
        """
        return self.f2f5(rand)[0]

    def f5(self, rand):
        """
        The anonymity key AK, 6 octets.
        """
        return self.f2f5(rand)[1]

    def f3(self, rand):
        """
        The cipher key CK, 16 octets.
        """
        return self._out(self._temp(rand), _R3, _C3)

    def f4(self, rand):
        """
        The integrity key IK, 16 octets.
        """
        return self._out(self._temp(rand), _R4, _C4)

    def f5star(self, rand):
        """
        The anonymity key AK* of resynchronisation, 6 octets.
        """
        return self._out(self._temp(rand), _R5, _C5)[:6]


def _aes(key):
    # One AES-128 block at a time: ECB over single blocks is the plain
    # block cipher E_K of TS 35.206.
    return Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305


def computeOPc(k, op):
    """
    OPc = E_K(OP) xor OP (TS 35.206 4.1).
    """
    op = _check("OP", op, 16)
    return _xor(_aes(_check("K", k, 16)).update(op), op)
