"""Turn raw cells into clean values, or into errors a shop clerk can act on.

Values are cleaned as people write them: phones with spaces, dashes, +86 and full-width digits, several in
one cell; dates as 1990-01-02, 1990/1/2, 1990年1月2日, 19900102 or an Excel serial number; 男/女; labels of
stages and sources in Chinese or English. A value that cannot be read is never guessed at: it becomes a
`CellError` (row, column header, value, reason).

Speed matters (an import cleans tens of thousands of rows a second), so a `RowCleaner` is built once per
import with everything precomputed, value cleaners are plain closures, the common case of each takes a
fast path (an 11-digit mobile number is checked against libphonenumber's own pattern for it, without
parsing), repeated values (dates, choices) hit a cache, and errors are exceptions because they are rare.
"""

from guanxi.imports.cleaning.rows import CUSTOM_PREFIX, MEMO_LIMIT, RowCleaner, memoized
from guanxi.imports.cleaning.values import (
    EMAIL_MAX_LENGTH,
    EMPTY_WORDS,
    FALSE_WORDS,
    GENDER_WORDS,
    MILEAGE_MAX,
    TRUE_WORDS,
    BadValue,
    CellError,
    FieldDefinition,
    ValueCleaner,
    cell_text,
    choice_cleaner,
    clean_emails,
    clean_gender,
    clean_mileage,
    clean_plate,
    clean_vin,
    code_cleaner,
    custom_field_cleaner,
    date_cleaner,
    first_phone_cleaner,
    phone_cleaner,
    tags_cleaner,
    text_cleaner,
)

__all__ = [
    "CUSTOM_PREFIX",
    "EMAIL_MAX_LENGTH",
    "EMPTY_WORDS",
    "FALSE_WORDS",
    "GENDER_WORDS",
    "MEMO_LIMIT",
    "MILEAGE_MAX",
    "TRUE_WORDS",
    "BadValue",
    "CellError",
    "FieldDefinition",
    "RowCleaner",
    "ValueCleaner",
    "cell_text",
    "choice_cleaner",
    "clean_emails",
    "clean_gender",
    "clean_mileage",
    "clean_plate",
    "clean_vin",
    "code_cleaner",
    "custom_field_cleaner",
    "date_cleaner",
    "first_phone_cleaner",
    "memoized",
    "phone_cleaner",
    "tags_cleaner",
    "text_cleaner",
]
