from enum import Enum


class SparseKind(str, Enum):
    SPARSE = "sparse"

    def __str__(self) -> str:
        return str(self.value)
