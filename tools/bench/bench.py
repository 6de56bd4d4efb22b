#!/usr/bin/python3
"""Figures for the Oefenkamer Matrix bot, side by side with a matrix-nio
peer (nio_echo.py), in one run on one real Synapse on loopback.

  Latency  one room per bot plus a floor room. A trainee sends one message
           at a time and waits for the answer; the time from just before
           the send to the reply arriving on the trainee's own long-poll
           /sync is one sample. Our room runs a rehearsal (moeder-brief,
           restarted when an ending is reached) fed with the trainee lines
           of tests/data/dialogues/moeder-brief.*.txt; the peer gets the same
           lines. The floor is one human's message arriving on another
           human's /sync: one hop through the homeserver, no bot. The
           three are interleaved message by message, so that a slower
           moment of the homeserver hits all three alike.
           "Inside the bot" is measured on the wire: a passive packet
           capture on the loopback interface (AF_PACKET, kernel time
           stamps, nothing in the path) notes when the trainee's PUT
           leaves, when the /sync response holding it reaches the bot's
           socket, when the bot's PUT .../send/m.room.message leaves and
           when the /sync response with the reply reaches the trainee:
           trainee->bot, inside the bot, bot->trainee. Latency minus
           floor is printed too: it is the inside time plus one more hop
           (the reply's own trip through the homeserver).
  Load     ROOMS rooms with one trainee each; every trainee sends PER_ROOM
           messages at once, as fast as the homeserver takes them; first
           for our bot, then for the peer. Peak resident memory (VmHWM,
           reset with /proc/PID/clear_refs after the rooms are set up;
           anonymous, file-backed and private memory sampled every 20 ms)
           and CPU seconds (utime+stime) of each bot process from the
           first send until it has fallen quiet, and a check that every
           message was answered (our bot: also in its store).
           Then `oefenkamer bench libs`: the bot binary using each of its
           four libraries once (libcurl, SQLite, jansson, libolm) and
           nothing else; its peak RSS is a floor under the bot's.

  Scale    (--scale N1,N2,...) rooms added in steps to the one running
           bot process: at each step the rooms up to N are made (few
           owners make many rooms each: registering hashes a password,
           and a room costs Synapse far more than anything else here),
           the bot joins and greets them, and once it is quiet its
           anonymous memory (RssAnon) is read: "idle". --scale-active
           rooms (the first ones) run a rehearsal; at every step each of
           them gets --scale-lines trainee lines (default 5), in rounds
           of one line in every one of them at once: CPU per answered
           message (the median of the rounds: a round of 100 lines is
           about 0.1 s of CPU, and one round alone was noise on a
           shared machine), the bot's wakeups per message, the peak
           anonymous memory while answering, and "all answered"
           (replies seen, and in the store). The peer gets
           rooms of its own (it would echo our bot) up to --scale-peer.
           Printed: memory per step, the per-room slope between steps
           (idle rooms) and per rehearsal, CPU per message.

Typing is off and gather_ms is 0 for our bot, so it answers at once.
Benchmarks report, they do not assert: the exit status is non-zero only
if something broke (a message went unanswered, a process died).

    bench.py [--messages N] [--warmup N] [--rooms N] [--per-room N]
             [--port N] [--no-wire] [--skip-latency] [--skip-load]
             [--keep] [--samples FILE]
             [--scale N,N,... [--scale-peer N] [--scale-active N]
              [--scale-lines N] [--scale-owners N]]

OEF_BIN names the bot binary (default build/oefenkamer).

Needs root (Synapse in a chroot, packet capture, clear_refs) and
python3-matrix-nio (bench.sh installs it). Run with /usr/bin/python3.
"""
import argparse
import ctypes
import glob
import hashlib
import hmac
import http.client
import importlib
import importlib.metadata
import json
import math
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SYNAPSE = os.path.join(ROOT, "tools", "synapse.sh")
STATE = os.environ.get("OEF_SYNAPSE_STATE",
                       os.path.join(ROOT, "build", "synapse"))
BIN = os.environ.get("OEF_BIN", os.path.join(ROOT, "build", "oefenkamer"))
PYTHON = "/usr/bin/python3"          # Debian's, with python3-matrix-nio
INSTANCE = "bench"
SCENARIO = "moeder-brief"
BOT_CMD_BURST = 6                    # bot/bot.h: commands per user at once
CLIENT = "/_matrix/client/v3"

# What our test clients sync: messages (and joins, for the watcher), no
# presence, receipts or typing, so that a long poll returns for a message.
FILTER = json.dumps({
    "presence": {"types": []},
    "account_data": {"types": []},
    "room": {"timeline": {"limit": 200,
                          "types": ["m.room.message", "m.room.member"]},
             "state": {"lazy_load_members": True, "types": []},
             "ephemeral": {"types": []},
             "account_data": {"types": []}}}, separators=(",", ":"))


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr,
          flush=True)


class Broken(Exception):
    """Something the benchmark needs did not work."""


def sh(*args, check=True):
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if check and r.returncode != 0:
        raise Broken(f"{' '.join(args[:3])}: {r.stderr.strip()[-500:]}")
    return r.stdout.strip()


def write_secret(path, data):
    """data (bytes) into a new file only its owner can read."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(path, 0o600)


def version(dist):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def preflight(name, why_root, modules=("nio",)):
    """Exit unless the bot is built, we are root and the Python modules
    are Debian's (nio first: its path is checked)."""
    if not os.access(BIN, os.X_OK):
        sys.exit(f"{BIN}: not built (make)")
    if os.geteuid() != 0:
        sys.exit(f"{name}: needs root ({why_root})")
    try:
        mods = [importlib.import_module(m) for m in modules]
    except ImportError as e:
        sys.exit(f"{name}: {e}; install Debian's python3-matrix-nio "
                 "(bench.sh does) and run with /usr/bin/python3")
    if not mods[0].__file__.startswith("/usr/lib/python3/"):
        sys.exit(f"{name}: {modules[0]} comes from {mods[0].__file__}, not "
                 "from Debian's python3-matrix-nio; run with /usr/bin/python3")


def proc_cpu(pid):
    """utime + stime of a process in seconds (NaN once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_schedstat(pid, field):
    """A field of /proc/PID/task/*/schedstat summed over the process's
    live threads (0: nanoseconds on a CPU; 2: times put on a CPU), or
    None where schedstat is missing."""
    total = 0
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                total += int(f.read().split()[field])
    except (OSError, ValueError, IndexError):
        return None
    return total


def proc_cpu_exact(pid):
    """CPU seconds of a process's live threads from the scheduler's own
    count (/proc/PID/task/*/schedstat, nanoseconds), not utime+stime in
    10 ms ticks: 100 messages at about a millisecond each are 10 ticks.
    Falls back to proc_cpu where schedstat is missing."""
    ns = proc_schedstat(pid, 0)
    return proc_cpu(pid) if ns is None else ns / 1e9


def proc_runs(pid):
    """Times a process's live threads were put on a CPU: for a
    single-threaded event loop, its wakeups (a poll() that returned, a
    batch it handled). None where schedstat is missing."""
    return proc_schedstat(pid, 2)


def callgrind_wrap(args):
    """OEF_BENCH_CALLGRIND=DIR: our bot runs under valgrind's callgrind
    with instrumentation off; Profile switches it on for each answering
    phase of the scale run and dumps DIR/callgrind.out.PID.N (instructions
    per phase: exact, whatever else runs on the machine). The figures of
    such a run are not the bot's (valgrind is many times slower)."""
    d = os.environ.get("OEF_BENCH_CALLGRIND")
    if not d:
        return args
    os.makedirs(d, exist_ok=True)
    return ["valgrind", "--tool=callgrind", "--instr-atstart=no",
            f"--callgrind-out-file={d}/callgrind.out.%p"] + args


