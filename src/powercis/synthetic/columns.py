"""Small helpers that build Polars string columns from integer codes.

Converting a NumPy string or object array of a million rows into a Polars column
goes through Python objects and costs seconds; gathering from a short list of labels
by an integer index costs milliseconds.  So the builders decide with integer codes
and turn them into text only here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl


def labelled(labels: Sequence[str], index: np.ndarray) -> pl.Series:
    """``labels[index]`` as a string column."""
    return pl.Series(list(labels), dtype=pl.Utf8).gather(np.asarray(index, dtype=np.int64))


def case(conditions: Sequence[np.ndarray], labels: Sequence[str]) -> pl.Series:
    """The label of the first true condition per row, or the last label (the default) when none is."""
    assert len(labels) == len(conditions) + 1
    return labelled(labels, np.select(list(conditions), np.arange(len(conditions)), len(conditions)))


def where(mask: np.ndarray, then: pl.Series, otherwise: pl.Series) -> pl.Series:
    """Row-wise ``then`` where ``mask`` holds, else ``otherwise``."""
    return then.zip_with(pl.Series(np.asarray(mask, dtype=bool)), otherwise)


def constant(value, n: int, dtype=pl.Utf8) -> pl.Series:
    return pl.repeat(value, n, dtype=dtype, eager=True)
