"""
The seed-like peer for the REST benchmark: the original Python service as its
README (/work/shared/spec/seed-README.md) describes it and as it would plainly
be written: FastAPI + python-socketio (ASGIApp around FastAPI) + Motor, JWT
(HS256, `sub` = email), one uvicorn worker. Not optimised on purpose: it is
the baseline the issue measures against ("REST reads at least 3x the original
Python service on the same database").

Routes: POST /api/auth/login, GET /api/conversations, POST /api/messages/send,
GET /health. Socket.IO: connect (JWT in auth.token) records the user's
socket_id, which the REST send uses to push `new_message` to the recipient.

Like the seed, every authenticated request loads the caller from `users`
(get_current_user), and a send looks the recipient and the conversation up,
inserts the message and then updates the conversation. One deviation, forced by
the database: the seed README keys `unread_count` by email, but FerretDB
rejects keys containing "." (and `$inc` on `unread_count.a@b.c` splits at the
dots even on mongod), so the counts are stored as a list `unread` aligned with
`participants`, and the API still answers `unread_count: {email: n}`.

Run (venv from scripts/prepare-seed-peer.sh):
  PORT=8000 MONGODB_URL=mongodb://127.0.0.1:27017 DATABASE_NAME=chat_app \
  JWT_SECRET_KEY=secret .cache/seedpeer/bin/python bench/peers/seed_peer.py
"""

import os
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from typing import Optional

import jwt
import socketio
import uvicorn
from bson import ObjectId
from fastapi import Depends, FastAPI, HTTPException
from fastapi.middleware.cors import CORSMiddleware
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from motor.motor_asyncio import AsyncIOMotorClient
from pydantic import BaseModel

# --- config -----------------------------------------------------------------
MONGODB_URL = os.getenv("MONGODB_URL", "mongodb://localhost:27017")
DATABASE_NAME = os.getenv("DATABASE_NAME", "chat_app")
JWT_SECRET_KEY = os.getenv("JWT_SECRET_KEY", "your-secret-key-here-change-in-production")
JWT_ALGORITHM = os.getenv("JWT_ALGORITHM", "HS256")
JWT_EXPIRE_MINUTES = int(os.getenv("JWT_EXPIRE_MINUTES", "1440"))
CORS_ORIGINS = os.getenv("CORS_ORIGINS", "http://localhost:3000,http://localhost:8080").split(",")

# --- database ---------------------------------------------------------------
client: Optional[AsyncIOMotorClient] = None
db = None


async def connect_to_mongo():
    global client, db
    client = AsyncIOMotorClient(MONGODB_URL)
    db = client[DATABASE_NAME]
    await db.users.create_index("email", unique=True)
    await db.conversations.create_index("participants")
    await db.chat_messages.create_index([("conversation_id", 1), ("timestamp", -1)])


async def close_mongo_connection():
    if client:
        client.close()


def serialize_doc(doc):
    """ObjectId -> str, datetime -> ISO string, `_id` -> `id`."""
    if doc is None:
        return None
    out = {}
    for key, value in doc.items():
        if isinstance(value, ObjectId):
            value = str(value)
        elif isinstance(value, datetime):
            value = value.isoformat()
        out["id" if key == "_id" else key] = value
    return out


def serialize_conversation(conv):
    data = serialize_doc(conv)
    unread = data.pop("unread", None) or [0] * len(data["participants"])
    data["unread_count"] = dict(zip(data["participants"], unread))
    return data


# --- models -----------------------------------------------------------------
class LoginRequest(BaseModel):
    email: str
    name: Optional[str] = None
    profile_image: Optional[str] = None


class SendMessageRequest(BaseModel):
    to_email: str
    message: str
    message_type: str = "text"
    reply_to: Optional[str] = None


# --- auth -------------------------------------------------------------------
security = HTTPBearer()


def create_access_token(email: str) -> str:
    expire = datetime.now(timezone.utc) + timedelta(minutes=JWT_EXPIRE_MINUTES)
    return jwt.encode({"sub": email, "exp": expire}, JWT_SECRET_KEY, algorithm=JWT_ALGORITHM)


def verify_token(token: str) -> Optional[str]:
    try:
        payload = jwt.decode(token, JWT_SECRET_KEY, algorithms=[JWT_ALGORITHM])
        return payload.get("sub")
    except jwt.PyJWTError:
        return None


async def get_current_user(credentials: HTTPAuthorizationCredentials = Depends(security)):
    email = verify_token(credentials.credentials)
    if email is None:
        raise HTTPException(status_code=401, detail="Invalid authentication credentials")
    user = await db.users.find_one({"email": email})
    if user is None:
        raise HTTPException(status_code=401, detail="User not found")
    return user


