"""The index in Milvus: Milvus Lite embedded (a file path) or a Milvus standalone or distributed cluster (a URI).

One collection a build holds the passages: their vectors (an exact FLAT inner-product index), Milvus's own BM25
full-text field over the lexical channel's index terms (``danish.terms``: Danish Snowball stems with æ/ø/å folded
and OCR-robust consonant skeletons, the same terms the default store's FTS5 table holds), and scalar fields for file,
body and date, so that the chat's filters run inside the engine. A second collection holds the documents, a third
the evidence sentences (their vectors and words, by document), a fourth the manifests. The alias ``<name>`` names the build in use: a new build is written beside it and the alias is moved
only once it is complete, so an interrupted build leaves the previous collection usable.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .danish import terms
from .index import CaseBook, IndexNotUsable, candidate, check_manifest, facets, hold_lock
from .records import Candidate, Chunk, Filter, Hit, IndexBuild, Sentence, date_span

FORMAT_VERSION = 3  # 2: evidence sentences; 3: each agenda item's decision (a case's history)
_TEXT_PART = 16_000  # characters of a document per row: VARCHAR holds 65,535 bytes, a character up to 4
_BATCH = 2_000  # rows per insert
_CHUNK_FIELDS = ["row", "chunk_id", "doc_id", "text", "start", "end", "line_start", "line_end", "heading", "text_hash", "page_start", "page_end"]


@lru_cache(maxsize=8)
def _client(uri: str, token: str = "") -> Any:
    """One client a Milvus (Milvus Lite runs one engine a file: the indexer and the chat in one process share it)."""
    from pymilvus import MilvusClient

    if "://" not in uri:
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    return MilvusClient(uri, token=token) if token else MilvusClient(uri)


def _loaded(client: Any, collection: str) -> str:
    """``collection``, loaded for search and query (a Milvus that starts again has its collections released)."""
    state = client.get_load_state(collection).get("state")
    if str(state).rsplit(".", 1)[-1] != "Loaded":
        client.load_collection(collection)
    return collection


def _quote(values: tuple[str, ...] | list[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def filter_expression(narrow: Filter | None) -> str:
    """A Milvus boolean expression for the documents ``narrow`` admits ("" when it narrows nothing)."""
    if narrow is None or narrow.empty:
        return ""
    parts = []
    if narrow.files:
        parts.append(f"file in {_quote(narrow.files)}")
    if narrow.bodies:
        parts.append(f"body in {_quote(narrow.bodies)}")
    if narrow.date_from or narrow.date_to:
        parts.append('date_first != ""')  # undated documents fall outside any date range
        if narrow.date_from:
            parts.append(f"date_last >= {json.dumps(date_span(narrow.date_from)[0])}")
        if narrow.date_to:
            parts.append(f"date_first <= {json.dumps(date_span(narrow.date_to)[1])}")
    return " and ".join(parts)


class MilvusStore(CaseBook):
    """A loaded Milvus build: search by vector or words, look up passages and documents."""

    def __init__(self, client: Any, collection: str, manifest: dict[str, Any]) -> None:
        self.client = client
        self.collection = collection
        self.manifest = manifest
        self._docs: dict[str, tuple[str, dict[str, str]]] = {}
        self._files: dict[str, str] = {}
        docs = _query_all(client, f"{collection}_docs", "id", int(manifest.get("document_rows", 0)), ["doc_id", "title", "file", "metadata"], "part == 0")
        for row in docs:
            self._docs[row["doc_id"]] = (row["title"], dict(row["metadata"]))
            self._files[row["doc_id"]] = row["file"]
        self._size = int(manifest.get("chunks", 0))
        self._facets: dict[str, list[str]] | None = None
        self._lock = threading.Lock()  # one client, many chat users

    def __len__(self) -> int:
        return self._size

    def dense(self, vector: np.ndarray, k: int, narrow: Filter | None = None) -> list[tuple[int, float]]:
        """Rows and cosine similarities of the ``k`` passages nearest to a normalised vector, best first."""
        return self._search([vector.astype(np.float32).tolist()], "vector", k, narrow, {"metric_type": "IP"})

    def lexical(self, query: str, k: int, narrow: Filter | None = None) -> list[tuple[int, float]]:
        """Rows and BM25 scores of the ``k`` best passages by words, best first."""
        words = " ".join(dict.fromkeys(terms(query)))
        return self._search([words], "terms_sparse", k, narrow, {"metric_type": "BM25"}) if words else []

    def _search(self, data: list[Any], field: str, k: int, narrow: Filter | None, params: dict[str, Any]) -> list[tuple[int, float]]:
        if not self._size:
            return []
        with self._lock:
            found = self.client.search(
                self.collection, data=data, anns_field=field, limit=min(k, 16_384), filter=filter_expression(narrow), search_params=params,
                output_fields=["row"],
            )  # fmt: skip
        # Milvus Lite 3.2 gives BM25 scores negated and ranks by them as if higher were better; a Milvus server gives
        # them positive. The magnitude is the score in both (and inner products are positive for relevant passages).
        pairs = [(int(h["entity"]["row"]), abs(float(h["distance"])) if field == "terms_sparse" else float(h["distance"])) for h in found[0]]
        return sorted(pairs, key=lambda p: -p[1])

    def _rows(self, rows: list[int], fields: list[str]) -> dict[int, dict[str, Any]]:
        if not rows:
            return {}
        with self._lock:
            got = self.client.query(self.collection, filter=f"row in {list(map(int, rows))}", output_fields=fields)
        return {int(r["row"]): r for r in got}

    def hits(self, rows: list[int], vector: np.ndarray) -> list[Hit]:
        """The passages of ``rows`` in that order, with their stored vectors, scored by cosine to ``vector``."""
        found = self._rows(rows, [*_CHUNK_FIELDS, "vector"])
        hits = []
        for rank, row in enumerate(rows, 1):
            r = found[row]
            title, meta = self._docs[r["doc_id"]]
            chunk = Chunk(
                r["chunk_id"], r["doc_id"], title, r["text"], r["start"], r["end"], r["line_start"], r["line_end"], r["heading"], meta,
                r["page_start"], r["page_end"],
            )  # fmt: skip
            stored = np.asarray(r["vector"], dtype=np.float32)
            hits.append(Hit(chunk, float(stored @ vector), rank, row, stored))
        return hits

    def candidates(self, rows: list[int]) -> list[Candidate]:
        """Each row's text hash, document, agenda item and section, and its meeting's body, date and case, in order."""
        found = self._rows(rows, ["row", "text_hash", "doc_id", "heading"])
        return [
            candidate(row, r["text_hash"], r["doc_id"], r["heading"], self._docs[r["doc_id"]][1]) for row in rows if (r := found.get(row)) is not None
        ]

    def dense_sentences(self, vector: np.ndarray, k: int, narrow: Filter | None = None) -> list[tuple[int, float]]:
        """Rows and cosine similarities of the ``k`` passages whose evidence sentences are nearest to a normalised
        vector, each passage once at its nearest sentence, best first."""
        if not self._size or not int(self.manifest.get("sentences", 0)):
            return []
        expression = ""
        if narrow is not None and not narrow.empty:
            # The sentences carry their document, not its meeting's body and date: the documents admitted are named.
            admitted = [d for d, (_, m) in self._docs.items() if narrow.admits(self._files[d], m.get("body", ""), m.get("date", ""))]
            if not admitted:
                return []
            expression = f"doc_id in {_quote(admitted)}"
        with self._lock:
            found = self.client.search(
                f"{self.collection}_sentences", data=[vector.astype(np.float32).tolist()], anns_field="vector", limit=min(4 * k, 16_384),
                filter=expression, search_params={"metric_type": "IP"}, output_fields=["chunk_row"],
            )  # fmt: skip
        best: dict[int, float] = {}
        for h in sorted(found[0], key=lambda h: -float(h["distance"])):
            best.setdefault(int(h["entity"]["chunk_row"]), float(h["distance"]))
        return list(best.items())[:k]

    def sentences(self, doc_ids: list[str]) -> list[Sentence]:
        """The evidence sentences of these documents with their vectors, each document's in reading order."""
        if not doc_ids:
            return []
        with self._lock:
            found = self.client.query(
                f"{self.collection}_sentences", filter=f"doc_id in {_quote(doc_ids)}", output_fields=["row", "chunk_row", "doc_id", "text", "terms", "vector"]
            )  # fmt: skip
        order = {d: i for i, d in enumerate(doc_ids)}
        found.sort(key=lambda r: (order[r["doc_id"]], r["row"]))
        return [Sentence(int(r["chunk_row"]), r["doc_id"], r["text"], r["terms"], np.asarray(r["vector"], np.float32)) for r in found]

    def document_text(self, doc_id: str) -> str:
        """A document's whole text, from its parts."""
        with self._lock:
            parts = self.client.query(f"{self.collection}_docs", filter=f"doc_id == {json.dumps(doc_id)}", output_fields=["part", "text"])
        return "".join(p["text"] for p in sorted(parts, key=lambda p: p["part"]))

    def facets(self) -> dict[str, list[str]]:
        """Source file names, bodies, and the earliest and latest date."""
        if self._facets is None:  # a loaded build does not change: every question asks for the bodies
            self._facets = facets(self._files.values(), (m for _, m in self._docs.values()))
        return self._facets

    def vectors_by_hash(self) -> dict[str, np.ndarray]:
        """Every stored vector (passages' and sentences') by its embedded text's hash (what a rebuild can reuse)."""
        return _vectors_by_hash(self.client, self.collection, self.manifest)


