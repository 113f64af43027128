"""
pyasn1 specifications of the ECMA-285 (CSTA Phase III, 4th edition) types oso
encodes, written from the modules of the standard, one module per concern.
Python class names are the ASN.1 type names; components keep their ASN.1
names. The ECMA-285 modules are C{DEFINITIONS ::=}, so a tag is EXPLICIT
unless the module says IMPLICIT; the ROSE module (X.880) is IMPLICIT TAGS.
"""
