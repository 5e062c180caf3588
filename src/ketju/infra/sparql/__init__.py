"""The SPARQL 1.1 machinery: query analysis, the guarded query processes, backends, formats
and the service description (the `/sparql` endpoint itself is ketju.web.sparql)."""
