#!/usr/bin/python3
"""Integration tests of the Oefenkamer bot in end-to-end encrypted rooms.

The other side is a real, independent E2EE client: Debian's matrix-nio
with python-olm (run with /usr/bin/python3, which has them). Everything
the test asserts is what the nio clients decrypt, what the homeserver
returns (raw events, /keys/query) and what the bot stored. Synapse runs on
loopback ("e2ee" instance), started by tools/synapse.sh. Prints
'N passed, M failed' and exits non-zero on failure.

    test_e2ee.py [--only NAME] [--keep]

The tests tell one story in one encrypted direct chat (each test creates
what it needs when run alone with --only): the trainee opens it, rehearses,
the bot restarts, a second device and a coach arrive, the bot's
cross-signing is checked, forged events are refused, a message arrives
before its key, a verification is cancelled with its reason, and a wrong
pickle key stops the bot.
"""
import asyncio
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

import olm
from nio.crypto.attachments import decrypt_attachment
from nio import (AsyncClient, AsyncClientConfig, EnableEncryptionBuilder,
                 DummyEvent, KeyVerificationCancel, LoginResponse,
                 MegolmEvent, RoomKeyRequest,
                 RoomKeyRequestCancellation, RoomPreset)
from nio.exceptions import EncryptionError

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from mxclient import Client, MatrixError, sync_until  # noqa: E402
from nio_e2ee import nio_keys, quiet_nio  # noqa: E402
from test_bot import (BIN, BOT, MARK, PASSWORD, ROOT, Bot,  # noqa: E402
                      Homeserver, check, check_debrief_html, dialogue, drain,
                      export_html, notices, persona_msgs, play, run_tests,
                      same, settle, stored)

MEGOLM = "m.megolm.v1.aes-sha2"
OLM = "m.olm.v1.curve25519-aes-sha2"
UNREADABLE = MARK + "Ik kan je bericht niet lezen"
LOOP = asyncio.new_event_loop()
asyncio.set_event_loop(LOOP)


def run(coro):
    return LOOP.run_until_complete(coro)


# --- an E2EE client: matrix-nio behind the test client's interface ------

class Nio:
    """A nio AsyncClient with encryption and its own store, driven
    synchronously. messages(), sync(), send() and wait_for() behave as
    mxclient.Client's, so test_bot's helpers (notices, settle, play,
    drain) work unchanged; messages() returns only what decrypted (or was
    never encrypted), with "encrypted" saying which."""

    def __init__(self, hs, local, device_name="nio"):
        self.hs = hs
        self.user_id = hs.user(local)
        self.dir = tempfile.mkdtemp(prefix="oef-nio-")
        cfg = AsyncClientConfig(encryption_enabled=True,
                                store_sync_tokens=False)
        self.c = AsyncClient(hs.url, self.user_id, store_path=self.dir,
                             config=cfg)
        r = run(self.c.login(PASSWORD, device_name=device_name))
        check(isinstance(r, LoginResponse), f"nio login: {r}")
        self.device_id = self.c.device_id
        # raw HTTP with the same token; never sync with it (that would
        # take this device's to-device messages from nio)
        self.raw = Client(hs.url, self.user_id, token=self.c.access_token)
        self.events = {}      # room -> nio events, in timeline order
        self.seen = set()
        self.invites = set()
        self.to_device = []   # every to-device event nio surfaced
        self.first = True
        self.sync()

    @property
    def curve25519(self):
        return self.c.olm.account.identity_keys["curve25519"]

    @property
    def ed25519(self):
        return self.c.olm.account.identity_keys["ed25519"]

    def sync(self, timeout_ms=0):
        r = run(self.c.sync(timeout=timeout_ms, full_state=self.first))
        if not hasattr(r, "next_batch"):
            raise RuntimeError(f"nio sync failed: {r}")
        self.first = False
        for room, info in r.rooms.join.items():
            for ev in info.timeline.events:
                eid = getattr(ev, "event_id", None)
                if eid in self.seen:
                    continue
                self.seen.add(eid)
                self.events.setdefault(room, []).append(ev)
        for room in r.rooms.invite:
            self.invites.add(room)
        self.to_device.extend(r.to_device_events)
        run(nio_keys(self.c))
        return r

    def retry_decrypt(self, room):
        """Events whose key arrived later decrypt now."""
        evs = self.events.get(room, [])
        for i, ev in enumerate(evs):
            if isinstance(ev, MegolmEvent):
                try:
                    evs[i] = self.c.decrypt_event(ev)
                except EncryptionError:
                    pass

    def undecrypted(self, room, sender=None):
        self.retry_decrypt(room)
        return [e for e in self.events.get(room, [])
                if isinstance(e, MegolmEvent) and
                (sender is None or e.sender == sender)]

    def messages(self, room, sender=None, msgtype=None):
        self.retry_decrypt(room)
        out = []
        for ev in self.events.get(room, []):
            src = ev.source if isinstance(ev.source, dict) else {}
            if src.get("type") != "m.room.message":
                continue
            if sender and ev.sender != sender:
                continue
            content = src.get("content", {})
            if msgtype and content.get("msgtype") != msgtype:
                continue
            out.append({"event_id": ev.event_id, "sender": ev.sender,
                        "type": "m.room.message", "content": content,
                        "encrypted": bool(getattr(ev, "decrypted", False)),
                        "session_id": getattr(ev, "session_id", None)})
        return out

    def send(self, room, body, msgtype="m.text", content=None):
        c = content or {"msgtype": msgtype, "body": body}
        r = run(self.c.room_send(room, "m.room.message", c,
                                 ignore_unverified_devices=True))
        check(hasattr(r, "event_id"), f"nio send failed: {r}")
        return r.event_id

    def create_dm(self, invite, encryption=None):
        enc = EnableEncryptionBuilder().as_dict()
        enc["content"].update(encryption or {})
        r = run(self.c.room_create(
            is_direct=True, preset=RoomPreset.trusted_private_chat,
            invite=list(invite), initial_state=[enc]))
        check(hasattr(r, "room_id"), f"createRoom failed: {r}")
        self.sync()
        return r.room_id

    def join(self, room):
        r = run(self.c.join(room))
        check(hasattr(r, "room_id"), f"join failed: {r}")
        self.sync()

    def invite(self, room, user):
        run(self.c.room_invite(room, user))

    def wait_for(self, pred, timeout=30.0, what="event"):
        return sync_until(self.sync, pred, timeout, what, 2)

    def close(self):
        try:
            run(self.c.close())
        except Exception:
            pass


# --- raw Matrix and signed JSON ------------------------------------------

def put_raw(c, room, etype, content):
    """PUT an event exactly as given, past nio's own encryption."""
    return c.raw.send_event(room, etype, content)


def raw_event(c, room, event_id):
    q = urllib.parse.quote(room, safe="")
    e = urllib.parse.quote(event_id, safe="")
    return c.raw._req("GET", f"/rooms/{q}/event/{e}")


