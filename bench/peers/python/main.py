"""The original LLM_streamer gateway, rebuilt faithfully for the benchmark (bench/run.sh).

The original design (../../../../shared/seed/LLM_streamer-README.md): FastAPI + Uvicorn, an SSE
endpoint whose generator opens its *own* Redis pub/sub subscription per client (aioredis, now
redis.asyncio in redis-py) and yields every message as `data: <message>\n\n`. No ids, no replay,
no backpressure, no envelope. Debian 12 packages only: python3-fastapi, python3-uvicorn,
python3-redis.

Run: REDIS_URL=redis://127.0.0.1:6379 LOG_CHANNELS=logs:bench \
     python3 -m uvicorn main:app --host 127.0.0.1 --port 8001 --app-dir bench/peers/python
"""
import os

import redis.asyncio as aioredis
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, StreamingResponse

REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379")
CHANNELS = os.environ.get("LOG_CHANNELS", "logs:generation,logs:metrics,logs:errors").split(",")

app = FastAPI()
redis = aioredis.from_url(REDIS_URL, decode_responses=True, max_connections=None)


@app.get("/")
async def index():
    return HTMLResponse("<!doctype html><pre id=log></pre><script>"
                        "new EventSource('/stream').onmessage=e=>{log.textContent+=e.data+'\\n';"
                        "scrollTo(0,document.body.scrollHeight)}</script>")


@app.get("/stream")
async def stream():
    async def event_generator():
        pubsub = redis.pubsub()  # one Redis connection and subscription per SSE client
        await pubsub.subscribe(*CHANNELS)
        try:
            async for message in pubsub.listen():
                if message["type"] == "message":
                    yield f"data: {message['data']}\n\n"
        finally:
            await pubsub.unsubscribe()
            await pubsub.close()

    return StreamingResponse(event_generator(), media_type="text/event-stream")
