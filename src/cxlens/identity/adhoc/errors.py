"""The errors of ad-hoc matching, each naming the file or option at fault."""

from __future__ import annotations

from cxlens.errors import ConfigError, SourceError


class MissingFile(SourceError):
    """The file to match does not exist."""


class UnsupportedFormat(SourceError):
    """The file's extension is not one ad-hoc matching reads (CSV or Parquet)."""


class NoUsableColumns(SourceError):
    """No column of the file maps onto a field that matching compares."""


class MappingError(ConfigError):
    """A column mapping (`--column field=Header`) that cannot apply to the file."""


class UnknownField(MappingError):
    """The mapping names a field that records do not have."""


class UnknownColumn(MappingError):
    """The mapping names a column that the file does not have."""


class UnsupportedOutput(ConfigError):
    """The output path's extension is neither CSV nor Parquet."""
