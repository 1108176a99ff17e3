"""The Meta of every model and index, fed from the settings; the key layout several tables share."""

from datetime import datetime
from typing import Any, Optional, Protocol

from pynamodb.indexes import AllProjection, Projection
from pynamodb.models import MetaProtocol

from chalicelib.config import get_settings


class TableMeta(MetaProtocol, Protocol):
    """What a table's Meta holds beyond pynamodb's: the table name without the stage's prefix."""

    base_name: str


# Any: the Meta is a class made at run time; pynamodb reads a table's as its MetaProtocol (TableMeta here), an
# index's as it likes (Index.Meta is Any).
def table_meta(table: str, index: str = "", projection: Optional[Projection] = None) -> Any:
    """A pynamodb Meta class fed from the settings (prefix, region, endpoint)."""
    if index:  # indexes query through their model's connection
        return type("Meta", (), {"index_name": index, "projection": projection or AllProjection()})
    settings = get_settings()
    return type(
        "Meta",
        (),
        {
            "base_name": table,
            "table_name": settings.table_prefix + table,
            "billing_mode": "PAY_PER_REQUEST",
            "region": settings.region,
            "host": settings.dynamodb_endpoint,
        },
    )


def time_ordered_key(at: datetime, unique: str) -> str:
    """The range key "<ISO time>#<unique>" that lists items oldest first (created_key, event_key): the unique
    part tells apart items of one instant; a bare ISO time bounds a range of them."""
    return f"{at.isoformat()}#{unique}"
