"""
BER octets written by hand where pyasn1 would cost more than the few octets
are worth: a TLV with a single-octet tag (X.690 8.1.2-8.1.3, definite length
in the shortest form), an INTEGER in the fewest octets (X.690 8.3.2), and
ECMA-285's device and connection ids in the forms oso writes (as pyasn1
writes them: C{tests/csta/test_csta_berfast.py} checks).
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


#: ConnectionID's tag: [APPLICATION 11], constructed (an explicit CHOICE).
CONNECTION_ID = 0x6B


def deviceID(number):
    """
    A C{DeviceID}: C{SEQUENCE { deviceIdentifier CHOICE { dialingNumber [0]
    IMPLICIT IA5String, ... }, ... }} with C{number} as the dialing number.

    @raise UnicodeEncodeError: if C{number} is not ASCII.
    """
    return tlv(0x30, tlv(0x80, number.encode("ascii")))


def connectionID(connection):
    """
    A C{ConnectionID}: C{[APPLICATION 11] CHOICE { callID [0] IMPLICIT
    OCTET STRING, deviceID [1] LocalDeviceID, both SEQUENCE { callID,
    deviceID } }}, the device as C{staticID} (a L{deviceID}), the call id in
    Latin-1.
    """
    if connection.deviceID is None:
        inner = tlv(0x80, connection.callID.encode("latin-1"))
    elif connection.callID is None:
        inner = tlv(0xA1, deviceID(connection.deviceID))
    else:
        inner = tlv(
            0x30, tlv(0x80, connection.callID.encode("latin-1")), tlv(0xA1, deviceID(connection.deviceID))
        )
    return tlv(CONNECTION_ID, inner)
