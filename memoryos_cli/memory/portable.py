"""Export and import one user/assistant pair: lossless JSON, and a readable Markdown journal.

Import validates the whole file before writing anything, then writes in ONE transaction,
merging without duplicates: an exchange with the same ts, user_input and agent_response
is stored once; a fact or profile value with the same text and ts likewise. Into an empty
table the original ids are kept (so export -> import -> export is identical); otherwise
new ids are assigned in file order and every reference is remapped.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from memoryos_cli.config import MACHINE_LOCAL
from memoryos_cli.embed import Vector, normalize
from memoryos_cli.errors import InvalidInputError
from memoryos_cli.files import write_private as write_private  # `export -o` writes with it
from memoryos_cli.memory import long_term, mid_term, short_term
from memoryos_cli.memory.heat import recency
from memoryos_cli.memory.scope import Scope
from memoryos_cli.memory.text import page_text
from memoryos_cli.store import vectors
from memoryos_cli.store.migrations import MIGRATIONS

FORMAT = "memoryos-export"
FORMAT_VERSION = 1
TIERS = ("short", "mid", "archive")
JOB_STATES = ("pending", "running", "done", "failed")

# -- reading the store -----------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _vec_b64(vec: Vector) -> str:
    return _b64(vectors.blob(vec))


def export_data(scope: Scope, *, embeddings: bool = False) -> dict[str, Any]:
    """Everything of this user/assistant pair as plain JSON-able data."""
    store, owner = scope.store, scope.owner_id
    with store.lock:
        conn = store.conn
        now = scope.logical_now(conn)
        pages = [
            {
                "id": int(r[0]),
                "user_input": r[1],
                "agent_response": r[2],
                "ts": float(r[3]),
                "tier": r[4],
                "segment_id": None if r[5] is None else int(r[5]),
                "meta": json.loads(r[6]),
                "keywords": json.loads(r[7]),
                "analyzed": bool(r[8]),
                "created_at": float(r[9]),
            }
            for r in conn.execute(
                "SELECT id, user_input, agent_response, ts, tier, segment_id, meta_json,"
                " keywords_json, analyzed, created_at FROM pages WHERE owner_id = ? ORDER BY id",
                (owner,),
            )
        ]
        segments = []
        for r in conn.execute(
            f"SELECT {mid_term.SEGMENT_COLUMNS}, created_at, updated_at, centroid FROM segments"
            " WHERE owner_id = ? ORDER BY id",
            (owner,),
        ):
            seg = mid_term.segment_from_row(r)
            item = {k: v for k, v in asdict(seg).items() if k != "heat"}
            item["recency"] = recency(seg.last_visit_ts, now, scope.settings.heat_tau_hours)
            item["heat"] = mid_term.heat_of(scope, seg, now)
            item["created_at"], item["updated_at"] = float(r[8]), float(r[9])
            if embeddings:
                item["centroid"] = _b64(bytes(r[10]))
            segments.append(item)
        profile = [
            asdict(long_term.profile_from_row(r)) | {"created_at": float(r[8])}
            for r in conn.execute(
                f"SELECT {long_term.PROFILE_COLUMNS}, created_at FROM profile_items"
                " WHERE owner_id = ? ORDER BY id",
                (owner,),
            )
        ]
        knowledge = [
            asdict(long_term.fact_from_row(r)) | {"created_at": float(r[9])}
            for r in conn.execute(
                f"SELECT {long_term.FACT_COLUMNS}, created_at FROM knowledge"
                " WHERE owner_id = ? ORDER BY id",
                (owner,),
            )
        ]
        jobs = [
            {
                "id": int(r[0]),
                "kind": r[1],
                "target_id": int(r[2]),
                "state": r[3],
                "attempts": int(r[4]),
                "error": r[5],
                "created_at": float(r[6]),
                "updated_at": float(r[7]),
            }
            for r in conn.execute(
                "SELECT id, kind, target_id, state, attempts, error, created_at, updated_at"
                " FROM jobs WHERE owner_id = ? ORDER BY id",
                (owner,),
            )
        ]
        if embeddings:
            for items, table in ((pages, "pages_vec"), (knowledge, "knowledge_vec")):
                got = vectors.get(conn, table, [i["id"] for i in items])
                for item in items:
                    if item["id"] in got:
                        item["embedding"] = _vec_b64(got[item["id"]])
        schema = int(conn.execute("PRAGMA user_version").fetchone()[0])
    settings = {k: v for k, v in asdict(scope.settings).items() if k not in MACHINE_LOCAL}
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "schema_version": schema,
        "exported_at": time.time(),
        "user_id": scope.settings.user_id,
        "assistant_id": scope.settings.assistant_id,
        "embedder": {"name": scope.embedder.name, "dim": scope.embedder.dim},
        "embeddings": embeddings,
        "settings": settings,
        "pages": pages,
        "segments": segments,
        "profile": profile,
        "knowledge": knowledge,
        "jobs": jobs,
    }


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _date(ts: float, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime(fmt)


def _quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.splitlines() or [""])


def to_markdown(data: dict[str, Any]) -> str:
    """A readable journal: profile and knowledge first, then every exchange by date (UTC)."""
    out = [f"# memoryos journal: {data['user_id']} with {data['assistant_id']}", ""]
    out.append(
        f"{len(data['pages'])} exchanges, exported {_date(data['exported_at'])} UTC. Times are UTC."
    )
    active = [p for p in data["profile"] if p["superseded_by"] is None]
    if active:
        out += ["", "## Profile", ""]
        out += [
            f"- **{p['attribute']}**: {p['value']} (u{p['id']}, evidence {p['evidence_count']})"
            for p in active
        ]
    for kind, title in (("user", "What I know about the user"), ("assistant", "What I know")):
        facts = [
            f
            for f in data["knowledge"]
            if f["kind"] == kind and f["superseded_by"] is None and not f["archived"]
        ]
        if facts:
            out += ["", f"## {title}", ""]
            out += [f"- {f['text']} (k{f['id']}, {_date(f['ts'], '%Y-%m-%d')})" for f in facts]
    day = None
    for page in sorted(data["pages"], key=lambda p: (p["ts"], p["id"])):
        this_day = _date(page["ts"], "%Y-%m-%d")
        if this_day != day:
            day = this_day
            out += ["", f"## {day}"]
        out += ["", f"### {_date(page['ts'], '%H:%M')} · p{page['id']}", ""]
        out += ["**User:**", "", _quote(page["user_input"]), ""]
        out += ["**Assistant:**", "", _quote(page["agent_response"])]
    return "\n".join(out) + "\n"


# -- validating a file -----------------------------------------------------------------

NUM = (int, float)
OPT_INT = (int, type(None))
OPT_STR = (str, type(None))

PAGE_FIELDS: dict[str, Any] = {
    "id": int, "user_input": str, "agent_response": str, "ts": NUM, "tier": str,
    "segment_id": OPT_INT, "meta": dict, "keywords": list, "analyzed": bool, "created_at": NUM,
}  # fmt: skip
SEGMENT_FIELDS: dict[str, Any] = {
    "id": int, "summary": str, "keywords": list, "summary_source": str, "n_visit": int,
    "l_interaction": int, "last_visit_ts": NUM, "page_count": int, "created_at": NUM,
    "updated_at": NUM,
}  # fmt: skip
PROFILE_FIELDS: dict[str, Any] = {
    "id": int, "attribute": str, "value": str, "evidence_count": int, "source_page_ids": list,
    "ts": NUM, "updated_at": NUM, "superseded_by": OPT_INT, "created_at": NUM,
}  # fmt: skip
FACT_FIELDS: dict[str, Any] = {
    "id": int, "kind": str, "text": str, "evidence_count": int, "source_page_ids": list,
    "ts": NUM, "updated_at": NUM, "superseded_by": OPT_INT, "archived": bool, "created_at": NUM,
}  # fmt: skip
JOB_FIELDS: dict[str, Any] = {
    "id": int, "kind": str, "target_id": int, "state": str, "attempts": int, "error": OPT_STR,
    "created_at": NUM, "updated_at": NUM,
}  # fmt: skip
SECTIONS = {
    "pages": PAGE_FIELDS,
    "segments": SEGMENT_FIELDS,
    "profile": PROFILE_FIELDS,
    "knowledge": FACT_FIELDS,
    "jobs": JOB_FIELDS,
}


def _is(value: Any, kind: Any) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        return False  # JSON true is not a number here
    return isinstance(value, kinds)


def _fail(where: str, what: str) -> InvalidInputError:
    return InvalidInputError(f"not a valid memoryos export: {where} {what}; nothing was imported")


def _check_records(data: dict[str, Any]) -> None:
    for section, fields in SECTIONS.items():
        items = data.get(section)
        if not isinstance(items, list):
            raise _fail(section, "is missing or not a list")
        seen: set[int] = set()
        for n, item in enumerate(items):
            where = f"{section}[{n}]"
            if not isinstance(item, dict):
                raise _fail(where, "is not an object")
            for name, kind in fields.items():
                if name not in item:
                    raise _fail(where, f"has no {name!r}")
                if not _is(item[name], kind):
                    raise _fail(f"{where}.{name}", f"has the wrong type ({item[name]!r})")
            if item["id"] in seen:
                raise _fail(where, f"repeats id {item['id']}")
            seen.add(item["id"])
            for name in ("embedding", "centroid"):
                if name in item and not isinstance(item[name], str):
                    raise _fail(f"{where}.{name}", "is not base64 text")


def _check_lists(where: str, value: list[Any], kind: type) -> None:
    if not all(_is(v, kind) for v in value):
        raise _fail(where, f"must hold only {kind.__name__} values")


def _check_references(data: dict[str, Any]) -> None:
    page_ids = {p["id"] for p in data["pages"]}
    seg_ids = {s["id"] for s in data["segments"]}
    for n, p in enumerate(data["pages"]):
        where = f"pages[{n}]"
        if p["tier"] not in TIERS:
            raise _fail(f"{where}.tier", f"is {p['tier']!r}, not one of {', '.join(TIERS)}")
        if p["segment_id"] is not None and p["segment_id"] not in seg_ids:
            raise _fail(f"{where}.segment_id", f"refers to a missing segment s{p['segment_id']}")
        if (p["tier"] == "mid") != (p["segment_id"] is not None):
            raise _fail(where, "has a segment_id that does not match its tier")
        _check_lists(f"{where}.keywords", p["keywords"], str)
        try:
            json.dumps(p["meta"])
        except (TypeError, ValueError) as exc:
            raise _fail(f"{where}.meta", "is not JSON") from exc
    for n, s in enumerate(data["segments"]):
        _check_lists(f"segments[{n}].keywords", s["keywords"], str)
        if not any(p["segment_id"] == s["id"] for p in data["pages"]):
            raise _fail(f"segments[{n}]", "has no pages")
    for section, prefix in (("profile", "u"), ("knowledge", "k")):
        ids = {i["id"] for i in data[section]}
        for n, item in enumerate(data[section]):
            where = f"{section}[{n}]"
            _check_lists(f"{where}.source_page_ids", item["source_page_ids"], int)
            missing = sorted(set(item["source_page_ids"]) - page_ids)
            if missing:
                raise _fail(f"{where}.source_page_ids", f"refers to missing page p{missing[0]}")
            sup = item["superseded_by"]
            if sup is not None and (sup not in ids or sup == item["id"]):
                raise _fail(f"{where}.superseded_by", f"refers to a missing item {prefix}{sup}")
            if section == "knowledge" and item["kind"] not in ("user", "assistant"):
                raise _fail(f"{where}.kind", f"is {item['kind']!r}, not user or assistant")
    for n, job in enumerate(data["jobs"]):
        if job["state"] not in JOB_STATES:
            raise _fail(f"jobs[{n}].state", f"is {job['state']!r}")
        if job["state"] in ("pending", "running") and job["target_id"] not in seg_ids:
            raise _fail(f"jobs[{n}].target_id", f"refers to a missing segment s{job['target_id']}")


def _decode_vectors(data: dict[str, Any], dim: int) -> None:
    """Base64 vectors to arrays, checking their size (a truncated vector is an error)."""
    for section, name in (
        ("pages", "embedding"),
        ("knowledge", "embedding"),
        ("segments", "centroid"),
    ):
        for n, item in enumerate(data[section]):
            if name not in item:
                continue
            try:
                raw = base64.b64decode(item[name], validate=True)
            except ValueError as exc:
                raise _fail(f"{section}[{n}].{name}", "is not valid base64") from exc
            if len(raw) != 4 * dim:
                raise _fail(f"{section}[{n}].{name}", f"is not a {dim}-d float32 vector")
            item[name] = vectors.from_blob(raw)


def validate(data: Any) -> dict[str, Any]:
    """Check the whole file: format, versions, types, unique ids, references."""
    if not isinstance(data, dict):
        raise _fail("the file", "is not a JSON object")
    if data.get("format") != FORMAT:
        raise _fail("the file", f'has no "format": "{FORMAT}" marker')
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _fail("format_version", f"is {version!r}")
    if version > FORMAT_VERSION:
        raise InvalidInputError(
            f"this export has format version {version}, newer than this memoryos reads "
            f"({FORMAT_VERSION}); upgrade memoryos; nothing was imported"
        )
    schema = data.get("schema_version")
    if (
        not isinstance(schema, int)
        or isinstance(schema, bool)
        or not 1 <= schema <= len(MIGRATIONS)
    ):
        raise InvalidInputError(
            f"this export has schema version {schema!r}; this memoryos supports 1.."
            f"{len(MIGRATIONS)} (upgrade memoryos); nothing was imported"
        )
    for name in ("user_id", "assistant_id"):
        if not isinstance(data.get(name), str):
            raise _fail(name, "is missing or not text")
    embedder = data.get("embedder")
    if (
        not isinstance(embedder, dict)
        or not isinstance(embedder.get("name"), str)
        or not _is(embedder.get("dim"), int)
        or embedder["dim"] < 1
    ):
        raise _fail("embedder", 'must be {"name": text, "dim": number}')
    _check_records(data)
    _check_references(data)
    _decode_vectors(data, int(embedder["dim"]))
    return data


def parse(text: str) -> dict[str, Any]:
    """The validated content of an export file (JSON text)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"not a valid memoryos export: broken or truncated JSON ({exc.msg} at line "
            f"{exc.lineno}, column {exc.colno}); nothing was imported"
        ) from exc
    return validate(data)


