"""The CLI's HTTP client for the hoist API (and any Heroku-shaped API)."""
from __future__ import annotations

from typing import Any, Iterator

import httpx

from hoist.cli.errors import HoistError

ACCEPT = "application/vnd.heroku+json; version=3"


class Client:
    def __init__(self, base_url: str, token: str | None, timeout: float = 600.0) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Accept": ACCEPT, "User-Agent": "hoist-cli"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def request(self, method: str, path: str, json: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
        try:
            resp = self._http.request(method, path, json=json, headers=headers)
        except httpx.ConnectError:
            raise HoistError(f"cannot reach the hoist API at {self.base_url}. Is `hoist server` running? "
                             "Set HOIST_API_URL or --api if it runs elsewhere.") from None
        except httpx.HTTPError as exc:
            raise HoistError(f"the request to {self.base_url}{path} failed: {exc}") from None
        if resp.status_code >= 400:
            try:
                body = resp.json()
                message = body.get("message") or resp.text
            except ValueError:
                message = resp.text.strip() or resp.reason_phrase
            if resp.status_code == 401:
                message += " (run `hoist login`)" if "login" not in message else ""
            raise HoistError(message)
        return resp

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw).json()

    def get_all(self, path: str) -> list[Any]:
        """Follow Range pages until the API stops sending Next-Range."""
        items: list[Any] = []
        headers: dict[str, str] = {}
        while True:
            resp = self.request("GET", path, headers=headers)
            items.extend(resp.json())
            nxt = resp.headers.get("Next-Range")
            if resp.status_code != 206 or not nxt:
                return items
            headers = {"Range": nxt}

    def post(self, path: str, json: Any = None) -> Any:
        return self.request("POST", path, json=json if json is not None else {}).json()

    def patch(self, path: str, json: Any) -> httpx.Response:
        return self.request("PATCH", path, json=json)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path).json()

    def download(self, path: str, dest: str) -> int:
        """Stream GET `path` into file `dest` (written beside it first, renamed when complete); return bytes."""
        import os

        tmp = f"{dest}.partial"
        size = 0
        try:
            with self._http.stream("GET", path) as resp:
                if resp.status_code >= 400:
                    resp.read()
                    self._raise(resp)
                with open(tmp, "wb") as out:
                    for chunk in resp.iter_bytes():
                        out.write(chunk)
                        size += len(chunk)
            os.replace(tmp, dest)
        except httpx.HTTPError as exc:
            raise HoistError(f"the download from {self.base_url}{path} failed: {exc}; try again") from None
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return size

    def _raise(self, resp: httpx.Response) -> None:
        try:
            message = resp.json().get("message") or resp.text
        except ValueError:
            message = resp.text.strip() or resp.reason_phrase
        raise HoistError(message)

    def put(self, path: str, json: Any) -> Any:
        return self.request("PUT", path, json=json).json()

    def stream_lines(self, url: str) -> Iterator[str]:
        try:
            with httpx.stream("GET", url, headers={"Accept": "text/plain"}, timeout=None) as resp:
                if resp.status_code >= 400:
                    raise HoistError(f"the log stream answered HTTP {resp.status_code}: {resp.read().decode()[:200]}")
                yield from resp.iter_lines()
        except httpx.ConnectError:
            raise HoistError(f"cannot reach the log stream at {url}") from None
