"""ketju: linked-data catalogue of Finnish social and health service packages and chains.

(palvelukokonaisuudet ja palveluketjut)
"""

__version__ = "0.1.0"
