"""
What the sip component's live and interop tests share about the machine:
whether it has IPv6, free ports, and peer programs that must be there.
"""

import os
import shutil
import socket

import pytest


def hasIPv6():
    """
    Whether the IPv6 loopback address can be bound.
    """
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


def freePort(host="127.0.0.1"):
    """
    A port free for both UDP and TCP on C{host}.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    while True:
        with socket.socket(family, socket.SOCK_STREAM) as t:
            t.bind((host, 0))
            port = t.getsockname()[1]
            with socket.socket(family, socket.SOCK_DGRAM) as u:
                try:
                    u.bind((host, port))
                except OSError:
                    continue
            return port


def need(program):
    """
    Skip without C{program}; under CI (which installs it) fail instead.
    """
    if shutil.which(program) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{program} is not installed, and CI installs it")
        pytest.skip(f"{program} is not installed")
