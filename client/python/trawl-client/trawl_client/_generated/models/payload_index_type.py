from enum import Enum


class PayloadIndexType(str, Enum):
    BOOL = "bool"
    FLOAT = "float"
    INTEGER = "integer"
    KEYWORD = "keyword"
    TEXT = "text"

    def __str__(self) -> str:
        return str(self.value)
