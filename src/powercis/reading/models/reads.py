"""Meter reads (示数) and the deliveries they arrive in.

A read is a fact: one meter's registers at one instant, and where they came from —
one row per (meter, instant, source, revision), with a column per register (total,
sharp, peak, flat, valley, reactive, demand, reverse; empty where the meter has no such
register or the delivery did not carry it).  Reads are append-only (DESIGN.md rule 7):
a correction is a new read that names the one it corrects (``corrects``) with a higher
``revision`` and every register of the original, one of them changed; the original
keeps its values and is marked ``superseded``.  The key ``(meter, read_at, source,
revision)`` makes every delivery idempotent: a head-end that sends the same day twice
writes nothing the second time, and says so in the batch's counts.  A later delivery
that brings a register the stored read lacks (补采, a supplementary collection) writes
the read again as the next revision with both, superseding the first.

Rows of a delivery that cannot be accepted — unknown meter, unknown register, a value
that is not a number, a date in the future — are kept in :class:`QuarantinedRead` with
the reason, so that nothing sent is lost and the operator sees what to fix.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from powercis.core.models import OrgScopedModel
from powercis.metering.models import REGISTERS


class Source(models.TextChoices):
    MANUAL = "manual", _("Manual entry")
    HANDHELD = "handheld", _("Handheld")
    IMPORT = "import", _("Reading sheet import")
    REMOTE = "remote", _("Remote reading (DL/T 645)")
    AMI = "ami", _("Collection head-end (daily frozen)")
    ESTIMATE = "estimate", _("Estimate")
    CORRECT = "correct", _("Correction")


class ReadBatch(OrgScopedModel):
    """One delivery of reads: a file, an API call, a collection run, a reader's session."""

    class Status(models.TextChoices):
        DONE = "done", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    #: the sender's key for this delivery; a second delivery with the same key is answered from the first
    delivery_key = models.CharField(_("delivery key"), max_length=100, blank=True)
    digest = models.CharField(_("content digest"), max_length=64, blank=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    file_format = models.CharField(_("format"), max_length=8, blank=True)
    sender = models.CharField(_("sender"), max_length=60, blank=True, help_text=_("Head-end or channel name."))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DONE)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("received by"), on_delete=models.PROTECT,
                                    related_name="+", null=True, blank=True)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_accepted = models.PositiveIntegerField(_("accepted"), default=0)
    rows_duplicate = models.PositiveIntegerField(_("already received"), default=0)
    rows_quarantined = models.PositiveIntegerField(_("quarantined"), default=0)
    rows_flagged = models.PositiveIntegerField(_("flagged by validation"), default=0)
    seconds = models.FloatField(_("processing seconds"), default=0)
    #: anything worth reporting about the delivery as a whole, e.g. clock drift found and corrected
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    message = models.CharField(_("message"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("read delivery")
        verbose_name_plural = _("read deliveries")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "source", "delivery_key"], name="reading_batch_key",
                                    condition=~models.Q(delivery_key="")),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.received_at:%Y-%m-%d %H:%M}"


def register_field(name: str) -> models.DecimalField:
    return models.DecimalField(name, max_digits=16, decimal_places=4, null=True, blank=True)


