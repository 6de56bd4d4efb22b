#!/usr/bin/python3
"""What end-to-end encryption costs the Oefenkamer bot, in one run.

  Crypto   `oefenkamer bench crypto`: the per-message cost of Megolm and
           Olm inside the bot (libolm), printed as it comes.
  Latency  one Synapse on loopback, ONE bot process with encryption on
           (typing off, gather_ms 0) and one trainee: a matrix-nio
           AsyncClient with encryption enabled. The trainee creates two
           rooms with the bot, A unencrypted and B encrypted (Megolm), and
           rehearses moeder-brief in both with the trainee lines of
           tests/data/dialogues/moeder-brief.*.txt (restarted when a rehearsal
           ends or the dialogue changes). The rooms take turns message by
           message, so that a slower moment of the machine hits both
           alike. One sample is the time from just before room_send to
           the bot's reply arriving on the trainee's own sync loop (nio
           has parsed and, in B, decrypted it). The same client library
           on both sides of the comparison, so the only difference is
           encryption: the bot's decrypt and encrypt, the homeserver's
           to-device traffic, and the trainee's own encrypt (shown apart
           as the time room_send itself takes) and decrypt.

Benchmarks report, they do not assert: the exit status is non-zero only
if something broke (a message went unanswered, a process died).

    bench_e2ee.py [--messages N] [--warmup N] [--port N] [--keep]

OEF_BIN names the bot binary (default build/oefenkamer). Needs root
(Synapse in a chroot) and Debian's python3-matrix-nio with python-olm:
run with /usr/bin/python3.
"""
import argparse
import asyncio
import base64
import json
import os
import platform
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

# The benchmark's common helpers live in bench.py (same directory).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import (Broken, BotStore, Proc, dialogue_lines,  # noqa: E402
                   log, ms, pct, preflight, sh, synapse_version, version,
                   write_secret)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tests", "integration"))
from nio_e2ee import nio_keys, quiet_nio  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SYNAPSE = os.path.join(ROOT, "tools", "synapse.sh")
BIN = os.environ.get("OEF_BIN", os.path.join(ROOT, "build", "oefenkamer"))
INSTANCE = "bench-e2ee"
SCENARIO = "moeder-brief"
MEGOLM = "m.megolm.v1.aes-sha2"
ENDING = "Einde van de oefening"

# The trainee's sync: no presence, receipts, typing or account data, so
# that a long poll returns for a room event. To-device messages and
# device lists are not filtered (encryption needs them). A big timeline
# limit: nio must see every event, never a gap.
FILTER = {
    "presence": {"types": []},
    "account_data": {"types": []},
    "room": {"timeline": {"limit": 200},
             "ephemeral": {"types": []},
             "account_data": {"types": []}}}


# --- the benchmark ----------------------------------------------------------

