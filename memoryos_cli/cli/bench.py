"""`memoryos bench`: LoCoMo quality and speed benchmarks, rendered for people or as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.table import Table

from memoryos_cli.cli.env import Env, get_env
from memoryos_cli.errors import InvalidInputError

bench_app = typer.Typer(help="Benchmarks: LoCoMo recall and answers, storage and recall speed.")


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _write_json(env: Env, data: dict[str, Any], out: Path | None) -> None:
    if out is not None:
        out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        env.console.print(f"wrote {out}")


def _model_path(env: Env) -> str:
    """The configured model's file: bench stores are temporary homes, the model stays put."""
    from memoryos_cli import catalog

    settings = env.settings()
    return str(catalog.resolve(settings.model, settings))


def locomo_table(report: dict[str, Any]) -> Table:
    k = report.get("k", 10)
    recall_cols = [f"recall@{n}" for n in sorted({5, 10, 20, k})]
    table = Table(
        title=f"LoCoMo {report['mode']}: {report['questions']} questions, {report['pages']} pages"
    )
    table.add_column("method", no_wrap=True)
    for col in recall_cols:
        table.add_column(col, justify="right")
    for cat in ("1", "2", "3", "4"):
        table.add_column(f"c{cat} r@{k}", justify="right")
    if report["mode"] == "qa":
        for col in ("F1", "BLEU-1", "calls/ans", "TTFT s"):
            table.add_column(col, justify="right")
    table.add_column("tokens/ans", justify="right")
    table.add_column("ms/query", justify="right")
    for name, m in report["methods"].items():
        cats = [_fmt(m["by_category"].get(c, {}).get(f"recall@{k}")) for c in ("1", "2", "3", "4")]
        row = [name, *(_fmt(m[c]) for c in recall_cols), *cats]
        if report["mode"] == "qa":
            row += [
                _fmt(m["f1"]),
                _fmt(m["bleu1"]),
                _fmt(m["llm_calls_per_answer"]),
                _fmt(m["ttft_s_per_answer"]),
            ]
        row += [_fmt(m["recalled_tokens_per_answer"], 0), _fmt(m["ms_per_query"], 1)]
        table.add_row(*row)
    table.caption = "categories: 1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop"
    return table


def conversation_table(report: dict[str, Any]) -> Table:
    """Recall@k of each method on each conversation (and over all of them)."""
    cols = [f"recall@{n}" for n in sorted({5, 10, 20, report.get("k", 10)})]
    table = Table(title="recall by conversation")
    table.add_column("method", no_wrap=True)
    table.add_column("conversation")
    for col in cols:
        table.add_column(col, justify="right")
    for name, m in report["methods"].items():
        for conv, entry in {**m.get("by_conversation", {}), "all": m}.items():
            table.add_row(name, conv, *(_fmt(entry.get(c)) for c in cols))
    return table


