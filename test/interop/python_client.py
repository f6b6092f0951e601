"""A python-socketio client talking to the server, as a Python app would.

Usage: python python_client.py <base_url> <token> <to_email> <mode: polling|default|websocket>
Prints one JSON line per observed event, then exits 0 on success.
"""
import json
import sys
import threading
import time

import socketio

base, token, to_email, transport = sys.argv[1:5]
transports = {"polling": ["polling"], "default": ["polling", "websocket"], "websocket": ["websocket"]}[transport]
# logger=True: python-socketio logs each received event on stderr ('Received event "sio:offset" [/]'), so the test
# sees the offset markers arrive and be dropped without a handler, and any handler exception (a traceback).
sio = socketio.Client(reconnection=False, logger=True)
# engineio runs every incoming message's handler in its own thread, so the
# error event may be handled after the ack that follows it on the wire: wait
# for each observed event explicitly instead of assuming arrival order.
got_message = threading.Event()
got_error = threading.Event()


print_lock = threading.Lock()
started = time.monotonic()


def step(what):
    """Progress on stderr, so a failure or a kill shows how far the client got and when."""
    print(f"[{time.monotonic() - started:.2f}s] {what}", file=sys.stderr, flush=True)


def out(kind, data):
    with print_lock:  # handlers run on their own threads; keep lines whole
        print(json.dumps({"event": kind, "data": data}), flush=True)


# A fixed-arity handler, as Python apps write them: with connection state recovery on (the server's default),
# events still arrive exactly as emitted (the offset travels in a separate "sio:offset" event, ignored here).
@sio.on("new_message")
def on_new_message(data):
    out("new_message", data)
    got_message.set()


@sio.on("error")
def on_error(data):
    out("error", data)
    got_error.set()


step("connecting")
sio.connect(base, auth={"token": token}, transports=transports, wait_timeout=5)
out("transport", sio.transport())
step("connected on " + sio.transport())
ack = sio.call("send_message", {"to_email": to_email, "message": "hello from python", "message_type": "text", "reply_to": None}, timeout=5)
out("ack", ack)
step("acked")
bad = sio.call("send_message", {"to_email": 42}, timeout=5)
out("bad_ack", bad)
step("bad payload refused")
for name, flag in (("new_message", got_message), ("error", got_error)):
    if not flag.wait(5):
        out("timeout", "no " + name)
        sys.exit(1)
step("disconnecting")
sio.disconnect()
step("disconnected")
