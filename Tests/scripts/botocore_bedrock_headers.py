#!/usr/bin/env python3
"""Print what boto3's bedrock-runtime client really sends for converse and
converse_stream: method, URL, every header (and which are signed), body.

Nothing leaves the machine: a before-send hook records the final prepared
request and aborts the call. Run with:

    /tmp/awsvenv/bin/pip install boto3
    /tmp/awsvenv/bin/python scripts/botocore_bedrock_headers.py
"""
import os

import boto3
import botocore
from botocore.config import Config

MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": "Hello"}]}]


class Captured(Exception):
    pass


def capture(request, **kwargs):
    print(f"{request.method} {request.url}")
    for name, value in request.headers.items():
        if isinstance(value, bytes):
            value = value.decode()
        print(f"  {name}: {value}")
    auth = request.headers.get("Authorization", b"")
    if isinstance(auth, bytes):
        auth = auth.decode()
    signed = auth.split("SignedHeaders=")[1].split(",")[0] if auth else ""
    print(f"  => signed: {signed}")
    print(f"  body: {request.body!r}")
    raise Captured()


def main():
    for var in ("AWS_BEARER_TOKEN_BEDROCK", "AWS_PROFILE"):
        os.environ.pop(var, None)
    print("boto3", boto3.__version__, "botocore", botocore.__version__)
    for token in (None, "EXAMPLESESSIONTOKEN"):
        client = boto3.client(
            "bedrock-runtime",
            region_name="us-east-1",
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            aws_session_token=token,
            config=Config(retries={"max_attempts": 1}),
        )
        client.meta.events.register("before-send.bedrock-runtime.*", capture)
        for op in ("converse", "converse_stream"):
            print(f"=== {op} (session token: {token is not None})")
            try:
                getattr(client, op)(modelId=MODEL_ID, messages=MESSAGES)
            except Captured:
                pass


if __name__ == "__main__":
    main()
