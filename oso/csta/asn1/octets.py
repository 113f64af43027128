"""
BER octets written by hand where pyasn1 would cost more than the few octets
are worth: a TLV with a single-octet tag (X.690 8.1.2-8.1.3, definite length
in the shortest form) and an INTEGER in the fewest octets (X.690 8.3.2).
"""


def length(size):
    """
    The definite length octets of C{size} contents octets.
    """
    if size < 0x80:
        return bytes([size])
    octets = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


def tlv(tag, *contents):
    """
    The encoding with the one-octet identifier C{tag} and the concatenated
    C{contents}.
    """
    body = b"".join(contents)
    return bytes([tag]) + length(len(body)) + body


def integer(number, tag=0x02):
    """
    An INTEGER (or C{[n] IMPLICIT INTEGER} with another C{tag}).
    """
    size = (number if number >= 0 else ~number).bit_length() // 8 + 1
    return tlv(tag, number.to_bytes(size, "big", signed=True))
