"""
The call model: devices, calls, connections, services and events in
ECMA-269 terms.
"""
