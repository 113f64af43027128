"""
Call data record formats.
"""

from zope.interface import Attribute, Interface


class ICDRFormat(Interface):
    """
    Turns call data records into the bytes of one file format.
    """

    name = Attribute("The format's name in configuration and URLs (C{str}).")
    mediaType = Attribute("The HTTP media type of a file in this format (C{str}).")
    fileExtension = Attribute("The usual file name extension, without a dot (C{str}).")

    def header():
        """
        The bytes that start a file of this format (C{b''} when none).
        """

    def formatRecord(record):
        """
        One record as the bytes of one line, its line ending included.

        @param record: an L{oso.cdr.record.CallRecord}.
        @rtype: L{bytes}
        """
