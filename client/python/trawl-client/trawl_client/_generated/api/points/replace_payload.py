from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.set_payload import SetPayload
from ...models.update_result import UpdateResult
from ...types import Response


def _get_kwargs(
    name: str,
    *,
    body: SetPayload,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/collections/{name}/points/payload".format(
            name=quote(str(name), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | UpdateResult | None:
    if response.status_code == 200:
        response_200 = UpdateResult.from_dict(response.json())

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
) -> Response[ErrorBody | UpdateResult]:
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
    body: SetPayload,
) -> Response[ErrorBody | UpdateResult]:
    """Replace payloads: each chosen point's payload becomes `payload`. Durable
    when answered; vectors are kept.

    Args:
        name (str):
        body (SetPayload): Body of `POST /collections/{name}/points/payload` (merge these keys
            into
            each chosen point's payload) and `PUT` (replace each payload): the
            points by `ids` or by `filter`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | UpdateResult]
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
    body: SetPayload,
) -> ErrorBody | UpdateResult | None:
    """Replace payloads: each chosen point's payload becomes `payload`. Durable
    when answered; vectors are kept.

    Args:
        name (str):
        body (SetPayload): Body of `POST /collections/{name}/points/payload` (merge these keys
            into
            each chosen point's payload) and `PUT` (replace each payload): the
            points by `ids` or by `filter`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | UpdateResult
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
    body: SetPayload,
) -> Response[ErrorBody | UpdateResult]:
    """Replace payloads: each chosen point's payload becomes `payload`. Durable
    when answered; vectors are kept.

    Args:
        name (str):
        body (SetPayload): Body of `POST /collections/{name}/points/payload` (merge these keys
            into
            each chosen point's payload) and `PUT` (replace each payload): the
            points by `ids` or by `filter`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | UpdateResult]
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
    body: SetPayload,
) -> ErrorBody | UpdateResult | None:
    """Replace payloads: each chosen point's payload becomes `payload`. Durable
    when answered; vectors are kept.

    Args:
        name (str):
        body (SetPayload): Body of `POST /collections/{name}/points/payload` (merge these keys
            into
            each chosen point's payload) and `PUT` (replace each payload): the
            points by `ids` or by `filter`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | UpdateResult
    """

    return (
        await asyncio_detailed(
            name=name,
            client=client,
            body=body,
        )
    ).parsed
