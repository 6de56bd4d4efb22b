"""`make demo` as a new user meets it, on a real Synapse (run as root).

Starts the demo with `make demo PORT=...` on a port of its own, reads what
it prints (full Matrix IDs, the homeserver address, one paragraph per
client), logs in with the printed passwords (tests/integration/mxclient.py) and
finds the practice room with the bot's greeting; checks that a fresh upload
downloads on the older, unauthenticated media API (clients without
authenticated media, such as nheko 0.11.3); checks that no password
reaches a log or a file others can read; then asks for ports that are
taken (by a stranger, by a second demo via OEF_DEMO_PORT) and expects the
exact `make demo PORT=` advice with the running demo left alone; restarts
on the same port; and `make demo-stop`.

It runs under its own instance name (OEF_DEMO_NAME=demotest), so a demo
someone is using in this checkout is never stopped. OEF_DEMO_TEST_PORT
picks the ports (default 18708 and the next one). B is the build directory
(as in the Makefile).
"""
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from mxclient import Client, MatrixError  # noqa: E402

NAME = "demotest"
PORT = int(os.environ.get("OEF_DEMO_TEST_PORT", "18708"))
BUSY = PORT + 1
BUILD = os.environ.get("B", "build")
STATE = os.environ.get("OEF_SYNAPSE_STATE",
                       os.path.join(ROOT, "build", "synapse"))
DEMO_DIRS = [os.path.join(ROOT, "build", NAME), os.path.join(STATE, NAME)]
BOT = "@oefenkamer:localhost"

passed = 0
failed = 0


def redact(text):
    """The demo's passwords are 24 hex digits: never into a test log."""
    return re.sub(r"\b[0-9a-f]{24}\b", "<wachtwoord>", str(text))


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {name}" + (f" ({redact(detail)})" if detail else ""))
    return cond


def finish():
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


def make(*args, name=NAME, env_extra=None):
    """Run make in the checkout as a user would; returns (rc, out, err)."""
    env = dict(os.environ)
    env.pop("OEF_DEMO_PORT", None)
    env.pop("PORT", None)
    env["OEF_DEMO_NAME"] = name
    env.update(env_extra or {})
    p = subprocess.run(["make", "-s", "--no-print-directory", "-C", ROOT,
                        "B=" + BUILD, *args], env=env, capture_output=True,
                       text=True, timeout=600)
    return p.returncode, p.stdout, p.stderr


def port_free(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def answers(url):
    try:
        with urllib.request.urlopen(url + "/_matrix/client/versions",
                                    timeout=5) as r:
            return r.status == 200
    except OSError:
        return False


def paragraphs(out):
    """The client paragraphs: '  Label: text' plus its deeper-indented
    continuation lines, keyed by label."""
    paras, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"^  (\S[^:]*): (.*)$", line)
        if m:
            cur = m.group(1)
            paras[cur] = m.group(2)
        elif cur and line.startswith("    "):
            paras[cur] += " " + line.strip()
        else:
            cur = None
    return paras


def accounts(out):
    """Printed account rows: role -> (matrix id, password or None)."""
    rows = {}
    for line in out.splitlines():
        m = re.match(r"^  (\w[\w ]*?)\s+(@[a-z0-9._=/-]+:localhost)"
                     r"(?:\s+([0-9a-f]{24}))?\s*$", line)
        if m:
            rows[m.group(1)] = (m.group(2), m.group(3))
    return rows


