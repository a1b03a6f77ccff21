"""One error tree for cxlens.

Library code raises these; only the CLI and the API turn them into messages and exit codes.
Each error carries the context a user needs to act (file, row, field, load id, valid values).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class CxlensError(Exception):
    """Base of every error cxlens raises on purpose."""

    #: Process exit code the CLI uses for this family of errors (documented in the README).
    exit_code: int = 1


class ConfigError(CxlensError):
    """The workspace file or the environment holds settings cxlens cannot use."""

    exit_code = 2

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        self.problems = list(problems)
        detail = "".join(f"\n  - {p}" for p in self.problems)
        super().__init__(message + detail)


class WorkspaceNotFound(ConfigError):
    """No `cxlens.yaml` where one was expected."""


class StoreError(CxlensError):
    """The store could not be opened or a statement failed."""

    exit_code = 3


class SchemaMismatch(StoreError):
    """The store was written by an incompatible version of cxlens."""


class SourceError(CxlensError):
    """A source file or database could not be read as a whole (before any row is judged)."""

    exit_code = 4

    def __init__(self, source: str, location: str, reason: str) -> None:
        self.source = source
        self.location = location
        self.reason = reason
        super().__init__(f"source '{source}': cannot read {location}: {reason}")


class UnknownSource(ConfigError):
    """A source name that the workspace does not define."""


class IngestError(CxlensError):
    """A load was refused or failed; the store is as it was before the load started."""

    exit_code = 5

    def __init__(self, message: str, load_id: str | None = None) -> None:
        self.load_id = load_id
        super().__init__(message)


class TooManyRejects(IngestError):
    """More rows were rejected than the configured share allows, so nothing was committed."""

    def __init__(
        self, source: str, rejected: int, read: int, max_share: float, load_id: str, sample: str
    ) -> None:
        self.rejected = rejected
        self.read = read
        self.max_share = max_share
        share = rejected / read if read else 1.0
        super().__init__(
            f"source '{source}': {rejected} of {read} rows rejected ({share:.1%}), more than the "
            f"allowed {max_share:.1%}; nothing was loaded. First problem: {sample}. "
            f"See `cxlens rejects --load {load_id}`, fix the mapping or the file, or raise "
            "`ingest.max_reject_share` in cxlens.yaml.",
            load_id=load_id,
        )


@dataclass(frozen=True)
class RowProblem:
    """Why one input row was rejected: where it came from and which field failed."""

    file: str
    row: int
    field: str
    value: str | None
    reason: str

    def __str__(self) -> str:
        shown = "" if self.value is None else f" (value {self.value!r})"
        return f"{self.file} row {self.row}, field '{self.field}'{shown}: {self.reason}"


class DemoError(CxlensError, ValueError):
    """The demo company could not be generated with the requested settings."""

    exit_code = 2


class IdentityError(CxlensError):
    """Identity resolution cannot do what was asked (unknown master, record or decision)."""

    exit_code = 6


class UnknownMaster(IdentityError):
    """No master customer or account has that id, and none was merged into another under it."""


class ModelError(CxlensError):
    """A model cannot be fitted or used with the data given (the message says what is wrong)."""

    exit_code = 7


class MetricError(CxlensError):
    """A metric cannot be computed from the data given (the message says what is missing)."""

    exit_code = 7
