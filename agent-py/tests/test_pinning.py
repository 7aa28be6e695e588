from __future__ import annotations

import pytest
from conftest import Certs

from dbgrelay.errors import ConfigError
from dbgrelay.trust.pinning import find_pinned, fingerprint_der, format_fingerprint, parse_fingerprint

HEX = "5d684eda082eb371142ce8a8efd7a2c1efdca8f2ea5e1e8f843bc2ce971a2c1b"


@pytest.mark.parametrize(
    "text",
    [
        "sha256:" + HEX,
        "SHA256:" + HEX.upper(),
        "sha256:" + ":".join(HEX[i : i + 2] for i in range(0, 64, 2)).upper(),
        "  sha256:" + HEX + "\n",
    ],
)
def test_parse_accepts_colons_and_any_case(text: str) -> None:
    assert parse_fingerprint(text) == HEX


@pytest.mark.parametrize("text", ["", HEX, "sha1:" + HEX[:40], "sha256:" + HEX[:-1], "sha256:" + HEX + "00", "sha256:" + "g" * 64])
def test_parse_rejects_other_forms(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_fingerprint(text)


def test_format_round_trips() -> None:
    assert parse_fingerprint(format_fingerprint(HEX)) == HEX
    assert format_fingerprint(HEX).startswith("sha256:5D:68:")


def test_find_pinned_matches_leaf_or_ca(certs: Certs) -> None:
    chain = [certs.der("server"), certs.der("ca")]
    assert find_pinned(chain, fingerprint_der(chain[0])) == 0
    assert find_pinned(chain, parse_fingerprint(certs.fingerprint("ca"))) == 1
    assert find_pinned(chain, parse_fingerprint(certs.fingerprint("other-ca"))) is None
