#!/usr/bin/env python3
"""Writes the seed corpora under Fuzz/Corpus/<target>/ (Benchmarks/fuzz.sh fuzzes from copies of them).

    python3 Fuzz/make-corpus.py

Deterministic: running it again rewrites the same files. Seeds are small and realistic: streams and bodies as the
providers send them (formats as in Sources/RoadtestWire and the simulator), event-stream frames valid and corrupted,
JSON documents, CSV case files, and the suites under examples/. A file's name says what it is; in the decoder
directories (openai, anthropic, responses, bedrock, gemini) `stream-*` is a stream for that decoder, `body-*` a whole
response body for its `decodeBody`, and (bedrock) `script-*` a message script the bedrock target frames itself.
"""
import json
import pathlib
import shutil
import struct
import zlib

FUZZ = pathlib.Path(__file__).resolve().parent
ROOT = FUZZ.parent
CORPUS = FUZZ / "Corpus"


def sse(*events):
    """Server-sent events: each a (name or None, JSON value or raw text)."""
    out = ""
    for name, data in events:
        if name is not None:
            out += f"event: {name}\n"
        out += "data: " + (data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))) + "\n\n"
    return out


# ---- event-stream framing (application/vnd.amazon.eventstream) ----

def header(name, kind, value=None):
    raw = name.encode()
    out = bytes([len(raw)]) + raw
    if kind == "true":
        return out + b"\x00"
    if kind == "false":
        return out + b"\x01"
    if kind == "byte":
        return out + b"\x02" + struct.pack(">b", value)
    if kind == "short":
        return out + b"\x03" + struct.pack(">h", value)
    if kind == "int":
        return out + b"\x04" + struct.pack(">i", value)
    if kind == "long":
        return out + b"\x05" + struct.pack(">q", value)
    if kind == "bytes":
        return out + b"\x06" + struct.pack(">H", len(value)) + value
    if kind == "string":
        data = value.encode()
        return out + b"\x07" + struct.pack(">H", len(data)) + data
    if kind == "timestamp":
        return out + b"\x08" + struct.pack(">q", value)
    if kind == "uuid":
        assert len(value) == 16
        return out + b"\x09" + value
    raise ValueError(kind)


def frame(headers, payload):
    """One message: prelude (total, headers length, CRC), headers, payload, message CRC."""
    total = 12 + len(headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + headers + payload
    return body + struct.pack(">I", zlib.crc32(body))


def event(event_type, value):
    headers = (header(":content-type", "string", "application/json") + header(":event-type", "string", event_type)
               + header(":message-type", "string", "event"))
    return frame(headers, json.dumps(value, separators=(",", ":")).encode())


def exception(exception_type, message):
    headers = (header(":content-type", "string", "application/json")
               + header(":exception-type", "string", exception_type) + header(":message-type", "string", "exception"))
    return frame(headers, json.dumps({"message": message}).encode())


BEDROCK_TEXT = (
    event("messageStart", {"role": "assistant"})
    + event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Paris is"}})
    + event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": " the capital of France."}})
    + event("contentBlockStop", {"contentBlockIndex": 0})
    + event("messageStop", {"stopReason": "end_turn"})
    + event("metadata", {"usage": {"inputTokens": 12, "outputTokens": 8, "totalTokens": 20,
                                   "cacheReadInputTokens": 4, "cacheWriteInputTokens": 0},
                         "metrics": {"latencyMs": 211}})
)
BEDROCK_TOOL = (
    event("messageStart", {"role": "assistant"})
    + event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "Need weather."}}})
    + event("contentBlockStop", {"contentBlockIndex": 0})
    + event("contentBlockStart", {"contentBlockIndex": 1,
                                  "start": {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather"}}})
    + event("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{\"city\":"}}})
    + event("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"toolUse": {"input": "\"Paris\"}"}}})
    + event("contentBlockStop", {"contentBlockIndex": 1})
    + event("messageStop", {"stopReason": "tool_use"})
    + event("metadata", {"usage": {"inputTokens": 30, "outputTokens": 12, "totalTokens": 42}})
)
BEDROCK_EXCEPTION = (
    event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Par"}})
    + exception("modelStreamErrorException", "the model stopped")
)
BEDROCK_GUARDRAIL = (
    event("messageStart", {"role": "assistant"})
    + event("messageStop", {"stopReason": "guardrail_intervened"})
    + event("metadata", {"usage": {"inputTokens": 5, "outputTokens": 0}})
)
ERROR_FRAME = frame(header(":error-code", "string", "InternalFailure")
                    + header(":error-message", "string", "an internal error occurred")
                    + header(":message-type", "string", "error"), b"")
