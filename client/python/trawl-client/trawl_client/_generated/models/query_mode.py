from enum import Enum


class QueryMode(str, Enum):
    DENSE = "dense"
    HYBRID = "hybrid"
    LEXICAL = "lexical"

    def __str__(self) -> str:
        return str(self.value)
