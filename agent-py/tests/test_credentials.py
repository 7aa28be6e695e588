"""The agent's credentials: relay URLs with SECRET@, selection of the relay credential
and the attach secret, what goes on the wire, and the bridge's register message."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Dict

import pytest

from dbgrelay import protocol
from dbgrelay.credentials import RelayCredential, resolve_credentials
from dbgrelay.errors import ConfigError
from dbgrelay.options import build_options
from dbgrelay.options.bridgeconfig import BridgeConfig
from dbgrelay.relayurl import parse_relay_url, redact_relay_url

PROCESS = {"pid": 1, "host": "h", "python": "3.11.0", "debugpy": "1.8.22", "agent": "0.1.0"}


# -- relay URLs --------------------------------------------------------------


@pytest.mark.parametrize(
    "url,secret,display",
    [
        ("tcps://s3cr3t@relay.example:7444", "s3cr3t", "tcps://relay.example:7444"),
        ("wss://s3cr3t@relay.example:443/ptvsd", "s3cr3t", "wss://relay.example:443/ptvsd"),
        ("wss://a%40b%3Ac%2Fd%20e@h:1", "a@b:c/d e", "wss://h:1"),
        ("tcps://caf%C3%A9@[::1]:7444", "café", "tcps://[::1]:7444"),
        ("tcps://A-z_0.9~!$&'()*+,;=@h:2", "A-z_0.9~!$&'()*+,;=", "tcps://h:2"),
        ("tcps://tok:@h:3", "tok", "tcps://h:3"),
        ("tcps://h:4", None, "tcps://h:4"),
    ],
)
def test_relay_url_user_part_is_the_secret_and_is_never_displayed(url: str, secret: str, display: str) -> None:
    e = parse_relay_url(url)
    assert e.secret == secret
    assert e.display() == display
    if secret:
        assert secret not in repr(e) and secret not in e.display() and secret not in e.ws_url("/v1/agent")
    # equality ignores the secret: two URLs for the same relay are the same endpoint
    assert e == parse_relay_url(display)


@pytest.mark.parametrize(
    "url,message",
    [
        ("wss://user:pw@h:1", "without a password"),
        ("wss://@h:1", "empty"),
        ("tcps://a b@h:1", "percent-encoded"),
        ("tcps://a%zzb@h:1", "percent-encoded"),
        ("tcps://a%FFb@h:1", "UTF-8"),
        ("tcps://a@b@h:1", "%40"),
        ("wss://s@h:1/?secret=x", "query"),
        ("wss://s@h:1/#x", "query"),
        ("ws://s@h:1", "wss or tcps"),
    ],
)
def test_bad_user_parts_are_refused_without_quoting_them(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_relay_url(url)
    text = str(info.value)
    for fragment in ("pw", "a b", "a%zz", "a%FF", "a@b", "s@"):
        assert fragment not in text


def test_redact_relay_url() -> None:
    assert redact_relay_url("tcps://top-secret@h:1") == "tcps://***@h:1"
    assert redact_relay_url("wss://h:1/p@x") == "wss://h:1/p@x"


# -- credential selection ----------------------------------------------------


def test_secret_alone_is_the_relay_credential_and_sets_no_attach_secret() -> None:
    c = resolve_credentials(secret="relay-s-0123456789", env={})
    assert (c.relay.kind, c.relay.value, c.relay.source) == ("secret", "relay-s-0123456789", "secret=")
    # the relay secret already opens every target: sending it as attach secret would add nothing
    assert c.attach_secret is None and c.attach_is_relay_secret
    assert c.values() == ["relay-s-0123456789"]
    assert "relay-s" not in repr(c)


@pytest.mark.parametrize(
    "kwargs,env",
    [
        ({"secret": "s3cret"}, {}),
        ({}, {"DBGRELAY_SECRET": "s3cret"}),
        ({"secret": "s3cret", "agent_secret": "s3cret"}, {}),
        ({"secret": "s3cret", "url_secret": "s3cret"}, {}),
        ({}, {"DBGRELAY_SECRET": "s3cret", "DBGRELAY_AGENT_SECRET": "s3cret"}),
    ],
)
def test_a_short_relay_secret_that_is_also_the_attach_secret_is_accepted(kwargs: Dict[str, str], env: Dict[str, str]) -> None:
    c = resolve_credentials(env=env, **kwargs)
    assert (c.relay.kind, c.relay.value, c.attach_secret, c.attach_is_relay_secret) == ("secret", "s3cret", None, True)


@pytest.mark.parametrize(
    "kwargs,env,source",
    [
        ({"secret": "s3cret", "token": "a.b.c"}, {}, "secret="),
        ({"secret": "s3cret", "agent_secret": "another-relay-secret"}, {}, "secret="),
        ({"secret": "s3cret", "url_secret": "another"}, {}, "secret="),
        ({}, {"DBGRELAY_SECRET": "s3cret", "DBGRELAY_TOKEN": "a.b.c"}, "DBGRELAY_SECRET"),
        ({}, {"DBGRELAY_SECRET": "s3cret", "DBGRELAY_AGENT_SECRET": "s3cret2"}, "DBGRELAY_SECRET"),
    ],
)
def test_a_short_attach_secret_next_to_a_separate_relay_credential_is_refused(kwargs: Dict[str, str], env: Dict[str, str], source: str) -> None:
    with pytest.raises(ConfigError, match=f"from {source} is 6 characters; at least 16") as info:
        resolve_credentials(env=env, **kwargs)
    assert "s3cret" not in str(info.value)
    # the way out the message names: a short relay secret as agent_secret, no attach secret
    assert "agent_secret= / DBGRELAY_AGENT_SECRET" in str(info.value)
    c = resolve_credentials(agent_secret="s3cret", env={})
    assert (c.relay.value, c.attach_secret, c.attach_is_relay_secret) == ("s3cret", None, False)


@pytest.mark.parametrize(
    "kwargs,kind,value",
    [
        ({"token": "eyJ.a-b_c.d~+/="}, "token", "eyJ.a-b_c.d~+/="),
        ({"agent_secret": "agent-s"}, "secret", "agent-s"),
        ({"url_secret": "url-s"}, "secret", "url-s"),
    ],
)
def test_an_explicit_relay_credential_leaves_secret_as_attach_secret_only(kwargs: Dict[str, str], kind: str, value: str) -> None:
    c = resolve_credentials(secret="attach-s-0123456789", env={"DBGRELAY_TOKEN": "env.token", "DBGRELAY_AGENT_SECRET": "e"}, **kwargs)
    assert (c.relay.kind, c.relay.value, c.attach_secret) == (kind, value, "attach-s-0123456789")
    assert sorted(c.values()) == sorted([value, "attach-s-0123456789"])
    assert not c.attach_is_relay_secret


def test_environment_credentials(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("file.token\n")
    assert resolve_credentials(env={"DBGRELAY_TOKEN": "env.token"}).relay.value == "env.token"
    attach = "attach-0123456789"
    c = resolve_credentials(env={"DBGRELAY_TOKEN_FILE": str(token_file), "DBGRELAY_SECRET": attach})
    assert (c.relay.kind, c.relay.value, c.attach_secret) == ("token", "file.token", attach)
    c = resolve_credentials(env={"DBGRELAY_AGENT_SECRET": "agent", "DBGRELAY_SECRET": attach})
    assert (c.relay.kind, c.relay.value, c.attach_secret) == ("secret", "agent", attach)
    c = resolve_credentials(env={"DBGRELAY_TOKEN": "env.token"})
    assert c.attach_secret is None


def test_conflicting_or_missing_credentials_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="one relay credential") as info:
        resolve_credentials(token="t", url_secret="u-secret", env={})
    assert "u-secret" not in str(info.value)
    with pytest.raises(ConfigError, match="one relay credential"):
        resolve_credentials(agent_secret="a", token="t", env={})
    with pytest.raises(ConfigError, match="both DBGRELAY_TOKEN and DBGRELAY_AGENT_SECRET"):
        resolve_credentials(env={"DBGRELAY_TOKEN": "t", "DBGRELAY_AGENT_SECRET": "a"})
    with pytest.raises(ConfigError, match="no relay secret: pass secret=.*DBGRELAY_TOKEN"):
        resolve_credentials(env={})


def test_malformed_tokens_and_secrets_are_refused_without_quoting_them() -> None:
    for bad in ("has space", "new\nline", "x" * 9000, "tab\t"):
        with pytest.raises(ConfigError, match="not a bearer token") as info:
            resolve_credentials(token=bad, env={})
        assert bad not in str(info.value)
    with pytest.raises(ConfigError, match="1..4096"):
        resolve_credentials(agent_secret="s" * 4097, env={})


def test_a_secret_with_a_colon_cannot_go_over_wss_basic() -> None:
    with pytest.raises(ConfigError, match="':'") as info:
        build_options("wss://a%3Ab@h:1", "web-1")
    assert "a:b" not in str(info.value)
    assert build_options("tcps://a%3Ab@h:1", "web-1").credentials.relay.value == "a:b"


def test_build_options_uses_the_url_secret_for_the_relay_and_secret_for_attach(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DBGRELAY_SECRET", "DBGRELAY_SECRET_FILE", "DBGRELAY_TOKEN", "DBGRELAY_AGENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    opts = build_options("tcps://url-secret@relay:7444", "web-1", secret="attach-secret-0123456789")
    assert opts.relay_url == "tcps://relay:7444"
    assert (opts.credentials.relay.value, opts.attach_secret) == ("url-secret", "attach-secret-0123456789")
    assert "url-secret" not in repr(opts) and "attach-secret" not in repr(opts)
    only_url = build_options("tcps://url-secret@relay:7444", "web-1")
    assert only_url.attach_secret is None and only_url.credentials.relay.value == "url-secret"


# -- on the wire -------------------------------------------------------------


def test_authorization_header_and_hello_fields() -> None:
    secret = RelayCredential("secret", "s3cr3t")
    assert secret.authorization() == "Basic " + base64.b64encode(b"s3cr3t:").decode()
    assert secret.hello_fields() == {"secret": "s3cr3t"}
    token = RelayCredential("token", "a.b.c")
    assert token.authorization() == "Bearer a.b.c"
    assert token.hello_fields() == {"token": "a.b.c"}
    for cred in (secret, token):
        assert cred.value not in repr(cred)
        hello = protocol.validate_hello({"dbgrelay": 1, "op": "agent", **cred.hello_fields()})
        assert hello["op"] == "agent"
    assert RelayCredential.from_config(token.to_config()) == token


def bridge_config(**extra: object) -> BridgeConfig:
    return BridgeConfig.from_json({"relay": "tcps://127.0.0.1:7444", "name": "web-1", "adapterPort": 1, "process": PROCESS, **extra})


def test_bridge_register_message_carries_the_attach_secret_and_validates() -> None:
    config = bridge_config(credential={"kind": "token", "value": "a.b.c"}, attachSecret="attach-s")
    message = dict(config.register_message(), agentId="x")
    assert message["attachSecret"] == "attach-s"
    assert protocol.validate_control(message) == message
    assert "attach-s" not in repr(config) and "a.b.c" not in repr(config)
    assert sorted(config.secrets()) == ["a.b.c", "attach-s"]
    without = bridge_config(credential={"kind": "secret", "value": "s"})
    assert "attachSecret" not in without.register_message()
    # what enable_attach sends when the relay secret stands in for the attach secret
    shared = resolve_credentials(secret="s3cret", env={})
    fallback = bridge_config(credential=shared.relay.to_config(), attachSecret=shared.attach_secret)
    assert "attachSecret" not in fallback.register_message() and fallback.secrets() == ["s3cret"]


def test_bridge_config_legacy_secret_is_both_and_bad_credentials_are_refused() -> None:
    legacy = bridge_config(secret="relay-s")
    assert (legacy.credential.value, legacy.attach_secret) == ("relay-s", "relay-s")
    for bad in ({"credential": {"kind": "password", "value": "x"}}, {"credential": "x"}, {"credential": {"kind": "secret", "value": "s"}, "attachSecret": ""}, {}):
        with pytest.raises(ConfigError):
            bridge_config(**bad)


def test_register_validator_bounds_the_attach_secret() -> None:
    base = {"type": "register", "agentId": "a", "target": {"name": "web-1"}, "process": PROCESS}
    protocol.validate_control(dict(base, attachSecret="x" * 4096))
    for bad in ("", "x" * 4097, 7):
        with pytest.raises(protocol.ProtocolError) as info:
            protocol.validate_control(dict(base, attachSecret=bad))
        assert "xxxx" not in str(info.value)
