"""ASGI pieces shared by every face that speaks HTTP (the API, the dashboard, git).

Ground of the house: these modules know Starlette and nothing of hoist's
stages, so git/ and api/ can both stand on them."""
