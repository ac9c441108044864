"""hoist's add-on providers. They know nothing of apps' releases: they provision, serve and remove resources
and hand back URLs; the platform (core/addons.py) turns those into config vars, i.e. releases.

Every provider is a folder of the same shape, side by side (postgres/, redis/; amqp/, scheduler/ next):

``__init__.py``   the provider's contract, written as its docstring.
``errors.py``     its error type, a subclass of ``errors.AddonError``.
``server.py``     the server it runs, a child of the one keeper (``hoist.keeper``): started, watched,
                  restarted with backoff, stopped.
``provider.py``   ``<Service>Provider``, the ``provider.Provider`` shape: ``start(addons)`` on server start,
                  ``provision(addon, directory) -> Provisioned(url, provider)``, ``deprovision(addon)``,
                  ``stop()``; plus the service's own operations (Postgres: rotate, reset, info).

Shared beside them: ``plans.py`` (services, plans, names, attachment vars; pure), ``provider.py`` (the
shape), ``errors.py`` (``AddonError``), ``sysuser.py`` (the system user add-on servers run as under root).
Process helpers come from ``hoist.procs``; providers import only contracts/, procs, keeper, state/, tls/
and the ground, never the platform.
"""
from __future__ import annotations
