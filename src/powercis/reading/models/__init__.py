"""Models of meter reading: routes and plans, register reads and their deliveries, validation, collection."""

from .collection import CollectionChannel, CollectionRun, CollectionTarget
from .reads import QuarantinedRead, ReadBatch, RegisterRead, Source
from .routes import CheckStatus, Cycle, PlanStatus, ReadingPlan, ReadingRoute, ReadingTask, ReadMethod, TaskStatus
from .validation import Check, ReadException, Resolution, Severity, ValidationProfile

__all__ = [
    "Check", "CheckStatus", "PlanStatus", "Resolution", "Severity", "TaskStatus",
    "CollectionChannel", "CollectionRun", "CollectionTarget", "Cycle", "QuarantinedRead", "ReadBatch", "ReadException",
    "ReadMethod", "ReadingPlan", "ReadingRoute", "ReadingTask", "RegisterRead", "Source", "ValidationProfile",
]