def read_file(path: Path) -> dict[str, Any]:
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InvalidInputError(f"no such file: {path}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read {path}: {exc}") from exc
    return parse(text)


# -- writing into a store --------------------------------------------------------------


def _vectors_for(scope: Scope, data: dict[str, Any]) -> tuple[dict[int, Vector], dict[int, Vector]]:
    """Page and fact vectors: from the file when its embedder is ours, else re-embedded."""
    emb = data["embedder"]
    same = emb["name"] == scope.embedder.name and int(emb["dim"]) == scope.embedder.dim
    out: list[dict[int, Vector]] = []
    for section, text_of in (
        ("pages", lambda p: page_text(p["user_input"], p["agent_response"])),
        ("knowledge", lambda f: f["text"]),
    ):
        got = {i["id"]: i["embedding"] for i in data[section] if same and "embedding" in i}
        todo = [i for i in data[section] if i["id"] not in got]
        if todo:
            got.update(
                zip(
                    [i["id"] for i in todo],
                    scope.embedder.embed([text_of(i) for i in todo]),
                    strict=True,
                )
            )
        out.append(got)
    return out[0], out[1]


def _empty(conn: Any, table: str) -> bool:
    return conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is None


def _insert(conn: Any, table: str, row: dict[str, Any], keep_id: bool) -> int:
    row = dict(row) if keep_id else {k: v for k, v in row.items() if k != "id"}
    cols = ", ".join(row)
    cur = conn.execute(
        f"INSERT INTO {table}({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values())
    )
    return int(row["id"]) if keep_id else int(cur.lastrowid)