@bench_app.command("locomo")
def locomo(
    ctx: typer.Context,
    data: Annotated[Path, typer.Option("--data", help="A LoCoMo JSON file (read by path).")],
    mode: Annotated[
        Literal["retrieval", "qa"],
        typer.Option("--mode", help="retrieval (evidence recall, no model) or qa (answers)."),
    ] = "retrieval",
    k: Annotated[int, typer.Option("-k", help="Pages recalled per question.")] = 10,
    questions: Annotated[
        int | None, typer.Option("--questions", help="A seeded subset, stratified by category.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the question subset.")] = 0,
    methods: Annotated[
        str | None,
        typer.Option("--methods", help="Comma-separated subset, e.g. hybrid,memoryos."),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the report here.")
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Also draw recall@k (or, full pipeline, F1 vs tokens) here."),
    ] = None,
    pipeline: Annotated[
        Literal["pages", "full"],
        typer.Option(
            "--pipeline",
            help="qa only: 'pages' (pages, bench prompt) or 'full' (play sessions through "
            "add_memory, consolidate with the chat model, answer through the chat's prompt).",
        ),
    ] = "pages",
    sessions: Annotated[
        int | None,
        typer.Option("--sessions", help="Full pipeline: play only each conversation's first N."),
    ] = None,
    keep: Annotated[
        Path | None,
        typer.Option(
            "--keep",
            help="Full pipeline: keep the played, consolidated stores in this folder and reuse "
            "them on a later run (same model and --sessions): answers measured on the same "
            "memories.",
        ),
    ] = None,
    show_pairs: Annotated[
        int,
        typer.Option(
            "--show-pairs",
            help="Full pipeline: print this many graded fact pairs of each kind (recall: "
            "observation and closest extracted item; precision: fact and its cited pages).",
        ),
    ] = 0,
) -> None:
    """Score recall methods (recency, bm25, dense, hybrid, memoryos) on LoCoMo questions.

    Ablations run when named: memoryos-no-phrases, -no-neighbours, -no-sessions, -no-dates,
    -no-segments, -no-signals (memoryos with that page-ranking signal off).
    """
    from memoryos_cli.bench.locomo_bench import run_locomo

    env = get_env(ctx)
    if pipeline == "full" and mode != "qa":
        raise InvalidInputError("--pipeline full answers questions: add --mode qa")
    chat_model = _model_path(env) if mode == "qa" else env.model
    if pipeline == "full":
        _full_pipeline(
            env,
            data,
            questions,
            seed,
            sessions,
            methods,
            chat_model,
            json_out,
            plot,
            keep=keep,
            show_pairs=show_pairs,
        )
        return
    with env.console.status("LoCoMo") as status:
        report = run_locomo(
            data,
            mode=mode,
            k=k,
            questions=questions,
            seed=seed,
            methods=[m.strip() for m in methods.split(",") if m.strip()] if methods else None,
            model=chat_model,
            progress=lambda msg: status.update(msg),
        )
    env.console.print(locomo_table(report))
    env.console.print(conversation_table(report))
    _write_json(env, report, json_out)
    if plot is not None:
        from memoryos_cli.bench.plots import recall_plot

        env.console.print(f"wrote {recall_plot(report, plot)}")


def pipeline_table(report: dict[str, Any]) -> Table:
    """Full pipeline: each method's answers and what they cost, the tiers they drew on."""
    from memoryos_cli.bench.locomo import CATEGORY_NAMES

    table = Table(
        title=f"LoCoMo full pipeline: {report['questions']} questions ({report['model']})",
        caption=_pipeline_caption(report),
    )
    cats = sorted({c for m in report["methods"].values() for c in m["by_category"]})
    for col in ["method", "F1", "BLEU-1", *(CATEGORY_NAMES[int(c)] for c in cats)]:
        table.add_column(col, justify="left" if col == "method" else "right")
    for col in (
        "F1 - pages (95%)",
        "answer words recalled",
        "prompt tok",
        "recalled tok",
        "TTFT s",
        "calls",
        "recalled by tier",
    ):
        table.add_column(col, justify="right")
    differences = report.get("against_pages", {})
    for name, m in report["methods"].items():
        tiers = ", ".join(f"{t} {n}" for t, n in m["recalled_items_by_tier"].items()) or "-"
        table.add_row(
            name,
            _fmt(100 * m["f1"] if m["f1"] is not None else None, 1),
            _fmt(100 * m["bleu1"] if m["bleu1"] is not None else None, 1),
            *(_fmt(100 * (m["by_category"].get(c, {}).get("f1") or 0.0), 1) for c in cats),
            _difference(differences.get(name)),
            _fmt(m.get("answer_words_recalled")),
            _fmt(m["prompt_tokens_per_answer"], 0),
            _fmt(m["recalled_tokens_per_answer"], 0),
            _fmt(m["ttft_s_per_answer"], 2),
            str(m["llm_calls_per_answer"]),
            tiers,
        )
    return table


def _difference(entry: dict[str, Any] | None) -> str:
    """ "+1.2 (-4.0, +6.5)": F1 points against pages only, with the 95% interval."""
    if not entry:
        return "-"
    low, high = (100 * v for v in entry["interval95"])
    return f"{100 * entry['f1_difference']:+.1f} ({low:+.1f}, {high:+.1f})"


