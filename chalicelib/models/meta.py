"""The Meta of every model and index, fed from the settings."""
from pynamodb.indexes import AllProjection

from chalicelib.config import get_settings


def table_meta(table: str, index: str = "", projection=None) -> type:
    """A pynamodb Meta class fed from the settings (prefix, region, endpoint)."""
    if index:  # indexes query through their model's connection
        return type("Meta", (), {"index_name": index, "projection": projection or AllProjection()})
    settings = get_settings()
    return type("Meta", (), {
        "base_name": table,
        "table_name": settings.table_prefix + table,
        "billing_mode": "PAY_PER_REQUEST",
        "region": settings.region,
        "host": settings.dynamodb_endpoint,
    })
