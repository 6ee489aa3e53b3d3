#!/usr/bin/env python3
"""Differential check of SigV4Signer against botocore's SigV4Auth on random
requests (odd paths, percent-encoded and Unicode segments, dot segments,
queries, repeated and whitespace-laden headers, ports, session tokens).

    /tmp/awsvenv/bin/python scripts/botocore_differential.py 500 > /tmp/sigv4-diff.json
    SIGV4_BOTOCORE_CASES=/tmp/sigv4-diff.json swift test --filter differentialAgainstBotocore

The Swift test is skipped when SIGV4_BOTOCORE_CASES is unset.
"""
import datetime
import json
import random
import sys
from unittest import mock

import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode

SEGMENTS = ["model", "a", "anthropic.claude-3-haiku-20240307-v1%3A0", "x:y", "sp ace", "caf\u00e9",
            "\u1234", ".", "..", "", "~tilde", "a+b", "a=b", "%2F", "%25", "converse-stream", "-_.~"]
TEXT = ["a", "B", "Param", "Param-3", "\u1234", "x y", "a/b", "v+1", "=", "", "~", "a%b", "Z", "z", "0"]
HEADER_NAMES = ["Content-Type", "X-Amz-Meta-One", "x-amz-meta-one", "Accept", "User-Agent", "My-Header1",
                "X-Amzn-Trace-Id", "Expect", "X-Amz-Target", "Content-Length"]
HEADER_VALUES = ["application/json", "  padded  ", "a   b\tc", "multi\n  line", "VALUE", "",
                 "x,y", "\u00e9t\u00e9"]
HOSTS = ["https://bedrock-runtime.us-east-1.amazonaws.com", "https://Example.amazonaws.com:443",
         "http://localhost:8080", "https://example.com:8443", "http://127.0.0.1:80"]


def random_case(rng):
    path = "/" + "/".join(rng.choice(SEGMENTS) for _ in range(rng.randint(0, 5)))
    if rng.random() < 0.3:
        path += "/"
    url = rng.choice(HOSTS) + path
    if rng.random() < 0.5:
        pairs = [(percent_encode(rng.choice(TEXT)), percent_encode(rng.choice(TEXT)))
                 for _ in range(rng.randint(1, 4))]
        url += "?" + "&".join(f"{k}={v}" for k, v in pairs)
    headers = [(rng.choice(HEADER_NAMES), rng.choice(HEADER_VALUES)) for _ in range(rng.randint(0, 5))]
    if rng.random() < 0.2:
        headers.append(("Host", "override.example"))
    body = bytes(rng.randrange(256) for _ in range(rng.randint(0, 40)))
    token = rng.choice([None, "TOKEN/with+chars=="])
    timestamp = rng.randint(0, 4_000_000_000)
    method = rng.choice(["GET", "POST", "put", "DELETE"])
    region = rng.choice(["us-east-1", "eu-west-2"])
    service = rng.choice(["bedrock", "service"])
    return dict(method=method, url=url, headers=headers, body=body.hex(), token=token,
                timestamp=timestamp, region=region, service=service)


class Recording(botocore.auth.SigV4Auth):
    def string_to_sign(self, request, canonical_request):
        self.canonical = canonical_request
        self.sts = super().string_to_sign(request, canonical_request)
        return self.sts


def sign(case):
    request = AWSRequest(method=case["method"], url=case["url"], data=bytes.fromhex(case["body"]))
    for name, value in case["headers"]:
        request.headers[name] = value  # HTTPHeaders: appends, keeping repeats
    creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", case["token"])
    signer = Recording(creds, case["service"], case["region"])
    now = datetime.datetime.fromtimestamp(case["timestamp"], datetime.timezone.utc).replace(tzinfo=None)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=now):
        signer.add_auth(request)
    return dict(canonicalRequest=signer.canonical, stringToSign=signer.sts,
                authorization=request.headers["Authorization"])


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    rng = random.Random(20240501)
    cases = []
    for _ in range(count):
        case = random_case(rng)
        case.update(sign(case))
        cases.append(case)
    json.dump({"botocore": botocore.__version__, "cases": cases}, sys.stdout, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
