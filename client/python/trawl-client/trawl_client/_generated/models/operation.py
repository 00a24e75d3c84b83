from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.operation_status import OperationStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.error_detail import ErrorDetail


T = TypeVar("T", bound="Operation")


@_attrs_define
class Operation:
    """A queued write and how far it has come.

    Attributes:
        collection (str): The collection written to (an alias is resolved when the write is accepted).
        created (str): When it was accepted (RFC 3339).
        id (str): The operation's id (for `GET /operations/{id}`).
        points (int): Points in the write.
        status (OperationStatus): Where a queued write is.
        written (int): Points written so far (durably), in the order given.
        error (ErrorDetail | None | Unset):
        finished (None | str | Unset): When it finished (RFC 3339).
    """

    collection: str
    created: str
    id: str
    points: int
    status: OperationStatus
    written: int
    error: ErrorDetail | None | Unset = UNSET
    finished: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.error_detail import ErrorDetail

        collection = self.collection

        created = self.created

        id = self.id

        points = self.points

        status = self.status.value

        written = self.written

        error: dict[str, Any] | None | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        elif isinstance(self.error, ErrorDetail):
            error = self.error.to_dict()
        else:
            error = self.error

        finished: None | str | Unset
        if isinstance(self.finished, Unset):
            finished = UNSET
        else:
            finished = self.finished

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "collection": collection,
                "created": created,
                "id": id,
                "points": points,
                "status": status,
                "written": written,
            }
        )
        if error is not UNSET:
            field_dict["error"] = error
        if finished is not UNSET:
            field_dict["finished"] = finished

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.error_detail import ErrorDetail

        d = dict(src_dict)
        collection = d.pop("collection")

        created = d.pop("created")

        id = d.pop("id")

        points = d.pop("points")

        status = OperationStatus(d.pop("status"))

        written = d.pop("written")

        def _parse_error(data: object) -> ErrorDetail | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                error_type_1 = ErrorDetail.from_dict(data)

                return error_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ErrorDetail | None | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        def _parse_finished(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        finished = _parse_finished(d.pop("finished", UNSET))

        operation = cls(
            collection=collection,
            created=created,
            id=id,
            points=points,
            status=status,
            written=written,
            error=error,
            finished=finished,
        )

        operation.additional_properties = d
        return operation

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