def page_recall_table(report: dict[str, Any]) -> Table:
    """Full pipeline: how well each ranking finds the evidence pages in the played store."""
    rows = report["page_recall"]
    n = max((r["questions"] for r in rows.values()), default=0)
    cols = [key for key in next(iter(rows.values()), {}) if key.startswith("recall@")]
    table = Table(title=f"page recall on the played, consolidated memories ({n} questions)")
    for col in ("method", *cols):
        table.add_column(col, justify="left" if col == "method" else "right")
    for name, r in rows.items():
        table.add_row(name, *(_fmt(r[col]) for col in cols))
    return table


def fact_pair_tables(report: dict[str, Any], n: int) -> tuple[Table, Table]:
    """The first `n` graded pairs of each kind, to check the matching rules by hand."""
    recall = Table(title="fact recall pairs (observation -> closest extracted item)")
    for col in ("#", "observation", "closest item", "cos", "stated"):
        recall.add_column(col, overflow="fold")
    for i, p in enumerate(report["fact_pairs"]["recall"][:n], start=1):
        recall.add_row(
            str(i), p["observation"], p["item"], f"{p['similarity']:.2f}", str(p["stated"])
        )
    support = Table(title="fact precision pairs (fact -> its cited pages)")
    for col in ("#", "fact", "cited", "coverage", "supported", "words not in the pages"):
        support.add_column(col, overflow="fold")
    for i, p in enumerate(report["fact_pairs"]["support"][:n], start=1):
        support.add_row(
            str(i),
            p["fact"],
            ", ".join(p["cited"]),
            f"{p['coverage']:.2f}",
            str(p["supported"]),
            " ".join(p["missing"]),
        )
    return recall, support


def rule_table(report: dict[str, Any]) -> Table:
    """What each consolidation rule dropped, graded like the stored facts."""
    table = Table(
        title="consolidation rules: what each dropped",
        caption="only stated: observations of the user that a dropped item states and no"
        " stored item does (fact recall the rule cost); supported: dropped facts their cited"
        " pages hold (precision's rule would have counted them).",
    )
    for col in ("rule", "dropped", "facts", "only stated", "supported"):
        table.add_column(col, justify="left" if col == "rule" else "right")
    for name, t in report["facts"]["rules"].items():
        table.add_row(
            name, str(t["dropped"]), str(t["dropped_facts"]), str(t["only_stated"]),
            str(t["supported"]),
        )  # fmt: skip
    return table


def _pipeline_caption(report: dict[str, Any]) -> str:
    c, f = report["consolidation"], report["facts"]
    return (
        f"consolidation: {c['llm_calls']} calls for {c['exchanges']} exchanges "
        f"({_fmt(c['calls_per_exchange'])} per exchange, {_fmt(c['seconds_per_exchange'], 1)} s"
        f" per exchange, {c['jobs_not_done']} jobs not done); made {f['profile_items']} profile "
        f"items and {f['facts']} facts; fact recall {_fmt(f['fact_recall'])} of "
        f"{f['user_observations']} observations, fact precision {_fmt(f['fact_precision'])}"
    )


def _full_pipeline(
    env: Env,
    data: Path,
    questions: int | None,
    seed: int,
    sessions: int | None,
    methods: str | None,
    model: str | None,
    json_out: Path | None,
    plot: Path | None,
    *,
    keep: Path | None = None,
    show_pairs: int = 0,
) -> None:
    from memoryos_cli.bench.pipeline import PIPELINE_METHODS, run_pipeline

    chosen = tuple(m.strip() for m in methods.split(",") if m.strip()) if methods else None
    with env.console.status("LoCoMo full pipeline") as status:

        def progress(msg: str) -> None:
            status.update(msg)
            env.console.print(msg, style="dim")

        report = run_pipeline(
            data,
            questions=questions,
            seed=seed,
            sessions=sessions,
            methods=chosen or PIPELINE_METHODS,
            model=model,
            settings=env.settings(),
            progress=progress,
            keep=keep,
        )
    env.console.print(pipeline_table(report))
    env.console.print(page_recall_table(report))
    env.console.print(rule_table(report))
    if show_pairs:
        env.console.print(*fact_pair_tables(report, show_pairs))
    _write_json(env, report, json_out)
    if plot is not None:
        from memoryos_cli.bench.plots import f1_tokens_plot

        env.console.print(f"wrote {f1_tokens_plot(report, plot)}")


