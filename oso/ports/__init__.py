"""
Port drivers that are not a protocol of their own.
"""
