"""A TCP proxy that adds a fixed delay to every request: SQS as seen from a VPC, not from loopback.

Against LocalStack on the same machine a request costs CPU and almost no time on the wire; against
SQS each one waits a network round trip. Every chunk a client sends is held for ``delay`` seconds
before it is passed on (in order), so each request/response exchange takes at least that long
longer. Run as ``python -m tests.bench.latency_proxy UPSTREAM_PORT DELAY_MS [LISTEN_PORT]``; it
prints its own port once it listens. The fault tests start one again on the port of one they
killed: a service that goes away and comes back at the same address.
"""

from __future__ import annotations

import asyncio
import sys

from devstack.net import LOOPBACK


async def _delayed_pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    loop = asyncio.get_running_loop()
    due: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def forward() -> None:
        while True:
            at, chunk = await due.get()
            await asyncio.sleep(max(0.0, at - loop.time()))
            if not chunk:
                writer.close()
                return
            writer.write(chunk)
            await writer.drain()

    sender = asyncio.create_task(forward())
    while chunk := await reader.read(65536):
        due.put_nowait((loop.time() + delay, chunk))
    due.put_nowait((loop.time() + delay, b""))
    await sender


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while chunk := await reader.read(65536):
        writer.write(chunk)
        await writer.drain()
    writer.close()


async def serve(upstream_port: int, delay: float, listen_port: int = 0) -> None:
    async def connection(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(LOOPBACK, upstream_port)
        try:
            await asyncio.gather(
                _delayed_pump(client_reader, upstream_writer, delay), _pump(upstream_reader, client_writer)
            )
        except (ConnectionError, OSError):
            pass  # either side went away: the other one is closed with it
        finally:
            client_writer.close()
            upstream_writer.close()

    server = await asyncio.start_server(connection, LOOPBACK, listen_port)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    listen_port = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    asyncio.run(serve(int(sys.argv[1]), float(sys.argv[2]) / 1000, listen_port))