class Bench(BotStore):
    def __init__(self, args):
        self.a = args
        self.dir = tempfile.mkdtemp(prefix="oef-bench-e2ee-")
        self.password = "bench-" + os.urandom(8).hex()
        self.hs_started = False
        self.url = None
        self.bot = None
        self.broken = []
        self.res = {}
        self.notes = {"restarts": 0, "bot_plain_in_b": 0,
                      "undecrypted": 0}
        self.client = None
        self.sync_task = None
        self.timeline = {}    # room -> [(t_sync, t_http, event)]
        self.sync_error = None
        self.syncs = 0

    # -- processes (synchronous: also run from the cleanup) --

    def start_processes(self):
        log(f"starting Synapse '{INSTANCE}' on port {self.a.port}")
        out = sh("bash", SYNAPSE, "start", INSTANCE, "--port",
                 str(self.a.port))
        self.hs_started = True
        self.url = out.splitlines()[-1]
        self.bot_id = sh("bash", SYNAPSE, "register", INSTANCE, "oefenkamer",
                         self.password).splitlines()[-1]
        self.trainee_id = sh("bash", SYNAPSE, "register", INSTANCE,
                             "trainee", self.password).splitlines()[-1]
        pw = os.path.join(self.dir, "password")
        write_secret(pw, (self.password + "\n").encode())
        key = os.path.join(self.dir, "pickle.key")
        write_secret(key, base64.b64encode(os.urandom(32)) + b"\n")
        self.store = os.path.join(self.dir, "bot.db")
        cfg = {
            "homeserver": self.url,
            "user_id": self.bot_id,
            "password_file": pw,
            "device_name": "Oefenkamer",
            "store": self.store,
            "scripts_dir": os.path.join(ROOT, "scripts"),
            "personas_dir": os.path.join(ROOT, "personas"),
            "invites": {"allow": [self.trainee_id]},
            "typing": {"enabled": False, "chars_per_second": 200,
                       "min_ms": 0, "max_ms": 0},
            "gather_ms": 0,
            "encryption": {"pickle_key_file": key},
        }
        config = os.path.join(self.dir, "config.json")
        with open(config, "w") as f:
            json.dump(cfg, f)
        env = {k: v for k, v in os.environ.items()
               if k != "OEFENKAMER_PICKLE_KEY"}    # the config's key counts
        self.bot = Proc("oefenkamer", [BIN, "run", "--config", config],
                        os.path.join(self.dir, "bot.log"), env=env)
        end = time.monotonic() + 60
        while self.meta("sync_token") is None:
            self.check_alive()
            if time.monotonic() > end:
                raise Broken("the bot did not sync within 60 s")
            time.sleep(0.1)
        log(f"bot running, pid {self.bot.pid}")

    def stop_processes(self):
        if self.bot:
            self.bot.stop()
        if self.hs_started:
            sh("bash", SYNAPSE, "stop", INSTANCE, check=False)
            self.hs_started = False

    def check_alive(self):
        if self.bot and not self.bot.alive():
            raise Broken(f"the bot exited ({self.bot.p.returncode})")
        if self.sync_error:
            raise Broken(f"the trainee's sync failed: {self.sync_error}")
        if self.sync_task and self.sync_task.done() and \
                not self.sync_task.cancelled():
            raise Broken(f"the trainee's sync loop ended: "
                         f"{self.sync_task.exception()!r}")

    def active(self, room):
        """A rehearsal is running in room (the bot's own store says)."""
        with self.db() as d:
            return d.execute("SELECT count(*) FROM sessions WHERE room = ?"
                             " AND ended_ms = 0", (room,)).fetchone()[0] > 0

    # -- the trainee: nio with encryption, one sync loop task --

    async def login(self):
        from nio import AsyncClient, AsyncClientConfig, LoginResponse
        from nio.responses import SyncResponse
        bench = self

        class Client(AsyncClient):
            async def create_matrix_response(self, response_class,
                                             transport_response, data=None):
                # the moment a /sync answer is back, before nio parses
                # (and decrypts) it
                if response_class is SyncResponse:
                    bench.t_http = time.monotonic()
                return await super().create_matrix_response(
                    response_class, transport_response, data)

        store = os.path.join(self.dir, "nio")
        os.mkdir(store)
        cfg = AsyncClientConfig(encryption_enabled=True,
                                store_sync_tokens=False)
        self.client = Client(self.url, self.trainee_id, store_path=store,
                             config=cfg)
        r = await self.client.login(self.password,
                                    device_name="bench trainee")
        if not isinstance(r, LoginResponse):
            raise Broken(f"trainee login: {r}")
        self.t_http = 0.0
        self.cond = asyncio.Condition()
        await self.sync_once(0, full_state=True)
        await nio_keys(self.client)
        self.sync_task = asyncio.ensure_future(self.sync_loop())

    async def sync_once(self, timeout_ms, full_state=False):
        from nio import MegolmEvent
        r = await self.client.sync(timeout=timeout_ms, sync_filter=FILTER,
                                   full_state=full_state)
        t = time.monotonic()
        if not hasattr(r, "next_batch"):
            raise Broken(f"trainee sync: {r}")
        self.syncs += 1
        for room, info in r.rooms.join.items():
            lst = self.timeline.setdefault(room, [])
            for ev in info.timeline.events:
                lst.append([t, self.t_http, ev])
        # an event whose key came after it: decrypt it now (nio does not)
        for lst in self.timeline.values():
            for x in lst:
                if isinstance(x[2], MegolmEvent):
                    try:
                        x[2] = self.client.decrypt_event(x[2])
                        x[0] = t
                    except Exception:     # noqa: BLE001 - still no key
                        pass
        async with self.cond:
            self.cond.notify_all()

    async def sync_loop(self):
        fails = 0
        while True:
            try:
                await self.sync_once(30000)
                fails = 0
                await nio_keys(self.client)
            except asyncio.CancelledError:
                raise
            except Exception as e:     # noqa: BLE001 - reported by wait()
                fails += 1
                if fails > 5:
                    self.sync_error = e
                    async with self.cond:
                        self.cond.notify_all()
                    return
                await asyncio.sleep(0.2)

    async def wait(self, pred, timeout, what):
        end = time.monotonic() + timeout
        async with self.cond:
            while True:
                v = pred()
                if v:
                    return v
                self.check_alive()
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"timed out waiting for {what}")
                try:
                    await asyncio.wait_for(self.cond.wait(), min(left, 1))
                except asyncio.TimeoutError:
                    pass

    def after(self, room, event_id, sender):
        """[(t_sync, t_http, event)] from sender in room after event_id:
        room messages (decrypted where they were encrypted) and events
        that did not decrypt (yet)."""
        from nio import MegolmEvent
        out, seen = [], event_id is None
        for x in self.timeline.get(room, []):
            ev = x[2]
            if not seen:
                seen = getattr(ev, "event_id", None) == event_id
                continue
            if ev.sender != sender:
                continue
            if isinstance(ev, MegolmEvent) or \
                    ev.source.get("type") == "m.room.message":
                out.append(x)
        return out

    @staticmethod
    def msgtype(ev):
        return ev.source.get("content", {}).get("msgtype")

    async def send(self, room, body):
        """(event id, seconds room_send took)"""
        t0 = time.monotonic()
        r = await self.client.room_send(
            room, "m.room.message", {"msgtype": "m.text", "body": body},
            ignore_unverified_devices=True)
        t1 = time.monotonic()
        if not hasattr(r, "event_id"):
            raise Broken(f"room_send in {room}: {r}")
        return r.event_id, t0, t1 - t0

    async def quiet(self, room, quiet=0.2, timeout=30):
        """Until nothing new from the bot in room for `quiet` s and its
        outbox is empty (a persona answer can be several messages)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.outbox():
                await asyncio.sleep(0.02)
                continue
            last = max((x[0] for x in self.timeline.get(room, [])
                        if x[2].sender == self.bot_id), default=0.0)
            wait = last + quiet - time.monotonic()
            if wait <= 0:
                return
            await asyncio.sleep(wait)
        raise TimeoutError(f"the bot kept talking in {room}")

    # -- setup --

    async def rooms(self):
        from nio import RoomPreset
        c = self.client
        out = {}
        for name, enc in (("A", False), ("B", True)):
            state = [{"type": "m.room.encryption", "state_key": "",
                      "content": {"algorithm": MEGOLM}}] if enc else []
            r = await c.room_create(preset=RoomPreset.private_chat,
                                    invite=[self.bot_id],
                                    initial_state=state,
                                    name=f"bench {name}")
            if not hasattr(r, "room_id"):
                raise Broken(f"createRoom {name}: {r}")
            out[name] = r.room_id
        for name, room in out.items():
            await self.wait(lambda: [x for x in self.after(room, None,
                                                           self.bot_id)
                                     if self.msgtype(x[2]) == "m.notice"],
                            60, f"the bot's greeting in room {name}")
            await self.quiet(room)
        enc = {n: c.rooms[r].encrypted for n, r in out.items()}
        if enc != {"A": False, "B": True}:
            raise Broken(f"rooms encrypted: {enc}")
        # the trainee knows the bot's device before its first send in B,
        # so that the bot gets the room key
        await nio_keys(self.client)
        await self.wait(lambda: list(c.device_store.active_user_devices(
            self.bot_id)), 30, "the bot's device keys")
        return out

    async def rehearse(self, room, cmd):
        """Send a command that (re)starts the rehearsal; wait for the
        persona's opening and for the bot to fall quiet."""
        eid, _, _ = await self.send(room, cmd)
        await self.wait(lambda: [x for x in self.after(room, eid,
                                                       self.bot_id)
                                 if self.msgtype(x[2]) == "m.text"],
                        30, f"the opening after {cmd}")
        await self.quiet(room)

    async def sample(self, name, room, text):
        """Send text, wait for the bot's first answer, then for the bot
        to fall quiet. Returns the sample, or None if no answer came."""
        from nio import MegolmEvent
        eid, t0, send_s = await self.send(room, text)
        try:
            t, t_http, ev = (await self.wait(
                lambda: self.after(room, eid, self.bot_id)[:1],
                self.a.reply_timeout, f"an answer in room {name}"))[0]
            if isinstance(ev, MegolmEvent):
                # the key may be on its way: give it a moment
                try:
                    await self.wait(lambda: not isinstance(self.after(
                        room, eid, self.bot_id)[0][2], MegolmEvent), 5,
                        "the answer's key")
                except TimeoutError:
                    self.notes["undecrypted"] += 1
                    self.broken.append(f"room {name}: the answer to "
                                       f"{text!r} did not decrypt")
                    await self.quiet(room)
                    return None
                t, t_http, ev = self.after(room, eid, self.bot_id)[0]
            await self.quiet(room)
        except TimeoutError:
            self.broken.append(f"room {name}: no answer to {text!r} within "
                               f"{self.a.reply_timeout} s")
            return None
        if name == "B" and not getattr(ev, "decrypted", False):
            self.notes["bot_plain_in_b"] += 1
        ended = any(ENDING in x[2].source.get("content", {}).get("body", "")
                    for x in self.after(room, eid, self.bot_id))
        return {"t": t - t0, "send": send_s, "parse": t - t_http,
                "text": self.msgtype(ev) == "m.text", "ending": ended}

    # -- the run --

    async def run(self):
        try:
            await self.login()
            rooms = await self.rooms()
            log("rooms A (plain) and B (encrypted) greeted; starting "
                f"{SCENARIO} in both")
            for room in rooms.values():
                await self.rehearse(room, "!start " + SCENARIO)
            await self.latency(rooms)
        finally:
            if self.sync_task:
                self.sync_task.cancel()
                try:
                    await self.sync_task
                except BaseException:     # noqa: BLE001 - shutting down
                    pass
            if self.client:
                await self.client.close()

    async def latency(self, rooms):
        a = self.a
        lines = dialogue_lines()
        total = a.warmup + a.messages
        res = {"A": [], "B": []}
        dlg_of = {n: lines[0][0] for n in rooms}
        cpu0 = self.bot.cpu()
        log(f"latency: {total} messages per room ({a.warmup} warm-up), "
            "A and B taking turns")
        for i in range(total):
            dlg, text = lines[i % len(lines)]
            for name, room in rooms.items():
                # never wait for an answer that will not come: a new
                # rehearsal after an ending, and for each new dialogue
                if not self.active(room):
                    await self.rehearse(room, "!start " + SCENARIO)
                    self.notes["restarts"] += 1
                elif dlg != dlg_of[name]:
                    await self.rehearse(room, "!opnieuw")
                    self.notes["restarts"] += 1
                dlg_of[name] = dlg
                x = await self.sample(name, room, text)
                if x is not None and i >= a.warmup:
                    res[name].append(x)
                self.check_alive()
            if (i + 1) % 20 == 0:
                log(f"  {i + 1}/{total}")
        self.res = res
        self.res_cpu = self.bot.cpu() - cpu0

    # -- report --

    def report(self, argv, crypto, load0):
        a, P = self.a, print
        commit = sh("git", "-C", ROOT, "rev-parse", "--short", "HEAD",
                    check=False) or "?"
        dirty = sh("git", "-C", ROOT, "status", "--porcelain", "--", "bot",
                   check=False)
        load1 = os.getloadavg()
        P()
        P("Oefenkamer: reply latency in an encrypted room next to an "
          "unencrypted one")
        P(f"  {time.strftime('%Y-%m-%d %H:%M')}, commit {commit}"
          f"{' (bot/ modified)' if dirty else ''}; {os.cpu_count()} CPUs;"
          f" Linux {platform.release()}")
        P(f"  Synapse {synapse_version()} (SQLite) on loopback; trainee: "
          f"matrix-nio {version('matrix-nio')} with python-olm "
          f"{version('python-olm')} on Python {platform.python_version()}")
        P("  one bot process (typing off, gather_ms 0, encryption on), "
          "one trainee device, rooms A and B taking turns")
        P("  load average at start " + " ".join(f"{x:.2f}" for x in load0)
          + ", at end " + " ".join(f"{x:.2f}" for x in load1))
        P("  command: " + " ".join(shlex.quote(x) for x in argv))
        P()
        P("Per-message crypto cost in the bot (oefenkamer bench crypto):")
        for line in crypto.splitlines():
            P("  " + line)
        A, B = self.res.get("A", []), self.res.get("B", [])
        if A or B:
            P()
            P(f"Reply latency: {a.messages} messages per room after "
              f"{a.warmup} warm-up; ms")

            def row(label, xs, ratio=True):
                cells = " ".join(f"{ms(pct(xs, p)) if xs else 'n/a':>8}"
                                 for p in (50, 90, 99))
                P(f"  {label:44} {cells} {ms(max(xs)) if xs else 'n/a':>8}")
            P(f"  {'':44} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8}")
            ta, tb = [x["t"] for x in A], [x["t"] for x in B]
            row("A unencrypted: send -> reply on trainee sync", ta)
            row("B encrypted:   send -> reply on trainee sync", tb)
            row("A: room_send call (trainee)", [x["send"] for x in A])
            row("B: room_send call (trainee, incl. encrypt)",
                [x["send"] for x in B])
            row("A: trainee parses the /sync with the reply",
                [x["parse"] for x in A])
            row("B: trainee parses + decrypts that /sync",
                [x["parse"] for x in B])
            if ta and tb:
                P(f"  B/A at p50: {pct(tb, 50) / pct(ta, 50):.2f}; "
                  f"B-A at p50: {ms(pct(tb, 50) - pct(ta, 50))} ms")
            n = self.notes
            ends = sum(x["ending"] for x in A + B)
            notext = sum(not x["text"] for x in A + B)
            P(f"  answered: A {len(A)}/{a.messages}, B {len(B)}/"
              f"{a.messages} (plus {a.warmup} warm-up each); of the "
              f"samples, {ends} answers ended a rehearsal and {notext} "
              f"were not m.text; {n['restarts']} restarts in the run")
            P(f"  bot CPU during the samples: {self.res_cpu:.2f} s for "
              f"{2 * (a.messages + a.warmup)} messages")
            if n["bot_plain_in_b"]:
                P(f"  WARNING: {n['bot_plain_in_b']} bot answers in B "
                  "came unencrypted")
        P()
        if self.broken:
            P("BROKEN:")
            for b in self.broken:
                P("  " + b)


