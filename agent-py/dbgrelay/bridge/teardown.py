"""How the bridge finishes an adapter connection whose client is gone, in the order
measured to be safe on debugpy 1.8 (``adaptersession.py``, agent-py/README.md): wait for
the client's own ``disconnect`` if it sent one; otherwise complete the handshake
(``initialize``; ``configurationDone`` for a pending ``attach``) with the bridge's own
sequence numbers, then ``disconnect {terminateDebuggee: false}`` so the program resumes
and its breakpoints go."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, List

if TYPE_CHECKING:
    from .adaptersession import AdapterSession

log = logging.getLogger("dbgrelay.dap")


async def finish_with_adapter(s: "AdapterSession") -> List[str]:
    """Run the steps; returns what the bridge did, for the session's outcome line."""
    st, steps = s.state, []
    if not st.greeted:
        await s._until(lambda: st.greeted, s.timeouts.greeting_s)
    if st.ended_by_client:
        steps.append("waited for the client's disconnect")
        await s._until(lambda: st.answered & {"disconnect", "terminate"} != set(), s.timeouts.response_s)
    else:
        if "initialize" not in st.sent:
            steps.append("initialize")
            await s._request("initialize", {"adapterID": "debugpy", "clientID": "dbgrelay-bridge"})
        elif st.awaiting("initialize"):
            await s._until(lambda: "initialize" in st.answered, s.timeouts.response_s)
        if st.awaiting("attach"):
            if not st.initialized_event:
                await s._until(lambda: st.initialized_event or "attach" in st.answered, s.timeouts.response_s)
            if "configurationDone" not in st.sent and "attach" not in st.answered:
                steps.append("configurationDone")
                await s._request("configurationDone")
            await s._until(lambda: "attach" in st.answered, s.timeouts.response_s)
        steps.append("disconnect")
        if not await s._request("disconnect", {"terminateDebuggee": False}):
            log.warning("session %s: adapter did not answer disconnect in %.0f s",
                        s.label, s.timeouts.response_s)
    return steps