def _import_pages(
    conn: Any, scope: Scope, data: dict[str, Any], vecs: dict[int, Vector]
) -> tuple[dict[int, int], set[int]]:
    owner = scope.owner_id
    keep = _empty(conn, "pages")
    existing = {
        (float(r[1]), r[2], r[3]): int(r[0])
        for r in conn.execute(
            "SELECT id, ts, user_input, agent_response FROM pages WHERE owner_id = ?", (owner,)
        )
    }
    ids: dict[int, int] = {}
    new: set[int] = set()
    for p in data["pages"]:
        key = (float(p["ts"]), p["user_input"], p["agent_response"])
        if key in existing:
            ids[p["id"]] = existing[key]
            continue
        row = {
            "id": p["id"], "owner_id": owner, "user_input": p["user_input"],
            "agent_response": p["agent_response"], "ts": float(p["ts"]),
            "meta_json": json.dumps(p["meta"], ensure_ascii=False),
            "keywords_json": json.dumps(p["keywords"]), "tier": p["tier"], "segment_id": None,
            "analyzed": int(p["analyzed"]), "created_at": float(p["created_at"]),
        }  # fmt: skip
        new_id = _insert(conn, "pages", row, keep)
        vectors.upsert(conn, "pages_vec", new_id, owner, vecs[p["id"]])
        existing[key] = ids[p["id"]] = new_id
        new.add(p["id"])
    return ids, new


