"""
Package metadata for oso.

A normal install (C{pip install .}) puts the C{oso} package and the twistd
plugin C{twisted/plugins/oso_plugin.py} in place, so that C{twistd oso}
works, and the C{oso-cti} command.  C{twisted.plugins} is listed by hand: it is a namespace folder that
Twisted extends with C{pluginPackagePaths}, so it must not get an
C{__init__.py} of ours.
"""

from setuptools import find_packages, setup

setup(
    name="oso",
    version="0.1.0",
    description=(
        "An open-source communications server with the open interfaces of a "
        "small-business PBX: SIP, CSTA, an HTTPS G-Server, CTI and call data "
        "records, on Twisted."
    ),
    python_requires=">=3.11",
    packages=find_packages(include=["oso", "oso.*"]) + ["twisted.plugins"],
    package_data={"oso.gserver.wbm": ["static/*"]},
    install_requires=[
        "twisted[tls]",
        "cryptography",
        "zope.interface",
        "pyasn1",
        "klein",
        "treq",
        "pyserial",
        "lxml",
    ],
    entry_points={"console_scripts": ["oso-cti = oso.cti.cli:main"]},
    extras_require={
        "test": [
            "pytest",
            "hypothesis",
            "asn1tools",
            "pytest-xdist",
            "schemathesis",
            "selenium",
            "openapi-spec-validator",
        ],
    },
)
