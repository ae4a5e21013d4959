"""Throwaway certificates for the test nginx: a server CA and server certificate for 127.0.0.1,
and a stand-in UZI CA with a card holder's client certificate (RSA, like the cards)."""

from __future__ import annotations

import datetime
import ipaddress
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Key = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class ClientIdentity:
    """A client certificate and its key on disk (what a browser or http.client presents)."""

    certificate: x509.Certificate
    cert_path: Path
    key_path: Path

    @property
    def escaped_pem(self) -> str:
        """The certificate as nginx's $ssl_client_escaped_cert would pass it."""
        pem = self.certificate.public_bytes(serialization.Encoding.PEM).decode()
        return urllib.parse.quote(pem, safe="")

    @property
    def sha256(self) -> str:
        return self.certificate.fingerprint(hashes.SHA256()).hex()


@dataclass(frozen=True)
class TestPki:
    """Files for the test nginx (server side) and for its clients."""

    server_ca: Path  # trust this in clients
    server_cert: Path
    server_key: Path
    client_ca_names: Path  # the stand-in UZI CA: nginx's acceptable-issuers hint
    card: ClientIdentity  # issued by the stand-in UZI CA
    stranger: ClientIdentity  # self-signed: what an attacker would paste into a header


def name(common_name: str, **extra: str) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "NL")]
    if "organisation" in extra:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, extra["organisation"]))
    if "serial" in extra:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, extra["serial"]))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def issue(
    subject: x509.Name,
    key: Key,
    *,
    issuer: x509.Name | None = None,
    issuer_key: Key | None = None,
    ca: bool = False,
    usage: x509.ObjectIdentifier | None = None,
    ip: str | None = None,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if ip is not None:
        san = [x509.IPAddress(ipaddress.ip_address(ip)), x509.DNSName("localhost")]
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def write(directory: Path, stem: str, certificate: x509.Certificate, key: Key | None = None):
    cert_path = directory / f"{stem}.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    if key is None:
        return cert_path, None
    key_path = directory / f"{stem}.key"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def client_identity(
    directory: Path, stem: str, certificate: x509.Certificate, key: Key
) -> ClientIdentity:
    """Write a certificate and its key (e.g. a card from zorgsleutel.uzi.testca) for a client."""
    return ClientIdentity(certificate, *write(directory, stem, certificate, key))


def make_pki(directory: Path) -> TestPki:
    """Generate every certificate the proxy tests need into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name("Zorgsleutel test server CA")
    ca = issue(ca_name, ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = issue(
        name("127.0.0.1"),
        server_key,
        issuer=ca_name,
        issuer_key=ca_key,
        usage=ExtendedKeyUsageOID.SERVER_AUTH,
        ip="127.0.0.1",
    )
    uzi_key = ec.generate_private_key(ec.SECP256R1())
    uzi_name = name("TEST UZI-register Zorgverlener CA", organisation="Zorgsleutel test")
    uzi_ca = issue(uzi_name, uzi_key, ca=True)
    card_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    card = issue(
        name("Test Zorgverlener", organisation="Demozorg", serial="900012345"),
        card_key,
        issuer=uzi_name,
        issuer_key=uzi_key,
        usage=ExtendedKeyUsageOID.CLIENT_AUTH,
    )
    stranger_key = ec.generate_private_key(ec.SECP256R1())
    stranger = issue(name("Mallory"), stranger_key, usage=ExtendedKeyUsageOID.CLIENT_AUTH)

    server_ca, _ = write(directory, "server-ca", ca)
    server_cert, server_key_path = write(directory, "server", server, server_key)
    client_ca_names, _ = write(directory, "uzi-ca-names", uzi_ca)
    return TestPki(
        server_ca=server_ca,
        server_cert=server_cert,
        server_key=server_key_path,
        client_ca_names=client_ca_names,
        card=client_identity(directory, "card", card, card_key),
        stranger=client_identity(directory, "stranger", stranger, stranger_key),
    )
