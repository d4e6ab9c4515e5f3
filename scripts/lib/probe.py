"""Health check for scripts/broker: is a Kafka-protocol broker up and serving?

Usage: probe.py TIMEOUT MIN_BROKERS PIDS ENDPOINT...
  PIDS       comma-separated pids that must stay alive while we wait ("-" for none)
  ENDPOINT   HOST:PORT, or HOST:PORT#ID to also require node ID in the metadata

Healthy means ApiVersions v0 answered with error 0 and, when MIN_BROKERS > 0 (or an ENDPOINT names
a node), a Metadata v1 response listing at least MIN_BROKERS brokers (and that node).
Retries every 0.25 s until TIMEOUT seconds. Exit 0 healthy, 1 timeout (reason on stderr),
2 one of PIDS died.
"""
import socket, struct, sys, time
timeout, min_brokers = float(sys.argv[1]), int(sys.argv[2])
pids = [int(p) for p in sys.argv[3].split(",") if p.isdigit()]
endpoints = sys.argv[4:]

def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return False
    return st.rsplit(")", 1)[1].split()[0] not in ("Z", "X", "x")

def recvall(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed by broker")
        buf += chunk
    return buf

def call(host, port, api_key, version, body):
    with socket.create_connection((host, port), timeout=3) as s:
        req = struct.pack(">hhih", api_key, version, 1, 7) + b"testbed" + body
        s.sendall(struct.pack(">i", len(req)) + req)
        (n,) = struct.unpack(">i", recvall(s, 4))
        return recvall(s, n)

def check(ep):
    hostport, _, want = ep.partition("#")
    host, _, port = hostport.rpartition(":")
    port = int(port)
    d = call(host, port, 18, 0, b"")                      # ApiVersions v0
    corr, err = struct.unpack_from(">ih", d, 0)
    if corr != 1 or err != 0:
        raise RuntimeError("%s: ApiVersions correlation %d error %d" % (hostport, corr, err))
    if min_brokers <= 0 and not want:
        return
    d = call(host, port, 3, 1, struct.pack(">i", 0))      # Metadata v1, no topics
    off = 4
    (n,) = struct.unpack_from(">i", d, off); off += 4
    ids = []
    for _ in range(n):
        nid, hl = struct.unpack_from(">ih", d, off); off += 6 + hl + 4
        (rl,) = struct.unpack_from(">h", d, off); off += 2 + max(rl, 0)
        ids.append(nid)
    if len(ids) < min_brokers:
        raise RuntimeError("%s: metadata lists brokers %s, waiting for %d" % (hostport, sorted(ids), min_brokers))
    if want and int(want) not in ids:
        raise RuntimeError("%s: metadata does not list node %s yet" % (hostport, want))

deadline = time.monotonic() + timeout
last = "no attempt"
while True:
    dead = [p for p in pids if not alive(p)]
    if dead:
        print("process %s exited" % ",".join(map(str, dead)), file=sys.stderr)
        sys.exit(2)
    try:
        for ep in endpoints:
            check(ep)
        sys.exit(0)
    except Exception as e:
        last = "%s: %s" % (type(e).__name__, e)
    if time.monotonic() >= deadline:
        print(last, file=sys.stderr)
        sys.exit(1)
    time.sleep(0.25)
