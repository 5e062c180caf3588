"""The SPARQL 1.1 service: protocol, guarded query execution, Graph Store Protocol (read)."""
