"""A Deis component as the platform rig runs it, in its container: it publishes its heartbeat in
etcd as Deis's boot scripts did (`host` and `port` under its path, with a lease of TTL seconds,
refreshed every third of it) and writes a log line at each refresh, until it is stopped. Its
/data (one per node) steers it: `fail-start` makes it exit at once, `pause-heartbeat` stops the
refreshes (the heartbeat expires while the container runs), `say` is written to its log (stdout,
and to stderr with `say-err`) once."""

import argparse
import os
import signal
import sys
import time

import etcd3

parser = argparse.ArgumentParser()
parser.add_argument("--endpoint", required=True)  # host:port of etcd (the container shares the host's loopback)
parser.add_argument("--path", required=True)  # /deis/controller, /deis/router/hosts/127.0.0.2
parser.add_argument("--host", required=True)
parser.add_argument("--port", required=True)
parser.add_argument("--ttl", type=int, default=6)
args = parser.parse_args()

if os.path.exists("/data/fail-start"):
    print("cannot start: /data/fail-start", file=sys.stderr, flush=True)
    sys.exit(1)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # PID 1: the default action is ignored
host, port = args.endpoint.rsplit(":", 1)
client = etcd3.client(host=host, port=int(port), timeout=5)
lease = client.lease(args.ttl)
client.put(args.path + "/host", args.host, lease=lease)
client.put(args.path + "/port", args.port, lease=lease)
print(f"started on {args.host}: {args.path} published with lease {lease.id:x}", flush=True)
count = 0
while True:
    time.sleep(args.ttl / 3)
    if not os.path.exists("/data/pause-heartbeat"):
        lease.refresh()
    count += 1
    print(f"heartbeat {count}", flush=True)
    for name, stream in (("say", sys.stdout), ("say-err", sys.stderr)):
        path = os.path.join("/data", name)
        if os.path.exists(path):
            with open(path, "rb") as said:
                stream.buffer.write(said.read())
            stream.flush()
            os.unlink(path)
