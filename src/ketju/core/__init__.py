"""The foundation: namespaces, languages, settings, the project tree and the named queries.

Nothing here imports any other part of ketju (the import contract in pyproject.toml holds
the layers: cli > web > domain > infra > core).
"""