def raw_timeline(c, room, limit=1000):
    """The room's events as the server stores them, oldest first."""
    q = urllib.parse.quote(room, safe="")
    r = c.raw._req("GET", f"/rooms/{q}/messages",
                   query={"dir": "b", "limit": str(limit)})
    return list(reversed(r.get("chunk", [])))


def unknown_session_send(c, room, lines):
    """Encrypt lines with a Megolm session nobody was given, from c's
    device, and PUT them. Returns (session id, session key at index 0)."""
    out = olm.OutboundGroupSession()
    sk = out.session_key
    for line in lines:
        plain = json.dumps({"type": "m.room.message", "room_id": room,
                            "content": {"msgtype": "m.text", "body": line}})
        put_raw(c, room, "m.room.encrypted", {
            "algorithm": MEGOLM, "sender_key": c.curve25519,
            "ciphertext": out.encrypt(plain), "session_id": out.id,
            "device_id": c.device_id})
    return out.id, sk


def send_room_key(c, user, dev, room, session_id, session_key):
    """An m.room_key for (room, session) from c's device to one device of
    user, over a new Olm session on a claimed one-time key."""
    q = keys_query(c.raw, user)["device_keys"][user][dev]
    ed = verify_device(q, user, dev)
    curve = q["keys"]["curve25519:" + dev]
    claim = c.raw._req("POST", "/keys/claim", {"one_time_keys": {
        user: {dev: "signed_curve25519"}}})
    keys = claim["one_time_keys"].get(user, {}).get(dev, {})
    check(len(keys) == 1, f"one one-time key claimed for {dev}: {keys}")
    (kid, otk), = keys.items()
    check(kid.startswith("signed_curve25519:"), f"key id {kid}")
    verify_sig(otk, user, "ed25519:" + dev, ed, "claimed one-time key")
    sess = olm.OutboundSession(c.c.olm.account, curve, otk["key"])
    payload = json.dumps({
        "type": "m.room_key", "sender": c.user_id,
        "sender_device": c.device_id, "keys": {"ed25519": c.ed25519},
        "recipient": user, "recipient_keys": {"ed25519": ed},
        "content": {"algorithm": MEGOLM, "room_id": room,
                    "session_id": session_id, "session_key": session_key}})
    msg = sess.encrypt(payload)
    c.raw._req("PUT", f"/sendToDevice/m.room.encrypted/k{time.time_ns()}",
               {"messages": {user: {dev: {
                   "algorithm": OLM, "sender_key": c.curve25519,
                   "ciphertext": {curve: {"type": msg.message_type,
                                          "body": msg.ciphertext}}}}}})


def forged(c, room, body):
    """A fresh Megolm message from c's room session with one byte of the
    encrypted payload flipped (so its MAC and signature fail)."""
    content = c.c.olm.group_encrypt(room, {
        "type": "m.room.message",
        "content": {"msgtype": "m.text", "body": body}})
    ct = bytearray(base64.b64decode(content["ciphertext"] + "=="))
    pos = 1 + (len(ct) - 1 - 8 - 64) // 2     # inside the payload
    ct[pos] ^= 0x5a
    content["ciphertext"] = base64.b64encode(bytes(ct)).decode().rstrip("=")
    return content


def keys_query(raw, user):
    return raw._req("POST", "/keys/query", {"device_keys": {user: []}})


def canonical(obj):
    o = {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}
    return json.dumps(o, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def verify_sig(obj, user, key_id, pub, what):
    sig = obj.get("signatures", {}).get(user, {}).get(key_id)
    check(sig, f"{what}: no signature by {user} {key_id}")
    try:
        olm.ed25519_verify(pub, canonical(obj), sig)
    except olm.OlmVerifyError as e:
        raise AssertionError(f"{what}: signature {key_id} invalid: {e}")


def sig_ok(obj, user, key_id, pub):
    try:
        verify_sig(obj, user, key_id, pub, "")
        return True
    except AssertionError:
        return False


def one_ed25519(k, what):
    keys = k.get("keys", {})
    check(len(keys) == 1, f"{what}: one key, got {keys}")
    (kid, pub), = keys.items()
    check(kid == "ed25519:" + pub, f"{what}: key id {kid} names its key")
    return pub


def verify_device(dev, user, device_id):
    """A device_keys object is well formed and self-signed; returns its
    ed25519 key."""
    check(dev.get("user_id") == user and dev.get("device_id") == device_id,
          f"device ids: {dev.get('user_id')} {dev.get('device_id')}")
    check(OLM in dev.get("algorithms", []) and
          MEGOLM in dev.get("algorithms", []), "device algorithms")
    ed = dev["keys"].get("ed25519:" + device_id)
    check(ed and dev["keys"].get("curve25519:" + device_id),
          "device has ed25519 and curve25519 keys")
    verify_sig(dev, user, "ed25519:" + device_id, ed, "device self-signed")
    return ed


def verify_cross_signing(q, user, device_id):
    """The chain master -> self-signing -> device, from a /keys/query
    answer."""
    dev = q["device_keys"][user][device_id]
    verify_device(dev, user, device_id)
    master = q.get("master_keys", {}).get(user)
    ssk = q.get("self_signing_keys", {}).get(user)
    check(master, "a master key is published")
    check(ssk, "a self-signing key is published")
    check(master.get("user_id") == user and ssk.get("user_id") == user,
          "cross-signing keys name the user")
    check(master.get("usage") == ["master"], f"master usage "
          f"{master.get('usage')}")
    check(ssk.get("usage") == ["self_signing"], f"self-signing usage "
          f"{ssk.get('usage')}")
    mpub = one_ed25519(master, "master key")
    spub = one_ed25519(ssk, "self-signing key")
    check(mpub != spub, "distinct keys")
    verify_sig(ssk, user, "ed25519:" + mpub, mpub,
               "self-signing key signed by the master key")
    verify_sig(dev, user, "ed25519:" + spub, spub,
               "device signed by the self-signing key")
    return mpub, spub


# --- the bot with encryption --------------------------------------------

def write_key(path, key):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, key + b"\n")
    os.close(fd)
    os.chmod(path, 0o600)


def e2ee_bot(hs):
    # no "pickle" in the path: the log must say it, not echo the name
    d = tempfile.mkdtemp(prefix="oef-e2ee-")
    keyfile = os.path.join(d, "secret")
    key = os.urandom(24).hex().encode()
    write_key(keyfile, key)
    bot = Bot(hs, allow=["@trainee*:localhost", "@coach:localhost"],
              extra={"encryption": {"pickle_key_file": keyfile,
                                    "rotation_messages": 100,
                                    "rotation_ms": 3600000}})
    bot.keyfile, bot.key = keyfile, key
    return bot


def bot_devices(raw):
    q = keys_query(raw, BOT)
    return {d: (v["keys"].get("ed25519:" + d), v["keys"].get(
        "curve25519:" + d)) for d, v in q["device_keys"].get(BOT, {}).items()}


