from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.open_ai_embeddings_request import OpenAiEmbeddingsRequest
from ...models.open_ai_embeddings_response import OpenAiEmbeddingsResponse
from ...types import Response


def _get_kwargs(
    *,
    body: OpenAiEmbeddingsRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/embeddings",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | OpenAiEmbeddingsResponse | None:
    if response.status_code == 200:
        response_200 = OpenAiEmbeddingsResponse.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorBody.from_dict(response.json())

        return response_401

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

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorBody | OpenAiEmbeddingsResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: OpenAiEmbeddingsRequest,
) -> Response[ErrorBody | OpenAiEmbeddingsResponse]:
    """Embed texts (or token ids) in the shape of OpenAI's embeddings API.

    Args:
        body (OpenAiEmbeddingsRequest): Body of `POST /v1/embeddings`. Unknown fields (such as
            `user`) are accepted and ignored.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | OpenAiEmbeddingsResponse]
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
    body: OpenAiEmbeddingsRequest,
) -> ErrorBody | OpenAiEmbeddingsResponse | None:
    """Embed texts (or token ids) in the shape of OpenAI's embeddings API.

    Args:
        body (OpenAiEmbeddingsRequest): Body of `POST /v1/embeddings`. Unknown fields (such as
            `user`) are accepted and ignored.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | OpenAiEmbeddingsResponse
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: OpenAiEmbeddingsRequest,
) -> Response[ErrorBody | OpenAiEmbeddingsResponse]:
    """Embed texts (or token ids) in the shape of OpenAI's embeddings API.

    Args:
        body (OpenAiEmbeddingsRequest): Body of `POST /v1/embeddings`. Unknown fields (such as
            `user`) are accepted and ignored.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | OpenAiEmbeddingsResponse]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: OpenAiEmbeddingsRequest,
) -> ErrorBody | OpenAiEmbeddingsResponse | None:
    """Embed texts (or token ids) in the shape of OpenAI's embeddings API.

    Args:
        body (OpenAiEmbeddingsRequest): Body of `POST /v1/embeddings`. Unknown fields (such as
            `user`) are accepted and ignored.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | OpenAiEmbeddingsResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
