"""Storage, build and machinery: the store and the remote engine, the per-build snapshot,
validation, the build, search, the feeds and the guarded SPARQL service.

It knows nothing of the domain or the web layer above it.
"""
