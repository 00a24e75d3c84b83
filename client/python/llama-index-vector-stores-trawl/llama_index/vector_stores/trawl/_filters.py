"""LlamaIndex ``MetadataFilters``, turned into Trawl's filter JSON.

Operators, on a metadata key (a payload field: node metadata is stored at
the top level of each point's payload):

| LlamaIndex | Trawl |
|---|---|
| ``EQ`` | ``match: {value}`` (a float: the range ``[v, v]``) |
| ``NE`` | ``must_not`` of ``EQ`` (true where the field is missing) |
| ``GT``, ``GTE``, ``LT``, ``LTE`` | ``range`` (numbers only) |
| ``IN`` | ``match: {any}`` (floats: ranges, one of) |
| ``NIN`` | ``must_not`` of ``IN`` |
| ``CONTAINS`` | ``match: {value}`` (a list field matches when an element does) |
| ``ANY`` | ``match: {any}`` on a list field |
| ``ALL`` | one ``match: {value}`` per value, all required |
| ``TEXT_MATCH``, ``TEXT_MATCH_INSENSITIVE`` | ``match: {text}``: the value's words (see below) |
| ``IS_EMPTY`` | ``exists: false`` (missing, null or ``[]``) or ``""`` |

``match: {text}`` holds when every word of the value appears in the field
(words split on non-alphanumerics, case ignored): words, not a substring.

Conditions: ``AND`` → ``must``, ``OR`` → ``should``, ``NOT`` → ``must_not``
(true when none of the filters holds); ``MetadataFilters`` nest.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)

_RANGES = {
    FilterOperator.GT: "gt",
    FilterOperator.GTE: "gte",
    FilterOperator.LT: "lt",
    FilterOperator.LTE: "lte",
}


def to_trawl_filter(filters: MetadataFilters) -> dict[str, Any]:
    """Trawl's filter for ``filters``.

    Raises:
        ValueError: For an operator, a condition or a value Trawl cannot
            express (naming it).
    """
    conditions = [
        to_trawl_filter(item) if isinstance(item, MetadataFilters) else _condition(item)
        for item in filters.filters
    ]
    condition = filters.condition or FilterCondition.AND
    if condition == FilterCondition.AND:
        return {"must": conditions}
    if condition == FilterCondition.OR:
        return {"should": conditions}
    if condition == FilterCondition.NOT:
        return {"must_not": conditions}
    raise ValueError(f"metadata filters: the condition {condition!r} is not supported")


def _condition(item: MetadataFilter) -> dict[str, Any]:
    key, op, value = item.key, item.operator, item.value
    if op == FilterOperator.EQ or op == FilterOperator.CONTAINS:
        return _equals(key, value, op)
    if op == FilterOperator.NE:
        return {"must_not": [_equals(key, value, op)]}
    if op in _RANGES:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(
                f"metadata filter on {key!r}: {op.name} takes a number, not {value!r} "
                "(Trawl compares numbers only)"
            )
        return {"key": key, "range": {_RANGES[op]: value}}
    if op == FilterOperator.IN or op == FilterOperator.ANY:
        return _any_of(key, _values(key, op, value))
    if op == FilterOperator.NIN:
        return {"must_not": [_any_of(key, _values(key, op, value))]}
    if op == FilterOperator.ALL:
        return {"must": [_equals(key, v, op) for v in _values(key, op, value)]}
    if op in (FilterOperator.TEXT_MATCH, FilterOperator.TEXT_MATCH_INSENSITIVE):
        if not isinstance(value, str):
            raise ValueError(f"metadata filter on {key!r}: {op.name} takes a string")
        return {"key": key, "match": {"text": value}}
    if op == FilterOperator.IS_EMPTY:
        return {
            "should": [
                {"key": key, "exists": False},
                {"key": key, "match": {"value": ""}},
            ]
        }
    raise ValueError(f"metadata filter on {key!r}: the operator {op!r} is not supported by Trawl")


def _equals(key: str, value: Any, op: FilterOperator) -> dict[str, Any]:
    if isinstance(value, (str, bool, int)):
        return {"key": key, "match": {"value": value}}
    if isinstance(value, float):
        return {"key": key, "range": {"gte": value, "lte": value}}
    raise ValueError(
        f"metadata filter on {key!r}: {op.name} takes a string or a number, not {value!r}"
    )


def _any_of(key: str, values: list[Any]) -> dict[str, Any]:
    if all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values):
        return {"key": key, "match": {"any": values}}
    return {"should": [_equals(key, v, FilterOperator.IN) for v in values]}


def _values(key: str, op: FilterOperator, value: Any) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"metadata filter on {key!r}: {op.name} takes a non-empty list")
    return value