def perf_table(report: dict[str, Any]) -> Table:
    table = Table(title=f"memoryos perf ({report['embedder']})", caption=report["method"])
    cols = [
        ("pages", "pages"),
        ("add p50 ms", "add_memory_ms_p50"),
        ("add p95 ms", "add_memory_ms_p95"),
        ("retrieve p50 ms", "retrieve_ms_p50"),
        ("retrieve p95 ms", "retrieve_ms_p95"),
        ("flat retrieve p50 ms", "retrieve_flat_ms_p50"),
        ("embed ms", "embed_one_ms_p50"),
        ("DB MB", "db_bytes"),
        ("bytes/page", "bytes_per_page"),
        ("overhead/page", "overhead_bytes_per_page"),
        ("peak RSS MB", "peak_rss_mb"),
    ]
    for title, _ in cols:
        table.add_column(title, justify="right")
    for row in report["sizes"]:
        cells = []
        for _, key in cols:
            value = row.get(key)
            cells.append(f"{value / 1e6:.1f}" if key == "db_bytes" else _fmt(value, 1))
        table.add_row(*cells)
    return table


@bench_app.command("perf", context_settings={"allow_extra_args": True})
def perf(
    ctx: typer.Context,
    pages: Annotated[
        list[int] | None, typer.Option("--pages", help="Page counts to measure (repeatable).")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the report here.")
    ] = None,
) -> None:
    """Time add_memory and retrieve (p50/p95), DB size and peak memory at each page count.

    Sizes may follow one flag: `--pages 1000 10000 100000`.
    """
    from memoryos_cli.bench.perf import DEFAULT_SIZES, run_perf
    from memoryos_cli.errors import InvalidInputError

    env = get_env(ctx)
    sizes = list(pages or [])
    for extra in ctx.args:
        if not extra.isdigit():
            raise InvalidInputError(f"unexpected argument {extra!r}; --pages takes page counts")
        sizes.append(int(extra))
    with env.console.status("perf") as status:
        report = run_perf(sizes or list(DEFAULT_SIZES), progress=lambda msg: status.update(msg))
    env.console.print(perf_table(report))
    _write_json(env, report, json_out)


def chat_table(report: dict[str, Any]) -> Table:
    warm = "warm prefix" if report["warm_prefix"] else "no warm-up (baseline)"
    queued = report.get("queued_pages", 0)
    table = Table(
        title=f"chat: {Path(report['model']).name}, {report['turns']} turns over "
        f"{report['stored_pages']} stored pages"
        + (f" ({queued} not analysed yet)" if queued else "")
        + f", {warm}"
    )
    table.add_column("measure")
    table.add_column("idle work done" if "paced" in report else "value", justify="right")
    paced = report.get("paced")
    if paced is not None:
        table.add_column(f"asked {paced['pace_s']:g} s after each answer", justify="right")
        for name, key in [
            ("TTFT p50 s", "ttft_p50_s"),
            ("TTFT p95 s", "ttft_p95_s"),
            ("prompt tokens evaluated per turn", "prompt_tokens_evaluated_per_turn"),
            ("questions asked while idle work ran", "turns_asked_during_idle_work"),
            ("consolidation LLM calls (started)", "consolidation_llm_calls"),
            ("analysis jobs done during the turns", "jobs_done_during_the_turns"),
            ("jobs queued after the last turn", "jobs_left_after_the_turns"),
        ]:
            table.add_row(name, _fmt(report[key], 2), _fmt(paced[key], 2))
        table.add_row("TTFT p95 / normal p50", "", _fmt(paced["ttft_p95_over_normal_p50"], 2))
        table.add_row("peak RSS MB", "", _fmt(report["peak_rss_mb"], 2))
        return table
    rows = [
        ("model load s", report["load_s"]),
        ("TTFT p50 s", report["ttft_p50_s"]),
        ("TTFT p95 s", report["ttft_p95_s"]),
        ("bookkeeping before first token p50 ms", report["bookkeeping_p50_ms"]),
        ("bookkeeping p95 ms", report["bookkeeping_p95_ms"]),
        ("prompt tokens per turn", report["prompt_tokens_per_turn"]),
        ("prompt tokens evaluated per turn", report["prompt_tokens_evaluated_per_turn"]),
        ("recalled tokens per turn", report["recalled_tokens_per_turn"]),
        ("generation tok/s", report["generation_tok_s"]),
        ("idle work per turn s (consolidation + warm)", report["idle_work_s_per_turn"]),
        ("consolidation LLM calls per stored turn", report["consolidation_calls_per_stored_turn"]),
        ("peak RSS MB", report["peak_rss_mb"]),
    ]
    for name, value in rows:
        table.add_row(name, _fmt(value, 2))
    return table


