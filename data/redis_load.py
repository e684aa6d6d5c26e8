#!/usr/bin/env python3
"""redis_load.py - a day-like load on a Redis server, for data/record.sh.

    redis_load.py PORT SECONDS [THREADS] [PEAK_CMDS_PER_S] [SEED]

THREADS client threads (default 4), each with its own connection, send
pipelined batches of commands every 50 ms for SECONDS. The total request
rate follows one compressed day over the run: a night trough at the start
and the end, a morning ramp, a midday dip and an evening peak,

    rate(x) = PEAK * (0.08 + 0.92 * day(x)),  x = t / SECONDS in [0, 1),
    day(x)  = 0.5 * (1 - cos(2 pi x)) * (1 - 0.25 * exp(-((x - 0.45) / 0.05)^2))

so it runs from 8% of PEAK at night to PEAK in the evening (x ~ 0.6).
The mix (per command, fixed probabilities, seeded per thread):
  45% SET key value EX ttl   (keys user:N of a 200k space; values of 16 B to
                              4 KiB, log-uniform; TTL 5 to 240 s, log-uniform)
  25% GET key
  10% HSET session:N f v EX-less, then EXPIRE session:N ttl (2 commands)
   8% LPUSH timeline:N v + LTRIM timeline:N 0 49 (2 commands)
   7% INCR counter:N
   5% DEL key
Keys expire, so the live data follows the load with the TTLs' delay. Only
the standard library is used (RESP spoken over a socket). Prints one line
per thread at the end: commands sent.
"""
import math
import random
import socket
import sys
import threading
import time

KEYS = 200000


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if not isinstance(a, bytes):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def rate(x, peak):
    day = 0.5 * (1 - math.cos(2 * math.pi * x))
    day *= 1 - 0.25 * math.exp(-(((x - 0.45) / 0.05) ** 2))
    return peak * (0.08 + 0.92 * day)


def read_replies(sock, buf, n):
    """Read n RESP replies (simple/error/integer/bulk) from sock."""
    got = 0
    while got < n:
        i = 0
        while got < n:
            e = buf.find(b"\r\n", i)
            if e < 0:
                break
            kind = buf[i:i + 1]
            if kind == b"$":
                ln = int(buf[i + 1:e])
                end = e + 2 + (ln + 2 if ln >= 0 else 0)
                if len(buf) < end:
                    break
                i = end
            else:
                i = e + 2
            got += 1
        buf = buf[i:]
        if got < n:
            chunk = sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("server closed")
            buf += chunk
    return buf


def client(port, seconds, share, peak, seed, counts, idx):
    rnd = random.Random(seed)
    sock = socket.create_connection(("127.0.0.1", port))
    buf = b""
    start = time.monotonic()
    tick = 0.05
    carry = 0.0
    sent = 0
    blob = bytes(range(256)) * 16
    while True:
        now = time.monotonic() - start
        if now >= seconds:
            break
        carry += rate(now / seconds, peak) * share * tick
        n = int(carry)
        carry -= n
        batch = []
        for _ in range(n):
            r = rnd.random()
            k = rnd.randrange(KEYS)
            if r < 0.45:
                size = int(math.exp(rnd.uniform(math.log(16), math.log(4096))))
                off = rnd.randrange(256)
                ttl = int(math.exp(rnd.uniform(math.log(5), math.log(240))))
                batch.append(resp("SET", "user:%d" % k, blob[off:off + size],
                                  "EX", ttl))
            elif r < 0.70:
                batch.append(resp("GET", "user:%d" % k))
            elif r < 0.80:
                s = k % 20000
                batch.append(resp("HSET", "session:%d" % s, "f%d" % rnd.randrange(16),
                                  blob[:rnd.randrange(8, 200)]))
                batch.append(resp("EXPIRE", "session:%d" % s,
                                  rnd.randrange(10, 120)))
            elif r < 0.88:
                s = k % 5000
                batch.append(resp("LPUSH", "timeline:%d" % s,
                                  blob[:rnd.randrange(20, 300)]))
                batch.append(resp("LTRIM", "timeline:%d" % s, 0, 49))
            elif r < 0.95:
                batch.append(resp("INCR", "counter:%d" % (k % 1000)))
            else:
                batch.append(resp("DEL", "user:%d" % k))
        if batch:
            sock.sendall(b"".join(batch))
            buf = read_replies(sock, buf, len(batch))
            sent += len(batch)
        nxt = start + (math.floor(now / tick) + 1) * tick
        delay = nxt - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    sock.close()
    counts[idx] = sent


def main():
    port = int(sys.argv[1])
    seconds = float(sys.argv[2])
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    peak = float(sys.argv[4]) if len(sys.argv) > 4 else 4000.0
    seed = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    counts = [0] * threads
    ts = [threading.Thread(target=client,
                           args=(port, seconds, 1.0 / threads, peak,
                                 seed * 1000 + i, counts, i))
          for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for i, c in enumerate(counts):
        print("thread %d: %d commands" % (i, c))


if __name__ == "__main__":
    main()