def _import_segments(
    conn: Any,
    scope: Scope,
    data: dict[str, Any],
    page_ids: dict[int, int],
    new_pages: set[int],
    page_vecs: dict[int, Vector],
    same_embedder: bool,
) -> dict[int, int]:
    """Segments holding at least one new page; their new pages join them."""
    keep = _empty(conn, "segments")
    ids: dict[int, int] = {}
    for s in data["segments"]:
        members = [p for p in data["pages"] if p["segment_id"] == s["id"]]
        fresh = [p for p in members if p["id"] in new_pages]
        if not fresh:
            continue
        whole = len(fresh) == len(members)
        if whole and same_embedder and "centroid" in s:
            centroid = s["centroid"]
        else:
            mean = np.mean(np.stack([page_vecs[p["id"]] for p in fresh]), axis=0)
            centroid = normalize(mean[np.newaxis, :])[0]
        row = {
            "id": s["id"], "owner_id": scope.owner_id, "summary": s["summary"],
            "keywords_json": json.dumps(s["keywords"]), "summary_source": s["summary_source"],
            "n_visit": s["n_visit"], "l_interaction": s["l_interaction"],
            "last_visit_ts": float(s["last_visit_ts"]),
            "page_count": s["page_count"] if whole else len(fresh),
            "centroid": vectors.blob(centroid), "created_at": float(s["created_at"]),
            "updated_at": float(s["updated_at"]),
        }  # fmt: skip
        sid = _insert(conn, "segments", row, keep)
        vectors.upsert(conn, "segments_vec", sid, scope.owner_id, centroid)
        marks = ",".join("?" * len(fresh))
        conn.execute(
            f"UPDATE pages SET segment_id = ? WHERE id IN ({marks})",
            [sid, *[page_ids[p["id"]] for p in fresh]],
        )
        ids[s["id"]] = sid
    return ids


