"""A local Qdrant peer: Qdrant's own engine (qdrant-edge-py, one EdgeShard per collection) behind
the part of the Qdrant REST API that `@qdrant/js-client-rest` 1.17 sends for what Sentencify does.

It is a peer for tests and local runs, not the Qdrant server: one shard per collection, no
cluster, no snapshots, no gRPC, no named or sparse vectors, no quantisation settings, `wait=false`
behaves as `wait=true`. docs/qdrant.md lists what it serves and what it does not.

    python server.py --port 16333 --data DIR [--host 127.0.0.1]

Env: QDRANT_PEER_API_KEY — when set, every request must carry it (`api-key` header or a bearer token).
Standard library only, besides the engine, so the venv stays one wheel.
"""

import argparse
import json
import os
import re
import shutil
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import qdrant_edge as qe

try:  # ~10× faster on bodies of vectors than the standard library; optional
    import orjson

    loads, dumps = orjson.loads, orjson.dumps
except ImportError:
    loads = json.loads

    def dumps(doc):
        return json.dumps(doc, separators=(",", ":")).encode()

# The js client warns unless major versions match and minors differ by at most one.
VERSION = "1.17.0"
DISTANCES = {"Cosine": qe.Distance.Cosine, "Euclid": qe.Distance.Euclid, "Dot": qe.Distance.Dot,
             "Manhattan": qe.Distance.Manhattan}
INDEX_TYPES = {"keyword": qe.PayloadSchemaType.Keyword, "integer": qe.PayloadSchemaType.Integer,
               "float": qe.PayloadSchemaType.Float, "bool": qe.PayloadSchemaType.Bool,
               "datetime": qe.PayloadSchemaType.Datetime, "uuid": qe.PayloadSchemaType.Uuid,
               "text": qe.PayloadSchemaType.Text, "geo": qe.PayloadSchemaType.Geo}
NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,255}$")
DEFAULT_HNSW = {"m": 16, "ef_construct": 100, "full_scan_threshold": 10000, "max_indexing_threads": 0,
                "on_disk": False}
DEFAULT_OPTIMIZERS = {"deleted_threshold": 0.2, "vacuum_min_vector_number": 1000, "default_segment_number": 0,
                      "max_segment_size": None, "memmap_threshold": None, "indexing_threshold": 10000,
                      "flush_interval_sec": 5, "max_optimization_threads": None}


class HttpError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def bad(message):
    return HttpError(400, f"Wrong input: {message}")


# ---------------------------------------------------------------- JSON → engine ----

def point_id(raw):
    if isinstance(raw, bool):
        raise bad(f"point id {raw!r} is neither an unsigned integer nor a UUID")
    if isinstance(raw, int):
        if raw < 0:
            raise bad(f"point id {raw} is negative")
        return raw
    if isinstance(raw, str):
        try:
            return uuid.UUID(raw)
        except ValueError:
            raise bad(f"Unable to parse UUID: {raw}") from None
    raise bad(f"point id {raw!r} is neither an unsigned integer nor a UUID")


def id_json(pid):
    return pid if isinstance(pid, int) else str(pid)


def match_of(m):
    if not isinstance(m, dict):
        raise bad("match must be an object")
    if "value" in m:
        return qe.MatchValue(m["value"])
    if "any" in m:
        return qe.MatchAny(m["any"])
    if "except" in m:
        return qe.MatchExcept(m["except"])
    if "text" in m:
        return qe.MatchText(m["text"])
    raise bad(f"unsupported match {sorted(m)}")


def condition_of(c):
    if not isinstance(c, dict):
        raise bad("a condition must be an object")
    if any(k in c for k in ("must", "should", "must_not", "min_should")):
        return filter_of(c)
    if "has_id" in c:
        return qe.HasIdCondition({point_id(i) for i in c["has_id"]})
    if "is_empty" in c:
        return qe.IsEmptyCondition(c["is_empty"]["key"])
    if "is_null" in c:
        return qe.IsNullCondition(c["is_null"]["key"])
    if "nested" in c:
        return qe.NestedCondition(c["nested"]["key"], filter_of(c["nested"]["filter"]))
    if "key" in c:
        if c.get("match") is not None:
            return qe.FieldCondition(c["key"], match=match_of(c["match"]))
        if c.get("range") is not None:
            r = c["range"]
            return qe.FieldCondition(c["key"], range=qe.RangeFloat(gte=r.get("gte"), gt=r.get("gt"),
                                                                  lte=r.get("lte"), lt=r.get("lt")))
        if c.get("is_empty") is not None:
            return qe.FieldCondition(c["key"], is_empty=c["is_empty"])
        if c.get("is_null") is not None:
            return qe.FieldCondition(c["key"], is_null=c["is_null"])
    raise bad(f"unsupported condition {sorted(c)}")


