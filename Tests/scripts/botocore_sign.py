#!/usr/bin/env python3
"""Sign a fixed Bedrock Converse request with botocore's SigV4Auth.

The outputs are hard-coded as expected values in
Tests/AWSBitsTests/SigV4BotocoreTests.swift. Re-run with:

    python3 -m venv /tmp/awsvenv && /tmp/awsvenv/bin/pip install botocore
    /tmp/awsvenv/bin/python scripts/botocore_sign.py

Bedrock Runtime's signing name (credential-scope service) is "bedrock",
per botocore's data/bedrock-runtime service model metadata.
"""
import datetime
from unittest import mock

import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

URL = (
    "https://bedrock-runtime.us-east-1.amazonaws.com"
    "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
)
BODY = b'{"messages":[{"role":"user","content":[{"text":"Hello"}]}]}'
FROZEN = datetime.datetime(2024, 5, 1, 12, 34, 56)  # naive UTC, as botocore uses
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "FQoGZXIvYXdzEXAMPLESESSIONTOKEN//////////wEaDEXAMPLE+/="


class RecordingSigV4Auth(botocore.auth.SigV4Auth):
    """Keeps the intermediate strings computed inside add_auth."""

    def string_to_sign(self, request, canonical_request):
        self.recorded_canonical_request = canonical_request
        sts = super().string_to_sign(request, canonical_request)
        self.recorded_string_to_sign = sts
        return sts


def sign(token):
    creds = Credentials(ACCESS_KEY, SECRET_KEY, token)
    request = AWSRequest(
        method="POST",
        url=URL,
        data=BODY,
        headers={"Content-Type": "application/json"},
    )
    signer = RecordingSigV4Auth(creds, "bedrock", "us-east-1")
    # add_auth reads the clock through botocore.auth.get_current_datetime.
    with mock.patch.object(
        botocore.auth, "get_current_datetime", return_value=FROZEN
    ):
        signer.add_auth(request)
    print(f"--- session token: {token is not None}")
    print("CanonicalRequest:")
    print(signer.recorded_canonical_request)
    print("StringToSign:")
    print(signer.recorded_string_to_sign)
    for name, value in request.headers.items():
        print(f"HEADER {name}: {value}")


if __name__ == "__main__":
    print("botocore", botocore.__version__)
    sign(None)
    sign(TOKEN)
