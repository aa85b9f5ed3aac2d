"""Cleaning whole rows: the cleaners of the mapped columns, run once per row, errors collected."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from guanxi.imports.cleaning.values import EMPTY_WORDS, BadValue, CellError, ValueCleaner, cell_text
from guanxi.imports.readers.base import Cell

if TYPE_CHECKING:
    from guanxi.imports.mapping import Target

CUSTOM_PREFIX = "custom_fields."


_PLAIN, _MULTIPLE, _CUSTOM = 0, 1, 2
MEMO_LIMIT = 4096  # distinct values remembered per column whose values repeat (city, stage, tags…)


def memoized(clean: ValueCleaner, limit: int = MEMO_LIMIT) -> ValueCleaner:
    """`clean` that cleans each distinct value once (its error too), for columns whose values repeat."""
    cache: dict[Cell, Any] = {}

    def cached(value: Cell) -> Any:
        try:
            found = cache[value]
        except KeyError:
            try:
                found = clean(value)
            except BadValue as exc:
                found = exc
            if len(cache) < limit:
                cache[value] = found
        if found.__class__ is BadValue:
            raise found.with_traceback(None)
        if found.__class__ is list:
            return found.copy()  # rows may extend their lists
        return found

    return cached


class RowCleaner:
    """Cleans the rows of one import: built once from the target, the header and the mapping.

    `mapping` has one entry per column: the key of the target field it fills, or None to skip it.
    `clean(row_number, cells)` returns `(values, errors)`: values by field key (custom fields together
    under "custom_fields", a dict by custom field key), and the errors, an empty tuple when the row is
    clean. Empty cells, and cells that say "nothing" (EMPTY_WORDS), give no value.
    """

    def __init__(self, target: Target, header: Sequence[str], mapping: Sequence[str | None]) -> None:
        self.target = target
        fields = {f.key: f for f in target.fields}
        unknown = [key for key in mapping if key is not None and key not in fields]
        if unknown:
            raise ValueError(f"No field {unknown[0]!r} in the {target.key} import.")
        # Cleaners are made once: they read settings, today's date and the labels now, not per row.
        cleaners = {}
        for key in dict.fromkeys(k for k in mapping if k):
            made = fields[key].make_cleaner()
            cleaners[key] = memoized(made) if fields[key].repeats else made
        self._plan = [
            (
                index,
                key.removeprefix(CUSTOM_PREFIX),
                header[index] if index < len(header) else "",
                cleaners[key],
                _CUSTOM if key.startswith(CUSTOM_PREFIX) else _MULTIPLE if fields[key].multiple else _PLAIN,
            )
            for index, key in enumerate(mapping)
            if key
        ]
        mapped = {key: header[i] for i, key in reversed(list(enumerate(mapping))) if key and i < len(header)}
        self._required = [
            (
                f.key.removeprefix(CUSTOM_PREFIX),
                f.key.startswith(CUSTOM_PREFIX),
                mapped.get(f.key) or str(f.label),
            )
            for f in target.fields
            if f.required
        ]
        self._finish = target.finish

    def clean(self, row: int, cells: Sequence[Cell]) -> tuple[dict[str, Any], Sequence[CellError]]:
        values: dict[str, Any] = {}
        custom: dict[str, Any] | None = None
        errors: list[CellError] | None = None
        empty_words = EMPTY_WORDS
        for index, key, column, clean, mode in self._plan:
            raw = cells[index]
            if raw.__class__ is str and (
                not raw
                or raw in empty_words
                or ((raw[0] in " \t\u3000" or raw[-1] in " \t\u3000") and raw.strip() in empty_words)
                or raw.isspace()
            ):
                continue
            try:
                value = clean(raw)
            except BadValue as exc:
                if errors is None:
                    errors = []
                errors.append(CellError(row, column, cell_text(raw), exc.reason))
                continue
            if not value and (value is None or value == "" or value == []):  # 0 and False are values
                continue
            if mode == _PLAIN:
                values[key] = value
            elif mode == _MULTIPLE and key in values:
                before = values[key]
                if before.__class__ is list:
                    before.extend(v for v in value if v not in before)
                else:
                    values[key] = f"{before}\n{value}"
            elif mode == _MULTIPLE:
                values[key] = value
            else:
                if custom is None:
                    custom = values["custom_fields"] = {}
                custom[key] = value
        if self._finish is not None:
            self._finish(values)
        for key, is_custom, column in self._required:
            present = (custom or {}).get(key) if is_custom else values.get(key)
            if present is None or present == "" or present == []:
                if errors is None:
                    errors = []
                if not any(e.column == column for e in errors):  # a bad value already says why it is empty
                    errors.append(CellError(row, column, "", _("This field is required.")))
        return values, errors or ()
