"""Entity specs: what an importable record looks like in a file, and the registry apps add theirs to.

Core knows nothing of customers or meters (apps depend downwards only).  Each app
describes its records in its own ``bulk.py`` — columns with their Chinese and English
headers, parsers and code tables; references to other records by business number; rules
across columns; how to write a validated batch set-based — and registers the spec from
its ``AppConfig.ready()``.  The engine (``validation``, ``writer``, ``services``) then
gives every entity the same template, validation, error report, commit and export.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from .cells import Code, Parser, Real, Text

BOTH_COORDINATES = gettext_noop("Give both the longitude and the latitude, or neither.")

#: the column every org-scoped entity has: the org a row belongs to (empty = the target org of the upload)
ORG = "org_code"


@dataclass(frozen=True)
class Column:
    """One column of the file.

    ``attr`` is the model attribute the generic writer stores the value in (``""`` means
    the same as ``key``, ``None`` means the spec's ``write`` handles it); ``source`` is the
    ``values()`` path an export reads (``""`` means ``key``, ``None`` means not exported);
    ``mask`` hides personal data in exports.
    """

    key: str
    header_zh: str
    header_en: str
    parser: Parser
    required: bool = False
    default: Any = None
    note: str = ""
    attr: str | None = ""
    source: str | None = ""
    mask: Callable[[str], str] | None = None

    @property
    def model_attr(self) -> str | None:
        return self.key if self.attr == "" else self.attr

    @property
    def export_source(self) -> str | None:
        return self.key if self.source == "" else self.source

    @property
    def code_table(self) -> str:
        return self.parser.table if isinstance(self.parser, Code) else ""


def org_column() -> Column:
    return Column(ORG, "供电单位编码", "Org code", Text(32), attr=None, source="org__code",
                  note=gettext_noop("Code of the org the row belongs to; empty means the target org chosen on upload."))


def geo_columns() -> tuple[Column, Column]:
    """Longitude and latitude (WGS 84 degrees), as every record on the map has them."""
    return (Column("longitude", "经度", "Longitude", Real(-180, 180)),
            Column("latitude", "纬度", "Latitude", Real(-90, 90)))


@dataclass(frozen=True)
class Ref:
    """A column naming another record by its business number (e.g. an account's customer number).

    The record must exist in the same company and lie in the user's data scope for one of
    ``perms``; ``fetch`` names the values the spec needs from it (``id`` always comes).
    The generic writer stores the id in ``attr`` when given.
    """

    column: str
    model: type
    field: str
    perms: tuple[str, ...]
    fetch: tuple[str, ...] = ()
    attr: str = ""


class EntitySpec:
    """Base for an importable entity; subclasses set the attributes and may override the hooks."""

    code: str = ""
    label = _("records")
    model: type | None = None
    #: the column whose value is unique per company (also the model field of that name)
    key: str = ""
    columns: tuple[Column, ...] = ()
    refs: tuple[Ref, ...] = ()
    #: any one of these, held over a row's org, allows importing and exporting it
    permissions: tuple[str, ...] = ("customers.import",)
    #: position in the entity list (parents before children: customers before accounts)
    order: int = 100
    description: str = ""

    def column(self, key: str) -> Column:
        return self._by_key[key]

    @cached_property
    def _by_key(self) -> dict[str, Column]:
        return {c.key: c for c in self.columns}

    def check_place(self, ctx, rows) -> None:
        """A point on the map needs both coordinates (the grid services' rule, here for every entity)."""
        if "longitude" not in self._by_key:
            return
        for row in rows:
            lon, lat = row.values.get("longitude"), row.values.get("latitude")
            missing = "latitude" if lat is None else "longitude"
            if (lon is None) != (lat is None) and not ctx.raw_text(row, missing):
                ctx.error(row, missing, BOTH_COORDINATES)

    def check(self, ctx, rows) -> None:
        """Rules across columns and rows, after every cell parsed and every reference resolved.

        Report with ``ctx.error(row, column_key, msgid, **params)``; rows already in error
        have ``row.ok`` false and may be skipped.
        """

    def write(self, ctx, rows, writer) -> None:
        """Write the validated rows set-based: by default one insert into ``model``."""
        ids = writer.reserve_ids(self.model, len(rows))
        columns, values = self.base_values(ctx, rows, ids)
        writer.insert(self.model, columns, values)

    def base_values(self, ctx, rows, ids) -> tuple[list[str], list[tuple]]:
        """Columns and value tuples for ``model``: id, company, org, org path, the direct columns and references."""
        direct = [c for c in self.columns if c.model_attr is not None]
        refs = [r for r in self.refs if r.attr]
        names = ["id", "company_id", "org_id", "org_path", *(c.model_attr for c in direct), *(r.attr for r in refs)]
        values = [
            (pk, ctx.company_id, row.org.pk, row.org.path, *(row.values[c.key] for c in direct),
             *((row.refs[r.column] or {}).get("id") for r in refs))
            for pk, row in zip(ids, rows)
        ]
        return names, values

    def export_queryset(self, queryset):
        """The queryset an export reads, e.g. with annotations that columns' ``source`` name."""
        return queryset


_REGISTRY: dict[str, EntitySpec] = {}


def register(spec: EntitySpec) -> EntitySpec:
    _REGISTRY[spec.code] = spec
    return spec


def get(code: str) -> EntitySpec | None:
    return _REGISTRY.get(code)


def all_specs() -> list[EntitySpec]:
    return sorted(_REGISTRY.values(), key=lambda s: (s.order, s.code))
