from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.filter_ import Filter
    from ..models.search_params import SearchParams


T = TypeVar("T", bound="SearchRequest")


@_attrs_define
class SearchRequest:
    """Body of `POST /collections/{name}/search`: exactly one of `vector`, `text`, `multivector`.

    Attributes:
        filter_ (Filter | None | Unset):
        limit (int | Unset): Results to return (default 10; at most `--max-limit`).
        multivector (list[list[float]] | None | Unset): Query token vectors, for multi-vector collections.
        params (SearchParams | Unset): Search tuning.
        text (None | str | Unset): Query text, embedded with the collection's encoder.
        using (None | str | Unset): The vector searched, by name (default `""`: the unnamed vector);
            only points holding it are found.
        vector (list[float] | None | Unset): Query vector.
        with_payload (bool | Unset): Return payloads (default true).
        with_vector (bool | Unset): Return stored vectors (default false).
    """

    filter_: Filter | None | Unset = UNSET
    limit: int | Unset = UNSET
    multivector: list[list[float]] | None | Unset = UNSET
    params: SearchParams | Unset = UNSET
    text: None | str | Unset = UNSET
    using: None | str | Unset = UNSET
    vector: list[float] | None | Unset = UNSET
    with_payload: bool | Unset = UNSET
    with_vector: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.filter_ import Filter

        filter_: dict[str, Any] | None | Unset
        if isinstance(self.filter_, Unset):
            filter_ = UNSET
        elif isinstance(self.filter_, Filter):
            filter_ = self.filter_.to_dict()
        else:
            filter_ = self.filter_

        limit = self.limit

        multivector: list[list[float]] | None | Unset
        if isinstance(self.multivector, Unset):
            multivector = UNSET
        elif isinstance(self.multivector, list):
            multivector = []
            for multivector_type_0_item_data in self.multivector:
                multivector_type_0_item = multivector_type_0_item_data

                multivector.append(multivector_type_0_item)

        else:
            multivector = self.multivector

        params: dict[str, Any] | Unset = UNSET
        if not isinstance(self.params, Unset):
            params = self.params.to_dict()

        text: None | str | Unset
        if isinstance(self.text, Unset):
            text = UNSET
        else:
            text = self.text

        using: None | str | Unset
        if isinstance(self.using, Unset):
            using = UNSET
        else:
            using = self.using

        vector: list[float] | None | Unset
        if isinstance(self.vector, Unset):
            vector = UNSET
        elif isinstance(self.vector, list):
            vector = self.vector

        else:
            vector = self.vector

        with_payload = self.with_payload

        with_vector = self.with_vector

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if filter_ is not UNSET:
            field_dict["filter"] = filter_
        if limit is not UNSET:
            field_dict["limit"] = limit
        if multivector is not UNSET:
            field_dict["multivector"] = multivector
        if params is not UNSET:
            field_dict["params"] = params
        if text is not UNSET:
            field_dict["text"] = text
        if using is not UNSET:
            field_dict["using"] = using
        if vector is not UNSET:
            field_dict["vector"] = vector
        if with_payload is not UNSET:
            field_dict["with_payload"] = with_payload
        if with_vector is not UNSET:
            field_dict["with_vector"] = with_vector

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.filter_ import Filter
        from ..models.search_params import SearchParams

        d = dict(src_dict)

        def _parse_filter_(data: object) -> Filter | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                filter_type_1 = Filter.from_dict(data)

                return filter_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Filter | None | Unset, data)

        filter_ = _parse_filter_(d.pop("filter", UNSET))

        limit = d.pop("limit", UNSET)

        def _parse_multivector(data: object) -> list[list[float]] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                multivector_type_0 = []
                _multivector_type_0 = data
                for multivector_type_0_item_data in _multivector_type_0:
                    multivector_type_0_item = cast(
                        list[float], multivector_type_0_item_data
                    )

                    multivector_type_0.append(multivector_type_0_item)

                return multivector_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[list[float]] | None | Unset, data)

        multivector = _parse_multivector(d.pop("multivector", UNSET))

        _params = d.pop("params", UNSET)
        params: SearchParams | Unset
        if isinstance(_params, Unset):
            params = UNSET
        else:
            params = SearchParams.from_dict(_params)

        def _parse_text(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        text = _parse_text(d.pop("text", UNSET))

        def _parse_using(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        using = _parse_using(d.pop("using", UNSET))

        def _parse_vector(data: object) -> list[float] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                vector_type_0 = cast(list[float], data)

                return vector_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[float] | None | Unset, data)

        vector = _parse_vector(d.pop("vector", UNSET))

        with_payload = d.pop("with_payload", UNSET)

        with_vector = d.pop("with_vector", UNSET)

        search_request = cls(
            filter_=filter_,
            limit=limit,
            multivector=multivector,
            params=params,
            text=text,
            using=using,
            vector=vector,
            with_payload=with_payload,
            with_vector=with_vector,
        )

        return search_request
