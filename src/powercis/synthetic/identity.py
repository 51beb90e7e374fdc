"""Valid-looking personal and company identifiers, generated vectorised: ID card numbers, USCC codes, mobiles.

The check characters follow the standards, so validators written for real data accept
the synthetic data too:

* resident identity card number (GB 11643-1999): 6-digit region, birth date, 3-digit
  sequence (odd for men), ISO 7064 MOD 11-2 check character;
* unified social credit code (GB 32100-2015): registration authority, category, 6-digit
  region, 9-character organisation code with its own GB 11714 check character, and a
  MOD 31 check character over the code alphabet.
"""

from __future__ import annotations

import numpy as np
import polars as pl

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
ID_CHECK = np.array(list("10X98765432"))
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64)
ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
MOBILE_PREFIXES = np.array([
    134, 135, 136, 137, 138, 139, 150, 151, 152, 157, 158, 159, 182, 183, 187, 188, 130, 131, 132, 155, 156, 185,
    186, 133, 153, 180, 181, 189, 177, 199, 166, 176, 198, 191, 173, 175,
], dtype=np.int64)


def id_check_char(first17: np.ndarray) -> np.ndarray:
    """The ISO 7064 MOD 11-2 check characters of rows of 17 digits."""
    return ID_CHECK[(first17 @ ID_WEIGHTS) % 11]


def id_numbers(region: np.ndarray, birth_yyyymmdd: np.ndarray, sequence: np.ndarray) -> pl.Series:
    """18-character ID numbers from 6-digit region codes, birth dates as yyyymmdd integers and sequences (0–999)."""
    base = region.astype(np.int64) * 10**11 + birth_yyyymmdd.astype(np.int64) * 1000 + sequence.astype(np.int64)
    digits = (base[:, None] // (10 ** np.arange(16, -1, -1, dtype=np.int64))) % 10
    text = pl.Series(base).cast(pl.Utf8).str.zfill(17)
    return text + pl.Series(id_check_char(digits))


def uscc_codes(rng: np.random.Generator, region: np.ndarray, individual: np.ndarray) -> pl.Series:
    """USCC codes: '9' (market regulator), '1' company or '2' individual business, region, org code, check."""
    n = len(region)
    alphabet = np.array(list(USCC_ALPHABET))
    values = np.empty((n, 17), dtype=np.int64)
    values[:, 0] = 9
    values[:, 1] = np.where(individual, 2, 1)
    values[:, 2:8] = (region.astype(np.int64)[:, None] // (10 ** np.arange(5, -1, -1, dtype=np.int64))) % 10
    # organisation code body: "MA" as the newer registrations have, then six code characters
    body = np.empty((n, 8), dtype=np.int64)
    body[:, 0] = USCC_ALPHABET.index("M")
    body[:, 1] = USCC_ALPHABET.index("A")
    body[:, 2:] = rng.integers(0, len(USCC_ALPHABET), size=(n, 6))
    # GB 11714 values letters A=10 … Z=35, which differs from their index in the USCC alphabet
    gb_values = np.array([int(ch, 36) for ch in USCC_ALPHABET], dtype=np.int64)[body]
    org_check = 11 - (gb_values @ ORG_WEIGHTS) % 11
    org_check_char = np.where(org_check == 10, USCC_ALPHABET.index("X"), np.where(org_check == 11, 0, org_check))
    values[:, 8:16] = body
    values[:, 16] = org_check_char
    check = (31 - (values @ USCC_WEIGHTS) % 31) % 31
    chars = alphabet[np.concatenate([values, check[:, None]], axis=1)]
    return pl.Series(np.ascontiguousarray(chars).view("<U18")[:, 0])


def mobiles(rng: np.random.Generator, n: int) -> pl.Series:
    """11-digit mobile numbers with real operator prefixes."""
    prefix = MOBILE_PREFIXES[rng.integers(0, len(MOBILE_PREFIXES), size=n)]
    return pl.Series(prefix * 10**8 + rng.integers(0, 10**8, size=n)).cast(pl.Utf8)


def landlines(rng: np.random.Generator, area_codes: pl.Series) -> pl.Series:
    """Landline numbers 'area-8xxxxxxx' for the given area codes."""
    local = pl.Series(rng.integers(80_000_000, 90_000_000, size=len(area_codes))).cast(pl.Utf8)
    return area_codes + "-" + local