def conditions(raw):
    if raw is None:
        return None
    if isinstance(raw, dict):
        raw = [raw]
    return [condition_of(c) for c in raw]


def filter_of(f):
    if f is None:
        return None
    if not isinstance(f, dict):
        raise bad("filter must be an object")
    ms = f.get("min_should")
    return qe.Filter(must=conditions(f.get("must")), should=conditions(f.get("should")),
                     must_not=conditions(f.get("must_not")),
                     min_should=qe.MinShould(conditions(ms["conditions"]), ms["min_count"]) if ms else None)


def with_payload(v):
    if v is None or isinstance(v, bool):
        return bool(v)
    if isinstance(v, list):
        return v
    raise bad("with_payload: only true, false or a list of fields")


def search_params(p):
    if not p:
        return None
    return qe.SearchParams(hnsw_ef=p.get("hnsw_ef"), exact=bool(p.get("exact", False)),
                           indexed_only=bool(p.get("indexed_only", False)))


# ---------------------------------------------------------------- collections ----

class Collection:
    """One collection: an EdgeShard plus the collection config the REST API reports."""

    def __init__(self, path, meta, shard):
        self.path = path
        self.meta = meta
        self.shard = shard
        self.size = meta["vectors"]["size"]
        self.lock = threading.RLock()
        self.op = 0

    def check_vector(self, v):
        if isinstance(v, dict):
            if set(v) - {""}:
                raise bad(f"Not existing vector name error: {', '.join(sorted(v))} (the peer has no named vectors)")
            v = v.get("")
        if not isinstance(v, list):
            raise bad("vector must be a list of numbers")
        if len(v) != self.size:
            raise bad(f"Vector dimension error: expected dim: {self.size}, got {len(v)}")
        # The engine's conversion to f32 refuses anything that is not a number (TypeError → 400).
        return v

    def info(self):
        with self.lock:
            points = self.shard.count(qe.CountRequest(exact=True))
            si = self.shard.info()
        schema = {}
        for name, pi in si.payload_schema.items():
            schema[name] = {"data_type": str(pi.data_type).split(".")[-1].lower(), "points": pi.points}
        return {
            "status": "green",
            "optimizer_status": "ok",
            # info() double-counts after a reload; the exact count does not.
            "indexed_vectors_count": min(si.indexed_vectors_count, points),
            "points_count": points,
            "segments_count": si.segments_count,
            "config": {
                "params": {"vectors": self.meta["vectors"], "shard_number": 1, "replication_factor": 1,
                           "write_consistency_factor": 1, "on_disk_payload": True},
                "hnsw_config": self.meta["hnsw_config"],
                "optimizer_config": self.meta["optimizers_config"],
                "wal_config": {"wal_capacity_mb": 32, "wal_segments_ahead": 0},
                "quantization_config": None,
            },
            "payload_schema": schema,
        }

    def next_op(self):
        self.op += 1
        return {"operation_id": self.op, "status": "completed"}


