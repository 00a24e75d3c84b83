from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.snapshot_deleted import SnapshotDeleted
from ...types import Response


def _get_kwargs(
    name: str,
    snapshot: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/collections/{name}/snapshots/{snapshot}".format(
            name=quote(str(name), safe=""),
            snapshot=quote(str(snapshot), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | SnapshotDeleted | None:
    if response.status_code == 200:
        response_200 = SnapshotDeleted.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = ErrorBody.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ErrorBody.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = ErrorBody.from_dict(response.json())

        return response_404

    if response.status_code == 422:
        response_422 = ErrorBody.from_dict(response.json())

        return response_422

    if response.status_code == 503:
        response_503 = ErrorBody.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorBody | SnapshotDeleted]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    name: str,
    snapshot: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[ErrorBody | SnapshotDeleted]:
    """Delete a stored snapshot (the collection is not touched).

    Args:
        name (str):
        snapshot (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | SnapshotDeleted]
    """

    kwargs = _get_kwargs(
        name=name,
        snapshot=snapshot,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    name: str,
    snapshot: str,
    *,
    client: AuthenticatedClient | Client,
) -> ErrorBody | SnapshotDeleted | None:
    """Delete a stored snapshot (the collection is not touched).

    Args:
        name (str):
        snapshot (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | SnapshotDeleted
    """

    return sync_detailed(
        name=name,
        snapshot=snapshot,
        client=client,
    ).parsed


async def asyncio_detailed(
    name: str,
    snapshot: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[ErrorBody | SnapshotDeleted]:
    """Delete a stored snapshot (the collection is not touched).

    Args:
        name (str):
        snapshot (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | SnapshotDeleted]
    """

    kwargs = _get_kwargs(
        name=name,
        snapshot=snapshot,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    name: str,
    snapshot: str,
    *,
    client: AuthenticatedClient | Client,
) -> ErrorBody | SnapshotDeleted | None:
    """Delete a stored snapshot (the collection is not touched).

    Args:
        name (str):
        snapshot (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | SnapshotDeleted
    """

    return (
        await asyncio_detailed(
            name=name,
            snapshot=snapshot,
            client=client,
        )
    ).parsed
