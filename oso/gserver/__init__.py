"""
The G-Server: oso's HTTPS server (the C{gserver} component) and its parts,
the OpenScape gadget API, the REST API with its event stream, CSTA over
HTTP, the metrics and the web-based management.
"""
