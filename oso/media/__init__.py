"""
Media of oso's own: the RTP/RTCP relay that anchors a trunk call's media
(L{oso.media.relay} sans-I/O, L{oso.media.udp} its sockets,
L{oso.media.sdpanchor} the SDP rewriting, L{oso.media.anchor} one call's
relay as a trunk uses it).
"""
