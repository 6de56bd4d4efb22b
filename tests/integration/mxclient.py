"""A small Matrix client written for the tests: plain HTTP with urllib.

It is deliberately independent of the bot's C code, so the integration
tests check the bot against what a real client sees on a real Synapse.
"""
import json
import time
import urllib.error
import urllib.parse
import urllib.request


class MatrixError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


def sync_until(sync, pred, timeout, what, step):
    """Call sync(timeout_ms=...) (long polls of at most step seconds)
    until pred() is true; returns its value. TimeoutError after timeout
    seconds."""
    end = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        left = end - time.time()
        if left <= 0:
            raise TimeoutError(f"timed out waiting for {what}")
        sync(timeout_ms=int(min(left, step) * 1000))


class Client:
    def __init__(self, base, user_id, password=None, token=None):
        self.base = base.rstrip("/")
        self.user_id = user_id
        self.token = token
        self.since = None
        self.txn = 0
        self.events = {}      # room -> list of timeline events seen
        self.ephemeral = {}   # room -> typing and receipt events seen
        self.seen = set()     # event ids, so a re-sync adds nothing twice
        self.invites = set()
        if password is not None and token is None:
            self.login(password)

    def _req(self, method, path, body=None, query=None, timeout=60):
        url = self.base + "/_matrix/client/v3" + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        for attempt in range(30):
            try:
                with urllib.request.urlopen(req, timeout=timeout) as r:
                    return json.loads(r.read() or b"{}")
            except urllib.error.HTTPError as e:
                raw = e.read()
                try:
                    err = json.loads(raw)
                except ValueError:
                    err = {"error": raw.decode(errors="replace")}
                if e.code == 429:
                    time.sleep(err.get("retry_after_ms", 1000) / 1000)
                    continue
                raise MatrixError(e.code, err)
        raise MatrixError(429, {"error": "still rate limited"})

    def login(self, password):
        r = self._req("POST", "/login", {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": self.user_id},
            "password": password})
        self.token = r["access_token"]

    def create_room(self, invite=(), name=None, encrypted=False):
        body = {"preset": "private_chat", "invite": list(invite)}
        if name:
            body["name"] = name
        if encrypted:
            body["initial_state"] = [{
                "type": "m.room.encryption", "state_key": "",
                "content": {"algorithm": "m.megolm.v1.aes-sha2"}}]
        return self._req("POST", "/createRoom", body)["room_id"]

    def invite(self, room, user):
        q = urllib.parse.quote(room, safe="")
        self._req("POST", f"/rooms/{q}/invite", {"user_id": user})

    def join(self, room):
        q = urllib.parse.quote(room, safe="")
        return self._req("POST", f"/join/{q}", {})

    def leave(self, room):
        q = urllib.parse.quote(room, safe="")
        return self._req("POST", f"/rooms/{q}/leave", {})

    def send(self, room, body, msgtype="m.text", content=None):
        self.txn += 1
        q = urllib.parse.quote(room, safe="")
        txn = f"t{time.time_ns()}-{self.txn}"
        c = content or {"msgtype": msgtype, "body": body}
        return self._req("PUT", f"/rooms/{q}/send/m.room.message/{txn}",
                         c)["event_id"]

    def send_event(self, room, etype, content):
        self.txn += 1
        q = urllib.parse.quote(room, safe="")
        txn = f"t{time.time_ns()}-{self.txn}"
        return self._req("PUT", f"/rooms/{q}/send/{etype}/{txn}",
                         content)["event_id"]

    def download(self, mxc):
        """The bytes of an mxc:// URI: the authenticated media API
        (Synapse 1.120+), else the older unauthenticated one."""
        server, media = mxc[len("mxc://"):].split("/", 1)
        path = (urllib.parse.quote(server, safe="") + "/" +
                urllib.parse.quote(media, safe=""))
        last = None
        for url in (self.base + "/_matrix/client/v1/media/download/" + path,
                    self.base + "/_matrix/media/v3/download/" + path):
            req = urllib.request.Request(url)
            if self.token:
                req.add_header("Authorization", "Bearer " + self.token)
            try:
                with urllib.request.urlopen(req, timeout=60) as r:
                    return r.read()
            except urllib.error.HTTPError as e:
                last = MatrixError(e.code, {"error": e.read().decode(
                    errors="replace")})
        raise last

    def joined_members(self, room):
        q = urllib.parse.quote(room, safe="")
        return self._req("GET", f"/rooms/{q}/joined_members")["joined"]

    def sync(self, timeout_ms=0):
        query = {"timeout": str(timeout_ms)}
        if self.since:
            query["since"] = self.since
        r = self._req("GET", "/sync", query=query,
                      timeout=timeout_ms / 1000 + 30)
        self.since = r["next_batch"]
        rooms = r.get("rooms", {})
        for room, data in rooms.get("join", {}).items():
            evs = data.get("timeline", {}).get("events", [])
            for e in evs:
                if e.get("event_id") in self.seen:
                    continue
                self.seen.add(e.get("event_id"))
                self.events.setdefault(room, []).append(e)
            eph = data.get("ephemeral", {}).get("events", [])
            self.ephemeral.setdefault(room, []).extend(eph)
        for room in rooms.get("invite", {}):
            self.invites.add(room)
        return r

    def messages(self, room, sender=None, msgtype=None):
        out = []
        for e in self.events.get(room, []):
            if e.get("type") != "m.room.message":
                continue
            if sender and e.get("sender") != sender:
                continue
            if msgtype and e.get("content", {}).get("msgtype") != msgtype:
                continue
            out.append(e)
        return out

    def wait_for(self, pred, timeout=30.0, what="event"):
        """Sync until pred() is true; returns its value."""
        return sync_until(self.sync, pred, timeout, what, 5)
