"""
The server's TLS certificate: one key and certificate in the data
directory, shared by every TLS listener (SIP on 5061, CSTA, the G-Server,
CDR download).

A fresh installation makes a self-signed certificate on its first start so
that every TLS listener works at once; an administrator replaces the two
files (or configures other paths) with a certificate of their own.  The key
is written with mode 0600 before any byte of it, and both files are written
to a temporary name and renamed, so a crash never leaves half a key.
"""

import datetime
import ipaddress
import os
import socket

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from twisted.internet import ssl
from twisted.logger import Logger
from twisted.python.filepath import FilePath

log = Logger()

DIRECTORY_NAME = "tls"
CERTIFICATE_NAME = "server.crt"
KEY_NAME = "server.key"
VALIDITY = datetime.timedelta(days=3650)


class CertificateFiles:
    """
    Where a certificate and its private key are, as PEM files.

    @ivar certificate: L{FilePath} of the certificate (chain), PEM.
    @ivar key: L{FilePath} of the private key, PEM.
    """

    def __init__(self, certificate, key):
        self.certificate = certificate
        self.key = key

    def __repr__(self):
        return f"<CertificateFiles {self.certificate.path} {self.key.path}>"

    def contextFactory(self):
        """
        A server TLS context factory (L{ssl.CertificateOptions}) for these
        files, with Twisted's secure defaults (TLS 1.2 and newer).
        """
        certificate = ssl.PrivateCertificate.loadPEM(
            self.key.getContent() + b"\n" + self.certificate.getContent()
        )
        return certificate.options()

    def endpointArguments(self):
        """
        The C{privateKey=...:certKey=...} part of an C{ssl:} endpoint
        string for these files, with the endpoint syntax's escapes.
        """
        return (
            f"privateKey={escapeEndpoint(self.key.path)}"
            f":certKey={escapeEndpoint(self.certificate.path)}"
        )


def escapeEndpoint(text):
    """
    Quote a value for a Twisted endpoint description, where C{:} and C{=}
    separate arguments and C{\\} escapes them.
    """
    return text.replace("\\", "\\\\").replace(":", "\\:").replace("=", "\\=")


def ensureCertificate(dataDirectory, hostnames=None):
    """
    The certificate files in the data directory's C{tls} folder, made
    (self-signed) if absent.

    @param dataDirectory: the data directory, a L{FilePath} or a path.
    @param hostnames: the DNS names and IP addresses the certificate names;
        by default this host's name, C{localhost} and the loopback
        addresses.
    @return: L{CertificateFiles}.
    """
    if not isinstance(dataDirectory, FilePath):
        dataDirectory = FilePath(dataDirectory)
    directory = dataDirectory.child(DIRECTORY_NAME)
    files = CertificateFiles(
        directory.child(CERTIFICATE_NAME), directory.child(KEY_NAME)
    )
    if files.certificate.exists() and files.key.exists():
        return files
    if not directory.exists():
        directory.makedirs(ignoreExistingDirectory=True)
    key, certificate = makeSelfSigned(hostnames or defaultHostnames())
    _writeAtomically(files.key, key, mode=0o600)
    _writeAtomically(files.certificate, certificate, mode=0o644)
    log.info(
        "made a self-signed TLS certificate {path} (replace it with your own)",
        path=files.certificate.path,
    )
    return files


def defaultHostnames():
    """
    The names a self-signed certificate of this host carries.
    """
    names = ["localhost", "127.0.0.1", "::1"]
    host = socket.gethostname()
    if host and host not in names:
        names.insert(0, host)
    return names


def makeSelfSigned(hostnames, now=None):
    """
    A new RSA key and a self-signed certificate for C{hostnames}.

    @return: C{(keyPEM, certificatePEM)} as bytes.
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])])
    alternatives = []
    for host in hostnames:
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alternatives.append(x509.DNSName(host))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    keyPEM = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return keyPEM, certificate.public_bytes(serialization.Encoding.PEM)


def _writeAtomically(path, content, mode):
    temporary = path.temporarySibling(".new")
    descriptor = os.open(temporary.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(content)
        stream.flush()
        os.fsync(stream.fileno())
    temporary.moveTo(path)
