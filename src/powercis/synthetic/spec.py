"""What a generation is asked for: the number of accounts, the seed, the reference date and the company's stations.

Everything the builders produce is a function of a :class:`Spec` alone: no database ids,
no clock.  Orgs enter by their codes and names, so two databases with the same org
tree get the same business rows whatever ids their rows receive.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass

import numpy as np

#: the first county's centre: a real-looking place in central China (Wuhan's latitude)
BASE_CENTRE = (114.30, 30.60)
#: offsets (degrees) of further counties from the first, cycled and widened if there are more
COUNTY_OFFSETS = ((0.0, 0.0), (0.13, 0.04), (-0.37, 0.33), (0.30, -0.25), (-0.22, -0.31), (0.45, 0.28))
#: telephone area codes by prefecture (Wuhan, Xiaogan, Jingzhou, Xianning)
AREA_CODES = ("027", "0712", "0716", "0715")


@dataclass(frozen=True)
class County:
    code: str
    name: str  # e.g. 临江县, from the org name 临江县供电公司
    short: str  # 临江
    area_code: str
    region: int  # the 6-digit administrative code used in ID numbers
    centre: tuple[float, float]
    urban: bool  # a district (区): towns are 街道, communities mostly 小区


@dataclass(frozen=True)
class Station:
    code: str
    name: str
    place: str  # 城关, from 城关供电所
    county: County
    prefix: str  # two digits that start its account numbers


@dataclass(frozen=True)
class Spec:
    accounts: int
    seed: int
    as_of: dt.date
    company_code: str
    stations: tuple[Station, ...]

    def rng(self, stream: str) -> np.random.Generator:
        """An independent random stream per concern, so changing one builder leaves the others' rows alone."""
        return np.random.default_rng([self.seed, self.accounts, zlib.crc32(stream.encode("utf-8"))])

    @property
    def counties(self) -> tuple[County, ...]:
        return tuple(dict.fromkeys(s.county for s in self.stations))


def _strip(name: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def county_of(code: str, org_name: str, index: int, city_index: int) -> County:
    """A county from its org: the place name without 供电公司, its centre and codes by its position in the tree."""
    name = _strip(org_name, ("供电分公司", "供电公司", "供电局"))
    short = _strip(name, ("自治县", "县", "区", "市"))
    dx, dy = COUNTY_OFFSETS[index % len(COUNTY_OFFSETS)]
    ring = 1 + index // len(COUNTY_OFFSETS)
    centre = (round(BASE_CENTRE[0] + dx * ring, 6), round(BASE_CENTRE[1] + dy * ring, 6))
    region = 420000 + 100 * (city_index + 1) + 11 + index % 80
    return County(code=code, name=name, short=short, area_code=AREA_CODES[city_index % len(AREA_CODES)],
                  region=region, centre=centre, urban=name.endswith("区"))


def station_of(code: str, org_name: str, county: County, index: int) -> Station:
    place = _strip(org_name, ("供电所", "营业所", "供电营业所", "营业厅"))
    return Station(code=code, name=org_name, place=place, county=county, prefix=str(index + 11))