def bot_log_problems(text):
    """Log lines of the bot that look like trouble (the log is Dutch)."""
    pat = re.compile(r"mislukt|fout|kan niet|niet gelezen|ontsleutel|"
                     r"onleesbaar|error|warn", re.I)
    return [line for line in text.splitlines() if pat.search(line)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--port", type=int, default=18052)
    ap.add_argument("--reply-timeout", type=float, default=15)
    ap.add_argument("--keep", action="store_true",
                    help="keep the bot's log, store and the trainee's "
                    "nio store")
    a = ap.parse_args()
    preflight("bench_e2ee", "Synapse in a chroot", ("nio", "olm"))
    quiet_nio()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    argv = [sys.executable if sys.executable.startswith("/usr/") else
            os.path.relpath(sys.executable),
            os.path.relpath(os.path.abspath(sys.argv[0]), ROOT)] + \
        sys.argv[1:]
    load0 = os.getloadavg()
    log("oefenkamer bench crypto")
    r = subprocess.run([BIN, "bench", "crypto"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    crypto = r.stdout.rstrip()
    b = Bench(a)
    if r.returncode != 0:
        b.broken.append(f"oefenkamer bench crypto exited {r.returncode}")
    try:
        b.start_processes()
        asyncio.run(b.run())
    except (Broken, TimeoutError, OSError, sqlite3.Error) as e:
        b.broken.append(f"{type(e).__name__}: {e}")
    finally:
        try:
            b.report(argv, crypto, load0)
            if b.bot:
                problems = bot_log_problems(b.bot.tail(None))
                if problems:
                    print(f"bot log: {len(problems)} lines that look like "
                          "trouble (last 20):")
                    for line in problems[-20:]:
                        print("  " + line)
                if b.broken:
                    log("--- bot log (tail) ---\n" +
                        b.bot.tail())
        finally:
            b.stop_processes()
            if a.keep:
                log(f"bot log, store and nio store kept in {b.dir}")
            else:
                shutil.rmtree(b.dir, ignore_errors=True)
    return 1 if b.broken else 0


if __name__ == "__main__":
    sys.exit(main())