def _vectors_by_hash(client: Any, collection: str, manifest: dict[str, Any]) -> dict[str, np.ndarray]:
    """A build's vectors by embedded-text hash: its passages' and, where it has them, its sentences'."""
    rows = list(_query_all(client, collection, "row", int(manifest.get("chunks", 0)), ["text_hash", "vector"]))
    if client.has_collection(f"{collection}_sentences"):
        _loaded(client, f"{collection}_sentences")
        rows += _query_all(client, f"{collection}_sentences", "row", int(manifest.get("sentences", 0)), ["text_hash", "vector"])
    return {r["text_hash"]: np.asarray(r["vector"], np.float32) for r in rows}


def _query_all(client: Any, collection: str, key: str, count: int, fields: list[str], expr: str = "") -> Iterator[dict[str, Any]]:
    """Every row of a collection whose ``key`` runs 0..count-1 (and matching ``expr``), by key ranges: a query returns
    at most 16,384 rows at once."""
    for start in range(0, count, _BATCH):
        where = f"{key} >= {start} and {key} < {start + _BATCH}" + (f" and {expr}" if expr else "")
        yield from client.query(collection, filter=where, output_fields=fields)


class MilvusLocation:
    """Where a Milvus index lives (a URI and a collection name), as an indexer sees it."""

    def __init__(self, uri: str, name: str, token: str = "") -> None:
        self.uri = uri
        self.name = name
        self.token = token
        self._client: Any = None

    def __str__(self) -> str:
        return f"{self.uri} (collection {self.name})"

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = _client(self.uri, self.token)
        return self._client

    @property
    def rebuild(self) -> str:
        """The command that rebuilds this index."""
        return f"ASSISTANT_STORE=milvus ASSISTANT_MILVUS_URI={self.uri} assistant index"

    @property
    def journal(self) -> Path:
        """Beside a Milvus Lite file, or in the user's cache for a server: the vectors an interrupted build embedded."""
        if "://" not in self.uri:
            return Path(self.uri).with_name(f"{self.name}.partial")
        where = hashlib.sha1(self.uri.encode()).hexdigest()[:10]
        return Path.home() / ".cache" / "municipal-assistant" / f"milvus-{where}-{self.name}.partial"

    def _active(self) -> str | None:
        """The collection the alias names (None: no index yet)."""
        if not self.client.has_collection(self.name):
            return None
        return str(self.client.describe_collection(self.name)["collection_name"])

    def manifest(self) -> dict[str, Any] | None:
        """The manifest of the build in use (None when there is none)."""
        active = self._active()
        if active is None or not self.client.has_collection(f"{self.name}_manifests"):
            return None
        manifests = _loaded(self.client, f"{self.name}_manifests")
        rows = self.client.query(manifests, filter=f"collection == {json.dumps(active)}", output_fields=["manifest"])
        return dict(rows[0]["manifest"]) if rows else None

    def load(self, expect: dict[str, Any] | None = None) -> MilvusStore:
        """The build in use, loaded; refused when built under other settings than ``expect``."""
        manifest, active = self.manifest(), self._active()
        if manifest is None or active is None:
            raise IndexNotUsable(f"no index in {self}; build it with: {self.rebuild}")
        check_manifest(manifest, {"format_version": FORMAT_VERSION, **(expect or {})}, str(self), self.rebuild)
        _loaded(self.client, active)
        _loaded(self.client, f"{active}_docs")
        _loaded(self.client, f"{active}_sentences")
        return MilvusStore(self.client, active, manifest)

    def reusable_vectors(self, expect: dict[str, Any]) -> dict[str, np.ndarray]:
        """Vectors of the build in use by embedded-text hash, when they were made under the same settings; a build of
        an older format counts too (its vectors are as good: only what is kept beside them changed)."""
        manifest, active = self.manifest(), self._active()
        if manifest is None or active is None or any(manifest.get(k) != v for k, v in expect.items()):
            return {}
        _loaded(self.client, active)
        return _vectors_by_hash(self.client, active, manifest)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold a lock for a whole build: beside a Milvus Lite file, or on this machine for a server's collection."""
        if "://" in self.uri:
            key = hashlib.sha1(f"{self.uri}#{self.name}".encode()).hexdigest()[:16]
            path = Path(tempfile.gettempdir()) / f"assistant-milvus-{key}.lock"
        else:
            path = Path(self.uri).with_name(Path(self.uri).name + f".{self.name}.lock")
            path.parent.mkdir(parents=True, exist_ok=True)
        with hold_lock(path, str(self)):
            yield

    def write(self, build: IndexBuild) -> None:
        """Write a complete build into new collections, then move the alias to it and drop the old ones."""
        client, stamp = self.client, f"{self.name}_{time.strftime('%Y%m%d%H%M%S')}_{time.time_ns() % 1_000_000:06d}"
        active = self._active()
        for leftover in [c for c in client.list_collections() if c.startswith(f"{self.name}_2") and c.removesuffix("_docs").removesuffix("_sentences") != active]:
            client.drop_collection(leftover)  # an interrupted earlier build
        self._create_chunks(stamp, build.vectors.shape[1])
        self._create_docs(f"{stamp}_docs")
        self._create_sentences(f"{stamp}_sentences", build.vectors.shape[1])
        files = {}
        for d in build.documents:
            files[d.id] = Path(d.path).name
        rows = []
        for i, (c, words, h) in enumerate(zip(build.chunks, build.terms, build.hashes)):
            first, last = date_span(c.metadata["date"]) if c.metadata.get("date") else ("", "")
            rows.append({
                "row": i, "vector": build.vectors[i].tolist(), "chunk_id": c.id, "doc_id": c.doc_id, "text": c.text, "start": c.start,
                "end": c.end, "line_start": c.line_start, "line_end": c.line_end, "heading": c.heading[:1000], "text_hash": h,
                "page_start": c.page_start, "page_end": c.page_end, "terms": words, "file": files[c.doc_id],
                "body": c.metadata.get("body", ""), "date_first": first, "date_last": last,
            })  # fmt: skip
            if len(rows) == _BATCH:
                client.insert(stamp, rows)
                rows = []
        if rows:
            client.insert(stamp, rows)
        docs = [
            {"doc_id": d.id, "part": p, "title": d.title, "path": d.path, "file": files[d.id], "metadata": d.metadata,
             "text": d.text[p * _TEXT_PART : (p + 1) * _TEXT_PART], "_v": [0.0, 0.0]}  # fmt: skip
            for d in build.documents
            for p in range(max(1, -(-len(d.text) // _TEXT_PART)))
        ]
        for i, doc in enumerate(docs):
            doc["id"] = i
        for start in range(0, len(docs), _BATCH):
            client.insert(f"{stamp}_docs", docs[start : start + _BATCH])
        sentences = [
            {"row": i, "vector": build.sentence_vectors[i].tolist(), "chunk_row": x.row, "doc_id": x.doc_id, "text": x.text, "terms": x.terms, "text_hash": h}
            for i, (x, h) in enumerate(zip(build.sentences, build.sentence_hashes))
        ] if build.sentence_vectors is not None else []  # fmt: skip
        for start in range(0, len(sentences), _BATCH):
            client.insert(f"{stamp}_sentences", sentences[start : start + _BATCH])
        for name in (stamp, f"{stamp}_docs", f"{stamp}_sentences"):
            client.flush(name)
        manifest = {
            **build.manifest, "format_version": FORMAT_VERSION, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "collection": stamp,
            "document_rows": len(docs),
        }  # fmt: skip
        self._create_manifests()
        client.insert(f"{self.name}_manifests", [{"collection": stamp, "manifest": manifest, "_v": [0.0, 0.0]}])
        client.flush(f"{self.name}_manifests")
        old = self._active()
        if old is None:
            client.create_alias(stamp, self.name)
        else:
            client.alter_alias(stamp, self.name)  # the swap: searches go to the new build from here on
            for gone in (old, f"{old}_docs", f"{old}_sentences"):
                if client.has_collection(gone):
                    client.drop_collection(gone)
            client.delete(f"{self.name}_manifests", filter=f"collection == {json.dumps(old)}")

    def _create_chunks(self, name: str, dim: int) -> None:
        from pymilvus import DataType, Function, FunctionType

        client = self.client
        schema = client.create_schema(auto_id=False)
        schema.add_field("row", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        for field, length in (("chunk_id", 1024), ("doc_id", 1024), ("heading", 4096), ("text_hash", 64), ("file", 1024), ("body", 1024)):
            schema.add_field(field, DataType.VARCHAR, max_length=length)
        schema.add_field("text", DataType.VARCHAR, max_length=65_535)
        for field in ("start", "end", "line_start", "line_end", "page_start", "page_end"):
            schema.add_field(field, DataType.INT64)
        schema.add_field("date_first", DataType.VARCHAR, max_length=10)
        schema.add_field("date_last", DataType.VARCHAR, max_length=10)
        # The terms are already stemmed, folded and skeletonised: the standard tokenizer only splits them at spaces.
        schema.add_field("terms", DataType.VARCHAR, max_length=65_535, enable_analyzer=True, analyzer_params={"tokenizer": "standard"})
        schema.add_field("terms_sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name=f"{name}_bm25", function_type=FunctionType.BM25, input_field_names=["terms"], output_field_names=["terms_sparse"]))
        index = client.prepare_index_params()
        index.add_index("vector", index_type="FLAT", metric_type="IP")  # exact, as the default store's flat index
        index.add_index("terms_sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        client.create_collection(name, schema=schema, index_params=index)

    def _create_docs(self, name: str) -> None:
        from pymilvus import DataType

        client = self.client
        schema = client.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("_v", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field in every collection
        for field, length in (("doc_id", 1024), ("title", 4096), ("path", 4096), ("file", 1024)):
            schema.add_field(field, DataType.VARCHAR, max_length=length)
        schema.add_field("part", DataType.INT64)
        schema.add_field("metadata", DataType.JSON)
        schema.add_field("text", DataType.VARCHAR, max_length=65_535)
        index = client.prepare_index_params()
        index.add_index("_v", index_type="FLAT", metric_type="L2")
        client.create_collection(name, schema=schema, index_params=index)

    def _create_sentences(self, name: str, dim: int) -> None:
        from pymilvus import DataType

        client = self.client
        schema = client.create_schema(auto_id=False)
        schema.add_field("row", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        schema.add_field("chunk_row", DataType.INT64)
        for field, length in (("doc_id", 1024), ("text_hash", 64)):
            schema.add_field(field, DataType.VARCHAR, max_length=length)
        for field in ("text", "terms"):
            schema.add_field(field, DataType.VARCHAR, max_length=65_535)
        index = client.prepare_index_params()
        index.add_index("vector", index_type="FLAT", metric_type="IP")
        client.create_collection(name, schema=schema, index_params=index)

    def _create_manifests(self) -> None:
        from pymilvus import DataType

        client, name = self.client, f"{self.name}_manifests"
        if client.has_collection(name):
            return
        schema = client.create_schema(auto_id=True)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("_v", DataType.FLOAT_VECTOR, dim=2)
        schema.add_field("collection", DataType.VARCHAR, max_length=512)
        schema.add_field("manifest", DataType.JSON)
        index = client.prepare_index_params()
        index.add_index("_v", index_type="FLAT", metric_type="L2")
        client.create_collection(name, schema=schema, index_params=index)
