"""Containment: what makes a dyno one kernel unit, and what lets it (and the router and the Postgres TLS
front) outlive the hoist control process.

Two pieces, used by dynos/, router/ and addons/ alike:

- `cgroups.py`: one cgroup tree per hoist home (`hoist-<hash of HOIST_HOME>`), a cgroup per unit
  (`apps/APP/DYNO-ID` for a dyno, `kept/NAME` for the router and the TLS front, `shims` for the shims).
  The cgroup exists before the unit's first process runs: the launcher joins it before it execs the
  command, so everything that process starts — forked, setsid, daemonized, double-forked — is in it,
  and a restarted hoist finds every unit by listing the tree (the cgroup is the record).
  Which hierarchy does what is chosen at start from what is mounted:
    * a cgroup v2 hierarchy with the memory, pids and cpu controllers (a pure v2 host): v2 does all;
    * a v2 hierarchy without them beside v1 controllers (hybrid, as on this project's CI machine):
      v2 tracks and kills (cgroup.kill takes every process at once; cgroup.events says when it is
      empty; nftables matches a listener's v2 cgroup), v1 memory/pids/cpu limit and count;
    * only v1: the v1 pids hierarchy tracks (kill: freeze where a v1 freezer is mounted, SIGKILL
      every member until none is left), v1 controllers limit.
  Why not an OCI runtime (crun/runc): a dyno needs no image, rootfs or namespaces of its own here
  (it runs the slug on the host, as its own user); a runtime would add a bundle per dyno and a fork
  of `runc create` + `start` to every start, for the same cgroup writes done here directly.
- `shim.py` / `shimmed.py`: every long-lived unit runs under a small shim (`python -I -S shim.py`,
  standard library only), like podman's conmon: it owns the unit's output pipe, forwards lines to
  hoist over a Unix socket in a root-only directory, keeps them (bounded) while hoist is away, and
  keeps the exit status until a hoist has read it. A restarted hoist reconnects to each shim and
  adopts what runs; nothing reads a pipe that dies with hoist.

Without root, or without a mounted cgroup hierarchy, units are process groups (`hoist server` says
so at start): setsid children escape them, as before this package."""
