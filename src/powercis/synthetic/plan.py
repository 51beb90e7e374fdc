"""The generated rows, table by table, as Polars frames that do not depend on database ids.

A :class:`Table` holds a model's rows with *relative* ids (0…n-1 within the table) and
foreign keys as relative ids into other generated tables (``refs``); rows that belong to
an org name it by its code (column ``org``) and load profiles go by their code.  The
writer turns these into database ids when it knows where each table's block of ids
starts.  So the frames — and their digest — depend on the :class:`~.spec.Spec` alone:
the same accounts, seed and reference date give the same digest on any database.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import polars as pl
from django.apps import apps
from django.db import models

from .archive import HELPER_COLUMNS, build_archive
from .equipment import build_equipment
from .layout import build_layout
from .spec import Spec


@dataclass
class Table:
    label: str  # "app_label.ModelName"
    frame: pl.DataFrame
    refs: dict[str, str] = field(default_factory=dict)  # FK field name → label of the generated table it points into

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.label)


@dataclass
class Plan:
    spec: Spec
    tables: list[Table]  # in an order where every referenced table comes first

    def counts(self) -> dict[str, int]:
        return {t.label: t.frame.height for t in self.tables}

    def digest(self) -> str:
        """SHA-256 over every table's name, columns and row hashes: equal for equal business rows.

        Polars guarantees its row hashes within one version only, so compare digests made
        with the same library versions (as tests and a benchmark's repeated runs do).
        """
        sha = hashlib.sha256()
        for table in self.tables:
            frame = table.frame.select(sorted(table.frame.columns))
            sha.update(f"{table.label}:{','.join(frame.columns)}:{frame.height};".encode())
            sha.update(frame.hash_rows(seed=0).to_numpy().tobytes())
        return sha.hexdigest()


def build_plan(spec: Spec, profiles: list[dict]) -> Plan:
    """Every row of the synthetic utility for ``spec``, ready for the writer."""
    layout = build_layout(spec)
    archive = build_archive(spec, layout)
    equipment = build_equipment(spec, layout, archive, profiles)
    station_county = [s.county.name for s in spec.stations]

    comm = layout.communities
    comm_station = comm["station"].to_numpy()
    town_road = comm["town"] + comm["road"] + comm["road_no"].cast(pl.Utf8) + "号"
    village = comm["kind"].to_numpy() == 1
    comm_address = (pl.Series([station_county[s] for s in comm_station.tolist()], dtype=pl.Utf8)
                    + pl.Series([t + n if v else tr for t, n, tr, v in zip(
                        comm["town"].to_list(), comm["name"].to_list(), town_road.to_list(), village.tolist(),
                        strict=True)], dtype=pl.Utf8))
    station_codes = pl.Series([s.code for s in spec.stations], dtype=pl.Utf8)
    subs = layout.substations
    substations = pl.DataFrame({
        "id": subs["id"], "org": subs["org"], "code": subs["code"], "name": subs["name"],
        "voltage_level": subs["voltage_level"], "longitude": subs["lon"], "latitude": subs["lat"],
        "is_active": pl.Series([True] * subs.height),
    })
    fdr = layout.feeders
    feeders = pl.DataFrame({
        "id": fdr["id"], "org": station_codes.gather(fdr["station"]), "substation": fdr["substation"],
        "code": fdr["code"], "name": fdr["name"], "voltage_level": pl.Series(["AC10KV"] * fdr.height, dtype=pl.Utf8),
        "geometry": fdr["geometry"], "is_active": pl.Series([True] * fdr.height),
    })
    communities = pl.DataFrame({
        "id": comm["id"].cast(pl.Int64), "org": station_codes.gather(comm["station"]), "code": comm["code"],
        "name": comm["name"], "address": comm_address, "geometry": comm["geometry"],
        "longitude": comm["lon"].round(6), "latitude": comm["lat"].round(6),
        "is_active": pl.Series([True] * comm.height),
    })
    bld = layout.buildings
    buildings = pl.DataFrame({
        "id": bld["id"], "org": station_codes.gather(bld["station"]), "community": bld["community"],
        "code": bld["code"], "name": bld["name"], "geometry": bld["geometry"],
        "longitude": bld["lon"].round(6), "latitude": bld["lat"].round(6),
        "is_active": pl.Series([True] * bld.height),
    })
    ar = equipment.areas
    areas = pl.DataFrame({
        "id": ar["id"], "org": ar["org"], "feeder": ar["feeder"], "code": ar["code"], "name": ar["name"],
        "ownership": ar["ownership"], "capacity_kva": ar["capacity_kva"].cast(pl.Decimal(10, 1)),
        "geometry": ar["geometry"], "longitude": ar["lon"], "latitude": ar["lat"],
        "is_active": pl.Series([True] * ar.height),
    })
    accounts = archive.accounts.drop(*HELPER_COLUMNS)
    return Plan(spec=spec, tables=[
        Table("grid.Substation", substations),
        Table("grid.Feeder", feeders, {"substation": "grid.Substation"}),
        Table("grid.Community", communities),
        Table("grid.Building", buildings, {"community": "grid.Community"}),
        Table("grid.TransformerArea", areas, {"feeder": "grid.Feeder"}),
        Table("grid.Transformer", equipment.transformers.with_columns(is_active=pl.lit(True)),
              {"area": "grid.TransformerArea"}),
        Table("customers.Customer", archive.customers),
        Table("customers.CustomerContact", archive.contacts, {"customer": "customers.Customer"}),
        Table("customers.Account", accounts, {"customer": "customers.Customer"}),
        Table("customers.AccountVersion", archive.versions,
              {"account": "customers.Account", "customer": "customers.Customer"}),
        Table("metering.MeteringPoint", equipment.points, {
            "account": "customers.Account", "transformer_area": "grid.TransformerArea", "building": "grid.Building",
            "parent": "metering.MeteringPoint"}),
        Table("metering.Meter", equipment.meters),
        Table("metering.InstrumentTransformer", equipment.instrument_transformers),
        Table("metering.MeterInstallation", equipment.meter_installations,
              {"metering_point": "metering.MeteringPoint", "meter": "metering.Meter"}),
        Table("metering.TransformerInstallation", equipment.transformer_installations,
              {"metering_point": "metering.MeteringPoint", "transformer": "metering.InstrumentTransformer"}),
        Table("synthetic.AccountLoad", equipment.loads, {"account": "customers.Account"}),
    ])
