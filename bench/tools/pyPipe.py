"""A bare TLS-to-TCP byte pipe on the agent bridge's own I/O layer (SocketStream,
uvloop when installed): the floor of the bridge's hop, without any DAP logic.

    python bench/tools/pyPipe.py CERT KEY TARGET_PORT    # prints "LISTENING <port>"
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import sys

from dbgrelay.bridge.app import run_event_loop
from dbgrelay.bridge.socketdial import open_socket_stream, start_tls
from dbgrelay.bridge.socketstream import SocketStream


async def pipe(client: socket.socket, context: ssl.SSLContext, target_port: int) -> None:
    tls = await start_tls(client, context, server_side=True)
    upstream = await open_socket_stream("127.0.0.1", target_port)
    downstream = SocketStream(tls)
    done = asyncio.get_running_loop().create_future()

    def end() -> None:
        if not done.done():
            done.set_result(None)

    downstream.set_handler(upstream.write_nowait, end)
    upstream.set_handler(downstream.write_nowait, end)
    await done
    downstream.abort()
    upstream.abort()


async def main(cert: str, key: str, target_port: int) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    print("LISTENING", listener.getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    while True:
        client, _ = await loop.sock_accept(listener)
        asyncio.ensure_future(pipe(client, context, target_port))


if __name__ == "__main__":
    run_event_loop(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