class Store:
    def __init__(self, root):
        self.root = root
        self.lock = threading.RLock()
        self.collections = {}
        os.makedirs(root, exist_ok=True)
        for name in sorted(os.listdir(root)):
            meta_path = os.path.join(root, name, "collection.json")
            if not os.path.isfile(meta_path):
                shutil.rmtree(os.path.join(root, name), ignore_errors=True)  # a create that never finished
                continue
            with open(meta_path) as f:
                meta = json.load(f)
            shard = qe.EdgeShard.load(os.path.join(root, name, "shard"))
            self.collections[name] = Collection(os.path.join(root, name), meta, shard)

    def get(self, name):
        c = self.collections.get(name)
        if c is None:
            raise HttpError(404, f"Not found: Collection `{name}` doesn't exist!")
        return c

    def create(self, name, body):
        if not NAME_RE.match(name):
            raise bad(f"collection name `{name}` is not allowed")
        vectors = body.get("vectors")
        if not isinstance(vectors, dict) or "size" not in vectors:
            raise bad("vectors: the peer serves one unnamed dense vector per collection ({size, distance})")
        size, distance = vectors.get("size"), vectors.get("distance")
        if not isinstance(size, int) or isinstance(size, bool) or size < 1 or size > 65536:
            raise bad(f"vectors.size must be a positive integer, got {size!r}")
        if distance not in DISTANCES:
            raise bad(f"vectors.distance must be one of {', '.join(DISTANCES)}, got {distance!r}")
        if body.get("sparse_vectors"):
            raise bad("sparse vectors are not served by this peer")
        hnsw = {**DEFAULT_HNSW, **(body.get("hnsw_config") or {})}
        optimizers = {**DEFAULT_OPTIMIZERS, **(body.get("optimizers_config") or {})}
        with self.lock:
            if name in self.collections:
                raise HttpError(409, f"Wrong input: Collection `{name}` already exists!")
            path = os.path.join(self.root, name)
            shutil.rmtree(path, ignore_errors=True)
            config = qe.EdgeConfig(
                vectors=qe.EdgeVectorParams(size=size, distance=DISTANCES[distance]),
                hnsw_config=qe.HnswIndexConfig(m=hnsw["m"], ef_construct=hnsw["ef_construct"],
                                               full_scan_threshold=hnsw["full_scan_threshold"],
                                               max_indexing_threads=hnsw["max_indexing_threads"] or 0),
                optimizers=qe.EdgeOptimizersConfig(indexing_threshold=optimizers["indexing_threshold"],
                                                   deleted_threshold=optimizers["deleted_threshold"],
                                                   vacuum_min_vector_number=optimizers["vacuum_min_vector_number"],
                                                   default_segment_number=optimizers["default_segment_number"]),
            )
            shard = qe.EdgeShard.create(os.path.join(path, "shard"), config)
            meta = {"vectors": {"size": size, "distance": distance}, "hnsw_config": hnsw,
                    "optimizers_config": optimizers}
            # Written last: a directory without it is an unfinished create, removed at the next start.
            tmp = os.path.join(path, "collection.json.tmp")
            with open(tmp, "w") as f:
                json.dump(meta, f)
            os.replace(tmp, os.path.join(path, "collection.json"))
            self.collections[name] = Collection(path, meta, shard)
        return True

    def delete(self, name):
        with self.lock:
            c = self.collections.pop(name, None)
            if c is None:
                return False
            with c.lock:
                c.shard.close()
            shutil.rmtree(c.path, ignore_errors=True)
        return True

    def flush_all(self):
        for c in list(self.collections.values()):
            with c.lock:
                c.shard.flush()


# ---------------------------------------------------------------- handlers ----

def scored_json(sp, wv):
    out = {"id": id_json(sp.id), "version": sp.version, "score": sp.score, "payload": sp.payload or None}
    if wv:
        out["vector"] = sp.vector
    return out


def record_json(r, wv):
    out = {"id": id_json(r.id), "payload": r.payload or None}
    if wv:
        out["vector"] = r.vector
    return out


def query_vector(c, body, key):
    q = body.get(key)
    if isinstance(q, dict):
        if "nearest" in q:
            q = q["nearest"]
        else:
            raise bad(f"query: only a vector or {{nearest: vector}} is served by this peer, got {sorted(q)}")
    if q is None:
        raise bad("query: a vector is required (this peer serves nearest-neighbour queries only)")
    return c.check_vector(q)


def run_query(c, body):
    vec = query_vector(c, body, "query")
    req = qe.QueryRequest(limit=int(body.get("limit") or 10), offset=body.get("offset"),
                          query=qe.Query.Nearest(vec), filter=filter_of(body.get("filter")),
                          with_payload=with_payload(body.get("with_payload", False)),
                          with_vector=bool(body.get("with_vector", False)),
                          score_threshold=body.get("score_threshold"), params=search_params(body.get("params")))
    with c.lock:
        hits = c.shard.query(req)
    return [scored_json(h, body.get("with_vector")) for h in hits]


def run_search(c, body):
    vec = query_vector(c, body, "vector")
    req = qe.SearchRequest(query=qe.Query.Nearest(vec), limit=int(body.get("limit") or 10),
                           offset=body.get("offset"), filter=filter_of(body.get("filter")),
                           params=search_params(body.get("params")),
                           with_payload=with_payload(body.get("with_payload", False)),
                           with_vector=bool(body.get("with_vector", False)),
                           score_threshold=body.get("score_threshold"))
    with c.lock:
        hits = c.shard.search(req)
    return [scored_json(h, body.get("with_vector")) for h in hits]


