"""LangChain-style metadata filters, turned into Trawl's filter JSON.

Two forms are accepted wherever a search or a delete takes ``filter``:

* Trawl's own filter, ``{"must"?, "should"?, "must_not"?}`` (a mapping
  whose keys are only those three, or a ``trawl_client.models.Filter``),
  passed to the server unchanged;
* the simple form most LangChain vector stores share: ``{"key": value}``
  pairs, all of which must hold, where a value is

  - a string, integer or boolean: equal to it (a list field matches
    when one of its elements is equal);
  - a float: equal to it (as a range from the value to the value, since
    Trawl matches floats by range);
  - a list: equal to one of its items;
  - a mapping of operators: ``$eq``, ``$ne``, ``$gt``, ``$gte``,
    ``$lt``, ``$lte``, ``$in``, ``$nin``, ``$exists`` (several operators
    in one mapping must all hold);

  and ``$and``, ``$or`` (lists of such mappings) and ``$not`` (one
  mapping) combine them.

Keys are payload paths: a document's metadata is stored at the top
level of its point's payload, so ``{"source": "a.txt"}`` names the
metadata key ``source``, and a dotted key names a nested field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_TRAWL_KEYS = frozenset({"must", "should", "must_not"})
_OPERATORS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists")


def to_trawl_filter(filter: Any) -> dict[str, Any] | None:
    """Trawl's filter JSON for ``filter`` (``None`` and ``{}`` mean no filter).

    Raises:
        ValueError: For an operator or a value Trawl cannot match.
        TypeError: For a filter that is neither form.
    """
    if filter is None:
        return None
    if hasattr(filter, "to_dict"):
        return filter.to_dict()
    if not isinstance(filter, Mapping):
        raise TypeError(
            "filter must be a mapping (Trawl's filter JSON, or {key: value} pairs), "
            f"not {type(filter).__name__}"
        )
    if not filter:
        return None
    if set(filter) <= _TRAWL_KEYS:
        return dict(filter)
    return _simple(filter)


def _simple(filter: Mapping[str, Any]) -> dict[str, Any]:
    """``{key: value, "$and": [...], ...}``: every entry must hold."""
    must: list[dict[str, Any]] = []
    for key, value in filter.items():
        if not isinstance(key, str):
            raise TypeError(f"filter keys are strings, not {type(key).__name__}")
        if key == "$and":
            must.extend(_simple(_mapping(key, item)) for item in _list(key, value))
        elif key == "$or":
            must.append({"should": [_simple(_mapping(key, item)) for item in _list(key, value)]})
        elif key == "$not":
            must.append({"must_not": [_simple(_mapping(key, value))]})
        elif key.startswith("$"):
            raise ValueError(
                f"filter: unknown operator {key!r} at the top level "
                "(use $and, $or, $not, or a metadata key)"
            )
        elif isinstance(value, Mapping):
            if not value:
                raise ValueError(f"filter: {key!r} has an empty operator mapping")
            must.extend(_operator(key, op, operand) for op, operand in value.items())
        elif isinstance(value, (list, tuple)):
            must.append(_any_of(key, value))
        else:
            must.append(_equals(key, value))
    return {"must": must}


def _operator(key: str, op: str, operand: Any) -> dict[str, Any]:
    """One condition on ``key``."""
    if op == "$eq":
        return _equals(key, operand)
    if op == "$ne":
        return {"must_not": [_equals(key, operand)]}
    if op in ("$gt", "$gte", "$lt", "$lte"):
        if isinstance(operand, bool) or not isinstance(operand, (int, float)):
            raise ValueError(
                f"filter: {key!r}: {op} takes a number, not {type(operand).__name__} "
                "(Trawl compares numbers only)"
            )
        return {"key": key, "range": {op[1:]: operand}}
    if op == "$in":
        return _any_of(key, _list(f"{key}.$in", operand))
    if op == "$nin":
        return {"must_not": [_any_of(key, _list(f"{key}.$nin", operand))]}
    if op == "$exists":
        if not isinstance(operand, bool):
            raise ValueError(f"filter: {key!r}: $exists takes true or false")
        return {"key": key, "exists": operand}
    raise ValueError(
        f"filter: {key!r}: unknown operator {op!r} (supported: {', '.join(_OPERATORS)})"
    )


def _equals(key: str, value: Any) -> dict[str, Any]:
    """``key`` equal to ``value``: a match for strings, integers and booleans,
    a closed range for floats."""
    if isinstance(value, (str, bool, int)):
        return {"key": key, "match": {"value": value}}
    if isinstance(value, float):
        return {"key": key, "range": {"gte": value, "lte": value}}
    if value is None:
        raise ValueError(
            f"filter: {key!r}: Trawl cannot match null; "
            'use {"$exists": false} for a missing or null field'
        )
    raise ValueError(
        f"filter: {key!r}: cannot match a {type(value).__name__} "
        "(strings, numbers and booleans only)"
    )


def _any_of(key: str, values: Sequence[Any]) -> dict[str, Any]:
    """``key`` equal to one of ``values``."""
    if not values:
        raise ValueError(f"filter: {key!r}: an empty list matches nothing")
    if all(isinstance(value, (str, int)) and not isinstance(value, bool) for value in values):
        return {"key": key, "match": {"any": list(values)}}
    return {"should": [_equals(key, value) for value in values]}


def _list(where: str, value: Any) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"filter: {where} takes a list, not {type(value).__name__}")
    return list(value)


def _mapping(where: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"filter: {where} takes mappings, not {type(value).__name__}")
    return value
