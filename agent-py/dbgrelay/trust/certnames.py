"""The DNS names and IP addresses a certificate covers (its subjectAltName), read from
DER with the standard library only: ``ssl`` decodes a peer's certificate only once it
is verified, and a certificate that did not verify is exactly the one whose names the
agent must show (:mod:`.failurehint`).

X.509 structure (RFC 5280 §4.1): Certificate ::= SEQUENCE { tbsCertificate, ... };
the extensions are the ``[3]`` field of tbsCertificate, each a SEQUENCE { extnID,
critical BOOLEAN OPTIONAL, extnValue OCTET STRING }; subjectAltName (§4.2.1.6,
2.5.29.17) is a SEQUENCE of GeneralName, of which ``[2]`` dNSName and ``[7]``
iPAddress are host names.
"""

from __future__ import annotations

import ipaddress
from typing import Iterator, List, Tuple

_SEQUENCE = 0x30
_EXTENSIONS = 0xA3  # [3] EXPLICIT, constructed
_OID = 0x06
_OCTET_STRING = 0x04
_DNS_NAME = 0x82  # [2] IMPLICIT IA5String
_IP_ADDRESS = 0x87  # [7] IMPLICIT OCTET STRING
_SUBJECT_ALT_NAME = bytes([0x55, 0x1D, 0x11])  # 2.5.29.17


def _element(data: bytes, pos: int) -> Tuple[int, int, int]:
    """The DER element at ``pos``: (tag, start of its content, end of its content)."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        size = length & 0x7F
        length = int.from_bytes(data[pos : pos + size], "big")
        pos += size
    if pos + length > len(data):
        raise ValueError("DER element runs past its container")
    return tag, pos, pos + length


def _children(data: bytes, start: int, end: int) -> Iterator[Tuple[int, int, int]]:
    pos = start
    while pos < end:
        tag, content, after = _element(data, pos)
        yield tag, content, after
        pos = after


def _subject_alt_name(der: bytes) -> bytes:
    """The content of the subjectAltName extension's value, or ``b""``."""
    _, cert_start, cert_end = _element(der, 0)
    _, tbs_start, tbs_end = next(_children(der, cert_start, cert_end))
    for tag, start, _end in _children(der, tbs_start, tbs_end):
        if tag != _EXTENSIONS:
            continue
        _, list_start, list_end = _element(der, start)
        for _, ext_start, ext_end in _children(der, list_start, list_end):
            parts = list(_children(der, ext_start, ext_end))
            if parts and parts[0][0] == _OID and der[parts[0][1] : parts[0][2]] == _SUBJECT_ALT_NAME:
                value = next(p for p in parts[1:] if p[0] == _OCTET_STRING)
                return der[value[1] : value[2]]
    return b""


def certificate_names(der: bytes) -> List[str]:
    """The DNS names (lower-cased) and IP addresses (shortest form: ``::1``) of a DER
    certificate's subjectAltName, in its order; ``[]`` when it has none or cannot be read."""
    try:
        names = _subject_alt_name(der)
        if not names:
            return []
        _, start, end = _element(names, 0)
        out: List[str] = []
        for tag, value_start, value_end in _children(names, start, end):
            value = names[value_start:value_end]
            if tag == _DNS_NAME:
                out.append(value.decode("ascii", "replace").lower())
            elif tag == _IP_ADDRESS and len(value) in (4, 16):
                out.append(str(ipaddress.ip_address(value)))
        return out
    except (IndexError, ValueError, StopIteration):
        return []