def upsert(c, body):
    if "points" in body:
        raw = body["points"]
        points = [qe.Point(point_id(p.get("id")), c.check_vector(p.get("vector")), p.get("payload") or {})
                  for p in raw]
    elif "batch" in body:
        b = body["batch"]
        ids, vectors = b.get("ids") or [], b.get("vectors") or []
        payloads = b.get("payloads") or [None] * len(ids)
        if not (len(ids) == len(vectors) == len(payloads)):
            raise bad("batch: ids, vectors and payloads differ in length")
        points = [qe.Point(point_id(i), c.check_vector(v), p or {}) for i, v, p in zip(ids, vectors, payloads)]
    else:
        raise bad("upsert: points or batch required")
    with c.lock:
        if points:
            c.shard.update(qe.UpdateOperation.upsert_points(points))
        return c.next_op()


def delete_points(c, body):
    with c.lock:
        if "points" in body:
            ids = [point_id(i) for i in body["points"]]
            if ids:
                c.shard.update(qe.UpdateOperation.delete_points(ids))
        elif "filter" in body:
            c.shard.update(qe.UpdateOperation.delete_points_by_filter(filter_of(body["filter"])))
        else:
            raise bad("delete: points or filter required")
        return c.next_op()


def scroll(c, body):
    offset = body.get("offset")
    wv = bool(body.get("with_vector", False))
    req = qe.ScrollRequest(offset=point_id(offset) if offset is not None else None,
                           limit=int(body.get("limit") or 10), filter=filter_of(body.get("filter")),
                           with_payload=with_payload(body.get("with_payload", True)), with_vector=wv)
    with c.lock:
        records, nxt = c.shard.scroll(req)
    return {"points": [record_json(r, wv) for r in records],
            "next_page_offset": id_json(nxt) if nxt is not None else None}


def retrieve(c, ids, body):
    wv = bool(body.get("with_vector", False))
    with c.lock:
        records = c.shard.retrieve([point_id(i) for i in ids], with_payload(body.get("with_payload", True)), wv)
    return [record_json(r, wv) for r in records]


def create_index(c, body):
    field = body.get("field_name")
    schema = body.get("field_schema")
    kind = schema.get("type") if isinstance(schema, dict) else schema
    if not isinstance(field, str) or kind not in INDEX_TYPES:
        raise bad(f"payload index: field_name and field_schema ({', '.join(INDEX_TYPES)}) required")
    with c.lock:
        c.shard.update(qe.UpdateOperation.create_field_index(field, INDEX_TYPES[kind]))
        return c.next_op()


def optimize(c, body):
    """PATCH /collections/{name}: the server re-checks its optimizers after a config update; the
    peer has no background optimizer, so it runs them here, to completion, before answering."""
    if body.get("optimizers_config"):
        c.meta["optimizers_config"] = {**c.meta["optimizers_config"], **body["optimizers_config"]}
    with c.lock:
        c.shard.optimize()
        c.shard.flush()
    return True


def route(store, method, parts, query, body):
    if parts == [] and method == "GET":
        return {"title": "qdrant - vector search engine (local peer on qdrant-edge)", "version": VERSION,
                "commit": None}
    if parts == ["collections"] and method == "GET":
        return {"collections": [{"name": n} for n in sorted(store.collections)]}
    if len(parts) < 2 or parts[0] != "collections":
        raise HttpError(404, f"Not found: {method} /{'/'.join(parts)} is not served by this peer")
    name, rest = parts[1], parts[2:]
    if rest == []:
        if method == "PUT":
            return store.create(name, body)
        if method == "DELETE":
            return store.delete(name)
        if method == "GET":
            return store.get(name).info()
        if method == "PATCH":
            return optimize(store.get(name), body)
    if rest == ["exists"] and method == "GET":
        return {"exists": name in store.collections}
    c = store.get(name)
    key = (method, "/".join(rest))
    if key == ("PUT", "points"):
        return upsert(c, body)
    if key == ("POST", "points"):
        return retrieve(c, body.get("ids") or [], body)
    if key == ("POST", "points/delete"):
        return delete_points(c, body)
    if key == ("POST", "points/query"):
        return {"points": run_query(c, body)}
    if key == ("POST", "points/query/batch"):
        return [{"points": run_query(c, q)} for q in body.get("searches", [])]
    if key == ("POST", "points/search"):
        return run_search(c, body)
    if key == ("POST", "points/search/batch"):
        return [run_search(c, q) for q in body.get("searches", [])]
    if key == ("POST", "points/count"):
        with c.lock:
            n = c.shard.count(qe.CountRequest(exact=True, filter=filter_of(body.get("filter"))))
        return {"count": n}
    if key == ("POST", "points/scroll"):
        return scroll(c, body)
    if key == ("PUT", "index"):
        return create_index(c, body)
    if method == "DELETE" and len(rest) == 2 and rest[0] == "index":
        with c.lock:
            c.shard.update(qe.UpdateOperation.delete_field_index(rest[1]))
            return c.next_op()
    if method == "GET" and len(rest) == 2 and rest[0] == "points":
        found = retrieve(c, [int(rest[1]) if rest[1].isdigit() else rest[1]], {"with_vector": True})
        if not found:
            raise HttpError(404, f"Not found: No point with id {rest[1]} found")
        return found[0]
    raise HttpError(404, f"Not found: {method} /{'/'.join(parts)} is not served by this peer")


