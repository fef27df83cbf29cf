"""Numbered, append-only schema migrations. A shipped migration is never edited.

Each runs in its own transaction and is recorded in `schema_migrations`;
`PRAGMA user_version` holds how many have been applied.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

Migration = Callable[[Any], None]
# In order; each entry is added once, by the @migration decorator on its function.
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(fn: Migration) -> Migration:
    """Register `fn` as the next migration, named by its function: m<NNN>_<what>."""
    expected = f"m{len(MIGRATIONS) + 1:03d}_"
    if not fn.__name__.startswith(expected):
        raise RuntimeError(f"migration {fn.__name__} is out of order; expected {expected}...")
    MIGRATIONS.append((fn.__name__, fn))
    return fn


def run_script(conn: Any, script: str) -> None:
    """Execute statements one by one: `executescript` would COMMIT the migration's
    transaction halfway. Statements (triggers included) end where SQLite says so."""
    import sqlite3

    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \n;"):
                conn.execute(buffer)
            buffer = ""


@migration
def m001_initial(conn: Any) -> None:
    run_script(
        conn,
        """
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);

        CREATE TABLE owners(
            id INTEGER PRIMARY KEY,
            user_id TEXT NOT NULL,
            assistant_id TEXT NOT NULL,
            created_at REAL NOT NULL,
            UNIQUE(user_id, assistant_id)
        );

        -- Mid-term: pages grouped by topic, with the heat components of MemoryOS.
        CREATE TABLE segments(
            id INTEGER PRIMARY KEY,
            owner_id INTEGER NOT NULL REFERENCES owners(id),
            summary TEXT NOT NULL,
            keywords_json TEXT NOT NULL DEFAULT '[]',
            summary_source TEXT NOT NULL DEFAULT 'keywords',
            n_visit INTEGER NOT NULL DEFAULT 0,
            l_interaction INTEGER NOT NULL DEFAULT 0,
            last_visit_ts REAL NOT NULL,
            page_count INTEGER NOT NULL DEFAULT 0,
            centroid BLOB NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE INDEX segments_owner ON segments(owner_id);

        -- The transcript: every exchange, append-only. Tiers move pointers (tier,
        -- segment_id), never the text; only `forget` deletes a row.
        CREATE TABLE pages(
            id INTEGER PRIMARY KEY,
            owner_id INTEGER NOT NULL REFERENCES owners(id),
            user_input TEXT NOT NULL,
            agent_response TEXT NOT NULL,
            ts REAL NOT NULL,
            meta_json TEXT NOT NULL DEFAULT '{}',
            keywords_json TEXT NOT NULL DEFAULT '[]',
            tier TEXT NOT NULL DEFAULT 'short' CHECK (tier IN ('short', 'mid', 'archive')),
            segment_id INTEGER REFERENCES segments(id) ON DELETE SET NULL,
            analyzed INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL
        );
        CREATE INDEX pages_owner_tier ON pages(owner_id, tier, id);
        CREATE INDEX pages_segment ON pages(segment_id);

        -- Long-term: profile attributes; a new value supersedes the old (kept as history).
        CREATE TABLE profile_items(
            id INTEGER PRIMARY KEY,
            owner_id INTEGER NOT NULL REFERENCES owners(id),
            attribute TEXT NOT NULL,
            value TEXT NOT NULL,
            evidence_count INTEGER NOT NULL DEFAULT 1,
            source_page_ids TEXT NOT NULL DEFAULT '[]',
            ts REAL NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            superseded_by INTEGER REFERENCES profile_items(id) ON DELETE SET NULL
        );
        CREATE INDEX profile_owner ON profile_items(owner_id, attribute);

        -- Long-term: user knowledge and assistant knowledge, with provenance.
        CREATE TABLE knowledge(
            id INTEGER PRIMARY KEY,
            owner_id INTEGER NOT NULL REFERENCES owners(id),
            kind TEXT NOT NULL CHECK (kind IN ('user', 'assistant')),
            text TEXT NOT NULL,
            evidence_count INTEGER NOT NULL DEFAULT 1,
            source_page_ids TEXT NOT NULL DEFAULT '[]',
            ts REAL NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            superseded_by INTEGER REFERENCES knowledge(id) ON DELETE SET NULL,
            archived INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX knowledge_owner ON knowledge(owner_id, kind, superseded_by, archived);

        -- Consolidation work, persisted so a crash loses nothing.
        CREATE TABLE jobs(
            id INTEGER PRIMARY KEY,
            owner_id INTEGER NOT NULL REFERENCES owners(id),
            kind TEXT NOT NULL,
            target_id INTEGER NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'running', 'done', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            claimed_by TEXT,
            claimed_at REAL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE UNIQUE INDEX jobs_one_open ON jobs(kind, target_id)
            WHERE state IN ('pending', 'running');

        -- Full-text indexes (BM25), external content kept in sync by triggers, so
        -- they change in the same transaction as their rows.
        CREATE VIRTUAL TABLE pages_fts USING fts5(
            user_input, agent_response, content='pages', content_rowid='id',
            tokenize='porter unicode61 remove_diacritics 2');
        CREATE TRIGGER pages_ai AFTER INSERT ON pages BEGIN
            INSERT INTO pages_fts(rowid, user_input, agent_response)
            VALUES (new.id, new.user_input, new.agent_response);
        END;
        CREATE TRIGGER pages_ad AFTER DELETE ON pages BEGIN
            INSERT INTO pages_fts(pages_fts, rowid, user_input, agent_response)
            VALUES ('delete', old.id, old.user_input, old.agent_response);
        END;

        CREATE VIRTUAL TABLE segments_fts USING fts5(
            summary, keywords_json, content='segments', content_rowid='id',
            tokenize='porter unicode61 remove_diacritics 2');
        CREATE TRIGGER segments_ai AFTER INSERT ON segments BEGIN
            INSERT INTO segments_fts(rowid, summary, keywords_json)
            VALUES (new.id, new.summary, new.keywords_json);
        END;
        CREATE TRIGGER segments_ad AFTER DELETE ON segments BEGIN
            INSERT INTO segments_fts(segments_fts, rowid, summary, keywords_json)
            VALUES ('delete', old.id, old.summary, old.keywords_json);
        END;
        CREATE TRIGGER segments_au AFTER UPDATE OF summary, keywords_json ON segments BEGIN
            INSERT INTO segments_fts(segments_fts, rowid, summary, keywords_json)
            VALUES ('delete', old.id, old.summary, old.keywords_json);
            INSERT INTO segments_fts(rowid, summary, keywords_json)
            VALUES (new.id, new.summary, new.keywords_json);
        END;

        CREATE VIRTUAL TABLE knowledge_fts USING fts5(
            text, content='knowledge', content_rowid='id',
            tokenize='porter unicode61 remove_diacritics 2');
        CREATE TRIGGER knowledge_ai AFTER INSERT ON knowledge BEGIN
            INSERT INTO knowledge_fts(rowid, text) VALUES (new.id, new.text);
        END;
        CREATE TRIGGER knowledge_ad AFTER DELETE ON knowledge BEGIN
            INSERT INTO knowledge_fts(knowledge_fts, rowid, text)
            VALUES ('delete', old.id, old.text);
        END;
        """,
    )
    # Deleted rows leave the FTS index itself, not only its content table
    # (SQLite >= 3.44; older builds rely on secure_delete plus an `optimize` merge).
    for table in ("pages_fts", "knowledge_fts", "segments_fts"):
        try:  # noqa: SIM105 - m001 is shipped; kept as it was
            conn.execute(f"INSERT INTO {table}({table}, rank) VALUES ('secure-delete', 1)")
        except Exception:  # noqa: BLE001 - driver-specific OperationalError
            pass


@migration
def m002_pages_binary_index(conn: Any) -> None:
    """`pages_bin`: sign bits of every page vector, a fast prefilter for page KNN; and
    an index for the latest page time of an owner.

    A store not yet bound to an embedder gets the table when it is bound
    (`Store.create_vector_tables`); a bound one gets it here, filled from `pages_vec`.
    """
    from memoryos_cli.store import vectors

    # The heat clock (`pages.logical_now`, MAX(ts) per owner) on every write and recall:
    # a scan of all pages without it (1.5 ms at 10k pages, 17 ms at 100k).
    conn.execute("CREATE INDEX IF NOT EXISTS pages_owner_ts ON pages(owner_id, ts)")
    row = conn.execute("SELECT value FROM meta WHERE key = 'embedding_dim'").fetchone()
    if row is None:
        return
    conn.execute(vectors.binary_table_sql("pages_bin", int(row[0])))
    conn.execute(
        "INSERT INTO pages_bin(page_id, owner_id, embedding)"
        " SELECT page_id, owner_id, vec_quantize_binary(embedding) FROM pages_vec"
    )


# A pause longer than this ends a chat session: the conventional inactivity timeout of
# web and search-log sessions (30 minutes). A session also closes at SESSION_MAX_PAGES
# exchanges, which bounds what one add_memory re-indexes (its session's text).
SESSION_GAP_S = 1800
SESSION_MAX_PAGES = 64


@migration
def m003_sessions(conn: Any) -> None:
    """Sessions: runs of one owner's exchanges without a long pause, with their text in FTS5.

    Recall scores a session as one document (BM25 over all its exchanges) and lifts its
    pages, and it treats the pages next to a hit in the same session as its context. A
    trigger assigns each new page to its owner's latest session when that ended at most
    SESSION_GAP_S away and has room, else opens a new one, so every writer (chat, import,
    MCP) keeps sessions without knowing them. Forgetting a page rebuilds its session's
    text; the FTS index drops the old text in the same transaction (secure-delete).
    """
    gap, cap = SESSION_GAP_S, SESSION_MAX_PAGES
    latest = "(SELECT MAX(id) FROM sessions WHERE owner_id = new.owner_id)"
    run_script(
        conn,
        f"""
        CREATE TABLE sessions(
            id INTEGER PRIMARY KEY,
            owner_id INTEGER NOT NULL REFERENCES owners(id),
            start_ts REAL NOT NULL,
            end_ts REAL NOT NULL,
            page_count INTEGER NOT NULL DEFAULT 0,
            text TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX sessions_owner ON sessions(owner_id, id);
        ALTER TABLE pages ADD COLUMN session_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL;
        CREATE INDEX pages_session ON pages(session_id, id);

        CREATE VIRTUAL TABLE sessions_fts USING fts5(
            text, content='sessions', content_rowid='id',
            tokenize='porter unicode61 remove_diacritics 2');
        CREATE TRIGGER sessions_ai AFTER INSERT ON sessions BEGIN
            INSERT INTO sessions_fts(rowid, text) VALUES (new.id, new.text);
        END;
        CREATE TRIGGER sessions_ad AFTER DELETE ON sessions BEGIN
            INSERT INTO sessions_fts(sessions_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END;
        CREATE TRIGGER sessions_au AFTER UPDATE OF text ON sessions BEGIN
            INSERT INTO sessions_fts(sessions_fts, rowid, text) VALUES ('delete', old.id, old.text);
            INSERT INTO sessions_fts(rowid, text) VALUES (new.id, new.text);
        END;

        CREATE TRIGGER pages_session_ai AFTER INSERT ON pages BEGIN
            INSERT INTO sessions(owner_id, start_ts, end_ts, page_count, text)
            SELECT new.owner_id, new.ts, new.ts, 0, ''
            WHERE NOT EXISTS (
                SELECT 1 FROM sessions s WHERE s.id = {latest}
                AND ABS(new.ts - s.end_ts) <= {gap} AND s.page_count < {cap});
            UPDATE sessions SET
                start_ts = MIN(start_ts, new.ts), end_ts = MAX(end_ts, new.ts),
                page_count = page_count + 1,
                text = CASE WHEN page_count = 0 THEN '' ELSE text || char(10) END
                    || new.user_input || char(10) || new.agent_response
            WHERE id = {latest};
            UPDATE pages SET session_id = {latest} WHERE id = new.id;
        END;
        CREATE TRIGGER pages_session_ad AFTER DELETE ON pages
        WHEN old.session_id IS NOT NULL BEGIN
            UPDATE sessions SET
                page_count = page_count - 1,
                text = COALESCE((SELECT group_concat(t, char(10)) FROM (
                    SELECT user_input || char(10) || agent_response AS t FROM pages
                    WHERE session_id = old.session_id ORDER BY id)), '')
            WHERE id = old.session_id;
            DELETE FROM sessions WHERE id = old.session_id AND page_count <= 0;
        END;
        """,
    )
    # As m001: deleted text leaves the index itself (SQLite >= 3.44).
    with contextlib.suppress(Exception):  # driver-specific OperationalError
        conn.execute("INSERT INTO sessions_fts(sessions_fts, rank) VALUES ('secure-delete', 1)")
    # Existing pages: the same rule, page by page in the order they were written.
    current: dict[int, tuple[int, float, int]] = {}  # owner -> (session id, end ts, pages)
    rows = conn.execute(
        "SELECT id, owner_id, ts, user_input, agent_response FROM pages ORDER BY id"
    ).fetchall()
    for page_id, owner, ts, user_input, agent_response in rows:
        text = f"{user_input}\n{agent_response}"
        open_ = current.get(owner)
        if open_ is not None and abs(ts - open_[1]) <= gap and open_[2] < cap:
            sid = open_[0]
            conn.execute(
                "UPDATE sessions SET start_ts = MIN(start_ts, ?), end_ts = MAX(end_ts, ?),"
                " page_count = page_count + 1, text = text || char(10) || ? WHERE id = ?",
                (ts, ts, text, sid),
            )
            current[owner] = (sid, max(open_[1], ts), open_[2] + 1)
        else:
            sid = int(
                conn.execute(
                    "INSERT INTO sessions(owner_id, start_ts, end_ts, page_count, text)"
                    " VALUES (?, ?, ?, 1, ?)",
                    (owner, ts, ts, text),
                ).lastrowid
            )
            current[owner] = (sid, ts, 1)
        conn.execute("UPDATE pages SET session_id = ? WHERE id = ?", (sid, page_id))


@migration
def m004_pages_unanalysed_index(conn: Any) -> None:
    """The pages still to analyse, per owner: counted on every add_memory to queue batches."""
    conn.execute(
        "CREATE INDEX IF NOT EXISTS pages_unanalysed ON pages(owner_id, id) WHERE analyzed = 0"
    )


@migration
def m005_profile_attribute_prefixes(conn: Any) -> None:
    """One row per attribute again: Qwen 1.5B echoed known items as "profile name", and each
    session added "profile_name", "profile_profile_name"... beside "name" (fixed in
    `long_term.normalize_attribute`). The rule is copied here: a migration never changes.

    A prefixed row takes its plain name; where the plain attribute already has a current
    row, the prefixed one becomes its history (superseded by it), its pages added as
    evidence when the values agree.
    """
    import json
    import re

    prefixes = re.compile(r"^(?:(?:profile|user_s|users|user|the)_)+")
    rows = conn.execute(
        "SELECT id, owner_id, attribute, value, source_page_ids, evidence_count, superseded_by"
        " FROM profile_items ORDER BY id"
    ).fetchall()
    for pid, owner, attr, value, sources, evidence, superseded_by in rows:
        plain = prefixes.sub("", attr) or attr
        if plain == attr:
            continue
        conn.execute("UPDATE profile_items SET attribute = ? WHERE id = ?", (plain, pid))
        if superseded_by is not None:
            continue
        current = conn.execute(
            "SELECT id, value, source_page_ids FROM profile_items WHERE owner_id = ?"
            " AND attribute = ? AND superseded_by IS NULL AND id != ? ORDER BY id LIMIT 1",
            (owner, plain, pid),
        ).fetchone()
        if current is None:
            continue
        if " ".join(re.findall(r"\w+", current[1].lower())) == " ".join(
            re.findall(r"\w+", value.lower())
        ):
            merged = sorted(set(json.loads(current[2])) | set(json.loads(sources)))
            conn.execute(
                "UPDATE profile_items SET evidence_count = evidence_count + ?,"
                " source_page_ids = ? WHERE id = ?",
                (evidence, json.dumps(merged), current[0]),
            )
        conn.execute("UPDATE profile_items SET superseded_by = ? WHERE id = ?", (current[0], pid))


@migration
def m006_facts_dated_when_first_said(conn: Any) -> None:
    """A fact said again used to take the later page's day (`ts = MAX`), and the prompt showed
    its "yesterday (7 May 2023)" under that later day; facts now keep the day they were first
    said (`long_term.add_fact`). A fact said more than once gets its earliest cited page's
    day back (the pages still held; a forgotten page no longer counts)."""
    conn.execute(
        "UPDATE knowledge SET ts = ("
        " SELECT MIN(p.ts) FROM json_each(knowledge.source_page_ids) j"
        " JOIN pages p ON p.id = j.value)"
        " WHERE evidence_count > 1 AND ts > ("
        " SELECT MIN(p.ts) FROM json_each(knowledge.source_page_ids) j"
        " JOIN pages p ON p.id = j.value)"
    )


@migration
def m007_analysis_log(conn: Any) -> None:
    """What the consolidation rules dropped, changed and kept in the last analyses
    (`memoryos memory why`): one row per item, the newest analyses only."""
    conn.execute(
        "CREATE TABLE analysis_log ("
        " id INTEGER PRIMARY KEY,"
        " owner_id INTEGER NOT NULL REFERENCES owners(id),"
        " job_id INTEGER NOT NULL,"
        " at REAL NOT NULL,"
        " rule TEXT NOT NULL,"
        " action TEXT NOT NULL,"
        " kind TEXT NOT NULL,"
        " item TEXT NOT NULL,"
        " result TEXT NOT NULL,"
        " reason TEXT NOT NULL,"
        " source_page_ids TEXT NOT NULL)"
    )
    conn.execute("CREATE INDEX analysis_log_owner ON analysis_log(owner_id, job_id)")


# Tables whose ids people see and type (p12, s5, u4, k3): an id once given is never given
# again, or `forget p11` run twice would erase a later exchange that took its number.
ID_FLOOR_TABLES = ("pages", "segments", "profile_items", "knowledge")


@migration
def m008_ids_never_reused(conn: Any) -> None:
    """The highest id each table has given, kept past a delete (SQLite gives max(id) + 1,
    so forgetting the newest row handed its id to the next): `store.tables.NEW_ID`."""
    conn.execute("CREATE TABLE id_floors(tbl TEXT PRIMARY KEY, last_id INTEGER NOT NULL)")
    for table in ID_FLOOR_TABLES:
        conn.execute(
            f"INSERT INTO id_floors VALUES (?, (SELECT coalesce(max(id), 0) FROM {table}))",
            (table,),
        )
        conn.execute(
            f"CREATE TRIGGER {table}_id_floor AFTER DELETE ON {table} BEGIN"
            f" UPDATE id_floors SET last_id = max(last_id, OLD.id) WHERE tbl = '{table}';"
            " END"
        )
