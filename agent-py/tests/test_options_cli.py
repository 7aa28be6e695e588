from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dbgrelay.errors import ConfigError
from dbgrelay.options import build_options
from dbgrelay.relayurl import parse_relay_url


def test_relay_urls() -> None:
    e = parse_relay_url("wss://relay.example:8443/base/")
    assert (e.scheme, e.host, e.port, e.base_path) == ("wss", "relay.example", 8443, "/base")
    assert e.ws_url("/v1/agent") == "wss://relay.example:8443/base/v1/agent"
    assert parse_relay_url("tcps://[::1]:7444").host == "::1"
    for bad in ("ws://h:1", "tcp://h:1", "https://h", "wss://user:pw@h:1", "wss://h:1/?secret=x", "tcps://h:1/p", "h:1"):
        with pytest.raises(ConfigError):
            parse_relay_url(bad)


def test_secret_sources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DBGRELAY_SECRET", raising=False)
    monkeypatch.delenv("DBGRELAY_SECRET_FILE", raising=False)
    with pytest.raises(ConfigError, match="no relay secret"):
        build_options("wss://h:1", "web-1")
    f = tmp_path / "secret"
    f.write_text("from-file-0123456789\n")
    monkeypatch.setenv("DBGRELAY_SECRET_FILE", str(f))
    assert build_options("wss://h:1", "web-1", token="a.b.c").attach_secret == "from-file-0123456789"
    monkeypatch.setenv("DBGRELAY_SECRET", "from-env-0123456789")
    assert build_options("wss://h:1", "web-1", token="a.b.c").attach_secret == "from-env-0123456789"
    opts = build_options("wss://h:1", "web-1", secret="arg-0123456789-arg", token="a.b.c")
    assert opts.attach_secret == "arg-0123456789-arg" and "arg-0123456789" not in repr(opts)
    # with no other relay credential, the secret authenticates the agent instead (issue-2 usage)
    # and, being the relay secret, is not sent as an attach secret
    opts = build_options("wss://h:1", "web-1", secret="arg-0123456789-arg")
    assert (opts.credentials.relay.kind, opts.credentials.relay.value) == ("secret", "arg-0123456789-arg")
    assert opts.attach_secret is None and opts.credentials.attach_is_relay_secret
    assert build_options("wss://h:1", "web-1").credentials.relay.source == "DBGRELAY_SECRET"


def test_bad_combinations(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    s = "s" * 16
    with pytest.raises(ConfigError, match="not both"):
        build_options("wss://h:1", "w", s, cafile=str(ca), fingerprint="sha256:" + "a" * 64)
    with pytest.raises(ConfigError, match="does not exist"):
        build_options("wss://h:1", "w", s, cafile=str(tmp_path / "nope.pem"))
    with pytest.raises(ConfigError) as info:
        build_options("wss://h:1", "../etc", s)
    assert info.value.code == "TARGET_NAME_INVALID"
    with pytest.raises(ConfigError):
        build_options("wss://h:1", "w", s, labels={"": "x"})
    with pytest.raises(AttributeError):
        build_options("wss://h:1", "w", s).name = "other"  # type: ignore[misc]


def test_a_short_attach_secret_is_refused_at_start_saying_why_and_how(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DBGRELAY_SECRET", "DBGRELAY_SECRET_FILE", "DBGRELAY_TOKEN", "DBGRELAY_AGENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    for short in ("x", "letmein", "x" * 15):
        with pytest.raises(ConfigError, match="at least 16") as info:
            build_options("wss://h:1", "web-1", short, token="a.b.c")
        assert "secrets.token_urlsafe(24)" in str(info.value)
        assert short not in str(info.value)
        # the same short secret alone is the relay secret (issue-2 usage): no minimum, no attach secret
        alone = build_options("wss://h:1", "web-1", short)
        assert (alone.credentials.relay.value, alone.attach_secret) == (short, None)
    monkeypatch.setenv("DBGRELAY_SECRET", "letmein")
    with pytest.raises(ConfigError, match="from DBGRELAY_SECRET is 7 characters") as info:
        build_options("wss://h:1", "web-1", token="a.b.c")
    f = tmp_path / "attach"
    f.write_text("hunter2\n")
    monkeypatch.delenv("DBGRELAY_SECRET")
    monkeypatch.setenv("DBGRELAY_SECRET_FILE", str(f))
    with pytest.raises(ConfigError, match="from DBGRELAY_SECRET_FILE"):
        build_options("wss://h:1", "web-1", agent_secret="short-relay-secret")
    # A short relay secret still authenticates the agent when it is not also the attach secret.
    monkeypatch.delenv("DBGRELAY_SECRET_FILE")
    assert build_options("wss://h:1", "web-1", agent_secret="s3cret").attach_secret is None
    assert build_options("wss://h:1", "web-1", "x" * 16, token="a.b.c").attach_secret == "x" * 16


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dbgrelay", *args], capture_output=True, text=True, timeout=30, env={"PATH": "/usr/bin:/bin"})


def test_help_explains_options_and_has_no_secret_flag_in_relay_form() -> None:
    out = run_cli("--help")
    assert out.returncode == 0
    for word in ("--relay", "--name", "--ca", "--fingerprint", "--secret-file", "--label", "--wait-for-client", "-m MODULE", "DBGRELAY_SECRET", "DBGRELAY_AGENT_LOG"):
        assert word in out.stdout, word
    for word in ("--token-file", "--agent-secret-file", "DBGRELAY_TOKEN", "DBGRELAY_AGENT_SECRET", "attach secret"):
        assert word in out.stdout, word
    # --secret exists only for the direct endpoint form (ptvsd's CLI), with a warning
    for word in ("Direct endpoint", "--certfile", "--keyfile", "--host", "--port", "--allow-no-secret", "visible in ps"):
        assert word in out.stdout, word
    refused = run_cli("--relay", "wss://h:1", "--name", "w", "--secret", "x", "a.py")
    assert refused.returncode == 2 and "--secret is for the direct endpoint form" in refused.stderr


def test_cli_reports_missing_secret_clearly() -> None:
    out = run_cli("--relay", "wss://127.0.0.1:9", "--name", "web-1", "app.py")
    assert out.returncode == 2
    assert "no relay secret" in out.stderr


def test_cli_rejects_both_trust_options() -> None:
    out = run_cli("--relay", "wss://h:1", "--name", "w", "--ca", "x", "--fingerprint", "sha256:" + "a" * 64, "a.py")
    assert out.returncode == 2 and "not allowed with" in out.stderr
