from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.filter_ import Filter
    from ..models.search_params import SearchParams
    from ..models.sparse_vector import SparseVector


T = TypeVar("T", bound="QueryStage")


@_attrs_define
class QueryStage:
    """One retrieval stage: exactly one of `vector`, `text`, `multivector` or
    `point` (by example: that point's stored vector, the point itself
    excluded), on the named vector `using`; or `sparse`, a sparse query
    vector on the sparse vector `using` (`params.exact` scores every
    candidate instead of pruning); or `lexical`, a BM25 search of the
    collection's full-text index.

        Attributes:
            filter_ (Filter | None | Unset):
            lexical (None | str | Unset): A lexical stage: the points whose text best matches this one (BM25;
                collections created with `text`).
            limit (int | None | Unset): Candidates this stage passes on (default: the query's `limit`).
            multivector (list[list[float]] | None | Unset): Query token vectors (multi-vector collections).
            params (SearchParams | Unset): Search tuning.
            point (int | None | str | Unset):
            sparse (None | SparseVector | Unset):
            text (None | str | Unset): A query text, embedded with the collection's encoder.
            using (None | str | Unset): The named vector searched (`""`, the default, is the collection's
                `vector`).
            vector (list[float] | None | Unset): A query vector.
    """

    filter_: Filter | None | Unset = UNSET
    lexical: None | str | Unset = UNSET
    limit: int | None | Unset = UNSET
    multivector: list[list[float]] | None | Unset = UNSET
    params: SearchParams | Unset = UNSET
    point: int | None | str | Unset = UNSET
    sparse: None | SparseVector | Unset = UNSET
    text: None | str | Unset = UNSET
    using: None | str | Unset = UNSET
    vector: list[float] | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.filter_ import Filter
        from ..models.sparse_vector import SparseVector

        filter_: dict[str, Any] | None | Unset
        if isinstance(self.filter_, Unset):
            filter_ = UNSET
        elif isinstance(self.filter_, Filter):
            filter_ = self.filter_.to_dict()
        else:
            filter_ = self.filter_

        lexical: None | str | Unset
        if isinstance(self.lexical, Unset):
            lexical = UNSET
        else:
            lexical = self.lexical

        limit: int | None | Unset
        if isinstance(self.limit, Unset):
            limit = UNSET
        else:
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

        point: int | None | str | Unset
        if isinstance(self.point, Unset):
            point = UNSET
        else:
            point = self.point

        sparse: dict[str, Any] | None | Unset
        if isinstance(self.sparse, Unset):
            sparse = UNSET
        elif isinstance(self.sparse, SparseVector):
            sparse = self.sparse.to_dict()
        else:
            sparse = self.sparse

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

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if filter_ is not UNSET:
            field_dict["filter"] = filter_
        if lexical is not UNSET:
            field_dict["lexical"] = lexical
        if limit is not UNSET:
            field_dict["limit"] = limit
        if multivector is not UNSET:
            field_dict["multivector"] = multivector
        if params is not UNSET:
            field_dict["params"] = params
        if point is not UNSET:
            field_dict["point"] = point
        if sparse is not UNSET:
            field_dict["sparse"] = sparse
        if text is not UNSET:
            field_dict["text"] = text
        if using is not UNSET:
            field_dict["using"] = using
        if vector is not UNSET:
            field_dict["vector"] = vector

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.filter_ import Filter
        from ..models.search_params import SearchParams
        from ..models.sparse_vector import SparseVector

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

        def _parse_lexical(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        lexical = _parse_lexical(d.pop("lexical", UNSET))

        def _parse_limit(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        limit = _parse_limit(d.pop("limit", UNSET))

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

        def _parse_point(data: object) -> int | None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | str | Unset, data)

        point = _parse_point(d.pop("point", UNSET))

        def _parse_sparse(data: object) -> None | SparseVector | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                sparse_type_1 = SparseVector.from_dict(data)

                return sparse_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | SparseVector | Unset, data)

        sparse = _parse_sparse(d.pop("sparse", UNSET))

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

        query_stage = cls(
            filter_=filter_,
            lexical=lexical,
            limit=limit,
            multivector=multivector,
            params=params,
            point=point,
            sparse=sparse,
            text=text,
            using=using,
            vector=vector,
        )

        return query_stage
