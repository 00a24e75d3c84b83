from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.match_any import MatchAny
    from ..models.match_equals import MatchEquals
    from ..models.match_text import MatchText


T = TypeVar("T", bound="ConditionMatch")


@_attrs_define
class ConditionMatch:
    """`{"key": k, "match": {...}}`.

    Attributes:
        key (str): Payload field (dotted path).
        match (MatchAny | MatchEquals | MatchText): `{"value": v}`, `{"any": [v, ...]}` or `{"text": "..."}`.
    """

    key: str
    match: MatchAny | MatchEquals | MatchText
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.match_any import MatchAny
        from ..models.match_equals import MatchEquals

        key = self.key

        match: dict[str, Any]
        if isinstance(self.match, MatchEquals) or isinstance(self.match, MatchAny):
            match = self.match.to_dict()
        else:
            match = self.match.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "key": key,
                "match": match,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.match_any import MatchAny
        from ..models.match_equals import MatchEquals
        from ..models.match_text import MatchText

        d = dict(src_dict)
        key = d.pop("key")

        def _parse_match(data: object) -> MatchAny | MatchEquals | MatchText:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_match_type_0 = MatchEquals.from_dict(data)

                return componentsschemas_match_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_match_type_1 = MatchAny.from_dict(data)

                return componentsschemas_match_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            componentsschemas_match_type_2 = MatchText.from_dict(data)

            return componentsschemas_match_type_2

        match = _parse_match(d.pop("match"))

        condition_match = cls(
            key=key,
            match=match,
        )

        condition_match.additional_properties = d
        return condition_match

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
