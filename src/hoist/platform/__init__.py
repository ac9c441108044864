"""The platform: the one place where desired state changes.

Apps, releases and config, formation and sleep, access, domains, certificates and ACM, the
push pipeline (receive -> build -> slug -> release), add-on orchestration, and publishing
the route table. The faces (api/, dashboard/) act through `control.Platform`; `server.py`
builds its parts (constructor injection) and hands them over. It drives the stages below
it (dynos/, addons/, git/ for new repositories) and hands values through contracts/;
nothing below it imports it."""