EVERY_HEADER_TYPE = frame(
    header("b0", "true") + header("b1", "false") + header("byte", "byte", -7) + header("short", "short", -300)
    + header("int", "int", 70000) + header("long", "long", -(2**40)) + header("bytes", "bytes", b"\x00\xff\x10")
    + header("string", "string", "caf\u00e9") + header("ts", "timestamp", 1_700_000_000_000)
    + header("uuid", "uuid", bytes(range(16))),
    b'{"ok":true}')


def corrupt(data, offset, xor=0x01):
    data = bytearray(data)
    data[offset] ^= xor
    return bytes(data)


def bad_header_frame(headers):
    return frame(headers, b"{}")


EVENTSTREAM = {
    "bedrock-text.bin": BEDROCK_TEXT,
    "bedrock-tool-use.bin": BEDROCK_TOOL,
    "bedrock-exception.bin": BEDROCK_EXCEPTION,
    "error-message.bin": ERROR_FRAME,
    "every-header-type.bin": EVERY_HEADER_TYPE,
    "empty-message.bin": frame(b"", b""),
    "bad-prelude-crc.bin": corrupt(BEDROCK_TEXT, 9),
    "bad-message-crc.bin": corrupt(BEDROCK_TEXT, 40),
    "bad-length.bin": (lambda p: p + struct.pack(">I", zlib.crc32(p)))(struct.pack(">II", 0x7FFF_FFFF, 0)),
    "headers-longer-than-message.bin": (lambda p: p + struct.pack(">I", zlib.crc32(p)))(struct.pack(">II", 20, 9)),
    "truncated.bin": BEDROCK_TEXT[:-7],
    "duplicate-header.bin": bad_header_frame(header("a", "true") + header("a", "false")),
    "unknown-header-type.bin": bad_header_frame(b"\x01a\x0c"),
    "header-overrun.bin": bad_header_frame(b"\x01a\x07\x00\x20abc"),
    "invalid-utf8-header.bin": bad_header_frame(b"\x02\xc3\x28\x00"),
}

# ---- server-sent event streams of each format ----