class RegisterRead(models.Model):
    """One meter's registers at one instant (registers as columns; see the module docstring).

    This is the largest table of the system (a head-end delivers every meter every day), so it
    has one row per meter and instant rather than per register — eight times fewer rows and
    index entries, and a head-end delivery is written about four times faster (decision 0012,
    ``benchmarks/read_layout.py``) — carries only the indexes its reads need, and no
    foreign-key constraint in the database: the ingest resolves meter and metering point
    against the archive in the same transaction and writes the delivery row first, and
    PostgreSQL would check every row again at commit. The services are the only write path
    and set these columns from rows they have just read; ``PROTECT`` and ``SET_NULL`` still
    hold (the ORM enforces them). ``meter`` has no index of its own because the unique key
    leads with it; ``metering_point`` has none at all (migration 0009): a point's reads are
    found through the meters installed on it, by the unique key, and the engines look reads
    up by meter, task or instant.  The indexes on ``task``, ``entered_by`` and ``corrects`` are
    partial because head-end reads carry none of them.
    """

    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        SUPERSEDED = "superseded", _("Superseded by a correction")

    id = models.BigAutoField(primary_key=True)
    metering_point = models.ForeignKey("metering.MeteringPoint", verbose_name=_("metering point"),
                                       on_delete=models.PROTECT, related_name="+", db_constraint=False,
                                       db_index=False)
    meter = models.ForeignKey("metering.Meter", verbose_name=_("meter"), on_delete=models.PROTECT, related_name="+",
                              db_constraint=False, db_index=False)
    read_at = models.DateTimeField(_("read at"))
    total = register_field(_("total"))
    sharp = register_field(_("sharp"))
    peak = register_field(_("peak"))
    flat = register_field(_("flat"))
    valley = register_field(_("valley"))
    reactive = register_field(_("reactive"))
    demand = register_field(_("demand"))
    reverse = register_field(_("reverse"))
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    revision = models.PositiveSmallIntegerField(_("revision"), default=0)
    estimated = models.BooleanField(_("estimated"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.VALID)
    #: indexed by migration reading.0006: a block range index on PostgreSQL (deliveries are written in order)
    batch = models.ForeignKey(ReadBatch, verbose_name=_("delivery"), on_delete=models.PROTECT, related_name="reads",
                              null=True, blank=True, db_constraint=False, db_index=False)
    task = models.ForeignKey("reading.ReadingTask", verbose_name=_("reading task"), on_delete=models.SET_NULL,
                             related_name="reads", null=True, blank=True, db_index=False, db_constraint=False)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("entered by"), on_delete=models.PROTECT,
                                   related_name="+", null=True, blank=True, db_index=False, db_constraint=False)
    corrects = models.ForeignKey("self", verbose_name=_("corrects"), on_delete=models.PROTECT, related_name="+",
                                 null=True, blank=True, db_index=False, db_constraint=False)
    photo_ref = models.CharField(_("photo"), max_length=200, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    #: the checks the read failed when it arrived, comma-separated: ``tou_sum`` and ``reverse`` for the read,
    #: ``lower:peak``, ``rollover:total``, ``implausible:valley`` for one register; the checks against the
    #: billing period are ReadExceptions of its task
    flags = models.CharField(_("flags"), max_length=120, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("meter read")
        verbose_name_plural = _("meter reads")
        #: the unique key's order (a meter's reads in time): there is no index on the metering point
        ordering = ["meter_id", "read_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["meter", "read_at", "source", "revision"], name="reading_read_key"),
        ]
        indexes = [
            # head-end reads carry none of these: index only the rows that do
            models.Index(fields=["task"], name="reading_read_task", condition=models.Q(task__isnull=False)),
            models.Index(fields=["entered_by"], name="reading_read_entered_by", condition=models.Q(entered_by__isnull=False)),
            models.Index(fields=["corrects"], name="reading_read_corrects", condition=models.Q(corrects__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.meter_id} {self.read_at:%Y-%m-%d} {self.registers()}"

    def registers(self) -> dict[str, Decimal]:
        """The registers the read has, in the order of ``REGISTERS``."""
        return {r: getattr(self, r) for r in REGISTERS if getattr(self, r) is not None}

    def flag_codes(self) -> list[str]:
        """The checks failed on arrival, without the register they were failed by."""
        return sorted({f.split(":", 1)[0] for f in self.flags.split(",") if f})


class QuarantinedRead(models.Model):
    """A row of a delivery that was not accepted, as it arrived, with the reason."""

    batch = models.ForeignKey(ReadBatch, verbose_name=_("delivery"), on_delete=models.CASCADE,
                              related_name="quarantined")
    row_no = models.PositiveIntegerField(_("row"))
    meter_ref = models.CharField(_("meter"), max_length=40, blank=True)
    register = models.CharField(_("register"), max_length=20, blank=True)
    read_at_text = models.CharField(_("read at"), max_length=40, blank=True)
    value_text = models.CharField(_("reading"), max_length=40, blank=True)
    reason_code = models.CharField(_("reason code"), max_length=20)
    reason = models.CharField(_("reason"), max_length=200)

    class Meta:
        verbose_name = _("quarantined read")
        verbose_name_plural = _("quarantined reads")
        ordering = ["batch_id", "row_no"]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row_no} {self.reason_code}"