def _import_chain(
    conn: Any,
    scope: Scope,
    items: list[dict[str, Any]],
    table: str,
    key: Any,
    page_ids: dict[int, int],
    vecs: dict[int, Vector] | None,
) -> tuple[dict[int, int], int]:
    """Profile items or facts, deduplicated by `key`, with superseded_by remapped."""
    owner = scope.owner_id
    keep = _empty(conn, table)
    cols = "id, attribute, value, ts" if table == "profile_items" else "id, kind, text, ts"
    existing = {
        (r[1], r[2], float(r[3])): int(r[0])
        for r in conn.execute(f"SELECT {cols} FROM {table} WHERE owner_id = ?", (owner,))
    }
    ids: dict[int, int] = {}
    added: list[dict[str, Any]] = []
    for item in items:
        k = key(item)
        if k in existing:
            ids[item["id"]] = existing[k]
            continue
        fields = PROFILE_FIELDS if table == "profile_items" else FACT_FIELDS
        row = {name: item[name] for name in fields if name != "superseded_by"}
        row["owner_id"] = owner
        if table == "profile_items":
            row["attribute"] = long_term.normalize_attribute(item["attribute"])
        row["source_page_ids"] = json.dumps(sorted({page_ids[i] for i in item["source_page_ids"]}))
        if "archived" in row:
            row["archived"] = int(row["archived"])
        new_id = _insert(conn, table, row, keep)
        if vecs is not None:
            vectors.upsert(conn, "knowledge_vec", new_id, owner, vecs[item["id"]])
        existing[k] = ids[item["id"]] = new_id
        added.append(item)
    for item in added:
        if item["superseded_by"] is not None:
            conn.execute(
                f"UPDATE {table} SET superseded_by = ? WHERE id = ?",
                (ids[item["superseded_by"]], ids[item["id"]]),
            )
    return ids, len(added)