def make_handler(store, api_key):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "qdrant-peer"
        # Headers and body leave in two writes: without TCP_NODELAY the second waits for the
        # client's delayed ACK (~40 ms a request).
        disable_nagle_algorithm = True

        def log_message(self, fmt, *args):  # quiet: errors are logged in handle_any
            pass

        def send(self, status, doc, t0):
            if "title" not in doc:
                doc["time"] = time.perf_counter() - t0
            data = dumps(doc)
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def handle_any(self):
            t0 = time.perf_counter()
            url = urlparse(self.path)
            parts = [p for p in url.path.split("/") if p]
            try:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                if parts in (["healthz"], ["livez"], ["readyz"]):
                    data = b"healthz check passed"
                    self.send_response(200)
                    self.send_header("content-type", "text/plain")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if api_key:
                    given = self.headers.get("api-key") or ""
                    auth = self.headers.get("authorization") or ""
                    if auth.lower().startswith("bearer "):
                        given = given or auth[7:]
                    if not given:
                        raise HttpError(401, "Must provide an API key or an Authorization bearer token")
                    if given != api_key:
                        raise HttpError(403, "Invalid API key or JWT")
                try:
                    body = loads(raw) if raw else {}
                except ValueError as e:
                    raise bad(f"body is not JSON: {e}") from None
                if not isinstance(body, dict):
                    raise bad("body must be a JSON object")
                result = route(store, self.command, parts, parse_qs(url.query), body)
                # GET / is the one answer the server does not wrap in {result, status, time}.
                self.send(200, result if parts == [] else {"result": result, "status": "ok"}, t0)
            except HttpError as e:
                self.send(e.status, {"status": {"error": e.message}}, t0)
            except (KeyError, TypeError, ValueError) as e:
                self.send(400, {"status": {"error": f"Wrong input: {type(e).__name__}: {e}"}}, t0)
            except Exception as e:  # the engine refused or failed: report it like the server does
                msg = str(e)
                status = 400 if "Wrong input" in msg or "dimension" in msg else 500
                sys.stderr.write(f"qdrant-peer: {self.command} {self.path}: {type(e).__name__}: {msg}\n")
                self.send(status, {"status": {"error": f"Service internal error: {msg}" if status == 500 else msg}},
                          t0)

        do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = handle_any

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=16333)
    ap.add_argument("--data", required=True)
    a = ap.parse_args()
    t0 = time.perf_counter()
    store = Store(os.path.join(a.data, "collections"))
    server = ThreadingHTTPServer((a.host, a.port), make_handler(store, os.environ.get("QDRANT_PEER_API_KEY") or ""))
    server.daemon_threads = True

    def stop(*_):
        # shutdown() waits for serve_forever, which runs in this thread: hand it off.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def flusher():
        # WAL makes writes durable already; a periodic flush keeps the replay after a kill short.
        while True:
            time.sleep(5)
            try:
                store.flush_all()
            except Exception as e:
                sys.stderr.write(f"qdrant-peer: flush failed: {e}\n")

    threading.Thread(target=flusher, daemon=True).start()
    print(f"qdrant-peer {VERSION} (qdrant-edge) listening on {a.host}:{a.port}, data {a.data}, "
          f"{len(store.collections)} collection(s) loaded in {time.perf_counter() - t0:.2f} s", flush=True)
    server.serve_forever()
    store.flush_all()
    for c in store.collections.values():
        c.shard.close()
    print("qdrant-peer: stopped", flush=True)


if __name__ == "__main__":
    main()
