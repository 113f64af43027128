"""
The way a trunk writes telephone numbers (its caller-id and called-number
presentation), and the conversion between it and E.164 with a leading
C{+}, the form oso uses at the trunk's edge.

A provider expects numbers in one of three forms (ITU-T E.164, E.123):

  - C{"e164"}: C{+4930123456};
  - C{"international"}: the same digits without the C{+}: C{4930123456};
  - C{"national"}: numbers of the provider's country with the national
    prefix (C{030123456}), others with the international prefix
    (C{0044207...}).

Pure functions of the number and the trunk's country, so the rules are
tested without a network.
"""

from dataclasses import dataclass

#: The presentations a trunk may expect.
STYLES = ("e164", "international", "national")


@dataclass(frozen=True)
class NumberFormat:
    """
    How one trunk writes numbers.

    @ivar style: one of L{STYLES}.
    @ivar countryCode: the provider's country code (C{"49"}).
    @ivar nationalPrefix: what begins a national number (C{"0"}).
    @ivar internationalPrefix: what begins an international number
        (C{"00"}).
    """

    style: str = "e164"
    countryCode: str = ""
    nationalPrefix: str = "0"
    internationalPrefix: str = "00"

    def __post_init__(self):
        if self.style not in STYLES:
            raise ValueError(f"{self.style!r} is not one of {', '.join(STYLES)}")
        for name in ("countryCode", "nationalPrefix", "internationalPrefix"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.isdigit() and value != "":
                raise ValueError(f"{name} must be digits, got {value!r}")
        if self.style == "national" and not self.countryCode:
            raise ValueError("the national presentation needs the country code")
        if self.internationalPrefix == self.nationalPrefix:
            raise ValueError("the national and international prefixes are the same")

    def toE164(self, number):
        """
        A number as the trunk (or a dial plan route) wrote it, as E.164
        with a C{+}: the international prefix is replaced by C{+}, the
        national prefix by C{+} and the country code; digits without a
        prefix are E.164 digits in the C{e164} and C{international}
        styles.

        @return: C{"+..."}, or C{number} unchanged when its country cannot
            be told (a local number, a national one with no country code
            configured) or it is no number (empty, letters, C{*}, C{#}).
        """
        if number.startswith("+") or not _digits(number):
            return number
        if self.internationalPrefix and number.startswith(self.internationalPrefix):
            return "+" + number[len(self.internationalPrefix):]
        if self.nationalPrefix and number.startswith(self.nationalPrefix):
            if not self.countryCode:
                return number
            return "+" + self.countryCode + number[len(self.nationalPrefix):]
        if self.style == "national":
            return number
        return "+" + number

    def present(self, number):
        """
        A number (E.164 with C{+}, or as a dial plan route left it) written
        the way the trunk expects it.
        """
        e164 = self.toE164(number)
        if not e164.startswith("+"):
            return number
        digits = e164[1:]
        if self.style == "e164":
            return e164
        if self.style == "international":
            return digits
        if digits.startswith(self.countryCode):
            return self.nationalPrefix + digits[len(self.countryCode):]
        return self.internationalPrefix + digits


def _digits(text):
    return bool(text) and text.isascii() and text.isdigit()
