"""A real authoritative DNS server for the tests: Knot DNS (Debian `knot`)
started on 127.0.0.1 at a free unprivileged port, in a temporary directory,
running as the user who runs the tests, with the zones the test gives.

    with KnotServer({"example.com": ZONE_TEXT, ...}) as ns:
        ns.port, ns.server          # "127.0.0.1:PORT" for --dns-server

Also `DeadServer`: a UDP socket on loopback that reads every query and
never answers (the resolver's timeout path).

Nothing listens beyond loopback, and knotd is stopped (SIGTERM, then
SIGKILL) when the block ends.
"""
import os
import pwd
import grp
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"


def available():
    return os.access(KNOTD, os.X_OK)


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            t.close()
            continue
        t.close()
        u.close()
        return port
    raise RuntimeError("no free port on 127.0.0.1")


def query_soa(port, zone, timeout=0.5):
    """True when the server at port answers a SOA query for zone
    authoritatively (RCODE 0, AA set)."""
    qname = b"".join(bytes([len(l)]) + l.encode() for l in zone.rstrip(".").split(".")) + b"\0"
    msg = struct.pack(">HHHHHH", 0x4242, 0, 1, 0, 0, 0) + qname + struct.pack(">HH", 6, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(msg, ("127.0.0.1", port))
        data, _ = s.recvfrom(4096)
    except OSError:
        return False
    finally:
        s.close()
    return len(data) >= 12 and data[:2] == b"\x42\x42" and (data[3] & 0xf) == 0 and (data[2] & 0x04)


def zone_text(origin, records, serial=1):
    """A zone file: SOA and NS at the apex, then the records (lines in
    zone-file syntax, relative to origin or absolute)."""
    head = ["$ORIGIN %s." % origin.rstrip("."), "$TTL 3600",
            "@ SOA ns.%s. hostmaster.%s. %d 3600 600 86400 300" % (origin, origin, serial),
            "@ NS ns.%s." % origin]
    return "\n".join(head + list(records)) + "\n"


class KnotServer:
    def __init__(self, zones, port=None):
        """zones: {origin: zone file text, or a list of records for zone_text()}."""
        self.zones = {z.rstrip("."): (t if isinstance(t, str) else zone_text(z, t)) for z, t in zones.items()}
        self.port = port
        self.proc = None
        self.dir = None

    @property
    def server(self):
        return "127.0.0.1:%d" % self.port

    def _config(self):
        user = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        lines = [
            "server:",
            "    rundir: \"%s\"" % self.dir,
            "    user: %s:%s" % (user, group),
            "    listen: 127.0.0.1@%d" % self.port,
            "    udp-workers: 1",
            "    tcp-workers: 1",
            "    background-workers: 1",
            "database:",
            "    storage: \"%s/db\"" % self.dir,
            "log:",
            "  - target: \"%s/knot.log\"" % self.dir,
            "    any: info",
            "template:",
            "  - id: default",
            "    storage: \"%s/zones\"" % self.dir,
            "    zonefile-sync: -1",
            "    zonefile-load: whole",
            "    journal-content: none",
            "    semantic-checks: off",
            "zone:",
        ]
        for z in self.zones:
            lines += ["  - domain: %s." % z, "    file: \"%s.zone\"" % z]
        return "\n".join(lines) + "\n"

    def start(self):
        if not available():
            raise RuntimeError("knotd is missing: scripts/install-deps --test installs the knot package")
        self.dir = tempfile.mkdtemp(prefix="dmarcsift-knot-")
        os.makedirs(os.path.join(self.dir, "zones"))
        os.makedirs(os.path.join(self.dir, "db"))
        for z, text in self.zones.items():
            with open(os.path.join(self.dir, "zones", z + ".zone"), "w") as f:
                f.write(text)
        for attempt in range(5):
            if self.port is None or attempt > 0:
                self.port = free_port()
            conf = os.path.join(self.dir, "knot.conf")
            with open(conf, "w") as f:
                f.write(self._config())
            err = open(os.path.join(self.dir, "knotd.stderr"), "wb")
            self.proc = subprocess.Popen([KNOTD, "-c", conf], stdin=subprocess.DEVNULL,
                                         stdout=err, stderr=err)
            err.close()
            first = next(iter(self.zones))
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and self.proc.poll() is None:
                if query_soa(self.port, first):
                    # every zone loaded, not only the first
                    if all(query_soa(self.port, z) for z in self.zones):
                        return self
                time.sleep(0.05)
            self.stop()
        raise RuntimeError("knotd did not start; see %s" % self.log())

    def log(self):
        out = []
        for name in ("knot.log", "knotd.stderr"):
            p = os.path.join(self.dir or "", name)
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    out.append(f.read()[-4000:])
        return "\n".join(out)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cleanup(self):
        self.stop()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()


class DeadServer:
    """A UDP port on 127.0.0.1 that reads every query and never answers."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.queries = 0
        self._stop = False
        self.sock.settimeout(0.2)
        self.thread = threading.Thread(target=self._loop, daemon=True)

    @property
    def server(self):
        return "127.0.0.1:%d" % self.port

    def _loop(self):
        while not self._stop:
            try:
                self.sock.recvfrom(65535)
                self.queries += 1
            except socket.timeout:
                continue
            except OSError:
                return

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop = True
        self.thread.join(2)
        self.sock.close()
