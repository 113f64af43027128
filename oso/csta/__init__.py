"""
CSTA (ECMA-269) for oso: the message model shared by both encodings
(L{oso.csta.messages}), the operation table (L{oso.csta.operations}), the
ECMA-285 BER codec (L{oso.csta.ber}) and the ECMA-323 XML codec, framing and
links.
"""
