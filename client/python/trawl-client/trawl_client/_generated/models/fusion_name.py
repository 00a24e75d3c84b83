from enum import Enum


class FusionName(str, Enum):
    DBSF = "dbsf"
    RRF = "rrf"

    def __str__(self) -> str:
        return str(self.value)
