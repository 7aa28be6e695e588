"""How the bridge finishes an adapter connection whose client is gone, in the order
measured to be safe on debugpy 1.8 (``adaptersession.py``, agent-py/README.md): wait for
the client's own ``disconnect`` if it sent one; otherwise complete the handshake
(``initialize``; ``configurationDone`` for a pending ``attach``) with the bridge's own
sequence numbers, then ``disconnect {terminateDebuggee: false}`` so the program resumes
and its breakpoints go."""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional

from .handshake import HandshakeState

log = logging.getLogger("dbgrelay.dap")

#: ``until(predicate, timeout_s)``: True once ``predicate()`` holds, False after the timeout
#: (or once the adapter closed without it holding).
Until = Callable[[Callable[[], bool], float], Awaitable[bool]]
#: ``request(command, arguments)``: send the bridge's own request; True once it was answered.
Request = Callable[[str, Optional[Dict[str, Any]]], Awaitable[bool]]


async def finish_with_adapter(state: HandshakeState, until: Until, request: Request, *, greeting_s: float, response_s: float, label: str) -> List[str]:
    """Run the steps; returns what the bridge did, for the session's outcome line."""
    st, steps = state, []
    if not st.greeted:
        await until(lambda: st.greeted, greeting_s)
    if st.ended_by_client:
        steps.append("waited for the client's disconnect")
        await until(lambda: st.answered & {"disconnect", "terminate"} != set(), response_s)
    else:
        if "initialize" not in st.sent:
            steps.append("initialize")
            await request("initialize", {"adapterID": "debugpy", "clientID": "dbgrelay-bridge"})
        elif st.awaiting("initialize"):
            await until(lambda: "initialize" in st.answered, response_s)
        if st.awaiting("attach"):
            if not st.initialized_event:
                await until(lambda: st.initialized_event or "attach" in st.answered, response_s)
            if "configurationDone" not in st.sent and "attach" not in st.answered:
                steps.append("configurationDone")
                await request("configurationDone", None)
            await until(lambda: "attach" in st.answered, response_s)
        steps.append("disconnect")
        if not await request("disconnect", {"terminateDebuggee": False}):
            log.warning("session %s: adapter did not answer disconnect in %.0f s", label, response_s)
    return steps
