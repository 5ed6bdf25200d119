"""The connectors' HTTP client and OAuth 1.0a signing, against published vectors and a
real server on 127.0.0.1 (plain and TLS)."""

import datetime
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from schoolgate.mis.connectors.auth import (
    hmac_sha1_signature,
    oauth1_header,
    signature_base_string,
)
from schoolgate.mis.connectors.http import FetchError, HttpClient, Limits, check_url, is_loopback


def test_rfc5849_section_1_2_signature():
    # RFC 5849 section 1.2: the photos request, signed with client and token credentials.
    header = oauth1_header(
        "GET",
        "http://photos.example.net/photos?file=vacation.jpg&size=original",
        consumer_key="dpf43f3p2l4k3l03",
        consumer_secret="kd94hf93k423kf44",
        token="nnch734d00sl2jdk",
        token_secret="pfkkdhi9sl3r4s00",
        timestamp="137131202",
        nonce="chapoH",
        oauth_version=False,
    )
    assert 'oauth_signature="MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D"' in header


def test_rfc5849_section_3_4_1_1_base_string():
    params = [
        ("b5", "=%3D"),
        ("a3", "a"),
        ("c@", ""),
        ("a2", "r b"),
        ("c2", ""),
        ("a3", "2 q"),
        ("oauth_consumer_key", "9djdj82h48djs9d2"),
        ("oauth_token", "kkk9d7dh3k39sjv7"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "137131201"),
        ("oauth_nonce", "7d8f3e4a"),
    ]
    assert signature_base_string("POST", "http://example.com/request", params) == (
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q"
        "%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_"
        "key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m"
        "ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk"
        "9d7dh3k39sjv7"
    )


def test_the_signing_key_escapes_both_secrets():
    # key = escaped consumer secret & escaped token secret (RFC 5849 section 3.4.2)
    import base64
    import hashlib
    import hmac

    expected = base64.b64encode(hmac.new(b"a%26b&c%2Bd", b"text", hashlib.sha1).digest()).decode()
    assert hmac_sha1_signature("text", "a&b", "c+d") == expected


@pytest.mark.parametrize(
    "host, loopback",
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("::1", True),
        ("localhost", True),
        ("10.0.0.1", False),
        ("example.org", False),
        ("127.0.0.1.example.org", False),
    ],
)
def test_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_only_https_leaves_the_machine():
    check_url("https://api.wonde.com/v1.0")
    check_url("http://127.0.0.1:8080/x")
    for url in ("http://api.wonde.com/v1.0", "ftp://127.0.0.1/x", "file:///etc/passwd"):
        with pytest.raises(FetchError):
            check_url(url)


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"hello": "world"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def tls_server(tmp_path):
    """An HTTPS server on 127.0.0.1 with a self-signed certificate; yields (url, cert path)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}/", str(cert_path)
    server.shutdown()
    server.server_close()


def test_https_is_verified_and_a_private_ca_bundle_can_be_trusted(tls_server):
    url, ca_bundle = tls_server
    with pytest.raises(FetchError) as refused:
        HttpClient(limits=Limits(retries=0)).get_json(url)
    assert "secure connection failed" in str(refused.value)
    data, _response = HttpClient(limits=Limits(retries=0, ca_bundle=ca_bundle)).get_json(url)
    assert data == {"hello": "world"}
