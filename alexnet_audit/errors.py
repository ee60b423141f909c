"""The one exception type for a user's mistake (bad spec, bad data path, impossible network)."""

from __future__ import annotations


class AuditError(Exception):
    """A user's mistake, located as precisely as we can: file, YAML line, field path."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.field = field

    def located(self, *, file: str | None = None, line: int | None = None, field: str | None = None) -> "AuditError":
        """A copy with missing location parts filled in (inner code rarely knows the file)."""
        return AuditError(
            self.message,
            file=self.file or file,
            line=self.line if self.line is not None else line,
            field=self.field or field,
        )

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line is not None else "") + ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.message}"
