from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.create_alias_action import CreateAliasAction
    from ..models.delete_alias_action import DeleteAliasAction


T = TypeVar("T", bound="AliasActions")


@_attrs_define
class AliasActions:
    """Body of `POST /aliases`: applied in order, all or none.

    Attributes:
        actions (list[CreateAliasAction | DeleteAliasAction]): The changes.
    """

    actions: list[CreateAliasAction | DeleteAliasAction]

    def to_dict(self) -> dict[str, Any]:
        from ..models.create_alias_action import CreateAliasAction

        actions = []
        for actions_item_data in self.actions:
            actions_item: dict[str, Any]
            if isinstance(actions_item_data, CreateAliasAction):
                actions_item = actions_item_data.to_dict()
            else:
                actions_item = actions_item_data.to_dict()

            actions.append(actions_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "actions": actions,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.create_alias_action import CreateAliasAction
        from ..models.delete_alias_action import DeleteAliasAction

        d = dict(src_dict)
        actions = []
        _actions = d.pop("actions")
        for actions_item_data in _actions:

            def _parse_actions_item(
                data: object,
            ) -> CreateAliasAction | DeleteAliasAction:
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_alias_action_type_0 = CreateAliasAction.from_dict(
                        data
                    )

                    return componentsschemas_alias_action_type_0
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_alias_action_type_1 = DeleteAliasAction.from_dict(
                    data
                )

                return componentsschemas_alias_action_type_1

            actions_item = _parse_actions_item(actions_item_data)

            actions.append(actions_item)

        alias_actions = cls(
            actions=actions,
        )

        return alias_actions
