#!/usr/bin/env python3
"""Decode bytes produced by our Swift EventStreamMessage.encoded() with
botocore's own parser (botocore.eventstream.EventStreamBuffer) and check every
header and the payload.

SWIFT_HEX is everyTypeMessage.encoded() from Tests/AWSBitsTests/EventStreamTests.swift
(also asserted there as botocoreCheckedHex). Run with:

    /tmp/awsvenv/bin/python scripts/botocore_eventstream_check.py
"""
import botocore
from botocore.eventstream import EventStreamBuffer

SWIFT_HEX = (
    "0000013b000000e631e6c2160d3a636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e0b3a6576656e742d74797065070011636f6e74656e74426c6f636b44656c74610d3a6d6573736167652d747970650700056576656e74046279746502fe056279746573060004000102ff0c656d7074792d737472696e670700000566616c73650103696e740400011170046c6f6e6705fffffb73d8c6b0000573686f727403fed40974696d657374616d70080000018f3426998004747275650007756e69636f646507000a68c3a96c6c6f20e29c93047575696409000102030405060708090a0b0c0d0e0f7b22636f6e74656e74426c6f636b496e646578223a302c2264656c7461223a7b2274657874223a224869205c7532373133227d2c2270223a226162636465666768696a227dbdad8be3"
)

EXPECTED_HEADERS = {
    ":message-type": "event",
    ":event-type": "contentBlockDelta",
    ":content-type": "application/json",
    "true": True,
    "false": False,
    "byte": -2,
    "short": -300,
    "int": 70000,
    "long": -5_000_000_000_000,
    "bytes": bytes([0, 1, 2, 255]),
    "timestamp": 1_714_566_896_000,
    "uuid": bytes(range(16)),
    "empty-string": "",
    "unicode": "h\u00e9llo \u2713",
}
EXPECTED_PAYLOAD = b'{"contentBlockIndex":0,"delta":{"text":"Hi \\u2713"},"p":"abcdefghij"}'


def main():
    print("botocore", botocore.__version__)
    data = bytes.fromhex(SWIFT_HEX)
    # Three copies, fed in 7-byte chunks, to exercise botocore's buffering too.
    stream = data * 3
    buffer = EventStreamBuffer()
    messages = []
    for start in range(0, len(stream), 7):
        buffer.add_data(stream[start : start + 7])
        messages.extend(buffer)
    assert len(messages) == 3, len(messages)
    for message in messages:
        assert message.headers == EXPECTED_HEADERS, message.headers
        assert message.payload == EXPECTED_PAYLOAD, message.payload
        assert message.prelude.total_length == len(data)
    print("headers:", messages[0].headers)
    print("payload:", messages[0].payload)
    print("OK: botocore decoded the Swift-encoded message identically")


if __name__ == "__main__":
    main()
