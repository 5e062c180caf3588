"""What the catalogue means: chains, packages, goals, regions, entities, comparison and reuse.

Every function takes the `Snapshot` of the build it reads (ketju.infra.snapshot).
"""
