from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.encoding_format import EncodingFormat
from ..types import UNSET, Unset

T = TypeVar("T", bound="OpenAiEmbeddingsRequest")


@_attrs_define
class OpenAiEmbeddingsRequest:
    """Body of `POST /v1/embeddings`. Unknown fields (such as `user`) are accepted and ignored.

    Attributes:
        input_ (list[int] | list[list[int]] | list[str] | str): `input`: one text, several texts, or the same as token
            ids of the served
            model's own tokenizer (one list of ids, or a list of such lists).
        dimensions (int | None | Unset): Matryoshka prefix length; the full dimension when absent.
        encoding_format (EncodingFormat | None | Unset):
        model (None | str | Unset): The model: the served model's id as `GET /v1/models` lists it (the part
            after a `/` and case are ignored, so `sentence-transformers/all-MiniLM-L6-v2`
            names `all-minilm-l6-v2`); another model gets 404 `model_not_found`.
            Optional: absent means the served model.
    """

    input_: list[int] | list[list[int]] | list[str] | str
    dimensions: int | None | Unset = UNSET
    encoding_format: EncodingFormat | None | Unset = UNSET
    model: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        input_: list[int] | list[list[int]] | list[str] | str
        if isinstance(self.input_, list) or isinstance(self.input_, list):
            input_ = self.input_

        elif isinstance(self.input_, list):
            input_ = []
            for componentsschemas_open_ai_input_type_3_item_data in self.input_:
                componentsschemas_open_ai_input_type_3_item = (
                    componentsschemas_open_ai_input_type_3_item_data
                )

                input_.append(componentsschemas_open_ai_input_type_3_item)

        else:
            input_ = self.input_

        dimensions: int | None | Unset
        if isinstance(self.dimensions, Unset):
            dimensions = UNSET
        else:
            dimensions = self.dimensions

        encoding_format: None | str | Unset
        if isinstance(self.encoding_format, Unset):
            encoding_format = UNSET
        elif isinstance(self.encoding_format, EncodingFormat):
            encoding_format = self.encoding_format.value
        else:
            encoding_format = self.encoding_format

        model: None | str | Unset
        if isinstance(self.model, Unset):
            model = UNSET
        else:
            model = self.model

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "input": input_,
            }
        )
        if dimensions is not UNSET:
            field_dict["dimensions"] = dimensions
        if encoding_format is not UNSET:
            field_dict["encoding_format"] = encoding_format
        if model is not UNSET:
            field_dict["model"] = model

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_input_(
            data: object,
        ) -> list[int] | list[list[int]] | list[str] | str:
            try:
                if not isinstance(data, list):
                    raise TypeError()
                componentsschemas_open_ai_input_type_1 = cast(list[str], data)

                return componentsschemas_open_ai_input_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, list):
                    raise TypeError()
                componentsschemas_open_ai_input_type_2 = cast(list[int], data)

                return componentsschemas_open_ai_input_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, list):
                    raise TypeError()
                componentsschemas_open_ai_input_type_3 = []
                _componentsschemas_open_ai_input_type_3 = data
                for (
                    componentsschemas_open_ai_input_type_3_item_data
                ) in _componentsschemas_open_ai_input_type_3:
                    componentsschemas_open_ai_input_type_3_item = cast(
                        list[int], componentsschemas_open_ai_input_type_3_item_data
                    )

                    componentsschemas_open_ai_input_type_3.append(
                        componentsschemas_open_ai_input_type_3_item
                    )

                return componentsschemas_open_ai_input_type_3
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[int] | list[list[int]] | list[str] | str, data)

        input_ = _parse_input_(d.pop("input"))

        def _parse_dimensions(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        dimensions = _parse_dimensions(d.pop("dimensions", UNSET))

        def _parse_encoding_format(data: object) -> EncodingFormat | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                encoding_format_type_1 = EncodingFormat(data)

                return encoding_format_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(EncodingFormat | None | Unset, data)

        encoding_format = _parse_encoding_format(d.pop("encoding_format", UNSET))

        def _parse_model(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        model = _parse_model(d.pop("model", UNSET))

        open_ai_embeddings_request = cls(
            input_=input_,
            dimensions=dimensions,
            encoding_format=encoding_format,
            model=model,
        )

        open_ai_embeddings_request.additional_properties = d
        return open_ai_embeddings_request

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
