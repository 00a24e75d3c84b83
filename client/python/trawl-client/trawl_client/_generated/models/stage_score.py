from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="StageScore")


@_attrs_define
class StageScore:
    """A hit's place in one stage of a fused query.

    Attributes:
        rank (int): 1 for the stage's best hit.
        score (float): The stage's own score (similarity, or BM25 for lexical stages).
        stage (int): The stage: its index in `prefetch` (the `hybrid` shortcut's stages
            are listed in `stages`).
    """

    rank: int
    score: float
    stage: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        rank = self.rank

        score = self.score

        stage = self.stage

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "rank": rank,
                "score": score,
                "stage": stage,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        rank = d.pop("rank")

        score = d.pop("score")

        stage = d.pop("stage")

        stage_score = cls(
            rank=rank,
            score=score,
            stage=stage,
        )

        stage_score.additional_properties = d
        return stage_score

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
