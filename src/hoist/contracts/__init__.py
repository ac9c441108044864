"""The typed hand-offs between hoist's stages, at the bottom of the house.

A push flows git -> builder -> platform -> dynos -> router; what one stage
hands the next is defined here, as frozen dataclasses with one parser and
one writer each, never as a dict read by key. Modules here import only the
standard library and `hoist.names`."""