def heap_dump(pid, what):
    """OEF_BENCH_HEAP=DIR: the process's memory map (DIR/smaps-WHAT) and,
    through gdb, glibc's own account of its heap (DIR/malloc-WHAT.xml,
    malloc_info: per arena, what is in use, free in bins, or at the top).
    For finding where anonymous memory goes; gdb stops the process for
    a moment, so not for figures."""
    d = os.environ.get("OEF_BENCH_HEAP")
    if not d:
        return
    os.makedirs(d, exist_ok=True)
    try:
        shutil.copyfile(f"/proc/{pid}/smaps", os.path.join(d, f"smaps-{what}"))
    except OSError as e:
        log(f"heap dump: {e}")
    out = os.path.join(d, f"malloc-{what}.xml")
    if shutil.which("gdb"):
        subprocess.run(
            ["gdb", "-p", str(pid), "-batch", "-nx",
             "-ex", f'set $f = (void *) fopen("{out}", "w")',
             "-ex", "call (int) malloc_info(0, $f)",
             "-ex", "call (int) fclose($f)"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            timeout=120)


class Profile:
    """perf record on a process (OEF_BENCH_PERF=DIR: the scale run's
    answering phases, DIR/perf-NAME-ROOMS.data; `perf report -i` reads
    them). Not for figures: perf costs the process CPU. Under callgrind
    (callgrind_wrap, our bot only): instrumentation on for the phase,
    then a dump named after it."""

    def __init__(self, pid, what):
        self.p = None
        self.cg = None
        if os.environ.get("OEF_BENCH_CALLGRIND") and \
                what.startswith("oefenkamer"):
            self.cg = (pid, what)
            sh("callgrind_control", "-i", "on", str(pid))
        d = os.environ.get("OEF_BENCH_PERF")
        if not d or not shutil.which("perf"):
            return
        os.makedirs(d, exist_ok=True)
        out = os.path.join(d, f"perf-{what}.data")
        self.p = subprocess.Popen(
            ["perf", "record", "-q", "-F", "2999", "-g", "-p", str(pid),
             "-o", out], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        time.sleep(0.5)      # perf attaches before the messages go

    def stop(self):
        if self.p:
            self.p.send_signal(signal.SIGINT)
            self.p.wait()
        if self.cg:
            pid, what = self.cg
            sh("callgrind_control", "-d", what, str(pid))
            sh("callgrind_control", "-i", "off", str(pid))


class MatrixError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status


# --- a small keep-alive Matrix client ---------------------------------------

class Conn:
    """One keep-alive HTTP connection to the homeserver, for one thread.
    Reconnects after a transport error and retries (sends use fixed
    transaction ids, so a retried PUT is deduplicated); waits out 429."""

    def __init__(self, port, token=None, timeout=60):
        self.port = port
        self.token = token
        self.timeout = timeout
        self.c = None
        self.t_read = 0.0     # monotonic time the last response was read

    def close(self):
        if self.c:
            self.c.close()
            self.c = None

    def abort(self):
        """From another thread: break a blocking long poll."""
        c = self.c
        if c and c.sock:
            try:
                c.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def req(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        fails = 0
        while True:
            try:
                if self.c is None:
                    self.c = http.client.HTTPConnection(
                        "127.0.0.1", self.port, timeout=self.timeout)
                self.c.request(method, path, body=data, headers=headers)
                r = self.c.getresponse()
                raw = r.read()
                self.t_read = time.monotonic()
            except (OSError, http.client.HTTPException):
                self.close()
                fails += 1
                if fails > 20:
                    raise
                time.sleep(min(0.05 * fails, 1.0))
                continue
            try:
                out = json.loads(raw or b"{}")
            except ValueError:
                out = {"error": raw[:200].decode(errors="replace")}
            if r.status == 429:
                time.sleep(out.get("retry_after_ms", 500) / 1000)
                continue
            if r.status != 200:
                raise MatrixError(r.status, out)
            return out


def q(s):
    return urllib.parse.quote(s, safe="")


class User:
    _txn = 0
    _lock = threading.Lock()

    def __init__(self, port, user_id, token):
        self.port = port
        self.user_id = user_id
        self.token = token
        self._local = threading.local()

    @property
    def conn(self):
        c = getattr(self._local, "conn", None)
        if c is None:
            c = self._local.conn = Conn(self.port, self.token)
        return c

    @classmethod
    def txn(cls):
        with cls._lock:
            cls._txn += 1
            return f"b{os.getpid()}-{cls._txn}"

    def send(self, room, body):
        return self.send_txn(room, body)[0]

    def send_txn(self, room, body):
        """(event id, transaction id)"""
        txn = self.txn()
        return self.conn.req(
            "PUT", f"{CLIENT}/rooms/{q(room)}/send/m.room.message/{txn}",
            {"msgtype": "m.text", "body": body})["event_id"], txn

    def create_room(self, invite):
        return self.conn.req("POST", CLIENT + "/createRoom", {
            "preset": "private_chat", "invite": list(invite)})["room_id"]

    def invite(self, room, user_id):
        self.conn.req("POST", f"{CLIENT}/rooms/{q(room)}/invite",
                      {"user_id": user_id})

    def join(self, room):
        self.conn.req("POST", f"{CLIENT}/join/{q(room)}", {})


class Sync(threading.Thread):
    """A dedicated long-poll /sync loop for one user. Every timeline
    event is kept per room with the monotonic time its response was
    read."""

    def __init__(self, user, name):
        super().__init__(name=name, daemon=True)
        self.user = user
        self.conn = Conn(user.port, user.token, timeout=120)
        self.cond = threading.Condition()
        self.rooms = {}        # room -> [(t, event)]
        self.ids = {}          # event_id -> t
        self.error = None
        self.stopping = False
        self.synced = threading.Event()
        self.since = None      # the newest next_batch

    def run(self):
        since = None
        try:
            while not self.stopping:
                query = {"filter": FILTER,
                         "timeout": "30000" if since else "0"}
                if since:
                    query["since"] = since
                r = self.conn.req("GET", CLIENT + "/sync?" +
                                  urllib.parse.urlencode(query))
                t = self.conn.t_read
                since = self.since = r["next_batch"]
                joined = r.get("rooms", {}).get("join", {})
                with self.cond:
                    for room, data in joined.items():
                        evs = data.get("timeline", {}).get("events", [])
                        lst = self.rooms.setdefault(room, [])
                        for e in evs:
                            lst.append((t, e))
                            if "event_id" in e:
                                self.ids.setdefault(e["event_id"], t)
                    self.cond.notify_all()
                self.synced.set()
        except Exception as e:     # noqa: BLE001 - reported by wait()
            if not self.stopping:
                self.error = e
                with self.cond:
                    self.cond.notify_all()

    def stop(self):
        self.stopping = True
        self.conn.abort()

    def wait(self, pred, timeout, what):
        """Wait until pred() (called with the lock held) is true."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                v = pred()
                if v:
                    return v
                if self.error:
                    raise Broken(f"{self.name}: sync failed: {self.error}")
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"timed out waiting for {what}")
                self.cond.wait(left)

    def after(self, room, event_id, sender, msgtype=None):
        """Events from sender after event_id in room (lock held)."""
        lst = self.rooms.get(room, [])
        out = []
        seen = event_id is None
        for t, e in lst:
            if not seen:
                seen = e.get("event_id") == event_id
                continue
            if e.get("type") != "m.room.message" or \
                    e.get("sender") != sender:
                continue
            if msgtype and e.get("content", {}).get("msgtype") != msgtype:
                continue
            out.append((t, e))
        return out if seen else []

    def last_from(self, room, sender):
        for t, e in reversed(self.rooms.get(room, [])):
            if e.get("sender") == sender:
                return t
        return 0.0

    def joined(self, room, user_id):
        for _, e in self.rooms.get(room, []):
            if e.get("type") == "m.room.member" and \
                    e.get("state_key") == user_id and \
                    e.get("content", {}).get("membership") == "join":
                return True
        return False


def stream_pos(token):
    """The events stream position in a Synapse sync token (its first
    part, "s1234_..."), or None: the same counter for every user, so a
    user's token can be compared with another's."""
    m = re.match(r"s(\d+)_", token or "")
    return int(m.group(1)) if m else None


# --- the homeserver ----------------------------------------------------------

def fast_state():
    """Where --fast-synapse keeps the instance: on tmpfs, one directory
    per checkout (two worktrees' benches do not share one)."""
    tag = hashlib.sha1(ROOT.encode()).hexdigest()[:10]
    return f"/dev/shm/oefenkamer-bench-{tag}"


class Homeserver:
    def __init__(self, port, fast=False, keep=False):
        """fast: Synapse's database on tmpfs and its bookkeeping that no
        bench reads off (tools/synapse.sh start --bench): the scale run
        waits for Synapse to make rooms, not for our bot."""
        global STATE
        self.port = port
        self.started = False
        args = ["bash", SYNAPSE, "start", INSTANCE, "--port", str(port)]
        if fast:
            if "OEF_SYNAPSE_STATE" not in os.environ:
                STATE = os.environ["OEF_SYNAPSE_STATE"] = fast_state()
            args.append("--bench")
        if keep:
            args.append("--keep")     # the database put there already
        out = sh(*args)
        self.started = True
        self.url = out.splitlines()[-1]
        d = os.path.join(STATE, INSTANCE)
        with open(os.path.join(d, "registration_shared_secret")) as f:
            self.secret = f.read().strip()
        with open(os.path.join(d, "pid")) as f:
            self.pid = int(f.read().strip())

    def register(self, local, password):
        """Register through the shared-secret admin API; returns a User
        (the API hands out an access token, so no login is needed)."""
        c = Conn(self.port)
        path = "/_synapse/admin/v1/register"
        nonce = c.req("GET", path)["nonce"]
        mac = hmac.new(self.secret.encode(), b"\x00".join(
            x.encode() for x in (nonce, local, password, "notadmin")),
            hashlib.sha1)
        r = c.req("POST", path, {"nonce": nonce, "username": local,
                                 "password": password, "admin": False,
                                 "mac": mac.hexdigest()})
        c.close()
        return User(self.port, r["user_id"], r["access_token"])

    def stop(self):
        if self.started:
            sh("bash", SYNAPSE, "stop", INSTANCE, check=False)
            self.started = False


def synapse_version():
    """matrix-synapse's package version in the cached chroot."""
    chroot = os.environ.get("OEF_SYNAPSE_CHROOT",
                            "/var/cache/oefenkamer/synapse-sid")
    try:
        with open(os.path.join(chroot, "var/lib/dpkg/status"),
                  encoding="utf-8") as f:
            for para in f.read().split("\n\n"):
                if "Package: matrix-synapse\n" in para + "\n":
                    m = re.search(r"^Version: (\S+)", para, re.M)
                    return m.group(1) if m else "?"
    except OSError:
        pass
    return "?"


def parallel(fn, items, workers=16):
    """Run fn over items in threads; re-raise the first failure."""
    items = list(items)
    out = [None] * len(items)
    errors = []
    lock = threading.Lock()
    nxt = [0]

    def work():
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= len(items) or errors:
                return
            try:
                out[i] = fn(items[i])
            except Exception as e:  # noqa: BLE001
                errors.append(e)

    ts = [threading.Thread(target=work) for _ in range(workers)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise errors[0]
    return out


def at_once(n, user_of, fn, before=None):
    """fn(i) for i in range(n), each in a thread of its own whose
    keep-alive connection (user_of(i)'s) is open already, all released
    at one moment; before() runs just before the release. Returns the
    monotonic time of the release, once every fn has returned; the
    first failure is raised as Broken."""
    barrier = threading.Barrier(n + 1)
    errors = []

    def run(i):
        try:
            user_of(i).conn.req("GET", CLIENT + "/account/whoami")
            barrier.wait()
            fn(i)
        except Exception as e:  # noqa: BLE001
            errors.append(e)
            barrier.abort()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    if before:
        before()
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        pass
    t0 = time.monotonic()
    for th in threads:
        th.join()
    if errors:
        raise Broken(f"sending failed: {errors[0]}")
    return t0


# --- the scale run's rooms, made once ---------------------------------------

class RoomCache:
    """--room-cache DIR: the scale run's rooms, made once on a Synapse of
    their own and kept as that Synapse's instance directory (database,
    keys, secrets) plus rooms.json (the owners' ids and access tokens,
    each room's owner). A run restores the copy and starts Synapse on
    it; at each step the owners invite the bot into the next rooms, so
    what the bot does (invite, join, greeting, the rehearsals) is the
    same as with rooms made in the run, but Synapse's most expensive
    call (createRoom: seven events each) is not made again. The bots
    are registered fresh in every run. Everything is 0600/0700: the
    tokens are secrets (of a throwaway homeserver, never logged)."""

    VERSION = 1

    def __init__(self, path, ours, peer, owners):
        self.path = os.path.abspath(path)
        self.want = {"version": self.VERSION, "synapse": synapse_version(),
                     "owners": owners}
        self.ours, self.peer = ours, peer
        self.meta = None

    def _load(self):
        try:
            with open(os.path.join(self.path, "rooms.json")) as f:
                m = json.load(f)
        except (OSError, ValueError):
            return None
        if any(m.get(k) != v for k, v in self.want.items()):
            return None
        if len(m["ours"]) < self.ours or len(m["peer"]) < self.peer:
            return None
        return m

    def ready(self):
        self.meta = self._load()
        return self.meta is not None

    def make(self, port):
        """A fresh Synapse (tmpfs, --bench); owners registered; the rooms
        made with nobody invited and no client syncing (a sync woken by
        every new event costs Synapse a third more per room); Synapse
        stopped cleanly and its directory copied."""
        log(f"room cache: making {self.ours} + {self.peer} rooms in "
            f"{self.path} (once; later runs reuse them)")
        t0 = time.monotonic()
        hs = Homeserver(port, fast=True)
        try:
            pw = "owner-" + os.urandom(8).hex()
            n = self.want["owners"]
            users = parallel(lambda i: hs.register(f"scale-{i:03d}", pw),
                             range(n), workers=4)
            total = self.ours + self.peer
            done = [0]
            lock = threading.Lock()

            def make(i):
                k = i % n
                room = users[k].create_room([])
                with lock:
                    done[0] += 1
                    if done[0] % 500 == 0:
                        log(f"room cache: {done[0]}/{total} rooms, "
                            f"{time.monotonic() - t0:.0f} s")
                return [k, room]
            rooms = parallel(make, range(total), workers=12)
            for u in users:
                u.conn.close()
            sh("bash", SYNAPSE, "kill", INSTANCE, "--term")
            hs.started = False
            tmp = self.path + ".new"
            shutil.rmtree(tmp, ignore_errors=True)
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            shutil.copytree(os.path.join(STATE, INSTANCE),
                            os.path.join(tmp, "instance"), symlinks=True)
            meta = dict(self.want, made_s=round(time.monotonic() - t0),
                        users=[[u.user_id, u.token] for u in users],
                        ours=rooms[:self.ours], peer=rooms[self.ours:])
            os.chmod(tmp, 0o700)
            write_secret(os.path.join(tmp, "rooms.json"),
                         json.dumps(meta).encode())
            shutil.rmtree(self.path, ignore_errors=True)
            os.rename(tmp, self.path)
        finally:
            sh("bash", SYNAPSE, "stop", INSTANCE, check=False)
        log(f"room cache: made in {time.monotonic() - t0:.0f} s")
        self.meta = self._load()
        if self.meta is None:
            raise Broken("room cache: unreadable right after making it")

    def restore(self):
        """The instance directory back where synapse.sh looks for it."""
        d = os.path.join(STATE, INSTANCE)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(STATE, exist_ok=True)
        shutil.copytree(os.path.join(self.path, "instance"), d,
                        symlinks=True)
        os.chmod(d, 0o700)


# --- processes ---------------------------------------------------------------

class Proc:
    """A bot process, with /proc figures."""

    def __init__(self, name, args, logpath, **kw):
        self.name = name
        self.logpath = logpath
        logf = open(logpath, "ab")
        self.p = subprocess.Popen(args, stdout=logf, stderr=logf, **kw)
        logf.close()
        self.pid = self.p.pid

    def alive(self):
        return self.p.poll() is None

    def cpu(self):
        return proc_cpu(self.pid)

    def cpu_exact(self):
        return proc_cpu_exact(self.pid)

    def runs(self):
        return proc_runs(self.pid)

    def read_bytes(self):
        """Bytes the process has read with read(2) and its kin (rchar in
        /proc/PID/io): for our bot the store's pages and files. Not the
        network: libcurl (and Python's asyncio) receive with recv(),
        which rchar does not count."""
        try:
            with open(f"/proc/{self.pid}/io") as f:
                for line in f:
                    if line.startswith("rchar:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def status(self, key):
        """A kB figure from /proc/PID/status (VmRSS, VmHWM)."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return 0

    def reset_peak(self):
        """Reset VmHWM to the current RSS (Linux clear_refs 5)."""
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    def tail(self, n=3000):
        """The last n characters of its log (n None: all of it)."""
        try:
            with open(self.logpath, encoding="utf-8",
                      errors="replace") as f:
                return f.read()[-n:] if n else f.read()
        except OSError:
            return ""

    def stop(self):
        if self.alive():
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


class RssSampler(threading.Thread):
    """Samples the memory of one process every 20 ms: resident (VmRSS),
    anonymous (RssAnon: heap, stacks), and private (USS: pages no other
    process shares, from smaps_rollup). A second view of the peak, and
    what the shared libraries make of it."""

    def __init__(self, proc, every=0.02):
        super().__init__(daemon=True)
        self.proc = proc
        self.every = every
        self.peak = {"VmRSS": 0, "RssAnon": 0, "RssFile": 0, "USS": 0}
        self.stopping = False

    def sample(self):
        pid = self.proc.pid
        got = {}
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k = line.split(":", 1)[0]
                if k in ("VmRSS", "RssAnon", "RssFile"):
                    got[k] = int(line.split()[1])
        uss = 0
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(("Private_Clean:", "Private_Dirty:")):
                    uss += int(line.split()[1])
        got["USS"] = uss
        for k, v in got.items():
            self.peak[k] = max(self.peak[k], v)

    def run(self):
        while not self.stopping:
            try:
                self.sample()
            except OSError:
                pass
            time.sleep(self.every)


# --- the wire: when the bot got the event and when it answered ---------------

EID = re.compile(rb"\$[A-Za-z0-9_\-+/]{20,64}")
SO_ATTACH_FILTER = 26
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def bpf_tcp_port(port):
    """Classic BPF for 'tcp port PORT' on IPv4 over Ethernet framing
    (what tcpdump -dd prints), so only the homeserver's traffic is
    copied to us."""
    ins = [
        (0x28, 0, 0, 12), (0x15, 0, 10, 0x800),     # IPv4?
        (0x30, 0, 0, 23), (0x15, 0, 8, 6),          # TCP?
        (0x28, 0, 0, 20), (0x45, 6, 0, 0x1fff),     # not a fragment
        (0xb1, 0, 0, 14),                           # x = IP header len
        (0x48, 0, 0, 14), (0x15, 2, 0, port),       # sport
        (0x48, 0, 0, 16), (0x15, 0, 1, port),       # dport
        (0x06, 0, 0, 262144), (0x06, 0, 0, 0)]
    return b"".join(struct.pack("HBBI", *i) for i in ins), len(ins)


class Wire(threading.Thread):
    """Passive capture on lo: for the TCP connections of the given
    processes (the bots and this driver), the kernel time stamp of the
    first /sync response segment carrying an event id, and of each
    PUT .../send/m.room.message request."""

    def __init__(self, port, procs):
        super().__init__(daemon=True, name="wire")
        self.port = port
        self.procs = procs            # name -> pid
        self.owner_of = {}            # local port -> name or None
        self.checked = {}             # port -> when a miss was cached
        self.got = {}                 # (name, event_id) -> ts
        self.sends = {n: [] for n in procs}   # name -> [(ts, path)]
        self.lock = threading.Lock()
        self.stopping = False
        self.packets = 0
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                               socket.htons(ETH_P_ALL))
        prog, n = bpf_tcp_port(port)
        self._prog = ctypes.create_string_buffer(prog)
        fprog = struct.pack("HL", n, ctypes.addressof(self._prog))
        self.s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
        self.s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
        self.s.bind(("lo", ETH_P_ALL))
        self.s.settimeout(0.5)

    def _refresh(self):
        inode_port = {}
        for path in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(path) as f:
                    next(f)
                    for line in f:
                        p = line.split()
                        inode_port[p[9]] = int(p[1].rsplit(":", 1)[1], 16)
            except OSError:
                pass
        owners = {}
        for name, pid in self.procs.items():
            for fd in glob.glob(f"/proc/{pid}/fd/*"):
                try:
                    link = os.readlink(fd)
                except OSError:
                    continue
                if link.startswith("socket:["):
                    port = inode_port.get(link[8:-1])
                    if port:
                        owners[port] = name
        self.owner_of = owners

    def owner(self, port):
        name = self.owner_of.get(port)
        if name:
            return name
        now = time.monotonic()
        if now - self.checked.get(port, -10) < 1.0:
            return None
        self._refresh()
        self.checked[port] = now
        return self.owner_of.get(port)

    def run(self):
        while not self.stopping:
            try:
                pkt, anc, _, addr = self.s.recvmsg(
                    262144, socket.CMSG_SPACE(16))
            except socket.timeout:
                continue
            except OSError:
                return
            if addr[2] == PACKET_OUTGOING:
                continue             # lo shows each packet twice
            ts = None
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", data[:16])
                    ts = sec + nsec / 1e9
            if ts is None:
                ts = time.time()
            self.packets += 1
            self._packet(pkt, ts)

    def _packet(self, pkt, ts):
        if len(pkt) < 34 or pkt[12:14] != b"\x08\x00" or pkt[23] != 6:
            return
        ihl = (pkt[14] & 15) * 4
        tcp = 14 + ihl
        sport, dport = struct.unpack("!HH", pkt[tcp:tcp + 4])
        payload = pkt[tcp + (pkt[tcp + 12] >> 4) * 4:]
        if not payload:
            return
        if sport == self.port:
            if b"$" not in payload or b'"timeline"' not in payload:
                return          # not a /sync response with events
            name = self.owner(dport)
            if not name:
                return
            with self.lock:
                for m in EID.finditer(payload):
                    self.got.setdefault((name, m.group().decode()), ts)
        elif dport == self.port and payload.startswith(b"PUT "):
            line = payload.split(b"\r\n", 1)[0]
            if b"/send/m.room.message/" not in line:
                return
            name = self.owner(sport)
            if name:
                with self.lock:
                    self.sends[name].append(
                        (ts, urllib.parse.unquote(line.decode())))

    def sent(self, name, txn):
        """When name's PUT with this transaction id left, or None."""
        needle = f"/send/m.room.message/{txn} "
        with self.lock:
            for t, line in self.sends[name]:
                if needle in line:
                    return t
        return None

    def answered(self, name, event_id, room):
        """When name's first reply into room left after event_id reached
        name on /sync, or None."""
        with self.lock:
            t1 = self.got.get((name, event_id))
            if t1 is None:
                return None
            for t2, line in self.sends[name]:
                if t2 >= t1 and f"/rooms/{room}/send/" in line:
                    return t2
        return None

    def seen(self, name, event_id):
        with self.lock:
            return self.got.get((name, event_id))

    def legs(self, bot, txn, event_id, room, reply_id):
        """The trip of one message on the wire, in seconds: trainee's
        PUT -> bot's /sync (hop1), -> bot's PUT (inside), -> trainee's
        /sync (hop2). Missing legs are None."""
        t0 = self.sent("driver", txn)
        t1 = self.seen(bot, event_id)
        t2 = self.answered(bot, event_id, room)
        t3 = self.seen("driver", reply_id)

        def d(a, b):
            return b - a if a is not None and b is not None else None
        return {"hop1": d(t0, t1), "inside": d(t1, t2), "hop2": d(t2, t3),
                "wire": d(t0, t3)}

    def stop(self):
        self.stopping = True
        self.s.close()


# --- statistics --------------------------------------------------------------

def pct(xs, p):
    """Nearest-rank percentile."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def ms(x):
    return "n/a" if x is None or x != x else f"{x * 1000:.2f}"


# --- the benchmark -----------------------------------------------------------

def dialogue_lines():
    """[(dialogue index, line)] of every moeder-brief dialogue."""
    out = []
    files = sorted(glob.glob(os.path.join(ROOT, "tests", "data", "dialogues",
                                          SCENARIO + ".*.txt")))
    for i, path in enumerate(files):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    out.append((i, line))
    if not out:
        raise Broken(f"no dialogues for {SCENARIO} in tests/data/dialogues")
    return out


def load_lines():
    """Trainee lines for the load: a good conversation without its
    closing lines, so that no rehearsal ends halfway through the load
    (a message after an ending is logged by nobody and answered by
    nobody, as it should be)."""
    path = os.path.join(ROOT, "tests", "data", "dialogues",
                        SCENARIO + ".sandra-doet-mee.lang.txt")
    with open(path, encoding="utf-8") as f:
        lines = [l.strip() for l in f
                 if l.strip() and not l.startswith("#")]
    return lines[:-4]


class BotStore:
    """Looks into the bot's store (self.store, its path) while it runs."""

    def db(self):
        return sqlite3.connect(self.store, timeout=10)

    def meta(self, key):
        try:
            with self.db() as d:
                r = d.execute("SELECT value FROM meta WHERE key = ?",
                              (key,)).fetchone()
            return r[0] if r else None
        except sqlite3.Error:
            return None

    def outbox(self):
        with self.db() as d:
            return d.execute("SELECT count(*) FROM outbox").fetchone()[0]


class Bench(BotStore):
    def __init__(self, args):
        self.a = args
        self.dir = tempfile.mkdtemp(prefix="oef-bench-")
        self.password = "bench-" + os.urandom(8).hex()
        self.hs = None
        self.ours = self.peer = None
        self.syncs = []
        self.wire = None
        self.broken = []       # what went wrong (exit non-zero)
        self.res = {}

    # -- setup --

    def start(self):
        a = self.a
        self.t0 = time.monotonic()
        self.cache = None
        if a.room_cache and a.scale:
            counts = sorted(set(a.scale))
            peer = max([n for n in counts if n <= a.scale_peer] or [0])
            n_act = min(a.scale_active, counts[0])
            self.cache = RoomCache(a.room_cache, counts[-1], peer,
                                   self.n_owners(n_act))
            if not self.cache.ready():
                self.cache.make(a.port)
            if a.fast_synapse:
                os.environ.setdefault("OEF_SYNAPSE_STATE", fast_state())
                global STATE
                STATE = os.environ["OEF_SYNAPSE_STATE"]
            self.cache.restore()
            log(f"room cache: {len(self.cache.meta['ours'])} + "
                f"{len(self.cache.meta['peer'])} rooms from {a.room_cache} "
                f"(made in {self.cache.meta['made_s']} s)")
        log(f"starting Synapse '{INSTANCE}' on port {self.a.port}")
        self.hs = Homeserver(self.a.port, self.a.fast_synapse,
                             keep=self.cache is not None)
        self.bot_user = self.hs.register("oefenkamer", self.password)
        self.nio_user = self.hs.register("nio", self.password)
        pw = os.path.join(self.dir, "password")
        write_secret(pw, (self.password + "\n").encode())
        self.store = os.path.join(self.dir, "bot.db")
        cfg = {
            "homeserver": self.hs.url,
            "user_id": self.bot_user.user_id,
            "password_file": pw,
            "device_name": "Oefenkamer",
            "store": self.store,
            "scripts_dir": os.path.join(ROOT, "scripts"),
            "personas_dir": os.path.join(ROOT, "personas"),
            "invites": {"allow": ["@*:localhost"]},
            "typing": {"enabled": False, "chars_per_second": 200,
                       "min_ms": 0, "max_ms": 0},
            "gather_ms": 0,
        }
        config = os.path.join(self.dir, "config.json")
        with open(config, "w") as f:
            json.dump(cfg, f)
        self.ours = Proc("oefenkamer", callgrind_wrap(
            [BIN, "run", "--config", config]),
                         os.path.join(self.dir, "bot.log"))
        self.peer = Proc("nio", [PYTHON, os.path.join(HERE, "nio_echo.py"),
                                 self.hs.url, self.nio_user.user_id, pw],
                         os.path.join(self.dir, "nio.log"))
        # our bot has done its first sync once it stored a sync token
        first = 600 if os.environ.get("OEF_BENCH_CALLGRIND") else 60
        end = time.monotonic() + first
        while self.meta("sync_token") is None:
            self.check_alive()
            if time.monotonic() > end:
                raise Broken(f"our bot did not sync within {first} s")
            time.sleep(0.1)
        end = time.monotonic() + 60
        while "ready" not in self.peer.tail():
            self.check_alive()
            if time.monotonic() > end:
                raise Broken("the nio bot did not log in within 60 s")
            time.sleep(0.1)
        log(f"bots running: oefenkamer pid {self.ours.pid}, "
            f"nio pid {self.peer.pid}")

    def check_alive(self):
        for p in (self.ours, self.peer):
            if p and not p.alive():
                raise Broken(f"{p.name} exited ({p.p.returncode}):\n"
                             f"{p.tail()}")


    def sync_for(self, user, name):
        s = Sync(user, name)
        s.start()
        self.syncs.append(s)
        if not s.synced.wait(60):
            raise Broken(f"{name}: no initial sync")
        return s

    def quiet(self, s, room, sender, quiet=0.15, timeout=30):
        """Until nothing new from sender in room for `quiet` s (and, for
        our bot, its outbox is empty)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with s.cond:
                last = s.last_from(room, sender)
            if sender == self.bot_user.user_id and self.outbox():
                time.sleep(0.02)
                continue
            wait = last + quiet - time.monotonic()
            if wait <= 0:
                return
            time.sleep(wait)
        raise TimeoutError(f"{sender} kept talking in {room}")

    # -- latency --

    def rehearse(self, trainee, s, room, cmd):
        """Send a command that (re)starts the rehearsal; wait for the
        persona's opening and for the bot to fall quiet."""
        bot = self.bot_user.user_id
        eid = trainee.send(room, cmd)
        s.wait(lambda: s.after(room, eid, bot, "m.text"), 30,
               f"opening after {cmd}")
        self.quiet(s, room, bot)

    def latency(self):
        a = self.a
        bot, nio = self.bot_user.user_id, self.nio_user.user_id
        t_ours = self.hs.register("lat-ours", self.password)
        t_nio = self.hs.register("lat-nio", self.password)
        f_a = self.hs.register("floor-a", self.password)
        f_b = self.hs.register("floor-b", self.password)
        s_ours = self.sync_for(t_ours, "sync lat-ours")
        s_nio = self.sync_for(t_nio, "sync lat-nio")
        s_floor = self.sync_for(f_b, "sync floor-b")
        r_ours = t_ours.create_room([bot])
        r_nio = t_nio.create_room([nio])
        r_floor = f_a.create_room([f_b.user_id])
        f_b.join(r_floor)
        s_ours.wait(lambda: s_ours.after(r_ours, None, bot, "m.notice"),
                    30, "our bot's greeting")
        s_nio.wait(lambda: s_nio.joined(r_nio, nio), 30, "nio joining")
        s_floor.wait(lambda: s_floor.joined(r_floor, f_b.user_id), 30,
                     "floor-b joining")
        self.rehearse(t_ours, s_ours, r_ours, "!start " + SCENARIO)

        if not a.no_wire:
            try:
                self.wire = Wire(self.hs.port, {"oefenkamer": self.ours.pid,
                                                "nio": self.peer.pid,
                                                "driver": os.getpid()})
                self.wire.start()
            except OSError as e:
                log(f"no packet capture ({e}); no inside times")
                self.wire = None

        lines = dialogue_lines()
        total = a.warmup + a.messages
        res = {"ours": [], "nio": [], "floor": []}
        running, prev_dlg = True, lines[0][0]
        self.restarts = 0
        self.not_text = 0
        log(f"latency: {total} messages per room ({a.warmup} warm-up), "
            "interleaved")
        for i in range(total):
            dlg, text = lines[i % len(lines)]
            warm = i < a.warmup

            # our bot: a rehearsal, restarted per dialogue and at endings
            if not running or dlg != prev_dlg:
                self.rehearse(t_ours, s_ours, r_ours, "!opnieuw" if running
                              else "!start " + SCENARIO)
                self.restarts += 1
                running, prev_dlg = True, dlg
            x = self.sample("oefenkamer", t_ours, s_ours, r_ours, bot, text)
            if x is None:
                running = False
            else:
                with s_ours.cond:
                    ended = any("Einde van de oefening" in
                                e["content"].get("body", "")
                                for _, e in s_ours.after(
                                    r_ours, x["eid"], bot, "m.notice"))
                running = not ended
                x["ending"] = ended
                if not warm:
                    res["ours"].append(x)
            x = self.sample("nio", t_nio, s_nio, r_nio, nio, text)
            if x is not None and not warm:
                res["nio"].append(x)
            x = self.sample("floor", f_a, s_floor, r_floor, None, text)
            if x is not None and not warm:
                res["floor"].append(x)
            self.check_alive()
        if self.wire:
            time.sleep(0.2)
            self.wire.stop()
            for k, name in (("ours", "oefenkamer"), ("nio", "nio")):
                for x in res[k]:
                    x.update(self.wire.legs(name, x["txn"], x["eid"],
                                            x["room"], x["reply"]))
            for x in res["floor"]:
                t0 = self.wire.sent("driver", x["txn"])
                t3 = self.wire.seen("driver", x["eid"])
                x["hop1"] = x["wire"] = t3 - t0 if t0 and t3 else None
        for sy in (s_ours, s_nio, s_floor):
            sy.stop()
        self.res["lat"] = res

    def sample(self, kind, user, sy, room, responder, text):
        """Send text and wait for the answer (or, with responder None,
        for the message itself to reach the other client's /sync); then
        wait for the room to fall quiet. Returns the sample, or None
        when no answer came."""
        t0 = time.monotonic()
        eid, txn = user.send_txn(room, text)
        try:
            if responder is None:
                t = sy.wait(lambda: sy.ids.get(eid), self.a.reply_timeout,
                            "floor message")
                reply = eid
                time.sleep(0.15)
            else:
                t, e = sy.wait(lambda: sy.after(room, eid, responder)[:1],
                               self.a.reply_timeout, f"{kind} reply")[0]
                reply = e["event_id"]
                if e["content"].get("msgtype") != "m.text":
                    self.not_text += 1
                self.quiet(sy, room, responder)
        except TimeoutError:
            self.broken.append(f"{kind}: no answer to {text!r}")
            return None
        return {"t": t - t0, "eid": eid, "txn": txn, "room": room,
                "reply": reply}

    # -- load --

    def load_setup(self, name, bot_id, trainees, watcher, ws):
        """One room per trainee with the bot and the watcher in it; for
        our bot, a rehearsal started in every room."""
        def make(t):
            room = t.create_room([bot_id, watcher.user_id])
            watcher.join(room)
            return room
        rooms = parallel(make, trainees)
        if name == "oefenkamer":
            ws.wait(lambda: all(ws.after(r, None, bot_id, "m.notice")
                                for r in rooms), 300, "greetings")
            starts = parallel(lambda tr: tr[0].send(tr[1], "!start " +
                                                    SCENARIO),
                              zip(trainees, rooms))
            ws.wait(lambda: all(ws.after(r, e, bot_id, "m.text")
                                for r, e in zip(rooms, starts)), 300,
                    "openings")
            end = time.monotonic() + 120
            while self.outbox() and time.monotonic() < end:
                time.sleep(0.1)
        else:
            ws.wait(lambda: all(ws.joined(r, bot_id) for r in rooms), 300,
                    "nio joining")
        time.sleep(2)
        return rooms

    def load_one(self, name, proc, bot_id, trainees, watcher, ws):
        a = self.a
        log(f"load: setting up {len(trainees)} rooms for {name}")
        t_setup = time.monotonic()
        cpu_setup0 = proc.cpu()
        rooms = self.load_setup(name, bot_id, trainees, watcher, ws)
        setup_s = time.monotonic() - t_setup
        cpu_setup = proc.cpu() - cpu_setup0
        hwm_life = proc.status("VmHWM")
        rss_before = proc.status("VmRSS")
        reset = proc.reset_peak()
        lines = load_lines()
        sampler = RssSampler(proc)
        sampler.start()
        cpu0, hs0 = proc.cpu(), self.hs_cpu()
        sent = [[] for _ in rooms]

        def trainee(i):
            for k in range(a.per_room):
                text = lines[(i * a.per_room + k) % len(lines)]
                sent[i].append(trainees[i].send(rooms[i], text))
        t0 = at_once(len(rooms), lambda i: trainees[i], trainee,
                     lambda: log(f"load: {len(rooms)} trainees x "
                                 f"{a.per_room} messages -> {name}"))
        t_sent = time.monotonic()

        def answered(i):
            """The peer replies to each message (m.in_reply_to); ours
            answers what arrived together at once, so: a persona line
            after the last message (the store check follows)."""
            room = rooms[i]
            if name == "nio":
                got = {e["content"].get("m.relates_to", {})
                       .get("m.in_reply_to", {}).get("event_id")
                       for _, e in ws.after(room, None, bot_id, "m.text")}
                return got.issuperset(sent[i])
            return bool(ws.after(room, sent[i][-1], bot_id, "m.text"))

        try:
            ws.wait(lambda: all(answered(i) for i in range(len(rooms))),
                    a.load_timeout, f"{name} answering everything")
        except TimeoutError:
            with ws.cond:
                n = sum(1 for i in range(len(rooms)) if not answered(i))
            self.broken.append(f"{name}: {n} rooms not fully answered "
                               f"within {a.load_timeout} s")
        # the rest of multi-line answers: until the bot is quiet
        end = time.monotonic() + a.load_timeout
        while name == "oefenkamer" and self.outbox() and \
                time.monotonic() < end:
            time.sleep(0.05)
        while time.monotonic() < end:
            with ws.cond:
                last = max(ws.last_from(r, bot_id) for r in rooms)
            if time.monotonic() - last >= 1.0:
                break
            time.sleep(0.1)
        with ws.cond:
            t_last = max((t for r, s in zip(rooms, sent)
                          for t, _ in ws.after(r, s[0], bot_id, "m.text")),
                         default=time.monotonic())
            replies = sum(len(ws.after(r, s[0], bot_id, "m.text"))
                          for r, s in zip(rooms, sent))
        cpu, hs_cpu = proc.cpu() - cpu0, self.hs_cpu() - hs0
        sampler.stopping = True
        sampler.join()
        out = {
            "rooms": len(rooms), "messages": sum(len(s) for s in sent),
            "replies": replies, "cpu": cpu, "hs_cpu": hs_cpu,
            "hwm": proc.status("VmHWM") if reset else None,
            "hwm_life": max(hwm_life, proc.status("VmHWM")),
            "rss_before": rss_before, "rss_after": proc.status("VmRSS"),
            "rss_sampled": sampler.peak["VmRSS"],
            "anon": sampler.peak["RssAnon"], "file": sampler.peak["RssFile"],
            "uss": sampler.peak["USS"],
            "send_s": t_sent - t0, "wall": t_last - t0,
            "setup_s": setup_s, "cpu_setup": cpu_setup,
        }
        if name == "oefenkamer":
            out.update(self.store_check(rooms, a.per_room))
        self.check_alive()
        return out

    def store_check(self, rooms, per_room):
        """Every trainee message stored once, none waiting for an
        answer, nothing left in the outbox. A room whose rehearsal
        reached an ending during the load logs nothing after it."""
        ph = ",".join("?" * len(rooms))
        with self.db() as d:
            rows = dict(((r[0], r[1:]) for r in d.execute(
                "SELECT s.room, count(*), sum(t.node IS NULL) FROM turns t"
                " JOIN sessions s ON s.id = t.session_id WHERE"
                f" t.speaker = 'trainee' AND s.room IN ({ph})"
                " GROUP BY s.room", rooms)))
            ended = {r[0] for r in d.execute(
                "SELECT room FROM sessions WHERE ended_ms != 0 AND"
                f" room IN ({ph})", rooms)}
            turns = d.execute(
                "SELECT count(DISTINCT s.id || '-' || t.beurt) FROM turns t"
                " JOIN sessions s ON s.id = t.session_id WHERE"
                f" t.speaker = 'trainee' AND s.room IN ({ph})",
                rooms).fetchone()[0]
            outbox = d.execute("SELECT count(*) FROM outbox").fetchone()[0]
        stored = sum(n for n, _ in rows.values())
        pending = sum(u for _, u in rows.values())
        bad = [r for r in rooms if rows.get(r, (0,))[0] != per_room and
               r not in ended]
        if pending or bad or outbox:
            self.broken.append(f"oefenkamer store: {pending} unanswered, "
                               f"{len(bad)} rooms with a wrong count, "
                               f"{outbox} in the outbox")
        return {"stored": stored, "pending": pending, "turns": turns,
                "ended": len(ended)}

    def hs_cpu(self):
        return proc_cpu(self.hs.pid)

    def load(self):
        a = self.a
        log(f"load: registering {a.rooms} trainees and a watcher")
        trainees = parallel(lambda i: self.hs.register(
            f"load-{i:03d}", self.password), range(a.rooms), workers=8)
        watcher = self.hs.register("watcher", self.password)
        ws = self.sync_for(watcher, "sync watcher")
        self.res["ours"] = self.load_one("oefenkamer", self.ours,
                                         self.bot_user.user_id, trainees,
                                         watcher, ws)
        self.res["nio"] = self.load_one("nio", self.peer,
                                        self.nio_user.user_id, trainees,
                                        watcher, ws)
        self.res["ours"]["cpu_total"] = self.ours.cpu()
        self.res["nio"]["cpu_total"] = self.peer.cpu()
        ws.stop()
        self.res["ours"]["floor"] = self.libs_floor()

    def libs_floor(self):
        """`oefenkamer bench libs`: the bot binary using each of its
        four libraries once (one request to this Synapse); its peak RSS
        is a floor under the bot's. {VmHWM, RssFile, RssAnon} in kB."""
        out = subprocess.run([BIN, "bench", "libs",
                              self.hs.url + "/_matrix/client/versions"],
                             capture_output=True, text=True, check=False)
        got = dict(re.findall(r"(VmHWM|RssFile|RssAnon) (\d+) kB",
                              out.stdout))
        if out.returncode != 0 or len(got) != 3:
            self.broken.append(f"bench libs: {out.stdout}{out.stderr}")
            return None
        return {k: int(v) for k, v in got.items()}

    # -- scale: rooms added in steps, one bot process --

    def n_owners(self, n_act):
        return max(self.a.scale_owners, -(-n_act // (BOT_CMD_BURST - 1)))

    def scale_users(self, n):
        """n room owners (with the room cache: the ones that made its
        rooms). Registration hashes a password (bcrypt) and is the
        slowest call here, so few users own many rooms each; a user
        gives at most BURST commands, so active rooms are spread over
        enough of them."""
        if self.cache:
            users = [User(self.hs.port, uid, tok)
                     for uid, tok in self.cache.meta["users"]]
            log(f"scale: {len(users)} room owners from the cache; their "
                "first sync")
            syncs = parallel(lambda iu: self.sync_for(
                iu[1], f"sync scale-{iu[0]:03d}"), enumerate(users),
                workers=4)
            return users, syncs
        log(f"scale: registering {n} room owners")
        users = parallel(lambda i: self.hs.register(f"scale-{i:03d}",
                                                    self.password),
                         range(n), workers=4)
        syncs = [self.sync_for(u, f"sync scale-{i:03d}")
                 for i, u in enumerate(users)]
        return users, syncs

    def scale_rooms(self, owners, n, invite, first, which):
        """n new rooms, owner i % len(owners) for room first + i, each
        inviting `invite`: the cheapest room Synapse makes (no name, no
        topic, no initial state beyond the preset's). With the room
        cache: rooms first .. first + n - 1 of its list `which` (ours,
        peer), their owners inviting `invite`."""
        if self.cache:
            rooms = [tuple(x) for x in
                     self.cache.meta[which][first:first + n]]
            parallel(lambda kr: owners[kr[0]][0].invite(kr[1], invite),
                     rooms, workers=12)
            return rooms

        def make(i):
            k = (first + i) % len(owners)
            u, _ = owners[k]
            return k, u.create_room([invite])
        return parallel(make, range(n), workers=12)

    def scale_wait(self, rooms, syncs, pred, timeout, what):
        """Until pred(sync, room) holds for every (owner, room)."""
        todo = list(rooms)
        end = time.monotonic() + timeout
        while todo:
            for s in syncs:
                if s.error:
                    raise Broken(f"{s.name}: sync failed: {s.error}")
            left = []
            for k, r in todo:
                s = syncs[k]
                with s.cond:
                    if not pred(s, r):
                        left.append((k, r))
            todo = left
            if not todo:
                break
            if time.monotonic() > end:
                raise TimeoutError(f"{len(todo)} rooms still waiting for "
                                   f"{what}")
            self.check_alive()
            time.sleep(0.25)

    QUIET_CPU_S = 0.02       # CPU per second below which a bot is quiet
    QUIET_MAX_S = 600

    def scale_settle(self, proc, ours, syncs=()):
        """Until the bot has nothing left to send, its own /sync has
        reached where the owners' are (ours: the events stream position
        in its stored sync token; a saturated Synapse delivers the bot's
        batches of a join storm's rooms and greetings minutes after the
        owners have seen the greetings, and the bot waits for them
        without using CPU) and its CPU is quiet (under QUIET_CPU_S in a
        second); then its anonymous memory in kB. How long that took is
        kept in self.quiet_s."""
        t0 = time.monotonic()
        end = t0 + 120
        while ours and self.outbox() and time.monotonic() < end:
            time.sleep(0.1)
        end = time.monotonic() + self.QUIET_MAX_S
        target = max([p for p in (stream_pos(s.since) for s in syncs)
                      if p is not None] or [0]) if ours else 0
        while target and time.monotonic() < end:
            pos = stream_pos(self.meta("sync_token"))
            if pos is not None and pos >= target:
                break
            time.sleep(0.5)
        end = time.monotonic() + self.QUIET_MAX_S
        c0 = proc.cpu_exact()
        while time.monotonic() < end:
            time.sleep(1.0)
            c1 = proc.cpu_exact()
            if c1 - c0 < self.QUIET_CPU_S:
                break
            c0 = c1
        self.quiet_s = time.monotonic() - t0
        time.sleep(0.5)
        return proc.status("RssAnon")

    def scale_say(self, name, proc, bot_id, owners, syncs, active, nth,
                  lines):
        """One trainee line in each active room at once (the nth line
        of each rehearsal in this run: room i says line i + nth of the
        conversation); (CPU s, seconds to the last answer, rooms
        answered). The wakeups it took are kept in self.runs."""
        sent = [None] * len(active)
        cpu0 = [0.0]
        runs0 = [None]

        def say(i):
            k, room = active[i]
            sent[i] = owners[k][0].send(room, lines[(i + nth) % len(lines)])

        def before():
            cpu0[0] = proc.cpu_exact()
            read0[0] = proc.read_bytes()
            runs0[0] = proc.runs()
        read0 = [0]
        t0 = at_once(len(active), lambda i: owners[active[i][0]][0], say,
                     before)
        cpu0 = cpu0[0]
        want = dict(((k, r), e) for (k, r), e in zip(active, sent))

        def answered(s, r):
            e = want[(syncs.index(s), r)]
            if name == "nio":
                return any(x["content"].get("m.relates_to", {})
                           .get("m.in_reply_to", {}).get("event_id") == e
                           for _, x in s.after(r, None, bot_id, "m.text"))
            return bool(s.after(r, e, bot_id, "m.text"))
        n_ok = len(active)
        try:
            self.scale_wait(active, syncs, answered, self.a.load_timeout,
                            f"{name}'s answer")
        except TimeoutError as e:
            n_ok = len(active) - int(str(e).split()[0])
            self.broken.append(f"{name}: {e}")
        wall = time.monotonic() - t0
        if name == "oefenkamer":
            end = time.monotonic() + 60
            while self.outbox() and time.monotonic() < end:
                time.sleep(0.05)
        time.sleep(1.0)
        self.read_kb = (proc.read_bytes() - read0[0]) / 1024
        runs1 = proc.runs()
        self.runs = None if runs0[0] is None or runs1 is None else \
            runs1 - runs0[0]
        return proc.cpu_exact() - cpu0, wall, n_ok

    def scale(self):
        a = self.a
        counts = sorted(set(a.scale))
        n_act = min(a.scale_active, counts[0])
        n_users = self.n_owners(n_act)
        users, syncs = self.scale_users(n_users)
        owners = [(u, s) for u, s in zip(users, syncs)]
        lines = load_lines()
        bot = self.bot_user.user_id
        nio = self.nio_user.user_id
        self.res["scale"] = steps = []
        ours, theirs = [], []
        act_ours = act_nio = None
        for step, n in enumerate(counts):
            row = {"rooms": n}
            for name, proc, bot_id, have in (
                    ("oefenkamer", self.ours, bot, ours),
                    ("nio", self.peer, nio, theirs)):
                if name == "nio" and n > a.scale_peer:
                    continue
                add = n - len(have)
                log(f"scale: {add} more rooms for {name} (to {n})"
                    + (", from the cache" if self.cache else ""))
                t0 = time.monotonic()
                cpu0 = proc.cpu()
                new = self.scale_rooms(
                    owners, add, bot_id, len(have),
                    "ours" if name == "oefenkamer" else "peer")
                t_made = time.monotonic() - t0
                if name == "oefenkamer":
                    self.scale_wait(new, syncs, lambda s, r: s.after(
                        r, None, bot_id, "m.notice"), a.load_timeout,
                        "the bot's greeting")
                else:
                    self.scale_wait(new, syncs, lambda s, r: s.joined(
                        r, bot_id), a.load_timeout, "the peer joining")
                have.extend(new)
                t_setup = time.monotonic() - t0
                cpu_join = proc.cpu() - cpu0
                idle = self.scale_settle(proc, name == "oefenkamer", syncs)
                if name == "oefenkamer":
                    heap_dump(proc.pid, f"{name}-{n}-idle")
                x = {"added": add, "made_s": t_made, "setup_s": t_setup,
                     "cpu_join": cpu_join, "idle": idle,
                     "quiet_s": self.quiet_s,
                     "cpu_quiet": proc.cpu() - cpu0 - cpu_join}
                # the active rooms: the first n_act, started once
                if name == "oefenkamer" and act_ours is None:
                    act_ours = have[:n_act]
                    starts = parallel(lambda kr: owners[kr[0]][0].send(
                        kr[1], "!start " + SCENARIO), act_ours, workers=12)
                    st = dict(zip(act_ours, starts))
                    self.scale_wait(act_ours, syncs, lambda s, r: s.after(
                        r, st[(syncs.index(s), r)], bot_id, "m.text"),
                        a.load_timeout, "the persona's opening")
                    x["started"] = self.scale_settle(proc, True)
                if name == "nio" and act_nio is None:
                    act_nio = have[:n_act]
                act = act_ours if name == "oefenkamer" else act_nio
                reset = proc.reset_peak()
                sampler = RssSampler(proc)
                sampler.start()
                prof = Profile(proc.pid, f"{name}-{n}")
                # a.scale_lines rounds: every active room says one line
                # per round; CPU per message is the median of the rounds
                rounds = []
                for r in range(a.scale_lines):
                    cpu, wall, n_ok = self.scale_say(
                        name, proc, bot_id, owners, syncs, act,
                        step * a.scale_lines + r, lines)
                    rounds.append({"cpu": cpu, "wall": wall,
                                   "answered": n_ok,
                                   "read_kb": self.read_kb,
                                   "runs": self.runs})
                    log(f"scale: {name} at {n} rooms, round {r + 1}: "
                        f"{n_ok}/{len(act)} answered, "
                        f"{cpu * 1000 / len(act):.2f} ms CPU per message"
                        + (f", {self.runs / len(act):.1f} wakeups per "
                           "message" if self.runs is not None else ""))
                prof.stop()
                sampler.stopping = True
                sampler.join()
                per_msg = sorted(rd["cpu"] / len(act) for rd in rounds)
                n_ok = sum(rd["answered"] for rd in rounds)
                runs = [rd["runs"] for rd in rounds]
                cpu = statistics.median(per_msg) * len(act)
                x.update({"active": self.scale_settle(
                    proc, name == "oefenkamer", syncs), "cpu": cpu,
                    "cpu_min": per_msg[0] * len(act),
                    "cpu_max": per_msg[-1] * len(act),
                    "rounds": rounds,
                    "runs": None if None in runs else
                    statistics.median(runs),
                    "wall": sum(rd["wall"] for rd in rounds),
                    "read_kb": statistics.median(
                        rd["read_kb"] for rd in rounds),
                    "messages": len(act), "said": len(act) * len(rounds),
                    "answered": n_ok,
                    "peak_anon": sampler.peak["RssAnon"],
                    "hwm": proc.status("VmHWM") if reset else None})
                if name == "oefenkamer":
                    heap_dump(proc.pid, f"{name}-{n}-after")
                if name == "oefenkamer":
                    x.update(self.store_check([r for _, r in act_ours],
                                              (step + 1) * a.scale_lines))
                row[name] = x
                log(f"scale: {name} at {n} rooms: anon {idle} kB idle, "
                    f"{x['active']} kB after the messages (peak "
                    f"{x['peak_anon']} kB); {n_ok}/{x['said']} answered, "
                    f"{cpu * 1000 / len(act):.2f} ms CPU per message "
                    f"(median of {len(rounds)} rounds, "
                    f"{per_msg[0] * 1000:.2f} to {per_msg[-1] * 1000:.2f}), "
                    f"{x['read_kb'] / len(act):.1f} kB read per message; "
                    f"rooms {'invited' if self.cache else 'made'} in "
                    f"{t_made:.0f} s, joined in "
                    f"{t_setup:.0f} s, quiet after "
                    f"{x['quiet_s']:.0f} s more")
                self.check_alive()
            steps.append(row)
        self.res["scale_active"] = n_act

    # -- report --

    def report(self, argv):
        a, lat = self.a, self.res.get("lat")
        o, p = self.res.get("ours"), self.res.get("nio")
        commit = sh("git", "-C", ROOT, "rev-parse", "--short", "HEAD",
                    check=False) or "? (not a git checkout)"
        dirty = sh("git", "-C", ROOT, "status", "--porcelain", "--",
                   "bot", check=False)
        nio_v = version("matrix-nio")
        syn_v = synapse_version()
        cpu = "?"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        P = print
        P()
        P("Oefenkamer Matrix bot vs a matrix-nio echo bot, one Synapse "
          "on loopback")
        P(f"  {time.strftime('%Y-%m-%d %H:%M')}, commit {commit}"
          f"{' (bot/ modified)' if dirty else ''}; {os.cpu_count()} x "
          f"{cpu}; Linux {platform.release()}")
        P(f"  Synapse {syn_v} (SQLite), matrix-nio {nio_v} on Python "
          f"{platform.python_version()}; typing off, gather_ms 0")
        built = time.strftime("%Y-%m-%d %H:%M",
                              time.localtime(os.stat(BIN).st_mtime))
        shown = os.path.relpath(BIN, ROOT) if BIN.startswith(ROOT + "/") \
            else BIN
        P(f"  bot: {shown}, built {built}")
        default = os.path.join(ROOT, "build", "oefenkamer")
        env = f"OEF_BIN={shlex.quote(BIN)} " if \
            os.path.realpath(BIN) != os.path.realpath(default) else ""
        P("  command: " + env + " ".join(shlex.quote(x) for x in argv))
        if lat:
            self.report_latency(lat)
        if o and p:
            P()
            P(f"Load: {o['rooms']} rooms, {a.per_room} messages from each "
              "trainee sent at once, one bot at a time")
            P(f"  {'':30} {'oefenkamer':>11} {'peer':>11} "
              f"{'ours/peer':>10} {'goal':>6}")

            def mb(kb):
                return "n/a" if kb is None else f"{kb / 1024:.1f}"

            def ratio(x, y):
                return "n/a" if x is None or not y else f"{x / y:.3f}"
            hw_o = o["hwm"] if o["hwm"] is not None else o["rss_sampled"]
            hw_p = p["hwm"] if p["hwm"] is not None else p["rss_sampled"]
            P(f"  {'peak RSS during load, MB':30} {mb(hw_o):>11} "
              f"{mb(hw_p):>11} {ratio(hw_o, hw_p):>10} {'<=0.2':>6}")
            P(f"  {'  of it anonymous (sampled)':30} {mb(o['anon']):>11} "
              f"{mb(p['anon']):>11} {ratio(o['anon'], p['anon']):>10}")
            P(f"  {'  of it files: libraries':30} {mb(o['file']):>11} "
              f"{mb(p['file']):>11} {ratio(o['file'], p['file']):>10}")
            fl = o.get("floor")
            if fl:
                P(f"  {'floor: libraries used once':30} "
                  f"{mb(fl['VmHWM']):>11} {'':>11} "
                  f"{ratio(fl['VmHWM'], hw_p):>10}")
                P(f"  {'  of it files / anonymous':30} "
                  f"{mb(fl['RssFile']) + ' / ' + mb(fl['RssAnon']):>11}")
            P(f"  {'peak private memory (USS), MB':30} {mb(o['uss']):>11} "
              f"{mb(p['uss']):>11} {ratio(o['uss'], p['uss']):>10}")
            P(f"  {'peak RSS whole run, MB':30} {mb(o['hwm_life']):>11} "
              f"{mb(p['hwm_life']):>11} "
              f"{ratio(o['hwm_life'], p['hwm_life']):>10}")
            P(f"  {'CPU s during load':30} {o['cpu']:>11.2f} "
              f"{p['cpu']:>11.2f} {ratio(o['cpu'], p['cpu']):>10} "
              f"{'<=0.1':>6}")
            P(f"  {'CPU s whole run':30} {o['cpu_total']:>11.2f} "
              f"{p['cpu_total']:>11.2f} "
              f"{ratio(o['cpu_total'], p['cpu_total']):>10}")
            P(f"  {'CPU s setting up the rooms':30} {o['cpu_setup']:>11.2f} "
              f"{p['cpu_setup']:>11.2f} "
              f"{ratio(o['cpu_setup'], p['cpu_setup']):>10}")
            P(f"  {'messages in / replies out':30} "
              f"{str(o['messages']) + ' / ' + str(o['replies']):>11} "
              f"{str(p['messages']) + ' / ' + str(p['replies']):>11}")
            P(f"  {'first send -> last reply, s':30} {o['wall']:>11.2f} "
              f"{p['wall']:>11.2f}")
            P(f"  {'Synapse CPU s during load':30} {o['hs_cpu']:>11.2f} "
              f"{p['hs_cpu']:>11.2f}")
            P(f"  oefenkamer store: {o['stored']} trainee messages stored, "
              f"{o['pending']} unanswered, answered in {o['turns']} turns "
              "(messages that arrive together get one answer)"
              + (f"; {o['ended']} rehearsals reached an ending"
                 if o["ended"] else ""))
            if o["hwm"] is None:
                P("  (VmHWM could not be reset: peak RSS is sampled every "
                  "20 ms)")
        if self.res.get("scale"):
            self.report_scale()
        P()
        if self.broken:
            P("BROKEN:")
            for b in self.broken:
                P("  " + b)

    def report_scale(self):
        P, steps = print, self.res["scale"]
        n_act = self.res.get("scale_active", self.a.scale_active)

        def mb(kb):
            return "" if kb is None else f"{kb / 1024:.1f}"

        def per(x, nrooms):
            return "n/a" if x is None else f"{x / nrooms:.2f}"
        P()
        n_lines = self.a.scale_lines
        times = "once" if n_lines == 1 else f"{n_lines} times"
        P(f"Scale: rooms added in steps to one bot process; {n_act} of "
          f"them run a rehearsal, and at each step every one of those gets "
          f"{n_lines} trainee line{'s' if n_lines != 1 else ''}, in "
          f"round{'s' if n_lines != 1 else ''} of one line in every one "
          "at once")
        P("  anonymous memory (RssAnon) once the bot is quiet (nothing to "
          "send, under 20 ms CPU a second), MB; CPU per answered message, "
          "ms, the median of the rounds (and the lowest and highest "
          "round); the bot's wakeups (times it was put on a CPU) per "
          "message; what the bot read with read(2) while answering "
          "(rchar: its store, not the sockets), kB per message")
        P(f"  {'rooms':>6} {'bot':>10} {'idle':>6} {'+active':>8} "
          f"{'peak':>6} {'ms/msg':>7} {'rounds':>11} {'wake':>5} "
          f"{'kB/msg':>7} {'answered':>9} "
          f"{'setup s':>8} "
          f"{'peer idle':>10} {'+active':>8} {'ms/msg':>7} {'bot/peer':>9}")
        for row in steps:
            o, p = row["oefenkamer"], row.get("nio")
            pc = (f"{mb(p['idle']):>10} {mb(p['active']):>8} "
                  f"{p['cpu'] * 1000 / p['messages']:>7.2f} "
                  f"{o['active'] / p['active']:>9.3f}") if p else ""
            rng = (f"{o['cpu_min'] * 1000 / o['messages']:.2f}-"
                   f"{o['cpu_max'] * 1000 / o['messages']:.2f}")
            wake = "?" if o.get("runs") is None else \
                f"{o['runs'] / o['messages']:.1f}"
            P(f"  {row['rooms']:>6} {'oefenkamer':>10} {mb(o['idle']):>6} "
              f"{mb(o['active']):>8} {mb(o['peak_anon']):>6} "
              f"{o['cpu'] * 1000 / o['messages']:>7.2f} {rng:>11} "
              f"{wake:>5} "
              f"{o['read_kb'] / o['messages']:>7.1f} "
              f"{str(o['answered']) + '/' + str(o['said']):>9} "
              f"{o['setup_s']:>8.0f} " + pc)
        P("  per-room slope of anonymous memory, kB (goal: idle <= 2, "
          "active rehearsal <= 8):")
        for name in ("oefenkamer", "nio"):
            rows = [r for r in steps if r.get(name)]
            for r1, r2 in zip(rows, rows[1:]):
                d = r2["rooms"] - r1["rooms"]
                P(f"    {name:10} idle rooms {r1['rooms']} -> "
                  f"{r2['rooms']}: "
                  f"{per(r2[name]['idle'] - r1[name]['idle'], d)} kB/room")
            first = rows[0][name] if rows else None
            if first and "started" in first:
                P(f"    {name:10} a rehearsal started and answered "
                  f"{times}: "
                  f"{per(first['active'] - first['idle'], n_act)} kB/room")
            elif first:
                P(f"    {name:10} a room answered {times}: "
                  f"{per(first['active'] - first['idle'], n_act)} kB/room")
        c = self.cache
        if c:
            P(f"  rooms: made once, before this run ({c.meta['made_s']} s "
              f"for {len(c.meta['ours'])} + {len(c.meta['peer'])}), kept in "
              f"{os.path.relpath(c.path, ROOT)}; each step's owners invite "
              "the bot into the next of them")
        if self.a.fast_synapse:
            P("  Synapse: database on tmpfs; user directory, room "
              "statistics, presence off (--fast-synapse)")
        P(f"  whole run, Synapse start to last step: "
          f"{time.monotonic() - self.t0:.0f} s")
        for row in steps:
            o = row["oefenkamer"]
            P(f"  {row['rooms']} rooms: {'invited' if c else 'made'} "
              f"{o['made_s']:.0f} s, bot "
              f"joined and greeted all {o['setup_s']:.0f} s, its CPU for "
              f"the joins {o['cpu_join']:.2f} s ("
              f"{o['cpu_join'] * 1000 / max(1, o['added']):.2f} ms per "
              f"new room), quiet {o['quiet_s']:.0f} s later (its CPU "
              f"meanwhile {o['cpu_quiet']:.2f} s); store: {o['stored']} "
              f"trainee lines, {o['pending']} unanswered")

    def report_latency(self, lat):
        a, P = self.a, print

        def col(k, key):
            return [x[key] for x in lat[k] if x.get(key) is not None]

        def cell(xs, p):
            return ms(pct(xs, p)) if xs else "n/a"
        P()
        P(f"Reply latency: {a.messages} messages per room after {a.warmup} "
          "warm-up, the three rooms interleaved; ms")
        P(f"  {'send -> reply on the sender' + chr(39) + 's /sync':38} "
          f"{'p50':>7} {'p99':>7} {'max':>7}")
        rows = (("oefenkamer", "ours"), ("matrix-nio echo (peer)", "nio"),
                ("floor: client -> client, no bot", "floor"))
        plain = [x["t"] for x in lat["ours"] if not x.get("ending")]
        n_end = len(lat["ours"]) - len(plain)
        for label, k in rows:
            xs = col(k, "t")
            P(f"  {label:38} {cell(xs, 50):>7} {cell(xs, 99):>7} "
              f"{ms(max(xs) if xs else None):>7}")
            if k == "ours" and n_end:
                P(f"  {'  the turns that end no rehearsal':38} "
                  f"{cell(plain, 50):>7} {cell(plain, 99):>7} "
                  f"{ms(max(plain) if plain else None):>7}")
        fl = col("floor", "t")
        for label, k in rows[:2]:
            xs = col(k, "t")
            P(f"  {label + ' - floor':38} "
              f"{ms(pct(xs, 50) - pct(fl, 50)):>7} "
              f"{ms(pct(xs, 99) - pct(fl, 99)):>7}")
        o50, n50 = pct(col("ours", "t"), 50), pct(col("nio", "t"), 50)
        o99, n99 = pct(col("ours", "t"), 99), pct(col("nio", "t"), 99)
        P(f"  oefenkamer/peer: p50 {o50 / n50:.2f}, p99 {o99 / n99:.2f}")
        if self.wire:
            P()
            P("  on the wire (kernel time stamps on lo), p50 / p99:")
            P(f"  {'':24} {'trainee->bot':>15} {'inside bot':>15} "
              f"{'bot->trainee':>15} {'wire total':>15}")
            for label, k in rows:
                cells = []
                for key in ("hop1", "inside", "hop2", "wire"):
                    xs = col(k, key)
                    cells.append(f"{cell(xs, 50)} / {cell(xs, 99)}"
                                 if xs else "")
                P(f"  {label.split(':')[0].split(' (')[0]:24} "
                  + " ".join(f"{c:>15}" for c in cells))
            miss = sum(1 for k in ("ours", "nio") for x in lat[k]
                       if x.get("inside") is None)
            if miss:
                P(f"  ({miss} samples had no wire match and are left out "
                  "of the wire columns)")
        P(f"  (our room: {self.restarts} rehearsal restarts; {n_end} of "
          f"the {len(lat['ours'])} answers ended a rehearsal;\n"
          f"  {self.not_text} first replies were not m.text)")

    def close(self):
        if self.wire:
            self.wire.stop()
        for s in self.syncs:
            s.stop()
        for p in (self.ours, self.peer):
            if p:
                p.stop()
        if self.hs:
            self.hs.stop()
        if self.a.keep:
            log(f"logs and store kept in {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--rooms", type=int, default=200)
    ap.add_argument("--per-room", type=int, default=2)
    ap.add_argument("--port", type=int, default=18050)
    ap.add_argument("--reply-timeout", type=float, default=15)
    ap.add_argument("--load-timeout", type=float, default=600)
    ap.add_argument("--no-wire", action="store_true",
                    help="no packet capture (inside times n/a)")
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--skip-load", action="store_true")
    ap.add_argument("--keep", action="store_true",
                    help="keep the bots' logs and store")
    ap.add_argument("--scale", metavar="N,N,...", type=lambda v: [
        int(x) for x in v.split(",")],
                    help="scale run: rooms added in steps to these counts "
                    "(one bot process), memory and CPU at each")
    ap.add_argument("--scale-peer", type=int, default=1000, metavar="N",
                    help="the peer takes part in the steps up to N rooms")
    ap.add_argument("--scale-active", type=int, default=100, metavar="N",
                    help="rooms that run a rehearsal in the scale run")
    ap.add_argument("--scale-lines", type=int, default=5, metavar="N",
                    help="scale run: rounds per step, each one trainee "
                    "line in every active room at once; CPU per message "
                    "is the median of the rounds")
    ap.add_argument("--scale-owners", type=int, default=20, metavar="N",
                    help="users who make the scale run's rooms")
    ap.add_argument("--fast-synapse", action="store_true",
                    help="Synapse's database on tmpfs, its user directory, "
                    "room statistics and presence off (make bench-scale)")
    ap.add_argument("--room-cache", metavar="DIR",
                    help="scale run: make its rooms once and keep them in "
                    "DIR (a Synapse database); later runs invite the bots "
                    "into them (make bench-scale: build/bench-rooms)")
    ap.add_argument("--samples", metavar="FILE",
                    help="write every latency sample and the load "
                    "figures to FILE as JSON")
    a = ap.parse_args()
    preflight("bench", "Synapse in a chroot, packet capture")
    sys.setswitchinterval(0.0005)    # a waiting thread gets the GIL soon
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    b = Bench(a)
    argv = [os.path.relpath(sys.executable) if not
            sys.executable.startswith("/usr/") else sys.executable,
            os.path.relpath(os.path.abspath(sys.argv[0]), ROOT)] + \
        sys.argv[1:]
    rc = 0
    try:
        b.start()
        if not a.skip_latency:
            b.latency()
        if not a.skip_load:
            b.load()
        if a.scale:
            b.scale()
    except (Broken, TimeoutError, MatrixError, OSError) as e:
        b.broken.append(f"{type(e).__name__}: {e}")
        for p in (b.ours, b.peer):
            if p:
                log(f"--- {p.name} log (tail) ---\n{p.tail()}")
    finally:
        try:
            b.report(argv)
            if a.samples:
                with open(a.samples, "w") as f:
                    json.dump(b.res, f, indent=1)
        finally:
            b.close()
    if b.broken:
        rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
