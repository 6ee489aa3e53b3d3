"""An OTLP/HTTP receiver for the tests: decodes each POST /v1/traces and /v1/metrics body with the official
opentelemetry-proto package (ExportTraceServiceRequest, ExportMetricsServiceRequest; protobuf, gzip when the exporter
says so) and appends it, as the protobuf JSON mapping (MessageToDict) under "traces" or "metrics", one request per
line to the file named by --out. Prints
"listening PORT" once it accepts connections. Any other path or a body that does not decode is answered 400 and
recorded as {"error": ...} so a test sees it.

    python otlp_receiver.py --port 0 --out spans.jsonl
"""
import argparse
import gzip
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

SIGNALS = {
    "/v1/traces": ("traces", ExportTraceServiceRequest, ExportTraceServiceResponse),
    "/v1/metrics": ("metrics", ExportMetricsServiceRequest, ExportMetricsServiceResponse),
}

lock = threading.Lock()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    def record(entry):
        with lock, open(args.out, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            try:
                if self.path not in SIGNALS:
                    raise ValueError(f"unexpected path {self.path}")
                if self.headers.get("Content-Type") != "application/x-protobuf":
                    raise ValueError(f"unexpected content type {self.headers.get('Content-Type')}")
                signal, request_type, response_type = SIGNALS[self.path]
                request = request_type()
                request.ParseFromString(body)
                headers = {k.lower(): v for k, v in self.headers.items()}
                record({"headers": headers, signal: MessageToDict(request)})
            except Exception as error:  # noqa: BLE001 - any failure is the test's to see
                record({"error": str(error)})
                self.send_response(400)
                self.end_headers()
                return
            reply = response_type().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
