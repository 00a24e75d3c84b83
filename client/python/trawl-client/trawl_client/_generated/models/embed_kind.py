from enum import Enum


class EmbedKind(str, Enum):
    BINARY = "binary"
    FLOAT = "float"
    MATRYOSHKA = "matryoshka"
    MULTIVECTOR = "multivector"

    def __str__(self) -> str:
        return str(self.value)