OPENAI_TEXT = sse(
    (None, {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1717000000, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}),
    (None, {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1717000000, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": {"content": "Paris is the capital"}, "finish_reason": None}]}),
    (None, {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1717000000, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": {"content": " of France."}, "finish_reason": None}]}),
    (None, {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1717000000, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
    (None, {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1717000000, "model": "gpt-4o-mini",
            "choices": [], "usage": {"prompt_tokens": 14, "completion_tokens": 7, "total_tokens": 21,
                                     "prompt_tokens_details": {"cached_tokens": 0},
                                     "completion_tokens_details": {"reasoning_tokens": 0}}}),
    (None, "[DONE]"),
)
OPENAI_TOOLS = sse(
    (None, {"id": "c2", "choices": [{"index": 0, "delta": {"role": "assistant", "content": None, "tool_calls": [
        {"index": 0, "id": "call_abc", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}}]}),
    (None, {"id": "c2", "choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "function": {"arguments": "{\"city\":"}}]}}]}),
    (None, {"id": "c2", "choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "function": {"arguments": "\"Paris\"}"}}]}}]}),
    (None, {"id": "c2", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
    (None, "[DONE]"),
)
OPENAI_REASONING = sse(
    (None, {"choices": [{"index": 0, "delta": {"reasoning_content": "The user asks about \u00e9t\u00e9 \ud83d\ude00"}}]}),
    (None, {"choices": [{"index": 0, "delta": {"content": "a \"quoted\" answer\nwith lines"}}]}),
    (None, {"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 64}}),
    (None, " [DONE] "),
)
OPENAI_ERROR = (": keep-alive\n\n" + sse((None, {"choices": [{"index": 0, "delta": {"content": "par"}}]}))
                + sse(("error", {"error": {"message": "overloaded", "type": "server_error"}}))
                + sse((None, {"error": {"message": "rate limited", "code": 429}})))
OPENAI_LEGACY = sse((None, {"choices": [{"index": 0, "text": "legacy completion", "finish_reason": "stop"}]}),
                    (None, "[DONE]"))

ANTHROPIC_TEXT = sse(
    ("message_start", {"type": "message_start", "message": {
        "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [],
        "stop_reason": None, "usage": {"input_tokens": 25, "cache_read_input_tokens": 100,
                                       "cache_creation_input_tokens": 10, "output_tokens": 1}}}),
    ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    ("ping", {"type": "ping"}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0,
                             "delta": {"type": "text_delta", "text": "Paris is the capital"}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0,
                             "delta": {"type": "text_delta", "text": " of France."}}),
    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                       "usage": {"output_tokens": 9}}),
    ("message_stop", {"type": "message_stop"}),
)
ANTHROPIC_TOOL = sse(
    ("message_start", {"type": "message_start", "message": {"id": "msg_02", "usage": {"input_tokens": 40,
                                                                                      "output_tokens": 1}}}),
    ("content_block_start", {"type": "content_block_start", "index": 0,
                             "content_block": {"type": "thinking", "thinking": ""}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0,
                             "delta": {"type": "thinking_delta", "thinking": "I should call the tool."}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0,
                             "delta": {"type": "signature_delta", "signature": "EqQBCgIYAh"}}),
    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {
        "type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {}}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 1,
                             "delta": {"type": "input_json_delta", "partial_json": "{\"city\": \"Pa"}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 1,
                             "delta": {"type": "input_json_delta", "partial_json": "ris\"}"}}),
    ("content_block_stop", {"type": "content_block_stop", "index": 1}),
    ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 30}}),
    ("message_stop", {"type": "message_stop"}),
)
ANTHROPIC_ERROR = sse(
    ("message_start", {"type": "message_start", "message": {"usage": {"input_tokens": 3}}}),
    ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
)

