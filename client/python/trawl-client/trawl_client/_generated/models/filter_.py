from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.condition_exists import ConditionExists
    from ..models.condition_has_id import ConditionHasId
    from ..models.condition_match import ConditionMatch
    from ..models.condition_range import ConditionRange


T = TypeVar("T", bound="Filter")


@_attrs_define
class Filter:
    """A boolean combination of conditions. Every list may be empty or absent.

    Only the object form parses: serde's derive would also take an array of
    the fields in order, and `[]` (the empty filter) would then match, and
    delete, every point.

        Attributes:
            must (list[ConditionExists | ConditionHasId | ConditionMatch | ConditionRange | Filter] | Unset): All must hold.
            must_not (list[ConditionExists | ConditionHasId | ConditionMatch | ConditionRange | Filter] | Unset): None may
                hold.
            should (list[ConditionExists | ConditionHasId | ConditionMatch | ConditionRange | Filter] | Unset): At least one
                must hold (when non-empty).
    """

    must: (
        list[
            ConditionExists | ConditionHasId | ConditionMatch | ConditionRange | Filter
        ]
        | Unset
    ) = UNSET
    must_not: (
        list[
            ConditionExists | ConditionHasId | ConditionMatch | ConditionRange | Filter
        ]
        | Unset
    ) = UNSET
    should: (
        list[
            ConditionExists | ConditionHasId | ConditionMatch | ConditionRange | Filter
        ]
        | Unset
    ) = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.condition_exists import ConditionExists
        from ..models.condition_has_id import ConditionHasId
        from ..models.condition_match import ConditionMatch
        from ..models.condition_range import ConditionRange

        must: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.must, Unset):
            must = []
            for must_item_data in self.must:
                must_item: dict[str, Any]
                if (
                    isinstance(must_item_data, ConditionMatch)
                    or isinstance(must_item_data, ConditionRange)
                    or isinstance(must_item_data, ConditionExists)
                    or isinstance(must_item_data, ConditionHasId)
                ):
                    must_item = must_item_data.to_dict()
                else:
                    must_item = must_item_data.to_dict()

                must.append(must_item)

        must_not: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.must_not, Unset):
            must_not = []
            for must_not_item_data in self.must_not:
                must_not_item: dict[str, Any]
                if (
                    isinstance(must_not_item_data, ConditionMatch)
                    or isinstance(must_not_item_data, ConditionRange)
                    or isinstance(must_not_item_data, ConditionExists)
                    or isinstance(must_not_item_data, ConditionHasId)
                ):
                    must_not_item = must_not_item_data.to_dict()
                else:
                    must_not_item = must_not_item_data.to_dict()

                must_not.append(must_not_item)

        should: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.should, Unset):
            should = []
            for should_item_data in self.should:
                should_item: dict[str, Any]
                if (
                    isinstance(should_item_data, ConditionMatch)
                    or isinstance(should_item_data, ConditionRange)
                    or isinstance(should_item_data, ConditionExists)
                    or isinstance(should_item_data, ConditionHasId)
                ):
                    should_item = should_item_data.to_dict()
                else:
                    should_item = should_item_data.to_dict()

                should.append(should_item)

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if must is not UNSET:
            field_dict["must"] = must
        if must_not is not UNSET:
            field_dict["must_not"] = must_not
        if should is not UNSET:
            field_dict["should"] = should

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.condition_exists import ConditionExists
        from ..models.condition_has_id import ConditionHasId
        from ..models.condition_match import ConditionMatch
        from ..models.condition_range import ConditionRange

        d = dict(src_dict)
        _must = d.pop("must", UNSET)
        must: (
            list[
                ConditionExists
                | ConditionHasId
                | ConditionMatch
                | ConditionRange
                | Filter
            ]
            | Unset
        ) = UNSET
        if _must is not UNSET:
            must = []
            for must_item_data in _must:

                def _parse_must_item(
                    data: object,
                ) -> (
                    ConditionExists
                    | ConditionHasId
                    | ConditionMatch
                    | ConditionRange
                    | Filter
                ):
                    try:
                        if not isinstance(data, dict):
                            raise TypeError()
                        componentsschemas_condition_type_0 = ConditionMatch.from_dict(
                            data
                        )

                        return componentsschemas_condition_type_0
                    except (TypeError, ValueError, AttributeError, KeyError):
                        pass
                    try:
                        if not isinstance(data, dict):
                            raise TypeError()
                        componentsschemas_condition_type_1 = ConditionRange.from_dict(
                            data
                        )

                        return componentsschemas_condition_type_1
                    except (TypeError, ValueError, AttributeError, KeyError):
                        pass
                    try:
                        if not isinstance(data, dict):
                            raise TypeError()
                        componentsschemas_condition_type_2 = ConditionExists.from_dict(
                            data
                        )

                        return componentsschemas_condition_type_2
                    except (TypeError, ValueError, AttributeError, KeyError):
                        pass
                    try:
                        if not isinstance(data, dict):
                            raise TypeError()
                        componentsschemas_condition_type_3 = ConditionHasId.from_dict(
                            data
                        )

                        return componentsschemas_condition_type_3
                    except (TypeError, ValueError, AttributeError, KeyError):
                        pass
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_condition_type_4 = Filter.from_dict(data)

                    return componentsschemas_condition_type_4

                must_item = _parse_must_item(must_item_data)

                must.append(must_item)

        _must_not = d.pop("must_not", UNSET)
        must_not: (
            list[
                ConditionExists
                | ConditionHasId
                | ConditionMatch
                | ConditionRange
                | Filter
            ]
            | Unset
        ) = UNSET
        if _must_not is not UNSET:
            must_not = []
            for must_not_item_data in _must_not:

                def _parse_must_not_item(
                    data: object,
                ) -> (
                    ConditionExists
                    | ConditionHasId
                    | ConditionMatch
                    | ConditionRange
                    | Filter
                ):
                    try:
                        if not isinstance(data, dict):
                            raise TypeError()
                        componentsschemas_condition_type_0 = ConditionMatch.from_dict(
                            data
                        )

                        return componentsschemas_condition_type_0
                    except (TypeError, ValueError, AttributeError, KeyError):
                        pass
                    try:
                        if not isinstance(data, dict):
                            raise TypeError()
                        componentsschemas_condition_type_1 = ConditionRange.from_dict(
                            data
                        )

                        return componentsschemas_condition_type_1
                    except (TypeError, ValueError, AttributeError, KeyError):
                        pass
                    try:
                        if not isinstance(data, dict):
                            raise TypeError()
                        componentsschemas_condition_type_2 = ConditionExists.from_dict(
                            data
                        )

                        return componentsschemas_condition_type_2
                    except (TypeError, ValueError, AttributeError, KeyError):
                        pass
                    try:
                        if not isinstance(data, dict):
                            raise TypeError()
                        componentsschemas_condition_type_3 = ConditionHasId.from_dict(
                            data
                        )

                        return componentsschemas_condition_type_3
                    except (TypeError, ValueError, AttributeError, KeyError):
                        pass
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_condition_type_4 = Filter.from_dict(data)

                    return componentsschemas_condition_type_4

                must_not_item = _parse_must_not_item(must_not_item_data)

                must_not.append(must_not_item)

        _should = d.pop("should", UNSET)
        should: (
            list[
                ConditionExists
                | ConditionHasId
                | ConditionMatch
                | ConditionRange
                | Filter
            ]
            | Unset
        ) = UNSET
        if _should is not UNSET:
            should = []
            for should_item_data in _should:

                def _parse_should_item(
                    data: object,
                ) -> (
                    ConditionExists
                    | ConditionHasId
                    | ConditionMatch
                    | ConditionRange
                    | Filter
                ):
                    try:
                        if not isinstance(data, dict):
                            raise TypeError()
                        componentsschemas_condition_type_0 = ConditionMatch.from_dict(
                            data
                        )

                        return componentsschemas_condition_type_0
                    except (TypeError, ValueError, AttributeError, KeyError):
                        pass
                    try:
                        if not isinstance(data, dict):
                            raise TypeError()
                        componentsschemas_condition_type_1 = ConditionRange.from_dict(
                            data
                        )

                        return componentsschemas_condition_type_1
                    except (TypeError, ValueError, AttributeError, KeyError):
                        pass
                    try:
                        if not isinstance(data, dict):
                            raise TypeError()
                        componentsschemas_condition_type_2 = ConditionExists.from_dict(
                            data
                        )

                        return componentsschemas_condition_type_2
                    except (TypeError, ValueError, AttributeError, KeyError):
                        pass
                    try:
                        if not isinstance(data, dict):
                            raise TypeError()
                        componentsschemas_condition_type_3 = ConditionHasId.from_dict(
                            data
                        )

                        return componentsschemas_condition_type_3
                    except (TypeError, ValueError, AttributeError, KeyError):
                        pass
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_condition_type_4 = Filter.from_dict(data)

                    return componentsschemas_condition_type_4

                should_item = _parse_should_item(should_item_data)

                should.append(should_item)

        filter_ = cls(
            must=must,
            must_not=must_not,
            should=should,
        )

        return filter_
