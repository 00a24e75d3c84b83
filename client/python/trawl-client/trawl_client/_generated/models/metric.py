from enum import Enum


class Metric(str, Enum):
    COSINE = "cosine"
    DOT = "dot"
    L2 = "l2"

    def __str__(self) -> str:
        return str(self.value)
