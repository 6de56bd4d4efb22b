#!/usr/bin/python3
"""The benchmark's peer: a minimal echo bot written with matrix-nio.

matrix-nio is the library most Python Matrix bots are built on. This is
the smallest bot that does what ours does on the wire: log in with a
password, join the rooms it is invited to, and answer every m.text from
someone else with one m.text (a reply to it). It is plain, idiomatic nio
(AsyncClient, event callbacks, sync_forever), neither slowed down nor
tuned. Run it with Debian's /usr/bin/python3 and python3-matrix-nio.

    nio_echo.py HOMESERVER USER_ID PASSWORD_FILE

Prints "ready" on stdout once logged in and syncing; exits on SIGTERM.
"""
import asyncio
import signal
import sys
import time

from nio import AsyncClient, InviteMemberEvent, MatrixRoom, RoomMessageText


async def main(homeserver, user_id, password):
    client = AsyncClient(homeserver, user_id)
    started_ms = int(time.time() * 1000)

    async def on_invite(room: MatrixRoom, event: InviteMemberEvent):
        if event.state_key == client.user_id and \
                event.membership == "invite":
            await client.join(room.room_id)

    async def on_text(room: MatrixRoom, event: RoomMessageText):
        if event.sender == client.user_id:
            return
        if event.server_timestamp < started_ms:
            return          # history from before we started
        await client.room_send(room.room_id, "m.room.message", {
            "msgtype": "m.text",
            "body": "echo: " + event.body,
            "m.relates_to": {"m.in_reply_to": {
                "event_id": event.event_id}},
        })

    client.add_event_callback(on_invite, InviteMemberEvent)
    client.add_event_callback(on_text, RoomMessageText)
    resp = await client.login(password, device_name="nio-echo")
    if not getattr(resp, "access_token", None):
        print(f"login failed: {resp}", file=sys.stderr)
        await client.close()
        return 1
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(client.sync_forever(timeout=30000))
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    print("ready", flush=True)
    try:
        await task
    except asyncio.CancelledError:
        pass
    await client.close()
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    with open(sys.argv[3], encoding="utf-8") as f:
        pw = f.read().strip()
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2], pw)))
