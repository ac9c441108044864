"""The API's one error type, rendered as Heroku's `{"id", "message", "resource"}` body."""
from __future__ import annotations

from starlette.responses import JSONResponse


class ApiError(Exception):
    def __init__(self, status: int, id: str, message: str, resource: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.headers = headers or {}
        self.status = status
        self.id = id
        self.message = message
        self.resource = resource

    def response(self) -> JSONResponse:
        body: dict[str, str] = {"id": self.id, "message": self.message}
        if self.resource:
            body["resource"] = self.resource
        headers = {"WWW-Authenticate": 'Basic realm="hoist"'} if self.status == 401 else {}
        headers.update(self.headers)
        return JSONResponse(body, status_code=self.status, headers=headers)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)


def invalid(message: str, resource: str | None = None) -> ApiError:
    return ApiError(422, "invalid_params", message, resource)


def not_found(resource: str, message: str) -> ApiError:
    return ApiError(404, "not_found", message, resource)
