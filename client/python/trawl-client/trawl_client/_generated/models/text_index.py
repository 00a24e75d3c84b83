from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="TextIndex")


@_attrs_define
class TextIndex:
    """A collection's full-text index.

    Attributes:
        field (str | Unset): The payload field holding each point's text (a string, or a list of
            strings); default `text`.
        language (str | Unset): The analyser's language, an ISO 639-1 code (default `en`): `ar`, `da`,
            `de`, `el`, `en`, `es`, `fi`, `fr`, `hu`, `it`, `nl`, `no`, `pt`,
            `ro`, `ru`, `sv`, `ta`, `tr`. Words are split on non-alphanumerics,
            lowercased, stripped of the language's stop words and stemmed.
    """

    field: str | Unset = UNSET
    language: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        field = self.field

        language = self.language

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if field is not UNSET:
            field_dict["field"] = field
        if language is not UNSET:
            field_dict["language"] = language

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        field = d.pop("field", UNSET)

        language = d.pop("language", UNSET)

        text_index = cls(
            field=field,
            language=language,
        )

        return text_index
