from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.operation import Operation
from ...models.upsert_points import UpsertPoints
from ...models.upsert_result import UpsertResult
from ...types import UNSET, Response, Unset


def _get_kwargs(
    name: str,
    *,
    body: UpsertPoints,
    wait: bool | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    params: dict[str, Any] = {}

    params["wait"] = wait

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/collections/{name}/points".format(
            name=quote(str(name), safe=""),
        ),
        "params": params,
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | Operation | UpsertResult | None:
    if response.status_code == 200:
        response_200 = UpsertResult.from_dict(response.json())

        return response_200

    if response.status_code == 202:
        response_202 = Operation.from_dict(response.json())

        return response_202

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorBody.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ErrorBody.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = ErrorBody.from_dict(response.json())

        return response_404

    if response.status_code == 408:
        response_408 = ErrorBody.from_dict(response.json())

        return response_408

    if response.status_code == 413:
        response_413 = ErrorBody.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = ErrorBody.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = ErrorBody.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = ErrorBody.from_dict(response.json())

        return response_429

    if response.status_code == 503:
        response_503 = ErrorBody.from_dict(response.json())

        return response_503

    if response.status_code == 507:
        response_507 = ErrorBody.from_dict(response.json())

        return response_507

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorBody | Operation | UpsertResult]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    name: str,
    *,
    client: AuthenticatedClient | Client,
    body: UpsertPoints,
    wait: bool | Unset = UNSET,
) -> Response[ErrorBody | Operation | UpsertResult]:
    """Insert or replace points. Acknowledged writes are durable (fsynced) and
    searchable. Points given as `text` are embedded and written a chunk at a
    time: with `wait=false` the write is queued on disk and carried out in
    the background (202 with an operation to poll).

    Args:
        name (str):
        wait (bool | Unset):
        body (UpsertPoints): Body of `PUT /collections/{name}/points`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | Operation | UpsertResult]
    """

    kwargs = _get_kwargs(
        name=name,
        body=body,
        wait=wait,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    name: str,
    *,
    client: AuthenticatedClient | Client,
    body: UpsertPoints,
    wait: bool | Unset = UNSET,
) -> ErrorBody | Operation | UpsertResult | None:
    """Insert or replace points. Acknowledged writes are durable (fsynced) and
    searchable. Points given as `text` are embedded and written a chunk at a
    time: with `wait=false` the write is queued on disk and carried out in
    the background (202 with an operation to poll).

    Args:
        name (str):
        wait (bool | Unset):
        body (UpsertPoints): Body of `PUT /collections/{name}/points`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | Operation | UpsertResult
    """

    return sync_detailed(
        name=name,
        client=client,
        body=body,
        wait=wait,
    ).parsed


async def asyncio_detailed(
    name: str,
    *,
    client: AuthenticatedClient | Client,
    body: UpsertPoints,
    wait: bool | Unset = UNSET,
) -> Response[ErrorBody | Operation | UpsertResult]:
    """Insert or replace points. Acknowledged writes are durable (fsynced) and
    searchable. Points given as `text` are embedded and written a chunk at a
    time: with `wait=false` the write is queued on disk and carried out in
    the background (202 with an operation to poll).

    Args:
        name (str):
        wait (bool | Unset):
        body (UpsertPoints): Body of `PUT /collections/{name}/points`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | Operation | UpsertResult]
    """

    kwargs = _get_kwargs(
        name=name,
        body=body,
        wait=wait,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    name: str,
    *,
    client: AuthenticatedClient | Client,
    body: UpsertPoints,
    wait: bool | Unset = UNSET,
) -> ErrorBody | Operation | UpsertResult | None:
    """Insert or replace points. Acknowledged writes are durable (fsynced) and
    searchable. Points given as `text` are embedded and written a chunk at a
    time: with `wait=false` the write is queued on disk and carried out in
    the background (202 with an operation to poll).

    Args:
        name (str):
        wait (bool | Unset):
        body (UpsertPoints): Body of `PUT /collections/{name}/points`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | Operation | UpsertResult
    """

    return (
        await asyncio_detailed(
            name=name,
            client=client,
            body=body,
            wait=wait,
        )
    ).parsed
