"""A python-socketio client talking to the server, as a Python app would.

Usage: python python_client.py <base_url> <token> <to_email> <mode: polling|default|websocket>
Prints one JSON line per observed event, then exits 0 on success.
"""
import json
import sys
import threading

import socketio

base, token, to_email, transport = sys.argv[1:5]
transports = {"polling": ["polling"], "default": ["polling", "websocket"], "websocket": ["websocket"]}[transport]
sio = socketio.Client(reconnection=False)
got_message = threading.Event()


def out(kind, data):
    print(json.dumps({"event": kind, "data": data}), flush=True)


@sio.on("new_message")
def on_new_message(data):
    out("new_message", data)
    got_message.set()


@sio.on("error")
def on_error(data):
    out("error", data)


sio.connect(base, auth={"token": token}, transports=transports, wait_timeout=5)
out("transport", sio.transport())
ack = sio.call("send_message", {"to_email": to_email, "message": "hello from python", "message_type": "text", "reply_to": None}, timeout=5)
out("ack", ack)
bad = sio.call("send_message", {"to_email": 42}, timeout=5)
out("bad_ack", bad)
if not got_message.wait(5):
    out("timeout", "no new_message")
    sys.exit(1)
sio.disconnect()
