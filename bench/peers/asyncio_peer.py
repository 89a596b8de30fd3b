#!/usr/bin/python3
"""The workloads of `go run ./bench -peers` on asyncio, or on uvloop with
--uvloop (see bench/peers/README.md for the shape of each and the protocol):

    asyncio_peer.py [--uvloop] bench COUNT name=N,name=N,...   # one JSON line per workload
    asyncio_peer.py [--uvloop] serve stream|proto              # "addr HOST:PORT", echo until stdin ends

Run it with Debian's /usr/bin/python3 (python3-uvloop is built for it).
"""

import asyncio
import json
import os
import random
import statistics
import sys
import threading
import time

PEER = "asyncio"


def new_loop():
    if PEER == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def per_op(t0, n):
    return (time.perf_counter_ns() - t0) / n


async def callbacks(n):
    """call_soon from loop code, in batches of 1000, run by one sleep(0)."""
    loop = asyncio.get_running_loop()
    count = 0

    def cb():
        nonlocal count
        count += 1

    t0 = time.perf_counter_ns()
    left = n
    while left > 0:
        b = min(left, 1000)
        for _ in range(b):
            loop.call_soon(cb)
        await asyncio.sleep(0)  # the batch runs before this task resumes
        left -= b
    v = per_op(t0, n)
    if count != n:
        raise RuntimeError(f"{count} of {n} callbacks ran")
    return v, "loop.call_soon in batches of 1000"


