"""Dynos on a Docker Swarm (HOIST_SCHEDULER=swarm): the second implementation of the scheduler seam.

cluster.py talks to the manager (services, tasks, nodes); images.py turns a slug into an image from this
host's own files; dyno.py is one formation dyno (a slot of its type's service) with its local relay;
scheduler.py is the seam itself."""
