"""A minimal pot plugin SDK for Python.

pot starts plugins with hashicorp/go-plugin over gRPC. A plugin in any
language has to:

  * refuse to run unless POT_PLUGIN_MAGIC_COOKIE has pot's value (it is
    started by pot, not by hand) and PLUGIN_PROTOCOL_VERSIONS lists the
    protocol version it speaks (1: the pot.v1 package);
  * serve gRPC on a Unix socket with its pot.v1 service (Algorithm or
    Target) plus go-plugin's own services: grpc.health.v1.Health (service
    "plugin" SERVING), plugin.GRPCController/Shutdown, plugin.GRPCStdio
    and, for algorithms, plugin.GRPCBroker, over which pot says where its
    Host service listens during Run;
  * print one handshake line on stdout, "1|1|unix|/path/to/socket|grpc",
    and never write anything else there;
  * log to stderr, one JSON object per line with "@level", "@message" and
    "@timestamp" (hclog's format), which pot shows under the plugin's name;
  * ignore SIGINT (pot owns the lifecycle) and exit when pot is gone.
"""

import datetime
import json
import os
import signal
import sys
import tempfile
import threading
import time
from concurrent import futures

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, os.path.join(HERE, "gen"))

try:
    import grpc

    import plugin_broker_pb2
    import plugin_broker_pb2_grpc
    from pot.v1 import algorithm_pb2, algorithm_pb2_grpc, graph_pb2, target_pb2  # noqa: F401
except ImportError as e:  # pragma: no cover - reported to pot's log
    sys.stderr.write(json.dumps({"@level": "error", "@message": "cannot import the gRPC stubs: %s; "
                                 "install python3-grpcio python3-protobuf python3-grpc-tools and run gen.sh" % e}) + "\n")
    sys.exit(1)

COOKIE_KEY = "POT_PLUGIN_MAGIC_COOKIE"
COOKIE_VALUE = "6b1f2c1e9a7d4b0f8e3c5a2d7f9b1c4e"
PROTOCOL_VERSION = 1
MAX_MESSAGE = 256 << 20
CHUNK_SIZE = 2 << 20
GRPC_OPTIONS = [("grpc.max_receive_message_length", MAX_MESSAGE), ("grpc.max_send_message_length", MAX_MESSAGE)]

_LEVELS = {"trace": 0, "debug": 1, "info": 2, "warn": 3, "error": 4}
_level = _LEVELS.get(os.environ.get("POT_LOG_LEVEL", "info").lower(), 2)
_log_lock = threading.Lock()


def log(level, message, **kv):
    """Logs one hclog JSON line on stderr."""
    if _LEVELS[level] < _level:
        return
    # go-plugin parses exactly this timestamp layout (microseconds, zone);
    # a line it cannot parse is shown verbatim at debug level.
    now = datetime.datetime.now(datetime.timezone.utc)
    entry = {"@level": level, "@message": message, "@timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    entry.update(kv)
    with _log_lock:
        sys.stderr.write(json.dumps(entry) + "\n")
        sys.stderr.flush()


def _identity(b):
    return b


class Broker:
    """The plugin's side of go-plugin's GRPCBroker: it learns from pot
    where brokered services (the Host service) listen."""

    def __init__(self):
        self._cond = threading.Condition()
        self._infos = {}

    def StartStream(self, request_iterator, context):
        for info in request_iterator:
            with self._cond:
                self._infos[info.service_id] = info
                self._cond.notify_all()
        return iter(())

    def dial(self, service_id, timeout=5.0):
        """Returns a gRPC channel to the brokered service service_id."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while service_id not in self._infos:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError("timeout waiting for the connection info of service %d" % service_id)
                self._cond.wait(left)
            info = self._infos.pop(service_id)
        if info.network != "unix":
            return grpc.insecure_channel(info.address, options=GRPC_OPTIONS)
        return grpc.insecure_channel("unix:" + info.address, options=GRPC_OPTIONS)


def receive_graph(chunks):
    """Reassembles a pot.v1 Graph from its ModelChunk stream: the graph
    first (large initializers without data, data_size set), then the
    initializers' bytes in pieces."""
    graph = None
    pending = {}
    for chunk in chunks:
        kind = chunk.WhichOneof("payload")
        if kind == "graph":
            graph = chunk.graph
            for t in graph.initializers:
                if t.data_size > 0 and not t.data:
                    pending[t.name] = (t, bytearray(t.data_size))
        elif kind == "tensor":
            t, buf = pending[chunk.tensor.tensor]
            off = chunk.tensor.offset
            buf[off:off + len(chunk.tensor.data)] = chunk.tensor.data
    if graph is None:
        raise RuntimeError("no graph in the stream")
    for t, buf in pending.values():
        t.data = bytes(buf)
        t.data_size = 0
    return graph


def serve(algorithm=None, target=None):
    """Serves an Algorithm servicer (a pot.v1 AlgorithmServicer whose Run
    may call self.broker.dial) or a Target servicer, and never returns."""
    if os.environ.get(COOKIE_KEY) != COOKIE_VALUE:
        sys.stderr.write("This is a pot plugin: pot starts it. Put it in a plugin folder and run pot.\n")
        sys.exit(1)
    versions = os.environ.get("PLUGIN_PROTOCOL_VERSIONS", str(PROTOCOL_VERSION)).split(",")
    if str(PROTOCOL_VERSION) not in versions:
        log("error", "pot speaks protocol versions %s; this plugin speaks %d" % (versions, PROTOCOL_VERSION))
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    stop = threading.Event()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), options=GRPC_OPTIONS)
    broker = Broker()
    if algorithm is not None:
        algorithm.broker = broker
        algorithm_pb2_grpc.add_AlgorithmServicer_to_server(algorithm, server)
    if target is not None:
        from pot.v1 import target_pb2_grpc
        target_pb2_grpc.add_TargetServicer_to_server(target, server)
    plugin_broker_pb2_grpc.add_GRPCBrokerServicer_to_server(broker, server)

    def health(request, context):
        return b"\x08\x01"  # HealthCheckResponse{status: SERVING}

    def shutdown(request, context):
        log("debug", "pot asked the plugin to shut down")
        stop.set()
        return b""

    def stdio(request, context):
        stop.wait()
        return iter(())

    server.add_generic_rpc_handlers((
        grpc.method_handlers_generic_handler("grpc.health.v1.Health", {
            "Check": grpc.unary_unary_rpc_method_handler(health, _identity, _identity)}),
        grpc.method_handlers_generic_handler("plugin.GRPCController", {
            "Shutdown": grpc.unary_unary_rpc_method_handler(shutdown, _identity, _identity)}),
        grpc.method_handlers_generic_handler("plugin.GRPCStdio", {
            "StreamStdio": grpc.unary_stream_rpc_method_handler(stdio, _identity, _identity)}),
    ))
    sock_dir = os.environ.get("PLUGIN_UNIX_SOCKET_DIR") or tempfile.mkdtemp(prefix="pot-py-plugin-")
    path = os.path.join(sock_dir, "plugin-%d.sock" % os.getpid())
    server.add_insecure_port("unix:" + path)
    server.start()
    sys.stdout.write("1|%d|unix|%s|grpc\n" % (PROTOCOL_VERSION, path))
    sys.stdout.flush()

    parent = os.getppid()
    while not stop.wait(0.5):
        if os.getppid() != parent:
            log("error", "host process is gone; exiting", host_pid=parent)
            break
    server.stop(0.5)
    try:
        os.unlink(path)
    except OSError:
        pass
    os._exit(0)
