from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.alias_actions import AliasActions
from ...models.alias_list import AliasList
from ...models.error_body import ErrorBody
from ...types import Response


def _get_kwargs(
    *,
    body: AliasActions,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/aliases",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> AliasList | ErrorBody | None:
    if response.status_code == 200:
        response_200 = AliasList.from_dict(response.json())

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

    if response.status_code == 409:
        response_409 = ErrorBody.from_dict(response.json())

        return response_409

    if response.status_code == 415:
        response_415 = ErrorBody.from_dict(response.json())

        return response_415

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
) -> Response[AliasList | ErrorBody]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: AliasActions,
) -> Response[AliasList | ErrorBody]:
    """Create and delete aliases: the actions apply in order, all or none, and
    are durable when answered. Switch an alias to another collection with a
    delete and a create in one request: no request sees it name neither.
    Every route that takes a collection name takes an alias (except
    `DELETE /collections/{name}`, which wants the collection's own name).

    Args:
        body (AliasActions): Body of `POST /aliases`: applied in order, all or none.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AliasList | ErrorBody]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: AliasActions,
) -> AliasList | ErrorBody | None:
    """Create and delete aliases: the actions apply in order, all or none, and
    are durable when answered. Switch an alias to another collection with a
    delete and a create in one request: no request sees it name neither.
    Every route that takes a collection name takes an alias (except
    `DELETE /collections/{name}`, which wants the collection's own name).

    Args:
        body (AliasActions): Body of `POST /aliases`: applied in order, all or none.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AliasList | ErrorBody
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: AliasActions,
) -> Response[AliasList | ErrorBody]:
    """Create and delete aliases: the actions apply in order, all or none, and
    are durable when answered. Switch an alias to another collection with a
    delete and a create in one request: no request sees it name neither.
    Every route that takes a collection name takes an alias (except
    `DELETE /collections/{name}`, which wants the collection's own name).

    Args:
        body (AliasActions): Body of `POST /aliases`: applied in order, all or none.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AliasList | ErrorBody]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: AliasActions,
) -> AliasList | ErrorBody | None:
    """Create and delete aliases: the actions apply in order, all or none, and
    are durable when answered. Switch an alias to another collection with a
    delete and a create in one request: no request sees it name neither.
    Every route that takes a collection name takes an alias (except
    `DELETE /collections/{name}`, which wants the collection's own name).

    Args:
        body (AliasActions): Body of `POST /aliases`: applied in order, all or none.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AliasList | ErrorBody
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