@bench_app.command("chat")
def chat(
    ctx: typer.Context,
    turns: Annotated[int, typer.Option("--turns", help="Scripted user turns.")] = 20,
    stored: Annotated[int, typer.Option("--stored", help="Exchanges stored beforehand.")] = 500,
    answer_tokens: Annotated[
        int, typer.Option("--answer-tokens", help="Max tokens per answer.")
    ] = 96,
    no_warm: Annotated[
        bool, typer.Option("--no-warm", help="Baseline: no idle consolidation or prefix warm-up.")
    ] = False,
    pace: Annotated[
        float | None,
        typer.Option(
            "--pace",
            help="Also run the conversation with each question SECONDS after the last answer, "
            "whatever the idle work (prefix warm-up, consolidation) is doing; report both.",
            metavar="SECONDS",
        ),
    ] = None,
    queued: Annotated[
        int,
        typer.Option("--queued", help="Of the stored exchanges, the last N not analysed yet."),
    ] = 0,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the report here.")
    ] = None,
) -> None:
    """Time to first token, tokens per turn and consolidation cost with the configured model.

    With --pace, also turns asked while idle work runs (Enter stops an analysis).
    """
    from memoryos_cli.bench.chat_bench import run_chat_bench

    env = get_env(ctx)
    model = _model_path(env)
    with env.console.status("chat bench") as status:
        report = run_chat_bench(
            model,
            turns=turns,
            stored=stored,
            answer_tokens=answer_tokens,
            warm=not no_warm,
            pace=pace,
            queued=queued,
            progress=lambda msg: status.update(msg),
        )
    env.console.print(chat_table(report))
    _write_json(env, report, json_out)


@bench_app.command("startup")
def startup(
    ctx: typer.Context,
    runs: Annotated[int, typer.Option("--runs", help="How many starts to time.")] = 7,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the report here.")
    ] = None,
) -> None:
    """Seconds from starting `memoryos chat` to its prompt, in a real pseudo-terminal."""
    from memoryos_cli.bench.startup import run_startup

    env = get_env(ctx)
    report = run_startup(env.settings().home, runs=runs)
    env.console.print(
        f"time to prompt: p50 {report['time_to_prompt_p50_s']:.2f} s, "
        f"max {report['time_to_prompt_max_s']:.2f} s over {runs} starts"
    )
    _write_json(env, report, json_out)


@bench_app.command("constraints")
def constraints(
    ctx: typer.Context,
    answer_tokens: Annotated[
        int, typer.Option("--answer-tokens", help="Max tokens per answer.")
    ] = 150,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the report, every answer in it.")
    ] = None,
) -> None:
    """Food answers against the diet and the allergy the user told.

    A first session tells a diet (vegetarian) or an allergy (shellfish); a day later the
    configured model answers food questions (broken: it offers what is ruled out) and
    other questions (a leak: it brings the constraint up) through the chat's own prompt,
    each twice: as the chat answers (ruled-out foods banned) and without the ban.
    """
    from memoryos_cli.bench.constraints_bench import WAYS, run_constraints_bench

    env = get_env(ctx)
    with env.console.status("constraints bench") as status:
        report = run_constraints_bench(
            _model_path(env), answer_tokens=answer_tokens, progress=lambda m: status.update(m)
        )
    for way, tally in report["ways"].items():
        env.console.print(
            f"{report['model']}, {WAYS[way]}: {tally['broken']} of {tally['food_answers']} "
            f"food answers offer what the user's diet or allergy rules out; "
            f"{tally['leaks']} of {tally['other_answers']} other answers bring it up "
            f"(p50: {tally['ms_to_first_piece_p50']:.0f} ms to the first piece, "
            f"{tally['ms_per_token_p50']:.0f} ms a token; "
            f"{tally['words_taken_back']} words taken back)"
        )
    _write_json(env, report, json_out)


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