def bot_device(raw):
    devs = bot_devices(raw)
    check(len(devs) == 1, f"the bot has one device with keys: {devs}")
    (dev, (ed, curve)), = devs.items()
    return dev, ed, curve


def bot_events_all_encrypted(c, room):
    """Every non-state event the bot sent in the room is m.room.encrypted
    on the server."""
    plain = [e["type"] for e in raw_timeline(c, room)
             if e.get("sender") == BOT and "state_key" not in e and
             e["type"] != "m.room.encrypted"]
    check(not plain, f"bot sent unencrypted events: {plain}")


def waiting_exit(bot, timeout=30):
    try:
        return bot.proc.wait(timeout=timeout)
    except Exception:
        return None


# --- story state shared by the tests ------------------------------------

def script_one():
    """The id of the scenario that "!start 1" starts, from the bot's own
    catalogue."""
    env = {**os.environ, "OEF_SCRIPTS": os.path.join(ROOT, "scripts"),
           "OEF_PERSONAS": os.path.join(ROOT, "personas")}
    out = subprocess.run([BIN, "scenarios", "--json"], env=env, check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return [s["id"] for s in json.loads(out) if s["nummer"] == 1][0]


def script_dialogue(script, kind, long=False):
    """The lines of the test dialogue of script that reaches an ending of
    kind (goed, breuk, neutraal)."""
    with open(os.path.join(ROOT, "scripts", script + ".oef"),
              encoding="utf-8") as f:
        ends = [l.split()[1] for l in f if l.startswith("einde ") and
                l.split()[2:3] == [kind]]
    for e in ends:
        name = f"{script}.{e}" + (".lang" if long else "")
        if os.path.exists(os.path.join(ROOT, "tests", "data", "dialogues",
                                       name + ".txt")):
            return dialogue(name)
    raise AssertionError(f"no {kind} dialogue for {script}")


class Story:
    def __init__(self, hs, bot):
        self.hs, self.bot = hs, bot
        self.trainee = None      # first device
        self.room = None
        self.clients = []
        self.script = script_one()

    def client(self, local, device_name="nio"):
        c = Nio(self.hs, local, device_name)
        self.clients.append(c)
        return c

    def dm(self):
        """The trainee's encrypted direct chat with the bot, greeted."""
        if self.room:
            return self.trainee, self.room
        t = self.trainee = self.client("trainee1", "trainee laptop")
        self.room = t.create_dm([BOT])
        t.wait_for(lambda: notices(t, self.room), timeout=60,
                   what="the bot's greeting, decrypted")
        return t, self.room

    def session(self):
        """An active rehearsal in the DM."""
        t, room = self.dm()
        if not self.active():
            n = len(persona_msgs(t, room))
            t.send(room, "!start 1")
            t.wait_for(lambda: len(persona_msgs(t, room)) > n,
                       what="opening lines")
            settle(t, room)
        return t, room

    def active(self):
        db = self.bot.db()
        try:
            return db.execute("SELECT count(*) FROM sessions WHERE room = ?"
                              " AND ended_ms = 0", (self.room,)
                              ).fetchone()[0] > 0
        finally:
            db.close()

    def close(self):
        for c in self.clients:
            c.close()
            shutil.rmtree(c.dir, ignore_errors=True)


def trainee_turns(bot, room):
    return stored(bot, room)[0]


# --- tests -------------------------------------------------------------

def test_harness_nio_pair(st):
    """The harness itself, with nio on both ends: an encrypted room, a
    message decrypted by the other side, and the signature checker
    accepting a real device and refusing a forged one."""
    a = st.client("trainee90")
    b = st.client("trainee91")
    room = a.create_dm([b.user_id])
    b.wait_for(lambda: room in b.invites or room in b.c.rooms, what="invite")
    b.join(room)
    a.sync()
    a.send(room, "geheim 1")
    got = b.wait_for(lambda: [m for m in b.messages(room, a.user_id)
                              if m["content"]["body"] == "geheim 1"],
                     what="a's message at b")
    check(got[0]["encrypted"], "it came encrypted")
    raw = raw_event(b, room, got[0]["event_id"])
    check(raw["type"] == "m.room.encrypted" and
          raw["content"]["algorithm"] == MEGOLM, "server holds ciphertext")
    check("geheim" not in json.dumps(raw), "no plaintext on the server")
    q = keys_query(b.raw, a.user_id)
    dev = q["device_keys"][a.user_id][a.device_id]
    ed = verify_device(dev, a.user_id, a.device_id)
    check(ed == a.ed25519, "the published key is nio's own")
    bad = json.loads(json.dumps(dev))
    bad["keys"]["curve25519:" + a.device_id] = b.curve25519
    check(not sig_ok(bad, a.user_id, "ed25519:" + a.device_id, ed),
          "a changed device object fails verification")
    check(not sig_ok(dev, a.user_id, "ed25519:" + a.device_id, b.ed25519),
          "another device's key does not verify it")
    # the forgeries the bot must refuse, refused by nio too: a replay,
    # a flipped byte; and the late key that the bot must accept, accepted
    put_raw(a, room, "m.room.encrypted", raw["content"])
    put_raw(a, room, "m.room.encrypted", forged(a, room, "vervalst"))
    sid, sk = unknown_session_send(a, room, ["laat 1", "laat 2"])
    a.send(room, "geheim 2")
    b.wait_for(lambda: [m for m in b.messages(room, a.user_id)
                        if m["content"]["body"] == "geheim 2"],
               what="the message after the forgeries")
    bodies = [m["content"]["body"] for m in b.messages(room, a.user_id)]
    check(bodies == ["geheim 1", "geheim 2"], f"nio read: {bodies}")
    check(len(b.undecrypted(room, a.user_id)) == 4,
          "replay, forgery and two late messages unreadable")
    send_room_key(a, b.user_id, b.device_id, room, sid, sk)
    b.wait_for(lambda: len(b.messages(room, a.user_id)) == 4,
               what="the late messages once their key came")
    bodies = [m["content"]["body"] for m in b.messages(room, a.user_id)]
    check(bodies == ["geheim 1", "laat 1", "laat 2", "geheim 2"],
          f"nio read: {bodies}")
    check(len(b.undecrypted(room, a.user_id)) == 2, "still not the forgery "
          "nor the replay")


def test_encrypted_dm_greeting(st):
    t, room = st.dm()
    g = notices(t, room)[0]
    check("!oefeningen" in g, "greeting explains the commands: " + g[:80])
    msgs = t.messages(room, BOT)
    check(all(m["encrypted"] for m in msgs),
          "every bot message came encrypted")
    bot_events_all_encrypted(t, room)
    check(BOT in t.raw.joined_members(room), "bot joined")


def test_full_rehearsal(st):
    t, room = st.dm()
    bot = st.bot
    lines = script_dialogue(st.script, "goed")
    before_t = trainee_turns(bot, room)
    before_p = len(persona_msgs(t, room))
    t.send(room, "!start 1")
    t.wait_for(lambda: len(persona_msgs(t, room)) > before_p,
               what="opening lines")
    settle(t, room)
    play(t, room, lines)
    t.wait_for(lambda: any("Einde van de oefening" in n
                           for n in notices(t, room)), what="debrief")
    drain(bot, t, room)
    end = [n for n in notices(t, room) if "Einde van de oefening" in n][-1]
    check("goed afgerond" in end, "good ending reached: " + end[:80])
    trainee, persona, pending = stored(bot, room)
    check(trainee[len(before_t):] == lines,
          "every trainee line stored once, in order")
    check(pending == 0, "every line answered")
    same(persona, persona_msgs(t, room), "what the trainee decrypted is "
         "what the bot stored")
    check(all(m["encrypted"] for m in t.messages(room, BOT)),
          "all bot messages were encrypted")
    check(not t.undecrypted(room, BOT), "no bot message left undecrypted")
    bot_events_all_encrypted(t, room)
    # the debrief is HTML, and the full page follows as an encrypted
    # attachment that nio decrypts to the export's page
    db = bot.db()
    sid, = db.execute("SELECT max(id) FROM sessions WHERE room = ?",
                      (room,)).fetchone()
    db.close()
    check_encrypted_attachment(t, room, bot, sid)


def check_encrypted_attachment(t, room, bot, sid):
    """After the room's last debrief: an m.file with "file" (the key,
    url inside) and no clear "url", that came encrypted; its download is
    ciphertext, and nio's decrypt_attachment gives the export's page."""
    msgs = t.messages(room, BOT)
    k = max(i for i, m in enumerate(msgs)
            if m["content"].get("body", "").startswith(
                MARK + "Einde van de oefening"))
    check_debrief_html(msgs[k])
    check(k + 1 < len(msgs), "a message after the debrief")
    f = msgs[k + 1]
    co = f["content"]
    check(co.get("msgtype") == "m.file" and f["encrypted"],
          f"the encrypted m.file after the debrief: {co}")
    check("url" not in co and "file" in co, f"file, no clear url: {co}")
    name = f"nabespreking-{sid}.html"
    check(co.get("body") == name and co.get("filename") == name and
          co.get("info", {}).get("mimetype") == "text/html",
          f"name and mimetype: {co}")
    fo = co["file"]
    check(fo.get("v") == "v2" and fo.get("url", "").startswith("mxc://"),
          f"the file object: v2 with its url: {fo.get('v')}")
    raw = raw_event(t, room, f["event_id"])
    check(raw["type"] == "m.room.encrypted" and
          fo["key"]["k"] not in json.dumps(raw),
          "the key travels only inside the ciphertext")
    cipher = t.raw.download(fo["url"])
    want = export_html(bot, sid)
    check(cipher != want and b"<html" not in cipher,
          "the media repository holds ciphertext")
    plain = decrypt_attachment(cipher, fo["key"]["k"],
                               fo["hashes"]["sha256"], fo["iv"])
    check(plain == want, f"nio decrypts the export's page ({len(plain)} "
          f"bytes, export {len(want)})")
    check(co["info"].get("size") == len(plain), "info.size is the page's")


def test_restart_mid_session(st):
    t, room = st.session()
    bot = st.bot
    lines = script_dialogue(st.script, "goed", long=True)[:6]
    before = trainee_turns(bot, room)
    devs = bot_devices(t.raw)
    play(t, room, lines[:2])
    bot.kill(signal.SIGKILL)
    bot.start()
    play(t, room, lines[2:4])
    rc = bot.kill(signal.SIGTERM)
    check(rc == 0, f"SIGTERM exits 0, got {rc}")
    bot.start()
    play(t, room, lines[4:])
    drain(bot, t, room)
    trainee, persona, pending = stored(bot, room)
    check(trainee[len(before):] == lines, "lines around both restarts "
          "stored exactly once")
    check(pending == 0, "all answered")
    same(persona, persona_msgs(t, room), "replies decrypted == stored")
    check(not t.undecrypted(room, BOT), "nothing undecryptable after "
          "restarts")
    check(bot.logtext().count("ingelogd als") == 1,
          "one login: restarts keep the device")
    check(bot_devices(t.raw) == devs, "the same device keys after restarts")


def stored_and_read(bot, t, reader, room, before, lines, what, who):
    """After the trainee t's lines: exactly lines were stored as new
    trainee turns since before, all answered, and reader decrypted the
    latest stored replies."""
    drain(bot, t, room)
    settle(reader, room)
    trainee, persona, pending = stored(bot, room)
    check(trainee[len(before):] == lines, f"{what} stored")
    check(pending == 0, "all answered")
    seen = persona_msgs(reader, room)
    check(seen and seen == persona[-len(seen):],
          f"{who} decrypted the latest stored replies")


def test_second_device(st):
    t, room = st.session()
    bot = st.bot
    t2 = st.client("trainee1", "trainee phone")
    check(t2.device_id != t.device_id, "a second device")
    t2.wait_for(lambda: room in t2.c.rooms, what="the room on device 2")
    t.sync()        # device 1 learns of device 2 before it sends again
    n2 = len(persona_msgs(t2, room))
    before = trainee_turns(bot, room)
    line = "Ik typ nu even vanaf mijn telefoon. Hoe gaat het met je?"
    t2.send(room, line)
    t2.wait_for(lambda: len(persona_msgs(t2, room)) > n2, timeout=60,
                what="the answer to device 2, decrypted on device 2")
    settle(t2, room)
    n2 = len(persona_msgs(t2, room))
    line2 = "En hoe is het op school?"
    t.send(room, line2)
    t2.wait_for(lambda: len(persona_msgs(t2, room)) > n2, timeout=60,
                what="the answer to device 1, decrypted on device 2")
    stored_and_read(bot, t, t2, room, before, [line, line2],
                    "both devices' lines", "device 2")


def test_coach_joins(st):
    t, room = st.session()
    bot = st.bot
    coach = st.client("coach", "coach laptop")
    t.invite(room, coach.user_id)
    coach.wait_for(lambda: room in coach.invites, what="coach invite")
    coach.join(room)
    t.sync()
    coach.send(room, "!tip Vraag eens wat zij zelf zou willen.")
    t.wait_for(lambda: any("Tip van de coach: Vraag eens wat zij" in n
                           for n in notices(t, room)), what="the tip")
    coach.wait_for(lambda: any("Tip van de coach: Vraag eens wat zij" in n
                               for n in notices(coach, room)),
                   timeout=60, what="the tip, decrypted by the coach")
    before = trainee_turns(bot, room)
    nc = len(persona_msgs(coach, room))
    line = "Wat zou jij zelf willen dat er verandert?"
    t.send(room, line)
    coach.wait_for(lambda: len(persona_msgs(coach, room)) > nc, timeout=60,
                   what="the persona's answer, decrypted by the coach")
    stored_and_read(bot, t, coach, room, before, [line],
                    "the trainee's line (the coach command is not a "
                    "trainee turn)", "the coach")
    bot_events_all_encrypted(coach, room)


def test_cross_signing(st):
    t, _ = st.dm()
    q = keys_query(t.raw, BOT)
    devs = q["device_keys"].get(BOT, {})
    check(len(devs) == 1, f"one bot device: {list(devs)}")
    device_id = next(iter(devs))
    mpub, spub = verify_cross_signing(q, BOT, device_id)
    # a forged chain must not pass the same checks
    bad = json.loads(json.dumps(q))
    bad["self_signing_keys"][BOT]["keys"] = {"ed25519:" + t.ed25519:
                                             t.ed25519}
    try:
        verify_cross_signing(bad, BOT, device_id)
        raise RuntimeError("the checker accepted a forged chain")
    except AssertionError:
        pass
    # The user-signing key is only shown to its owner: a short login as
    # the bot's user, without keys, then logged out again.
    own = Client(st.hs.url, BOT, PASSWORD)
    try:
        q2 = keys_query(own, BOT)
        usk = q2.get("user_signing_keys", {}).get(BOT)
        check(usk, "a user-signing key is published")
        check(usk.get("user_id") == BOT and
              usk.get("usage") == ["user_signing"], f"user-signing key "
              f"fields: {usk.get('user_id')} {usk.get('usage')}")
        upub = one_ed25519(usk, "user-signing key")
        check(upub not in (mpub, spub), "a key of its own")
        verify_sig(usk, BOT, "ed25519:" + mpub, mpub,
                   "user-signing key signed by the master key")
        check(q2["master_keys"][BOT]["keys"] ==
              q["master_keys"][BOT]["keys"], "the same master key for all")
    finally:
        try:
            own._req("POST", "/logout", {})
        except MatrixError:
            pass


def test_replay_and_tamper(st):
    t, room = st.session()
    bot = st.bot
    before = trainee_turns(bot, room)
    line = "Mag ik je iets vragen over thuis?"
    n = len(persona_msgs(t, room))
    eid = t.send(room, line)
    t.wait_for(lambda: len(persona_msgs(t, room)) > n, what="an answer")
    drain(bot, t, room)
    check(trainee_turns(bot, room) == before + [line], "line stored once")
    orig = raw_event(t, room, eid)
    check(orig["type"] == "m.room.encrypted", "sent encrypted")
    # 1. the same ciphertext again under a new event id
    replay = put_raw(t, room, "m.room.encrypted", orig["content"])
    check(replay != eid, "a new event id")
    # 2. a fresh ciphertext with one byte flipped
    put_raw(t, room, "m.room.encrypted",
            forged(t, room, "Dit bericht is vervalst."))
    # then a real line: once it is answered, the bot has read past both
    sentinel = "Oké. En wie is er thuis als je uit school komt?"
    n = len(persona_msgs(t, room))
    t.send(room, sentinel)
    t.wait_for(lambda: len(persona_msgs(t, room)) > n,
               what="the answer to the real line")
    drain(bot, t, room)
    trainee, persona, pending = stored(bot, room)
    check(trainee == before + [line, sentinel], f"neither the replay nor "
          f"the forgery became a trainee turn: {trainee[len(before):]}")
    check(pending == 0, "answered")
    check(not any("vervalst" in x for x in persona + trainee),
          "the forgery's text is nowhere")
    same(persona, persona_msgs(t, room), "replies seen == stored")
    check(bot.proc.poll() is None, "bot still running")


def test_late_key(st):
    t, room = st.session()
    bot = st.bot
    dev = bot_device(t.raw)[0]
    before = trainee_turns(bot, room)
    # a Megolm session the bot has never seen, from the trainee's device
    lines = ["Ik heb een vraag die ik lastig vind.",
             "Voel je je veilig thuis?"]
    sid, sk = unknown_session_send(t, room, lines)

    def unreadable():
        return [m for m in t.messages(room, BOT, "m.notice")
                if m["content"]["body"].startswith(UNREADABLE)]
    t.wait_for(unreadable, timeout=60, what="the 'cannot read' notice")
    note = unreadable()[0]["content"]

    def key_request(c):
        return [e for e in c.to_device if isinstance(e, RoomKeyRequest)
                and e.sender == BOT and e.session_id == sid]
    # to every device of the sender (a second one when test_second_device
    # ran before)
    for c in [c for c in st.clients if c.user_id == t.user_id]:
        req = c.wait_for(lambda c=c: key_request(c), timeout=60,
                         what=f"m.room_key_request at {c.device_id}")[0]
        check(req.room_id == room and req.sender_key == t.curve25519 and
              req.algorithm == MEGOLM and req.requesting_device_id == dev,
              f"the key request names the session: {req.source}")
    check(t.user_id in note["body"] or t.user_id in json.dumps(note),
          "the notice is addressed to the sender: " + note["body"][:120])
    check(trainee_turns(bot, room) == before,
          "nothing stored before the key")
    # the key, over Olm, with a one-time key claimed from the bot
    send_room_key(t, BOT, dev, room, sid, sk)

    def answered():
        new = trainee_turns(bot, room)[len(before):]
        return sorted(new) == sorted(lines) and stored(bot, room)[2] == 0
    end = time.time() + 60
    while not answered() and time.time() < end:
        t.sync(timeout_ms=1000)
    drain(bot, t, room)
    trainee, persona, pending = stored(bot, room)
    new = trainee[len(before):]
    check(sorted(new) == sorted(lines), f"the waiting messages decrypted "
          f"and stored once each: {new}")
    check(pending == 0, "and answered")
    same(persona, persona_msgs(t, room), "replies seen == stored")
    check(len(unreadable()) == 1, f"one notice for two unreadable messages"
          f" of one session, got {len(unreadable())}")
    check(new == lines, f"stored in the order they were sent: {new}")


def test_pickle_key(st):
    t, room = st.session()
    bot = st.bot
    devs = bot_devices(t.raw)
    wrong = os.urandom(24).hex().encode()
    problems = []     # every case runs; all that failed are reported

    def refused(what, says_pickle=True):
        mark = len(bot.logtext())
        bot.start()
        rc = waiting_exit(bot)
        if rc is None:
            bot.kill()
        log = bot.logtext()[mark:].strip()
        try:
            check(rc is not None and rc != 0, f"{what}: exits non-zero "
                  f"(rc {rc})")
            if says_pickle:
                check("pickle" in log, f"{what}: the log says pickle")
            check(bot.key.decode() not in log and wrong.decode() not in
                  log, f"{what}: no key in the log")
            check(bot_devices(t.raw) == devs, f"{what}: no new device or "
                  f"keys")
        except AssertionError as e:
            problems.append(f"{e}; log: {log[-300:]!r}")

    rc = bot.kill(signal.SIGTERM)
    check(rc == 0, f"SIGTERM exits 0, got {rc}")
    try:
        write_key(bot.keyfile, wrong)
        refused("another key in the file")
        os.unlink(bot.keyfile)
        refused("no key file")
        write_key(bot.keyfile, bot.key)
        os.chmod(bot.keyfile, 0o644)
        refused("key file readable by others", says_pickle=False)
        # the environment goes before the file
        os.chmod(bot.keyfile, 0o600)
        bot.env["OEFENKAMER_PICKLE_KEY"] = wrong.decode()
        refused("another key in OEFENKAMER_PICKLE_KEY")
        bot.env["OEFENKAMER_PICKLE_KEY"] = bot.key.decode()
        write_key(bot.keyfile, wrong)
        bot.start()
        answers(st, "Hoor je me nog?", "the right key from the environment")
        rc = bot.kill(signal.SIGTERM)
        check(rc == 0, f"SIGTERM exits 0, got {rc}")
    finally:
        if bot.proc.poll() is None:
            bot.kill()
        bot.env.pop("OEFENKAMER_PICKLE_KEY", None)
        write_key(bot.keyfile, bot.key)
        bot.start()
    answers(st, "Ben je er nog?", "the right key in the file again")
    check(bot_devices(t.raw) == devs, "the same device and keys")
    check(not problems, "\n".join(problems))


def test_wedged_session(st):
    """An Olm message from a known device that no session decrypts: the
    bot starts a fresh Olm session to that device with an m.dummy, once
    (not again for the next broken message within the hour)."""
    t, room = st.dm()
    dev, _ed, curve = bot_device(t.raw)

    def broken():
        body = base64.b64encode(os.urandom(120)).decode().rstrip("=")
        t.raw._req("PUT", f"/sendToDevice/m.room.encrypted/w{time.time_ns()}",
                   {"messages": {BOT: {dev: {
                       "algorithm": OLM, "sender_key": t.curve25519,
                       "ciphertext": {curve: {"type": 1, "body": body}}}}}})

    def dummies():
        return [e for e in t.to_device if isinstance(e, DummyEvent)
                and e.sender == BOT]
    before = len(dummies())
    broken()
    t.wait_for(lambda: len(dummies()) > before, timeout=30,
               what="an m.dummy from the bot over a fresh Olm session")
    broken()
    end = time.time() + 4
    while time.time() < end:
        t.sync(timeout_ms=1000)
    check(len(dummies()) == before + 1, f"one m.dummy, not one per broken "
          f"message ({len(dummies()) - before})")
    if st.active():   # and the room still works
        answers(st, "Ben je er nog?", "a fresh Olm session")


def test_rotation_by_count(st):
    """A room that asks for a new key every 2 messages gets one."""
    t, _ = st.dm()
    room = t.create_dm([BOT], encryption={"rotation_period_msgs": 2})
    t.wait_for(lambda: notices(t, room), timeout=60,
               what="the greeting in the second room")
    for i in range(2):
        n = len(notices(t, room))
        t.send(room, "!oefeningen")
        t.wait_for(lambda: len(notices(t, room)) > n, timeout=60,
                   what="the list of scenarios")
    ids = bot_session_ids(t, room)
    check(len(ids) == 3, f"three bot messages: {len(ids)}")
    check(ids[0] == ids[1] and ids[2] != ids[1],
          f"a new room key after 2 messages: {ids}")


def bot_session_ids(c, room):
    """Megolm session ids of the bot's events, oldest first."""
    return [e["content"].get("session_id") for e in raw_timeline(c, room)
            if e.get("sender") == BOT and e.get("type") == "m.room.encrypted"]


def test_rotation_on_leave(st):
    """Someone leaves: the bot's next message uses a room key they never
    had; the members still read it."""
    t, room = st.session()
    guest = st.client("gast", "gast laptop")
    t.invite(room, guest.user_id)
    guest.wait_for(lambda: room in guest.invites, what="the guest's invite")
    guest.join(room)
    t.sync()
    answers(st, "Hoe gaat het nu met jullie thuis?", "a guest in the room")
    before = bot_session_ids(t, room)[-1]
    check(guest.wait_for(lambda: persona_msgs(guest, room), timeout=60,
                         what="the guest reading the persona"),
          "the guest decrypts while in the room")
    guest.raw.leave(room)

    def bot_saw_leave():
        db = st.bot.db()
        try:
            return db.execute("SELECT count(*) FROM crypto WHERE kind ="
                              " 'mem' AND k1 = ? AND k2 = ?",
                              (room, guest.user_id)).fetchone()[0] == 0
        finally:
            db.close()
    t.wait_for(bot_saw_leave, timeout=30, what="the bot seeing the guest go")
    answers(st, "Wat zou je willen dat er anders gaat?", "the guest gone")
    after = bot_session_ids(t, room)[-1]
    check(after != before, f"a new room key after the guest left "
          f"({before} -> {after})")
    bot_events_all_encrypted(t, room)


def answers(st, line, what):
    """The bot answers line in the DM and stores it as a trainee turn."""
    t, room, bot = st.trainee, st.room, st.bot
    before = trainee_turns(bot, room)
    n = len(persona_msgs(t, room))
    t.send(room, line)
    t.wait_for(lambda: len(persona_msgs(t, room)) > n, timeout=60,
               what=f"an answer with {what}")
    drain(bot, t, room)
    check(trainee_turns(bot, room) == before + [line], f"stored with {what}")


# --- growth and integrity (issue 10) ----------------------------------------

def test_encrypted_state_ignored(st):
    """An encrypted state event that decrypts to m.room.create (or
    m.room.power_levels) does not change who created the room or who
    coaches: the trainee, who made the room, stays no coach."""
    t, room = st.session()
    bot = st.bot
    q = urllib.parse.quote(room, safe="")
    for etype, content in (
            ("m.room.create", {"creator": "@niemand:localhost",
                               "room_version": "10"}),
            ("m.room.power_levels", {"users": {t.user_id: 50,
                                               BOT: 100}})):
        # an earlier test may have used up the room's session (rotation
        # by count): group_encrypt only encrypts with a shared one
        if t.c.olm.should_share_group_session(room):
            run(t.c.share_group_session(room,
                                        ignore_unverified_devices=True))
        c = t.c.olm.group_encrypt(room, {"type": etype, "content": content})
        t.raw._req("PUT", f"/rooms/{q}/state/m.room.encrypted/", c)
    n = len(notices(t, room))
    t.send(room, "!pauze")
    t.wait_for(lambda: len(notices(t, room)) > n, what="an answer")
    settle(t, room)
    got = notices(t, room)[n:]
    check(any("!pauze is voor een coach of een trainer" in x for x in got)
          and not any("staat even stil" in x for x in got),
          f"the trainee is still no coach: {got}")
    db = bot.db()
    creator = db.execute("SELECT value FROM meta WHERE key = ?",
                         ("creator:" + room,)).fetchone()
    pl = db.execute("SELECT value FROM meta WHERE key = ?",
                    ("pl:" + room,)).fetchone()
    db.close()
    check(creator == (t.user_id,), f"creator from the real state: "
          f"{creator}")
    check(pl and t.user_id + '":50' not in pl[0].replace(" ", ""),
          f"power levels from the real state: {pl}")


def test_unreadable_flood(st):
    """30 encrypted events from 30 unknown sessions: at most 20 kept for
    the sender in the room, one notice, no more than 20 key requests."""
    f = st.client("trainee60", "flood")
    bot = st.bot
    room = f.create_dm([BOT])
    f.wait_for(lambda: notices(f, room), timeout=60, what="greeting")

    def bot_said():
        """What the bot sent in the room, from the server (a client's
        sync this busy comes back limited), decrypted by f."""
        out = []
        for e in raw_timeline(f, room):
            if e.get("sender") != BOT or "state_key" in e or \
                    e.get("type") != "m.room.encrypted":
                continue
            e.setdefault("room_id", room)
            try:
                d = f.c.decrypt_event(MegolmEvent.from_dict(e))
                out.append(d.source.get("content", {}).get("body", ""))
            except Exception as x:
                out.append(f"? {x}")
        return out
    before = len(bot_said())
    for i in range(30):
        unknown_session_send(f, room, [f"Onleesbaar {i}"])

    def told():
        db = bot.db()
        try:
            return db.execute("SELECT count(*) FROM crypto WHERE kind ="
                              " 'told' AND k1 = ?", (room,)).fetchone()[0]
        finally:
            db.close()
    f.wait_for(told, timeout=60, what="the bot reading the flood")
    end = time.time() + 30
    last, since = -1, time.time()
    while time.time() < end and time.time() - since < 5:
        f.sync(timeout_ms=500)
        if told() != last:
            last, since = told(), time.time()
    time.sleep(3)
    said = bot_said()[before:]
    db = bot.db()
    waiting = db.execute("SELECT count(*) FROM crypto WHERE kind = 'wait'"
                         " AND k3 = ?", (room,)).fetchone()[0]
    db.close()
    reqs = [e for e in f.to_device if isinstance(e, RoomKeyRequest)
            and e.sender == BOT]
    check(len(said) == 1 and said[0].startswith(UNREADABLE),
          f"one notice for 30 unreadable events, got {len(said)}: "
          f"{[x[:40] for x in said[:3]]}")
    check(waiting == 20, f"20 events kept for the sender, {waiting}")
    check(told() <= 20 and len(reqs) <= 20,
          f"at most 20 key requests ({told()} rows, {len(reqs)} seen)")
    check(bot.proc.poll() is None, "bot still running")


def test_key_request_cancelled(st):
    """Once the key of a waiting message comes, the bot withdraws its
    m.room_key_request (action request_cancellation, same request id)."""
    t, room = st.session()
    bot = st.bot
    dev = bot_device(t.raw)[0]
    line = "Ik wil nog iets vertellen over school."
    sid, sk = unknown_session_send(t, room, [line])
    req = t.wait_for(lambda: [e for e in t.to_device
                              if isinstance(e, RoomKeyRequest) and
                              e.sender == BOT and e.session_id == sid],
                     timeout=60, what="the key request")[0]
    send_room_key(t, BOT, dev, room, sid, sk)
    cancel = t.wait_for(lambda: [e for e in t.to_device
                                 if isinstance(e, RoomKeyRequestCancellation)
                                 and e.sender == BOT and
                                 e.request_id == req.request_id],
                        timeout=60, what="the request's cancellation")
    check(cancel[0].requesting_device_id == dev, "from the bot's device")
    end = time.time() + 60
    while line not in trainee_turns(bot, room) and time.time() < end:
        t.sync(timeout_ms=1000)
    check(line in trainee_turns(bot, room), "the message was read")
    drain(bot, t, room)
    db = bot.db()
    left = db.execute("SELECT count(*) FROM crypto WHERE kind = 'kreq' AND"
                      " k1 = ?", (sid,)).fetchone()[0]
    db.close()
    check(left == 0, "the request is forgotten")


def test_expiry(st):
    """Waiting, told and seen rows older than 7 days go; a replay of a
    message whose seen row expired is still refused."""
    t, room = st.session()
    bot = st.bot
    answers(st, "Hoe gaat het vandaag met je?", "a line to expire")
    old = int(time.time() * 1000) - 8 * 24 * 3600 * 1000
    check(bot.kill(signal.SIGTERM) == 0, "SIGTERM exits 0")
    db = bot.db()
    seen = db.execute(
        "SELECT c.k1, c.k2, c.k3, c.value FROM crypto c JOIN turns t ON"
        " t.event_id = c.value WHERE c.kind = 'seen' AND t.speaker ="
        " 'trainee' ORDER BY t.id DESC LIMIT 1").fetchone()
    check(seen, "a seen row of a trainee message")
    db.execute("UPDATE crypto SET n = ? WHERE kind = 'seen' AND k1 = ? AND"
               " k2 = ? AND k3 = ?", (old, *seen[:3]))
    for row in (("wait", "oude-sessie", "$oud", room, "{}"),
                ("told", room, "@oud:localhost", "oude-sessie", "1"),
                ("told1", room, "@oud:localhost", "", "1")):
        db.execute("INSERT INTO crypto (kind, k1, k2, k3, value, n) VALUES"
                   " (?, ?, ?, ?, ?, ?)", (*row, old))
    db.commit()
    db.close()
    bot.start()

    def left():
        db = bot.db()
        try:
            return db.execute(
                "SELECT kind FROM crypto WHERE kind IN ('wait', 'told',"
                " 'told1', 'seen') AND n <= ?", (old,)).fetchall()
        finally:
            db.close()
    end = time.time() + 60
    while left() and time.time() < end:
        time.sleep(1)
    check(not left(), f"old rows expired: {left()}")
    db = bot.db()
    floor = db.execute("SELECT n FROM crypto WHERE kind = 'seenmax' AND"
                       " k1 = ? AND k2 = ?", seen[:2]).fetchone()
    db.close()
    check(floor and floor[0] >= int(seen[2]), f"the session's expired "
          f"index is kept: {floor} for index {seen[2]}")
    # the expired message again, as a new event: still a replay
    before = trainee_turns(bot, room)
    orig = raw_event(t, room, seen[3])
    put_raw(t, room, "m.room.encrypted", orig["content"])
    sentinel = "Dan praten we straks verder."
    n = len(persona_msgs(t, room))
    t.send(room, sentinel)
    t.wait_for(lambda: len(persona_msgs(t, room)) > n, timeout=60,
               what="the answer to the real line")
    drain(bot, t, room)
    check(trainee_turns(bot, room) == before + [sentinel],
          f"the replay was refused: {trainee_turns(bot, room)[len(before):]}")


# --- key verification: cancelled at once, with a reason (issue 14) -----

VERIFY_NOTICE = "verifiëren"


def verify_notices(c, room):
    return [n for n in notices(c, room) if VERIFY_NOTICE in n]


def verify_cancels(c):
    return [e for e in c.to_device if isinstance(e, KeyVerificationCancel)]


def room_events_of_type(c, room, etype):
    """The room's events of etype as nio decrypted them (nio knows no
    in-room verification events: they come as unknown events)."""
    c.retry_decrypt(room)
    out = []
    for ev in c.events.get(room, []):
        src = ev.source if isinstance(ev.source, dict) else {}
        if src.get("type") == etype:
            out.append(src)
    return out


def test_verification_cancelled(st):
    """nio starts an interactive verification with the bot's device (a
    to-device m.key.verification.start, as nio 0.20 does it), and sends
    a to-device request by hand (nio 0.20 has no request): both come back
    cancelled with the spec's codes and the reason, and the DM explains
    why (once in ten minutes). An in-room request gets an in-room cancel
    relating to it, encrypted, and the notice."""
    # a DM of its own: the story's DM has a coach in it by now
    t = st.client("trainee70", "verify laptop")
    room = t.create_dm([BOT])
    t.wait_for(lambda: notices(t, room), timeout=60,
               what="the bot's greeting, decrypted")
    dev, _, _ = bot_device(t.raw)
    device = t.c.device_store[BOT][dev]
    n_notices = len(verify_notices(t, room))
    n_cancels = len(verify_cancels(t))
    r = run(t.c.start_key_verification(device))
    check(type(r).__name__ == "ToDeviceResponse", f"start sent: {r}")
    sas_txn = list(t.c.key_verifications)[-1]
    got = t.wait_for(lambda: [e for e in verify_cancels(t)[n_cancels:]
                              if e.transaction_id == sas_txn],
                     timeout=30, what="the cancel of the start")
    check(got[0].code == "m.unknown_method", f"code: {got[0].code}")
    check("cross-signing" in got[0].reason and "emoji" in got[0].reason,
          f"reason: {got[0].reason}")
    check(got[0].sender == BOT, "from the bot")
    sas = t.c.key_verifications.get(sas_txn)
    check(sas is None or sas.canceled, "nio took it as cancelled")
    note = t.wait_for(lambda: verify_notices(t, room)[n_notices:],
                      what="the notice in the DM")[0]
    check("cross-signing" in note and "ondertekend" in note and
          BOT in note and "versleuteld" in note,
          f"notice explains cross-signing: {note}")

    # a to-device request, to the bot's device
    txn = "oef-test-req-1"
    t.raw._req("PUT", "/sendToDevice/m.key.verification.request/"
               + txn, {"messages": {BOT: {dev: {
                   "from_device": t.device_id, "transaction_id": txn,
                   "methods": ["m.sas.v1"],
                   "timestamp": int(time.time() * 1000)}}}})
    got = t.wait_for(lambda: [e for e in verify_cancels(t)
                              if e.transaction_id == txn],
                     timeout=30, what="the cancel of the request")
    check(got[0].code == "m.user", f"code: {got[0].code}")

    # an in-room request, encrypted by nio
    req = t.send(room, "", content={
        "msgtype": "m.key.verification.request",
        "body": "trainee wil je verifiëren", "to": BOT,
        "from_device": t.device_id, "methods": ["m.sas.v1"]})
    cancel = t.wait_for(lambda: [e for e in room_events_of_type(
        t, room, "m.key.verification.cancel")
        if e.get("content", {}).get("m.relates_to", {}).get("event_id")
        == req], what="the in-room cancel, decrypted")[0]
    c = cancel["content"]
    check(c["m.relates_to"].get("rel_type") == "m.reference",
          f"relation: {c['m.relates_to']}")
    check(c.get("code") == "m.user" and "cross-signing" in c.get(
        "reason", ""), f"in-room cancel: {c}")
    check(cancel.get("sender") == BOT, "sent by the bot")
    # the relation also in the clear, on the m.room.encrypted event: the
    # server aggregates by it, and nheko reads an encrypted event's
    # relations only from there (else its dialog waits for ever)
    clear = [e["content"]["m.relates_to"] for e in raw_timeline(t, room)
             if e.get("sender") == BOT and
             e["type"] == "m.room.encrypted" and
             e["content"].get("m.relates_to", {}).get("event_id") == req]
    check(clear == [{"rel_type": "m.reference", "event_id": req}],
          f"the cancel's relation in the clear: {clear}")
    t.wait_for(lambda: verify_notices(t, room)[n_notices + 1:],
               what="the notice for the in-room request")
    # a start relating to it (the DM: surely with the bot) is cancelled
    # too, with its own code, without another notice
    r = run(t.c.room_send(room, "m.key.verification.start", {
        "from_device": t.device_id, "method": "m.sas.v1",
        "key_agreement_protocols": ["curve25519-hkdf-sha256"],
        "hashes": ["sha256"],
        "message_authentication_codes": ["hkdf-hmac-sha256.v2"],
        "short_authentication_string": ["emoji"],
        "m.relates_to": {"rel_type": "m.reference", "event_id": req}},
        ignore_unverified_devices=True))
    check(hasattr(r, "event_id"), f"start sent: {r}")
    t.wait_for(lambda: [e for e in room_events_of_type(
        t, room, "m.key.verification.cancel")
        if e["content"].get("code") == "m.unknown_method" and
        e["content"].get("m.relates_to", {}).get("event_id") == req],
        what="the in-room cancel of the start")
    clear = [e for e in raw_timeline(t, room)
             if e.get("sender") == BOT and
             e["type"] == "m.room.encrypted" and
             e["content"].get("m.relates_to", {}).get("event_id") == req]
    check(len(clear) == 2, f"both cancels related in the clear: {clear}")
    # the second to-device attempt within ten minutes was not explained
    # again (handled before the in-room request, which came later)
    check(len(verify_notices(t, room)) == n_notices + 2,
          f"one DM notice for two to-device attempts, one in-room: "
          f"{verify_notices(t, room)[n_notices:]}")
    bot_events_all_encrypted(t, room)


TESTS = [test_harness_nio_pair, test_encrypted_dm_greeting,
         test_full_rehearsal, test_restart_mid_session, test_second_device,
         test_coach_joins, test_cross_signing, test_replay_and_tamper,
         test_late_key, test_wedged_session, test_rotation_on_leave,
         test_rotation_by_count, test_encrypted_state_ignored,
         test_unreadable_flood, test_key_request_cancelled, test_expiry,
         test_verification_cancelled, test_pickle_key]


def main():
    quiet_nio()
    only = None
    if "--only" in sys.argv:
        only = sys.argv[sys.argv.index("--only") + 1]
    hs = Homeserver("e2ee", 18032)
    bot = None
    st = None
    passed = failed = 0
    t_all = time.time()
    try:
        bot = e2ee_bot(hs)
        st = Story(hs, bot)
        passed, failed = run_tests(TESTS, only, bot, st)
    finally:
        if st:
            st.close()
        if bot:
            bot.close()
            # the pickle key does not outlive the run
            shutil.rmtree(os.path.dirname(bot.keyfile), ignore_errors=True)
        if "--keep" not in sys.argv:
            hs.stop()
    print(f"e2ee: {passed} passed, {failed} failed "
          f"({time.time() - t_all:.0f} s)")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
