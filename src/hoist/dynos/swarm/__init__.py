"""Dynos on a Docker Swarm (HOIST_SCHEDULER=swarm): the second implementation of the scheduler seam.

scheduler.py is the seam itself; dyno.py is one formation dyno (its own one-replica service, routed straight
to a task that answered); cluster.py talks to the manager (services, tasks, nodes); images.py turns a slug
into an image from this host's own files; logstream.py/logs.py read the dynos' output and meter.py's memory
markers; runs.py, remote.py, dialback.py and frames.py run one-offs that dial back; nodes.py and drain.py
are `hoist nodes` and `nodes:drain`; addon_env.py names the host address in add-on URLs; taskerrors.py says
why swarm could not run a task."""
