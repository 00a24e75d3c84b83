from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.restore_ack import RestoreAck
from ...types import File, Response


def _get_kwargs(
    name: str,
    *,
    body: File,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/collections/{name}/snapshots/restore".format(
            name=quote(str(name), safe=""),
        ),
    }

    _kwargs["content"] = body.payload

    headers["Content-Type"] = "application/x-tar"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | RestoreAck | None:
    if response.status_code == 200:
        response_200 = RestoreAck.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorBody.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ErrorBody.from_dict(response.json())

        return response_403

    if response.status_code == 408:
        response_408 = ErrorBody.from_dict(response.json())

        return response_408

    if response.status_code == 413:
        response_413 = ErrorBody.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = ErrorBody.from_dict(response.json())

        return response_422

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
) -> Response[ErrorBody | RestoreAck]:
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
    body: File,
) -> Response[ErrorBody | RestoreAck]:
    """Restore a collection from a snapshot archive sent as the body (any
    content type; `curl --data-binary @file` or `-T file`). The body is
    streamed to a staging directory, not held in memory, and checked whole:
    every member against its checksum, then the collection opened as at
    start-up. Only then does it replace the collection `{name}` (or create
    it); a corrupt, truncated or foreign file answers 400 `invalid_snapshot`
    and changes nothing. Requests to the collection during the swap may fail
    with 404 and can be retried.

    Args:
        name (str):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | RestoreAck]
    """

    kwargs = _get_kwargs(
        name=name,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    name: str,
    *,
    client: AuthenticatedClient | Client,
    body: File,
) -> ErrorBody | RestoreAck | None:
    """Restore a collection from a snapshot archive sent as the body (any
    content type; `curl --data-binary @file` or `-T file`). The body is
    streamed to a staging directory, not held in memory, and checked whole:
    every member against its checksum, then the collection opened as at
    start-up. Only then does it replace the collection `{name}` (or create
    it); a corrupt, truncated or foreign file answers 400 `invalid_snapshot`
    and changes nothing. Requests to the collection during the swap may fail
    with 404 and can be retried.

    Args:
        name (str):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | RestoreAck
    """

    return sync_detailed(
        name=name,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    name: str,
    *,
    client: AuthenticatedClient | Client,
    body: File,
) -> Response[ErrorBody | RestoreAck]:
    """Restore a collection from a snapshot archive sent as the body (any
    content type; `curl --data-binary @file` or `-T file`). The body is
    streamed to a staging directory, not held in memory, and checked whole:
    every member against its checksum, then the collection opened as at
    start-up. Only then does it replace the collection `{name}` (or create
    it); a corrupt, truncated or foreign file answers 400 `invalid_snapshot`
    and changes nothing. Requests to the collection during the swap may fail
    with 404 and can be retried.

    Args:
        name (str):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | RestoreAck]
    """

    kwargs = _get_kwargs(
        name=name,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    name: str,
    *,
    client: AuthenticatedClient | Client,
    body: File,
) -> ErrorBody | RestoreAck | None:
    """Restore a collection from a snapshot archive sent as the body (any
    content type; `curl --data-binary @file` or `-T file`). The body is
    streamed to a staging directory, not held in memory, and checked whole:
    every member against its checksum, then the collection opened as at
    start-up. Only then does it replace the collection `{name}` (or create
    it); a corrupt, truncated or foreign file answers 400 `invalid_snapshot`
    and changes nothing. Requests to the collection during the swap may fail
    with 404 and can be retried.

    Args:
        name (str):
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | RestoreAck
    """

    return (
        await asyncio_detailed(
            name=name,
            client=client,
            body=body,
        )
    ).parsed