# --- app --------------------------------------------------------------------
@asynccontextmanager
async def lifespan(_app):
    await connect_to_mongo()
    yield
    await close_mongo_connection()


app = FastAPI(title="Chat Socket Backend", lifespan=lifespan)
app.add_middleware(
    CORSMiddleware,
    allow_origins=CORS_ORIGINS,
    allow_credentials=True,
    allow_methods=["*"],
    allow_headers=["*"],
)
sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins=CORS_ORIGINS)
socket_app = socketio.ASGIApp(sio, other_asgi_app=app)


@app.get("/")
async def root():
    return {"message": "Chat Socket Backend is running"}


@app.get("/health")
async def health():
    return {"status": "healthy"}


@app.post("/api/auth/login")
async def login(request: LoginRequest):
    user = await db.users.find_one({"email": request.email})
    if user:
        update = {}
        if request.name:
            update["name"] = request.name
        if request.profile_image:
            update["profile_image"] = request.profile_image
        if update:
            await db.users.update_one({"email": request.email}, {"$set": update})
            user.update(update)
    else:
        user = {
            "email": request.email,
            "name": request.name or request.email.split("@")[0],
            "profile_image": request.profile_image,
            "is_online": False,
            "last_seen": datetime.utcnow(),
            "socket_id": None,
        }
        await db.users.insert_one(user)
    return {
        "access_token": create_access_token(request.email),
        "token_type": "bearer",
        "user": {"email": user["email"], "name": user.get("name"), "profile_image": user.get("profile_image")},
    }


@app.get("/api/conversations")
async def get_conversations(current_user=Depends(get_current_user)):
    cursor = db.conversations.find({"participants": current_user["email"]}).sort("last_message_time", -1)
    conversations = await cursor.to_list(length=100)
    return [serialize_conversation(c) for c in conversations]


@app.post("/api/messages/send")
async def send_message(request: SendMessageRequest, current_user=Depends(get_current_user)):
    sender = current_user["email"]
    if request.to_email == sender:
        raise HTTPException(status_code=400, detail="Cannot send a message to yourself")
    recipient = await db.users.find_one({"email": request.to_email})
    if recipient is None:
        raise HTTPException(status_code=404, detail="Recipient not found")

    now = datetime.utcnow()
    conversation = await db.conversations.find_one(
        {"participants": {"$all": [sender, request.to_email]}, "conversation_type": "direct"}
    )
    if conversation is None:
        conversation = {
            "participants": [sender, request.to_email],
            "conversation_type": "direct",
            "created_at": now,
            "last_message": None,
            "last_message_time": now,
            "last_message_sender": None,
            "unread": [0, 0],
        }
        result = await db.conversations.insert_one(conversation)
        conversation["_id"] = result.inserted_id

    message = {
        "conversation_id": str(conversation["_id"]),
        "sender_email": sender,
        "sender_name": current_user.get("name"),
        "message": request.message,
        "timestamp": now,
        "message_type": request.message_type,
        "edited": False,
        "edited_at": None,
        "reply_to": request.reply_to,
    }
    result = await db.chat_messages.insert_one(message)
    message["_id"] = result.inserted_id

    recipient_index = conversation["participants"].index(request.to_email)
    await db.conversations.update_one(
        {"_id": conversation["_id"]},
        {
            "$set": {"last_message": request.message, "last_message_time": now, "last_message_sender": sender},
            "$inc": {f"unread.{recipient_index}": 1},
        },
    )

    data = serialize_doc(message)
    if recipient.get("is_online") and recipient.get("socket_id"):
        await sio.emit("new_message", data, room=recipient["socket_id"])
    return {"message": "Message sent successfully", "data": data}


# --- socket.io --------------------------------------------------------------
@sio.event
async def connect(sid, environ, auth):
    email = verify_token((auth or {}).get("token", ""))
    if email is None:
        return False
    await db.users.update_one(
        {"email": email}, {"$set": {"is_online": True, "socket_id": sid, "last_seen": datetime.utcnow()}}
    )
    await sio.save_session(sid, {"email": email})


@sio.event
async def disconnect(sid):
    session = await sio.get_session(sid)
    if session.get("email"):
        await db.users.update_one(
            {"email": session["email"]}, {"$set": {"is_online": False, "socket_id": None, "last_seen": datetime.utcnow()}}
        )


if __name__ == "__main__":
    uvicorn.run(
        socket_app,
        host=os.getenv("HOST", "127.0.0.1"),
        port=int(os.getenv("PORT", "8000")),
        workers=1,
        reload=False,
        log_level="warning",
    )