async def chain(n):
    """A chain of callbacks, each call_soon'ing the next."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    i = 0

    def step():
        nonlocal i
        i += 1
        if i == n:
            done.set_result(None)
        else:
            loop.call_soon(step)

    t0 = time.perf_counter_ns()
    loop.call_soon(step)
    await done
    return per_op(t0, n), "each callback call_soon's the next"


async def timers(n):
    """call_later at random delays of 0-100 ms, on a loop whose heap holds n
    timers already (as the bench's timer row: a heap that has grown)."""
    loop = asyncio.get_running_loop()
    rnd = random.Random(1)
    warm = [loop.call_later(3600 + rnd.random(), int) for _ in range(n)]
    delays = [rnd.random() * 0.1 for _ in range(n)]
    noop = int
    t0 = time.perf_counter_ns()
    hs = [loop.call_later(d, noop) for d in delays]
    v = per_op(t0, n)
    for h in hs + warm:
        h.cancel()
    return v, "loop.call_later"


async def timer_order(n):
    """n timers at random deadlines of 0-50 ms; a fault is one that fires
    before its deadline, or after one of a later (deadline, scheduling)."""
    loop = asyncio.get_running_loop()
    rnd = random.Random(2)
    fired = []
    done = loop.create_future()

    def fire(when, seq):
        fired.append((when, seq, loop.time()))
        if len(fired) == n:
            done.set_result(None)

    for seq in range(n):
        when = loop.time() + rnd.random() * 0.05
        loop.call_at(when, fire, when, seq)
    await done
    early = sum(1 for when, _, at in fired if at < when)
    order, last = 0, None
    for when, seq, _ in fired:
        if last is not None and (when, seq) < last:
            order += 1
        last = (when, seq) if last is None else max(last, (when, seq))
    return float(early + order), f"{early} early, {order} out of order (call_at, loop.time())"


async def spawn(n):
    """n tasks created, then gathered."""
    loop = asyncio.get_running_loop()

    async def work(i):
        return i

    t0 = time.perf_counter_ns()
    ts = [loop.create_task(work(i)) for i in range(n)]
    rs = await asyncio.gather(*ts)
    v = per_op(t0, n)
    if sum(rs) != n * (n - 1) // 2:
        raise RuntimeError("wrong sum")
    return v, "loop.create_task, asyncio.gather"


async def pingpong(n):
    """A value handed back and forth between two tasks through futures."""
    loop = asyncio.get_running_loop()
    box = [loop.create_future(), loop.create_future()]  # to pong, to ping

    async def pong():
        for _ in range(n):
            v = await box[0]
            box[0] = loop.create_future()
            box[1].set_result(v + 1)

    p = loop.create_task(pong())
    t0 = time.perf_counter_ns()
    v = 0
    for _ in range(n):
        box[0].set_result(v)
        v = await box[1]
        box[1] = loop.create_future()
    r = per_op(t0, n)
    await p
    if v != n:
        raise RuntimeError("wrong count")
    return r, "a future each way per hand-off"


async def submit(n):
    """call_soon_threadsafe from 4 threads, n callbacks in all."""
    loop = asyncio.get_running_loop()
    per = n // 4
    total = per * 4
    done = loop.create_future()
    count = 0

    def cb():
        nonlocal count
        count += 1
        if count == total:
            done.set_result(None)

    def sender():
        cst = loop.call_soon_threadsafe
        for _ in range(per):
            cst(cb)

    t0 = time.perf_counter_ns()
    ths = [threading.Thread(target=sender) for _ in range(4)]
    for t in ths:
        t.start()
    await done
    v = per_op(t0, total)
    for t in ths:
        t.join()
    return v, "4 threads, loop.call_soon_threadsafe (the GIL serializes them)"


async def queue(n):
    """A producer task and a consumer task on an asyncio.Queue(64)."""
    q = asyncio.Queue(64)

    async def produce():
        for i in range(n):
            await q.put(i)

    t0 = time.perf_counter_ns()
    p = asyncio.get_running_loop().create_task(produce())
    s = 0
    for _ in range(n):
        s += await q.get()
    v = per_op(t0, n)
    await p
    if s != n * (n - 1) // 2:
        raise RuntimeError("wrong sum")
    return v, "asyncio.Queue(64)"


async def group(n):
    """n tasks in an asyncio.TaskGroup, waited for."""

    async def work(i):
        return i

    t0 = time.perf_counter_ns()
    async with asyncio.TaskGroup() as tg:
        ts = [tg.create_task(work(i)) for i in range(n)]
    v = per_op(t0, n)
    if sum(t.result() for t in ts) != n * (n - 1) // 2:
        raise RuntimeError("wrong sum")
    return v, "asyncio.TaskGroup"


WORKLOADS = {
    "callback": ("ns per op", callbacks),
    "chain": ("ns per op", chain),
    "timer": ("ns per op", timers),
    "timer-order": ("faults (a check)", timer_order),
    "spawn": ("ns per op", spawn),
    "pingpong": ("ns per op", pingpong),
    "submit": ("ns per op", submit),
    "queue": ("ns per op", queue),
    "group": ("ns per op", group),
}


def emit(rec):
    print(json.dumps(rec), flush=True)


def bench(count, spec):
    failed = False
    for item in filter(None, spec.split(",")):
        name, _, ns = item.partition("=")
        n = int(ns)
        if name not in WORKLOADS:
            emit({"peer": PEER, "workload": name, "skip": f"not written for {PEER}"})
            continue
        unit, fn = WORKLOADS[name]
        values, note = [], ""
        try:
            for _ in range(count):
                loop = new_loop()
                try:
                    v, note = loop.run_until_complete(fn(n))
                finally:
                    loop.close()
                values.append(v)
        except Exception as e:  # a wrong result or a failure: say which
            failed = True
            emit({"peer": PEER, "workload": name, "error": f"{type(e).__name__}: {e}"})
            continue
        emit({"peer": PEER, "workload": name, "unit": unit, "value": statistics.median(values),
              "n": n, "runs": count, "note": note})
    return 1 if failed else 0


async def handle(reader, writer):
    try:
        while True:
            b = await reader.read(32 << 10)
            if not b:
                break
            writer.write(b)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport

    def data_received(self, data):
        self.t.write(data)


async def serve_main(form):
    loop = asyncio.get_running_loop()
    if form == "stream":
        srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    elif form == "proto":
        srv = await loop.create_server(Echo, "127.0.0.1", 0)
    else:
        raise SystemExit(f"no form {form!r}: want stream or proto")
    host, port = srv.sockets[0].getsockname()[:2]
    print(f"addr {host}:{port}", flush=True)

    def watch_stdin():
        for _ in sys.stdin:
            pass
        os._exit(0)  # the parent closed stdin, or is gone

    threading.Thread(target=watch_stdin, daemon=True).start()
    await srv.serve_forever()


def main(argv):
    global PEER
    if argv[:1] == ["--uvloop"]:
        PEER, argv = "uvloop", argv[1:]
        import uvloop  # noqa: F401  (fail here, with its message, if absent)
    if len(argv) == 3 and argv[0] == "bench":
        return bench(int(argv[1]), argv[2])
    if len(argv) == 2 and argv[0] == "serve":
        loop = new_loop()
        loop.run_until_complete(serve_main(argv[1]))
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
