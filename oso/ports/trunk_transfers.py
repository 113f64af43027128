"""
A blind transfer asked for by a VoIP provider: REFER (RFC 3515) in a
trunk's call dialog.

A trusted provider's REFER without C{Replaces} is handled as a phone's is
(L{oso.ports.sip_transfers.Transfers}): C{202}, the model's single-step
transfer of the trunk's connection to the Refer-To number, the NOTIFY
sipfrag progress, and the trunk's BYE once it is over. The Refer-To user
part is a number as the provider writes it (the trunk's number format):
one of the trunk's DIDs goes where the dial plan's DIDs say (an extension
or a group), a number without a country (a short internal number) is
dialled as it is, any other is dialled out through the dial plan's routes
(the trunk access code and the number in the national form).

Refused: every REFER from an untrusted trunk (C{403}: the provider could
send oso's calls anywhere), and an attended transfer (C{Replaces} in
Refer-To, C{403}): no dialog of oso's can be named by the provider's side.
"""

from twisted.logger import Logger

from oso.ports.numberformat import NumberFormat
from oso.ports.sip_transfers import Transfers
from oso.sip.identity import numberOf
from oso.sip.refer import ReferError, parseRefer
from oso.sip.transaction import makeResponse


class TrunkTransfers(Transfers):
    """
    The REFER handling of one trunk of a L{oso.ports.sip_trunk.SIPTrunks}
    port.
    """

    log = Logger()

    def __init__(self, port, trunk, statusForCause):
        """
        @param port: the L{oso.ports.sip_trunk.SIPTrunks}.
        @param trunk: its L{oso.ports.sip_trunk.Trunk} this handles.
        @param statusForCause: as for L{Transfers}.
        """
        super().__init__(port, self.dialled, statusForCause)
        self.trunk = trunk

    def referred(self, leg, request, transaction):
        settings = self.trunk.settings
        refusal = None
        if not settings.trusted:
            refusal = "Forbidden (No Transfer by an Untrusted Network)"
        else:
            try:
                replaces = parseRefer(request).replaces
            except ReferError:
                # Answered as for phones.
                replaces = None
            if replaces is not None:
                refusal = "Forbidden (No Attended Transfer by the Network)"
        if refusal is not None:
            self.log.info("trunk {group}: REFER to {target} refused: {refusal}",
                          group=settings.trunkGroup,
                          target=request.headers.get("refer-to"), refusal=refusal)
            transaction.respond(makeResponse(request, 403, refusal,
                                             toTag=leg.dialog.localTag))
            return
        super().referred(leg, request, transaction)

    def transferorGone(self, leg):
        session = leg.session
        return session.channel.session is not session

    def dialled(self, uri):
        """
        The number a provider's Refer-To URI asks the model to transfer to
        (see the module's docstring), or C{None}.
        """
        number = numberOf(uri)
        if not number:
            return None
        settings = self.trunk.settings
        dialPlan = self.lines.model.dialPlan
        e164 = settings.numbers.toE164(number)
        if not e164.startswith("+"):
            return number
        if not settings.dids or any(e164.startswith(did) for did in settings.dids):
            internal = dialPlan.incoming(e164)
            if internal is not None:
                return internal
        numbers = settings.numbers
        if numbers.countryCode:
            national = NumberFormat("national", numbers.countryCode, numbers.nationalPrefix,
                                    numbers.internationalPrefix).present(e164)
        else:
            national = numbers.internationalPrefix + e164[1:]
        return dialPlan.trunkAccessCode + national
