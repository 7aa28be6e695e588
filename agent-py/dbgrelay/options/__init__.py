"""Options of the agent, in one place: the fields, defaults and validation of both
:func:`dbgrelay.enable_attach` forms, and both sides of the configuration line that
passes them to the bridge process.

- :mod:`.callforms`: which form a call of ``enable_attach`` is.
- :mod:`.relay`: the relay form (:class:`AgentOptions`, :func:`build_options`).
- :mod:`.direct`: the direct endpoint, ptvsd's form (:class:`DirectOptions`,
  :func:`build_direct_options`).
- :mod:`.guard`: the pause guard's bounds (:class:`PauseGuardOptions`).
- :mod:`.nametemplate`: ``{hostname}`` and ``{pid}`` in target names.
- :mod:`.bridgeconfig`, :mod:`.directconfig`, :mod:`.configfields`: the bridge's
  reading of its configuration line, in relay and direct-endpoint mode.
"""

from __future__ import annotations

from .bridgeconfig import BridgeConfig
from .callforms import is_relay_call
from .direct import DEFAULT_ADDRESS, DIRECT_TARGET_NAME, DirectOptions, build_direct_options
from .directconfig import DirectConfig
from .guard import DEFAULT_ADAPTER_STALL_S, DEFAULT_UNOWNED_PAUSE_S, PauseGuardOptions
from .nametemplate import expand_name_template
from .relay import DEFAULT_REGISTER_TIMEOUT_S, AgentOptions, build_options

__all__ = [
    "AgentOptions",
    "DEFAULT_REGISTER_TIMEOUT_S",
    "expand_name_template",
    "build_options",
    "DirectOptions",
    "build_direct_options",
    "DIRECT_TARGET_NAME",
    "DEFAULT_ADDRESS",
    "PauseGuardOptions",
    "DEFAULT_UNOWNED_PAUSE_S",
    "DEFAULT_ADAPTER_STALL_S",
    "BridgeConfig",
    "DirectConfig",
    "is_relay_call",
]
