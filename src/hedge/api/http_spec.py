"""GraphQL over HTTP as its spec says (checked by the graphql-http audit, tests/api/test_graphql_http.py).

- `application/graphql-response+json` when the client accepts it: a request error (the document
  does not parse or validate, variables do not coerce) then answers 400 with no `data` entry;
  `application/json` (the default, for older clients) keeps 200 for every well-formed request.
- GET runs queries only: a mutation over GET is 405 with `Allow: POST`.
- A body that is not UTF-8, not JSON, or not a JSON object is a 400 with a coded error, never a
  500 (strawberry would let UnicodeDecodeError and RecursionError through).
"""

from __future__ import annotations

import json

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult

from hedge.api.context import Context

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
SUB_RESPONSE_KEY = "hedge_sub_response"


def response_media_type(accept: str | None) -> str:
    """The media type to answer with: graphql-response+json when the client lists it (with q > 0)
    before or without application/json; application/json otherwise (also with no Accept)."""
    if not accept:
        return JSON
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        media = media.strip().lower()
        if "q=0" in params.replace(" ", "") and "q=0." not in params.replace(" ", ""):
            continue
        if media == GRAPHQL_RESPONSE:
            return GRAPHQL_RESPONSE
        if media in (JSON, "application/*", "*/*"):
            return JSON
    return JSON


def _request_error(result: ExecutionResult) -> bool:
    """Errors before execution (parse, validation, variable coercion) carry no path and no data."""
    errors = result.errors or []
    return result.data is None and bool(errors) and all(e.path is None for e in errors)


class GraphQLOverHTTP(GraphQL[Context, None]):
    """Strawberry's ASGI view with the spec's media types, status codes and body checks."""

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = response_media_type(request.headers.get("accept"))
        request.state.hedge_sub_response = sub_response
        return sub_response

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        processed = await super().process_result(request, result)
        sub_response: Response | None = getattr(request.state, SUB_RESPONSE_KEY, None)
        if (
            sub_response is not None
            and sub_response.media_type == GRAPHQL_RESPONSE
            and _request_error(result)
        ):
            sub_response.status_code = 400
            processed.pop("data", None)
        return processed

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        body = json.dumps(response_data, separators=(",", ":"))
        response = Response(
            body, status_code=sub_response.status_code or 200, media_type=sub_response.media_type
        )
        for name, value in sub_response.headers.items():
            if name not in ("content-type", "content-length"):
                response.headers.append(name, value)
        if sub_response.background:
            response.background = sub_response.background
        return response

    def decode_json(self, data: str | bytes) -> object:
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
        except UnicodeDecodeError as exc:
            raise HTTPException(400, f"request body is not UTF-8 (byte {exc.start} is invalid)") from None
        try:
            decoded = json.loads(text)
        except RecursionError:
            raise HTTPException(400, "request body is nested too deeply") from None
        except json.JSONDecodeError as exc:
            raise HTTPException(400, f"request body is not JSON ({exc.msg} at {exc.pos})") from None
        if not isinstance(decoded, dict | list):
            raise HTTPException(400, f"request body must be a JSON object, was {type(decoded).__name__}")
        return decoded

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        try:
            return await super().execute_single(
                request=request,
                request_adapter=request_adapter,
                sub_response=sub_response,
                context=context,
                root_value=root_value,
                request_data=request_data,
            )
        except HTTPException as exc:
            if isinstance(exc.__cause__, InvalidOperationTypeError) and request_adapter.method == "GET":
                raise HTTPException(405, "mutations are only allowed over POST") from exc
            raise