def bot_pid():
    try:
        with open(os.path.join(ROOT, "build", NAME, "bot.pid")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def alive(pid):
    return pid is not None and os.path.exists(f"/proc/{pid}")


def login_ok(url, user, pw):
    try:
        return Client(url, user, pw)
    except MatrixError as e:
        if e.status == 403:
            return None
        raise


def busy_advice(err, port):
    """The alternative port from the exact advice for a busy port."""
    m = re.search(r"^poort %d is bezet; kies een andere: "
                  r"make demo PORT=(\d+)$" % port, err, re.M)
    return int(m.group(1)) if m else None


def start_and_check_output(url):
    t0 = time.time()
    rc, out, err = make("demo", f"PORT={PORT}")
    print(f"make demo PORT={PORT}: exit {rc} in {time.time() - t0:.0f} s")
    if not check("make demo PORT= starts the demo", rc == 0,
                 err.strip()[-2000:]):
        return None, out, err
    check("the homeserver address is printed",
          re.search(r"^Homeserver-adres:\s+%s\s" % re.escape(url), out,
                    re.M), out)
    acc = accounts(out)
    for role in ("trainee", "coach", "trainer"):
        mxid, pw = acc.get(role, (None, None))
        check(f"{role}: full Matrix ID printed", mxid == f"@{role}:localhost",
              repr(acc))
        check(f"{role}: password printed", pw is not None, repr(acc))
    check("the bot's Matrix ID printed",
          acc.get("de bot", (None,))[0] == BOT, repr(acc))
    paras = paragraphs(out)
    element = paras.get("Element Desktop", "")
    nheko = paras.get("nheko", "")
    other = paras.get("Een andere app", "")
    check("a line for Element", element, repr(paras))
    check("a line for nheko", nheko, repr(paras))
    check("a line for other clients", other, repr(paras))
    for label, text in (("Element", element), ("nheko", nheko),
                        ("other clients", other)):
        check(f"{label}: says to fill in the address", url in text, text)
    check("nheko: type the full Matrix ID", "@trainee:localhost" in nheko,
          nheko)
    check("nheko: autodiscovery fails, replace localhost",
          "autodiscovery failed" in nheko.lower() and "localhost" in
          nheko.replace("@trainee:localhost", ""), nheko)
    check("Element: log in as trainee", "trainee" in element, element)
    check("autodiscovery for localhost explained before the clients",
          re.search(r"localhost.*\n?.*autodiscovery mislukt",
                    out.split("Element Desktop")[0]), out)
    # One client's wording only in that client's paragraph.
    element_words = ("Bewerken", "Andere homeserver", "Other homeserver",
                     "Doorgaan", "matrix.org")
    nheko_words = ("Matrix ID", "Automatische herkenning",
                   "Thuisserveradres", "Homeserver address")
    for label, words, own in (("Element", element_words, element),
                              ("nheko", nheko_words, nheko)):
        for w in words:
            n = out.lower().count(w.lower())
            m = own.lower().count(w.lower())
            check(f"'{w}' ({label} wording) appears only in {label}'s "
                  "paragraph", n >= 1 and n == m,
                  f"{n} in the output, {m} in the paragraph")
    pid = bot_pid()
    want = os.path.realpath(os.path.join(ROOT, BUILD, "oefenkamer"))
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except (OSError, TypeError):
        exe = None
    check(f"the bot runs from $(B) ({want})", exe == want, f"{exe}")
    m = re.search(r"^  (\S+) sessions --db (\S+)$", out, re.M)
    if check("the command to list the rehearsals is printed", m, out):
        p = subprocess.run([m.group(1), "sessions", "--db", m.group(2)],
                           cwd=ROOT, capture_output=True, timeout=60)
        check("that command works from the checkout", p.returncode == 0,
              p.stderr.decode(errors="replace"))
    check("how to stop is printed",
          f"OEF_DEMO_NAME={NAME} make demo-stop" in out, out)
    check("no --port advice", "--port" not in out + err)
    return acc, out, err


def rooms_and_greeting(url, acc):
    trainee_pw = acc["trainee"][1]
    wrong = trainee_pw[::-1]
    check("a wrong password is refused",
          login_ok(url, "@trainee:localhost", wrong) is None)
    c = login_ok(url, "@trainee:localhost", trainee_pw)
    if not check("the trainee logs in with the printed password",
                 c is not None):
        return None
    c.sync()
    room = None
    for r in c.events:
        for e in c.events[r]:
            if (e.get("type") == "m.room.name" and
                    e.get("content", {}).get("name") == "Oefenkamer"):
                room = r
    if not check("the practice room 'Oefenkamer' is there", room,
                 repr(list(c.events))):
        return c
    check("the bot is in the practice room", BOT in c.joined_members(room))
    try:
        greet = c.wait_for(
            lambda: [e for e in c.messages(room, BOT)
                     if "!oefeningen" in e["content"].get("body", "")],
            timeout=30, what="the greeting")
    except TimeoutError:
        greet = None
    check("the bot's greeting (with !oefeningen) is in the room", greet)
    for role in ("coach", "trainer"):
        if not acc.get(role, (0, 0))[1]:
            continue
        o = login_ok(url, f"@{role}:localhost", acc[role][1])
        if check(f"the {role} logs in with the printed password",
                 o is not None):
            o.sync()
            check(f"the {role} is invited to the practice room",
                  room in o.invites, repr(o.invites))
    return c


def secrets(acc, out):
    pws = [acc[r][1] for r in ("trainee", "coach", "trainer")
           if acc.get(r, (0, 0))[1]]
    botpw_file = os.path.join(ROOT, "build", NAME, "bot-password")
    try:
        with open(botpw_file) as f:
            botpw = f.read().strip()
    except OSError:
        botpw = None
    check("the bot's password file exists", botpw)
    check("the bot's password is not printed", botpw and botpw not in out)
    open_to_others, leaks = [], []
    nfiles = 0
    for top in DEMO_DIRS:
        for d, dirs, files in os.walk(top):
            for n in [d] + [os.path.join(d, f) for f in files]:
                st = os.lstat(n)
                if stat.S_ISLNK(st.st_mode):
                    continue
                if st.st_mode & 0o077:
                    open_to_others.append(f"{n} {stat.filemode(st.st_mode)}")
                if n == d:
                    continue
                nfiles += 1
                with open(n, "rb") as f:
                    data = f.read()
                for pw in pws + ([botpw] if botpw else []):
                    if pw.encode() in data and n != botpw_file:
                        leaks.append(n)
    check(f"no demo file or directory open to group or others ({nfiles} "
          "files)", nfiles > 5 and not open_to_others,
          "; ".join(open_to_others))
    check("no password in a log or any other demo file", not leaks,
          "; ".join(sorted(set(leaks))))


def busy_ports(url, trainee):
    pid = bot_pid()
    # A stranger on the port asked for.
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", BUSY))
    blocker.listen(1)
    try:
        rc, out, err = make("demo", f"PORT={BUSY}")
    finally:
        blocker.close()
    check("a busy port is refused", rc != 0)
    alt = busy_advice(err, BUSY)
    check("the exact advice 'poort N is bezet; kies een andere: "
          "make demo PORT=M'", alt is not None, err.strip())
    check("the advised port is another, free one",
          alt and alt != BUSY and port_free(alt), f"{alt}")
    check("no --port advice", "--port" not in out + err)
    check("the running demo still answers", answers(url))
    check("the running bot is left alone", alive(pid) and bot_pid() == pid)
    try:
        trainee.sync()
        ok = True
    except (MatrixError, OSError):
        ok = False
    check("the trainee's session survives", ok)
    # A second demo on the port the first one holds, via OEF_DEMO_PORT.
    other = NAME + "2"
    rc, out, err = make("demo", name=other,
                        env_extra={"OEF_DEMO_PORT": str(PORT)})
    check("OEF_DEMO_PORT on the demo's own busy port is refused", rc != 0)
    alt = busy_advice(err, PORT)
    check("OEF_DEMO_PORT: the exact make demo PORT= advice",
          alt is not None and alt != PORT, err.strip())
    check("the refused demo left nothing behind",
          not os.path.exists(os.path.join(ROOT, "build", other)) and
          not os.path.exists(os.path.join(STATE, other)))
    check("the first demo still answers", answers(url))
    # Not a port at all.
    rc, out, err = make("demo", "PORT=abc")
    check("PORT=abc is refused", rc != 0)
    check("PORT=abc: says which ports, with a make demo PORT= example",
          re.search(r"1024 tot en met 65535.*make demo PORT=\d+", err), err)
    check("the demo still runs after PORT=abc", answers(url) and alive(pid))


def legacy_media(url, c):
    """What the trainee's client uploads (and so the bot's debrief file)
    can be fetched on the older media API too: nheko 0.11.3, Debian 12's,
    knows no authenticated media and got a 404 for the debrief's file."""
    data = b"<p>nabespreking</p>"
    req = urllib.request.Request(
        url + "/_matrix/media/v3/upload?filename=n.html", data=data,
        method="POST", headers={"Content-Type": "text/html",
                                "Authorization": "Bearer " + c.token})
    with urllib.request.urlopen(req, timeout=30) as r:
        mxc = json.load(r)["content_uri"]
    got = None
    try:
        with urllib.request.urlopen(
                url + "/_matrix/media/v3/download/" + mxc[len("mxc://"):],
                timeout=30) as r:
            got = r.read()
    except urllib.error.HTTPError as e:
        got = f"HTTP {e.code}"
    check("a new upload downloads on the unauthenticated media API "
          "(nheko 0.11.3)", got == data, repr(got))


def restart_same_port(url, old):
    rc, out, err = make("demo", f"PORT={PORT}")
    check("make demo on its own port again restarts it", rc == 0,
          err.strip()[-1000:])
    acc = accounts(out)
    new = acc.get("trainee", (None, None))[1]
    check("new passwords after the restart", new and new != old)
    check("the new trainee password works",
          new and login_ok(url, "@trainee:localhost", new) is not None)


def stop(url):
    pid = bot_pid()
    rc, out, err = make("demo-stop")
    check("make demo-stop", rc == 0 and "demo gestopt" in out, out + err)
    t = time.time()
    while time.time() - t < 10 and alive(pid):
        time.sleep(0.2)
    check("the bot is gone", not alive(pid))
    check("the homeserver is gone", not answers(url))
    check("the port is free again", port_free(PORT))


def main():
    if os.geteuid() != 0:
        print("demo_test: run as root (Synapse runs in a chroot)")
        sys.exit(1)
    for p in (PORT, BUSY):
        if not port_free(p):
            print(f"demo_test: port {p} is in use; set OEF_DEMO_TEST_PORT")
            sys.exit(1)
    url = f"http://127.0.0.1:{PORT}"
    t0 = time.time()
    # What an earlier run may have left of the second demo (a refused one
    # must leave nothing, so there must be nothing to begin with).
    make("demo-stop", name=NAME + "2")
    for d in (os.path.join(ROOT, "build", NAME + "2"),
              os.path.join(STATE, NAME + "2")):
        shutil.rmtree(d, ignore_errors=True)
    try:
        acc, out, err = start_and_check_output(url)
        if acc and acc.get("trainee", (0, 0))[1]:
            trainee = rooms_and_greeting(url, acc)
            if trainee:
                legacy_media(url, trainee)
            secrets(acc, out + err)
            if trainee:
                busy_ports(url, trainee)
            restart_same_port(url, acc["trainee"][1])
        stop(url)
    finally:
        make("demo-stop")
        make("demo-stop", name=NAME + "2")
    print(f"total {time.time() - t0:.0f} s")
    finish()


if __name__ == "__main__":
    main()
