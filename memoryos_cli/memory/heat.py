"""Segment heat, as in MemoryOS: H = a*N_visit + b*L_interaction + c*exp(-dt/tau)."""

from __future__ import annotations

import math


def recency(last_visit_ts: float, now: float, tau_hours: float) -> float:
    dt_hours = max(0.0, now - last_visit_ts) / 3600.0
    return math.exp(-dt_hours / tau_hours)


def segment_heat(
    n_visit: int,
    l_interaction: int,
    last_visit_ts: float,
    now: float,
    *,
    alpha: float = 1.0,
    beta: float = 1.0,
    gamma: float = 1.0,
    tau_hours: float = 24.0,
) -> float:
    return alpha * n_visit + beta * l_interaction + gamma * recency(last_visit_ts, now, tau_hours)
