"""`Vector`: the float32 array an embedder returns and the store keeps (a leaf: no imports
from memoryos_cli, so both layers can name it)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]