RESPONSES_TEXT = sse(
    ("response.created", {"type": "response.created", "sequence_number": 0, "response": {
        "id": "resp_1", "object": "response", "status": "in_progress", "output": []}}),
    ("response.output_item.added", {"type": "response.output_item.added", "sequence_number": 1, "output_index": 0,
                                    "item": {"id": "msg_1", "type": "message", "role": "assistant", "content": []}}),
    ("response.output_text.delta", {"type": "response.output_text.delta", "sequence_number": 2, "item_id": "msg_1",
                                    "output_index": 0, "content_index": 0, "delta": "Paris is the capital"}),
    ("response.output_text.delta", {"type": "response.output_text.delta", "sequence_number": 3, "item_id": "msg_1",
                                    "output_index": 0, "content_index": 0, "delta": " of France."}),
    ("response.output_text.done", {"type": "response.output_text.done", "sequence_number": 4, "output_index": 0,
                                   "text": "Paris is the capital of France."}),
    ("response.completed", {"type": "response.completed", "sequence_number": 5, "response": {
        "id": "resp_1", "object": "response", "status": "completed",
        "output": [{"type": "message", "role": "assistant", "content": [
            {"type": "output_text", "text": "Paris is the capital of France."}]}],
        "usage": {"input_tokens": 12, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 8,
                  "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 20}}}),
)
RESPONSES_TOOL = sse(
    ("response.output_item.added", {"type": "response.output_item.added", "output_index": 0, "item": {
        "type": "reasoning", "id": "rs_1", "summary": []}}),
    ("response.reasoning_summary_text.delta", {"type": "response.reasoning_summary_text.delta", "output_index": 0,
                                               "delta": "Need the weather."}),
    ("response.output_item.added", {"type": "response.output_item.added", "output_index": 1, "item": {
        "type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather", "arguments": ""}}),
    ("response.function_call_arguments.delta", {"type": "response.function_call_arguments.delta", "output_index": 1,
                                                "delta": "{\"city\":\"Paris\"}"}),
    ("response.function_call_arguments.done", {"type": "response.function_call_arguments.done", "output_index": 1,
                                               "arguments": "{\"city\":\"Paris\"}"}),
    ("response.completed", {"type": "response.completed", "response": {
        "status": "completed", "output": [{"type": "function_call", "call_id": "call_1", "name": "get_weather",
                                           "arguments": "{\"city\":\"Paris\"}"}],
        "usage": {"input_tokens": 30, "output_tokens": 15}}}),
)
RESPONSES_INCOMPLETE = sse(
    ("response.refusal.delta", {"type": "response.refusal.delta", "output_index": 0, "delta": "I can't"}),
    ("response.incomplete", {"type": "response.incomplete", "response": {
        "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"},
        "usage": {"input_tokens": 5, "output_tokens": 16}}}),
)
RESPONSES_FAILED = sse(
    ("response.output_text.delta", {"type": "response.output_text.delta", "output_index": 0, "delta": "ok"}),
    ("response.failed", {"type": "response.failed", "response": {
        "status": "failed", "error": {"code": "server_error", "message": "The server had an error"}}}),
    ("error", {"type": "error", "code": "rate_limit_exceeded", "message": "slow down"}),
)

GEMINI_TEXT = sse(
    (None, {"candidates": [{"content": {"role": "model", "parts": [{"text": "Paris is"}]}, "index": 0}],
            "modelVersion": "gemini-2.5-flash"}),
    (None, {"candidates": [{"content": {"role": "model", "parts": [{"text": " the capital of France."}]},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 8, "totalTokenCount": 20,
                              "cachedContentTokenCount": 4}}),
)
GEMINI_TOOL = sse(
    (None, {"candidates": [{"content": {"role": "model", "parts": [
        {"text": "Need the weather.", "thought": True},
        {"functionCall": {"id": "call_1", "name": "get_weather", "args": {"city": "Paris"}}}]},
        "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 30, "candidatesTokenCount": 12, "thoughtsTokenCount": 20}}),
)
GEMINI_BLOCKED = sse(
    (None, {"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": [
        {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}]}}),
)
GEMINI_LENGTH_SAFETY = sse(
    (None, {"candidates": [{"content": {"parts": [{"text": "A long"}]}}]}),
    (None, {"candidates": [{"content": {"parts": [{"text": " answer"}]}, "finishReason": "MAX_TOKENS"}],
            "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 16}}),
    (None, {"candidates": [{"finishReason": "SAFETY"}]}),
    (None, {"candidates": [{"finishReason": "MALFORMED_FUNCTION_CALL"}]}),
)
GEMINI_ERROR = sse(
    (None, {"error": {"code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED"}}),
)

SSE = {
    "openai-chat.sse": OPENAI_TEXT,
    "anthropic-messages.sse": ANTHROPIC_TEXT,
    "openai-responses.sse": RESPONSES_TEXT,
    "gemini.sse": GEMINI_TEXT,
    "crlf-comments-multiline.sse": ("event: a\r\ndata: {\"x\": \"\u00e9:1\"}\r\n\r\n: note\rdata\rdata: two\n\n"
                                    "data:  lead\r\rid: 7\nretry: 3000\n\ndata: first\ndata: second\n\n"
                                    "event: only-a-name\n\n"),
    "unterminated.sse": "data: {\"choices\":[]}\n\ndata: no blank line at the end",
}

# ---- whole response bodies ----

BODIES = {
    "openai": {
        "body-completion.json": {
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1717000000, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris is the capital of France."},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20}},
        "body-tool-calls.json": {
            "choices": [{"index": 0, "message": {"role": "assistant", "content": None, "reasoning_content": "hm",
                                                 "tool_calls": [{"id": "call_1", "type": "function", "function": {
                                                     "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                         "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 30, "completion_tokens": 12, "prompt_tokens_details": {"cached_tokens": 8},
                      "completion_tokens_details": {"reasoning_tokens": 4}}, "system_fingerprint": "fp_1"},
        "body-request.json": {
            "model": "gpt-4o-mini", "stream": True, "stream_options": {"include_usage": True},
            "messages": [{"role": "system", "content": "Be brief."},
                         {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
                         {"role": "assistant", "content": None, "tool_calls": [
                             {"id": "c1", "type": "function", "function": {"name": "get_weather",
                                                                           "arguments": "{\"city\":\"Paris\"}"}}]},
                         {"role": "tool", "tool_call_id": "c1", "content": "18C"}],
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {
                "type": "object", "properties": {"city": {"type": "string"}}}}}],
            "tool_choice": "auto", "temperature": 0.7, "max_tokens": 64, "seed": 7},
    },
    "anthropic": {
        "body-message.json": {
            "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": "Paris is the capital of France."}],
            "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 12, "cache_read_input_tokens": 0, "output_tokens": 8}},
        "body-tool-use.json": {
            "content": [{"type": "thinking", "thinking": "Call the tool.", "signature": "x"},
                        {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}],
            "stop_reason": "tool_use", "usage": {"input_tokens": 40, "cache_creation_input_tokens": 12,
                                                 "output_tokens": 30}},
    },
    "responses": {
        "body-response.json": {
            "id": "resp_1", "object": "response", "status": "completed",
            "output": [{"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Think."}]},
                       {"type": "message", "role": "assistant", "content": [
                           {"type": "output_text", "text": "Paris is the capital of France."}]}],
            "usage": {"input_tokens": 12, "output_tokens": 8, "output_tokens_details": {"reasoning_tokens": 2}}},
        "body-function-call.json": {
            "status": "incomplete", "incomplete_details": {"reason": "content_filter"},
            "output": [{"type": "function_call", "call_id": "call_1", "name": "get_weather",
                        "arguments": "{\"city\":\"Paris\"}"},
                       {"type": "message", "content": [{"type": "refusal", "refusal": "No."}]}],
            "usage": {"input_tokens": 30, "output_tokens": 15}},
        "body-failed.json": {"status": "failed", "error": {"code": "server_error", "message": "boom"}},
    },
    "gemini": {
        "body-generate.json": {
            "candidates": [{"content": {"role": "model", "parts": [{"text": "Paris is the capital of France."}]},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 8, "totalTokenCount": 20},
            "modelVersion": "gemini-2.5-flash", "responseId": "r1"},
        "body-function-call.json": {
            "candidates": [{"content": {"role": "model", "parts": [
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 30, "candidatesTokenCount": 12, "thoughtsTokenCount": 7}},
        "body-blocked.json": {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}},
    },
    "bedrock": {
        "body-converse.json": {
            "output": {"message": {"role": "assistant", "content": [{"text": "Paris is the capital of France."}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 12, "outputTokens": 8, "totalTokens": 20, "cacheReadInputTokens": 2},
            "metrics": {"latencyMs": 300}},
        "body-tool-use.json": {
            "output": {"message": {"role": "assistant", "content": [
                {"reasoningContent": {"reasoningText": {"text": "Need the tool.", "signature": "s"}}},
                {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}}]}},
            "stopReason": "tool_use", "usage": {"inputTokens": 30, "outputTokens": 12, "cacheWriteInputTokens": 6}},
    },
}

BEDROCK_SCRIPTS = {
    "script-text.txt": "messageStart {\"role\":\"assistant\"}\n"
                       "contentBlockDelta {\"contentBlockIndex\":0,\"delta\":{\"text\":\"Paris is\"}}\n"
                       "contentBlockDelta {\"contentBlockIndex\":0,\"delta\":{\"text\":\" the capital.\"}}\n"
                       "contentBlockStop {\"contentBlockIndex\":0}\n"
                       "messageStop {\"stopReason\":\"end_turn\"}\n"
                       "metadata {\"usage\":{\"inputTokens\":12,\"outputTokens\":8,\"cacheReadInputTokens\":4}}\n",
    "script-tool-use.txt": "contentBlockDelta {\"contentBlockIndex\":0,\"delta\":{\"reasoningContent\":{\"text\":\"hm\"}}}\n"
                           "contentBlockStart {\"contentBlockIndex\":1,\"start\":{\"toolUse\":"
                           "{\"toolUseId\":\"t1\",\"name\":\"get_weather\"}}}\n"
                           "contentBlockDelta {\"contentBlockIndex\":1,\"delta\":{\"toolUse\":{\"input\":\"{\\\"city\\\"\"}}}\n"
                           "contentBlockDelta {\"contentBlockIndex\":1,\"delta\":{\"toolUse\":{\"input\":\":1}\"}}}\n"
                           "messageStop {\"stopReason\":\"tool_use\"}\n"
                           "metadata {\"usage\":{\"inputTokens\":30,\"outputTokens\":12}}\n",
    "script-exception.txt": "contentBlockDelta {\"contentBlockIndex\":0,\"delta\":{\"text\":\"Par\"}}\n"
                            "!throttlingException {\"message\":\"Too many requests, please wait.\"}\n",
    "script-error-guardrail.txt": "messageStop {\"stopReason\":\"guardrail_intervened\"}\n"
                                  "?InternalFailure an internal error occurred\n",
}

# ---- JSON documents ----

JSON_DOCS = {
    "object.json": '{"id":"c1","n":1,"ok":true,"none":null,"list":[1,2.5,-3e-7,"x"],"nested":{"a":{"b":[]}}}',
    "numbers.json": "[0,-0,1,-1,0.5,1e10,1E+2,-2.5e-3,123456789012345,1234567890123456789,"
                    "9007199254740993,1.7976931348623157e308,5e-324,0.1,100.0]",
    "strings.json": r'["", "plain", "tab\tnewline\nquote\"back\\slash\/", "\u00e9\u2028\u2029", "\ud83d\ude00",'
                    r' "\u0000\u001f", "caf' + "\u00e9" + r' direct", "lone \ud800 surrogate", "\udc00"]',
    "whitespace-scalar.json": ' \t\r\n "top-level string" \n',
    "chat-request.json": json.dumps(BODIES["openai"]["body-request.json"], indent=2),
    "deep.json": "[" * 100 + "{}" + "]" * 100,
    "duplicate-keys.json": '{"a":1,"a":2,"b":{"c":true,"c":false}}',
}

# ---- CSV case files ----

CSV = {
    "tickets.csv": (ROOT / "examples/data/tickets.csv").read_text(),
    "checks-and-vars.csv": (
        "id,prompt,tags,contains,not-contains,icontains-any,vars.city,temperature,threshold\n"
        "paris,What is the capital of {{city}}?,geo|capital,Paris,London,paris|PARIS,France,0.2,0.5\n"
        "quoted,\"A prompt with a comma, a \"\"quote\"\" and\na newline\",geo,x,,,\"Spain\",0,1\n"
    ),
    "crlf.csv": "id,prompt,equals\r\na,Say yes,yes\r\nb,Say no,no\r\n",
    "bad-stray-quote.csv": "id,prompt\na,say \"hi\" there\n",
    "bad-unclosed-quote.csv": "id,prompt\na,\"never closed\n",
    "bad-field-count.csv": "id,prompt,contains\na,hello\nb,hi,h,extra\n",
    "unknown-column.csv": "id,promt,contians\na,hello,h\n",
    "empty-rows.csv": "prompt\n\n  \nhello\n",
}

SUITE_EXTRA = {
    "inline-cases.yaml": """name: inline
candidates:
  - {id: sim, base_url: "http://127.0.0.1:9/v1", model: echo, retries: 1, timeout: 5s}
defaults:
  temperature: 0
  max_tokens: 16
cases:
  - id: a
    prompt: "Say {{word}}"
    vars: {word: hello}
    checks:
      - contains: hello
      - regex: '^h'
      - json-path: {path: "$.a[0]", equals: 1}
      - is-json: {schema: {type: object, required: [a]}}
  - {id: b, messages: [{role: user, content: hi}], checks: [{equals: hi, weight: 2}]}
bars:
  pass_rate: 0.9
  p95_latency: 2s
""",
    "anchors-and-errors.yaml": """name: &n anchors
candidates:
  - &c {id: one, base_url: "http://127.0.0.1:9/v1", model: m}
  - {<<: *c, id: two, temprature: 2}
cases:
  - {id: x, prompt: *n, checks: [{contains: [1, 2]}]}
  - {id: x, prompt: dup}
""",
}


def write(target, name, data):
    path = CORPUS / target / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())


def main():
    if CORPUS.exists():
        shutil.rmtree(CORPUS)
    for name, data in SSE.items():
        write("sse", name, data)
    for name, data in EVENTSTREAM.items():
        write("eventstream", name, data)
    for name, data in JSON_DOCS.items():
        write("json", name, data)
    for name, data in CSV.items():
        write("csv", name, data)
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        write("suite", path.name, path.read_bytes())
    for name, data in SUITE_EXTRA.items():
        write("suite", name, data)
    streams = {
        "openai": {"stream-text.sse": OPENAI_TEXT, "stream-tool-calls.sse": OPENAI_TOOLS,
                   "stream-reasoning-length.sse": OPENAI_REASONING, "stream-errors.sse": OPENAI_ERROR,
                   "stream-legacy-text.sse": OPENAI_LEGACY},
        "anthropic": {"stream-text.sse": ANTHROPIC_TEXT, "stream-thinking-tool-use.sse": ANTHROPIC_TOOL,
                      "stream-error.sse": ANTHROPIC_ERROR},
        "responses": {"stream-text.sse": RESPONSES_TEXT, "stream-reasoning-function-call.sse": RESPONSES_TOOL,
                      "stream-incomplete.sse": RESPONSES_INCOMPLETE, "stream-failed.sse": RESPONSES_FAILED},
        "gemini": {"stream-text.sse": GEMINI_TEXT, "stream-thought-function-call.sse": GEMINI_TOOL,
                   "stream-blocked.sse": GEMINI_BLOCKED, "stream-length-safety.sse": GEMINI_LENGTH_SAFETY,
                   "stream-error.sse": GEMINI_ERROR},
        "bedrock": {"stream-text.bin": BEDROCK_TEXT, "stream-tool-use.bin": BEDROCK_TOOL,
                    "stream-exception.bin": BEDROCK_EXCEPTION, "stream-guardrail.bin": BEDROCK_GUARDRAIL},
    }
    for target, files in streams.items():
        for name, data in files.items():
            write(target, name, data)
        for name, value in BODIES[target].items():
            write(target, name, json.dumps(value, separators=(",", ":")))
    for name, data in BEDROCK_SCRIPTS.items():
        write("bedrock", name, data)
    for target in sorted(p.name for p in CORPUS.iterdir()):
        files = list((CORPUS / target).iterdir())
        print(f"{target:12} {len(files):3} files {sum(f.stat().st_size for f in files):7} bytes")


if __name__ == "__main__":
    main()
