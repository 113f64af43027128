"""
oso: an open-source communications server with the open interfaces of a
small-business PBX.
"""
