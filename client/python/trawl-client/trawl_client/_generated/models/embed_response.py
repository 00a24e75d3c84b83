from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.embed_kind import EmbedKind
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.usage import Usage


T = TypeVar("T", bound="EmbedResponse")


@_attrs_define
class EmbedResponse:
    """Answer of `POST /embed`.

    Attributes:
        embeddings (list[list[float] | list[int] | list[list[float]] | str]): One embedding per input, in input order.
        kind (EmbedKind): Which representation `/embed` returns.
        model (str): The model that produced the embeddings.
        truncated (list[bool]): Per input: whether it was cut at the model's maximum token count.
        usage (Usage): Token accounting of a request.
        scales (list[list[float]] | None | Unset): For `binary`: per input, the scale of each bit plane (plane 0 first).
    """

    embeddings: list[list[float] | list[int] | list[list[float]] | str]
    kind: EmbedKind
    model: str
    truncated: list[bool]
    usage: Usage
    scales: list[list[float]] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        embeddings = []
        for embeddings_item_data in self.embeddings:
            embeddings_item: list[float] | list[int] | list[list[float]] | str
            if isinstance(embeddings_item_data, list) or isinstance(
                embeddings_item_data, list
            ):
                embeddings_item = embeddings_item_data

            elif isinstance(embeddings_item_data, list):
                embeddings_item = []
                for (
                    componentsschemas_embedding_type_3_item_data
                ) in embeddings_item_data:
                    componentsschemas_embedding_type_3_item = (
                        componentsschemas_embedding_type_3_item_data
                    )

                    embeddings_item.append(componentsschemas_embedding_type_3_item)

            else:
                embeddings_item = embeddings_item_data
            embeddings.append(embeddings_item)

        kind = self.kind.value

        model = self.model

        truncated = self.truncated

        usage = self.usage.to_dict()

        scales: list[list[float]] | None | Unset
        if isinstance(self.scales, Unset):
            scales = UNSET
        elif isinstance(self.scales, list):
            scales = []
            for scales_type_0_item_data in self.scales:
                scales_type_0_item = scales_type_0_item_data

                scales.append(scales_type_0_item)

        else:
            scales = self.scales

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "embeddings": embeddings,
                "kind": kind,
                "model": model,
                "truncated": truncated,
                "usage": usage,
            }
        )
        if scales is not UNSET:
            field_dict["scales"] = scales

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.usage import Usage

        d = dict(src_dict)
        embeddings = []
        _embeddings = d.pop("embeddings")
        for embeddings_item_data in _embeddings:

            def _parse_embeddings_item(
                data: object,
            ) -> list[float] | list[int] | list[list[float]] | str:
                try:
                    if not isinstance(data, list):
                        raise TypeError()
                    componentsschemas_embedding_type_0 = cast(list[float], data)

                    return componentsschemas_embedding_type_0
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, list):
                        raise TypeError()
                    componentsschemas_embedding_type_2 = cast(list[int], data)

                    return componentsschemas_embedding_type_2
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, list):
                        raise TypeError()
                    componentsschemas_embedding_type_3 = []
                    _componentsschemas_embedding_type_3 = data
                    for (
                        componentsschemas_embedding_type_3_item_data
                    ) in _componentsschemas_embedding_type_3:
                        componentsschemas_embedding_type_3_item = cast(
                            list[float], componentsschemas_embedding_type_3_item_data
                        )

                        componentsschemas_embedding_type_3.append(
                            componentsschemas_embedding_type_3_item
                        )

                    return componentsschemas_embedding_type_3
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                return cast(list[float] | list[int] | list[list[float]] | str, data)

            embeddings_item = _parse_embeddings_item(embeddings_item_data)

            embeddings.append(embeddings_item)

        kind = EmbedKind(d.pop("kind"))

        model = d.pop("model")

        truncated = cast(list[bool], d.pop("truncated"))

        usage = Usage.from_dict(d.pop("usage"))

        def _parse_scales(data: object) -> list[list[float]] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                scales_type_0 = []
                _scales_type_0 = data
                for scales_type_0_item_data in _scales_type_0:
                    scales_type_0_item = cast(list[float], scales_type_0_item_data)

                    scales_type_0.append(scales_type_0_item)

                return scales_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[list[float]] | None | Unset, data)

        scales = _parse_scales(d.pop("scales", UNSET))

        embed_response = cls(
            embeddings=embeddings,
            kind=kind,
            model=model,
            truncated=truncated,
            usage=usage,
            scales=scales,
        )

        embed_response.additional_properties = d
        return embed_response

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