def _one_current_value(conn: Any, owner: int) -> None:
    """After a merge, each profile attribute has one current value: the latest one."""
    rows = conn.execute(
        "SELECT id, attribute FROM profile_items WHERE owner_id = ? AND superseded_by IS NULL"
        " ORDER BY attribute, ts DESC, updated_at DESC, id DESC",
        (owner,),
    ).fetchall()
    latest: dict[str, int] = {}
    for item_id, attr in rows:
        if attr in latest:
            conn.execute(
                "UPDATE profile_items SET superseded_by = ? WHERE id = ?", (latest[attr], item_id)
            )
        else:
            latest[attr] = int(item_id)


def import_data(scope: Scope, data: dict[str, Any]) -> dict[str, int]:
    """Merge validated export `data` into this user/assistant pair, in one transaction."""
    page_vecs, fact_vecs = _vectors_for(scope, data)
    emb = data["embedder"]
    same = emb["name"] == scope.embedder.name and int(emb["dim"]) == scope.embedder.dim
    owner, settings = scope.owner_id, scope.settings
    with scope.store.transaction() as conn:
        page_ids, new_pages = _import_pages(conn, scope, data, page_vecs)
        seg_ids = _import_segments(conn, scope, data, page_ids, new_pages, page_vecs, same)
        _, profiles = _import_chain(
            conn, scope, data["profile"], "profile_items",
            lambda i: (long_term.normalize_attribute(i["attribute"]), i["value"], float(i["ts"])),
            page_ids, None,
        )  # fmt: skip
        _one_current_value(conn, owner)
        _, facts = _import_chain(
            conn, scope, data["knowledge"], "knowledge",
            lambda i: (i["kind"], i["text"], float(i["ts"])), page_ids, fact_vecs,
        )  # fmt: skip
        keep_jobs = _empty(conn, "jobs")
        job_count = 0
        for job in data["jobs"]:
            target = seg_ids.get(job["target_id"])
            if target is None and not (keep_jobs and job["state"] in ("done", "failed")):
                continue  # a finished job about a segment that is not here: no longer needed
            row = {name: job[name] for name in JOB_FIELDS}
            row |= {"owner_id": owner, "target_id": target or job["target_id"]}
            if job["state"] == "running":
                row["state"] = "pending"  # its process is not this one
            cur = conn.execute(
                "SELECT 1 FROM jobs WHERE kind = ? AND target_id = ? AND state IN"
                " ('pending', 'running')",
                (row["kind"], row["target_id"]),
            ).fetchone()
            if cur is None or row["state"] not in ("pending", "running"):
                _insert(conn, "jobs", row, keep_jobs)
                job_count += 1
        for kind in ("user", "assistant"):
            long_term._enforce_capacity(conn, owner, kind, settings.long_term_knowledge_capacity)
        for page in short_term.overflow(conn, owner, settings.short_term_capacity):
            vec = vectors.get(conn, "pages_vec", [page.id])[page.id]
            mid_term.place_page(conn, scope, page, vec)
        mid_term.evict_lfu(conn, scope)
    return {
        "pages": len(new_pages),
        "duplicate_pages": len(data["pages"]) - len(new_pages),
        "segments": len(seg_ids),
        "profile_items": profiles,
        "facts": facts,
        "jobs": job_count,
    }
